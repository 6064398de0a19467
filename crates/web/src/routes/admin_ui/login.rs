//! Signing in and out, and the one-time setup link that sets the first password. These pages have
//! no session, so no page chrome: they speak the owner's language through a bare [`Tr`].

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guidance_app::AppError;
use guidance_app::owner_auth::{self, AdminSession, SetupRefused};
use guidance_app::settings;
use serde::Deserialize;

use super::chrome::{render, see_other};
use super::form::read_form;
use crate::client::Client;
use crate::error::HttpError;
use crate::i18n::Tr;
use crate::session;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    tr: Tr,
    title: String,
    error: Option<String>,
    no_password: bool,
}

async fn owner_tr(state: &WebState) -> Tr {
    Tr::new(settings::load_or_defaults(&state.app).await.language)
}

/// `GET /admin/login` (a signed-in owner goes on to the dashboard).
pub(super) async fn login_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    // Signed in already: straight to the dashboard.
    if let Ok(Some(_)) = session::session_from(&state, &headers).await {
        return see_other("/admin");
    }
    login_response(&state, None, StatusCode::OK).await
}

async fn login_response(state: &WebState, error: Option<String>, status: StatusCode) -> Response {
    let tr = owner_tr(state).await;
    let no_password = matches!(owner_auth::has_password(&state.app).await, Ok(false));
    let page = LoginPage {
        title: tr.get("admin.login.title"),
        error,
        no_password,
        tr,
    };
    render(status, &page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    password: String,
}

/// `POST /admin/login`: signs in, throttling clients that guess.
pub(super) async fn login_submit(
    State(state): State<WebState>,
    client: Client,
    body: Bytes,
) -> Response {
    let form: LoginForm = read_form(&body);
    let tr = owner_tr(&state).await;
    // Sign-in has a throttle of its own (never the booking limit): each attempt counts as a
    // failure until it succeeds, and failures lock the client out for a growing while.
    let lock_if_wrong = match state.login_throttle.attempt(client.key()) {
        Ok(lock) => lock,
        Err(wait) => return throttled(&state, &tr, wait).await,
    };
    match owner_auth::sign_in(&state.app, form.password).await {
        Ok(started) => {
            state.login_throttle.succeeded(client.key());
            let mut resp = see_other("/admin");
            resp.headers_mut().insert(
                header::SET_COOKIE,
                session::session_cookie(&state, &started),
            );
            resp
        }
        Err(AppError::Unauthorized) => {
            tracing::warn!(client = %client.key(), "owner login failed");
            if let Some(wait) = lock_if_wrong {
                return throttled(&state, &tr, wait).await;
            }
            login_response(
                &state,
                Some(tr.get("admin.login.wrong_password")),
                StatusCode::UNAUTHORIZED,
            )
            .await
        }
        Err(e @ AppError::Busy) => {
            // Not the client's doing: the attempt does not count.
            state.login_throttle.not_tried(client.key());
            let e = HttpError::from(e);
            let mut resp = login_response(&state, Some(e.message(&tr)), e.status()).await;
            e.add_retry_after(&mut resp);
            resp
        }
        Err(e) => HttpError::from(e).into_response(),
    }
}

async fn throttled(state: &WebState, tr: &Tr, wait: u64) -> Response {
    let mut resp = login_response(
        state,
        Some(tr.fmt("admin.login.slow_down", &[("seconds", &wait.to_string())])),
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    resp
}

/// `POST /admin/logout`: ends the session and clears its cookie.
pub(super) async fn logout(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    if let Err(e) = owner_auth::sign_out(&state.app, &session).await {
        return HttpError::from(e).into_response();
    }
    let mut resp = see_other("/admin/login");
    resp.headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie(&state));
    resp
}

#[derive(Template)]
#[template(path = "admin/setup.html")]
struct SetupPage {
    tr: Tr,
    title: String,
    valid: bool,
    error: Option<String>,
}

/// `GET /admin/setup/{token}`: the form to set the first password, while the link is valid.
pub(super) async fn setup_page(
    State(state): State<WebState>,
    Path(token): Path<String>,
) -> Response {
    let tr = owner_tr(&state).await;
    let valid = owner_auth::setup_link_valid(&state.app, &token).await;
    let page = SetupPage {
        title: tr.get("admin.setup.title"),
        valid,
        error: None,
        tr,
    };
    render(
        if valid {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        },
        &page,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SetupForm {
    password: String,
    repeat: String,
}

/// `POST /admin/setup/{token}`: sets the password and signs in.
pub(super) async fn setup_submit(
    State(state): State<WebState>,
    client: Client,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let form: SetupForm = read_form(&body);
    let tr = owner_tr(&state).await;
    // Guessing setup links counts like guessing passwords.
    let client = client.key();
    if let Err(wait) = state.login_throttle.check(client) {
        return throttled(&state, &tr, wait).await;
    }
    let page = |error: String, valid: bool, status: StatusCode| {
        render(
            status,
            &SetupPage {
                tr: tr.clone(),
                title: tr.get("admin.setup.title"),
                valid,
                error: Some(error),
            },
        )
    };
    match owner_auth::set_password_with_link(&state.app, &token, form.password, &form.repeat).await
    {
        Ok(started) => {
            let mut resp = see_other("/admin?done=password_set");
            resp.headers_mut().insert(
                header::SET_COOKIE,
                session::session_cookie(&state, &started),
            );
            resp
        }
        Err(SetupRefused::Password(problem)) => page(
            tr.get(&format!("admin.password.{}", problem.code())),
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(SetupRefused::LinkInvalid) => {
            state.login_throttle.failed(client);
            page(tr.get("admin.setup.invalid"), false, StatusCode::NOT_FOUND)
        }
        Err(SetupRefused::App(e)) => HttpError::from(e).into_response(),
    }
}
