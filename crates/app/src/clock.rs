//! The application's clock. Every use case asks it for the time, so that tests of expiry,
//! token lifetimes, notice and horizon move it instead of editing rows.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

/// Tells the time: the system's, or a test clock's, which runs with the system's but as far
/// ahead of it as tests have moved it.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: how far the test clock has been moved ahead.
    ahead: Option<Arc<Mutex<SignedDuration>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A test clock, running with the system clock until moved.
    pub fn test() -> Self {
        Self {
            ahead: Some(Arc::default()),
        }
    }

    /// The time now.
    pub fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        match &self.ahead {
            None => now,
            Some(ahead) => now
                .checked_add(*ahead.lock().expect("test clock lock"))
                .unwrap_or(Timestamp::MAX),
        }
    }

    /// Moves a test clock forward by `by` (a system clock cannot be moved: it panics, because a
    /// test that thinks it moved time would prove nothing).
    pub fn advance(&self, by: SignedDuration) {
        let ahead = self.ahead.as_ref().expect("only a test clock can be moved");
        let mut ahead = ahead.lock().expect("test clock lock");
        *ahead = ahead.saturating_add(by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_clock_moved_ahead_stays_ahead_and_its_copies_move_with_it() {
        let clock = Clock::test();
        let copy = clock.clone();
        clock.advance(SignedDuration::from_hours(2));
        let ahead = copy.now().duration_since(Timestamp::now());
        assert!(ahead > SignedDuration::from_mins(119), "{ahead:?}");
        assert!(ahead < SignedDuration::from_mins(121), "{ahead:?}");
        clock.advance(SignedDuration::from_hours(23));
        let ahead = copy.now().duration_since(Timestamp::now());
        assert!(ahead > SignedDuration::from_mins(25 * 60 - 1), "{ahead:?}");
    }

    #[test]
    #[should_panic(expected = "only a test clock can be moved")]
    fn the_system_clock_cannot_be_moved() {
        Clock::system().advance(SignedDuration::from_hours(1));
    }
}
