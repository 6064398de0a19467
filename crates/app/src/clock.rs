//! The application's clock. Every use case asks it for the time, so that tests of expiry,
//! token lifetimes, notice and horizon hold it still and move it instead of editing rows.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

/// Tells the time: the system's, or a test clock's that only moves when told to.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: how far the test clock is ahead of the system clock,
    /// or the fixed time it stands at.
    test: Option<Arc<Mutex<TestTime>>>,
}

#[derive(Debug, Clone, Copy)]
enum TestTime {
    /// Runs with the system clock, this far ahead of it.
    Ahead(SignedDuration),
    /// Stands still at this time.
    Fixed(Timestamp),
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A test clock that runs with the system clock until moved or frozen.
    pub fn test() -> Self {
        Self {
            test: Some(Arc::new(Mutex::new(TestTime::Ahead(SignedDuration::ZERO)))),
        }
    }

    /// The time now.
    pub fn now(&self) -> Timestamp {
        let Some(test) = &self.test else {
            return Timestamp::now();
        };
        match *test.lock().expect("test clock lock") {
            TestTime::Ahead(by) => Timestamp::now().checked_add(by).unwrap_or(Timestamp::MAX),
            TestTime::Fixed(at) => at,
        }
    }

    /// Moves a test clock forward by `by` (a system clock cannot be moved: it panics, because a
    /// test that thinks it moved time would prove nothing).
    pub fn advance(&self, by: SignedDuration) {
        let test = self.test.as_ref().expect("only a test clock can be moved");
        let mut t = test.lock().expect("test clock lock");
        *t = match *t {
            TestTime::Ahead(ahead) => TestTime::Ahead(ahead.saturating_add(by)),
            TestTime::Fixed(at) => TestTime::Fixed(at.checked_add(by).unwrap_or(Timestamp::MAX)),
        };
    }

    /// Stops a test clock at `at`.
    pub fn freeze_at(&self, at: Timestamp) {
        let test = self.test.as_ref().expect("only a test clock can be frozen");
        *test.lock().expect("test clock lock") = TestTime::Fixed(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_clock_moves_only_when_told() {
        let clock = Clock::test();
        let at: Timestamp = "2030-01-01T10:00:00Z".parse().unwrap();
        clock.freeze_at(at);
        assert_eq!(clock.now(), at);
        clock.advance(SignedDuration::from_hours(25));
        assert_eq!(clock.now(), "2030-01-02T11:00:00Z".parse().unwrap());
    }

    #[test]
    fn a_running_test_clock_moved_ahead_stays_ahead() {
        let clock = Clock::test();
        clock.advance(SignedDuration::from_hours(2));
        let ahead = clock.now().duration_since(Timestamp::now());
        assert!(ahead > SignedDuration::from_mins(119), "{ahead:?}");
    }
}
