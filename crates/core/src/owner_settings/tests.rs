//! The settings' rules: stored values, changes, the form and refusals.

use super::*;

fn base() -> OwnerSettings {
    OwnerSettings {
        booking_open: true,
        owner_name: "Olga".into(),
        owner_email: "owner@localhost".into(),
        time_zone: TimeZoneName::parse("UTC").unwrap(),
        language: "en",
        min_notice_hours: 0,
        horizon_days: 60,
        confirm_email: false,
        answer_within_hours: 48,
        answer_reminder_hours: 12,
        reminder_offsets_minutes: ReminderOffsets::default(),
        remind_owner: false,
        proposed_time_needs_approval: false,
        busy_buffer_minutes: 0,
        calendar_fail_open: false,
        retention_days: 365,
    }
}

#[test]
fn stored_values_override_defaults_and_bad_ones_are_ignored() {
    let stored = BTreeMap::from([
        ("booking_open".to_owned(), "false".to_owned()),
        ("time_zone".to_owned(), "Europe/Berlin".to_owned()),
        ("horizon_days".to_owned(), "not a number".to_owned()),
    ]);
    let (s, ignored) = base().with_stored(&stored);
    assert_eq!(
        ignored.iter().map(|(f, _)| f).collect::<Vec<_>>(),
        ["horizon_days"]
    );
    assert!(!s.booking_open);
    assert_eq!(s.time_zone.as_str(), "Europe/Berlin");
    assert_eq!(s.horizon_days, 60);
    assert_eq!(s.owner_name, "Olga");
    assert_eq!(base().with_stored(&base().to_stored()).0, base());
}

#[test]
fn each_setting_has_one_key_used_by_the_store_and_refusals() {
    let keys: Vec<&str> = Setting::ALL.iter().map(|s| s.key()).collect();
    assert_eq!(base().to_stored().keys().count(), Setting::ALL.len());
    for key in &keys {
        assert!(base().to_stored().contains_key(*key), "{key} is stored");
        assert_eq!(Setting::from_key(key).map(Setting::key), Some(*key));
    }
    assert_eq!(Setting::from_key("nope"), None);
    // Every stored value is read back under its own key, one at a time as well.
    let other = OwnerSettings {
        booking_open: false,
        owner_name: "Grete".into(),
        owner_email: "grete@example.org".into(),
        time_zone: TimeZoneName::parse("Europe/Berlin").unwrap(),
        language: "de",
        min_notice_hours: 12,
        horizon_days: 30,
        confirm_email: true,
        answer_within_hours: 24,
        answer_reminder_hours: 0,
        reminder_offsets_minutes: ReminderOffsets::new(&[30]).unwrap(),
        remind_owner: true,
        proposed_time_needs_approval: true,
        busy_buffer_minutes: 15,
        calendar_fail_open: true,
        retention_days: 30,
    };
    assert_eq!(
        base().with_stored(&other.to_stored()),
        (other.clone(), FieldErrors::new())
    );
    for (key, value) in other.to_stored() {
        let (one, ignored) = base().with_stored(&BTreeMap::from([(key.clone(), value)]));
        assert!(ignored.is_empty());
        assert_eq!(one.to_stored()[&key], other.to_stored()[&key], "{key}");
    }
    // An unknown stored key is no setting and changes nothing.
    let unknown = BTreeMap::from([("colour".to_owned(), "blue".to_owned())]);
    assert_eq!(base().with_stored(&unknown), (base(), FieldErrors::new()));
}

#[test]
fn a_change_keeps_what_it_does_not_name_and_reports_every_refusal_at_once() {
    let change = SettingsChange {
        booking_open: Some(false),
        min_notice_hours: Some(24),
        ..SettingsChange::default()
    };
    let changed = base().changed(&change).unwrap();
    assert_eq!(
        changed,
        OwnerSettings {
            booking_open: false,
            min_notice_hours: 24,
            ..base()
        }
    );
    assert_eq!(base().changed(&SettingsChange::default()), Ok(base()));
    // Refused values, and the fields the owner API could not read, all in one answer.
    let bad = SettingsChange {
        owner_name: Some("  ".into()),
        time_zone: Some("Mars/Base".into()),
        min_notice_hours: Some(MAX_NOTICE_HOURS + 1),
        horizon_days: Some(0),
        refused: [
            ("booking_open".to_owned(), FieldReason::WrongType),
            ("colour".to_owned(), FieldReason::UnknownValue),
        ]
        .into_iter()
        .collect(),
        ..SettingsChange::default()
    };
    let e = base().changed(&bad).unwrap_err();
    assert_eq!(
        e.codes(),
        BTreeMap::from(
            [
                ("booking_open", "wrong_type"),
                ("colour", "unknown_value"),
                ("horizon_days", "out_of_range"),
                ("min_notice_hours", "out_of_range"),
                ("owner_name", "empty"),
                ("time_zone", "unknown_time_zone"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        )
    );
    // Fields refused before reading are refused even when every value is fine.
    let only_unread = SettingsChange {
        refused: FieldErrors::one("colour", FieldReason::UnknownValue),
        ..SettingsChange::default()
    };
    assert_eq!(base().changed(&only_unread).unwrap_err().len(), 1);
}

#[test]
fn the_form_and_the_owner_api_give_the_same_settings() {
    let mut form = base().to_form();
    form.booking_open = Some("on".into());
    form.owner_name = "  Olga  ".into();
    form.min_notice_hours = " 48 ".into();
    let from_form = parse(&form).unwrap();
    let from_api = base()
        .changed(&SettingsChange {
            booking_open: Some(true),
            owner_name: Some("  Olga  ".into()),
            min_notice_hours: Some(48),
            ..SettingsChange::default()
        })
        .unwrap();
    assert_eq!(from_form, from_api);
    assert_eq!(parse(&base().to_form()), Ok(base()));
    // An unticked box is off; a number the form cannot read is named.
    form.booking_open = None;
    assert!(!parse(&form).unwrap().booking_open);
    form.horizon_days = "ten".into();
    assert_eq!(
        parse(&form).unwrap_err().get("horizon_days"),
        Some(FieldReason::UnknownValue)
    );
}

#[test]
fn every_bad_field_is_reported() {
    let f = SettingsForm {
        booking_open: None,
        owner_name: "A\u{7}".into(),
        owner_email: "nope".into(),
        time_zone: "Mars/Base".into(),
        language: "xx".into(),
        min_notice_hours: "-1".into(),
        horizon_days: "".into(),
        confirm_email: None,
        answer_within_hours: "0".into(),
        answer_reminder_hours: "12".into(),
        reminder_offsets_minutes: "60, 0".into(),
        remind_owner: None,
        proposed_time_needs_approval: None,
        busy_buffer_minutes: "0".into(),
        calendar_fail_open: None,
        retention_days: "0".into(),
    };
    let e = parse(&f).unwrap_err();
    assert_eq!(
        e.iter().map(|(f, _)| f).collect::<Vec<_>>(),
        [
            "answer_within_hours",
            "horizon_days",
            "language",
            "min_notice_hours",
            "owner_email",
            "owner_name",
            "reminder_offsets_minutes",
            "retention_days",
            "time_zone"
        ]
    );
}
