//! Limits per client ([`ClientKey`]: an IPv4 address or an IPv6 /64, behind a trusted proxy the
//! client it names), in memory and per process (enough to stop a single client hammering one
//! server): a fixed-window rate limiter for the endpoints that create or change bookings, and
//! the sign-in throttle, which makes a client wait longer after each failed sign-in. The two
//! are separate: booking never costs sign-in attempts, nor sign-in booking ones.
//!
//! Each keeps at most so many clients: when full, the finished ones go first, then the oldest
//! half, so that many addresses cannot grow the memory without bound.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use guidance_app::forwarded::ClientKey;

/// Clients a [`RateLimiter`] keeps by default.
pub const RATE_LIMITER_CLIENTS: usize = 100_000;
/// Clients a [`LoginThrottle`] keeps by default.
pub const LOGIN_THROTTLE_CLIENTS: usize = 10_000;

/// Clients and what is known of each, at most `cap` of them.
#[derive(Debug)]
struct Clients<V> {
    map: HashMap<ClientKey, V>,
    cap: usize,
}

impl<V> Clients<V> {
    fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            cap: cap.max(2),
        }
    }

    /// The entry of `client`, made with `new` if need be; before a new one is made in a full
    /// map, the entries that `finished` says are over go, and if that is not enough the older
    /// half (by `since`). Amortised, each new client costs a constant.
    fn entry(
        &mut self,
        client: ClientKey,
        finished: impl Fn(&V) -> bool,
        since: impl Fn(&V) -> Instant,
        new: impl FnOnce() -> V,
    ) -> &mut V {
        if self.map.len() >= self.cap && !self.map.contains_key(&client) {
            self.map.retain(|_, v| !finished(v));
            if self.map.len() >= self.cap {
                let mut ages: Vec<Instant> = self.map.values().map(&since).collect();
                let middle = ages.len() / 2;
                let (_, cut, _) = ages.select_nth_unstable(middle);
                let cut = *cut;
                self.map.retain(|_, v| since(v) > cut);
            }
        }
        self.map.entry(client).or_insert_with(new)
    }
}

/// Allows `limit` requests per client per window.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    clients: Mutex<Clients<(Instant, u32)>>,
}

impl RateLimiter {
    /// `limit` requests per minute per client, keeping at most [`RATE_LIMITER_CLIENTS`].
    pub fn per_minute(limit: u32) -> Self {
        Self::with_capacity(limit, Duration::from_secs(60), RATE_LIMITER_CLIENTS)
    }

    /// `limit` requests per `window` per client, keeping at most `clients` of them.
    pub fn with_capacity(limit: u32, window: Duration, clients: usize) -> Self {
        Self {
            limit,
            window,
            clients: Mutex::new(Clients::new(clients)),
        }
    }

    /// Counts a request; `Err(seconds)` says how long the client must wait.
    pub fn check(&self, client: ClientKey) -> Result<(), u64> {
        let now = Instant::now();
        let window = self.window;
        let mut clients = self.clients.lock().expect("rate limiter lock");
        let entry = clients.entry(
            client,
            |(start, _)| now.duration_since(*start) >= window,
            |(start, _)| *start,
            || (now, 0),
        );
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            let wait = window.saturating_sub(now.duration_since(entry.0));
            return Err(wait.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }

    /// How many clients are kept now.
    pub fn clients(&self) -> usize {
        self.clients.lock().expect("rate limiter lock").map.len()
    }
}

/// Counts sign-in attempts per client. The first few failures are free; after that the client
/// must wait before trying again, twice as long after each further failure. An attempt counts
/// as a failure from the moment it starts, until it succeeds: many at once cannot all slip in
/// before the first has failed.
#[derive(Debug)]
pub struct LoginThrottle {
    free_failures: u32,
    first_wait: Duration,
    max_wait: Duration,
    clients: Mutex<Clients<Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

/// A client's failures are forgotten after a quiet day.
const FORGET_AFTER: Duration = Duration::from_secs(86_400);

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(5, Duration::from_secs(30), Duration::from_secs(3600))
    }
}

impl LoginThrottle {
    /// `free_failures` failures cost nothing; the next locks the client for `first_wait`, each
    /// further one twice as long, at most `max_wait`. Keeps at most [`LOGIN_THROTTLE_CLIENTS`].
    pub fn new(free_failures: u32, first_wait: Duration, max_wait: Duration) -> Self {
        Self::with_capacity(free_failures, first_wait, max_wait, LOGIN_THROTTLE_CLIENTS)
    }

    /// As [`LoginThrottle::new`], keeping at most `clients` clients.
    pub fn with_capacity(
        free_failures: u32,
        first_wait: Duration,
        max_wait: Duration,
        clients: usize,
    ) -> Self {
        Self {
            free_failures,
            first_wait,
            max_wait,
            clients: Mutex::new(Clients::new(clients)),
        }
    }

    /// `Err(seconds)` while the client must wait.
    pub fn check(&self, client: ClientKey) -> Result<(), u64> {
        let now = Instant::now();
        let clients = self.clients.lock().expect("login throttle lock");
        match clients.map.get(&client).and_then(|f| f.locked_until) {
            Some(until) if until > now => Err(until.duration_since(now).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Starts a sign-in attempt: `Err(seconds)` while the client must wait; else the attempt
    /// counts as a failure until [`LoginThrottle::succeeded`], and `Ok(Some(seconds))` says how
    /// long the client must wait should it fail.
    pub fn attempt(&self, client: ClientKey) -> Result<Option<u64>, u64> {
        let now = Instant::now();
        let mut clients = self.clients.lock().expect("login throttle lock");
        if let Some(until) = clients.map.get(&client).and_then(|f| f.locked_until)
            && until > now
        {
            return Err(until.duration_since(now).as_secs().max(1));
        }
        Ok(self.count_failure(&mut clients, client, now))
    }

    /// Records a failed attempt that [`LoginThrottle::attempt`] did not count (a wrong setup
    /// link); returns how long the client must now wait, if at all.
    pub fn failed(&self, client: ClientKey) -> Option<u64> {
        let mut clients = self.clients.lock().expect("login throttle lock");
        self.count_failure(&mut clients, client, Instant::now())
    }

    fn count_failure(
        &self,
        clients: &mut Clients<Failures>,
        client: ClientKey,
        now: Instant,
    ) -> Option<u64> {
        let f = clients.entry(
            client,
            |f| {
                now.duration_since(f.last) >= FORGET_AFTER
                    && f.locked_until.is_none_or(|u| u <= now)
            },
            |f| f.last,
            || Failures {
                count: 0,
                locked_until: None,
                last: now,
            },
        );
        f.count = f.count.saturating_add(1);
        f.last = now;
        let over = f.count.checked_sub(self.free_failures.saturating_add(1))?;
        let wait = self
            .first_wait
            .saturating_mul(1u32.checked_shl(over.min(20)).unwrap_or(u32::MAX))
            .min(self.max_wait);
        f.locked_until = Some(now + wait);
        Some(wait.as_secs().max(1))
    }

    /// Takes back an attempt that could not be tried (the service was busy): it is no failure.
    pub fn not_tried(&self, client: ClientKey) {
        let mut clients = self.clients.lock().expect("login throttle lock");
        if let Some(f) = clients.map.get_mut(&client) {
            f.count = f.count.saturating_sub(1);
            if f.count <= self.free_failures {
                f.locked_until = None;
            }
        }
    }

    /// Forgets a client's failures after a successful sign-in.
    pub fn succeeded(&self, client: ClientKey) {
        self.clients
            .lock()
            .expect("login throttle lock")
            .map
            .remove(&client);
    }

    /// How many clients are kept now.
    pub fn clients(&self) -> usize {
        self.clients.lock().expect("login throttle lock").map.len()
    }
}

#[cfg(test)]
mod tests;
