//! Every word a reader sees comes from the locale files: no template and no page script (the
//! booking page's and the embeddable element's) may hold literal text.
//!
//! The check strips template expressions and tags from every HTML template (pages, admin area,
//! emails) and fails on any leftover letter, and on literal text in the attributes that are read
//! aloud or shown (`aria-label`, `title`, `placeholder`, `alt`).

use std::path::{Path, PathBuf};

fn templates() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for dir in [
        root.join("../web/templates"),
        root.join("../mail/templates"),
    ] {
        collect(&dir, &mut found);
    }
    assert!(
        found.len() >= 3,
        "no templates found under {}",
        root.display()
    );
    found
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "html" || x == "txt") {
            out.push(p);
        }
    }
}

/// Removes everything between `open` and `close` (inclusive), non-nested.
fn strip(s: &str, open: &str, close: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(open) {
        out.push_str(&rest[..i]);
        match rest[i + open.len()..].find(close) {
            Some(j) => rest = &rest[i + open.len() + j + close.len()..],
            None => {
                rest = "";
                break;
            }
        }
        out.push(' ');
    }
    out.push_str(rest);
    out
}

/// Literal words left in a template once expressions, tags, scripts and entities are gone.
fn literal_text(source: &str) -> Vec<String> {
    let mut s = strip(source, "{#", "#}");
    s = strip(&s, "{{", "}}");
    s = strip(&s, "{%", "%}");
    s = strip(&s, "<!--", "-->");
    s = strip(&s, "<style", "</style>");
    s = strip(&s, "<script", "</script>");
    s = strip(&s, "<", ">");
    s = strip(&s, "&", ";");
    s.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .map(str::to_owned)
        .collect()
}

/// Literal values of attributes that readers see or hear.
fn literal_attributes(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attr in ["aria-label=\"", "title=\"", "placeholder=\"", "alt=\""] {
        let mut rest = source;
        while let Some(i) = rest.find(attr) {
            let after = &rest[i + attr.len()..];
            let end = after.find('"').unwrap_or(after.len());
            let value = &after[..end];
            let literal = strip(value, "{{", "}}");
            if literal.chars().any(char::is_alphabetic) {
                found.push(format!("{attr}{value}\""));
            }
            rest = &after[end..];
        }
    }
    found
}

#[test]
fn templates_hold_no_literal_text() {
    let mut problems = Vec::new();
    for path in templates() {
        let source = std::fs::read_to_string(&path).unwrap();
        let words = literal_text(&source);
        if !words.is_empty() {
            problems.push(format!("{}: text {:?}", path.display(), words));
        }
        let attrs = literal_attributes(&source);
        if !attrs.is_empty() {
            problems.push(format!("{}: attributes {:?}", path.display(), attrs));
        }
    }
    assert!(
        problems.is_empty(),
        "user-visible text outside the locale files:\n{}",
        problems.join("\n")
    );
}

/// Sentence-like string literals in a script: words a reader would see, written in the code
/// instead of looked up (class lists and selectors are lower-case identifiers, not sentences).
fn literal_sentences(script: &str) -> Vec<String> {
    let code = strip(&strip(script, "/*", "*/"), "//", "\n");
    let mut found = Vec::new();
    for quote in ['\'', '"', '`'] {
        for (i, piece) in code.split(quote).enumerate() {
            let in_literal = i % 2 == 1;
            let words = piece
                .split_whitespace()
                .filter(|w| w.chars().any(char::is_alphabetic))
                .count();
            let sentence_like = piece
                .chars()
                .any(|c| c.is_uppercase() || (c.is_alphabetic() && !c.is_ascii()))
                || piece.trim_end().ends_with(['.', '!', '?']);
            let code_like = piece.contains(['{', '}', ';', '(', ')', '=', '<', '>', '\n'])
                || piece.starts_with(['.', '#']);
            if in_literal && words >= 2 && sentence_like && !code_like {
                found.push(piece.to_owned());
            }
        }
    }
    found
}

#[test]
fn scripts_hold_no_literal_sentences() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/static");
    let mut problems = Vec::new();
    let mut scripts = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "js") {
            scripts += 1;
            let found = literal_sentences(&std::fs::read_to_string(&path).unwrap());
            if !found.is_empty() {
                problems.push(format!("{}: {:?}", path.display(), found));
            }
        }
    }
    assert!(
        scripts >= 2,
        "the page script and the element should be here"
    );
    assert!(
        problems.is_empty(),
        "user-visible text outside the locale files:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_finds_literal_text() {
    assert_eq!(
        literal_sentences("el.textContent = 'Book a session';"),
        vec!["Book a session"]
    );
    assert!(
        literal_sentences(
            "q('.days button'); el.className = 'field field-checkbox'; t('public.book.heading');"
        )
        .is_empty()
    );
    assert_eq!(
        literal_text("<p>{{ tr.get(\"x\") }} Hello</p>"),
        vec!["Hello"]
    );
    assert!(literal_text("<p>{{ a }} – {{ b }} &nbsp; 3</p>").is_empty());
    assert_eq!(
        literal_attributes("<a title=\"Close\" aria-label=\"{{ x }}\">"),
        vec!["title=\"Close\""]
    );
}
