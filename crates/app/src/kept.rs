//! Answers read on nearly every request, kept in memory for a moment.
//!
//! Every visitor opening the booking page asks for the same slot list, and every booking reads
//! the owner's settings and questions: each a database round trip (on PostgreSQL, a transaction
//! of its own). A [`Kept`] keeps such an answer per key and hands it out while it is both young
//! (at most [`MAX_AGE`]) and current: whatever may have changed it bumps a generation counter,
//! which drops every kept answer at once. For the slot list that is any request of this process
//! that may change something (every method but GET, HEAD and OPTIONS) and every expiry run; for
//! the settings and the questions, saving them.
//!
//! What this promises: within one process, a change is visible to the next request. Processes
//! sharing one PostgreSQL database see each other's changes within [`MAX_AGE`]; a visitor who
//! picks a slot taken in that moment gets the usual `409 slot_taken` with fresh slots, because
//! booking itself never trusts the list.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use std::hash::Hash;

use bytes::Bytes;
use jiff::Timestamp;

use crate::Clock;

/// How long a kept answer may be served: also the longest a slot booked by another process
/// (or one whose start passed) may still be listed, or another process's settings change take to
/// show.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// At most this many keys are kept, so that odd `from`/`to` values cannot grow memory.
const MAX_ENTRIES: usize = 64;

/// A query window: the `from` and `to` the client asked for, and the most slots it wants
/// (absent: the defaults).
pub type Window = (Option<Timestamp>, Option<Timestamp>, Option<usize>);

struct Entry<V> {
    body: V,
    generation: u64,
    /// When it was read, by the application's clock: a test that moves the clock past
    /// [`MAX_AGE`] sees fresh answers, as a real second passing would give.
    made: Timestamp,
}

/// Serialized slot lists by query window.
pub type SlotsCache = Kept<Window, Bytes>;

/// Answers by key, each kept for a moment (see the module documentation).
pub struct Kept<K, V> {
    generation: AtomicU64,
    entries: Mutex<HashMap<K, Entry<V>>>,
    clock: Clock,
}

impl<K, V> Default for Kept<K, V> {
    fn default() -> Self {
        Self::with_clock(Clock::system())
    }
}

impl<K, V> Kept<K, V> {
    /// Answers kept by `clock`'s time.
    pub fn with_clock(clock: Clock) -> Self {
        Self {
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
            clock,
        }
    }
}

impl<K: Hash + Eq, V: Clone> Kept<K, V> {
    /// The current generation: read it *before* reading the database, and hand it to
    /// [`Kept::put`], so that an answer read before a change can never outlive it.
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether an answer made at `made` may still be served (never one from the future: the
    /// system clock may have been set back).
    fn young(&self, made: Timestamp) -> bool {
        let age = self.clock.now().duration_since(made);
        !age.is_negative() && age.unsigned_abs() < MAX_AGE
    }

    /// A kept answer for `key`, when it is current and young enough.
    pub fn get(&self, key: &K) -> Option<V> {
        let generation = self.generation();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|e| e.generation == generation && self.young(e.made))
            .map(|e| e.body.clone())
    }

    /// Keeps `body` for `key`, unless something changed since `generation` was read.
    fn put(&self, key: K, generation: u64, body: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if generation != self.generation() {
            return;
        }
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.retain(|_, e| e.generation == generation && self.young(e.made));
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                body,
                generation,
                made: self.clock.now(),
            },
        );
    }

    /// The kept answer for `key`, or else what `load` reads, kept for the next caller unless
    /// something changed while it was being read.
    pub async fn get_or_load<E, F, Fut>(&self, key: K, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        if let Some(kept) = self.get(&key) {
            return Ok(kept);
        }
        // Read before the database, so that an answer read before a change never outlives it.
        let generation = self.generation();
        let fresh = load().await?;
        self.put(key, generation, fresh.clone());
        Ok(fresh)
    }

    /// Drops every kept answer: called after anything that may have changed them.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window() -> Window {
        (Some("2030-01-01T00:00:00Z".parse().unwrap()), None, None)
    }

    #[test]
    fn an_answer_is_kept_until_something_changes() {
        let cache = SlotsCache::default();
        assert!(cache.get(&window()).is_none());
        let g = cache.generation();
        cache.put(window(), g, Bytes::from_static(b"a"));
        assert_eq!(cache.get(&window()).as_deref(), Some(&b"a"[..]));
        assert!(cache.get(&(None, None, None)).is_none(), "another window");
        cache.invalidate();
        assert!(cache.get(&window()).is_none());
    }

    #[test]
    fn an_answer_read_before_a_change_is_not_kept() {
        let cache = SlotsCache::default();
        let g = cache.generation();
        cache.invalidate();
        cache.put(window(), g, Bytes::from_static(b"stale"));
        assert!(cache.get(&window()).is_none());
    }

    #[test]
    fn an_answer_is_dropped_once_its_moment_has_passed() {
        let clock = Clock::test();
        let cache = SlotsCache::with_clock(clock.clone());
        cache.put(window(), cache.generation(), Bytes::from_static(b"a"));
        clock.advance(jiff::SignedDuration::from_millis(500));
        assert!(cache.get(&window()).is_some(), "half a second later");
        clock.advance(jiff::SignedDuration::from_millis(600));
        assert!(cache.get(&window()).is_none(), "over a second later");
    }

    #[test]
    fn many_windows_do_not_grow_without_bound() {
        let cache = SlotsCache::default();
        let g = cache.generation();
        for i in 0..1000 {
            let from = Timestamp::from_second(i).unwrap();
            cache.put((Some(from), None, None), g, Bytes::from_static(b"x"));
        }
        assert!(cache.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
