//! Demo slots for a first look: two weeks of weekday sessions in the owner's time zone.

use guidance_core::SlotWindow;
use jiff::civil::{Time, Weekday};
use jiff::{SignedDuration, ToSpan};

use crate::App;

/// Creates 45-minute sessions at 09:00, 10:00, 11:00, 14:00, 15:00 and 16:00 (owner's time) on
/// each weekday of the next 14 days, skipping any that overlap an existing slot.
/// Returns how many were created.
pub async fn seed(app: &App) -> Result<usize, guidance_store::StoreError> {
    let tz = crate::settings::load_or_defaults(app)
        .await
        .time_zone
        .zone();
    let now = app.now();
    let today = now.to_zoned(tz.clone()).date();
    let mut created = 0;
    for day in 1..=14 {
        let date = today.checked_add(day.days()).expect("in range");
        if matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
            continue;
        }
        for hour in [9, 10, 11, 14, 15, 16] {
            let start = date
                .to_datetime(Time::constant(hour, 0, 0, 0))
                .to_zoned(tz.clone())
                .expect("valid zone");
            let start = start.timestamp();
            let end = start
                .checked_add(SignedDuration::from_mins(45))
                .expect("in range");
            let Ok(window) = SlotWindow::parse(start, end) else {
                continue;
            };
            match app.store.create_slot(window, None, now).await {
                Ok(_) => created += 1,
                Err(guidance_store::StoreError::SlotOverlap) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(created)
}
