//! The booking runs' HTTP client: HTTP/1.1 requests written whole into kept-alive connections,
//! and the answers read as far as their status and `Content-Length` body.
//!
//! The booking runs compare guidance with pgbench on the same two cores, so whatever the bench's
//! own client spends is taken from the server. A general client (reqwest: a pool, header maps,
//! a body stream) cost about 0.11 ms of CPU a booking, this one about 0.07 (`BENCHMARKS.md`,
//! the seventh session's notes): it writes one buffer and reads one or two, as pgbench's
//! client does per statement. It speaks only what guidance answers a booking with: a body of known
//! length, on a connection that stays open unless the answer says `Connection: close`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one request may take, answer included, as the other runs' client allows.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The largest head of an answer read (guidance's are a few hundred bytes).
const MAX_HEAD: usize = 16 * 1024;

/// Connections to one server, each used by one request at a time and kept for the next.
#[derive(Clone)]
pub struct Client {
    port: u16,
    idle: Arc<Mutex<Vec<TcpStream>>>,
}

impl Client {
    /// A client of the server at 127.0.0.1:`port`, with no connection open yet.
    pub fn new(port: u16) -> Self {
        Self {
            port,
            idle: Arc::default(),
        }
    }

    /// `POST path` with the JSON `body`; answers the status code once the whole answer is read.
    pub async fn post_json(&self, path: &str, body: &str) -> Result<u16, String> {
        let request = format!(
            "POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n\
             content-length: {len}\r\n\r\n{body}",
            port = self.port,
            len = body.len(),
        );
        let idle = self.idle.lock().expect("the idle connections").pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = TcpStream::connect(("127.0.0.1", self.port))
                    .await
                    .map_err(|e| format!("connect: {e}"))?;
                conn.set_nodelay(true).map_err(|e| e.to_string())?;
                conn
            }
        };
        let (status, keep) = tokio::time::timeout(TIMEOUT, exchange(&mut conn, &request))
            .await
            .map_err(|_| format!("no answer within {} s", TIMEOUT.as_secs()))??;
        if keep {
            self.idle.lock().expect("the idle connections").push(conn);
        }
        Ok(status)
    }
}

/// Writes `request` and reads its answer: the status, and whether the connection may be used
/// again.
async fn exchange(conn: &mut TcpStream, request: &str) -> Result<(u16, bool), String> {
    conn.write_all(request.as_bytes())
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            break end + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err("an answer's head over 16 KiB".into());
        }
        read_more(conn, &mut buf).await?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| "an answer's head not UTF-8")?;
    let answer = Head::parse(head)?;
    while buf.len() < head_end + answer.content_length {
        read_more(conn, &mut buf).await?;
    }
    if buf.len() > head_end + answer.content_length {
        return Err("more bytes than the answer's Content-Length".into());
    }
    Ok((answer.status, !answer.close))
}

/// Appends what the connection has to `buf`; an error if it closed.
async fn read_more(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = [0u8; 4096];
    let n = conn
        .read(&mut chunk)
        .await
        .map_err(|e| format!("receive: {e}"))?;
    if n == 0 {
        return Err("the server closed the connection before its answer ended".into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// Where `needle` first starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What the client needs of an answer's head.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    status: u16,
    content_length: usize,
    close: bool,
}

impl Head {
    /// Reads the status line and the headers that say where the answer ends.
    fn parse(head: &str) -> Result<Head, String> {
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| format!("not an HTTP/1.1 status line: {status_line:?}"))?;
        let mut content_length = None;
        let mut close = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = Some(value.parse().map_err(|_| "a bad Content-Length")?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(format!(
                    "an answer in Transfer-Encoding {value}, not expected"
                ));
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        Ok(Head {
            status,
            content_length: content_length.ok_or("an answer without Content-Length")?,
            close,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_gives_the_status_the_body_length_and_whether_to_keep_the_connection() {
        let head = "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n\
                    Content-Length: 42\r\n\r\n";
        let expected = Head {
            status: 201,
            content_length: 42,
            close: false,
        };
        assert_eq!(Head::parse(head), Ok(expected));
        let closing = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\
                       connection: close\r\n\r\n";
        assert!(Head::parse(closing).is_ok_and(|h| h.close && h.status == 503));
        assert!(Head::parse("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").is_err());
        assert!(Head::parse("HTTP/1.1 200 OK\r\n\r\n").is_err());
        assert!(Head::parse("SMTP 220 hello\r\n\r\n").is_err());
    }

    #[tokio::test]
    async fn a_booking_server_answers_over_one_kept_connection() {
        let app = axum::Router::new().route(
            "/api/bookings",
            axum::routing::post(|body: String| async move {
                (
                    axum::http::StatusCode::CREATED,
                    format!("{{\"got\":{}}}", body.len()),
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = Client::new(port);
        for _ in 0..3 {
            assert_eq!(
                client.post_json("/api/bookings", "{\"a\":1}").await,
                Ok(201)
            );
        }
        assert_eq!(client.idle.lock().unwrap().len(), 1);
        assert_eq!(client.post_json("/nowhere", "{}").await, Ok(404));
    }
}
