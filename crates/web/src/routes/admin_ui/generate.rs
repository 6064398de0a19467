//! Generating slots from a weekly pattern: the form, and the report of what was created and what
//! was skipped.

use guidance_core::FieldErrors;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::response::Response;
use guidance_app::AppError;
use guidance_app::owner_auth::AdminSession;
use guidance_app::patterns;
use guidance_app::settings;
use guidance_core::i18n;
use guidance_core::pattern::RawPattern;
use jiff::ToSpan;
use jiff::civil::Weekday;

use super::chrome::{Chrome, FlashQuery, chrome, error_response, render};
use super::form::{FieldMessages, form_pairs, form_value};
use super::format::{monday_of, short_date, time_of_day, zoned};
use crate::error::HttpError;
use crate::i18n::Tr;
use crate::state::WebState;

/// The pattern form as typed.
#[derive(Debug, Default, Clone)]
struct PatternForm {
    weekdays: Vec<String>,
    window_start: String,
    window_end: String,
    session_minutes: String,
    gap_minutes: String,
    first_day: String,
    last_day: String,
}

impl PatternForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        Self {
            weekdays: pairs
                .iter()
                .filter(|(k, _)| k == "weekdays")
                .map(|(_, v)| v.clone())
                .collect(),
            window_start: form_value(pairs, "window_start").to_owned(),
            window_end: form_value(pairs, "window_end").to_owned(),
            session_minutes: form_value(pairs, "session_minutes").to_owned(),
            gap_minutes: form_value(pairs, "gap_minutes").to_owned(),
            first_day: form_value(pairs, "first_day").to_owned(),
            last_day: form_value(pairs, "last_day").to_owned(),
        }
    }

    fn raw(&self) -> RawPattern {
        RawPattern {
            weekdays: self.weekdays.clone(),
            window_start: self.window_start.clone(),
            window_end: self.window_end.clone(),
            session_minutes: self.session_minutes.clone(),
            gap_minutes: self.gap_minutes.clone(),
            first_day: self.first_day.clone(),
            last_day: self.last_day.clone(),
        }
    }
}

/// One skipped session in the report.
struct SkippedRow {
    date: String,
    time: String,
    reason: String,
}

/// What a pattern produced, for the page.
struct ReportView {
    created_label: String,
    skipped_label: String,
    skipped: Vec<SkippedRow>,
    first_week: String,
}

#[derive(Template)]
#[template(path = "admin/generate.html")]
struct GeneratePage {
    chrome: Chrome,
    title: String,
    form: PatternForm,
    weekdays: Vec<(String, String, bool)>,
    errors: FieldMessages,
    report: Option<ReportView>,
}

/// `GET /admin/slots/generate`: the pattern form, filled in for the working days of next week.
pub(super) async fn generate_form(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    let today = match settings::load(&state.app).await {
        Ok(o) => zoned(state.app.now(), &o).date(),
        Err(e) => return error_response(&state, &session, e).await,
    };
    let next_monday = monday_of(today).checked_add(7.days()).unwrap_or(today);
    let form = PatternForm {
        weekdays: (1..=5).map(|d: i32| d.to_string()).collect(),
        window_start: "09:00".into(),
        window_end: "12:00".into(),
        session_minutes: "45".into(),
        gap_minutes: "15".into(),
        first_day: next_monday.to_string(),
        last_day: next_monday
            .checked_add(4.days())
            .unwrap_or(next_monday)
            .to_string(),
    };
    generate_response(&state, &session, form, FieldErrors::new(), None).await
}

async fn generate_response(
    state: &WebState,
    session: &AdminSession,
    form: PatternForm,
    field_errors: FieldErrors,
    report: Option<ReportView>,
) -> Response {
    let result = async {
        let (mut chrome, _) = chrome(state, session, "slots", &FlashQuery::default()).await?;
        let tr = chrome.tr.clone();
        let errors = FieldMessages::show(&mut chrome, &field_errors);
        let weekdays = (1..=7)
            .map(|d: i32| {
                let v = d.to_string();
                let checked = form.weekdays.contains(&v);
                let name = Weekday::from_monday_one_offset(i8::try_from(d).unwrap_or(1))
                    .map(|w| i18n::format_weekday(tr.lang, w))
                    .unwrap_or_default();
                (v, name, checked)
            })
            .collect();
        Ok::<_, HttpError>(GeneratePage {
            title: tr.get("admin.generate.title"),
            weekdays,
            errors,
            form,
            report,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(page.errors.status(), &page),
        Err(e) => error_response(state, session, e).await,
    }
}

/// `POST /admin/slots/generate`: creates the slots and shows the form again with the report.
pub(super) async fn generate_submit(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    body: Bytes,
) -> Response {
    let form = PatternForm::from_pairs(&form_pairs(&body));
    match patterns::generate_slots(&state.app, &form.raw()).await {
        Ok(report) => {
            let owner = match settings::load(&state.app).await {
                Ok(o) => o,
                Err(e) => return error_response(&state, &session, e).await,
            };
            let tr = Tr::new(owner.language);
            let view = ReportView {
                created_label: tr.count(
                    "admin.generate.report.created",
                    report.created.len() as u64,
                    &[],
                ),
                skipped_label: tr.count(
                    "admin.generate.report.skipped",
                    report.skipped.len() as u64,
                    &[],
                ),
                first_week: report
                    .created
                    .first()
                    .map(|s| zoned(s.starts_at, &owner).date().to_string())
                    .unwrap_or_else(|| form.first_day.clone()),
                skipped: report
                    .skipped
                    .iter()
                    .map(|(date, time, why)| SkippedRow {
                        date: short_date(
                            &tr,
                            &date.to_zoned(owner.time_zone.zone()).unwrap_or_default(),
                        ),
                        // The local time as the pattern named it, even where it does not
                        // exist that day: read in UTC, which has no gaps, it stays as it is.
                        time: date
                            .to_datetime(*time)
                            .to_zoned(jiff::tz::TimeZone::UTC)
                            .map(|z| time_of_day(&tr, &z))
                            .unwrap_or_else(|_| time.strftime("%H:%M").to_string()),
                        reason: tr.get(&format!("admin.generate.skipped.{}", why.code())),
                    })
                    .collect(),
            };
            generate_response(&state, &session, form, FieldErrors::new(), Some(view)).await
        }
        Err(AppError::Invalid(fields)) => {
            generate_response(&state, &session, form, fields, None).await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}
