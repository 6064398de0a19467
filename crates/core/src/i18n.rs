//! Every user-visible word comes from `locales/<lang>/<area>.json` (DESIGN §5).
//!
//! The files are flat maps from a key named by area and purpose (`public.intake.topic.label`) to
//! a text with `{placeholders}`. They are compiled into the binary, so a running service cannot
//! miss one. English is complete and the fallback for everything else.

use std::collections::HashMap;
use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The default language.
pub const DEFAULT_LANG: &str = "en";

/// The locale files compiled in, per language and area.
const FILES: &[(&str, &str, &str)] = &[
    (
        "en",
        "common",
        include_str!("../../../locales/en/common.json"),
    ),
    (
        "en",
        "public",
        include_str!("../../../locales/en/public.json"),
    ),
    (
        "en",
        "email",
        include_str!("../../../locales/en/email.json"),
    ),
    (
        "en",
        "errors",
        include_str!("../../../locales/en/errors.json"),
    ),
    (
        "en",
        "admin",
        include_str!("../../../locales/en/admin.json"),
    ),
];

type Texts = HashMap<String, String>;

static CATALOG: LazyLock<HashMap<&'static str, Texts>> = LazyLock::new(|| {
    let mut langs: HashMap<&'static str, Texts> = HashMap::new();
    for (lang, area, json) in FILES {
        let map: HashMap<String, String> = serde_json::from_str(json).unwrap_or_else(|e| {
            panic!("locales/{lang}/{area}.json is not a flat JSON object of strings: {e}")
        });
        langs.entry(lang).or_default().extend(map);
    }
    langs
});

/// The languages with locale files.
pub fn languages() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = CATALOG.keys().copied().collect();
    v.sort_unstable();
    v
}

/// The best supported language for a requested tag (`de-AT` → `de`), or English.
pub fn resolve(tag: &str) -> &'static str {
    let tag = tag.trim().replace('_', "-");
    let langs = languages();
    if let Some(l) = langs.iter().find(|l| l.eq_ignore_ascii_case(&tag)) {
        return l;
    }
    let primary = tag.split('-').next().unwrap_or_default();
    langs
        .iter()
        .find(|l| {
            l.split('-')
                .next()
                .is_some_and(|p| p.eq_ignore_ascii_case(primary))
        })
        .copied()
        .unwrap_or(DEFAULT_LANG)
}

/// The best language for an `Accept-Language` header, honouring quality values.
pub fn negotiate(accept_language: &str) -> &'static str {
    let mut wanted: Vec<(f32, &str)> = accept_language
        .split(',')
        .filter_map(|part| {
            let mut it = part.split(';');
            let tag = it.next()?.trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (!tag.is_empty() && tag != "*" && q > 0.0).then_some((q, tag))
        })
        .collect();
    wanted.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, tag) in wanted {
        let lang = resolve(tag);
        if lang != DEFAULT_LANG || tag.to_ascii_lowercase().starts_with("en") {
            return lang;
        }
    }
    DEFAULT_LANG
}

/// The text for `key` in `lang`, falling back to English. A key missing everywhere shows as
/// `⟦key⟧` so that it is noticed (and the locale tests fail).
pub fn t(lang: &str, key: &str) -> String {
    lookup(lang, key)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("⟦{key}⟧"))
}

/// Like [`t`], with `{name}` placeholders replaced by `args`.
pub fn tf(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(lang, key);
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

fn lookup(lang: &str, key: &str) -> Option<&'static str> {
    let lang = resolve(lang);
    CATALOG
        .get(lang)
        .and_then(|m| m.get(key))
        .or_else(|| CATALOG.get(DEFAULT_LANG).and_then(|m| m.get(key)))
        .map(String::as_str)
}

/// Every key of a language, for completeness checks.
pub fn keys(lang: &str) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = CATALOG
        .get(lang)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    v.sort_unstable();
    v
}

/// The `{placeholders}` a text uses, sorted.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                out.push(after[..close].to_owned());
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    out.sort();
    out
}

/// A day and time span for a reader, e.g. "Thursday, 3 December 2026, 10:00–10:45 (Europe/Berlin)".
pub fn format_span(lang: &str, start: Timestamp, end: Timestamp, zone: &str) -> String {
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    let s = start.to_zoned(tz.clone());
    let e = end.to_zoned(tz);
    tf(
        lang,
        "common.datetime.span",
        &[
            ("date", &format_date(lang, &s)),
            ("start", &s.strftime("%H:%M").to_string()),
            ("end", &e.strftime("%H:%M").to_string()),
            ("zone", zone),
        ],
    )
}

/// A day for a reader, e.g. "Thursday, 3 December 2026".
pub fn format_date(lang: &str, z: &jiff::Zoned) -> String {
    let weekday = t(
        lang,
        &format!("common.weekday.{}", z.weekday().to_monday_one_offset()),
    );
    let month = t(lang, &format!("common.month.{}", z.month()));
    tf(
        lang,
        "common.datetime.date",
        &[
            ("weekday", &weekday),
            ("day", &z.day().to_string()),
            ("month", &month),
            ("year", &z.year().to_string()),
        ],
    )
}

/// A time of day for a reader, e.g. "10:00".
pub fn format_time(z: &jiff::Zoned) -> String {
    z.strftime("%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_exactly_englishs_keys_and_placeholders() {
        let en = keys(DEFAULT_LANG);
        assert!(en.len() > 50, "English looks incomplete");
        for lang in languages() {
            let theirs = keys(lang);
            let missing: Vec<_> = en.iter().filter(|k| !theirs.contains(k)).collect();
            let extra: Vec<_> = theirs.iter().filter(|k| !en.contains(k)).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
            assert!(extra.is_empty(), "{lang} has keys English lacks: {extra:?}");
            for k in &en {
                assert_eq!(
                    placeholders(&t(lang, k)),
                    placeholders(&t(DEFAULT_LANG, k)),
                    "{lang}:{k} uses other placeholders than English"
                );
            }
        }
    }

    #[test]
    fn language_negotiation_honours_quality_and_falls_back() {
        assert_eq!(negotiate("fr-CH;q=0.2, en;q=0.8"), "en");
        assert_eq!(negotiate(""), "en");
        assert_eq!(resolve("en-GB"), "en");
        assert_eq!(resolve("xx"), "en");
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            placeholders("Hi {name}, {x}"),
            vec!["name".to_owned(), "x".to_owned()]
        );
        let s = format_span(
            "en",
            "2026-03-29T00:30:00Z".parse().unwrap(),
            "2026-03-29T01:30:00Z".parse().unwrap(),
            "Europe/Berlin",
        );
        // Berlin springs forward at 01:00 UTC that night: 01:30 CET to 03:30 CEST.
        assert_eq!(s, "Sunday, 29 March 2026, 01:30–03:30 (Europe/Berlin)");
    }
}
