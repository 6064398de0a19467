//! Who the client of a request is, decided in one place. Behind a reverse proxy every
//! connection comes from the proxy; the proxy names the client in `X-Forwarded-For` (each hop
//! appending) or RFC 7239 `Forwarded: for=…;proto=…`. Anyone can write these headers, so they
//! are read only when the connection comes from a configured proxy ([`TrustedProxies`]), and
//! the client is the right-most address in them that is not itself a trusted proxy: everything
//! to its left was written by the client and proves nothing.
//!
//! Which headers: when a trusted proxy sends `X-Forwarded-For` or `X-Forwarded-Proto` (nginx,
//! Caddy and most load balancers do), those are read and `Forwarded` is ignored, so that a
//! client's own `Forwarded`, which such proxies pass on untouched, cannot name an address.
//! Otherwise `Forwarded` is read. Whether the client used https is what the proxy that spoke to
//! it says (`proto=`, or `X-Forwarded-Proto`); a connection that reaches the service directly
//! is plain http.
//!
//! Per-client limits count by [`ClientKey`]: an IPv4 address, or the /64 of an IPv6 one.
//!
//! Pure: the web layer hands in the peer address and the header values.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;

/// The reverse proxies whose forwarding headers are believed (`GUIDANCE_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses (`127.0.0.1`, `::1`, `[::1]`) and CIDR ranges
    /// (`10.0.0.0/8`, `fd00::/8`); an empty list trusts nobody. Says which entry is wrong.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net = if entry.contains('/') {
                entry.parse::<IpNet>().ok().map(|n| match n {
                    IpNet::V6(v6) => match v6.addr().to_ipv4_mapped() {
                        // A mapped range is the IPv4 range it maps, as peers are compared as IPv4.
                        Some(v4) if v6.prefix_len() >= 96 => {
                            IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).unwrap_or(n)
                        }
                        _ => n,
                    },
                    n => n,
                })
            } else {
                let bare = entry
                    .strip_prefix('[')
                    .and_then(|e| e.strip_suffix(']'))
                    .unwrap_or(entry);
                bare.parse::<IpAddr>()
                    .ok()
                    .map(|ip| IpNet::from(ip.to_canonical()))
            };
            match net {
                Some(n) => nets.push(n.trunc()),
                None => {
                    return Err(format!(
                        "{entry:?} is not an IP address or a CIDR range \
                         (for example 127.0.0.1, ::1, 10.0.0.0/8 or fd00::/8)"
                    ));
                }
            }
        }
        Ok(Self(nets))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request that came from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &Forwarding<'_>) -> Client {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return Client {
                ip: peer,
                https: false,
            };
        }
        let (hops, fallback_proto) = headers.hops();
        // From the nearest hop outwards: each trusted address vouches for the one to its left.
        let mut chosen: Option<&Hop> = None;
        for hop in hops.iter().rev() {
            match hop.addr {
                // A hop a trusted proxy could not name: nothing further left can be believed.
                None => break,
                Some(ip) => {
                    chosen = Some(hop);
                    if !self.trusts(ip) {
                        break;
                    }
                }
            }
        }
        let ip = chosen.and_then(|h| h.addr).unwrap_or(peer);
        let proto = chosen.and_then(|h| h.proto).or(fallback_proto);
        Client {
            ip,
            https: proto.is_some_and(|p| p.eq_ignore_ascii_case("https")),
        }
    }
}

/// What a request says about where it came from: each header's values in the order received.
#[derive(Debug, Clone, Copy, Default)]
pub struct Forwarding<'a> {
    /// `Forwarded` (RFC 7239).
    pub forwarded: &'a [&'a str],
    /// `X-Forwarded-For`.
    pub x_forwarded_for: &'a [&'a str],
    /// `X-Forwarded-Proto`.
    pub x_forwarded_proto: &'a [&'a str],
}

/// The client of a request, as decided by [`TrustedProxies::client`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// The client's address.
    pub ip: IpAddr,
    /// Whether the client reached the site over https (as a trusted proxy says).
    pub https: bool,
}

impl Client {
    /// What per-client limits count this client by.
    pub fn key(&self) -> ClientKey {
        ClientKey::of(self.ip)
    }
}

/// One hop named in the headers: its address (`None` when it is `unknown`, obfuscated or
/// unreadable) and the scheme it used, when said.
#[derive(Debug, Clone, Copy)]
struct Hop<'a> {
    addr: Option<IpAddr>,
    proto: Option<&'a str>,
}

impl<'a> Forwarding<'a> {
    /// The hops in the order written (client first), and the scheme to assume when the chosen
    /// hop has none of its own.
    fn hops(&self) -> (Vec<Hop<'a>>, Option<&'a str>) {
        if !self.x_forwarded_for.is_empty() || !self.x_forwarded_proto.is_empty() {
            let addrs: Vec<&str> = list(self.x_forwarded_for).collect();
            let protos: Vec<&str> = list(self.x_forwarded_proto).collect();
            // Per hop only when each hop said its scheme; otherwise the nearest proxy's word.
            let paired = addrs.len() == protos.len();
            let hops = addrs
                .iter()
                .enumerate()
                .map(|(i, a)| Hop {
                    addr: parse_node(a),
                    proto: if paired { Some(protos[i]) } else { None },
                })
                .collect();
            return (hops, protos.last().copied());
        }
        let hops: Vec<Hop<'a>> = self
            .forwarded
            .iter()
            .flat_map(|v| split_outside_quotes(v, ','))
            .filter(|e| !e.trim().is_empty())
            .map(forwarded_element)
            .collect();
        let fallback = hops.iter().rev().find_map(|h| h.proto);
        (hops, fallback)
    }
}

/// The non-empty entries of a comma-separated header, over all its values.
fn list<'a>(values: &'a [&'a str]) -> impl Iterator<Item = &'a str> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

/// One element of `Forwarded`: `for=…;proto=…;by=…` (names in any case, values tokens or
/// quoted strings).
fn forwarded_element(element: &str) -> Hop<'_> {
    let mut hop = Hop {
        addr: None,
        proto: None,
    };
    for pair in split_outside_quotes(element, ';') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        match name.trim().to_ascii_lowercase().as_str() {
            "for" => hop.addr = parse_node(value),
            "proto" => hop.proto = Some(value),
            _ => {}
        }
    }
    hop
}

/// Splits at `sep` where it is not inside a quoted string.
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// A quoted string's content (addresses hold no escapes worth keeping), else the token itself.
fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .map(|rest| rest.strip_suffix('"').unwrap_or(rest))
        .unwrap_or(v)
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:4711`. `unknown`, obfuscated names (`_hidden`) and anything
/// else are `None`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = node.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return inner
            .parse::<Ipv6Addr>()
            .ok()
            .map(|a| IpAddr::V6(a).to_canonical());
    }
    let (host, port) = node.rsplit_once(':')?;
    if !is_port(port) {
        return None;
    }
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

fn is_port(p: &str) -> bool {
    p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok()
}

/// What per-client limits (bookings per minute, the sign-in throttle) count by: an IPv4
/// address, or the /64 network of an IPv6 address, as one subscriber usually holds a whole /64
/// and would otherwise have 2^64 budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    /// The key of `ip`.
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let network = u128::from(v6) & !(u128::from(u64::MAX));
                ClientKey(IpAddr::V6(Ipv6Addr::from(network)))
            }
            v4 => ClientKey(v4),
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V6(net) => write!(f, "{net}/64"),
            IpAddr::V4(ip) => write!(f, "{ip}"),
        }
    }
}

#[cfg(test)]
mod tests;
