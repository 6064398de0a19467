//! Slots made from a weekly pattern in the owner's time zone.

use guidance_store::Slot;

use crate::settings as owner_settings;
use crate::{App, AppError, AppResult};

/// Why a session of a pattern was not created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkippedBecause {
    /// It overlaps a slot that exists already.
    Overlap,
    /// It starts in the past.
    Past,
    /// The local time does not exist that day, or lies outside the supported years.
    Pattern(guidance_core::pattern::SkipReason),
}

impl SkippedBecause {
    /// The stable code (a locale key suffix).
    pub fn code(self) -> &'static str {
        match self {
            SkippedBecause::Overlap => "overlap",
            SkippedBecause::Past => "past",
            SkippedBecause::Pattern(r) => r.code(),
        }
    }
}

/// What a pattern produced.
#[derive(Debug, Default)]
pub struct GenerateReport {
    /// The slots created, in time order.
    pub created: Vec<Slot>,
    /// The sessions not created: local day, local start time and why.
    pub skipped: Vec<(jiff::civil::Date, jiff::civil::Time, SkippedBecause)>,
}

/// Creates the slots of a weekly pattern in the owner's time zone, skipping (and reporting)
/// every session that overlaps an existing slot, lies in the past or does not exist locally.
pub async fn generate_slots(
    app: &App,
    raw: &guidance_core::pattern::RawPattern,
) -> AppResult<GenerateReport> {
    let owner = owner_settings::load(app).await?;
    let pattern = guidance_core::pattern::WeeklyPattern::parse(raw, owner.time_zone.zone())
        .map_err(AppError::from)?;
    let now = app.now();
    let mut report = GenerateReport::default();
    for session in pattern.plan() {
        let skip = |why| (session.date, session.time, why);
        let window = match session.outcome {
            Ok(w) => w,
            Err(reason) => {
                report.skipped.push(skip(SkippedBecause::Pattern(reason)));
                continue;
            }
        };
        if window.starts_at() <= now {
            report.skipped.push(skip(SkippedBecause::Past));
            continue;
        }
        match app.store.create_slot(window, None, now).await {
            Ok(slot) => report.created.push(slot),
            Err(guidance_store::StoreError::SlotOverlap) => {
                report.skipped.push(skip(SkippedBecause::Overlap));
            }
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(
        created = report.created.len(),
        skipped = report.skipped.len(),
        "slots generated from a pattern"
    );
    Ok(report)
}
