//! The HTML part: one fixed layout for every message, written by plain Rust.
//!
//! Markup comes only from the string literals in this file; every other string, user text and
//! locale text alike, goes through [`Page::text`], which escapes it. The layout is a single
//! column with inline styles (mail clients drop `<style>` blocks), declares light and dark
//! support and sets no background, so a dark-mode client keeps its own colours.
//!
//! The bytes are exactly those of the askama template this replaced, so stored and sent messages
//! do not change: the same character references (see [`escape_into`]), the same line breaks, and
//! no newline after `</html>`.

use crate::content::{Button, Content, Fact};

/// The style shared by every button; a primary one adds a filled background.
const BUTTON_STYLE: &str = "display:inline-block;min-width:180px;padding:12px 20px;border:2px solid #2f6fde;border-radius:8px;";

/// The HTML document for `content`.
pub fn render(content: &Content) -> String {
    let mut page = Page::default();
    head(&mut page, content);
    body(&mut page, content);
    page.out
}

/// The document up to `</head>`: language, direction, colour schemes and the subject as title.
fn head(page: &mut Page, c: &Content) {
    page.markup("<!DOCTYPE html>\n<html lang=\"");
    page.text(c.lang);
    page.markup("\" dir=\"");
    page.text(guidance_core::i18n::direction(c.lang));
    page.markup("\">\n<head>\n");
    page.markup("<meta charset=\"utf-8\">\n");
    page.markup("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.markup("<meta name=\"color-scheme\" content=\"light dark\">\n");
    page.markup("<meta name=\"supported-color-schemes\" content=\"light dark\">\n");
    page.element("<title>", &c.subject, "</title>");
    page.markup("</head>\n");
}

/// The body: the column holding every part of the message, in reading order.
fn body(page: &mut Page, c: &Content) {
    page.markup("<body dir=\"");
    page.text(guidance_core::i18n::direction(c.lang));
    page.markup("\" style=\"margin:0;padding:0;\">\n");
    page.markup("<div style=\"max-width:600px;margin:0 auto;padding:24px 16px;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;\">\n");
    // `dir="auto"` on every block of free text: a Hebrew name in an English email, or the
    // reverse, is laid out in its own direction.
    page.element(
        "<p dir=\"auto\" style=\"margin:0 0 16px;\">",
        &c.greeting,
        "</p>",
    );
    for p in &c.intro {
        page.element("<p dir=\"auto\" style=\"margin:0 0 16px;\">", p, "</p>");
    }
    if let Some(q) = &c.quote {
        quote(page, q);
    }
    if !c.facts.is_empty() {
        facts(page, &c.facts);
    }
    if let Some(heading) = &c.answers_heading {
        answers(page, heading, &c.answers);
    }
    if let Some(hint) = &c.action_hint {
        page.element(
            "<p dir=\"auto\" style=\"margin:16px 0 8px;\">",
            hint,
            "</p>",
        );
    }
    for b in &c.buttons {
        button(page, b);
    }
    for p in &c.notes {
        page.element("<p dir=\"auto\" style=\"margin:16px 0;\">", p, "</p>");
    }
    // `pre-line`: the signature's line break shows without a `<br>` in the text.
    page.element(
        "<p dir=\"auto\" style=\"margin:24px 0 0;white-space:pre-line;\">",
        &c.signature,
        "</p>",
    );
    page.element(
        "<p style=\"margin:32px 0 0;font-size:13px;opacity:0.7;\">",
        &c.footer,
        "</p>",
    );
    // No newline after `</html>`: the template this replaced had none either.
    page.markup("</div>\n</body>\n</html>");
}

/// The owner's own words: a bold label and the text as a block quote. `pre-wrap` keeps the
/// owner's line breaks; `overflow-wrap` breaks a long unbroken word instead of widening the page.
fn quote(page: &mut Page, q: &Fact) {
    page.element(
        "<p dir=\"auto\" style=\"margin:0 0 4px;font-weight:bold;\">",
        &q.label,
        "</p>",
    );
    page.element(
        "<blockquote dir=\"auto\" style=\"margin:0 0 16px;padding:8px 16px;border-left:4px solid #8888;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;\">",
        &q.value,
        "</blockquote>",
    );
}

/// The booking at a glance: small upper-case labels (locale text, so no `dir="auto"`) over
/// values that may be the requester's text and span lines.
fn facts(page: &mut Page, facts: &[Fact]) {
    page.markup(
        "<dl style=\"margin:0 0 16px;padding:12px 16px;border-left:4px solid #2f6fde;\">\n",
    );
    for f in facts {
        page.element(
            "<dt style=\"margin:8px 0 0;font-size:13px;font-weight:bold;text-transform:uppercase;letter-spacing:0.04em;opacity:0.75;\">",
            &f.label,
            "</dt>",
        );
        value(page, &f.value);
    }
    page.markup("</dl>\n");
}

/// The intake answers under their heading. The labels come from the owner's answer keys, so
/// they get `dir="auto"` like the values.
fn answers(page: &mut Page, heading: &str, answers: &[Fact]) {
    page.element(
        "<h2 style=\"margin:24px 0 8px;font-size:17px;\">",
        heading,
        "</h2>",
    );
    page.markup("<dl style=\"margin:0 0 16px;padding:0 16px;\">\n");
    for f in answers {
        page.element(
            "<dt dir=\"auto\" style=\"margin:8px 0 0;font-weight:bold;\">",
            &f.label,
            "</dt>",
        );
        value(page, &f.value);
    }
    page.markup("</dl>\n");
}

/// One value of a fact or answer, line breaks kept.
fn value(page: &mut Page, value: &str) {
    page.element(
        "<dd dir=\"auto\" style=\"margin:2px 0 0;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;\">",
        value,
        "</dd>",
    );
}

/// A link styled as a button, in a paragraph of its own: filled for the main action, outlined
/// for the others.
fn button(page: &mut Page, b: &Button) {
    page.markup("<p style=\"margin:12px 0;\">\n<a href=\"");
    page.text(&b.url);
    page.markup("\" style=\"");
    page.markup(BUTTON_STYLE);
    if b.primary {
        page.markup("background-color:#2f6fde;color:#ffffff;");
    } else {
        page.markup("color:#2f6fde;");
    }
    page.markup("font-weight:bold;text-align:center;text-decoration:none;\">");
    page.text(&b.label);
    page.markup("</a>\n</p>\n");
}

/// The document being written.
#[derive(Default)]
struct Page {
    out: String,
}

impl Page {
    /// Appends markup as is. Only this file's literals are markup; taking `&'static str` keeps
    /// the message's texts, all built at run time, from being passed here by mistake.
    fn markup(&mut self, markup: &'static str) {
        self.out.push_str(markup);
    }

    /// Appends `text` escaped, safe in element content and in a double-quoted attribute.
    fn text(&mut self, text: &str) {
        escape_into(&mut self.out, text);
    }

    /// Appends one line: `open`, `text` escaped, `close`.
    fn element(&mut self, open: &'static str, text: &str, close: &'static str) {
        self.markup(open);
        self.text(text);
        self.markup(close);
        self.out.push('\n');
    }
}

/// Appends `text` to `out`, escaped for element content and for quoted attribute values alike:
/// `"` → `&#34;`, `&` → `&#38;`, `'` → `&#39;`, `<` → `&#60;`, `>` → `&#62;`. Everything else,
/// line breaks and non-ASCII included, is kept as it is.
///
/// The set and the decimal spelling are askama 0.14's HTML escaper's, which wrote this part
/// before, so the bytes of every message stay the same.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '&' => out.push_str("&#38;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&#60;"),
            '>' => out.push_str("&#62;"),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text that would open a tag, end an attribute value and start a character reference if it
    /// were written as is.
    const EVIL: &str = "<script>alert(\"x\")</script>&amp;'";
    /// [`EVIL`] as it must appear in the HTML.
    const EVIL_ESCAPED: &str = "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;amp;&#39;";

    /// The name of every slot that [`content`] fills, in reading order.
    const SLOTS: &[&str] = &[
        "subject",
        "greeting",
        "intro-1",
        "intro-2",
        "quote-label",
        "quote-value",
        "fact-label-1",
        "fact-value-1",
        "fact-label-2",
        "fact-value-2",
        "answers-heading",
        "answer-label-1",
        "answer-value-1",
        "hint",
        "url-1",
        "button-1",
        "url-2",
        "button-2",
        "note-1",
        "signature",
        "footer",
    ];

    /// Content with every slot filled, each with `prefix` followed by the slot's name.
    fn content(lang: &'static str, prefix: &str) -> Content {
        let t = |slot: &str| format!("{prefix}{slot}");
        let fact = |label: &str, value: &str| Fact {
            label: t(label),
            value: t(value),
        };
        Content {
            lang,
            subject: t("subject"),
            greeting: t("greeting"),
            intro: vec![t("intro-1"), t("intro-2")],
            quote: Some(fact("quote-label", "quote-value")),
            facts: vec![
                fact("fact-label-1", "fact-value-1"),
                fact("fact-label-2", "fact-value-2"),
            ],
            answers_heading: Some(t("answers-heading")),
            answers: vec![fact("answer-label-1", "answer-value-1")],
            action_hint: Some(t("hint")),
            buttons: vec![
                Button {
                    label: t("button-1"),
                    url: t("url-1"),
                    primary: true,
                },
                Button {
                    label: t("button-2"),
                    url: t("url-2"),
                    primary: false,
                },
            ],
            notes: vec![t("note-1")],
            signature: t("signature"),
            footer: t("footer"),
        }
    }

    /// Content with only the parts every message has.
    fn minimal() -> Content {
        Content {
            quote: None,
            facts: Vec::new(),
            answers_heading: None,
            answers: Vec::new(),
            action_hint: None,
            buttons: Vec::new(),
            intro: Vec::new(),
            notes: Vec::new(),
            ..content("en", "")
        }
    }

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        escape_into(&mut out, text);
        out
    }

    /// The tags of `html` in order, e.g. `p`, `/p`; attributes left out.
    fn tags(html: &str) -> Vec<&str> {
        html.split('<')
            .skip(1)
            .map(|t| t.split(['>', ' ']).next().unwrap_or_default())
            .collect()
    }

    #[test]
    fn the_five_special_characters_become_decimal_references_and_nothing_else_changes() {
        assert_eq!(escaped("\""), "&#34;");
        assert_eq!(escaped("&"), "&#38;");
        assert_eq!(escaped("'"), "&#39;");
        assert_eq!(escaped("<"), "&#60;");
        assert_eq!(escaped(">"), "&#62;");
        // Already escaped text is escaped again, so it shows as typed.
        assert_eq!(escaped("&amp; &#60;"), "&#38;amp; &#38;#60;");
        let kept = "a=b `c` {{ d }} %} é 🙂 مرحبا שלום \u{202E}x\n\tline two;/\\";
        assert_eq!(escaped(kept), kept);
        assert_eq!(escaped(EVIL), EVIL_ESCAPED);
    }

    #[test]
    fn hostile_text_in_every_slot_comes_out_escaped_once_in_its_place() {
        let html = render(&content("en", EVIL));
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains(EVIL), "{html}");
        let mut last = 0;
        for slot in SLOTS {
            let shown = format!("{EVIL_ESCAPED}{slot}");
            assert_eq!(html.matches(&shown).count(), 1, "{slot} in {html}");
            let at = html.find(&shown).unwrap_or_default();
            assert!(at > last, "{slot} out of order in {html}");
            last = at;
        }
    }

    #[test]
    fn hostile_text_changes_nothing_but_the_text() {
        let friendly = render(&content("en", ""));
        let hostile = render(&content("en", EVIL));
        assert_eq!(hostile.replace(EVIL_ESCAPED, ""), friendly);
        assert_eq!(tags(&hostile), tags(&friendly));
    }

    #[test]
    fn every_slot_sits_in_its_element() {
        let html = render(&content("en", ""));
        for expected in [
            "<!DOCTYPE html>\n<html lang=\"en\" dir=\"ltr\">\n<head>\n",
            "<title>subject</title>\n</head>\n<body dir=\"ltr\" ",
            "<p dir=\"auto\" style=\"margin:0 0 16px;\">greeting</p>\n",
            "<p dir=\"auto\" style=\"margin:0 0 16px;\">intro-1</p>\n",
            "font-weight:bold;\">quote-label</p>\n<blockquote dir=\"auto\" ",
            "white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;\">quote-value</blockquote>\n<dl ",
            "opacity:0.75;\">fact-label-1</dt>\n<dd dir=\"auto\" ",
            "word-break:break-word;\">fact-value-2</dd>\n</dl>\n<h2 ",
            "font-size:17px;\">answers-heading</h2>\n<dl style=\"margin:0 0 16px;padding:0 16px;\">\n",
            "<dt dir=\"auto\" style=\"margin:8px 0 0;font-weight:bold;\">answer-label-1</dt>\n",
            "<p dir=\"auto\" style=\"margin:16px 0 8px;\">hint</p>\n",
            "<p dir=\"auto\" style=\"margin:16px 0;\">note-1</p>\n",
            "white-space:pre-line;\">signature</p>\n",
            "opacity:0.7;\">footer</p>\n</div>\n</body>\n</html>",
        ] {
            assert!(html.contains(expected), "{expected} missing in {html}");
        }
        // The main action is filled, the others outlined; each button a paragraph of its own.
        assert!(html.contains("<p style=\"margin:12px 0;\">\n<a href=\"url-1\" style=\"display:inline-block;min-width:180px;padding:12px 20px;border:2px solid #2f6fde;border-radius:8px;background-color:#2f6fde;color:#ffffff;font-weight:bold;text-align:center;text-decoration:none;\">button-1</a>\n</p>\n"));
        assert!(html.contains("<p style=\"margin:12px 0;\">\n<a href=\"url-2\" style=\"display:inline-block;min-width:180px;padding:12px 20px;border:2px solid #2f6fde;border-radius:8px;color:#2f6fde;font-weight:bold;text-align:center;text-decoration:none;\">button-2</a>\n</p>\n"));
        // The document ends without a newline, as it always has.
        assert!(html.ends_with("</html>"));
    }

    #[test]
    fn every_element_is_closed_in_order() {
        let html = render(&content("en", EVIL));
        let mut open: Vec<&str> = Vec::new();
        for tag in tags(&html) {
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(open.pop(), Some(name), "{html}");
            } else if !matches!(tag, "!DOCTYPE" | "meta") {
                open.push(tag);
            }
        }
        assert!(open.is_empty(), "{open:?} left open");
    }

    #[test]
    fn absent_parts_leave_no_trace() {
        let html = render(&minimal());
        for absent in ["<blockquote", "<dl", "<dt", "<h2", "<a ", "margin:16px 0"] {
            assert!(!html.contains(absent), "{absent} in {html}");
        }
        assert_eq!(
            tags(&html),
            [
                "!DOCTYPE", "html", "head", "meta", "meta", "meta", "meta", "title", "/title",
                "/head", "body", "div", "p", "/p", "p", "/p", "p", "/p", "/div", "/body", "/html"
            ]
        );
    }

    #[test]
    fn right_to_left_languages_set_the_direction_and_line_breaks_stay() {
        let mut c = content("ar", "");
        c.facts[0].value = "السطر الأول\nהשורה השנייה".into();
        let html = render(&c);
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"ar\" dir=\"rtl\">\n"));
        assert!(html.contains("<body dir=\"rtl\" "));
        // `white-space:pre-wrap` shows the line break; no `<br>` needed or added.
        assert!(html.contains(">السطر الأول\nהשורה השנייה</dd>"));
    }
}
