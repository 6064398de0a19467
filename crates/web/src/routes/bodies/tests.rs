//! The bodies' parsing and their documentation agree.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use guidance_core::owner_settings::{self, Setting};
use guidance_core::{FieldErrors, FieldReason};
use utoipa::ToSchema;

use super::*;
use crate::extract::JsonBody;

/// The documented properties of `T`.
fn properties<T: ToSchema>() -> serde_json::Map<String, Value> {
    let schema = serde_json::to_value(T::schema()).expect("a schema serializes");
    schema["properties"]
        .as_object()
        .cloned()
        .expect("an object schema")
}

/// A body with every documented property of `T` that must be of one JSON type sent with
/// another type, and the names of those properties.
fn mistyped<T: ToSchema + DeserializeOwned>() -> (T, Vec<String>) {
    let mut body = serde_json::Map::new();
    for (name, property) in properties::<T>() {
        let of_type = |t: &str| {
            property["type"] == t
                || property["type"]
                    .as_array()
                    .is_some_and(|a| a.contains(&json!(t)))
        };
        let wrong = if of_type("object") {
            // Any JSON, read by the rules of what it holds (the answers).
            continue;
        } else if of_type("string") {
            json!(42)
        } else {
            json!("text")
        };
        body.insert(name, wrong);
    }
    let names = body.keys().cloned().collect();
    let parsed = JsonBody::<T>::parse(Value::Object(body).to_string().as_bytes())
        .expect("a body of Fields always deserializes");
    (parsed, names)
}

fn keys(refused: FieldErrors) -> Vec<String> {
    assert!(
        refused.iter().all(|(_, r)| r == FieldReason::WrongType),
        "{refused:?}"
    );
    refused.into_iter().map(|(f, _)| f).collect()
}

#[test]
fn every_documented_field_of_each_body_is_read_and_every_mistyped_one_named_at_once() {
    let (b, names) = mistyped::<BookingRequest>();
    assert_eq!(names.len(), 10, "{names:?}");
    assert_eq!(keys(b.wrong_types()), names);
    let (b, names) = mistyped::<ActionRequest>();
    assert_eq!(keys(b.wrong_types()), names);
    let (b, names) = mistyped::<NewSlot>();
    assert_eq!(keys(b.wrong_types()), names);
    let (b, names) = mistyped::<SlotChange>();
    assert_eq!(keys(b.wrong_types()), names);
    let (b, names) = mistyped::<ResendRequest>();
    assert_eq!(keys(b.wrong_types()), names);
    let (b, names) = mistyped::<OwnerActionRequest>();
    assert_eq!(keys(b.wrong_types()), names);
    let (b, names) = mistyped::<QuestionsChange>();
    assert_eq!(keys(b.wrong_types()), names);
    let (b, names) = mistyped::<SettingsChange>();
    assert_eq!(names.len(), Setting::ALL.len());
    assert_eq!(keys(b.into_change().refused), names);
}

#[test]
fn the_settings_api_reads_and_shows_exactly_the_settings() {
    let mut settings: Vec<&str> = Setting::ALL.iter().map(|s| s.key()).collect();
    settings.sort_unstable();
    let documented = |p: serde_json::Map<String, Value>| p.keys().cloned().collect::<Vec<_>>();
    assert_eq!(documented(properties::<SettingsChange>()), settings);
    assert_eq!(documented(properties::<SettingsBody>()), settings);
    // Each setting is read in its own type, into its own place of the change.
    let body = json!({"booking_open": false, "owner_name": "Grete", "owner_email": "g@example.org",
        "time_zone": "Europe/Berlin", "language": "de", "min_notice_hours": 12,
        "horizon_days": 30, "confirm_email": true, "answer_within_hours": 24,
        "answer_reminder_hours": 6, "reminder_offsets_minutes": [120, 15], "remind_owner": true,
        "proposed_time_needs_approval": true});
    let change = JsonBody::<SettingsChange>::parse(body.to_string().as_bytes())
        .unwrap()
        .into_change();
    assert_eq!(
        change,
        owner_settings::SettingsChange {
            booking_open: Some(false),
            owner_name: Some("Grete".into()),
            owner_email: Some("g@example.org".into()),
            time_zone: Some("Europe/Berlin".into()),
            language: Some("de".into()),
            min_notice_hours: Some(12),
            horizon_days: Some(30),
            confirm_email: Some(true),
            answer_within_hours: Some(24),
            answer_reminder_hours: Some(6),
            reminder_offsets_minutes: Some(vec![120, 15]),
            remind_owner: Some(true),
            proposed_time_needs_approval: Some(true),
            busy_buffer_minutes: None,
            calendar_fail_open: None,
            retention_days: None,
            refused: FieldErrors::new(),
        }
    );
    // Left out: kept. Null, text for a number or flag, and unknown keys: refused together.
    let body = json!({"owner_name": null, "min_notice_hours": "24", "booking_open": "true",
        "horizon_days": 2.5, "colour": "blue", "time_zone": "UTC"});
    let change = JsonBody::<SettingsChange>::parse(body.to_string().as_bytes())
        .unwrap()
        .into_change();
    assert_eq!(change.time_zone.as_deref(), Some("UTC"));
    assert_eq!(change.language, None);
    assert_eq!(
        change.refused.codes(),
        [
            ("booking_open", "wrong_type"),
            ("colour", "unknown_value"),
            ("horizon_days", "wrong_type"),
            ("min_notice_hours", "wrong_type"),
            ("owner_name", "wrong_type"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into_iter()
        .collect()
    );
}
