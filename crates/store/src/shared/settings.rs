//! The owner's supplemental questions and settings, each saved whole in one transaction, written
//! once for both databases.

use std::collections::BTreeMap;

use guidance_core::Question;
use jiff::Timestamp;

use super::tx::Tx;
use super::tx::Value::{Flag, Int, Text, Time};
use crate::StoreResult;

/// Replaces every question as [`crate::Store::replace_questions`] says, and commits.
pub(crate) async fn replace_questions<T: Tx>(
    mut tx: T,
    questions: &[Question],
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute("DELETE FROM guidance_questions", &[]).await?;
    let insert = format!(
        "INSERT INTO guidance_questions (key, position, kind, label, required, options, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6{jsonb}, $7)",
        jsonb = T::JSONB_CAST
    );
    for (position, q) in questions.iter().enumerate() {
        let options = serde_json::Value::from(q.options.clone()).to_string();
        tx.execute(
            &insert,
            &[
                Text(&q.key),
                Int(i64::try_from(position).unwrap_or(i64::MAX)),
                Text(q.kind.as_str()),
                Text(&q.label),
                Flag(q.required),
                Text(&options),
                Time(now),
            ],
        )
        .await?;
    }
    tx.commit().await
}

/// Stores settings as [`crate::Store::save_settings`] says, and commits.
pub(crate) async fn save_settings<T: Tx>(
    mut tx: T,
    values: &BTreeMap<String, String>,
    now: Timestamp,
) -> StoreResult<()> {
    for (key, value) in values {
        tx.execute(
            "INSERT INTO guidance_settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE \
             SET value = excluded.value, updated_at = excluded.updated_at",
            &[Text(key), Text(value), Time(now)],
        )
        .await?;
    }
    tx.commit().await
}
