//! The text/plain part: the same content as the HTML, with each link on a line of its own so
//! that every mail client makes it clickable and a reader can copy it whole.

use std::fmt::Write;

use crate::content::{Content, Fact};

/// Indent of the lines of a multi-line value.
const INDENT: &str = "  ";

/// The plain-text body for `content` (LF line ends; the MIME layer turns them into CRLF).
pub fn render(c: &Content) -> String {
    let mut out = String::new();
    paragraph(&mut out, &c.greeting);
    for p in &c.intro {
        paragraph(&mut out, p);
    }
    if let Some(q) = &c.quote {
        let _ = writeln!(out, "{}", q.label);
        for line in guidance_core::text::normalize_newlines(&q.value).lines() {
            let _ = writeln!(out, "> {line}");
        }
        out.push('\n');
    }
    if !c.facts.is_empty() {
        facts(&mut out, &c.facts);
    }
    if let Some(heading) = &c.answers_heading {
        paragraph(&mut out, heading);
        facts(&mut out, &c.answers);
    }
    if let Some(hint) = &c.action_hint {
        paragraph(&mut out, hint);
    }
    for b in &c.buttons {
        let _ = write!(out, "{}:\n{}\n\n", b.label, b.url);
    }
    for p in &c.notes {
        paragraph(&mut out, p);
    }
    paragraph(&mut out, &c.signature);
    out.push_str("-- \n");
    out.push_str(&c.footer);
    out.push('\n');
    out
}

fn paragraph(out: &mut String, text: &str) {
    out.push_str(text);
    out.push_str("\n\n");
}

/// `Label: value` lines; a value of several lines starts on the next line, indented, so that a
/// line in the value can never pass for another label.
fn facts(out: &mut String, facts: &[Fact]) {
    for f in facts {
        let value = guidance_core::text::normalize_newlines(&f.value);
        if value.contains('\n') {
            let _ = writeln!(out, "{}:", f.label);
            for line in value.lines() {
                let _ = writeln!(out, "{INDENT}{line}");
            }
        } else {
            let _ = writeln!(out, "{}: {value}", f.label);
        }
    }
    out.push('\n');
}
