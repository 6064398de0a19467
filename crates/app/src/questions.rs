//! The owner's supplemental questions, asked of every visitor.

use guidance_core::Question;

use crate::{App, AppError, AppResult};

/// The owner's supplemental questions, in the order shown.
pub async fn questions(app: &App) -> AppResult<Vec<Question>> {
    Ok(app
        .questions_kept
        .get_or_load((), || app.store.list_questions())
        .await?)
}

/// Replaces the owner's supplemental questions with a checked list.
pub async fn replace_questions(app: &App, raw: &serde_json::Value) -> AppResult<Vec<Question>> {
    let list = Question::parse_list(raw).map_err(AppError::from)?;
    app.store.replace_questions(&list, app.now()).await?;
    app.questions_kept.invalidate();
    Ok(list)
}
