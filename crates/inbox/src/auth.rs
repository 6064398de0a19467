//! Whether the owner really sent a reply. The UID alone proves nothing: a requester sees it in
//! their own invitation once accepted, and anyone can write a REPLY. A reply counts as the
//! owner's only when its `From:` is the owner's address and either
//! - a DKIM signature that Guidance verified passes for a domain aligned with that address
//!   (the same domain, or a parent of it: relaxed alignment as in DMARC), or
//! - the mailbox's own server says so: the top-most `Authentication-Results` header (the one the
//!   receiving server added last; anything below it may come from the sender) carries the
//!   authserv-id the operator named (`GUIDANCE_IMAP_TRUSTED_AUTHSERV`) and a `dkim=pass` for
//!   an aligned domain.
//!
//! DKIM signs the `From:` header, so an aligned passing signature means the owner's provider
//! sent this message from the owner's address; the `From:` check stops someone with another
//! account at the same provider.

use crate::part::ReadEmail;
use crate::{address_domain, normalize_address};

/// The authserv-id whose `Authentication-Results` are believed (RFC 8601 §2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedAuthserv(String);

impl TrustedAuthserv {
    /// Parses the configured id: one token, no spaces or `;`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let id = raw.trim();
        if id.is_empty()
            || id.len() > 255
            || id
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ';' | '(' | ')' | '"'))
        {
            return Err(format!(
                "{raw:?} is not an authserv-id (a host name such as mx.example.org)"
            ));
        }
        Ok(Self(id.to_ascii_lowercase()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a reply was shown to be the owner's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authenticated {
    /// A DKIM signature verified here, for this domain.
    Dkim(String),
    /// The mailbox server's `Authentication-Results`, for this domain.
    AuthResults(String),
}

/// Why a reply was not shown to be the owner's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// `From:` is missing or another address than the owner's.
    #[error("the email is not from the owner's address")]
    NotFromOwner,
    /// No passing signature for the owner's domain, and no trusted server said so.
    #[error("no DKIM signature of the owner's domain passes, and no trusted server vouches for it")]
    NotAuthenticated,
}

/// Decides whether `email` is the owner's. `dkim_pass` lists the `d=` domains of the DKIM
/// signatures that passed verification.
pub fn authenticate(
    email: &ReadEmail,
    dkim_pass: &[String],
    trusted: Option<&TrustedAuthserv>,
    owner_address: &str,
) -> Result<Authenticated, AuthFailure> {
    let owner = normalize_address(owner_address);
    if email.from.as_deref() != Some(owner.as_str()) {
        return Err(AuthFailure::NotFromOwner);
    }
    let owner_domain = address_domain(&owner).ok_or(AuthFailure::NotFromOwner)?;
    if let Some(d) = dkim_pass.iter().find(|d| aligned(d, owner_domain)) {
        return Ok(Authenticated::Dkim(d.to_ascii_lowercase()));
    }
    if let (Some(trusted), Some(top)) = (trusted, email.auth_results.first()) {
        let results = AuthResults::parse(top);
        if results.authserv_id == trusted.as_str()
            && let Some(d) = results
                .dkim_pass_domains()
                .find(|d| aligned(d, owner_domain))
        {
            return Ok(Authenticated::AuthResults(d));
        }
    }
    Err(AuthFailure::NotAuthenticated)
}

/// Whether a signing domain `d` is aligned with `owner_domain`: the same, or a parent domain
/// of it (`d=example.org` for `owner@mail.example.org`); never a bare top-level domain.
fn aligned(d: &str, owner_domain: &str) -> bool {
    let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
    let owner = owner_domain.trim_end_matches('.').to_ascii_lowercase();
    d.contains('.') && (owner == d || owner.ends_with(&format!(".{d}")))
}

/// One result: method, result and properties (`header.d` → value).
type ResInfo = (String, String, Vec<(String, String)>);

/// One `Authentication-Results` header, as far as it is needed here (RFC 8601 §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
struct AuthResults {
    /// Who wrote it, lower-cased.
    authserv_id: String,
    /// Each result, lower-cased.
    results: Vec<ResInfo>,
}

impl AuthResults {
    fn parse(value: &str) -> Self {
        let clean = strip_comments(value);
        let mut parts = clean.split(';');
        let authserv_id = parts
            .next()
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let results = parts
            .filter_map(|resinfo| {
                let mut tokens = resinfo.split_whitespace();
                let (method, result) = tokens.next()?.split_once('=')?;
                let props = tokens
                    .filter_map(|t| t.split_once('='))
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_owned()))
                    .collect();
                Some((
                    method.to_ascii_lowercase(),
                    result.to_ascii_lowercase(),
                    props,
                ))
            })
            .collect();
        Self {
            authserv_id,
            results,
        }
    }

    /// The domains of the passing DKIM results (`header.d`, or the domain of `header.i`).
    fn dkim_pass_domains(&self) -> impl Iterator<Item = String> + '_ {
        self.results
            .iter()
            .filter(|(m, r, _)| m == "dkim" && r == "pass")
            .filter_map(|(_, _, props)| {
                let d = props
                    .iter()
                    .find(|(k, _)| k == "header.d")
                    .map(|(_, v)| v.clone());
                d.or_else(|| {
                    props
                        .iter()
                        .find(|(k, _)| k == "header.i")
                        .and_then(|(_, v)| v.rsplit_once('@').map(|(_, d)| d.to_owned()))
                })
            })
            .map(|d| d.to_ascii_lowercase())
    }
}

/// The header value without `( … )` comments (nested ones too) and with quoted strings kept.
fn strip_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                out.push(' ');
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(from: &str, auth_results: &[&str]) -> ReadEmail {
        ReadEmail {
            message_id: Some("m@x".into()),
            from: Some(normalize_address(from)),
            calendars: vec![],
            auth_results: auth_results.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn trusted() -> TrustedAuthserv {
        TrustedAuthserv::parse("mx.service.example").unwrap()
    }

    #[test]
    fn an_aligned_passing_signature_from_the_owner_counts() {
        let e = email("Owner@Mail.Example.org", &[]);
        let pass = |d: &str| authenticate(&e, &[d.to_owned()], None, "owner@mail.example.org");
        assert_eq!(
            pass("example.org"),
            Ok(Authenticated::Dkim("example.org".into()))
        );
        assert_eq!(pass("mail.example.org").map(|_| ()), Ok(()));
        assert_eq!(pass("other.example"), Err(AuthFailure::NotAuthenticated));
        assert_eq!(pass("org"), Err(AuthFailure::NotAuthenticated));
        assert_eq!(pass("xample.org"), Err(AuthFailure::NotAuthenticated));
    }

    #[test]
    fn another_sender_at_the_same_provider_does_not() {
        let e = email("mallory@gmail.com", &[]);
        assert_eq!(
            authenticate(&e, &["gmail.com".into()], None, "owner@gmail.com"),
            Err(AuthFailure::NotFromOwner)
        );
    }

    #[test]
    fn only_the_top_most_header_of_the_trusted_server_counts() {
        let good = "mx.service.example; dkim=pass (2048-bit key; unprotected) header.d=example.org \
                    header.i=@example.org header.b=\"abc\"; spf=pass smtp.mailfrom=example.org";
        let e = email("owner@example.org", &[good]);
        assert_eq!(
            authenticate(&e, &[], Some(&trusted()), "owner@example.org"),
            Ok(Authenticated::AuthResults("example.org".into()))
        );
        // Not configured: not believed.
        assert_eq!(
            authenticate(&e, &[], None, "owner@example.org"),
            Err(AuthFailure::NotAuthenticated)
        );
        // The sender's own header below the server's failing one is not believed.
        let e = email(
            "owner@example.org",
            &["mx.service.example; dkim=fail header.d=example.org", good],
        );
        assert_eq!(
            authenticate(&e, &[], Some(&trusted()), "owner@example.org"),
            Err(AuthFailure::NotAuthenticated)
        );
        // Another server's id, or a pass for another domain.
        for other in [
            "mx.elsewhere.example; dkim=pass header.d=example.org",
            "mx.service.example; dkim=pass header.d=attacker.example",
            "mx.service.example; dkim=pass (header.d=example.org)",
        ] {
            let e = email("owner@example.org", &[other]);
            assert_eq!(
                authenticate(&e, &[], Some(&trusted()), "owner@example.org"),
                Err(AuthFailure::NotAuthenticated),
                "{other}"
            );
        }
        let by_i = email(
            "owner@example.org",
            &["MX.Service.Example 1; DKIM=Pass header.i=owner@example.org"],
        );
        assert!(authenticate(&by_i, &[], Some(&trusted()), "owner@example.org").is_ok());
    }

    #[test]
    fn authserv_ids_are_single_tokens() {
        assert!(TrustedAuthserv::parse("mx.example.org").is_ok());
        for bad in ["", "mx example", "mx;x", "a(b)"] {
            assert!(TrustedAuthserv::parse(bad).is_err(), "{bad}");
        }
    }
}
