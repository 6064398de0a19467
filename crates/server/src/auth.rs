//! The owner's sign-in: an argon2id password, one-time setup links, sessions and CSRF tokens,
//! and the login throttle.
//!
//! - The password is stored as an argon2id PHC string; hashing and checking run in
//!   `spawn_blocking`, as they are slow on purpose.
//! - A session id is 256 random bits, kept only in the owner's cookie (`HttpOnly`,
//!   `SameSite=Strict`, `Secure` when the public URL is https); the store keeps its SHA-256 with
//!   an idle and an absolute expiry.
//! - Every state-changing request made with a session carries a CSRF token: the HMAC of the
//!   session id under the site's secret, as a hidden form field or an `X-CSRF-Token` header.
//! - Failed logins are counted per client; after a few, the client must wait, longer each time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use guidance_core::TokenHash;
use guidance_store::{NewAdminSession, Store};
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ServiceError;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "guidance_admin";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// The header that carries the CSRF token for scripts using the session.
pub const CSRF_HEADER: &str = "x-csrf-token";
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

/// Hashes a password with argon2id (default parameters: 19 MiB, 2 passes) off the async threads.
pub async fn hash_password(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
    .map_err(ServiceError::Internal)
}

/// Checks a password against a stored hash off the async threads.
pub async fn verify_password(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .and_then(|h| Argon2::default().verify_password(password.as_bytes(), &h))
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// Checks, hashes and stores a new owner password (`guidance admin set-password`). Every
/// session ends.
pub async fn set_password(store: &dyn Store, password: &str) -> Result<(), SetPasswordError> {
    check_new_password(password, None)?;
    let hash = hash_password(password.to_owned()).await?;
    store
        .set_admin_password_hash(&hash, Timestamp::now())
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
    Service(#[from] ServiceError),
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
pub async fn create_setup_link(
    store: &dyn Store,
    public_url: &str,
) -> Result<Option<String>, ServiceError> {
    if store.admin_password_hash().await?.is_some() {
        return Ok(None);
    }
    let token = random_secret();
    let now = Timestamp::now();
    let expires = now
        .checked_add(SETUP_LINK_LIFETIME)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    store
        .create_admin_setup_token(&secret_hash(&token), expires, now)
        .await?;
    Ok(Some(format!("{public_url}/admin/setup/{token}")))
}

/// A signed-in owner, as handlers see it.
#[derive(Debug, Clone)]
pub struct AdminSession {
    /// The stored form of the session id.
    pub id_hash: TokenHash,
    /// The CSRF token that this session's forms must carry.
    pub csrf: String,
}

/// The CSRF token of a session: an HMAC of its id, so that nothing more needs storing.
pub fn csrf_token(state: &AppState, session_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(
        state
            .secret
            .sign("guidance-admin-csrf", session_id.as_bytes()),
    )
}

/// Starts a session; returns it and the `Set-Cookie` value that hands its id to the browser.
pub async fn start_session(state: &AppState) -> Result<(AdminSession, HeaderValue), ServiceError> {
    let id = random_secret();
    let now = Timestamp::now();
    let add = |d| {
        now.checked_add(d)
            .map_err(|e: jiff::Error| ServiceError::Internal(e.to_string()))
    };
    let session = NewAdminSession {
        id_hash: secret_hash(&id),
        now,
        idle_expires_at: add(SESSION_IDLE)?,
        expires_at: add(SESSION_MAX)?,
    };
    state.store.create_admin_session(session.clone()).await?;
    tracing::info!("owner signed in");
    let cookie = format!(
        "{SESSION_COOKIE}={id}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
        SESSION_MAX.as_secs(),
        secure_attribute(state)
    );
    Ok((
        AdminSession {
            id_hash: session.id_hash,
            csrf: csrf_token(state, &id),
        },
        HeaderValue::from_str(&cookie).map_err(|e| ServiceError::Internal(e.to_string()))?,
    ))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(state: &AppState) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        secure_attribute(state)
    ))
    .expect("a valid header value")
}

fn secure_attribute(state: &AppState) -> &'static str {
    if state.settings.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

fn session_id_from(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
        .filter(|id| !id.is_empty() && id.len() <= 64)
}

/// The live session of a request, if its cookie names one; using it moves its idle expiry.
pub async fn session_from(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(AdminSession, String)>, ServiceError> {
    let Some(id) = session_id_from(headers) else {
        return Ok(None);
    };
    let hash = secret_hash(id);
    let now = Timestamp::now();
    let idle = now
        .checked_add(SESSION_IDLE)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    if !state.store.touch_admin_session(&hash, now, idle).await? {
        return Ok(None);
    }
    Ok(Some((
        AdminSession {
            id_hash: hash,
            csrf: csrf_token(state, id),
        },
        id.to_owned(),
    )))
}

/// Whether `presented` is the session's CSRF token (constant-time).
pub fn csrf_matches(session: &AdminSession, presented: &str) -> bool {
    bool::from(session.csrf.as_bytes().ct_eq(presented.as_bytes()))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Lets an admin page request through only with a live session, and a state-changing one only
/// with its CSRF token (form field or header). Without a session, a page request goes to the
/// login page and any other is refused.
pub async fn require_session(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let session = match session_from(&state, req.headers()).await {
        Ok(Some((s, _))) => s,
        Ok(None) if is_safe(req.method()) => {
            return Redirect::to("/admin/login").into_response();
        }
        Ok(None) => return refusal(StatusCode::UNAUTHORIZED, "errors.unauthorized"),
        Err(e) => return e.into_response(),
    };
    let req = if is_safe(req.method()) {
        req
    } else {
        match check_csrf(&session, req).await {
            Ok(req) => req,
            Err(resp) => return resp,
        }
    };
    let mut req = req;
    req.extensions_mut().insert(session);
    next.run(req).await
}

/// Checks the CSRF token of a state-changing request: the header, or else the form field (the
/// body is read and handed on unchanged).
async fn check_csrf(session: &AdminSession, req: Request) -> Result<Request, Response> {
    if let Some(h) = req.headers().get(CSRF_HEADER) {
        return if h.to_str().is_ok_and(|v| csrf_matches(session, v)) {
            Ok(req)
        } else {
            Err(csrf_refused())
        };
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, crate::routes::BODY_LIMIT)
        .await
        .map_err(|_| ServiceError::BadRequest("the body is too large".into()).into_response())?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let ok = pairs
        .iter()
        .any(|(k, v)| k == CSRF_FIELD && csrf_matches(session, v));
    if !ok {
        return Err(csrf_refused());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn csrf_refused() -> Response {
    tracing::warn!("admin request refused: missing or wrong CSRF token");
    refusal(StatusCode::FORBIDDEN, "errors.csrf_refused")
}

/// A short plain page for refused admin requests.
fn refusal(status: StatusCode, key: &str) -> Response {
    let text = guidance_core::i18n::t("en", key);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// Counts failed logins per client. The first few are free; after that the client must wait
/// before trying again, twice as long after each further failure.
#[derive(Debug)]
pub struct LoginThrottle {
    free_failures: u32,
    first_wait: Duration,
    max_wait: Duration,
    clients: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(5, Duration::from_secs(30), Duration::from_secs(3600))
    }
}

impl LoginThrottle {
    /// `free_failures` failures cost nothing; the next locks the client for `first_wait`, each
    /// further one twice as long, at most `max_wait`.
    pub fn new(free_failures: u32, first_wait: Duration, max_wait: Duration) -> Self {
        Self {
            free_failures,
            first_wait,
            max_wait,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` while the client must wait.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let clients = self.clients.lock().expect("login throttle lock");
        match clients.get(&client).and_then(|f| f.locked_until) {
            Some(until) if until > now => Err(until.duration_since(now).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Records a failed login; returns how long the client must now wait, if at all.
    pub fn failed(&self, client: IpAddr) -> Option<u64> {
        let now = Instant::now();
        let mut clients = self.clients.lock().expect("login throttle lock");
        if clients.len() > 10_000 {
            // Forget clients quiet for a day, so that many addresses cannot grow the map forever.
            clients.retain(|_, f| now.duration_since(f.last) < Duration::from_secs(86_400));
        }
        let f = clients.entry(client).or_insert(Failures {
            count: 0,
            locked_until: None,
            last: now,
        });
        f.count = f.count.saturating_add(1);
        f.last = now;
        let over = f.count.checked_sub(self.free_failures.saturating_add(1))?;
        let wait = self
            .first_wait
            .saturating_mul(1u32.checked_shl(over.min(20)).unwrap_or(u32::MAX))
            .min(self.max_wait);
        f.locked_until = Some(now + wait);
        Some(wait.as_secs().max(1))
    }

    /// Forgets a client's failures after a successful login.
    pub fn succeeded(&self, client: IpAddr) {
        self.clients
            .lock()
            .expect("login throttle lock")
            .remove(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_beyond_the_free_ones_lock_the_client_longer_each_time() {
        let t = LoginThrottle::new(2, Duration::from_secs(30), Duration::from_secs(100));
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(t.failed(a), None);
        assert_eq!(t.failed(a), None);
        assert!(t.check(a).is_ok());
        assert_eq!(t.failed(a), Some(30));
        assert!(t.check(a).is_err());
        assert!(t.check(b).is_ok(), "other clients are not affected");
        assert_eq!(t.failed(a), Some(60));
        assert_eq!(t.failed(a), Some(100), "bounded");
        t.succeeded(a);
        assert!(t.check(a).is_ok());
    }

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
        assert!(verify_password("correct horse battery".into(), h.clone()).await);
        assert!(!verify_password("wrong horse battery".into(), h.clone()).await);
        assert!(!verify_password("x".into(), "not a hash".into()).await);
        let again = hash_password("correct horse battery".into()).await.unwrap();
        assert_ne!(h, again, "salted");
    }

    #[test]
    fn session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("guidance_lang=en; guidance_admin=abc; x=y"),
        );
        assert_eq!(session_id_from(&h), Some("abc"));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("guidance_adminx=abc"),
        );
        assert_eq!(session_id_from(&h), None);
    }
}
