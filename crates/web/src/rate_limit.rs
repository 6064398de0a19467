//! Limits per client address, in memory and per process (enough to stop a single client
//! hammering one server): a fixed-window rate limiter for the endpoints that create or change
//! bookings, and the login throttle, which makes a client wait longer after each failed sign-in.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Allows `limit` requests per client per window.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    clients: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    /// `limit` requests per minute per client.
    pub fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            window: Duration::from_secs(60),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request; `Err(seconds)` says how long the client must wait.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut clients = self.clients.lock().expect("rate limiter lock");
        if clients.len() > 100_000 {
            // Forget finished windows so that many distinct clients cannot grow the map for ever.
            clients.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = clients.entry(client).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            let wait = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(wait.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// Counts failed logins per client. The first few are free; after that the client must wait
/// before trying again, twice as long after each further failure.
#[derive(Debug)]
pub struct LoginThrottle {
    free_failures: u32,
    first_wait: Duration,
    max_wait: Duration,
    clients: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(5, Duration::from_secs(30), Duration::from_secs(3600))
    }
}

impl LoginThrottle {
    /// `free_failures` failures cost nothing; the next locks the client for `first_wait`, each
    /// further one twice as long, at most `max_wait`.
    pub fn new(free_failures: u32, first_wait: Duration, max_wait: Duration) -> Self {
        Self {
            free_failures,
            first_wait,
            max_wait,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` while the client must wait.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let clients = self.clients.lock().expect("login throttle lock");
        match clients.get(&client).and_then(|f| f.locked_until) {
            Some(until) if until > now => Err(until.duration_since(now).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Records a failed login; returns how long the client must now wait, if at all.
    pub fn failed(&self, client: IpAddr) -> Option<u64> {
        let now = Instant::now();
        let mut clients = self.clients.lock().expect("login throttle lock");
        if clients.len() > 10_000 {
            // Forget clients quiet for a day, so that many addresses cannot grow the map forever.
            clients.retain(|_, f| now.duration_since(f.last) < Duration::from_secs(86_400));
        }
        let f = clients.entry(client).or_insert(Failures {
            count: 0,
            locked_until: None,
            last: now,
        });
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

    /// Forgets a client's failures after a successful login.
    pub fn succeeded(&self, client: IpAddr) {
        self.clients
            .lock()
            .expect("login throttle lock")
            .remove(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_per_client() {
        let l = RateLimiter::per_minute(2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(l.check(a).is_ok());
        assert!(l.check(a).is_ok());
        let wait = l.check(a).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(l.check(b).is_ok());
    }

    #[test]
    fn failures_beyond_the_free_ones_lock_the_client_longer_each_time() {
        let t = LoginThrottle::new(2, Duration::from_secs(30), Duration::from_secs(100));
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(t.failed(a), None);
        assert_eq!(t.failed(a), None);
        assert!(t.check(a).is_ok());
        assert_eq!(t.failed(a), Some(30));
        assert!(t.check(a).is_err());
        assert!(t.check(b).is_ok(), "other clients are not affected");
        assert_eq!(t.failed(a), Some(60));
        assert_eq!(t.failed(a), Some(100), "bounded");
        t.succeeded(a);
        assert!(t.check(a).is_ok());
    }
}
