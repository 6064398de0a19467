//! Busy intervals: merged, widened by the owner's buffer, and asked whether a slot overlaps one.

use jiff::{SignedDuration, Timestamp};

/// A busy stretch of time, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    /// When it starts.
    pub start: Timestamp,
    /// When it ends (after `start`).
    pub end: Timestamp,
}

impl Interval {
    /// Whether it shares any moment with `[start, end)`.
    pub fn overlaps(&self, start: Timestamp, end: Timestamp) -> bool {
        self.start < end && start < self.end
    }
}

/// Sorts `intervals` and joins those that overlap or touch; empty ones are dropped.
pub fn merge(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.retain(|i| i.start < i.end);
    intervals.sort_unstable();
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for i in intervals {
        match merged.last_mut() {
            Some(last) if i.start <= last.end => last.end = last.end.max(i.end),
            _ => merged.push(i),
        }
    }
    merged
}

/// Each interval widened by `buffer` on both sides, then merged.
pub fn widen(intervals: &[Interval], buffer: SignedDuration) -> Vec<Interval> {
    let widened = intervals
        .iter()
        .map(|i| Interval {
            start: i.start.checked_sub(buffer).unwrap_or(i.start),
            end: i.end.checked_add(buffer).unwrap_or(i.end),
        })
        .collect();
    merge(widened)
}

/// The first of `merged` (sorted, disjoint, as [`merge`] makes them) that overlaps
/// `[start, end)`, found by binary search.
pub fn first_overlap(merged: &[Interval], start: Timestamp, end: Timestamp) -> Option<&Interval> {
    let i = merged.partition_point(|b| b.end <= start);
    merged.get(i).filter(|b| b.overlaps(start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> Timestamp {
        Timestamp::from_second(h * 3600).unwrap()
    }

    fn iv(a: i64, b: i64) -> Interval {
        Interval {
            start: at(a),
            end: at(b),
        }
    }

    #[test]
    fn overlapping_and_touching_intervals_merge_and_others_stay_apart() {
        let merged = merge(vec![
            iv(5, 6),
            iv(1, 3),
            iv(2, 4),
            iv(4, 5),
            iv(8, 9),
            iv(7, 7),
        ]);
        assert_eq!(merged, vec![iv(1, 6), iv(8, 9)]);
    }

    #[test]
    fn a_buffer_widens_both_sides_and_may_join_neighbours() {
        let widened = widen(&[iv(1, 2), iv(3, 4)], SignedDuration::from_mins(30));
        assert_eq!(
            widened,
            vec![Interval {
                start: at(1) - SignedDuration::from_mins(30),
                end: at(4) + SignedDuration::from_mins(30)
            }]
        );
    }

    #[test]
    fn a_slot_touching_a_busy_interval_is_not_hidden_but_one_overlapping_is() {
        let merged = merge(vec![iv(2, 4), iv(6, 8)]);
        assert!(first_overlap(&merged, at(4), at(5)).is_none());
        assert!(first_overlap(&merged, at(1), at(2)).is_none());
        assert_eq!(first_overlap(&merged, at(3), at(5)), Some(&iv(2, 4)));
        assert_eq!(first_overlap(&merged, at(5), at(9)), Some(&iv(6, 8)));
        assert!(first_overlap(&merged, at(9), at(10)).is_none());
    }
}
