//! Reading back a message this crate wrote: its plain-text part, for the owner to read what an
//! email said. Only the shapes [`crate::mime`] writes are understood (a `text/plain` part in
//! quoted-printable); anything else reads as `None`.

/// The decoded `text/plain` part of `message`, if it has one in the shape this crate writes.
pub fn plain_text(message: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(message).ok()?;
    let start = text.find("Content-Type: text/plain")?;
    // The line before the part's headers is its boundary delimiter (`--<boundary>`), which
    // also ends it.
    let before = text[..start].trim_end_matches("\r\n");
    let delimiter = &before[before.rfind("\r\n").map_or(0, |i| i + 2)..];
    if !delimiter.starts_with("--") {
        return None;
    }
    let part = &text[start..];
    let (headers, body) = part.split_once("\r\n\r\n")?;
    if !headers
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: quoted-printable")
    {
        return None;
    }
    let body = body.split(&format!("\r\n{delimiter}")).next()?;
    let bytes = decode_quoted_printable(body.as_bytes())?;
    String::from_utf8(bytes)
        .ok()
        .map(|s| s.replace("\r\n", "\n"))
}

/// RFC 2045 quoted-printable: `=` and a line break is a soft break, `=XX` a byte.
fn decode_quoted_printable(encoded: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        match encoded[i] {
            b'=' if encoded[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' if encoded[i + 1..].starts_with(b"\n") => i += 2,
            b'=' => {
                let hex = encoded.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_breaks_and_escapes_decode() {
        assert_eq!(
            decode_quoted_printable(b"caf=C3=A9 a=3Db lo=\r\nng").unwrap(),
            "café a=b long".as_bytes()
        );
        assert_eq!(decode_quoted_printable(b"bad =Z1"), None);
    }
}
