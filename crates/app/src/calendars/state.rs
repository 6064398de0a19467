//! The busy times every process holds in memory: read from the store once per poll, merged per
//! source, and asked for each slot the list shows — never re-read per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use guidance_calendar::{Interval, first_overlap, merge};
use guidance_store::{CalendarSource, StoredBusy};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

/// One source's busy times.
#[derive(Debug, Clone)]
pub struct SourceBusy {
    /// Its id.
    pub id: Uuid,
    /// The owner's name for it.
    pub name: String,
    /// Merged, sorted.
    pub intervals: Vec<Interval>,
    /// Since when it fails, if it does.
    pub failing_since: Option<Timestamp>,
}

/// Every source's busy times at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// By source, oldest source first.
    pub sources: Vec<SourceBusy>,
}

impl Snapshot {
    /// Builds a snapshot from the stored sources and intervals.
    pub fn build(sources: &[CalendarSource], busy: &[StoredBusy]) -> Self {
        let mut by_source: HashMap<Uuid, Vec<Interval>> = HashMap::new();
        for b in busy {
            by_source.entry(b.source_id).or_default().push(Interval {
                start: b.starts_at,
                end: b.ends_at,
            });
        }
        Snapshot {
            sources: sources
                .iter()
                .map(|s| SourceBusy {
                    id: s.id,
                    name: s.name.clone(),
                    intervals: merge(by_source.remove(&s.id).unwrap_or_default()),
                    failing_since: s.failing_since,
                })
                .collect(),
        }
    }

    /// The source that hides `[start, end)`: one busy within `buffer` of it, or one failing
    /// since before `closed_if_failing_since` (fail closed; `None` keeps failing sources open).
    pub fn hidden_by(
        &self,
        start: Timestamp,
        end: Timestamp,
        buffer: SignedDuration,
        closed_if_failing_since: Option<Timestamp>,
    ) -> Option<&SourceBusy> {
        let start = start.checked_sub(buffer).unwrap_or(start);
        let end = end.checked_add(buffer).unwrap_or(end);
        self.sources.iter().find(|s| {
            let failed_closed = matches!(
                (s.failing_since, closed_if_failing_since),
                (Some(since), Some(limit)) if since <= limit
            );
            failed_closed || first_overlap(&s.intervals, start, end).is_some()
        })
    }
}

/// The current snapshot, replaced whole after each poll, and when each source was last read
/// in full (not answered by a `304`).
#[derive(Default)]
pub struct BusyTimes {
    current: RwLock<Option<Arc<Snapshot>>>,
    full_reads: Mutex<HashMap<Uuid, Timestamp>>,
}

impl BusyTimes {
    /// The snapshot, if one was loaded.
    pub fn get(&self) -> Option<Arc<Snapshot>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the snapshot.
    pub fn set(&self, snapshot: Snapshot) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(snapshot));
    }

    /// When `id` was last read in full by this process.
    pub fn full_read(&self, id: Uuid) -> Option<Timestamp> {
        self.full_reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .copied()
    }

    /// Notes a full read of `id` at `at`.
    pub fn note_full_read(&self, id: Uuid, at: Timestamp) {
        self.full_reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> Timestamp {
        Timestamp::from_second(1_900_000_000 + h * 3600).unwrap()
    }

    #[test]
    fn a_slot_is_hidden_by_a_busy_time_within_the_buffer_or_a_source_failing_too_long() {
        let snap = Snapshot {
            sources: vec![
                SourceBusy {
                    id: Uuid::new_v4(),
                    name: "Work".into(),
                    intervals: vec![Interval {
                        start: t(10),
                        end: t(11),
                    }],
                    failing_since: None,
                },
                SourceBusy {
                    id: Uuid::new_v4(),
                    name: "Home".into(),
                    intervals: vec![],
                    failing_since: Some(t(0)),
                },
            ],
        };
        let none = SignedDuration::ZERO;
        assert_eq!(
            snap.hidden_by(t(10), t(11), none, None).unwrap().name,
            "Work"
        );
        assert!(
            snap.hidden_by(t(11), t(12), none, None).is_none(),
            "touching is free"
        );
        let half = SignedDuration::from_mins(30);
        assert_eq!(
            snap.hidden_by(t(11), t(12), half, None).unwrap().name,
            "Work"
        );
        assert!(
            snap.hidden_by(t(20), t(21), none, Some(t(-1))).is_none(),
            "within grace"
        );
        assert_eq!(
            snap.hidden_by(t(20), t(21), none, Some(t(1))).unwrap().name,
            "Home"
        );
    }
}
