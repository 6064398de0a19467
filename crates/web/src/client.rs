//! The client of a request, as handlers and the limits see it: the socket's peer, or behind a
//! trusted reverse proxy the client it names. The rule is [`guidance_app::forwarded`]'s; this
//! module only hands it the peer and the header values.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, StatusCode};
use guidance_app::config::Settings;
use guidance_app::forwarded::{ClientKey, Forwarding};

use crate::state::WebState;

/// The client of a request (an extractor): its address and whether it came over https.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client(pub guidance_app::forwarded::Client);

impl Client {
    /// The client of a request from `peer` with `headers`.
    pub fn of(settings: &Settings, peer: IpAddr, headers: &HeaderMap) -> Client {
        let proxies = &settings.trusted_proxies;
        if !proxies.trusts(peer) {
            // The common case costs no look at the headers.
            return Client(guidance_app::forwarded::Client {
                ip: peer.to_canonical(),
                https: false,
            });
        }
        let forwarded = values(headers, &axum::http::header::FORWARDED);
        let xff = values(headers, &X_FORWARDED_FOR);
        let xfp = values(headers, &X_FORWARDED_PROTO);
        Client(proxies.client(
            peer,
            &Forwarding {
                forwarded: &forwarded,
                x_forwarded_for: &xff,
                x_forwarded_proto: &xfp,
            },
        ))
    }

    /// The client's address.
    pub fn ip(&self) -> IpAddr {
        self.0.ip
    }

    /// What the per-client limits count this client by.
    pub fn key(&self) -> ClientKey {
        self.0.key()
    }

    /// Whether the client reached the site over https.
    pub fn https(&self) -> bool {
        self.0.https
    }
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// A header's values as text, in order. A value that is not text is left out: the proxies append
/// their own entry as a line of its own or to the client's line, so what goes missing is what
/// the client wrote, or the line as a whole, and then the proxy itself counts as the client.
fn values<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// The peer address the server put on the request.
pub fn peer_of(parts: &axum::http::Extensions) -> Option<IpAddr> {
    parts
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

impl FromRequestParts<WebState> for Client {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let peer = peer_of(&parts.extensions).ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server gave no peer address",
        ))?;
        Ok(Client::of(&state.app.settings, peer, &parts.headers))
    }
}
