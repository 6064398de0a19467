//! What the mail servers' URLs (`GUIDANCE_SMTP_URL`, `GUIDANCE_IMAP_URL`) share: a host, a
//! scheme that says plain-then-STARTTLS or TLS from the start, at most a `tls=` parameter, and
//! a user and password written percent-encoded. Each protocol adds its own ports and rules.

/// How the connection to a mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS; refusing to go on without it.
    StartTls,
    /// TLS from the start (`smtps://`, `imaps://`).
    ImplicitTls,
    /// No encryption at all (`?tls=none`): only for a server on the same machine.
    None,
}

/// `raw` read as a URL of scheme `plain` (STARTTLS, or `tls=none`) or `tls` (TLS from the
/// start): the URL, its host (without IPv6 brackets) and how to protect the connection.
pub(crate) fn parse(
    raw: &str,
    plain: &str,
    tls: &str,
) -> Result<(url::Url, String, Security), String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| format!("not a URL: {e}"))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("the URL has no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let mut given = None;
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "tls" if given.is_none() => given = Some(value.into_owned()),
            "tls" => return Err("tls= is given twice".into()),
            other => return Err(format!("unknown parameter {other:?} (only tls=none)")),
        }
    }
    let scheme = url.scheme();
    let security = match given.as_deref() {
        None | Some("required" | "starttls") if scheme == plain => Security::StartTls,
        Some("none") if scheme == plain => Security::None,
        None if scheme == tls => Security::ImplicitTls,
        Some(other) if scheme == plain || scheme == tls => {
            return Err(format!(
                "tls={other:?} is not supported with {scheme}:// ({plain}:// takes tls=none; {tls}:// takes nothing)"
            ));
        }
        _ => {
            return Err(format!(
                "the scheme must be {plain} or {tls}, not {scheme:?}"
            ));
        }
    };
    Ok((url, host, security))
}

/// A user name or password from a URL, its `%xx` sequences decoded.
pub(crate) fn decode(s: &str) -> Result<String, String> {
    percent_decode(s).ok_or_else(|| "the user or password is not valid UTF-8".to_owned())
}

/// `%xx` sequences decoded; `None` when the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push(u8::try_from(hex(h)? * 16 + hex(l)?).ok()?);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}
