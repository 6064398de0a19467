//! Configuration from flags and `GUIDANCE_*` environment variables (README, "Configuration"), checked once at
//! start-up so that a bad setting stops the service with a clear message instead of failing later.

use std::path::{Path, PathBuf};

use clap::Args;
use guidance_core::TokenSecret;
use guidance_core::intake::{EmailAddress, TimeZoneName};

/// Settings shared by `serve`, `worker` and `migrate`.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: `sqlite://path` (default) or `postgres://…` (PostgreSQL or Supabase; add
    /// `?statement-cache-capacity=0` behind a transaction pooler).
    #[arg(
        long,
        env = "GUIDANCE_DATABASE_URL",
        default_value = "sqlite://data/guidance.db"
    )]
    pub database_url: String,
    /// Address to listen on.
    #[arg(long, env = "GUIDANCE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The URL visitors and the owner reach the service at (used in email links).
    /// Defaults to `http://<listen address>`.
    #[arg(long, env = "GUIDANCE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// SMTP server URL: `smtp://user:pass@host:587` (STARTTLS, required),
    /// `smtps://user:pass@host:465` (TLS) or `smtp://host:25?tls=none` (plain, for a relay on
    /// the same machine). Unset: mail is written to the mail directory.
    #[arg(long, env = "GUIDANCE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// PEM file of certificate authorities trusted for the SMTP server's certificate besides
    /// the public ones (a relay with a certificate from a private CA). Only with TLS.
    #[arg(long, env = "GUIDANCE_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// How many connections to the SMTP server may send at once (1 to 64).
    #[arg(long, env = "GUIDANCE_SMTP_CONNECTIONS", default_value_t = 4)]
    pub smtp_connections: u32,
    /// The wait before retrying a failed email, in milliseconds; it doubles with each failure.
    #[arg(long, env = "GUIDANCE_MAIL_RETRY_BASE_MS", default_value_t = 30_000)]
    pub mail_retry_base_ms: u64,
    /// Attempts before an email is marked failed (the owner can then resend it).
    #[arg(long, env = "GUIDANCE_MAIL_MAX_ATTEMPTS", default_value_t = 8)]
    pub mail_max_attempts: u32,
    /// On shutdown, how long (milliseconds) the email being sent may still take before it is
    /// given back to the queue unsent.
    #[arg(
        long,
        env = "GUIDANCE_MAIL_SHUTDOWN_GRACE_MS",
        default_value_t = 10_000
    )]
    pub mail_shutdown_grace_ms: u64,
    /// How long (seconds) a claimed email is reserved for one sending attempt. An email whose
    /// process died while sending it is sent again, with its Message-ID, once this has passed;
    /// with several processes, keep it longer than an SMTP attempt can take.
    #[arg(long, env = "GUIDANCE_MAIL_LEASE_SECS", default_value_t = 300)]
    pub mail_lease_secs: u32,
    /// Directory that receives each outgoing email as an `.eml` file.
    #[arg(long, env = "GUIDANCE_MAIL_DIR", default_value = "data/mail")]
    pub mail_dir: PathBuf,
    /// The service's own mailbox: the `From:` of every email and the calendar ORGANIZER.
    #[arg(long, env = "GUIDANCE_MAIL_FROM", default_value = "guidance@localhost")]
    pub mail_from: String,
    /// The owner's email address, where requests are sent.
    #[arg(long, env = "GUIDANCE_OWNER_EMAIL", default_value = "owner@localhost")]
    pub owner_email: String,
    /// The owner's name, shown to visitors and in invitations.
    #[arg(long, env = "GUIDANCE_OWNER_NAME", default_value = "Owner")]
    pub owner_name: String,
    /// The owner's IANA time zone.
    #[arg(long, env = "GUIDANCE_TIME_ZONE", default_value = "UTC")]
    pub time_zone: String,
    /// The owner's language for emails.
    #[arg(long, env = "GUIDANCE_OWNER_LANGUAGE", default_value = "en")]
    pub owner_language: String,
    /// Bearer token for the owner API (at least 16 characters). Unset: bearer access is off.
    #[arg(long, env = "GUIDANCE_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Secret that signs links (at least 32 characters). Unset: one is generated and kept in
    /// `<data dir>/secret`.
    #[arg(long, env = "GUIDANCE_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Directory for the generated secret (and the default database and mail directory).
    #[arg(long, env = "GUIDANCE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Booking requests allowed per minute from one IP address.
    #[arg(long, env = "GUIDANCE_BOOKING_RATE_LIMIT", default_value_t = 20)]
    pub booking_rate_limit: u32,
    /// Requests of one email address that may await the owner at once (pending, or waiting for
    /// the visitor's confirmation); one more is refused until the owner answers one. `0`: no
    /// limit.
    #[arg(long, env = "GUIDANCE_MAX_PENDING_PER_EMAIL", default_value_t = 3)]
    pub max_pending_per_email: u32,
    /// When the owner asks visitors to confirm their email address: how many minutes an
    /// unconfirmed request holds its slot before it expires and frees it.
    #[arg(long, env = "GUIDANCE_CONFIRM_HOLD_MINUTES", default_value_t = 30)]
    pub confirm_hold_minutes: u32,
    /// How many days ahead visitors may book (at most the owner settings' limit, 730: a
    /// default beyond it could not be in force, and would void every stored setting).
    #[arg(
        long,
        env = "GUIDANCE_BOOKING_HORIZON_DAYS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u32).range(1..=guidance_core::owner_settings::MAX_HORIZON_DAYS)
    )]
    pub booking_horizon_days: u32,
    /// Origins (comma-separated, e.g. `https://www.example.org`) whose pages may embed
    /// `<guidance-booking>`: they get CORS access to the public API. Unset: none.
    #[arg(long, env = "GUIDANCE_EMBED_ORIGINS")]
    pub embed_origins: Option<String>,

    // --- Operations: metrics (README, "Operations") -----------------------------------------
    /// Bearer token (at least 16 characters) that `GET /metrics` asks for. Unset, and no
    /// `GUIDANCE_METRICS_LISTEN` either: there are no metrics.
    #[arg(long, env = "GUIDANCE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// A second address (e.g. `127.0.0.1:9464`) that serves only `GET /metrics`, for a scraper
    /// on a private network; the main address then serves none. Without a token there unless
    /// `GUIDANCE_METRICS_TOKEN` is set too.
    #[arg(long, env = "GUIDANCE_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Behind a reverse proxy: which proxies are believed, and the limits on connections.
    #[command(flatten)]
    pub edge: EdgeConfig,
    /// Meeting rooms made per booking (`GUIDANCE_MEETING_*`).
    #[command(flatten)]
    pub meeting: crate::meeting::MeetingConfig,
    /// The service mailbox, read for the owner's answers from their calendar app (iMIP
    /// replies): `imaps://user:pass@host:993/INBOX` (TLS), `imap://user:pass@host:143/INBOX`
    /// (STARTTLS, required) or `imap://…?tls=none` (plain, only for a server on this machine).
    /// Unset: replies are not read.
    #[arg(long, env = "GUIDANCE_IMAP_URL", hide_env_values = true)]
    pub imap_url: Option<String>,
    /// PEM file of certificate authorities trusted for the IMAP server's certificate besides
    /// the public ones. Only with TLS.
    #[arg(long, env = "GUIDANCE_IMAP_CA_FILE")]
    pub imap_ca_file: Option<PathBuf>,
    /// The authserv-id (RFC 8601) of the mailbox's own receiving server: its top-most
    /// `Authentication-Results` header saying `dkim=pass` for the owner's domain makes a reply
    /// count as the owner's, besides a DKIM signature Guidance verifies itself. Unset: only
    /// Guidance's own DKIM check counts.
    #[arg(long, env = "GUIDANCE_IMAP_TRUSTED_AUTHSERV")]
    pub imap_trusted_authserv: Option<String>,
    /// How often (seconds) the mailbox is looked at when the server cannot tell of new mail
    /// (no IDLE); with IDLE, the longest wait before looking anyway.
    #[arg(long, env = "GUIDANCE_IMAP_POLL_SECS", default_value_t = 60)]
    pub imap_poll_secs: u32,
    /// How often each of the owner's calendars is read, in minutes.
    #[arg(long, env = "GUIDANCE_CALENDAR_POLL_MINUTES", default_value_t = 5)]
    pub calendar_poll_minutes: u32,
    /// How long a calendar may fail to be read before the slots it covers are hidden (unless
    /// the owner keeps them bookable) and the owner is told, in minutes.
    #[arg(long, env = "GUIDANCE_CALENDAR_GRACE_MINUTES", default_value_t = 30)]
    pub calendar_grace_minutes: u32,
    /// Lets calendars be read from private, loopback and link-local addresses and over plain
    /// http (a Nextcloud on the same network). Off: https and public addresses only.
    #[arg(long, env = "GUIDANCE_CALENDAR_ALLOW_PRIVATE", default_value_t = false)]
    pub calendar_allow_private: bool,
    /// Lets webhook endpoints be on private, loopback and link-local addresses and use plain
    /// http (a receiver on the same network). Off: https and public addresses only.
    #[arg(long, env = "GUIDANCE_WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
    pub webhook_allow_private: bool,
}

/// The HTTP edge (README, "Deployment"): the reverse proxies whose forwarding headers are
/// believed, and how long and how many connections are held.
#[derive(Debug, Clone, Args)]
pub struct EdgeConfig {
    /// Reverse proxies whose `X-Forwarded-For`/`Forwarded` name the client (comma-separated
    /// addresses and CIDR ranges, e.g. `127.0.0.1,::1` or `10.0.0.0/8`). Unset: none, and those
    /// headers are ignored.
    #[arg(long, env = "GUIDANCE_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// Seconds a connection may take to send a request's headers (and may stay idle between
    /// requests) before it is closed.
    #[arg(long, env = "GUIDANCE_HEADER_TIMEOUT_SECS", default_value_t = EdgeConfig::DEFAULT.header_timeout_secs)]
    pub header_timeout_secs: u64,
    /// Seconds a request may take, its body included, before it is answered `408`.
    #[arg(long, env = "GUIDANCE_REQUEST_TIMEOUT_SECS", default_value_t = EdgeConfig::DEFAULT.request_timeout_secs)]
    pub request_timeout_secs: u64,
    /// Connections served at once; further ones wait in the listen queue.
    #[arg(long, env = "GUIDANCE_MAX_CONNECTIONS", default_value_t = EdgeConfig::DEFAULT.max_connections)]
    pub max_connections: usize,
}

impl EdgeConfig {
    /// The defaults: 10 s for headers, 30 s per request, 1024 connections, no proxy trusted.
    pub const DEFAULT: EdgeConfig = EdgeConfig {
        trusted_proxies: None,
        header_timeout_secs: 10,
        request_timeout_secs: 30,
        max_connections: 1024,
    };

    /// Checks the limits and parses the proxies.
    fn check(&self) -> Result<crate::forwarded::TrustedProxies, ConfigError> {
        if self.header_timeout_secs == 0
            || self.request_timeout_secs == 0
            || self.max_connections == 0
        {
            return Err(ConfigError(
                "GUIDANCE_HEADER_TIMEOUT_SECS, GUIDANCE_REQUEST_TIMEOUT_SECS and GUIDANCE_MAX_CONNECTIONS must be at least 1"
                    .into(),
            ));
        }
        crate::forwarded::TrustedProxies::parse(self.trusted_proxies.as_deref().unwrap_or_default())
            .map_err(|e| ConfigError(format!("GUIDANCE_TRUSTED_PROXIES: {e}")))
    }
}

impl Default for EdgeConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The longest hold of an unconfirmed request, in minutes (one day): longer, and a robot could
/// keep slots from real visitors with addresses nobody reads.
pub const MAX_CONFIRM_HOLD_MINUTES: u32 = 24 * 60;

/// A setting that stops the service from starting.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Checked settings derived from [`Config`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// The raw configuration.
    pub config: Config,
    /// Public base URL without a trailing slash.
    pub public_url: String,
    /// The owner's time zone.
    pub time_zone: TimeZoneName,
    /// Bearer token for the owner API, when enabled.
    pub admin_token: Option<String>,
    /// The SMTP server, when mail goes out by SMTP rather than into the mail directory.
    pub smtp: Option<crate::outbox::smtp::SmtpUrl>,
    /// Extra authorities trusted for the SMTP server's certificate.
    pub smtp_ca: Option<crate::outbox::smtp::SmtpCa>,
    /// When the outbox worker retries and gives up.
    pub retry: crate::outbox::RetryPolicy,
    /// Origins allowed to use the public API from the browser (`scheme://host[:port]`).
    pub embed_origins: Vec<String>,
    /// The reverse proxies whose forwarding headers are believed.
    pub trusted_proxies: crate::forwarded::TrustedProxies,
    /// The token `/metrics` asks for, when set.
    pub metrics_token: Option<String>,
    /// The separate address that serves `/metrics`, when set.
    pub metrics_listen: Option<String>,
    /// Meeting rooms, when the service makes them.
    pub meeting: Option<guidance_core::meeting::MeetingRooms>,
    /// The service mailbox read for calendar replies, when configured.
    pub inbox: Option<crate::replies::imap::InboxSettings>,
}

impl Settings {
    /// Whether the site is public over https: then the admin cookie is `__Host-` and `Secure`,
    /// and https answers carry `Strict-Transport-Security`.
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Whether the main address serves `/metrics`: only with a token, and only when no separate
    /// address serves them.
    pub fn metrics_on_main_port(&self) -> bool {
        self.metrics_token.is_some() && self.metrics_listen.is_none()
    }
}

impl Config {
    /// Checks every setting; `bound` is the address actually bound (port 0 becomes real).
    pub fn check(&self, bound: Option<std::net::SocketAddr>) -> Result<Settings, ConfigError> {
        let smtp = match self.smtp_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => Some(
                crate::outbox::smtp::SmtpUrl::parse(url)
                    .map_err(|e| ConfigError(format!("GUIDANCE_SMTP_URL: {e}")))?,
            ),
        };
        let smtp_ca = match (&self.smtp_ca_file, &smtp) {
            (None, _) => None,
            (Some(path), Some(url)) if url.security != crate::outbox::smtp::SmtpSecurity::None => {
                Some(
                    crate::outbox::smtp::SmtpCa::load(path)
                        .map_err(|e| ConfigError(format!("GUIDANCE_SMTP_CA_FILE: {e}")))?,
                )
            }
            // A CA that would never be used is a mistake worth stopping for.
            (Some(_), _) => {
                return Err(ConfigError(
                    "GUIDANCE_SMTP_CA_FILE is set, but GUIDANCE_SMTP_URL uses no TLS \
                     (unset, or tls=none)"
                        .into(),
                ));
            }
        };
        if self.mail_max_attempts == 0 || self.mail_retry_base_ms == 0 || self.mail_lease_secs == 0
        {
            return Err(ConfigError(
                "GUIDANCE_MAIL_MAX_ATTEMPTS, GUIDANCE_MAIL_RETRY_BASE_MS and GUIDANCE_MAIL_LEASE_SECS must be at least 1"
                    .into(),
            ));
        }
        if !(1..=crate::outbox::relay::MAX_CONNECTIONS).contains(&self.smtp_connections) {
            return Err(ConfigError(format!(
                "GUIDANCE_SMTP_CONNECTIONS must be from 1 to {}",
                crate::outbox::relay::MAX_CONNECTIONS
            )));
        }
        let retry = crate::outbox::RetryPolicy {
            base: std::time::Duration::from_millis(self.mail_retry_base_ms),
            max_attempts: i64::from(self.mail_max_attempts),
            shutdown_grace: std::time::Duration::from_millis(self.mail_shutdown_grace_ms),
            lease: jiff::SignedDuration::from_secs(i64::from(self.mail_lease_secs)),
        };
        EmailAddress::parse(&self.mail_from)
            .map(|_| ())
            .or_else(|_| localhost_address(&self.mail_from))
            .map_err(|_| {
                ConfigError(format!(
                    "GUIDANCE_MAIL_FROM is not an email address: {:?}",
                    self.mail_from
                ))
            })?;
        EmailAddress::parse(&self.owner_email)
            .map(|_| ())
            .or_else(|_| localhost_address(&self.owner_email))
            .map_err(|_| {
                ConfigError(format!(
                    "GUIDANCE_OWNER_EMAIL is not an email address: {:?}",
                    self.owner_email
                ))
            })?;
        if self.owner_name.trim().is_empty() || self.owner_name.chars().any(char::is_control) {
            return Err(ConfigError(
                "GUIDANCE_OWNER_NAME must be a one-line name".into(),
            ));
        }
        let time_zone = TimeZoneName::parse(&self.time_zone).map_err(|_| {
            ConfigError(format!(
                "GUIDANCE_TIME_ZONE is not an IANA time zone: {:?}",
                self.time_zone
            ))
        })?;
        let admin_token = match self.admin_token.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) if t.chars().count() < 16 => {
                return Err(ConfigError(
                    "GUIDANCE_ADMIN_TOKEN must be at least 16 characters long".into(),
                ));
            }
            Some(t) => Some(t.to_owned()),
        };
        let public_url = match &self.public_url {
            Some(u) if !u.trim().is_empty() => {
                let u = u.trim().trim_end_matches('/').to_owned();
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(ConfigError(
                        "GUIDANCE_PUBLIC_URL must start with http:// or https://".into(),
                    ));
                }
                u
            }
            _ => format!(
                "http://{}",
                bound
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| self.listen.clone())
            ),
        };
        if self.booking_rate_limit == 0 {
            return Err(ConfigError(
                "GUIDANCE_BOOKING_RATE_LIMIT must be at least 1".into(),
            ));
        }
        if !(1..=MAX_CONFIRM_HOLD_MINUTES).contains(&self.confirm_hold_minutes) {
            return Err(ConfigError(format!(
                "GUIDANCE_CONFIRM_HOLD_MINUTES must be between 1 and {MAX_CONFIRM_HOLD_MINUTES}"
            )));
        }
        let embed_origins = parse_origins(self.embed_origins.as_deref().unwrap_or_default())?;
        let trusted_proxies = self.edge.check()?;
        let metrics_token = match self.metrics_token.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) if t.chars().count() < 16 => {
                return Err(ConfigError(
                    "GUIDANCE_METRICS_TOKEN must be at least 16 characters long".into(),
                ));
            }
            Some(t) => Some(t.to_owned()),
        };
        let metrics_listen = self
            .metrics_listen
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned);
        let meeting = self.meeting.check()?;
        let inbox = crate::replies::imap::InboxSettings::from_config(self)?;
        Ok(Settings {
            meeting,
            config: self.clone(),
            public_url,
            time_zone,
            admin_token,
            smtp,
            smtp_ca,
            retry,
            embed_origins,
            trusted_proxies,
            metrics_token,
            metrics_listen,
            inbox,
        })
    }

    /// The secret that signs links: configured, or generated once and kept in the data directory.
    pub fn load_secret(&self) -> Result<TokenSecret, ConfigError> {
        if let Some(s) = self.secret.as_deref().filter(|s| !s.trim().is_empty()) {
            return TokenSecret::from_config(s)
                .map_err(|e| ConfigError(format!("GUIDANCE_SECRET: {e}")));
        }
        let path = self.data_dir.join("secret");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let t = TokenSecret::generate_text();
                write_private(&path, &t).map_err(|e| {
                    ConfigError(format!("cannot keep the secret in {}: {e}", path.display()))
                })?;
                t
            }
            Err(e) => return Err(ConfigError(format!("cannot read {}: {e}", path.display()))),
        };
        TokenSecret::from_config(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
    }
}

/// Whether a database URL names PostgreSQL (a plain server or Supabase); else it is SQLite.
pub fn is_postgres_url(url: &str) -> bool {
    let url = url.trim();
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Parses `GUIDANCE_EMBED_ORIGINS`: each entry an origin as browsers send it in `Origin:`
/// (`https://host` or `http://host:port`, no path), so that matching is an exact comparison.
fn parse_origins(raw: &str) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let origin = entry.trim_end_matches('/');
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let ok = rest.is_some_and(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        });
        if !ok {
            return Err(ConfigError(format!(
                "GUIDANCE_EMBED_ORIGINS: {entry:?} is not an origin like https://www.example.org"
            )));
        }
        out.push(origin.to_ascii_lowercase());
    }
    Ok(out)
}

/// Addresses like `owner@localhost` are fine for a first run on one machine.
fn localhost_address(s: &str) -> Result<(), ()> {
    match s.trim().rsplit_once('@') {
        Some((local, "localhost"))
            if !local.is_empty()
                && EmailAddress::parse(&format!("{local}@localhost.local")).is_ok() =>
        {
            Ok(())
        }
        _ => Err(()),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_files::create_dir(dir)?;
    }
    let tmp = path.with_extension("tmp");
    // A temporary file left by a start-up that died half-way is not ours to keep.
    let _ = std::fs::remove_file(&tmp);
    {
        use std::io::Write;
        let mut f = crate::private_files::new_file().open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(tmp, path)
}
