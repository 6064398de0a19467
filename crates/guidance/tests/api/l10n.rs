//! Every page and every email in every language: no missing key, no English left over (apart
//! from names and data), dates in the language's own form; Arabic right to left. Screenshots of
//! `/book` in Arabic and Japanese and of the admin bookings list in German.

use std::collections::BTreeMap;

use guidance_core::i18n;
use guidance_testkit::api::intake;
use guidance_testkit::mail::{action_links, all_text, header};
use guidance_testkit::time::{hours_ahead, iso};
use guidance_testkit::{Browser, BrowserOptions};
use serde_json::{Value, json};

use crate::admin_ui::{PASSWORD, spawn_admin_app_with};
use crate::helpers::*;

/// English texts of `areas` that would give a missing translation away: the runs of several
/// words between placeholders, of texts that read differently in `lang`.
fn english_giveaways(lang: &str, areas: &[&str]) -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../locales");
    let mut out = Vec::new();
    for area in areas {
        let en: BTreeMap<String, String> = serde_json::from_str(
            &std::fs::read_to_string(format!("{root}/en/{area}.json")).unwrap(),
        )
        .unwrap();
        for (key, text) in en {
            if i18n::t(lang, &key) == text {
                continue;
            }
            for run in text.split(['{', '}']).step_by(2) {
                let run = run.trim();
                if run.split_whitespace().count() >= 3 && run.len() >= 16 {
                    out.push(run.to_owned());
                }
            }
        }
    }
    assert!(
        out.len() > 20,
        "too few English texts to look for in {lang}"
    );
    out
}

fn assert_translated(lang: &str, what: &str, text: &str, giveaways: &[String]) {
    assert!(
        !text.contains('⟦'),
        "{lang} {what} shows a missing key:\n{text}"
    );
    for english in giveaways {
        assert!(
            !text.contains(english.as_str()),
            "{lang} {what} still says {english:?}"
        );
    }
}

fn slot_date(lang: &str, starts_at: &str, zone: &str) -> String {
    let t: jiff::Timestamp = starts_at.parse().unwrap();
    i18n::format_date(lang, &t.to_zoned(jiff::tz::TimeZone::get(zone).unwrap()))
}

#[tokio::test]
async fn every_page_in_every_language() {
    let app = spawn_app().await;
    let slot = app.create_slot(30).await;
    let spare = app.create_slot(33).await;
    let (status, booked) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{booked}");
    let visitor = booked["status_url"]
        .as_str()
        .expect("the visitor's link")
        .to_owned();
    let owner_mail = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    let accept = action_links(&owner_mail, &app.base)[0].clone();
    let spare_start = app.open_slot_start(&spare).await;
    for lang in i18n::languages().into_iter().filter(|l| *l != "en") {
        let giveaways = english_giveaways(lang, &["public", "errors"]);
        for (what, url) in [
            (
                "/book",
                app.url(&format!("/book?lang={lang}&tz=Europe/Berlin")),
            ),
            ("the owner's link page", format!("{accept}?lang={lang}")),
            ("the visitor's page", format!("{visitor}?lang={lang}")),
        ] {
            let resp = app.get(&url).await;
            assert_eq!(resp.status(), 200, "{lang} {what}");
            let html = resp.text().await.unwrap();
            assert!(
                html.contains(&format!(
                    "<html lang=\"{lang}\" dir=\"{}\"",
                    i18n::direction(lang)
                )),
                "{lang} {what}"
            );
            assert_translated(lang, what, &html, &giveaways);
        }
        // The booking page names the day in the language's own form (CLDR), in the chosen zone.
        let html = app
            .text(&format!("/book?lang={lang}&tz=Europe/Berlin"))
            .await;
        let day = slot_date(lang, &spare_start, "Europe/Berlin");
        assert!(html.contains(&day), "{lang} /book lacks {day:?}");
        // JSON errors follow the request's language; codes stay stable.
        let resp = app
            .client
            .post(app.url("/api/bookings"))
            .header("accept-language", lang)
            .json(&json!({"slot_id": spare, "email": "nope"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid");
        assert_eq!(body["error"]["message"], i18n::t(lang, "errors.invalid"));
        assert_ne!(body["error"]["message"], i18n::t("en", "errors.invalid"));
    }
    assert!(i18n::is_rtl("ar"));
}

#[tokio::test]
async fn every_email_in_every_language() {
    for lang in i18n::languages() {
        let app = spawn_app_with(|c| c.owner_language = lang.to_owned()).await;
        let first = app.create_slot(40).await;
        let second = app.create_slot(42).await;
        let third = app.create_slot(44).await;
        // Around the session: one accepted (its reminders, the owner's too), one unanswered.
        let fourth = app.create_slot(46).await;
        let fifth = app.create_slot(48).await;
        assert_eq!(app.put_settings(json!({"remind_owner": true})).await.0, 200);
        let mut ids = Vec::new();
        for slot in [&first, &second, &third, &fourth, &fifth] {
            let mut body = intake(slot);
            body["locale"] = json!(lang);
            let (status, booked) = app.book(&body).await;
            assert_eq!(status, 201, "{lang}: {booked}");
            ids.push(booked["id"].as_str().unwrap().to_owned());
        }
        for (id, actions) in ids.iter().zip([
            &["accept", "cancel"][..],
            &["reschedule"][..],
            &["decline"][..],
            &["accept"][..],
        ]) {
            for action in actions {
                let (status, body) = app.act(id, action, None).await;
                assert_eq!(status, 200, "{lang} {action}: {body}");
            }
        }
        let kinds = [
            "owner_new_request",
            "requester_received",
            "owner_accepted",
            "requester_accepted",
            "requester_cancelled",
            "owner_calendar_cancel",
            "requester_pick_new_time",
            "requester_declined",
            "requester_session_reminder",
            "owner_session_reminder",
            "owner_answer_reminder",
            "requester_expired",
            "owner_expired",
        ];
        // The fourth's day-before reminders and the fifth's answer reminder, then its expiry.
        app.pass_hours(40.0).await;
        app.mail.wait_for("owner_answer_reminder", 1).await;
        app.pass_hours(8.0).await;
        for kind in kinds {
            app.mail.wait_for(kind, 1).await;
        }
        if lang == "en" {
            continue;
        }
        let giveaways = english_giveaways(lang, &["email"]);
        for path in app.mail.paths() {
            let raw = std::fs::read(&path).unwrap();
            let text = header(&raw, "Subject").unwrap_or_default() + &all_text(&raw);
            let what = path.file_name().unwrap().to_string_lossy().into_owned();
            assert_translated(lang, &what, &text, &giveaways);
            // A date in the language's own words: one of the three session days, in the owner's or
            // the requester's zone.
            let mut days = Vec::new();
            for hours in [40, 42, 44, 46, 48] {
                let at = iso(hours_ahead(hours));
                days.push(slot_date(lang, &at, "Europe/Berlin"));
                days.push(slot_date(lang, &at, "America/Los_Angeles"));
            }
            assert!(
                days.iter().any(|d| text.contains(d.as_str())),
                "{lang} {what} has no date in its language ({days:?}):\n{text}"
            );
        }
        if lang == "ar" {
            let text = all_text(&app.mail.of_kind("requester_received").remove(0));
            assert!(
                text.contains("dir=\"rtl\""),
                "Arabic emails read right to left"
            );
        }
    }
}

#[tokio::test]
async fn screenshots_in_arabic_japanese_and_german() {
    let app = spawn_admin_app_with(|c| c.owner_language = "de".into()).await;
    let slot = app.create_slot(30).await;
    app.create_slot(33).await;
    let (status, _) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201);
    for (lang, name) in [("ar", "l10n-book-ar"), ("ja", "l10n-book-ja")] {
        let browser = Browser::start_with(BrowserOptions {
            language: lang.into(),
            ..BrowserOptions::default()
        })
        .await;
        browser
            .client
            .goto(&app.url(&format!("/book?lang={lang}&tz=Asia/Tokyo")))
            .await
            .unwrap();
        let dir = browser.element("html").await.attr("dir").await.unwrap();
        assert_eq!(dir.as_deref(), Some(i18n::direction(lang)), "{lang}");
        assert_eq!(
            browser.text_of("h1").await,
            i18n::t(lang, "public.book.heading")
        );
        browser.screenshot(name).await;
        browser.close().await;
    }
    let browser = Browser::start_with(BrowserOptions {
        language: "de".into(),
        ..BrowserOptions::default()
    })
    .await;
    let c = &browser.client;
    c.goto(&app.url("/admin/login")).await.unwrap();
    browser.type_into("#password", PASSWORD).await;
    browser.click("button.primary").await;
    browser.wait_for_path("/admin").await;
    c.goto(&app.url("/admin/bookings")).await.unwrap();
    browser.wait_for_path("/admin/bookings").await;
    let html = c.source().await.unwrap();
    assert!(
        html.contains("<html lang=\"de\""),
        "the admin area follows the owner's language"
    );
    assert!(!html.contains('⟦'));
    browser.screenshot("l10n-admin-bookings-de").await;
    browser.close().await;
}
