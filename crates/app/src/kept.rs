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
//! One refill per key at a time: when an answer has aged out, the first request reads it again
//! while the others are handed the previous answer (it is current, only older than a second);
//! when something changed, there is no current answer, so the others wait for that one read
//! instead of each reading the database at once.
//!
//! What this promises: within one process, a change is visible to the next request. Processes
//! sharing one PostgreSQL database see each other's changes within [`MAX_AGE`]; a visitor who
//! picks a slot taken in that moment gets the usual `409 slot_taken` with fresh slots, because
//! booking itself never trusts the list.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    /// Per key, held by the one request reading that key's answer again.
    refills: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
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
            refills: Mutex::new(HashMap::new()),
            clock,
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Kept<K, V> {
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

    /// The kept answer for `key` however old, when nothing has changed since it was read.
    fn current(&self, key: &K) -> Option<V> {
        let generation = self.generation();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|e| e.generation == generation)
            .map(|e| e.body.clone())
    }

    /// The lock that the one request reading `key` again holds.
    fn refill_lock(&self, key: &K) -> Arc<tokio::sync::Mutex<()>> {
        let mut refills = self.refills.lock().unwrap_or_else(|e| e.into_inner());
        if refills.len() >= MAX_ENTRIES && !refills.contains_key(key) {
            // Locks nobody holds or waits for can go.
            refills.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        refills.entry(key.clone()).or_default().clone()
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
    /// something changed while it was being read. While another caller reads the same key, this
    /// one gets the previous answer if it is current, or else waits for that read.
    pub async fn get_or_load<E, F, Fut>(&self, key: K, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        if let Some(kept) = self.get(&key) {
            return Ok(kept);
        }
        let lock = self.refill_lock(&key);
        let _refilling = match lock.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                if let Some(previous) = self.current(&key) {
                    return Ok(previous);
                }
                // Wait for the read under way, then take its answer if it was kept.
                let guard = lock.lock().await;
                if let Some(kept) = self.get(&key) {
                    return Ok(kept);
                }
                guard
            }
        };
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

    /// A store stand-in that counts its reads and answers only when told to, so that every
    /// caller is waiting while the read is under way.
    struct CountedStore {
        reads: std::sync::atomic::AtomicUsize,
        answer: tokio::sync::Semaphore,
    }

    impl CountedStore {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                reads: std::sync::atomic::AtomicUsize::new(0),
                answer: tokio::sync::Semaphore::new(0),
            })
        }

        async fn read(&self, body: &'static [u8]) -> Result<Bytes, ()> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.answer.acquire().await.map_err(drop)?.forget();
            Ok(Bytes::from_static(body))
        }
    }

    /// Fifty concurrent requests for one key; returns what each got once the store answers.
    async fn fifty(cache: &Arc<SlotsCache>, store: &Arc<CountedStore>) -> Vec<Bytes> {
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (cache, store) = (cache.clone(), store.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_load(window(), || async { store.read(b"fresh").await })
                        .await
                        .unwrap()
                })
            })
            .collect();
        // Every task has run up to its answer or its wait before the store answers.
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        store.answer.add_permits(50);
        let mut got = Vec::new();
        for t in tasks {
            got.push(t.await.unwrap());
        }
        got
    }

    #[tokio::test]
    async fn fifty_requests_after_expiry_cause_one_read_and_get_the_previous_answer_meanwhile() {
        let clock = Clock::test();
        let cache = Arc::new(SlotsCache::with_clock(clock.clone()));
        cache.put(window(), cache.generation(), Bytes::from_static(b"old"));
        clock.advance(jiff::SignedDuration::from_millis(1100));
        let store = CountedStore::new();
        let got = fifty(&cache, &store).await;
        assert_eq!(store.reads.load(Ordering::SeqCst), 1, "one refill");
        assert_eq!(got.iter().filter(|b| &b[..] == b"fresh").count(), 1);
        assert_eq!(got.iter().filter(|b| &b[..] == b"old").count(), 49);
        assert_eq!(cache.get(&window()).as_deref(), Some(&b"fresh"[..]));
    }

    #[tokio::test]
    async fn after_a_change_fifty_requests_wait_for_one_read_and_never_see_the_old_answer() {
        let clock = Clock::test();
        let cache = Arc::new(SlotsCache::with_clock(clock));
        cache.put(window(), cache.generation(), Bytes::from_static(b"old"));
        cache.invalidate();
        let store = CountedStore::new();
        let got = fifty(&cache, &store).await;
        assert_eq!(store.reads.load(Ordering::SeqCst), 1, "one refill");
        assert!(got.iter().all(|b| &b[..] == b"fresh"));
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
