//! The service mailbox over IMAP (`GUIDANCE_IMAP_URL`), with `async-imap` over rustls.
//!
//! - `imaps://user:pass@host:993/INBOX` — TLS from the first byte;
//! - `imap://user:pass@host:143/INBOX` — STARTTLS, required (no fallback to plain text);
//! - `imap://user:pass@127.0.0.1:143/INBOX?tls=none` — plain, only for a server on this machine.
//!
//! The server's certificate is always verified, against the public roots plus the authorities
//! of `GUIDANCE_IMAP_CA_FILE`. Handled messages are marked seen and moved to
//! `Guidance/Processed` (with the server's own hierarchy separator), created when missing.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use guidance_inbox::TrustedAuthserv;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::config::{Config, ConfigError};

/// How long connecting, the greeting, TLS and login may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How the connection is protected (`None` only for a server on this machine).
pub type ImapSecurity = crate::server_url::Security;

/// A checked `GUIDANCE_IMAP_URL`.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapUrl {
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Connection protection.
    pub security: ImapSecurity,
    /// User name.
    pub user: String,
    /// Password.
    password: String,
    /// The folder replies arrive in.
    pub mailbox: String,
}

/// The password never appears in logs or error messages.
impl fmt::Debug for ImapUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("mailbox", &self.mailbox)
            .finish()
    }
}

impl fmt::Display for ImapUrl {
    /// `imaps://host:port/INBOX`, without the user and password (for the owner's settings page).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.security {
            ImapSecurity::ImplicitTls => "imaps",
            _ => "imap",
        };
        write!(f, "{scheme}://{}:{}/{}", self.host, self.port, self.mailbox)
    }
}

impl ImapUrl {
    /// Parses one of the three forms of the module comment; anything else is refused with a
    /// reason, and so is `tls=none` for a server that is not on this machine.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (url, host, security) = crate::server_url::parse(raw, "imap", "imaps")?;
        if security == ImapSecurity::None && !is_loopback(&host) {
            return Err(format!(
                "tls=none is only for a server on this machine, not {host:?}: use imaps:// or STARTTLS"
            ));
        }
        let decode = crate::server_url::decode;
        let (user, password) = match (url.username(), url.password()) {
            (user, Some(pass)) if !user.is_empty() => (decode(user)?, decode(pass)?),
            _ => {
                return Err("give the mailbox's user and password (imaps://user:pass@host)".into());
            }
        };
        let mailbox = match url.path().trim_start_matches('/') {
            "" => "INBOX".to_owned(),
            path => decode(path)?,
        };
        if mailbox
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\\')
        {
            return Err(
                "the folder name must not hold quotes, backslashes or control characters".into(),
            );
        }
        let port = url.port().unwrap_or(match security {
            ImapSecurity::ImplicitTls => 993,
            _ => 143,
        });
        Ok(Self {
            host,
            port,
            security,
            user,
            password,
            mailbox,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
}

/// Everything the reply reader needs to reach and trust the mailbox.
#[derive(Clone)]
pub struct InboxSettings {
    /// Where the mailbox is.
    pub url: ImapUrl,
    /// TLS trust: the public roots plus `GUIDANCE_IMAP_CA_FILE`.
    tls: Arc<ClientConfig>,
    /// The CA file, if one was given (shown, never its contents).
    pub ca_file: Option<PathBuf>,
    /// Whose `Authentication-Results` are believed.
    pub trusted_authserv: Option<TrustedAuthserv>,
    /// How long to wait between looks without IDLE, and at most with it.
    pub poll: Duration,
}

impl fmt::Debug for InboxSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxSettings")
            .field("url", &self.url)
            .field("ca_file", &self.ca_file)
            .field("trusted_authserv", &self.trusted_authserv)
            .field("poll", &self.poll)
            .finish()
    }
}

impl InboxSettings {
    /// The reader's settings from the configuration; `None` when `GUIDANCE_IMAP_URL` is unset.
    pub fn from_config(config: &Config) -> Result<Option<Self>, ConfigError> {
        let url = match config.imap_url.as_deref().map(str::trim) {
            None | Some("") => {
                if config.imap_ca_file.is_some() || config.imap_trusted_authserv.is_some() {
                    return Err(ConfigError(
                        "GUIDANCE_IMAP_CA_FILE or GUIDANCE_IMAP_TRUSTED_AUTHSERV is set, but GUIDANCE_IMAP_URL is not".into(),
                    ));
                }
                return Ok(None);
            }
            Some(raw) => {
                ImapUrl::parse(raw).map_err(|e| ConfigError(format!("GUIDANCE_IMAP_URL: {e}")))?
            }
        };
        if config.imap_ca_file.is_some() && url.security == ImapSecurity::None {
            return Err(ConfigError(
                "GUIDANCE_IMAP_CA_FILE is set, but GUIDANCE_IMAP_URL uses no TLS (tls=none)".into(),
            ));
        }
        let trusted_authserv = config
            .imap_trusted_authserv
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(TrustedAuthserv::parse)
            .transpose()
            .map_err(|e| ConfigError(format!("GUIDANCE_IMAP_TRUSTED_AUTHSERV: {e}")))?;
        let tls = tls_config(config.imap_ca_file.as_deref())
            .map_err(|e| ConfigError(format!("GUIDANCE_IMAP_CA_FILE: {e}")))?;
        if config.imap_poll_secs == 0 {
            return Err(ConfigError(
                "GUIDANCE_IMAP_POLL_SECS must be at least 1".into(),
            ));
        }
        Ok(Some(Self {
            url,
            tls: Arc::new(tls),
            ca_file: config.imap_ca_file.clone(),
            trusted_authserv,
            poll: Duration::from_secs(u64::from(config.imap_poll_secs)),
        }))
    }
}

/// The public roots plus the certificates in `ca_file`, which must hold at least one.
fn tls_config(ca_file: Option<&std::path::Path>) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let pem =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut n = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            n += 1;
        }
        if n == 0 {
            return Err(format!("{} holds no PEM certificate", path.display()));
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// A connection, plain or TLS.
#[derive(Debug)]
pub enum Conn {
    /// Plain TCP (`tls=none`, or before STARTTLS).
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// An error of the mailbox, as a short reason for the log and the owner's settings page.
pub type ImapError = String;

async fn timed<T, E: fmt::Display>(
    what: &str,
    limit: Duration,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer within {}s", limit.as_secs())),
    }
}

/// A logged-in session on the replies folder.
pub struct Mailbox {
    session: Session<Conn>,
    processed: String,
    can_move: bool,
    /// Whether the server tells of new mail (IDLE).
    pub can_idle: bool,
}

/// A message waiting in the replies folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    /// Its UID in the folder.
    pub uid: u32,
    /// Its size in bytes (`RFC822.SIZE`), as the server tells it before anything is fetched.
    pub size: Option<u32>,
}

/// What the server's envelope of a message says, read without fetching the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// Its Message-ID, without the angle brackets.
    pub message_id: Option<String>,
    /// The first `From:` address.
    pub from: Option<String>,
}

/// What `guidance check` found: the server let the user in and the folder opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Messages in the replies folder.
    pub messages: u32,
}

/// Connects, protects the connection as the URL says and logs in.
async fn log_in(settings: &InboxSettings) -> Result<Session<Conn>, ImapError> {
    let url = &settings.url;
    let tcp = timed(
        "connect",
        CONNECT_TIMEOUT,
        TcpStream::connect((url.host.as_str(), url.port)),
    )
    .await?;
    let tls = || -> Result<(TlsConnector, ServerName<'static>), ImapError> {
        let name =
            ServerName::try_from(url.host.clone()).map_err(|e| format!("server name: {e}"))?;
        Ok((TlsConnector::from(settings.tls.clone()), name))
    };
    let conn = match url.security {
        ImapSecurity::None => Conn::Plain(tcp),
        ImapSecurity::ImplicitTls => {
            let (connector, name) = tls()?;
            Conn::Tls(Box::new(
                timed("TLS", CONNECT_TIMEOUT, connector.connect(name, tcp)).await?,
            ))
        }
        ImapSecurity::StartTls => {
            let mut client = Client::new(Conn::Plain(tcp));
            greeting(&mut client).await?;
            timed(
                "STARTTLS",
                CONNECT_TIMEOUT,
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await?;
            let Conn::Plain(tcp) = client.into_inner() else {
                unreachable!("the connection is plain before STARTTLS")
            };
            let (connector, name) = tls()?;
            Conn::Tls(Box::new(
                timed("TLS", CONNECT_TIMEOUT, connector.connect(name, tcp)).await?,
            ))
        }
    };
    let mut client = Client::new(conn);
    if url.security != ImapSecurity::StartTls {
        greeting(&mut client).await?;
    }
    match tokio::time::timeout(CONNECT_TIMEOUT, client.login(&url.user, &url.password)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err((e, _))) => Err(format!("login as {}: {e}", url.user)),
        Err(_) => Err("login: no answer".into()),
    }
}

/// Logs in and opens the replies folder read-only (`EXAMINE`), then logs out: what `guidance
/// check` asks. Nothing is created, flagged or moved.
pub async fn check(settings: &InboxSettings) -> Result<Checked, ImapError> {
    let mut session = log_in(settings).await?;
    let folder = timed(
        "EXAMINE",
        COMMAND_TIMEOUT,
        session.examine(&settings.url.mailbox),
    )
    .await?;
    // The answer is in; a server that does not say goodbye changes nothing.
    let _ = tokio::time::timeout(COMMAND_TIMEOUT, session.logout()).await;
    Ok(Checked {
        messages: folder.exists,
    })
}

impl Mailbox {
    /// Connects, protects the connection as the URL says, logs in, makes sure the processed
    /// folder exists and selects the replies folder.
    pub async fn open(settings: &InboxSettings) -> Result<Self, ImapError> {
        let url = &settings.url;
        let mut session = log_in(settings).await?;
        let caps = timed("CAPABILITY", COMMAND_TIMEOUT, session.capabilities()).await?;
        let can_move = caps.has_str("MOVE");
        let can_idle = caps.has_str("IDLE");
        let processed = ensure_processed_folder(&mut session).await?;
        timed("SELECT", COMMAND_TIMEOUT, session.select(&url.mailbox)).await?;
        Ok(Self {
            session,
            processed,
            can_move,
            can_idle,
        })
    }

    /// Every message in the replies folder (handled ones were moved out), with its size as
    /// the server tells it, so that none is downloaded before its size is known.
    pub async fn waiting(&mut self) -> Result<Vec<Waiting>, ImapError> {
        let uids = timed(
            "UID SEARCH",
            COMMAND_TIMEOUT,
            self.session.uid_search("NOT DELETED"),
        )
        .await?;
        let mut uids: Vec<u32> = uids.into_iter().collect();
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        uids.sort_unstable();
        // One range however many wait, so that the command stays short; the sizes of messages
        // in it that are not waiting (deleted ones) are not used.
        let set = format!("{}:{}", uids[0], uids[uids.len() - 1]);
        let sizes: Vec<_> = timed("UID FETCH", COMMAND_TIMEOUT, async {
            self.session
                .uid_fetch(&set, "RFC822.SIZE")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        Ok(uids
            .into_iter()
            .map(|uid| Waiting {
                uid,
                size: sizes
                    .iter()
                    .find(|f| f.uid == Some(uid))
                    .and_then(|f| f.size),
            })
            .collect())
    }

    /// The server's envelope of `uid` (its Message-ID and sender), without the message.
    pub async fn envelope(&mut self, uid: u32) -> Result<Envelope, ImapError> {
        let fetches: Vec<_> = timed("UID FETCH", COMMAND_TIMEOUT, async {
            self.session
                .uid_fetch(uid.to_string(), "ENVELOPE")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        let Some(envelope) = fetches
            .iter()
            .find(|f| f.uid == Some(uid))
            .and_then(|f| f.envelope())
        else {
            return Ok(Envelope::default());
        };
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        Ok(Envelope {
            message_id: envelope
                .message_id
                .as_deref()
                .map(|m| text(m).trim().trim_matches(['<', '>']).to_owned())
                .filter(|m| !m.is_empty()),
            from: envelope
                .from
                .as_ref()
                .and_then(|from| from.first())
                .and_then(|a| {
                    Some(format!(
                        "{}@{}",
                        text(a.mailbox.as_deref()?),
                        text(a.host.as_deref()?)
                    ))
                }),
        })
    }

    /// The whole message `uid`, without marking it seen; `None` when it is gone.
    pub async fn fetch(&mut self, uid: u32) -> Result<Option<Vec<u8>>, ImapError> {
        let fetches: Vec<_> = timed("UID FETCH", COMMAND_TIMEOUT, async {
            self.session
                .uid_fetch(uid.to_string(), "BODY.PEEK[]")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        Ok(fetches
            .iter()
            .find(|f| f.uid == Some(uid) || f.uid.is_none())
            .and_then(|f| f.body())
            .map(<[u8]>::to_vec))
    }

    /// Marks `uid` seen and moves it to the processed folder.
    pub async fn file_away(&mut self, uid: u32) -> Result<(), ImapError> {
        let set = uid.to_string();
        timed("UID STORE", COMMAND_TIMEOUT, async {
            self.session
                .uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        if self.can_move {
            timed(
                "UID MOVE",
                COMMAND_TIMEOUT,
                self.session.uid_mv(&set, &self.processed),
            )
            .await?;
        } else {
            timed(
                "UID COPY",
                COMMAND_TIMEOUT,
                self.session.uid_copy(&set, &self.processed),
            )
            .await?;
            timed("UID STORE", COMMAND_TIMEOUT, async {
                self.session
                    .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
            timed("EXPUNGE", COMMAND_TIMEOUT, async {
                self.session.expunge().await?.try_collect::<Vec<_>>().await
            })
            .await?;
        }
        Ok(())
    }

    /// Waits until the server tells of a change or `limit` has passed (IDLE); returns the
    /// session for the next round.
    pub async fn idle(self, limit: Duration) -> Result<Self, ImapError> {
        let Self {
            session,
            processed,
            can_move,
            can_idle,
        } = self;
        let mut idle = session.idle();
        timed("IDLE", COMMAND_TIMEOUT, idle.init()).await?;
        let (wait, _stop) = idle.wait_with_timeout(limit);
        match wait.await {
            Ok(
                IdleResponse::NewData(_) | IdleResponse::Timeout | IdleResponse::ManualInterrupt,
            ) => {}
            Err(e) => return Err(format!("IDLE: {e}")),
        }
        let session = timed("DONE", COMMAND_TIMEOUT, idle.done()).await?;
        Ok(Self {
            session,
            processed,
            can_move,
            can_idle,
        })
    }

    /// Asks the server for news (without IDLE), which also keeps the connection alive.
    pub async fn noop(&mut self) -> Result<(), ImapError> {
        timed("NOOP", COMMAND_TIMEOUT, self.session.noop()).await
    }
}

/// Reads the server's greeting.
async fn greeting(client: &mut Client<Conn>) -> Result<(), ImapError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, client.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => Err("the server closed the connection before greeting".into()),
        Ok(Err(e)) => Err(format!("greeting: {e}")),
        Err(_) => Err("greeting: no answer".into()),
    }
}

/// `Guidance<sep>Processed`, created when missing, with the server's hierarchy separator.
async fn ensure_processed_folder(session: &mut Session<Conn>) -> Result<String, ImapError> {
    let root: Vec<_> = timed("LIST", COMMAND_TIMEOUT, async {
        session
            .list(Some(""), Some("\"\""))
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    let sep = root
        .first()
        .and_then(|n| n.delimiter())
        .unwrap_or("/")
        .to_owned();
    let name = format!("Guidance{sep}Processed");
    let existing: Vec<_> = timed("LIST", COMMAND_TIMEOUT, async {
        session
            .list(Some(""), Some(&format!("\"{name}\"")))
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    if existing.is_empty() {
        timed("CREATE", COMMAND_TIMEOUT, session.create(&name)).await?;
        tracing::info!(folder = %name, "created the folder for handled replies");
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_and_what_is_refused() {
        let u = ImapUrl::parse("imaps://me%40example.org:p%3As@imap.example.org/INBOX").unwrap();
        assert_eq!(
            (u.security, u.port, u.user.as_str()),
            (ImapSecurity::ImplicitTls, 993, "me@example.org")
        );
        assert_eq!(u.to_string(), "imaps://imap.example.org:993/INBOX");
        let u = ImapUrl::parse("imap://u:p@imap.example.org").unwrap();
        assert_eq!(
            (u.security, u.port, u.mailbox.as_str()),
            (ImapSecurity::StartTls, 143, "INBOX")
        );
        let u = ImapUrl::parse("imap://u:p@127.0.0.1:1143/Replies?tls=none").unwrap();
        assert_eq!(
            (u.security, u.mailbox.as_str()),
            (ImapSecurity::None, "Replies")
        );
        for bad in [
            "imap://u:p@imap.example.org?tls=none",
            "imaps://u:p@h?tls=none",
            "imap://h",
            "imap://u@h",
            "http://u:p@h",
            "imap://u:p@h?x=1",
            "imap://u:p@h/a%22b",
        ] {
            assert!(ImapUrl::parse(bad).is_err(), "{bad} was accepted");
        }
        let shown = format!("{:?}", ImapUrl::parse("imap://u:secret-pw@h").unwrap());
        assert!(!shown.contains("secret-pw"), "{shown}");
    }
}
