//! `GET /api/openapi.json` against the real routers and real responses: the document lists
//! exactly the routes that are served, it is a well-formed OpenAPI 3.1 document whose `$ref`s
//! all resolve, and what the handlers answer validates against the schemas it documents.

use std::collections::BTreeSet;

use guidance_testkit::api::{ADMIN_TOKEN, intake, retry_after};
use guidance_web::routes::{self, admin};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &crate::helpers::TestApp) -> Value {
    let resp = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.expect("the document is JSON")
}

/// Every (method, path) the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().expect("path item") {
            assert!(METHODS.contains(&method.as_str()), "{method} {path}");
            ops.insert((method.clone(), path.clone()));
        }
    }
    ops
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_the_routers_serve() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let served: BTreeSet<(String, String)> = routes::public_route_table()
        .into_iter()
        .chain(admin::route_table())
        .map(|r| (r.method.as_str().to_lowercase(), r.path.to_owned()))
        .collect();
    let listed = documented(&doc);
    assert_eq!(
        listed.difference(&served).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented but not routed"
    );
    assert_eq!(
        served.difference(&listed).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routed but not documented"
    );

    // And each documented operation is really there: the router answers neither 405 nor its
    // own empty 404 (a handler's 404 is a JSON error).
    for (method, path) in &listed {
        let url = app.url(
            &path
                .replace("{id}", "00000000-0000-4000-8000-000000000000")
                .replace("{action}", "accept"),
        );
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut req = app
            .client
            .request(method.clone(), url)
            .bearer_auth(ADMIN_TOKEN);
        if method != Method::GET {
            req = req.json(&json!({}));
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        assert_ne!(status, 405, "{method} {path}: {body}");
        if status == 404 {
            let body: Value = serde_json::from_str(&body)
                .unwrap_or_else(|_| panic!("{method} {path}: the router's own 404"));
            assert!(body["error"]["code"].is_string(), "{method} {path}: {body}");
        }
    }
}

/// Follows a local `$ref` (`#/a/b`) in `doc`.
fn resolve<'d>(doc: &'d Value, reference: &str) -> Option<&'d Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_every_ref_resolves() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert!(!doc["info"]["title"].as_str().unwrap().is_empty());
    assert!(!doc["info"]["version"].as_str().unwrap().is_empty());

    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 50, "only {} $refs", refs.len());
    for r in &refs {
        assert!(r.starts_with("#/components/"), "{r} is not local");
        assert!(resolve(&doc, r).is_some(), "{r} does not resolve");
    }

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["owner"]["scheme"], "bearer");
    assert_eq!(schemes["ownerSession"]["in"], "cookie");
    let mut ids = BTreeSet::new();
    for (method, path) in documented(&doc) {
        let op = &doc["paths"][&path][&method];
        let id = op["operationId"].as_str().expect("operationId").to_owned();
        assert!(ids.insert(id.clone()), "operationId {id} twice");
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path} documents no success"
        );
        // Every path parameter is declared.
        for name in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
            assert!(
                op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true),
                "{method} {path}: parameter {name} is not declared"
            );
        }
        let owner = path.starts_with("/api/admin/");
        assert_eq!(op["security"].is_array(), owner, "{method} {path} security");
        if owner {
            assert!(responses.contains_key("401"), "{method} {path}: no 401");
            assert_eq!(
                responses.contains_key("403"),
                method != "get",
                "{method} {path}: 403 (CSRF) only where something changes"
            );
        }
        if op["requestBody"].is_object() {
            assert!(responses.contains_key("413"), "{method} {path}: no 413");
        }
        if path != "/api/openapi.json" {
            assert!(responses.contains_key("503"), "{method} {path}: no 503");
        }
    }
    for path in [
        "/api/bookings",
        "/functions/v1/create-guidance-booking",
        "/api/actions",
        "/functions/v1/update-guidance-booking",
    ] {
        let too_many = &doc["paths"][path]["post"]["responses"]["429"];
        let too_many = resolve(&doc, too_many["$ref"].as_str().unwrap()).unwrap();
        assert!(too_many["headers"]["Retry-After"].is_object(), "{path}");
    }

    // The limits the document states are the ones the intake parser enforces.
    let booking = &doc["components"]["schemas"]["BookingRequest"]["properties"];
    use guidance_core::intake::{EMAIL_MAX, NAME_MAX, TOPIC_MAX};
    assert_eq!(booking["name"]["maxLength"], NAME_MAX);
    assert_eq!(booking["email"]["maxLength"], EMAIL_MAX);
    assert_eq!(booking["topic"]["maxLength"], TOPIC_MAX);
    let question = &doc["components"]["schemas"]["QuestionBody"]["properties"];
    assert_eq!(
        question["label"]["maxLength"],
        guidance_core::question::LABEL_MAX
    );
    assert_eq!(
        question["options"]["maxItems"],
        guidance_core::question::OPTIONS_MAX
    );
}

/// Checks one real answer against what the document says `method path` answers with `status`.
struct Checker {
    doc: Value,
    checked: usize,
}

impl Checker {
    fn check(&mut self, method: &str, path: &str, status: u16, body: &Value) {
        let op = &self.doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        let mut response = &op["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{method} {path} answered {status}, which it does not document: {body}"
        );
        if let Some(r) = response["$ref"].as_str() {
            response = resolve(&self.doc, r).expect("response $ref");
        }
        let schema = &response["content"]["application/json"]["schema"];
        if schema.is_null() {
            assert!(body.is_null(), "{method} {path} {status}: body {body}");
            return;
        }
        // The schema within the whole document, so that its `$ref`s resolve.
        let mut root = self.doc.clone();
        root["components"]["schemas"]["__answer"] = schema.clone();
        root["$ref"] = json!("#/components/schemas/__answer");
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .expect("the schema compiles");
        let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: {errors:?}\n{body}"
        );
        self.checked += 1;
    }
}

#[tokio::test]
async fn real_answers_of_a_booking_flow_validate_against_the_document() {
    let app = spawn_app().await;
    let mut c = Checker {
        doc: document(&app).await,
        checked: 0,
    };
    let slot = app.create_slot(48).await;
    let other = app.create_slot(72).await;

    let (s, b) = app.call(Method::GET, "/api/slots", None).await;
    assert_eq!(s, 200);
    c.check("get", "/api/slots", s, &b);
    let (s, b) = app
        .call(Method::GET, "/api/slots?from=yesterday", None)
        .await;
    assert_eq!(s, 422);
    c.check("get", "/api/slots", s, &b);
    let (s, b) = app.call(Method::GET, "/api/intake?lang=de", None).await;
    assert_eq!(s, 200);
    c.check("get", "/api/intake", s, &b);

    let (s, b) = app
        .call(Method::POST, "/api/bookings", Some(intake(&slot)))
        .await;
    assert_eq!(s, 201, "{b}");
    c.check("post", "/api/bookings", s, &b);
    let booking = b["id"].as_str().unwrap().to_owned();
    let (s, b) = app
        .call(
            Method::POST,
            "/functions/v1/create-guidance-booking",
            Some(intake(&slot)),
        )
        .await;
    assert_eq!(s, 409);
    c.check("post", "/functions/v1/create-guidance-booking", s, &b);
    let mut bad = intake(&other);
    bad["email"] = json!("nope");
    bad["name"] = json!(7);
    let (s, b) = app.call(Method::POST, "/api/bookings", Some(bad)).await;
    assert_eq!(s, 422);
    assert!(b["error"]["fields"]["email"].is_object(), "{b}");
    c.check("post", "/api/bookings", s, &b);
    let (s, b) = app
        .call(Method::POST, "/api/bookings", Some(json!([1])))
        .await;
    assert_eq!(s, 400);
    c.check("post", "/api/bookings", s, &b);

    for path in ["/api/actions", "/functions/v1/update-guidance-booking"] {
        let body = json!({"token": "not-a-real-token", "action": "accept"});
        let (s, b) = app.call(Method::POST, path, Some(body)).await;
        assert_eq!(s, 404, "{b}");
        c.check("post", path, s, &b);
    }

    let (s, b) = app.call(Method::GET, "/api/admin/slots", None).await;
    assert_eq!(s, 401);
    c.check("get", "/api/admin/slots", s, &b);
    let (s, b) = app.admin(Method::GET, "/api/admin/slots", None).await;
    assert_eq!(s, 200);
    c.check("get", "/api/admin/slots", s, &b);
    let (s, b) = app.admin(Method::GET, "/api/admin/bookings", None).await;
    assert_eq!(s, 200);
    assert_eq!(b["bookings"].as_array().unwrap().len(), 1);
    c.check("get", "/api/admin/bookings", s, &b);
    let (s, b) = app
        .admin(Method::GET, "/api/admin/bookings?status=nope", None)
        .await;
    assert_eq!(s, 422);
    c.check("get", "/api/admin/bookings", s, &b);
    let detail = format!("/api/admin/bookings/{booking}");
    let (s, b) = app.admin(Method::GET, &detail, None).await;
    assert_eq!(s, 200);
    c.check("get", "/api/admin/bookings/{id}", s, &b);
    let email = b["emails"][0]["id"].as_str().expect("an email").to_owned();
    let (s, b) = app
        .admin(
            Method::POST,
            &format!("{detail}/resend"),
            Some(json!({"email_id": email})),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    c.check("post", "/api/admin/bookings/{id}/resend", s, &b);
    let (s, b) = app
        .admin(
            Method::POST,
            &format!("{detail}/accept"),
            Some(json!({"message": "See you then."})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    c.check("post", "/api/admin/bookings/{id}/{action}", s, &b);
    let (s, b) = app
        .admin(Method::POST, &format!("{detail}/accept"), None)
        .await;
    assert_eq!(s, 409, "{b}");
    c.check("post", "/api/admin/bookings/{id}/{action}", s, &b);

    let (s, b) = app
        .admin(Method::DELETE, &format!("/api/admin/slots/{slot}"), None)
        .await;
    assert_eq!(s, 409);
    c.check("delete", "/api/admin/slots/{id}", s, &b);
    let (s, b) = app
        .admin(
            Method::PATCH,
            &format!("/api/admin/slots/{other}"),
            Some(json!({"status": "unavailable"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    c.check("patch", "/api/admin/slots/{id}", s, &b);
    let pattern = json!({"weekdays": [1, 2, 3, 4, 5, 6, 7], "window_start": "09:00",
        "window_end": "10:00", "session_minutes": 30, "first_day": "2031-03-01",
        "last_day": "2031-03-03"});
    let (s, b) = app
        .admin(Method::POST, "/api/admin/slots/generate", Some(pattern))
        .await;
    assert_eq!(s, 201, "{b}");
    c.check("post", "/api/admin/slots/generate", s, &b);
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/admin/slots",
            Some(json!({"starts_at": "2031-03-01T08:00:00Z", "ends_at": "2031-03-01T08:30:00Z"})),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    c.check("post", "/api/admin/slots", s, &b);
    let (s, b) = app
        .admin(Method::DELETE, "/api/admin/slots/nope", None)
        .await;
    assert_eq!(s, 404);
    c.check("delete", "/api/admin/slots/{id}", s, &b);

    let (s, b) = app.admin(Method::GET, "/api/admin/questions", None).await;
    assert_eq!(s, 200);
    c.check("get", "/api/admin/questions", s, &b);
    let questions = json!({"questions": [{"key": "company", "label": "Company",
        "kind": "choice", "required": true, "options": ["A", "B"]}]});
    let (s, b) = app
        .admin(Method::PUT, "/api/admin/questions", Some(questions))
        .await;
    assert_eq!(s, 200, "{b}");
    c.check("put", "/api/admin/questions", s, &b);
    let (s, b) = app.admin(Method::GET, "/api/admin/settings", None).await;
    assert_eq!(s, 200);
    c.check("get", "/api/admin/settings", s, &b);
    let (s, b) = app
        .admin(
            Method::PUT,
            "/api/admin/settings",
            Some(json!({"min_notice_hours": 2, "booking_open": false})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    c.check("put", "/api/admin/settings", s, &b);
    let mut closed = intake(&other);
    closed["answers"] = json!({"company": "A"});
    let (s, b) = app.call(Method::POST, "/api/bookings", Some(closed)).await;
    assert_eq!(s, 403, "{b}");
    c.check("post", "/api/bookings", s, &b);
    assert_eq!(c.checked, 27);
}

#[tokio::test]
async fn a_rate_limited_answer_validates_and_carries_retry_after() {
    let app = spawn_app_with(|c| c.booking_rate_limit = 1).await;
    let doc = document(&app).await;
    let mut c = Checker { doc, checked: 0 };
    let body = json!({"token": "x"});
    let (first, _) = app
        .call(Method::POST, "/api/actions", Some(body.clone()))
        .await;
    assert_eq!(first, 404);
    let resp = app
        .client
        .post(app.url("/api/actions"))
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 429);
    let wait = retry_after(&resp).expect("a Retry-After in seconds");
    assert!((1..=60).contains(&wait));
    let b: Value = resp.json().await.unwrap();
    c.check("post", "/api/actions", 429, &b);
}
