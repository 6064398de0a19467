//! The one guard of every request this service makes to an address the owner typed (a
//! calendar, a webhook endpoint): https only and public addresses only, unless the operator
//! allows private ones for a receiver on the same network (then plain http too).
//!
//! Host names are resolved by [`PublicOnly`], which hands the connector only the addresses it
//! checked, so a name cannot resolve to a public address for the check and a private one for
//! the connection.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use url::Url;

/// The HTTP client for requests to addresses the owner typed: no redirects (each would be a
/// new address to check), `timeout` for the whole request, `connect` to connect, names
/// resolved by [`PublicOnly`], and a user agent naming `purpose`.
pub fn client(
    allow_private: bool,
    timeout: Duration,
    connect: Duration,
    user_agent: &'static str,
) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(connect)
        .user_agent(user_agent)
        .dns_resolver(Arc::new(PublicOnly::new(allow_private)))
        .build()
        .expect("a client with these settings builds")
}

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not https (or http where private addresses are allowed).
    NotHttps,
    /// A literal address on a private, loopback or link-local network.
    PrivateAddress,
}

/// Whether `url` may be requested at all: its scheme, and its host when it is a literal
/// address (a name is checked when it is resolved, by [`PublicOnly`]).
pub fn check_url(url: &Url, allow_private: bool) -> Result<(), Refused> {
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(Refused::NotHttps),
    }
    let literal = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => None,
        None => return Err(Refused::NotHttps),
    };
    if literal.is_some_and(|ip| !allow_private && !is_public(ip)) {
        return Err(Refused::PrivateAddress);
    }
    Ok(())
}

/// What [`PublicOnly`]'s refusal says, found again in a client's error chain.
const PRIVATE_REFUSAL: &str = "resolves only to private addresses";

/// Whether a client's error text (with its causes) is [`PublicOnly`]'s refusal.
pub fn is_private_refusal(error_text: &str) -> bool {
    error_text.contains(PRIVATE_REFUSAL)
}

/// A resolver that hands out public addresses only (all, when private ones are allowed).
pub struct PublicOnly {
    allow_private: bool,
}

impl PublicOnly {
    /// A resolver; `allow_private` lets private addresses through.
    pub fn new(allow_private: bool) -> Self {
        Self { allow_private }
    }
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if found.is_empty() {
                let e = std::io::Error::other(format!("{host} {PRIVATE_REFUSAL}"));
                return Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether `ip` is on the public internet: not loopback, private, link-local, shared (CGNAT),
/// unique-local, unspecified, multicast or broadcast, also when written as IPv4 in IPv6.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn only_https_and_public_literals_pass_unless_private_is_allowed() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            check_url(&url("http://hooks.example/in"), false),
            Err(Refused::NotHttps)
        );
        assert_eq!(
            check_url(&url("https://10.0.0.5/in"), false),
            Err(Refused::PrivateAddress)
        );
        assert!(check_url(&url("https://hooks.example/in"), false).is_ok());
        assert!(check_url(&url("http://10.0.0.5:8080/in"), true).is_ok());
        assert_eq!(
            check_url(&url("ftp://10.0.0.5/in"), true),
            Err(Refused::NotHttps)
        );
    }
}
