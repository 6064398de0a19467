//! The owner's sign-in rules: an argon2id password, one-time setup links, sessions and their
//! CSRF tokens — everything but the cookie, which is the web layer's.
//!
//! - The password is stored as an argon2id PHC string; hashing and checking run in
//!   `spawn_blocking`, as they are slow on purpose, and only [`HASHING_AT_ONCE`] at a time:
//!   each takes 19 MiB and a core, so a burst of sign-ins waits its turn, and past
//!   [`HASHING_WAIT`] is refused as [`AppError::Busy`] instead of exhausting the machine.
//! - A session id is 256 random bits, handed to the owner's browser only; the store keeps its
//!   SHA-256 with an idle and an absolute expiry.
//! - Every state-changing request made with a session carries a CSRF token: the HMAC of the
//!   session id under the site's secret, so that nothing more needs storing.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use guidance_core::TokenHash;
use guidance_store::{NewAdminSession, Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::Duration;

use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::{App, AppError, AppResult};

/// A session ends after this long without use.
pub const SESSION_IDLE: SignedDuration = SignedDuration::from_hours(8);
/// A session ends this long after sign-in, however much it is used.
pub const SESSION_MAX: SignedDuration = SignedDuration::from_hours(7 * 24);
/// How long a setup link works.
pub const SETUP_LINK_LIFETIME: SignedDuration = SignedDuration::from_hours(24);
/// Shortest accepted password, in characters.
pub const PASSWORD_MIN: usize = 10;
/// Longest accepted password, in bytes (argon2 reads all of it).
pub const PASSWORD_MAX: usize = 1024;

/// Why a new password was refused (a locale key suffix under `admin.password.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    /// Shorter than [`PASSWORD_MIN`].
    #[error("the password must be at least 10 characters long")]
    TooShort,
    /// Longer than [`PASSWORD_MAX`].
    #[error("the password is too long")]
    TooLong,
    /// The two entries differ.
    #[error("the passwords do not match")]
    Mismatch,
}

impl PasswordProblem {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "too_short",
            PasswordProblem::TooLong => "too_long",
            PasswordProblem::Mismatch => "mismatch",
        }
    }
}

/// Checks a new password (and its repetition, when the form asks twice).
pub fn check_new_password(password: &str, repeated: Option<&str>) -> Result<(), PasswordProblem> {
    if password.chars().count() < PASSWORD_MIN {
        return Err(PasswordProblem::TooShort);
    }
    if password.len() > PASSWORD_MAX {
        return Err(PasswordProblem::TooLong);
    }
    if repeated.is_some_and(|r| r != password) {
        return Err(PasswordProblem::Mismatch);
    }
    Ok(())
}

/// Password hashes computed at once, per process.
pub const HASHING_AT_ONCE: usize = 2;
/// How long a hash waits for its turn before it is refused as [`AppError::Busy`].
pub const HASHING_WAIT: Duration = Duration::from_secs(5);

/// The turns of [`HASHING_AT_ONCE`].
static HASHING: Semaphore = Semaphore::const_new(HASHING_AT_ONCE);

/// Runs `work` off the async threads once one of `turns` is free, waiting at most `wait`. The
/// turn goes with the work, so a request that is given up does not free it before the work ends.
async fn in_turn<T: Send + 'static>(
    turns: &'static Semaphore,
    wait: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> AppResult<T> {
    let turn = match tokio::time::timeout(wait, turns.acquire()).await {
        Ok(Ok(turn)) => turn,
        Ok(Err(_)) | Err(_) => {
            tracing::warn!("password hashing busy; request refused");
            return Err(AppError::Busy);
        }
    };
    tokio::task::spawn_blocking(move || {
        let out = work();
        drop(turn);
        out
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// Hashes a password with argon2id (default parameters: 19 MiB, 2 passes) off the async threads.
pub async fn hash_password(password: String) -> AppResult<String> {
    in_turn(&HASHING, HASHING_WAIT, move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await?
    .map_err(AppError::Internal)
}

/// Checks a password against a stored hash off the async threads.
pub async fn verify_password(password: String, stored: String) -> AppResult<bool> {
    in_turn(&HASHING, HASHING_WAIT, move || {
        PasswordHash::new(&stored)
            .and_then(|h| Argon2::default().verify_password(password.as_bytes(), &h))
            .is_ok()
    })
    .await
}

/// Checks, hashes and stores a new owner password (`guidance admin set-password`, which has a
/// store but no running application): set at `now`. Every session ends.
pub async fn set_password(
    store: &dyn Store,
    password: &str,
    now: Timestamp,
) -> Result<(), SetPasswordError> {
    check_new_password(password, None)?;
    let hash = hash_password(password.to_owned()).await?;
    store
        .set_admin_password_hash(&hash, now)
        .await
        .map_err(|e| SetPasswordError::Service(e.into()))?;
    Ok(())
}

/// Why setting a password failed.
#[derive(Debug, thiserror::Error)]
pub enum SetPasswordError {
    /// The password was refused.
    #[error("{0}")]
    Refused(#[from] PasswordProblem),
    /// Hashing or storing failed.
    #[error("{0}")]
    Service(#[from] AppError),
}

fn random_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// The SHA-256 under which a secret (session id, setup token) is stored.
pub fn secret_hash(secret: &str) -> TokenHash {
    let digest = Sha256::digest(secret.as_bytes());
    TokenHash::from_stored(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// When no password is set: records a new one-time setup link and returns its URL (to print
/// on the console). With a password set: `None`.
pub async fn create_setup_link(app: &App) -> AppResult<Option<String>> {
    if app.store.admin_password_hash().await?.is_some() {
        return Ok(None);
    }
    let token = random_secret();
    let now = app.now();
    let expires = now
        .checked_add(SETUP_LINK_LIFETIME)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    app.store
        .create_admin_setup_token(&secret_hash(&token), expires, now)
        .await?;
    Ok(Some(format!(
        "{}/admin/setup/{token}",
        app.settings.public_url
    )))
}

/// A signed-in owner, as handlers see it.
#[derive(Debug, Clone)]
pub struct AdminSession {
    /// The stored form of the session id.
    pub id_hash: TokenHash,
    /// The CSRF token that this session's forms must carry.
    pub csrf: String,
}

/// A session just started: the session, and its id to hand to the owner's browser (once).
#[derive(Debug, Clone)]
pub struct StartedSession {
    /// The session.
    pub session: AdminSession,
    /// The secret id; only its hash is stored.
    pub id: String,
}

/// The CSRF token of a session: an HMAC of its id, so that nothing more needs storing.
pub fn csrf_token(app: &App, session_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(
        app.secret
            .sign("guidance-admin-csrf", session_id.as_bytes()),
    )
}

/// Starts a session.
pub async fn start_session(app: &App) -> AppResult<StartedSession> {
    let id = random_secret();
    let now = app.now();
    let add = |d| {
        now.checked_add(d)
            .map_err(|e: jiff::Error| AppError::Internal(e.to_string()))
    };
    let session = NewAdminSession {
        id_hash: secret_hash(&id),
        now,
        idle_expires_at: add(SESSION_IDLE)?,
        expires_at: add(SESSION_MAX)?,
    };
    app.store.create_admin_session(session.clone()).await?;
    tracing::info!("owner signed in");
    Ok(StartedSession {
        session: AdminSession {
            id_hash: session.id_hash,
            csrf: csrf_token(app, &id),
        },
        id,
    })
}

/// The live session with this id, if any; using it moves its idle expiry.
pub async fn session(app: &App, id: &str) -> AppResult<Option<AdminSession>> {
    let hash = secret_hash(id);
    let now = app.now();
    let idle = now
        .checked_add(SESSION_IDLE)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if !app.store.touch_admin_session(&hash, now, idle).await? {
        return Ok(None);
    }
    Ok(Some(AdminSession {
        id_hash: hash,
        csrf: csrf_token(app, id),
    }))
}

/// Ends a session.
pub async fn sign_out(app: &App, session: &AdminSession) -> AppResult<()> {
    app.store.delete_admin_session(&session.id_hash).await?;
    tracing::info!("owner signed out");
    Ok(())
}

/// Whether `presented` is the session's CSRF token (constant-time).
pub fn csrf_matches(session: &AdminSession, presented: &str) -> bool {
    bool::from(session.csrf.as_bytes().ct_eq(presented.as_bytes()))
}

/// Whether a password has been chosen yet (the login page offers the setup path when not).
pub async fn has_password(app: &App) -> AppResult<bool> {
    Ok(app.store.admin_password_hash().await?.is_some())
}

/// Signs the owner in with their password: a new session, or [`AppError::Unauthorized`].
pub async fn sign_in(app: &App, password: String) -> AppResult<StartedSession> {
    let stored = app.store.admin_password_hash().await?;
    let ok = match stored {
        Some(hash) if !password.is_empty() && password.len() <= PASSWORD_MAX => {
            verify_password(password, hash).await?
        }
        _ => false,
    };
    if !ok {
        return Err(AppError::Unauthorized);
    }
    start_session(app).await
}

/// Whether a setup link still works (unused, unexpired, no password chosen since).
pub async fn setup_link_valid(app: &App, token: &str) -> bool {
    app.store
        .admin_setup_token_valid(&secret_hash(token), app.now())
        .await
        .unwrap_or(false)
}

/// Why choosing a password through a setup link failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupRefused {
    /// The password was refused.
    #[error("{0}")]
    Password(#[from] PasswordProblem),
    /// The link is unknown, used or expired.
    #[error("the setup link is not valid")]
    LinkInvalid,
    /// Storing failed.
    #[error("{0}")]
    App(#[from] AppError),
}

/// Chooses the owner's first password through a one-time setup link and signs them in.
pub async fn set_password_with_link(
    app: &App,
    token: &str,
    password: String,
    repeated: &str,
) -> Result<StartedSession, SetupRefused> {
    check_new_password(&password, Some(repeated))?;
    // Check the link before the (deliberately slow) hashing, so that made-up links cost little.
    let token_hash = secret_hash(token);
    if !setup_link_valid(app, token).await {
        return Err(SetupRefused::LinkInvalid);
    }
    let hash = hash_password(password).await?;
    match app
        .store
        .use_admin_setup_token(&token_hash, &hash, app.now())
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound | StoreError::TokenUsed) => return Err(SetupRefused::LinkInvalid),
        Err(e) => return Err(AppError::from(e).into()),
    }
    tracing::info!("owner password set through the setup link");
    Ok(start_session(app).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_are_checked() {
        assert_eq!(
            check_new_password("short", None),
            Err(PasswordProblem::TooShort)
        );
        assert_eq!(
            check_new_password("long enough password", Some("other")),
            Err(PasswordProblem::Mismatch)
        );
        assert_eq!(
            check_new_password(&"x".repeat(2000), None),
            Err(PasswordProblem::TooLong)
        );
        assert!(check_new_password("long enough password", Some("long enough password")).is_ok());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify_only_the_right_password() {
        let h = hash_password("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(
            verify_password("correct horse battery".into(), h.clone())
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong horse battery".into(), h.clone())
                .await
                .unwrap()
        );
        assert!(
            !verify_password("x".into(), "not a hash".into())
                .await
                .unwrap()
        );
        let again = hash_password("correct horse battery".into()).await.unwrap();
        assert_ne!(h, again, "salted");
    }

    #[tokio::test]
    async fn hashing_past_its_turns_waits_then_is_refused_as_busy() {
        static TURNS: Semaphore = Semaphore::const_new(1);
        let wait = Duration::from_millis(50);
        let held = TURNS.acquire().await.unwrap();
        assert!(matches!(
            in_turn(&TURNS, wait, || 1).await,
            Err(AppError::Busy)
        ));
        // A turn freed while waiting is taken.
        let waiting = tokio::spawn(in_turn(&TURNS, Duration::from_secs(30), || 2));
        drop(held);
        assert_eq!(waiting.await.unwrap().unwrap(), 2);
        assert_eq!(in_turn(&TURNS, wait, || 3).await.unwrap(), 3);
    }
}
