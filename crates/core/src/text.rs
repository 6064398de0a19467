//! Small checks on user text shared by the parsers.

/// Whether `c` is a control character that may never appear in a single-line value.
pub fn is_forbidden_inline(c: char) -> bool {
    c.is_control() || is_bidi_override(c) || c == '\u{2028}' || c == '\u{2029}'
}

/// Whether `c` is a control character that may not appear in multi-line text.
/// Line feeds and tabs are allowed there; a carriage return is normalised away before this check.
pub fn is_forbidden_multiline(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_override(c)
}

/// Explicit bidi overrides and isolates can make a name or address display as something else
/// (for example `gpj.exe` shown as `exe.jpg`), so they are refused in identifying fields and text.
pub(crate) fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Turns CRLF and lone CR into LF, so that multi-line text has one line-ending form.
pub fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}
