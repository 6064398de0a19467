//! The "Erase a visitor" page: the owner names an email address, sees how many bookings it has,
//! and confirms; only the confirming `POST` erases (through the same use case as the owner API).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::response::Response;
use guidance_app::AppError;
use guidance_app::owner_auth::AdminSession;
use serde::Deserialize;

use super::chrome::{Chrome, FlashQuery, chrome, error_response, render, see_other};
use super::form::{FieldErrors, FieldMessages, read_form};
use crate::error::HttpError;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "admin/erase.html")]
struct ErasePage {
    chrome: Chrome,
    title: String,
    email: String,
    /// Set once the address was given: what the owner confirms.
    confirm: Option<String>,
    count: String,
    errors: FieldMessages,
}

/// The erase form as sent: the address, and `confirm=yes` from the confirmation's button.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EraseForm {
    email: String,
    confirm: String,
}

/// `GET /admin/erase`.
pub(super) async fn erase_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    erase_response(
        &state,
        &session,
        String::new(),
        None,
        FieldErrors::new(),
        &flash,
    )
    .await
}

async fn erase_response(
    state: &WebState,
    session: &AdminSession,
    email: String,
    bookings: Option<usize>,
    field_errors: FieldErrors,
    flash: &FlashQuery,
) -> Response {
    let result = async {
        let (mut chrome, _) = chrome(state, session, "settings", flash).await?;
        let tr = chrome.tr.clone();
        let errors = FieldMessages::show(&mut chrome, &field_errors);
        Ok::<_, HttpError>(ErasePage {
            title: tr.get("admin.erase.title"),
            confirm: bookings.map(|_| tr.fmt("admin.erase.confirm", &[("email", &email)])),
            count: tr.fmt(
                "admin.erase.count",
                &[("n", &bookings.unwrap_or(0).to_string())],
            ),
            email,
            errors,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(page.errors.status(), &page),
        Err(e) => error_response(state, session, e).await,
    }
}

/// `POST /admin/erase`: without `confirm`, shows what would be erased and asks; with it,
/// erases and comes back to the empty form with a flash.
pub(super) async fn erase_submit(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    body: Bytes,
) -> Response {
    let form: EraseForm = read_form(&body);
    let email = form.email.trim().to_owned();
    let flash = FlashQuery::default();
    if form.confirm != "yes" {
        // The address alone: what it would erase, and a button that confirms.
        let checked = guidance_app::privacy::check_address(&email);
        let found = match checked {
            Ok(address) => guidance_app::bookings::find_bookings(&state.app, None, address)
                .await
                .map(|all| {
                    all.iter()
                        .filter(|b| b.email.trim().eq_ignore_ascii_case(address))
                        .count()
                }),
            Err(e) => Err(e),
        };
        return match found {
            Ok(n) => {
                erase_response(&state, &session, email, Some(n), FieldErrors::new(), &flash).await
            }
            Err(AppError::Invalid(fields)) => {
                erase_response(&state, &session, email, None, fields, &flash).await
            }
            Err(e) => error_response(&state, &session, e).await,
        };
    }
    match guidance_app::privacy::erase_address(&state.app, &email).await {
        Ok(_) => see_other("/admin/erase?done=visitor_erased"),
        Err(AppError::Invalid(fields)) => {
            erase_response(&state, &session, email, None, fields, &flash).await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}
