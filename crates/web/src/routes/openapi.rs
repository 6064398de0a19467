//! `GET /api/openapi.json`: the OpenAPI document of the public and owner APIs, generated from the
//! handlers' `#[utoipa::path]` annotations and the body types in [`super::bodies`], built once
//! and then served as bytes.
//!
//! What every operation of a kind can answer is added here once, rather than on each handler:
//! the owner check (401, 403 for a session without its CSRF token, the security schemes), the
//! body limit (413), the rate limit of the booking endpoints (429 with `Retry-After`) and an
//! unreachable database (503).

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{Ref, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, OpenApi as Document, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};

use super::api::{ACT_ALIAS, CREATE_BOOKING_ALIAS};
use super::bodies::ErrorBody;
use super::{admin, admin_calendars, admin_privacy, admin_webhooks, api, embed};
use crate::BODY_LIMIT;
use crate::session;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Guidance",
        description = "Guidance-session booking: the public API (slots, booking requests, emailed \
            links) and the owner API. Errors are `{\"error\":{\"code\",\"message\",\"fields\"?}}` \
            with a stable code and a message in the language of `Accept-Language`."
    ),
    paths(
        api::list_slots,
        api::create_booking,
        api::act,
        embed::intake,
        serve,
        admin::list_slots,
        admin::create_slot,
        admin::generate_slots,
        admin::update_slot,
        admin::delete_slot,
        admin::list_bookings,
        admin::booking_detail,
        admin::resend,
        admin::booking_action,
        admin::list_questions,
        admin::put_questions,
        admin::get_settings,
        admin::put_settings,
        admin::list_replies,
        admin_calendars::list_calendars,
        admin_calendars::add_calendar,
        admin_calendars::remove_calendar,
        admin_calendars::refresh_calendar,
        admin_calendars::get_feed,
        admin_calendars::rotate_feed,
        admin_privacy::erase,
        admin_webhooks::list_webhooks,
        admin_webhooks::add_webhook,
        admin_webhooks::remove_webhook,
        admin_webhooks::list_deliveries,
        admin_webhooks::send_again,
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "public", description = "For visitors' browsers and sites embedding the booking form"),
        (name = "owner", description = "For the owner's scripts: `Authorization: Bearer $GUIDANCE_ADMIN_TOKEN`, \
            or the admin session (state-changing requests then also need the `X-CSRF-Token` header)"),
    ),
    modifiers(&CommonAnswers, &Aliases),
)]
struct ApiDoc;

/// The document, built on first use.
static DOCUMENT: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    serde_json::to_vec(&doc).expect("the OpenAPI document serializes")
});

/// The OpenAPI document, as served.
pub fn document() -> &'static [u8] {
    &DOCUMENT
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "public",
    responses((status = 200, description = "The OpenAPI 3.1 document of the public and owner APIs",
        content_type = "application/json", body = Object)))]
pub(super) async fn serve() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

/// Paths under which the owner check guards every route.
const OWNER_PREFIX: &str = "/api/admin/";

/// Paths whose requests count against the per-address rate limit.
const RATE_LIMITED: [&str; 2] = ["/api/bookings", "/api/actions"];

/// The answers every operation of a kind shares, as reusable responses, and the owner API's
/// security schemes.
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.security_schemes.insert(
            "owner".into(),
            RefOr::T(SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`GUIDANCE_ADMIN_TOKEN`; off when it is not configured",
                    ))
                    .build(),
            )),
        );
        components.security_schemes.insert(
            "ownerSession".into(),
            RefOr::T(SecurityScheme::ApiKey(ApiKey::Cookie(
                ApiKeyValue::with_description(
                    session::SESSION_COOKIE,
                    "The admin UI's session (named `__Host-guidance_admin` when the public URL \
                 is https); state-changing requests also need its CSRF token in an \
                 `X-CSRF-Token` header",
                ),
            ))),
        );
        for (name, response) in [
            (
                "Unauthorized",
                error_response("Missing or wrong credentials (`unauthorized`)")
                    .header("WWW-Authenticate", string_header("`Bearer`")),
            ),
            (
                "CsrfRefused",
                error_response(
                    "A session request that changes something came without its CSRF token (`csrf_refused`)",
                ),
            ),
            (
                "TooLarge",
                ResponseBuilder::new()
                    .description(format!("The body is larger than {} KiB", BODY_LIMIT / 1024)),
            ),
            (
                "TooManyRequests",
                error_response("Too many requests from this client address (`too_many_requests`, with `Retry-After`), or too many requests of this email address awaiting the owner (`too_many_pending`)").header(
                    "Retry-After",
                    string_header("Seconds to wait before trying again"),
                ),
            ),
            (
                "Unavailable",
                error_response(
                    "The database cannot be reached right now (`unavailable`); try again shortly",
                ),
            ),
        ] {
            components
                .responses
                .insert(name.into(), RefOr::T(response.build()));
        }

        let owner_security = vec![
            SecurityRequirement::new("owner", Vec::<String>::new()),
            SecurityRequirement::new("ownerSession", Vec::<String>::new()),
        ];
        for (path, item) in doc.paths.paths.iter_mut() {
            let owner = path.starts_with(OWNER_PREFIX);
            let limited = RATE_LIMITED.contains(&path.as_str());
            let is_document = path == "/api/openapi.json";
            for (safe, op) in operations(item) {
                let mut add = |status: &str, name: &str| {
                    op.responses
                        .responses
                        .entry(status.into())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                };
                if owner {
                    add("401", "Unauthorized");
                    if !safe {
                        add("403", "CsrfRefused");
                    }
                }
                if limited {
                    add("429", "TooManyRequests");
                }
                if !is_document {
                    add("503", "Unavailable");
                }
                if op.request_body.is_some() {
                    add("413", "TooLarge");
                }
                if owner {
                    op.security = Some(owner_security.clone());
                }
            }
        }
    }
}

/// An answer with the JSON error body.
fn error_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(ErrorBody::name())))
            .build(),
    )
}

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
        .description(Some(description))
        .build()
}

/// Each operation of a path item, with whether its method is safe (changes nothing).
fn operations(item: &mut PathItem) -> impl Iterator<Item = (bool, &mut Operation)> {
    [
        (true, item.get.as_mut()),
        (false, item.post.as_mut()),
        (false, item.put.as_mut()),
        (false, item.patch.as_mut()),
        (false, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(safe, op)| op.map(|op| (safe, op)))
}

/// The `/functions/v1/...` names of the booking endpoints: the same operations under a second
/// path, each with its own operation id.
struct Aliases;

impl Modify for Aliases {
    fn modify(&self, doc: &mut Document) {
        for (path, alias, id) in [
            (
                "/api/bookings",
                CREATE_BOOKING_ALIAS,
                "create_guidance_booking",
            ),
            ("/api/actions", ACT_ALIAS, "update_guidance_booking"),
        ] {
            let mut item = doc
                .paths
                .paths
                .get(path)
                .cloned()
                .unwrap_or_else(|| panic!("{path} is documented"));
            if let Some(op) = item.post.as_mut() {
                op.operation_id = Some(id.to_owned());
                op.summary = Some(format!("The same as POST {path}"));
            }
            doc.paths.paths.insert(alias.to_owned(), item);
        }
    }
}
