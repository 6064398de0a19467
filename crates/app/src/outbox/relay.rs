//! Sending through the SMTP server of `GUIDANCE_SMTP_URL` over several connections at once
//! (`GUIDANCE_SMTP_CONNECTIONS`), each kept open and reused between emails.
//!
//! The connections are opened here rather than by lettre's transport so that each socket has
//! `TCP_NODELAY`: lettre writes the end of the message (`.` on a line of its own) as a separate
//! small write, which without it waits out the server's delayed ACK (about 40 ms) on every email.
//! (With implicit TLS, `smtps://`, lettre opens the socket itself and this does not apply.)
//!
//! Where the server offers PIPELINING (RFC 2920), a connection takes up to [`BATCH`] emails at
//! once and sends them in one round trip each, plus one, instead of four each: each write holds
//! the content of one email and the `MAIL FROM`, `RCPT TO` and `DATA` of the next (see
//! [`send_run`]).
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
use lettre::transport::smtp::response::Response;
use tokio::sync::{Mutex, Semaphore};

use super::Mailer;
use super::smtp::{COMMAND_TIMEOUT, SmtpCa, SmtpSecurity, SmtpUrl, client_id, tls_parameters};

/// How long an unused connection stays open (well under the usual server idle limit of 5 min).
const IDLE: Duration = Duration::from_secs(60);
/// The longest one attempt may take, connecting included; far under the outbox lease.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2 * COMMAND_TIMEOUT.as_secs());
/// The most connections that may be asked for.
pub const MAX_CONNECTIONS: u32 = 64;
/// How many emails one connection takes at once (see [`send_run`]): enough that the round trips
/// an email come close to one, few enough that a batch ends long before the emails' leases.
const BATCH: usize = 8;

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

    /// Sends `msgs` in order over one connection, pushing each one's result onto `done` once
    /// it is known. The ASCII emails to a server that offers PIPELINING go in runs (see
    /// [`send_run`]); any other email goes alone, as lettre sends it. The emails left without a
    /// result were not sent: the connection failed, or a refusal ended a run, first.
    async fn send_all(&self, msgs: &[&OutboxMessage], done: &mut Vec<Result<(), String>>) {
        let mut open = match self.checkout().await {
            Ok(open) => open,
            Err(e) => {
                done.extend(msgs.iter().map(|_| Err(e.clone())));
                return;
            }
        };
        let mut run: Vec<(Envelope, &str)> = Vec::with_capacity(msgs.len());
        for msg in msgs {
            let envelope = match self.envelope(msg) {
                Ok(envelope) => envelope,
                Err(e) => {
                    if !flush(&mut open.conn, &mut run, done).await {
                        return;
                    }
                    done.push(Err(e));
                    continue;
                }
            };
            match pipelined_text(open.pipelining, &envelope, &msg.message) {
                Some(text) => run.push((envelope, text)),
                None => {
                    if !flush(&mut open.conn, &mut run, done).await {
                        return;
                    }
                    match open.conn.send(&envelope, &msg.message).await {
                        Ok(_) => done.push(Ok(())),
                        // lettre has given up on the connection.
                        Err(e) => return done.push(Err(format!("SMTP: {e}"))),
                    }
                }
            }
        }
        if flush(&mut open.conn, &mut run, done).await {
            self.idle.lock().await.push((open, Instant::now()));
        }
    }

    /// The envelope of `msg`: from the service's mailbox to its recipient.
    fn envelope(&self, msg: &OutboxMessage) -> Result<Envelope, String> {
        let to: Address = msg
            .recipient
            .parse()
            .map_err(|e| format!("the recipient {:?} is not an address: {e}", msg.recipient))?;
        Envelope::new(Some(self.from.clone()), vec![to]).map_err(|e| format!("no envelope: {e}"))
    }
}

/// `message` as text, when it may be pipelined: the server offers PIPELINING and neither the
/// envelope nor the message needs an extension (SMTPUTF8, 8BITMIME). The emails Guidance renders
/// are ASCII; lettre adds those parameters for the others.
fn pipelined_text<'a>(pipelining: bool, envelope: &Envelope, message: &'a [u8]) -> Option<&'a str> {
    let ascii_address = |a: &Address| a.user().is_ascii() && a.domain().is_ascii();
    let ascii =
        envelope.from().is_none_or(ascii_address) && envelope.to().iter().all(ascii_address);
    let text = std::str::from_utf8(message).ok()?;
    (pipelining && ascii && text.is_ascii()).then_some(text)
}

/// Sends the emails gathered in `run` (see [`send_run`]) and empties it. Whether the connection
/// may still be used.
async fn flush(
    conn: &mut AsyncSmtpConnection,
    run: &mut Vec<(Envelope, &str)>,
    done: &mut Vec<Result<(), String>>,
) -> bool {
    if run.is_empty() {
        return true;
    }
    let usable = send_run(conn, run, done).await;
    run.clear();
    usable
}

/// What one reply says: `Ok(Ok)` positive, `Ok(Err(reason))` a refusal (the connection still in
/// step), `Err` the connection cannot be used any more (it broke, or the reply was unreadable).
fn reply(
    read: Result<Response, lettre::transport::smtp::Error>,
) -> Result<Result<Response, String>, String> {
    match read {
        Ok(response) => Ok(Ok(response)),
        Err(e) if e.is_transient() || e.is_permanent() => Ok(Err(format!("SMTP: {e}"))),
        Err(e) => Err(format!("SMTP: {e}")),
    }
}

/// Sends `run` in one round trip an email, plus one (RFC 2920): the first write holds the first
/// email's `MAIL FROM`, `RCPT TO` and `DATA`; each later one the content of the email before
/// (the content may begin a group) followed by the next email's commands; the last the last
/// content alone. The replies are read in order, and each email's result is pushed onto `done`
/// once its content's reply is read.
///
/// A refused content fails only its email. A refused command, or a connection that breaks, ends
/// the run: that email fails, the later ones are left without a result (none of their content
/// was sent), and the connection is not used again (returns `false`).
async fn send_run(
    conn: &mut AsyncSmtpConnection,
    run: &[(Envelope, &str)],
    done: &mut Vec<Result<(), String>>,
) -> bool {
    // The content of the email before, its DATA accepted, still to be sent.
    let mut carried = String::new();
    for (envelope, text) in run {
        let mut group = std::mem::take(&mut carried);
        let content_first = !group.is_empty();
        group.push_str(&Mail::new(envelope.from().cloned(), Vec::new()).to_string());
        for to in envelope.to() {
            group.push_str(&Rcpt::new(to.clone(), Vec::new()).to_string());
        }
        group.push_str(&Data.to_string());
        // `command` writes the whole group and reads the first reply: the content's, if any.
        let first = conn.command(group).await;
        let mut first = if content_first {
            match reply(first) {
                Ok(sent) => done.push(sent.map(drop)),
                Err(e) => return fail(done, e),
            }
            None
        } else {
            Some(first)
        };
        // Every reply of the group is read, even after a refusal, to leave nothing unread.
        let mut refusal = None;
        for _ in 0..envelope.to().len() + 2 {
            let read = match first.take() {
                Some(read) => read,
                None => conn.read_response().await,
            };
            match reply(read) {
                Ok(Ok(_)) => {}
                Ok(Err(refused)) => refusal = refusal.or(Some(refused)),
                Err(e) => return fail(done, e),
            }
        }
        if let Some(refused) = refusal {
            // Dropped with the connection: a server that accepted DATA all the same never
            // gets a content.
            return fail(done, refused);
        }
        carried = content(text);
    }
    match reply(conn.command(carried).await) {
        Ok(sent) => {
            done.push(sent.map(drop));
            true
        }
        Err(e) => fail(done, e),
    }
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

/// The email in progress fails with `error`; the connection is not used again.
fn fail(done: &mut Vec<Result<(), String>>, error: String) -> bool {
    done.push(Err(error));
    false
}

impl Mailer for SmtpMailer {
    async fn send(&self, msg: &OutboxMessage) -> Result<(), String> {
        let mut done = Vec::with_capacity(1);
        self.send_all(&[msg], &mut done).await;
        done.pop()
            .unwrap_or_else(|| Err("SMTP: the connection failed before the email".into()))
    }

    fn batch(&self) -> usize {
        BATCH
    }

    /// One connection (a permit) for the whole batch, which must end within
    /// [`ATTEMPT_TIMEOUT`]: the emails without a result by then were not sent, but for the one
    /// in progress, which fails.
    async fn send_all(&self, msgs: &[&OutboxMessage], done: &mut Vec<Result<(), String>>) {
        let Ok(_permit) = self.inner.permits.acquire().await else {
            return done.extend(msgs.iter().map(|_| Err("the mailer is closed".to_owned())));
        };
        let start = done.len();
        let finished = tokio::time::timeout(ATTEMPT_TIMEOUT, self.inner.send_all(msgs, done)).await;
        if finished.is_err() && done.len() - start < msgs.len() {
            done.push(Err(format!(
                "SMTP: no answer within {} s",
                ATTEMPT_TIMEOUT.as_secs()
            )));
        }
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

    /// A server that offers PIPELINING and answers a group of commands only once the whole
    /// group has arrived: `MAIL FROM`, `RCPT TO` and `DATA`, with the content of the email before
    /// in front of them, or the last email's content alone. A client that waits for a reply
    /// before sending the rest of a group waits for ever. It refuses every recipient of the
    /// email numbered `refused` (from 0). Returns the commands and the contents it received.
    async fn server_of_groups(
        listener: TcpListener,
        emails: usize,
        refused: Option<usize>,
    ) -> (Vec<String>, Vec<String>) {
        let (socket, _) = listener.accept().await.expect("accept");
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        let mut line = String::new();
        write.write_all(b"220 stub ESMTP\r\n").await.unwrap();
        let (mut commands, mut contents) = (Vec::new(), Vec::new());
        let mut owed = String::new();
        let mut data: Option<String> = None;
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            if let Some(content) = data.as_mut() {
                content.push_str(&line);
                if content.ends_with("\r\n.\r\n") {
                    contents.extend(data.take());
                    owed.push_str("250 kept\r\n");
                    if contents.len() == emails {
                        write.write_all(owed.as_bytes()).await.unwrap();
                        break;
                    }
                }
                continue;
            }
            let command = line.trim_end().to_owned();
            if command.starts_with("EHLO") {
                write
                    .write_all(b"250-stub\r\n250-PIPELINING\r\n250 HELP\r\n")
                    .await
                    .unwrap();
                continue;
            }
            commands.push(command.clone());
            let this = commands.iter().filter(|c| c.starts_with("MAIL")).count() - 1;
            let refusing = refused == Some(this);
            match command.split(':').next().unwrap_or("") {
                "RCPT TO" if refusing => owed.push_str("550 no such user\r\n"),
                "DATA" if refusing => owed.push_str("554 no valid recipients\r\n"),
                "DATA" => {
                    owed.push_str("354 go on\r\n");
                    data = Some(String::new());
                }
                _ => owed.push_str("250 ok\r\n"),
            }
            if command == "DATA" {
                write.write_all(owed.as_bytes()).await.unwrap();
                owed.clear();
            }
        }
        (commands, contents)
    }

    fn email(recipient: &str, message: &str) -> OutboxMessage {
        let now = jiff::Timestamp::UNIX_EPOCH;
        OutboxMessage {
            id: uuid::Uuid::new_v4(),
            booking_id: None,
            kind: "owner_new_request".into(),
            recipient: recipient.into(),
            subject: "A request".into(),
            message_id: "<1@guidance.test>".into(),
            message: message.as_bytes().to_vec(),
            status: guidance_store::EmailStatus::Queued,
            attempts: 1,
            next_attempt_at: now,
            last_error: None,
            sent_at: None,
            created_at: now,
            send_before: None,
            withdrawn: None,
        }
    }

    async fn send_to_stub(
        emails: &[OutboxMessage],
        refused: Option<usize>,
    ) -> (Vec<Result<(), String>>, Vec<String>, Vec<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(server_of_groups(listener, emails.len(), refused));
        let url = SmtpUrl::parse(&format!("smtp://127.0.0.1:{port}?tls=none")).unwrap();
        let mailer =
            SmtpMailer::new(&url, None, "guidance@example.org", "guidance.test", 1).unwrap();
        let msgs: Vec<&OutboxMessage> = emails.iter().collect();
        let mut done = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), mailer.send_all(&msgs, &mut done))
            .await
            .expect("the server answers each group once it is whole");
        drop(mailer);
        let (commands, contents) = server.await.unwrap();
        (done, commands, contents)
    }

    #[tokio::test]
    async fn emails_go_to_a_pipelining_server_in_one_round_trip_each_plus_one() {
        let emails = [
            email(
                "ada@example.net",
                "Subject: x\r\n\r\n.a line with a dot\r\n",
            ),
            email("bob@example.net", "Subject: y\r\n\r\ntwo"),
            email("eve@example.net", "Subject: z\r\n\r\nthree"),
        ];
        let (done, commands, contents) = send_to_stub(&emails, None).await;
        assert_eq!(done, [Ok(()), Ok(()), Ok(())]);
        let expected: Vec<String> = ["ada", "bob", "eve"]
            .iter()
            .flat_map(|who| {
                [
                    "MAIL FROM:<guidance@example.org>".to_owned(),
                    format!("RCPT TO:<{who}@example.net>"),
                    "DATA".to_owned(),
                ]
            })
            .collect();
        assert_eq!(commands, expected);
        assert_eq!(
            contents,
            [
                "Subject: x\r\n\r\n..a line with a dot\r\n\r\n.\r\n",
                "Subject: y\r\n\r\ntwo\r\n.\r\n",
                "Subject: z\r\n\r\nthree\r\n.\r\n",
            ]
        );
    }

    #[tokio::test]
    async fn a_refused_recipient_fails_its_email_and_leaves_the_later_ones_unsent() {
        let emails = [
            email("ada@example.net", "Subject: x\r\n\r\none"),
            email("nobody@example.net", "Subject: y\r\n\r\ntwo"),
            email("eve@example.net", "Subject: z\r\n\r\nthree"),
        ];
        let (done, commands, contents) = send_to_stub(&emails, Some(1)).await;
        assert_eq!(done.len(), 2, "the third was not sent: {done:?}");
        assert_eq!(done[0], Ok(()));
        let refusal = done[1].as_ref().expect_err("the second is refused");
        assert!(refusal.contains("no such user"), "{refusal}");
        assert_eq!(contents, ["Subject: x\r\n\r\none\r\n.\r\n"]);
        assert_eq!(commands.len(), 6, "nothing of the third: {commands:?}");
    }
}
