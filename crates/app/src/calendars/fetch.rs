//! Fetching a calendar over HTTP: https only and public addresses only (unless the operator
//! allows private ones, for a Nextcloud on the same network), at most [`MAX_REDIRECTS`]
//! redirects each checked again, [`MAX_BYTES`] and [`TIMEOUT`] at most, and the validators of
//! the last document sent along so that an unchanged calendar costs a `304`.
//!
//! Host names are resolved by [`outbound::PublicOnly`], which hands the connector only the
//! addresses it checked, so a name cannot resolve to a public address for the check and a
//! private one for the connection.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::outbound::{self, Refused};

/// Largest calendar document read.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Longest a fetch may take, redirects included.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 3;

/// Why a calendar could not be fetched; the text is shown to the owner.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    /// Not an https address (or http where private addresses are allowed).
    #[error("only https addresses can be read")]
    NotHttps,
    /// The address is on a private, loopback or link-local network.
    #[error("the address is on a private network")]
    PrivateAddress,
    /// More redirects than [`MAX_REDIRECTS`].
    #[error("too many redirects")]
    TooManyRedirects,
    /// Larger than [`MAX_BYTES`].
    #[error("the calendar is larger than 5 MB")]
    TooLarge,
    /// The server answered with an error status.
    #[error("the server answered HTTP {0}")]
    Status(u16),
    /// No answer in time, or the connection failed.
    #[error("the server could not be reached: {0}")]
    Network(String),
}

/// What a fetch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// `304 Not Modified`: the document read last time still holds.
    Unchanged,
    /// A document, with its validators.
    Document {
        /// The body as text.
        body: String,
        /// `ETag`.
        etag: Option<String>,
        /// `Last-Modified`.
        last_modified: Option<String>,
    },
}

/// One request to make.
pub struct Request<'a> {
    /// `GET`, or `REPORT` for CalDAV.
    pub method: Method,
    /// Where.
    pub url: &'a Url,
    /// Extra headers (validators, `Depth`, content type).
    pub headers: HeaderMap,
    /// Basic credentials.
    pub basic: Option<(&'a str, &'a str)>,
    /// The body, for `REPORT`.
    pub body: Option<String>,
}

/// An HTTP client that keeps the rules above; cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    allow_private: bool,
}

impl Fetcher {
    /// A client; `allow_private` lets it read private addresses and plain http.
    pub fn new(allow_private: bool) -> Self {
        let client = outbound::client(
            allow_private,
            TIMEOUT,
            Duration::from_secs(10),
            concat!("Guidance/", env!("CARGO_PKG_VERSION"), " (calendar)"),
        );
        Self {
            client,
            allow_private,
        }
    }

    /// Whether `url` may be fetched at all (scheme, literal address).
    pub fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        outbound::check_url(url, self.allow_private).map_err(|refused| match refused {
            Refused::NotHttps => FetchError::NotHttps,
            Refused::PrivateAddress => FetchError::PrivateAddress,
        })
    }

    /// Sends `req`, following redirects; a `304` is [`Fetched::Unchanged`].
    pub async fn send(&self, req: Request<'_>) -> Result<Fetched, FetchError> {
        let mut url = req.url.clone();
        for _ in 0..=MAX_REDIRECTS {
            self.check_url(&url)?;
            let mut builder = self
                .client
                .request(req.method.clone(), url.clone())
                .headers(req.headers.clone());
            if let Some((user, password)) = req.basic {
                builder = builder.basic_auth(user, Some(password));
            }
            if let Some(body) = &req.body {
                builder = builder.body(body.clone());
            }
            let mut response = builder.send().await.map_err(network)?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or(FetchError::Status(status.as_u16()))?;
                url = url
                    .join(location)
                    .map_err(|_| FetchError::Status(status.as_u16()))?;
                continue;
            }
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Fetched::Unchanged);
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let header = |name: reqwest::header::HeaderName| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let etag = header(reqwest::header::ETAG);
            let last_modified = header(reqwest::header::LAST_MODIFIED);
            if response
                .content_length()
                .is_some_and(|n| n > MAX_BYTES as u64)
            {
                return Err(FetchError::TooLarge);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(network)? {
                if body.len() + chunk.len() > MAX_BYTES {
                    return Err(FetchError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Fetched::Document {
                body: String::from_utf8_lossy(&body).into_owned(),
                etag,
                last_modified,
            });
        }
        Err(FetchError::TooManyRedirects)
    }
}

/// Headers asking for the document only if it changed.
pub fn validators(etag: Option<&str>, last_modified: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(v) = etag.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(reqwest::header::IF_NONE_MATCH, v);
    }
    if let Some(v) = last_modified.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(reqwest::header::IF_MODIFIED_SINCE, v);
    }
    headers
}

/// An error with its causes, which say what actually failed (refused address, TLS, timeout).
fn network(e: reqwest::Error) -> FetchError {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if outbound::is_private_refusal(&text) {
        return FetchError::PrivateAddress;
    }
    FetchError::Network(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_public_literals_pass_unless_private_is_allowed() {
        let strict = Fetcher::new(false);
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            strict.check_url(&url("http://cal.example/a.ics")),
            Err(FetchError::NotHttps)
        );
        assert_eq!(
            strict.check_url(&url("webcal://cal.example/a.ics")),
            Err(FetchError::NotHttps)
        );
        assert_eq!(
            strict.check_url(&url("https://127.0.0.1/a.ics")),
            Err(FetchError::PrivateAddress)
        );
        assert_eq!(
            strict.check_url(&url("https://[::1]/a.ics")),
            Err(FetchError::PrivateAddress)
        );
        assert!(strict.check_url(&url("https://cal.example/a.ics")).is_ok());
        let lan = Fetcher::new(true);
        assert!(lan.check_url(&url("http://127.0.0.1:8080/a.ics")).is_ok());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused() {
        let strict = Fetcher::new(false);
        let url = Url::parse("https://localhost:9/cal.ics").unwrap();
        let got = strict
            .send(Request {
                method: Method::GET,
                url: &url,
                headers: HeaderMap::new(),
                basic: None,
                body: None,
            })
            .await;
        assert_eq!(got, Err(FetchError::PrivateAddress));
    }
}
