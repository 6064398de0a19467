//! The bench's own HTTP client: `concurrency` tasks, each with a kept-alive connection, sending
//! one request after another until a count or a duration is reached, recording each
//! request's latency and status.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// When a run ends.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// After this many requests in all (or at the time cap, whichever comes first).
    Count(usize, Duration),
    /// After this long.
    Elapsed(Duration),
}

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Requests answered, by status code.
    pub statuses: BTreeMap<u16, usize>,
    /// Requests that got no HTTP answer.
    pub errors: usize,
    /// One error message, for the report.
    pub first_error: Option<String>,
    /// Latency of every answered request, sorted.
    pub latencies: Vec<Duration>,
    /// From the first request sent to the last answer.
    pub elapsed: Duration,
}

impl Outcome {
    /// Adds `other`'s requests to these, as if the two runs were one: the counts and the
    /// latencies together, the durations added.
    pub fn absorb(&mut self, other: Outcome) {
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.latencies.extend(other.latencies);
        self.latencies.sort_unstable();
        self.elapsed += other.elapsed;
    }

    /// Requests answered with `status`.
    pub fn count(&self, status: u16) -> usize {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// Answers with `status` per second.
    pub fn rate(&self, status: u16) -> f64 {
        self.count(status) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency below which `q` (0..=1) of the requests were answered.
    pub fn percentile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((self.latencies.len() as f64) * q).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    /// Statuses other than `expected`, and transport errors, as one line (empty when none).
    pub fn unexpected(&self, expected: u16) -> String {
        let mut parts: Vec<String> = self
            .statuses
            .iter()
            .filter(|(s, _)| **s != expected)
            .map(|(s, n)| format!("{n}× {s}"))
            .collect();
        if self.errors > 0 {
            parts.push(format!(
                "{}× no answer ({})",
                self.errors,
                self.first_error.as_deref().unwrap_or("?")
            ));
        }
        parts.join(", ")
    }
}

/// A client whose connections are kept alive between requests, one per task.
pub fn client(concurrency: usize) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(30))
        .build()
}

/// Runs `request(i)` for i = 0, 1, 2, … from `concurrency` tasks at once until `until`.
/// `request` returns the status code of the answer.
pub async fn run<F, Fut, E>(concurrency: usize, until: Until, request: F) -> Outcome
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<u16, E>> + Send,
    E: std::fmt::Display,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let request = request.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Outcome::default();
            let mut last_answer = started;
            loop {
                let (limit, cap) = match until {
                    Until::Count(n, cap) => (Some(n), cap),
                    Until::Elapsed(d) => (None, d),
                };
                if started.elapsed() >= cap {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if limit.is_some_and(|n| i >= n) {
                    break;
                }
                let sent = Instant::now();
                match request(i).await {
                    Ok(status) => {
                        mine.latencies.push(sent.elapsed());
                        *mine.statuses.entry(status).or_default() += 1;
                    }
                    Err(e) => {
                        mine.errors += 1;
                        mine.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
                last_answer = Instant::now();
            }
            mine.elapsed = last_answer.duration_since(started);
            mine
        }));
    }
    let mut all = Outcome::default();
    for t in tasks {
        let Ok(mine) = t.await else {
            all.errors += 1;
            continue;
        };
        for (s, n) in mine.statuses {
            *all.statuses.entry(s).or_default() += n;
        }
        all.errors += mine.errors;
        if all.first_error.is_none() {
            all.first_error = mine.first_error;
        }
        all.latencies.extend(mine.latencies);
        all.elapsed = all.elapsed.max(mine.elapsed);
    }
    all.latencies.sort_unstable();
    all
}

/// `GET path_and_query` on 127.0.0.1:`port` from `concurrency` clients for `duration`.
pub async fn get_during(
    client: &reqwest::Client,
    port: u16,
    path_and_query: &str,
    concurrency: usize,
    duration: Duration,
) -> Outcome {
    let url = format!("http://127.0.0.1:{port}{path_and_query}");
    let client = client.clone();
    run(concurrency, Until::Elapsed(duration), move |_| {
        let request = client.get(&url);
        async move {
            let r = request.send().await?;
            let status = r.status().as_u16();
            r.bytes().await?;
            Ok::<_, reqwest::Error>(status)
        }
    })
    .await
}

/// Sends `request(i)` for i = 0 … n-1 at `per_second`, each at its own scheduled moment whatever
/// the answers before it (an open loop, as independent visitors arrive): a slow answer delays
/// nothing else, and each latency counts from the moment the request was due, so that time spent
/// waiting behind a slow server is not hidden.
pub async fn paced<F, Fut, E>(per_second: f64, n: usize, request: F) -> Outcome
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<u16, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let started = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let due = started + Duration::from_secs_f64(i as f64 / per_second);
        tokio::time::sleep_until(due).await;
        let answer = request(i);
        tasks.spawn(async move {
            let result = answer.await;
            (result, due.elapsed(), Instant::now())
        });
    }
    let mut all = Outcome::default();
    let mut last = started.into_std();
    while let Some(done) = tasks.join_next().await {
        let Ok((result, latency, at)) = done else {
            all.errors += 1;
            continue;
        };
        match result {
            Ok(status) => {
                all.latencies.push(latency);
                *all.statuses.entry(status).or_default() += 1;
            }
            Err(e) => {
                all.errors += 1;
                all.first_error.get_or_insert_with(|| e.to_string());
            }
        }
        last = last.max(at);
    }
    all.elapsed = last.duration_since(started.into_std());
    all.latencies.sort_unstable();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let o = Outcome {
            latencies: (1..=100).map(Duration::from_millis).collect(),
            ..Outcome::default()
        };
        assert_eq!(o.percentile(0.5), Duration::from_millis(50));
        assert_eq!(o.percentile(0.99), Duration::from_millis(99));
        assert_eq!(o.percentile(1.0), Duration::from_millis(100));
        assert_eq!(Outcome::default().percentile(0.5), Duration::ZERO);
    }

    #[test]
    fn two_runs_absorbed_count_as_one() {
        let run = |ms: u64, n: usize, status: u16| Outcome {
            statuses: BTreeMap::from([(status, n)]),
            latencies: vec![Duration::from_millis(ms); n],
            elapsed: Duration::from_secs(1),
            ..Outcome::default()
        };
        let mut both = run(3, 100, 200);
        both.absorb(run(1, 300, 200));
        both.absorb(run(2, 1, 500));
        assert_eq!((both.count(200), both.count(500)), (400, 1));
        assert_eq!(both.rate(200), 400.0 / 3.0);
        assert_eq!(both.percentile(0.5), Duration::from_millis(1));
        assert_eq!(both.percentile(1.0), Duration::from_millis(3));
    }

    #[tokio::test]
    async fn a_counted_run_sends_exactly_that_many_requests() {
        let o = run(4, Until::Count(37, Duration::from_secs(30)), |_| async {
            Ok::<_, String>(201)
        })
        .await;
        assert_eq!(o.count(201), 37);
        assert_eq!(o.latencies.len(), 37);
        assert_eq!(o.unexpected(201), "");
    }

    #[tokio::test]
    async fn a_paced_run_sends_each_request_once() {
        let o = paced(10_000.0, 25, |_| async { Ok::<_, String>(201) }).await;
        assert_eq!(o.count(201), 25);
        assert_eq!(o.latencies.len(), 25);
    }
}
