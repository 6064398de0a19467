//! `guidance check`: the configuration read as `serve` reads it, and each thing a live site
//! needs looked at on its own, so that the operator sees every problem at once rather than the
//! first one at start-up. Nothing is changed: no database is created or migrated, no secret
//! generated, no email sent (the SMTP server is greeted, asked for TLS and signed in to, then
//! left), no folder created or message moved in the replies mailbox (it is signed in to and its
//! folder opened read-only).

use std::time::Duration;

use guidance_core::TokenSecret;
use guidance_core::intake::EmailAddress;
use guidance_store::postgres::PostgresStore;
use guidance_store::sqlite;

use crate::config::{Config, Settings, is_postgres_url};
use crate::outbox::relay::SmtpMailer;
use crate::outbox::smtp::hello_name;

/// The shortest secret accepted (as `GUIDANCE_SECRET` or in `<data dir>/secret`).
const SECRET_MIN_CHARS: usize = 32;

/// How long the SMTP check may take in all.
const SMTP_CHECK_TIMEOUT: Duration = Duration::from_secs(40);
/// How long the replies mailbox's check may take in all.
const IMAP_CHECK_TIMEOUT: Duration = Duration::from_secs(40);

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was looked at.
    pub what: &'static str,
    /// Whether it is fine.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

fn ok(what: &'static str, detail: impl Into<String>) -> Finding {
    Finding {
        what,
        ok: true,
        detail: detail.into(),
    }
}

fn problem(what: &'static str, detail: impl Into<String>) -> Finding {
    Finding {
        what,
        ok: false,
        detail: detail.into(),
    }
}

/// Looks at everything; one finding per thing, in a fixed order.
pub async fn run(config: &Config) -> Vec<Finding> {
    let settings = config.check(None);
    let mut findings = vec![match &settings {
        Ok(_) => ok("settings", "every setting parses"),
        Err(e) => problem("settings", e.0.clone()),
    }];
    findings.push(public_url(config));
    findings.push(secret(config));
    findings.push(address(
        "owner address",
        "GUIDANCE_OWNER_EMAIL",
        &config.owner_email,
    ));
    findings.push(address(
        "sender address",
        "GUIDANCE_MAIL_FROM",
        &config.mail_from,
    ));
    findings.push(database(&config.database_url).await);
    findings.push(match &settings {
        Ok(settings) => smtp(settings).await,
        Err(_) => problem("smtp", "not tried: the settings above must parse first"),
    });
    findings.push(match &settings {
        Ok(settings) => replies(settings).await,
        Err(_) => problem("replies", "not tried: the settings above must parse first"),
    });
    findings.push(trusted_proxies(config));
    findings
}

/// Whether the owner's answers from their calendar are read: not configured (fine: the links
/// in the emails work alone), or the mailbox lets the reader in and its folder opens.
async fn replies(settings: &Settings) -> Finding {
    const WHAT: &str = "replies";
    let Some(inbox) = &settings.inbox else {
        return ok(
            WHAT,
            "GUIDANCE_IMAP_URL is not set: answers from the owner's calendar app are not read \
             (the links in the emails work)",
        );
    };
    let mailbox = &inbox.url;
    match tokio::time::timeout(IMAP_CHECK_TIMEOUT, crate::replies::imap::check(inbox)).await {
        Err(_) => problem(WHAT, format!("{mailbox} did not answer in time")),
        Ok(Err(e)) => problem(WHAT, format!("{mailbox}: {e}")),
        Ok(Ok(checked)) => ok(
            WHAT,
            format!(
                "{mailbox} answers; signed in as {}; {} holds {} message(s)",
                mailbox.user, mailbox.mailbox, checked.messages
            ),
        ),
    }
}

/// `GUIDANCE_TRUSTED_PROXIES` must parse; unset is fine (no proxy), but behind one every
/// visitor would then count as the proxy, so the line says so.
fn trusted_proxies(config: &Config) -> Finding {
    const WHAT: &str = "trusted proxies";
    let raw = config.edge.trusted_proxies.as_deref().unwrap_or_default();
    match crate::forwarded::TrustedProxies::parse(raw) {
        Err(e) => problem(WHAT, format!("GUIDANCE_TRUSTED_PROXIES: {e}")),
        Ok(p) if p.is_empty() => ok(
            WHAT,
            "none: forwarding headers are ignored (set GUIDANCE_TRUSTED_PROXIES behind a proxy)",
        ),
        Ok(_) => ok(
            WHAT,
            format!("forwarding headers believed from {}", raw.trim()),
        ),
    }
}

/// The public URL must be absolute (`https://host…`): it is the start of every link in every
/// email, and the origin the browser checks.
fn public_url(config: &Config) -> Finding {
    const WHAT: &str = "public URL";
    let Some(raw) = config
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    else {
        return problem(
            WHAT,
            format!(
                "GUIDANCE_PUBLIC_URL is not set: emails would link to http://{}",
                config.listen
            ),
        );
    };
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            if u.query().is_some() || u.fragment().is_some() {
                problem(WHAT, format!("{raw} must not have a query or a fragment"))
            } else if u.scheme() == "http" {
                ok(
                    WHAT,
                    format!("{raw} (plain http: put a TLS proxy in front)"),
                )
            } else {
                ok(WHAT, raw.to_owned())
            }
        }
        _ => problem(
            WHAT,
            format!("{raw:?} is not an absolute http:// or https:// URL"),
        ),
    }
}

/// A secret signs every link; without one, `serve` would make one up, and links would die
/// with the data directory (or differ between processes).
fn secret(config: &Config) -> Finding {
    const WHAT: &str = "secret";
    let (text, source) = match config.secret.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => (s.to_owned(), "GUIDANCE_SECRET".to_owned()),
        None => {
            let path = config.data_dir.join("secret");
            match std::fs::read_to_string(&path) {
                Ok(t) => (t, path.display().to_string()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return problem(
                        WHAT,
                        format!(
                            "none: set GUIDANCE_SECRET (at least {SECRET_MIN_CHARS} characters) \
                             or keep one in {}",
                            path.display()
                        ),
                    );
                }
                Err(e) => return problem(WHAT, format!("cannot read {}: {e}", path.display())),
            }
        }
    };
    match TokenSecret::from_config(&text) {
        Ok(_) => ok(WHAT, format!("from {source}")),
        Err(_) => problem(
            WHAT,
            format!("{source} is shorter than {SECRET_MIN_CHARS} characters"),
        ),
    }
}

/// An address the world can write to: parsed as the intake parses visitors' addresses, and
/// not at `localhost` (the default, fine for a first try on one machine).
fn address(what: &'static str, setting: &str, value: &str) -> Finding {
    match EmailAddress::parse(value) {
        Ok(a) => ok(what, a.as_str().to_owned()),
        Err(_) if value.trim().ends_with("@localhost") => problem(
            what,
            format!("{setting} is {value:?}: nobody outside this machine can reach it"),
        ),
        Err(_) => problem(
            what,
            format!("{setting} is not an email address: {value:?}"),
        ),
    }
}

/// The database answers and has every migration (PostgreSQL), or will be made by `serve`
/// (SQLite).
async fn database(url: &str) -> Finding {
    const WHAT: &str = "database";
    if is_postgres_url(url) {
        return match PostgresStore::inspect(url).await {
            Err(e) => problem(WHAT, format!("PostgreSQL does not answer: {e}")),
            Ok(pending) if pending.is_empty() => {
                ok(WHAT, "PostgreSQL answers; every migration is applied")
            }
            Ok(pending) => problem(
                WHAT,
                format!(
                    "PostgreSQL answers, but {} migration(s) are not applied: run `guidance migrate`",
                    pending.len()
                ),
            ),
        };
    }
    let path = sqlite::path_of_url(url);
    match sqlite::inspect(url).await {
        Err(e) => problem(WHAT, format!("SQLite database {path}: {e}")),
        Ok(None) => ok(
            WHAT,
            format!("no SQLite database at {path} yet: `serve` creates and migrates it"),
        ),
        Ok(Some(pending)) if pending.is_empty() => ok(
            WHAT,
            format!("SQLite database {path}; every migration is applied"),
        ),
        Ok(Some(pending)) => ok(
            WHAT,
            format!(
                "SQLite database {path}; `serve` applies {} new migration(s) at start",
                pending.len()
            ),
        ),
    }
}

/// Greets the SMTP server, asks for TLS and signs in, as sending would, without sending.
async fn smtp(settings: &Settings) -> Finding {
    const WHAT: &str = "smtp";
    let Some(url) = &settings.smtp else {
        return ok(
            WHAT,
            format!(
                "GUIDANCE_SMTP_URL is not set: emails are written to {} for you to send",
                settings.config.mail_dir.display()
            ),
        );
    };
    let mailer = match SmtpMailer::new(
        url,
        settings.smtp_ca.as_ref(),
        &settings.config.mail_from,
        &hello_name(&settings.public_url),
        1,
    ) {
        Ok(m) => m,
        Err(e) => return problem(WHAT, e),
    };
    let server = format!("{}:{}", url.host, url.port);
    match tokio::time::timeout(SMTP_CHECK_TIMEOUT, mailer.test_connection()).await {
        Err(_) => problem(WHAT, format!("{server} did not answer in time")),
        Ok(Err(e)) => problem(WHAT, format!("{server}: {e}")),
        Ok(Ok(())) => {
            let tls = match url.security {
                crate::outbox::smtp::SmtpSecurity::StartTls => "STARTTLS accepted",
                crate::outbox::smtp::SmtpSecurity::ImplicitTls => "TLS accepted",
                crate::outbox::smtp::SmtpSecurity::None => "no TLS (tls=none)",
            };
            let login = match &url.credentials {
                Some((user, _)) => format!("signed in as {user}"),
                None => "no sign-in".to_owned(),
            };
            ok(WHAT, format!("{server} answers; {tls}; {login}"))
        }
    }
}
