//! Choosing the reader's language for pages: `?lang=`, then a cookie, then `Accept-Language`.

use axum::http::HeaderMap;
use guidance_core::i18n;

/// A translator bound to one language, handed to templates.
#[derive(Debug, Clone)]
pub struct Tr {
    /// The language in use.
    pub lang: &'static str,
}

impl Tr {
    /// A translator for `lang` (resolved to a supported language).
    pub fn new(lang: &str) -> Self {
        Self {
            lang: i18n::resolve(lang),
        }
    }

    /// The text for `key`.
    pub fn get(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }

    /// `ltr` or `rtl`, for the page's `dir` attribute.
    pub fn dir(&self) -> &'static str {
        i18n::direction(self.lang)
    }

    /// Every language, for a language switcher: (code, its own name, whether it is this one).
    pub fn languages(&self) -> Vec<(&'static str, String, bool)> {
        i18n::languages()
            .into_iter()
            .map(|l| (l, i18n::t(l, "common.language.self"), l == self.lang))
            .collect()
    }

    /// A booking's answers as (question key, answer) lines to show, checkboxes as yes or no.
    pub fn answers(&self, answers: &guidance_core::intake::Answers) -> Vec<(String, String)> {
        use guidance_core::intake::AnswerText;
        answers
            .display_pairs()
            .into_iter()
            .map(|(key, value)| {
                let value = match value {
                    AnswerText::Text(s) => s,
                    AnswerText::Flag(true) => self.get("common.yes"),
                    AnswerText::Flag(false) => self.get("common.no"),
                };
                (key, value)
            })
            .collect()
    }

    /// The text for `key` with placeholders filled.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        i18n::tf(self.lang, key, args)
    }

    /// What a refused field's reason tells the reader (`errors.field.<code>`).
    pub fn field(&self, reason: guidance_core::FieldReason) -> String {
        self.get(&format!("errors.field.{reason}"))
    }

    /// The counted text `key.<CLDR plural category of n>` with `{count}` and `args` filled.
    pub fn count(&self, key: &str, n: u64, args: &[(&str, &str)]) -> String {
        i18n::tn(self.lang, key, n, args)
    }
}

/// The language for a page request.
pub fn page_language(query_lang: Option<&str>, headers: &HeaderMap) -> Tr {
    if let Some(l) = query_lang.filter(|l| !l.is_empty()) {
        return Tr::new(l);
    }
    let cookie_lang = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("guidance_lang="));
    if let Some(l) = cookie_lang {
        return Tr::new(l);
    }
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    Tr::new(i18n::negotiate(accept))
}
