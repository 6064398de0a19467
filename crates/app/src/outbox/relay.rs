//! Sending through the SMTP server of `GUIDANCE_SMTP_URL` over several connections at once
//! (`GUIDANCE_SMTP_CONNECTIONS`), each kept open and reused between emails.
//!
//! The connections are opened here rather than by lettre's transport so that each socket has
//! `TCP_NODELAY`: lettre writes the end of the message (`.` on a line of its own) as a separate
//! small write, which without it waits out the server's delayed ACK (about 40 ms) on every email.
//! (With implicit TLS, `smtps://`, lettre opens the socket itself and this does not apply.)
//!
//! Where the server offers PIPELINING (RFC 2920), an email takes two round trips instead of
//! four: `MAIL FROM`, `RCPT TO` and `DATA` go in one write, the content and its end in another
//! (see [`send_pipelined`]).
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
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
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
    idle: Mutex<Vec<(Open, Instant)>>,
}

/// An open connection, ready for `MAIL FROM`.
struct Open {
    conn: AsyncSmtpConnection,
    /// Whether the server offers PIPELINING.
    pipelining: bool,
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
        let Open { mut conn, .. } = self.inner.connect().await?;
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
    async fn connect(&self) -> Result<Open, String> {
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
        // lettre keeps only the extensions it uses from its greeting: greeted again (RFC 5321
        // allows it at any time; it only resets the mail transaction, and none is open), to
        // read whether the server offers PIPELINING. Before AUTH, which a new EHLO may undo.
        let ehlo = conn
            .command(Ehlo::new(self.hello.clone()))
            .await
            .map_err(smtp)?;
        let pipelining = ehlo.message().skip(1).any(|line| {
            let keyword = line.split_ascii_whitespace().next().unwrap_or("");
            keyword.eq_ignore_ascii_case("PIPELINING")
        });
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(smtp)?;
        }
        Ok(Open { conn, pipelining })
    }

    /// An open connection not idle for too long, or a new one.
    async fn checkout(&self) -> Result<Open, String> {
        loop {
            let Some((open, since)) = self.idle.lock().await.pop() else {
                break;
            };
            if since.elapsed() < IDLE && !open.conn.has_broken() {
                return Ok(open);
            }
        }
        self.connect().await
    }

    async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), String> {
        let mut open = self.checkout().await?;
        // Pipelined only where no extension is needed (SMTPUTF8, 8BITMIME): the emails Guidance
        // renders are ASCII, and lettre adds those parameters for the others.
        let ascii_address = |a: &Address| a.user().is_ascii() && a.domain().is_ascii();
        let ascii =
            envelope.from().is_none_or(ascii_address) && envelope.to().iter().all(ascii_address);
        let sent = match std::str::from_utf8(message) {
            Ok(text) if open.pipelining && ascii && text.is_ascii() => {
                send_pipelined(&mut open.conn, envelope, text).await
            }
            _ => open.conn.send(envelope, message).await.map(drop),
        };
        match sent {
            Ok(()) => {
                self.idle.lock().await.push((open, Instant::now()));
                Ok(())
            }
            // Dropped: lettre has given up on it already, or answers are still unread.
            Err(e) => Err(format!("SMTP: {e}")),
        }
    }
}

/// Sends `message` as lettre's `send` does, in two round trips: `MAIL FROM`, each `RCPT TO` and
/// `DATA` in one write, their answers read in order (RFC 2920 lets `DATA` end a group), then,
/// after `DATA`'s 354, the content with its end in one write. A refusal ends it with that
/// answer's error; the connection is then not used again, since later answers may be unread.
async fn send_pipelined(
    conn: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    message: &str,
) -> Result<(), lettre::transport::smtp::Error> {
    let mut group = Mail::new(envelope.from().cloned(), Vec::new()).to_string();
    for to in envelope.to() {
        group.push_str(&Rcpt::new(to.clone(), Vec::new()).to_string());
    }
    group.push_str(&Data.to_string());
    // `command` writes the whole group and reads the first answer, `MAIL FROM`'s.
    conn.command(group).await?;
    for _ in envelope.to() {
        conn.read_response().await?;
    }
    conn.read_response().await?;
    conn.command(content(message)).await?;
    Ok(())
}

/// The content of `DATA` as lettre writes it: a `.` that begins a line doubled (RFC 5321
/// 4.5.2), then `CRLF . CRLF`.
fn content(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + message.len() / 64 + 5);
    if message.starts_with('.') {
        out.push('.');
    }
    // Copied a line run at a time: only where a line begins with a dot is there anything to add.
    let mut rest = message;
    while let Some(at) = rest.find("\r\n.") {
        out.push_str(&rest[..at + 2]);
        out.push('.');
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out.push_str("\r\n.\r\n");
    out
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

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    use super::*;

    #[test]
    fn content_doubles_a_leading_dot_and_ends_with_a_lone_dot() {
        assert_eq!(content("a\r\nb"), "a\r\nb\r\n.\r\n");
        assert_eq!(
            content(".a\r\n.\r\nb.c\r\n"),
            "..a\r\n..\r\nb.c\r\n\r\n.\r\n"
        );
        // Only after CRLF does a line begin.
        assert_eq!(content("a\n.b\r.c"), "a\n.b\r.c\r\n.\r\n");
        assert_eq!(content("a\r\r\n.b"), "a\r\r\n..b\r\n.\r\n");
        assert_eq!(content(".\r\n."), "..\r\n..\r\n.\r\n");
        assert_eq!(content("é\r\n.ü\r\n"), "é\r\n..ü\r\n\r\n.\r\n");
    }

    /// A server that offers PIPELINING and answers `MAIL FROM`, `RCPT TO` and `DATA` only once
    /// all three have arrived: a client sending one command at a time would wait for ever.
    /// Returns the commands and the content it received.
    async fn server_of_groups(listener: TcpListener) -> (Vec<String>, String) {
        let (socket, _) = listener.accept().await.expect("accept");
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        let mut line = String::new();
        write.write_all(b"220 stub ESMTP\r\n").await.unwrap();
        let mut commands = Vec::new();
        loop {
            line.clear();
            lines.read_line(&mut line).await.unwrap();
            let command = line.trim_end().to_owned();
            if command.starts_with("EHLO") {
                write
                    .write_all(b"250-stub\r\n250-PIPELINING\r\n250 HELP\r\n")
                    .await
                    .unwrap();
                continue;
            }
            commands.push(command.clone());
            if command == "DATA" {
                break;
            }
        }
        write
            .write_all(b"250 sender ok\r\n250 recipient ok\r\n354 go on\r\n")
            .await
            .unwrap();
        let mut data = String::new();
        while !data.ends_with("\r\n.\r\n") {
            line.clear();
            lines.read_line(&mut line).await.unwrap();
            data.push_str(&line);
        }
        write.write_all(b"250 kept\r\n").await.unwrap();
        (commands, data)
    }

    #[tokio::test]
    async fn an_email_goes_to_a_pipelining_server_in_two_writes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(server_of_groups(listener));
        let url = SmtpUrl::parse(&format!("smtp://127.0.0.1:{port}?tls=none")).unwrap();
        let mailer =
            SmtpMailer::new(&url, None, "guidance@example.org", "guidance.test", 1).unwrap();
        let envelope = Envelope::new(
            Some("guidance@example.org".parse().unwrap()),
            vec!["ada@example.net".parse().unwrap()],
        )
        .unwrap();
        let message = b"Subject: x\r\n\r\n.a line with a dot\r\n";
        let sent = tokio::time::timeout(
            Duration::from_secs(10),
            mailer.inner.send(&envelope, message),
        )
        .await
        .expect("the server answers once it has the whole group");
        sent.expect("sent");
        let (commands, data) = server.await.unwrap();
        assert_eq!(
            commands,
            [
                "MAIL FROM:<guidance@example.org>",
                "RCPT TO:<ada@example.net>",
                "DATA"
            ]
        );
        assert_eq!(data, "Subject: x\r\n\r\n..a line with a dot\r\n\r\n.\r\n");
    }
}
