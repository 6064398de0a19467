//! Sending through the SMTP server of `GUIDANCE_SMTP_URL` over several connections at once
//! (`GUIDANCE_SMTP_CONNECTIONS`), each kept open and reused between emails.
//!
//! The connections are opened here rather than by lettre's transport so that each socket has
//! `TCP_NODELAY`: lettre writes the end of the message (`.` on a line of its own) as a separate
//! small write, which without it waits out the server's delayed ACK (about 40 ms) on every email.
//! (With implicit TLS, `smtps://`, lettre opens the socket itself and this does not apply.)
//!
//! Each email is sent as the bytes stored in the outbox, so its `Message-ID` and content are the
//! same on every attempt.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use guidance_store::OutboxMessage;
use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::sync::{Mutex, Semaphore};

use super::Mailer;
use super::smtp::{COMMAND_TIMEOUT, SmtpCa, SmtpSecurity, SmtpUrl, client_id, tls_parameters};

/// How long an unused connection stays open (well under the usual server idle limit of 5 min).
const IDLE: Duration = Duration::from_secs(60);
/// The longest one attempt may take, connecting included; far under the outbox lease.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2 * COMMAND_TIMEOUT.as_secs());
/// The most connections that may be asked for.
pub const MAX_CONNECTIONS: u32 = 64;

/// Sends emails through one SMTP server over at most `connections` connections at once.
#[derive(Clone)]
pub struct SmtpMailer {
    inner: Arc<Relay>,
}

struct Relay {
    host: String,
    port: u16,
    security: SmtpSecurity,
    tls: Option<TlsParameters>,
    hello: ClientId,
    credentials: Option<Credentials>,
    /// The envelope sender (`MAIL FROM`): the service's own mailbox.
    from: Address,
    /// One permit per connection that may be open and busy at once.
    permits: Semaphore,
    /// Open connections waiting for the next email, with the time each was last used.
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("host", &self.inner.host)
            .field("port", &self.inner.port)
            .field("from", &self.inner.from)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `url`, sending as `from`, greeting the server as `hello_name` (the host of
    /// the public URL: a domain name or an address), trusting `ca` besides the public roots,
    /// over at most `connections` connections at once (1 to [`MAX_CONNECTIONS`]).
    pub fn new(
        url: &SmtpUrl,
        ca: Option<&SmtpCa>,
        from: &str,
        hello_name: &str,
        connections: u32,
    ) -> Result<Self, String> {
        let from: Address = from
            .trim()
            .parse()
            .map_err(|e| format!("GUIDANCE_MAIL_FROM cannot be an SMTP sender: {e}"))?;
        let tls = match url.security {
            SmtpSecurity::None => None,
            SmtpSecurity::StartTls | SmtpSecurity::ImplicitTls => {
                Some(tls_parameters(&url.host, ca)?)
            }
        };
        let connections = connections.clamp(1, MAX_CONNECTIONS);
        Ok(Self {
            inner: Arc::new(Relay {
                host: url.host.clone(),
                port: url.port,
                security: url.security,
                tls,
                hello: client_id(hello_name),
                credentials: url
                    .credentials
                    .as_ref()
                    .map(|(user, pass)| Credentials::new(user.clone(), pass.clone())),
                from,
                permits: Semaphore::new(usize::try_from(connections).unwrap_or(1)),
                idle: Mutex::new(Vec::new()),
            }),
        })
    }
}

impl SmtpMailer {
    /// Opens a new connection as sending would: connect, `EHLO`, TLS as the URL asks, `AUTH`
    /// when it has credentials, then `NOOP`; no message is sent (`guidance check`).
    pub async fn test_connection(&self) -> Result<(), String> {
        let mut conn = self.inner.connect().await?;
        let noop = conn.test_connected().await;
        conn.quit().await.ok();
        if noop {
            Ok(())
        } else {
            Err("the server did not answer NOOP after signing in".into())
        }
    }
}

impl Relay {
    /// A connection ready for `MAIL FROM`: greeted, encrypted as the URL says, signed in.
    async fn connect(&self) -> Result<AsyncSmtpConnection, String> {
        let smtp = |e: lettre::transport::smtp::Error| format!("SMTP: {e}");
        let mut conn = match (&self.security, &self.tls) {
            (SmtpSecurity::ImplicitTls, Some(tls)) => AsyncSmtpConnection::connect_tokio1(
                (self.host.as_str(), self.port),
                Some(COMMAND_TIMEOUT),
                &self.hello,
                Some(tls.clone()),
                None,
            )
            .await
            .map_err(smtp)?,
            _ => {
                let cannot = |e: std::io::Error| {
                    format!("SMTP: cannot connect to {}:{}: {e}", self.host, self.port)
                };
                let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
                    .await
                    .map_err(cannot)?;
                tcp.set_nodelay(true).map_err(cannot)?;
                let mut conn =
                    AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello)
                        .await
                        .map_err(smtp)?;
                if let (SmtpSecurity::StartTls, Some(tls)) = (&self.security, &self.tls) {
                    // Refuses to go on when the server offers no STARTTLS: never plain text.
                    conn.starttls(tls.clone(), &self.hello)
                        .await
                        .map_err(smtp)?;
                }
                conn
            }
        };
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(smtp)?;
        }
        Ok(conn)
    }

    /// An open connection not idle for too long, or a new one.
    async fn checkout(&self) -> Result<AsyncSmtpConnection, String> {
        loop {
            let Some((conn, since)) = self.idle.lock().await.pop() else {
                break;
            };
            if since.elapsed() < IDLE && !conn.has_broken() {
                return Ok(conn);
            }
        }
        self.connect().await
    }

    async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), String> {
        let mut conn = self.checkout().await?;
        match conn.send(envelope, message).await {
            Ok(_) => {
                self.idle.lock().await.push((conn, Instant::now()));
                Ok(())
            }
            // lettre has given up on the connection already: it is dropped.
            Err(e) => Err(format!("SMTP: {e}")),
        }
    }
}

impl Mailer for SmtpMailer {
    async fn send(&self, msg: &OutboxMessage) -> Result<(), String> {
        let to: Address = msg
            .recipient
            .parse()
            .map_err(|e| format!("the recipient {:?} is not an address: {e}", msg.recipient))?;
        let envelope = Envelope::new(Some(self.inner.from.clone()), vec![to])
            .map_err(|e| format!("no envelope: {e}"))?;
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| "the mailer is closed".to_owned())?;
        tokio::time::timeout(ATTEMPT_TIMEOUT, self.inner.send(&envelope, &msg.message))
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "SMTP: no answer within {} s",
                    ATTEMPT_TIMEOUT.as_secs()
                ))
            })
    }
}
