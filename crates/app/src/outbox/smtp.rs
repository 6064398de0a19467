//! Delivery through an SMTP server (`GUIDANCE_SMTP_URL`), with `lettre` over rustls.
//!
//! The URL says how to reach the server and how to protect the connection:
//! - `smtp://user:pass@host:587` — STARTTLS, required (no fallback to plain text);
//! - `smtps://user:pass@host:465` — TLS from the first byte;
//! - `smtp://host:25?tls=none` — plain text, for a relay on the same machine (and the tests).
//!
//! Sending itself, over several connections at once, is [`crate::outbox::relay`]'s.
//!
//! The server's certificate is always verified, against the public (webpki) roots plus, for a
//! relay with a certificate from a private authority, the ones in `GUIDANCE_SMTP_CA_FILE`.
//! There is deliberately no switch to accept any certificate.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

/// How long one SMTP command (connect, greeting, each reply) may take before the attempt fails
/// and is retried later.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection to the SMTP server is protected.
pub type SmtpSecurity = crate::server_url::Security;

/// A checked `GUIDANCE_SMTP_URL`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Connection protection.
    pub security: SmtpSecurity,
    /// User name and password, when the server wants them.
    pub credentials: Option<(String, String)>,
}

/// The password never appears in logs or error messages.
impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish()
    }
}

impl SmtpUrl {
    /// Parses a URL of one of the three forms in the module comment; anything else (another
    /// scheme, an unknown `tls=` value, a user without a password) is refused with a reason.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (url, host, security) = crate::server_url::parse(raw, "smtp", "smtps")?;
        if url.path() != "" && url.path() != "/" {
            return Err("the URL must not have a path".into());
        }
        let decode = crate::server_url::decode;
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(pass)) if !user.is_empty() => Some((decode(user)?, decode(pass)?)),
            _ => return Err("give both a user and a password, or neither".into()),
        };
        let port = url.port().unwrap_or(match security {
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::ImplicitTls => 465,
            SmtpSecurity::None => 25,
        });
        Ok(Self {
            host,
            port,
            security,
            credentials,
        })
    }
}

/// Certificate authorities trusted for the SMTP server's certificate in addition to the public
/// ones (`GUIDANCE_SMTP_CA_FILE`): a PEM file with one or more `CERTIFICATE` blocks.
#[derive(Clone)]
pub struct SmtpCa {
    path: PathBuf,
    pem: Vec<u8>,
}

impl fmt::Debug for SmtpCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpCa").field("path", &self.path).finish()
    }
}

impl SmtpCa {
    /// Reads and checks the file now, so that a wrong file stops the start with its reason
    /// rather than failing every email later.
    pub fn load(path: &Path) -> Result<Self, String> {
        let pem =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let ca = Self {
            path: path.to_owned(),
            pem,
        };
        // A file without any certificate would silently trust nothing extra: refuse it.
        if !String::from_utf8_lossy(&ca.pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            ));
        }
        // Building the TLS settings parses every certificate as a trust anchor.
        tls_parameters("localhost", Some(&ca))?;
        Ok(ca)
    }

    /// The file the authorities came from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The name the service gives in `EHLO`: the host of its public URL.
pub fn hello_name(public_url: &str) -> String {
    url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Certificate checks for `host`: the public roots, plus `ca` when given; never relaxed.
pub(crate) fn tls_parameters(host: &str, ca: Option<&SmtpCa>) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(ca) = ca {
        let certs = Certificate::from_pem(&ca.pem)
            .map_err(|e| format!("{}: not PEM certificates: {e}", ca.path.display()))?;
        builder = builder.add_root_certificate(certs);
    }
    builder.build_rustls().map_err(|e| match ca {
        Some(ca) => format!("TLS settings for {host} with {}: {e}", ca.path.display()),
        None => format!("TLS settings for {host}: {e}"),
    })
}

/// The name the service gives in `EHLO`: its public host name, or an address literal.
pub(crate) fn client_id(host: &str) -> ClientId {
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(IpAddr::V4(a)) => ClientId::Ipv4(a),
        Ok(IpAddr::V6(a)) => ClientId::Ipv6(a),
        Err(_) if !host.is_empty() => ClientId::Domain(host.to_owned()),
        Err(_) => ClientId::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> SmtpUrl {
        SmtpUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn the_three_forms() {
        let u = parse("smtp://me%40example.org:p%3Ass@mail.example.org:587");
        assert_eq!(u.security, SmtpSecurity::StartTls);
        assert_eq!((u.host.as_str(), u.port), ("mail.example.org", 587));
        assert_eq!(
            u.credentials,
            Some(("me@example.org".to_owned(), "p:ss".to_owned()))
        );
        let u = parse("smtps://u:p@mail.example.org");
        assert_eq!((u.security, u.port), (SmtpSecurity::ImplicitTls, 465));
        let u = parse("smtp://127.0.0.1:2525?tls=none");
        assert_eq!((u.security, u.port), (SmtpSecurity::None, 2525));
        assert_eq!(u.credentials, None);
        assert_eq!(parse("smtp://mail.example.org").port, 587);
        assert_eq!(parse("smtp://[::1]:25?tls=none").host, "::1");
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        for bad in [
            "http://mail.example.org",
            "smtp://",
            "smtp://h?tls=opportunistic",
            "smtps://h?tls=none",
            "smtp://h?tls=none&tls=none",
            "smtp://h?port=1",
            "smtp://user@h",
            "smtp://h/ehlo",
            "not a url",
        ] {
            assert!(SmtpUrl::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", parse("smtp://u:secret-pw@h:587"));
        assert!(!shown.contains("secret-pw"), "{shown}");
    }
}
