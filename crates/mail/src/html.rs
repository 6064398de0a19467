//! The HTML part: one auto-escaping askama template (`templates/email.html`) for every message.
//!
//! Every string, user text and locale text alike, goes through askama's HTML escaping; the
//! template itself holds markup only. The layout is a single column with inline styles (mail
//! clients drop `<style>` blocks), declares light and dark support and sets no background, so a
//! dark-mode client keeps its own colours.

use askama::Template;

use crate::content::Content;

#[derive(Template)]
#[template(path = "email.html")]
struct EmailHtml<'a> {
    c: &'a Content,
}

/// The HTML document for `content`.
pub fn render(content: &Content) -> String {
    EmailHtml { c: content }
        .render()
        // Rendering only writes strings into a String, which cannot fail.
        .expect("rendering the email template into a String cannot fail")
}
