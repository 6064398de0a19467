use std::net::{IpAddr, Ipv4Addr};

use super::*;

fn key(s: &str) -> ClientKey {
    ClientKey::of(s.parse::<IpAddr>().unwrap())
}

#[test]
fn refuses_past_the_limit_per_client() {
    let l = RateLimiter::per_minute(2);
    let (a, b) = (key("127.0.0.1"), key("127.0.0.2"));
    assert!(l.check(a).is_ok());
    assert!(l.check(a).is_ok());
    let wait = l.check(a).unwrap_err();
    assert!((1..=60).contains(&wait));
    assert!(l.check(b).is_ok());
}

#[test]
fn an_ipv6_client_has_one_budget_for_its_whole_64() {
    let l = RateLimiter::per_minute(2);
    assert!(l.check(key("2001:db8:0:1::1")).is_ok());
    assert!(l.check(key("2001:db8:0:1::2")).is_ok());
    assert!(l.check(key("2001:db8:0:1:ffff::3")).is_err());
    assert!(l.check(key("2001:db8:0:2::1")).is_ok(), "the next /64");
}

#[test]
fn the_limiter_keeps_at_most_its_capacity_and_forgets_the_oldest_first() {
    let l = RateLimiter::with_capacity(1, Duration::from_secs(60), 100);
    let first = key("10.0.0.1");
    assert!(l.check(first).is_ok());
    assert!(l.check(first).is_err());
    for i in 0..1000u32 {
        let ip = IpAddr::V4(Ipv4Addr::from(0x0b00_0000u32 + i));
        assert!(l.check(ClientKey::of(ip)).is_ok());
        assert!(l.clients() <= 100, "{}", l.clients());
    }
    // The first client was among the oldest: forgotten, it starts again.
    assert!(l.check(first).is_ok());
    // The newest are still counted.
    assert!(
        l.check(ClientKey::of(IpAddr::V4(Ipv4Addr::from(
            0x0b00_0000u32 + 999
        ))))
        .is_err()
    );
}

#[test]
fn failures_beyond_the_free_ones_lock_the_client_longer_each_time() {
    let t = LoginThrottle::new(2, Duration::from_secs(30), Duration::from_secs(100));
    let (a, b) = (key("127.0.0.1"), key("127.0.0.2"));
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

#[test]
fn attempts_count_as_failures_until_they_succeed_so_a_burst_cannot_slip_in() {
    let t = LoginThrottle::new(2, Duration::from_secs(30), Duration::from_secs(100));
    let a = key("127.0.0.1");
    // Three attempts at once, none answered yet: the third already says what a failure costs,
    // and a fourth is refused before it is tried.
    assert_eq!(t.attempt(a), Ok(None));
    assert_eq!(t.attempt(a), Ok(None));
    assert_eq!(t.attempt(a), Ok(Some(30)));
    assert!(t.attempt(a).is_err());
    // An attempt that could not be tried is taken back, and with it the lock it set; the
    // earlier ones still count.
    t.not_tried(a);
    assert_eq!(t.attempt(a), Ok(Some(30)));
    // A success forgives them all.
    t.succeeded(a);
    assert_eq!(t.attempt(a), Ok(None));
}

#[test]
fn the_throttle_keeps_at_most_its_capacity() {
    let t = LoginThrottle::with_capacity(5, Duration::from_secs(30), Duration::from_secs(100), 50);
    for i in 0..500u32 {
        t.failed(ClientKey::of(IpAddr::V4(Ipv4Addr::from(
            0x0a00_0000u32 + i,
        ))));
        assert!(t.clients() <= 50, "{}", t.clients());
    }
}
