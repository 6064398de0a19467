//! The owner's settings page: booking open or closed, notice and horizon, name, address, zone and
//! language (the supplemental questions have their own pages in `questions`).

use guidance_core::FieldErrors;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::response::Response;
use guidance_app::AppError;
use guidance_app::owner_auth::AdminSession;
use guidance_app::settings;
use guidance_core::owner_settings::SettingsForm;

use super::chrome::{Chrome, FlashQuery, chrome, error_response, render, see_other};
use super::form::{FieldMessages, read_form};
use super::format::replies_reading;
use crate::error::HttpError;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    title: String,
    form: SettingsForm,
    open: bool,
    /// What asking visitors to confirm their address does, with the configured hold.
    confirm_hint: String,
    languages: Vec<(String, bool)>,
    zones: Vec<String>,
    errors: FieldMessages,
    /// Whether calendar replies are read from the service mailbox.
    replies_reading: String,
}

/// `GET /admin/settings`.
pub(super) async fn settings_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    match settings::load(&state.app).await {
        Ok(owner) => {
            settings_response(
                &state,
                &session,
                owner.to_form(),
                FieldErrors::new(),
                &flash,
            )
            .await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}

async fn settings_response(
    state: &WebState,
    session: &AdminSession,
    form: SettingsForm,
    field_errors: FieldErrors,
    flash: &FlashQuery,
) -> Response {
    let result = async {
        let (mut chrome, owner) = chrome(state, session, "settings", flash).await?;
        let tr = chrome.tr.clone();
        let errors = FieldMessages::show(&mut chrome, &field_errors);
        let languages = guidance_core::i18n::languages()
            .into_iter()
            .map(|l| (l.to_owned(), l == form.language.trim()))
            .collect();
        Ok::<_, HttpError>(SettingsPage {
            title: tr.get("admin.settings.title"),
            open: form
                .booking_open
                .as_deref()
                .is_some_and(|v| v == "on" || v == "true"),
            confirm_hint: tr.fmt(
                "admin.settings.confirm_email_hint",
                &[(
                    "minutes",
                    &state.app.settings.config.confirm_hold_minutes.to_string(),
                )],
            ),
            form,
            languages,
            // Suggestions for the time zone field, from the zone database this build uses.
            zones: {
                let mut z: Vec<String> = jiff::tz::db()
                    .available()
                    .map(|n| n.to_string())
                    .filter(|n| n.contains('/') && !n.starts_with("Etc/"))
                    .collect();
                z.sort();
                z
            },
            errors,
            replies_reading: replies_reading(
                &tr,
                &owner,
                &guidance_app::replies::reading_status(&state.app).await?,
            ),
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(page.errors.status(), &page),
        Err(e) => error_response(state, session, e).await,
    }
}

/// `POST /admin/settings`: saves; refused, the form comes back as typed.
pub(super) async fn settings_submit(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    body: Bytes,
) -> Response {
    let form: SettingsForm = read_form(&body);
    match settings::save(&state.app, &form).await {
        Ok(_) => see_other("/admin/settings?done=settings_saved"),
        Err(AppError::Invalid(fields)) => {
            settings_response(&state, &session, form, fields, &FlashQuery::default()).await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}
