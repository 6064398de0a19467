//! Text that ends up in a header or a one-line label: made single-line and bounded here, then
//! encoded by `lettre` (RFC 2047 for anything that is not plain printable ASCII).

use guidance_core::text::is_forbidden_inline;
use lettre::Address;
use lettre::message::Mailbox;

/// Longest display name in a header, in characters (the intake allows 120).
const DISPLAY_NAME_MAX: usize = 120;

/// `s` on one line: control characters, line and paragraph separators and bidi overrides become
/// spaces, runs of white space collapse to one, and the ends are trimmed.
///
/// `lettre` would encode a CR or LF safely anyway; this keeps subjects and names readable and
/// stops a right-to-left override from making a name display as something else.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(|c: char| c.is_whitespace() || is_forbidden_inline(c)) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `s` for a header (a subject or a display name): on one line, and with every `=?` broken by
/// an invisible WORD JOINER.
///
/// lettre writes a word of plain ASCII as is, so a name typed as `=?utf-8?b?…?=` would reach the
/// reader as an RFC 2047 encoded word and display as whatever it encodes (line breaks included).
/// With the joiner the word is no longer ASCII, lettre encodes it, and the reader shows the text
/// as typed.
pub fn header_text(s: &str) -> String {
    one_line(s).replace("=?", "=\u{2060}?")
}

/// `s` cut to at most `max` characters, ending in `…` when it was cut.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A single-line display name of bounded length.
pub fn display_name(s: &str) -> String {
    shorten(&header_text(s), DISPLAY_NAME_MAX)
}

/// The mailbox for a header, `Name <address>`.
///
/// Addresses reach us parsed (intake) or configured, so lettre's own parser accepts them; if it
/// does not (it is stricter about some valid UTF-8 local parts), the address is stripped of
/// everything that could end or extend it in a header and used as is, because [`crate::render`]
/// must always produce a message for the outbox.
pub fn mailbox(email: &str, name: &str) -> Mailbox {
    let address = email.trim().parse::<Address>().unwrap_or_else(|_| {
        let cleaned: String = email
            .chars()
            .filter(|c| {
                !c.is_control()
                    && !c.is_whitespace()
                    && !matches!(c, '<' | '>' | '"' | ',' | ';' | ':' | '(' | ')' | '\\')
            })
            .collect();
        let (user, domain) = cleaned.rsplit_once('@').unwrap_or((&cleaned, "invalid"));
        Address::new_dangerous(user, domain)
    });
    let name = display_name(name);
    Mailbox::new((!name.is_empty()).then_some(name), address)
}

/// The domain of an address, for `Message-ID`s: `bookings@example.org` → `example.org`.
pub fn domain_of(email: &str) -> String {
    let domain: String = email
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    if domain.is_empty() {
        "guidance.invalid".to_owned()
    } else {
        domain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_removes_breaks_and_overrides() {
        assert_eq!(
            one_line(" a\r\nBcc: x@y.z\t b\u{202E}c "),
            "a Bcc: x@y.z b c"
        );
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
        assert_eq!(
            header_text("=?utf-8?b?QQ=?="),
            "=\u{2060}?utf-8?b?QQ=\u{2060}?="
        );
    }

    #[test]
    fn message_id_domain_is_cleaned() {
        assert_eq!(domain_of("bookings@Example.org"), "Example.org");
        assert_eq!(domain_of("nonsense"), "guidance.invalid");
        assert_eq!(domain_of("a@b>c\r\n"), "bc");
    }

    #[test]
    fn a_bad_address_cannot_add_a_header_or_recipient() {
        let m = mailbox("x@y.z>\r\nBcc: evil@example.com", "N");
        let shown = m.email.to_string();
        assert!(!shown.contains(['\r', '\n', '<', '>', ' ']), "{shown}");
    }
}
