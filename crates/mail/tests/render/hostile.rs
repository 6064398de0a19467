//! Hostile names, topics and answers (and, by property test, any name and topic): they change
//! nothing structural in any message.

use proptest::prelude::*;

use super::*;

/// Texts that try to break out of a header, an HTML element or a calendar property.
pub(crate) fn hostile_texts() -> Vec<String> {
    vec![
        "Eve\r\nBcc: victim@example.com".into(),
        "Eve\nTo: victim@example.com\n\nbody".into(),
        "Eve\rCc: victim@example.com".into(),
        "\"Eve\" <evil@example.com>, mallory@example.com".into(),
        "a;b,c\\d:e".into(),
        "x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nATTENDEE:mailto:evil@example.com".into(),
        "y\nBEGIN:VALARM\nTRIGGER:-PT5M\nEND:VALARM".into(),
        "<script>alert(1)</script><img src=x onerror=alert(2)>".into(),
        "Tom &amp; Jerry & co".into(),
        "=?utf-8?b?QmNjOiB4QHkuego=?=".into(),
        "🙂🚀 émoji ñ".into(),
        "مرحبا بالعالم שלום".into(),
        "abc\u{202E}gpj.exe".into(),
        "w".repeat(10 * 1024),
        "long words ".repeat(1000),
    ]
}

#[test]
fn hostile_names_topics_and_answers_change_nothing_structural() {
    for evil in hostile_texts() {
        let b = booking(
            &evil,
            &evil,
            // The intake refuses bidi overrides and answers over 4000 characters.
            serde_json::json!({ "why": answer(&evil), "list": [answer(&evil), "b"] }),
        );
        for (msg, r, c) in render_all(&b) {
            // Subject and To decode back to what we meant to write.
            assert_eq!(header(&c.headers, "Subject"), r.subject);
            assert!(!r.subject.contains(['\r', '\n']));
            if !msg.to_owner() {
                let to = addrparse_header(
                    parse_mail(&r.bytes)
                        .unwrap()
                        .headers
                        .get_first_header("To")
                        .unwrap(),
                )
                .unwrap();
                match &to[0] {
                    MailAddr::Single(s) => {
                        assert_eq!(s.addr, "ada@example.net");
                        assert_eq!(s.display_name, None, "the typed name is not written back");
                    }
                    other => panic!("{other:?}"),
                }
            }
            assert!(!c.html.contains("<script"), "{}: raw script tag", r.kind);
            assert!(!c.html.contains("<img"), "{}: raw img tag", r.kind);
            assert_eq!(
                guidance_mail::plain_text(&r.bytes).map(|t| t.trim_end().to_owned()),
                Some(c.plain.replace("\r\n", "\n").trim_end().to_owned()),
                "{}: read back",
                r.kind
            );
            // The owner is shown the text, as text (escaped in the HTML, as is in the plain
            // part); an address that has not proved itself gets none of it.
            if msg.to_owner() && (evil.contains('<') || evil.contains('&')) {
                assert!(unescape(&c.html).contains(&evil), "{}", r.kind);
                assert!(!c.html.contains(&evil), "{}: unescaped", r.kind);
                assert!(c.plain.contains(&evil), "{}", r.kind);
            }
            if !msg.to_owner() && !msg.quotes_requester_text() {
                assert!(!unescape(&c.html).contains(&evil), "{}: quoted", r.kind);
                assert!(!c.plain.contains(&evil), "{}: quoted", r.kind);
            }
        }
    }
}

fn answer(s: &str) -> String {
    s.replace('\u{202E}', "").chars().take(4000).collect()
}

/// What a display name should decode to: one line, white space collapsed, bidi overrides gone,
/// no encoded-word lookalike, at most 120 characters.
fn clean_name(s: &str) -> String {
    let spaced: String = s
        .chars()
        .map(|c| {
            if c.is_control()
                || ('\u{202A}'..='\u{202E}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
                || c == '\u{2028}'
                || c == '\u{2029}'
            {
                ' '
            } else {
                c
            }
        })
        .collect();
    let one = spaced
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        // An encoded-word lookalike is broken up with a WORD JOINER so that it shows as typed.
        .replace("=?", "=\u{2060}?");
    if one.chars().count() <= 120 {
        one
    } else {
        let mut s: String = one.chars().take(119).collect();
        s.push('…');
        s
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_name_and_topic_keep_the_structure(
        name in "(\\PC|\r|\n|\t|\"|;|,|\\\\|<|>|&){1,150}",
        topic in "(\\PC|\r|\n|\t|\"|;|,|\\\\|<|>|&){1,400}",
    ) {
        prop_assume!(!clean_name(&name).is_empty());
        let b = booking(&name, &topic, serde_json::Value::Null);
        for (msg, r, c) in render_all(&b) {
            prop_assert_eq!(header(&c.headers, "Subject"), r.subject.clone());
            if !msg.to_owner() {
                let m = parse_mail(&r.bytes).unwrap();
                let to = addrparse_header(m.headers.get_first_header("To").unwrap()).unwrap();
                match &to[0] {
                    MailAddr::Single(s) => {
                        prop_assert_eq!(s.display_name.clone(), None);
                    }
                    other => prop_assert!(false, "{:?}", other),
                }
            }
            prop_assert!(!c.html.contains("<script"));
        }
    }
}
