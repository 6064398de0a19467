//! Bounded waiting: a condition polled until it holds or its time is up, so that a stuck service
//! fails a test (with the test's own message) instead of hanging it.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often [`poll`] looks again.
const INTERVAL: Duration = Duration::from_millis(50);

/// Polls `check` until it gives `Some`, for at most `limit`; `None` when the time ran out.
/// `check` runs at least once.
pub async fn poll<T, F, Fut>(limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(INTERVAL).await;
    }
}
