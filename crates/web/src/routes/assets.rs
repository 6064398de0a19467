//! The static files (styles, scripts, the embeddable element), each served under two names:
//! one that carries a hash of its content (`/static/guidance.3f9a…c1.css`), which pages name and
//! browsers keep for a year without asking again, and its plain name (`/static/guidance.css`,
//! `/embed/guidance-booking.js`), kept for an hour, so that pages cached elsewhere and the
//! element embedded on other sites keep working. The hashes are computed once, at start-up, from
//! the bytes built into the binary: a changed file gets a new name, never stale bytes.

use std::sync::LazyLock;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tower_http::compression::{CompressionLayer, CompressionLevel};

use super::recorder::{RecordedRoute, Recorder};
use crate::state::WebState;

/// How a file under its hashed name may be cached: anywhere, for a year, never revalidated.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// How a file under its plain name may be cached: an hour.
pub const SHORT: &str = "public, max-age=3600";

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The plain name of the element, which other sites load.
pub const ELEMENT: &str = "/embed/guidance-booking.js";

/// One static file.
pub struct Asset {
    /// Its plain path, e.g. `/static/guidance.css`.
    pub plain: &'static str,
    /// Its path with the content hash, e.g. `/static/guidance.3f9a0b1c2d.css`.
    pub hashed: String,
    content_type: &'static str,
    body: String,
}

impl Asset {
    fn new(plain: &'static str, content_type: &'static str, body: String) -> Self {
        let digest = Sha256::digest(body.as_bytes());
        let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let file = plain.rsplit('/').next().unwrap_or(plain);
        let (stem, ext) = file.rsplit_once('.').unwrap_or((file, ""));
        Self {
            plain,
            hashed: format!("/static/{stem}.{hash}.{ext}"),
            content_type,
            body,
        }
    }

    fn respond(&self, cache: &'static str) -> Response {
        (
            [
                (header::CONTENT_TYPE, self.content_type),
                (header::CACHE_CONTROL, cache),
            ],
            self.body.clone(),
        )
            .into_response()
    }
}

/// A page's script as sent (the element is minified at build time, `build.rs`): without its
/// comment lines and indentation, which explain the source to its readers but are a quarter of
/// its bytes. Only whole lines go (`//` lines, and `/* … */` blocks
/// that start a line), so no code, string or regular expression is touched.
fn lean_js(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut in_block = false;
    for line in source.lines() {
        let code = line.trim_start();
        if in_block {
            in_block = !code.contains("*/");
            continue;
        }
        if code.starts_with("/*") {
            in_block = !code.contains("*/");
            continue;
        }
        if code.is_empty() || code.starts_with("//") {
            continue;
        }
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every static file, hashed once.
static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    // Minified at build time (`build.rs`): other sites send it with their pages.
    let element = Asset::new(
        ELEMENT,
        JS,
        include_str!(concat!(env!("OUT_DIR"), "/guidance-booking.min.js")).to_owned(),
    );
    // The page's script imports the element under its hashed name, so that a returning visitor
    // asks for neither; its own hash then covers the element's.
    let book = Asset::new(
        "/static/book.js",
        JS,
        lean_js(include_str!("../../static/book.js")).replace(ELEMENT, &element.hashed),
    );
    vec![
        Asset::new(
            "/static/guidance.css",
            CSS,
            include_str!("../../static/guidance.css").to_owned(),
        ),
        Asset::new(
            "/static/admin.css",
            CSS,
            include_str!("../../static/admin.css").to_owned(),
        ),
        Asset::new(
            "/static/admin.js",
            JS,
            lean_js(include_str!("../../static/admin.js")),
        ),
        book,
        element,
    ]
});

/// The hashed path of the static file whose plain path is `plain` (templates link to these).
/// A name that is not a static file is returned as it is.
pub fn url(plain: &str) -> &str {
    ASSETS
        .iter()
        .find(|a| a.plain == plain)
        .map_or(plain, |a| a.hashed.as_str())
}

fn register(mut r: Recorder) -> Recorder {
    for a in ASSETS.iter() {
        r = r.get(a.plain, move || async move { a.respond(SHORT) }).get(
            a.hashed.as_str(),
            move || async move { a.respond(IMMUTABLE) },
        );
    }
    r
}

/// The static files' routes. They are compressed here with the best (slowest) settings, as
/// they are few and, under their hashed names, fetched once per visitor; the service's own
/// compression layer leaves an answer compressed here alone.
pub fn routes() -> Router<WebState> {
    register(Recorder::new())
        .into_router()
        .layer(CompressionLayer::new().quality(CompressionLevel::Best))
}

/// Every static file's route as registered.
pub fn route_table() -> Vec<RecordedRoute> {
    register(Recorder::new()).table()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_follow_the_content_and_the_page_script_imports_the_hashed_element() {
        let element = url(ELEMENT);
        assert!(
            element.starts_with("/static/guidance-booking."),
            "{element}"
        );
        assert!(element.ends_with(".js"));
        assert_ne!(url("/static/guidance.css"), "/static/guidance.css");
        let book = ASSETS
            .iter()
            .find(|a| a.plain == "/static/book.js")
            .unwrap();
        assert!(book.body.contains(element), "{}", book.body);
        assert!(!book.body.contains(&format!("'{ELEMENT}'")));
        assert_eq!(url("/not/static.css"), "/not/static.css");
    }

    #[test]
    fn the_element_is_sent_minified_and_keeps_what_pages_import() {
        let element = ASSETS.iter().find(|a| a.plain == ELEMENT).unwrap();
        let source = include_str!("../../static/guidance-booking.js");
        assert!(
            element.body.len() * 10 < source.len() * 7,
            "{}",
            element.body.len()
        );
        assert!(!element.body.contains("// "));
        for export in [
            "export function detectZone",
            "export function wholeDays",
            "export class Booker",
            "export class GuidanceBooking",
        ] {
            assert!(element.body.contains(export), "{export}");
        }
    }

    #[test]
    fn scripts_are_sent_without_comment_lines_and_indentation() {
        let source = "// About.\n/**\n * Doc.\n */\nfunction f() {\n  return 'a // b'; // why\n  /* one */\n}\n";
        assert_eq!(
            lean_js(source),
            "function f() {\nreturn 'a // b'; // why\n}\n"
        );
    }
}
