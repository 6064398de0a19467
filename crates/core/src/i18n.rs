//! Every user-visible word comes from `locales/<lang>/<area>.json` (see `ARCHITECTURE.md`).
//!
//! The files are flat maps from a key named by area and purpose (`public.intake.topic.label`) to
//! a text with `{placeholders}`. They are compiled into the binary, so a running service cannot
//! miss one. English is complete and the fallback for everything else.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;
use std::thread::LocalKey;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The default language.
pub const DEFAULT_LANG: &str = "en";

/// The locale files compiled in, per language and area: English first, then every translation.
macro_rules! locale_files {
    ($($lang:literal),*) => {
        &[$(
            ($lang, "common", include_str!(concat!("../../../locales/", $lang, "/common.json"))),
            ($lang, "public", include_str!(concat!("../../../locales/", $lang, "/public.json"))),
            ($lang, "email", include_str!(concat!("../../../locales/", $lang, "/email.json"))),
            ($lang, "errors", include_str!(concat!("../../../locales/", $lang, "/errors.json"))),
            ($lang, "admin", include_str!(concat!("../../../locales/", $lang, "/admin.json"))),
        )*]
    };
}

const FILES: &[(&str, &str, &str)] = locale_files!(
    "en", "de", "fr", "es", "it", "nl", "pt-BR", "pl", "ja", "ar"
);

/// The CLDR plural categories a locale key may end in.
pub const PLURAL_SUFFIXES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

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

/// The languages with locale files, sorted: listed once, as every text looked up resolves its
/// language against them.
static LANGUAGES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut v: Vec<&'static str> = CATALOG.keys().copied().collect();
    v.sort_unstable();
    v
});

/// The languages with locale files.
pub fn languages() -> Vec<&'static str> {
    LANGUAGES.clone()
}

/// The best supported language for a requested tag (`de-AT` → `de`), or English.
pub fn resolve(tag: &str) -> &'static str {
    let langs = &*LANGUAGES;
    // Most tags are one of the languages already (the booking's, the owner's).
    if let Some(l) = langs.iter().find(|l| **l == tag) {
        return l;
    }
    let tag = tag.trim().replace('_', "-");
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

/// Like [`t`], with `{name}` placeholders replaced by `args`, in one pass: a value is never read
/// again for placeholders (a visitor named `{date}` keeps that name), and a placeholder without
/// a value stays as it is.
pub fn tf(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    let Some(text) = lookup(lang, key) else {
        return t(lang, key);
    };
    let mut out =
        String::with_capacity(text.len() + args.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let filled = after.find('}').and_then(|close| {
            let name = &after[..close];
            let (_, value) = args.iter().find(|(n, _)| *n == name)?;
            Some((value, &after[close + 1..]))
        });
        match filled {
            Some((value, next)) => {
                out.push_str(value);
                rest = next;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
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

/// Whether a language is written right to left (pages and emails then carry `dir="rtl"`).
pub fn is_rtl(lang: &str) -> bool {
    matches!(
        resolve(lang).split('-').next(),
        Some("ar" | "he" | "fa" | "ur")
    )
}

/// The `dir` attribute value for a language.
pub fn direction(lang: &str) -> &'static str {
    if is_rtl(lang) { "rtl" } else { "ltr" }
}

fn icu_locale(lang: &str) -> icu_locale_core::Locale {
    resolve(lang)
        .parse()
        .unwrap_or(icu_locale_core::locale!("en"))
}

/// ICU formatters (or rules) by language, each built on first use in each thread and kept: one
/// costs many times more to make than to use, and every email formats several dates. (Per
/// thread, as ICU's compiled data is not shared between threads without its `sync` feature.)
type PerLanguage<T> = RefCell<HashMap<&'static str, Option<T>>>;

/// `format` given what `make` built for `lang`'s locale (`None` if it could not), from `cache`.
fn with_language<T, R>(
    cache: &'static LocalKey<PerLanguage<T>>,
    lang: &str,
    make: fn(icu_locale_core::Locale) -> Option<T>,
    format: impl FnOnce(Option<&T>) -> R,
) -> R {
    let lang = resolve(lang);
    cache.with(|cell| {
        let mut built = cell.borrow_mut();
        let kept = built.entry(lang).or_insert_with(|| make(icu_locale(lang)));
        format(kept.as_ref())
    })
}

fn gregorian(z: &jiff::Zoned) -> Option<icu_calendar::Date<icu_calendar::Gregorian>> {
    icu_calendar::Date::try_new_gregorian(
        i32::from(z.year()),
        z.month().unsigned_abs(),
        z.day().unsigned_abs(),
    )
    .ok()
}

/// A day for a reader, from CLDR data (e.g. "Thursday, December 3, 2026" in English,
/// "Donnerstag, 3. Dezember 2026" in German).
pub fn format_date(lang: &str, z: &jiff::Zoned) -> String {
    use icu_datetime::FixedCalendarDateTimeFormatter;
    use icu_datetime::fieldsets::YMDE;
    type Formatter = FixedCalendarDateTimeFormatter<icu_calendar::Gregorian, YMDE>;
    thread_local!(static FORMATTERS: PerLanguage<Formatter> = RefCell::default());
    let make =
        |locale: icu_locale_core::Locale| Formatter::try_new(locale.into(), YMDE::long()).ok();
    with_language(&FORMATTERS, lang, make, |f| match (gregorian(z), f) {
        (Some(date), Some(f)) => f.format(&date).to_string(),
        _ => z.date().to_string(),
    })
}

/// A short day for subjects and lists (e.g. "Thu, Dec 3" in English).
pub fn format_short_date(lang: &str, z: &jiff::Zoned) -> String {
    use icu_datetime::FixedCalendarDateTimeFormatter;
    use icu_datetime::fieldsets::MDE;
    type Formatter = FixedCalendarDateTimeFormatter<icu_calendar::Gregorian, MDE>;
    thread_local!(static FORMATTERS: PerLanguage<Formatter> = RefCell::default());
    let make =
        |locale: icu_locale_core::Locale| Formatter::try_new(locale.into(), MDE::medium()).ok();
    with_language(&FORMATTERS, lang, make, |f| match (gregorian(z), f) {
        (Some(date), Some(f)) => f.format(&date).to_string(),
        _ => z.date().to_string(),
    })
}

/// The name of a day of the week for a reader, from CLDR data ("Monday", "lundi").
pub fn format_weekday(lang: &str, weekday: jiff::civil::Weekday) -> String {
    use icu_calendar::types::Weekday as W;
    use icu_datetime::FixedCalendarDateTimeFormatter;
    use icu_datetime::fieldsets::E;
    let day = match weekday {
        jiff::civil::Weekday::Monday => W::Monday,
        jiff::civil::Weekday::Tuesday => W::Tuesday,
        jiff::civil::Weekday::Wednesday => W::Wednesday,
        jiff::civil::Weekday::Thursday => W::Thursday,
        jiff::civil::Weekday::Friday => W::Friday,
        jiff::civil::Weekday::Saturday => W::Saturday,
        jiff::civil::Weekday::Sunday => W::Sunday,
    };
    type Formatter = FixedCalendarDateTimeFormatter<icu_calendar::Gregorian, E>;
    thread_local!(static FORMATTERS: PerLanguage<Formatter> = RefCell::default());
    let make = |locale: icu_locale_core::Locale| Formatter::try_new(locale.into(), E::long()).ok();
    with_language(&FORMATTERS, lang, make, |f| match f {
        Some(f) => f.format(&day).to_string(),
        None => format!("{weekday:?}"),
    })
}

/// A time of day for a reader, in the language's own style ("2:30 PM", "14:30").
pub fn format_time(lang: &str, z: &jiff::Zoned) -> String {
    use icu_datetime::NoCalendarFormatter;
    use icu_datetime::fieldsets::T;
    use icu_datetime::options::TimePrecision;
    thread_local!(static FORMATTERS: PerLanguage<NoCalendarFormatter<T>> = RefCell::default());
    let make = |locale: icu_locale_core::Locale| {
        NoCalendarFormatter::try_new(
            locale.into(),
            T::short().with_time_precision(TimePrecision::Minute),
        )
        .ok()
    };
    with_language(&FORMATTERS, lang, make, |f| match (icu_time_of(z), f) {
        (Ok(time), Some(f)) => f.format(&time).to_string(),
        _ => z.strftime("%H:%M").to_string(),
    })
}

fn icu_time_of(z: &jiff::Zoned) -> Result<icu_datetime::input::Time, ()> {
    icu_datetime::input::Time::try_new(z.hour().unsigned_abs(), z.minute().unsigned_abs(), 0, 0)
        .map_err(|_| ())
}

/// A day and time span for a reader, e.g. "Thursday, December 3, 2026, 10:00 AM–10:45 AM
/// (Europe/Berlin)".
pub fn format_span(lang: &str, start: Timestamp, end: Timestamp, zone: &str) -> String {
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    let s = start.to_zoned(tz.clone());
    let e = end.to_zoned(tz);
    tf(
        lang,
        "common.datetime.span",
        &[
            ("date", &format_date(lang, &s)),
            ("start", &format_time(lang, &s)),
            ("end", &format_time(lang, &e)),
            ("zone", zone),
        ],
    )
}

/// The CLDR plural category of `n` in a language: `zero`, `one`, `two`, `few`, `many` or `other`.
pub fn plural_category(lang: &str, n: u64) -> &'static str {
    use icu_plurals::{PluralCategory, PluralRules};
    thread_local!(static RULES: PerLanguage<PluralRules> = RefCell::default());
    let make = |locale: icu_locale_core::Locale| PluralRules::try_new_cardinal(locale.into()).ok();
    let Some(category) = with_language(&RULES, lang, make, |r| r.map(|r| r.category_for(n))) else {
        return "other";
    };
    match category {
        PluralCategory::Zero => "zero",
        PluralCategory::One => "one",
        PluralCategory::Two => "two",
        PluralCategory::Few => "few",
        PluralCategory::Many => "many",
        PluralCategory::Other => "other",
    }
}

/// The plural categories a language distinguishes for whole numbers, in CLDR order.
pub fn plural_categories(lang: &str) -> Vec<&'static str> {
    let mut seen = Vec::new();
    for n in 0..=200u64 {
        let c = plural_category(lang, n);
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    let order = ["zero", "one", "two", "few", "many", "other"];
    order.into_iter().filter(|c| seen.contains(c)).collect()
}

/// A counted text: looks up `key.<category>` for `n` (falling back to `key.other`) and fills
/// `{count}` and `args`.
pub fn tn(lang: &str, key: &str, n: u64, args: &[(&str, &str)]) -> String {
    let count = n.to_string();
    let mut all: Vec<(&str, &str)> = vec![("count", count.as_str())];
    all.extend_from_slice(args);
    let exact = format!("{key}.{}", plural_category(lang, n));
    if lookup(lang, &exact).is_some() {
        tf(lang, &exact, &all)
    } else {
        tf(lang, &format!("{key}.other"), &all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_exactly_englishs_keys_and_placeholders() {
        let en = keys(DEFAULT_LANG);
        assert!(en.len() > 50, "English looks incomplete");
        let (en_plain, en_plural) = split_plurals(&en);
        assert_eq!(languages().len(), 10, "English and nine translations");
        for lang in languages() {
            let theirs = keys(lang);
            let (plain, plural) = split_plurals(&theirs);
            let missing: Vec<_> = en_plain.iter().filter(|k| !plain.contains(k)).collect();
            let extra: Vec<_> = plain.iter().filter(|k| !en_plain.contains(k)).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
            assert!(extra.is_empty(), "{lang} has keys English lacks: {extra:?}");
            for k in &en_plain {
                assert_eq!(
                    placeholders(&t(lang, k)),
                    placeholders(&t(DEFAULT_LANG, k)),
                    "{lang}:{k} uses other placeholders than English"
                );
            }
            // Counted texts: exactly the forms the language's CLDR rules use (and `other`).
            let mut wanted = plural_categories(lang);
            if !wanted.contains(&"other") {
                wanted.push("other");
            }
            wanted.sort_unstable();
            let bases: Vec<_> = plural.keys().collect();
            let en_bases: Vec<_> = en_plural.keys().collect();
            assert_eq!(bases, en_bases, "{lang} counts other texts than English");
            for (base, forms) in &plural {
                let mut forms = forms.clone();
                forms.sort_unstable();
                assert_eq!(forms, wanted, "{lang}:{base} has the wrong plural forms");
                let english = placeholders(&t(DEFAULT_LANG, &format!("{base}.other")));
                for form in forms {
                    assert_eq!(
                        placeholders(&t(lang, &format!("{base}.{form}"))),
                        english,
                        "{lang}:{base}.{form} uses other placeholders than English"
                    );
                }
            }
        }
    }

    /// Keys split into plain ones and counted ones (base → the plural forms present).
    fn split_plurals(
        keys: &[&'static str],
    ) -> (
        Vec<&'static str>,
        std::collections::BTreeMap<String, Vec<&'static str>>,
    ) {
        let mut plain = Vec::new();
        let mut plural: std::collections::BTreeMap<String, Vec<&'static str>> = Default::default();
        for k in keys {
            match k.rsplit_once('.') {
                Some((base, form)) if PLURAL_SUFFIXES.contains(&form) => {
                    plural.entry(base.to_owned()).or_default().push(form);
                }
                _ => plain.push(*k),
            }
        }
        (plain, plural)
    }

    #[test]
    fn plural_rules_come_from_cldr() {
        assert_eq!(plural_categories("pl"), vec!["one", "few", "many"]);
        assert_eq!(plural_category("pl", 22), "few");
        assert_eq!(plural_category("pl", 25), "many");
        assert_eq!(
            plural_categories("ar"),
            vec!["zero", "one", "two", "few", "many", "other"]
        );
        assert_eq!(plural_categories("ja"), vec!["other"]);
        assert_eq!(
            tn("pl", "admin.generate.report.created", 3, &[]),
            t("pl", "admin.generate.report.created.few").replace("{count}", "3")
        );
    }

    #[test]
    fn dates_are_written_in_each_language() {
        let at: Timestamp = "2026-12-03T09:00:00Z".parse().unwrap();
        let z = at.to_zoned(TimeZone::get("Europe/Berlin").unwrap());
        assert_eq!(format_date("de", &z), "Donnerstag, 3. Dezember 2026");
        assert_eq!(format_time("de", &z), "10:00");
        assert!(
            format_date("ja", &z).contains("2026年12月3日"),
            "{}",
            format_date("ja", &z)
        );
        assert!(
            format_date("ar", &z).contains("ديسمبر"),
            "{}",
            format_date("ar", &z)
        );
        assert!(
            format_date("pl", &z).contains("grudnia"),
            "{}",
            format_date("pl", &z)
        );
        assert!(
            format_date("pt-BR", &z).contains("dezembro"),
            "{}",
            format_date("pt-BR", &z)
        );
        assert!(is_rtl("ar") && !is_rtl("ja"));
    }

    #[test]
    fn placeholders_are_filled_once_and_values_are_not_read_again() {
        let text = t("en", "common.datetime.span");
        assert!(text.contains("{date}") && text.contains("{zone}"), "{text}");
        let filled = tf(
            "en",
            "common.datetime.span",
            &[
                ("date", "{zone}"),
                ("start", "9"),
                ("end", "10"),
                ("zone", "UTC"),
            ],
        );
        let expected = text
            .replace("{date}", "\u{1}")
            .replace("{start}", "9")
            .replace("{end}", "10")
            .replace("{zone}", "UTC")
            .replace('\u{1}', "{zone}");
        assert_eq!(filled, expected);
        // Without a value, a placeholder stays as it is.
        assert_eq!(tf("en", "common.datetime.span", &[]), text);
        assert_eq!(tf("en", "no.such.key", &[("a", "b")]), "⟦no.such.key⟧");
    }

    /// The formatters are kept per language and thread: each language keeps its own, a tag
    /// resolves to its language's, and a thread that starts with another language writes the
    /// same words.
    #[test]
    fn kept_formatters_stay_with_their_language_in_every_thread() {
        let at: Timestamp = "2026-12-03T09:00:00Z".parse().unwrap();
        let z = at.to_zoned(TimeZone::get("Europe/Berlin").unwrap());
        fn written(z: &jiff::Zoned, langs: &[&str]) -> Vec<String> {
            langs
                .iter()
                .map(|l| {
                    let (date, day, time) = (
                        format_date(l, z),
                        format_short_date(l, z),
                        format_time(l, z),
                    );
                    format!("{date} {day} {time}")
                })
                .collect()
        }
        let here = written(&z, &["de", "en", "de-AT", "fr_CH", "xx"]);
        assert_eq!(here[0], "Donnerstag, 3. Dezember 2026 Do., 3. Dez. 10:00");
        assert_eq!(
            here[1],
            "Thursday, December 3, 2026 Thu, Dec 3 10:00\u{202f}AM"
        );
        assert_eq!(here[2], here[0], "de-AT is written as German");
        assert_eq!(
            here[4], here[1],
            "an unknown language is written as English"
        );
        let there = std::thread::spawn(move || {
            let mut v = written(&z, &["xx", "fr_CH", "de-AT", "en", "de"]);
            v.reverse();
            v
        })
        .join()
        .unwrap();
        assert_eq!(there, here);
        assert_eq!(plural_category("pl", 3), "few");
        assert_eq!(plural_category("en", 3), "other");
    }

    #[test]
    fn language_negotiation_honours_quality_and_falls_back() {
        assert_eq!(negotiate("fr-CH;q=0.2, en;q=0.8"), "en");
        assert_eq!(negotiate("fr-CH, en;q=0.8"), "fr");
        assert_eq!(resolve("pt-PT"), "pt-BR");
        assert_eq!(resolve("de-AT"), "de");
        assert_eq!(resolve("pt_br"), "pt-BR");
        assert_eq!(negotiate(""), "en");
        assert_eq!(resolve("en-GB"), "en");
        assert_eq!(resolve("xx"), "en");
    }

    #[test]
    fn weekday_names_come_from_cldr() {
        assert_eq!(format_weekday("en", jiff::civil::Weekday::Monday), "Monday");
        assert_eq!(format_weekday("en", jiff::civil::Weekday::Sunday), "Sunday");
    }

    #[test]
    fn english_plurals_follow_cldr() {
        assert_eq!(plural_category("en", 1), "one");
        assert_eq!(plural_category("en", 0), "other");
        assert_eq!(plural_categories("en"), vec!["one", "other"]);
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
        assert_eq!(
            s,
            "Sunday, March 29, 2026, 1:30\u{202f}AM–3:30\u{202f}AM (Europe/Berlin)"
        );
    }
}
