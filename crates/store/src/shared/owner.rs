//! The rules of the owner's sign-in, written once for both databases: one setup link at a time,
//! each working once; a new password ends every session and every setup link; a new session
//! forgets expired ones.

use guidance_core::TokenHash;
use jiff::Timestamp;

use super::rows::StoredRow;
use super::tx::Value::{Text, Time};
use super::tx::{Db, Tx};
use crate::{NewAdminSession, StoreError, StoreResult};

/// Records a setup link as [`crate::Store::create_admin_setup_token`] says, and commits.
pub(crate) async fn create_setup_link<T: Tx>(
    mut tx: T,
    link: &TokenHash,
    expires_at: Timestamp,
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute("DELETE FROM guidance_admin_setup_tokens", &[])
        .await?;
    tx.execute(
        "INSERT INTO guidance_admin_setup_tokens (token_hash, expires_at, created_at) \
         VALUES ($1, $2, $3)",
        &[Text(link.as_str()), Time(expires_at), Time(now)],
    )
    .await?;
    tx.commit().await
}

/// Sets the owner's password hash as [`crate::Store::set_admin_password_hash`] says, and commits.
pub(crate) async fn set_password<T: Tx>(mut tx: T, hash: &str, now: Timestamp) -> StoreResult<()> {
    replace_password(&mut tx, hash, now).await?;
    tx.commit().await
}

/// Spends a setup link and sets the password as [`crate::Store::use_admin_setup_token`] says,
/// and commits.
pub(crate) async fn use_setup_link<T: Tx>(
    mut tx: T,
    link: &TokenHash,
    password_hash: &str,
    now: Timestamp,
) -> StoreResult<()> {
    // A racing use of the same link waits for this row and then finds it used.
    let spent = tx
        .execute(
            "UPDATE guidance_admin_setup_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
            &[Time(now), Text(link.as_str())],
        )
        .await?;
    if spent != 1 {
        let known = tx
            .fetch_optional(
                "SELECT used_at FROM guidance_admin_setup_tokens WHERE token_hash = $1",
                &[Text(link.as_str())],
            )
            .await?;
        return Err(match known {
            Some(row) if row.opt_time("used_at")?.is_some() => StoreError::TokenUsed,
            _ => StoreError::NotFound,
        });
    }
    replace_password(&mut tx, password_hash, now).await?;
    tx.commit().await
}

/// Records a new session as [`crate::Store::create_admin_session`] says, and commits.
pub(crate) async fn create_session<T: Tx>(mut tx: T, session: &NewAdminSession) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM guidance_admin_sessions WHERE expires_at <= $1 OR idle_expires_at <= $1",
        &[Time(session.now)],
    )
    .await?;
    tx.execute(
        "INSERT INTO guidance_admin_sessions \
         (id_hash, created_at, last_seen_at, idle_expires_at, expires_at) \
         VALUES ($1, $2, $2, $3, $4)",
        &[
            Text(session.id_hash.as_str()),
            Time(session.now),
            Time(session.idle_expires_at.min(session.expires_at)),
            Time(session.expires_at),
        ],
    )
    .await?;
    tx.commit().await
}

/// See [`crate::Store::touch_admin_session`].
pub(crate) async fn touch_session<D: Db>(
    db: &D,
    id_hash: &TokenHash,
    now: Timestamp,
    idle_expires_at: Timestamp,
) -> StoreResult<bool> {
    let sql = format!(
        "UPDATE guidance_admin_sessions \
         SET last_seen_at = $1, idle_expires_at = {least}($2, expires_at) \
         WHERE id_hash = $3 AND idle_expires_at > $1 AND expires_at > $1",
        least = D::LEAST
    );
    let touched = db
        .write(
            &sql,
            &[Time(now), Time(idle_expires_at), Text(id_hash.as_str())],
        )
        .await?;
    Ok(touched == 1)
}

/// Ends a session as [`crate::Store::delete_admin_session`] says.
pub(crate) async fn delete_session<D: Db>(db: &D, id_hash: &TokenHash) -> StoreResult<()> {
    db.write(
        "DELETE FROM guidance_admin_sessions WHERE id_hash = $1",
        &[Text(id_hash.as_str())],
    )
    .await?;
    Ok(())
}

/// Sets the password hash; a new password ends every session and every setup link.
async fn replace_password<T: Tx>(tx: &mut T, hash: &str, now: Timestamp) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO guidance_admin_credentials (id, password_hash, updated_at) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO UPDATE \
         SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
        &[Text(hash), Time(now)],
    )
    .await?;
    tx.execute("DELETE FROM guidance_admin_sessions", &[])
        .await?;
    tx.execute(
        "UPDATE guidance_admin_setup_tokens SET used_at = COALESCE(used_at, $1)",
        &[Time(now)],
    )
    .await?;
    Ok(())
}
