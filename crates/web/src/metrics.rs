//! Requests counted for `/metrics`: by method, matched route template (`/a/{token}`, never the
//! path itself, so that the number of series is bounded by the route table) and status class,
//! by exact status, and their latency in a histogram per method and route.
//!
//! The series are made once, at start-up, from [`crate::routes::route_table`]: a request looks
//! up its route (one hash of the template), then adds to a few atomic counters. No lock, no
//! allocation: the layer's future wraps the routes' future in place.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use guidance_app::exposition::{Exposition, Kind};
use tower::{Layer, Service};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The status classes counted, `1xx` to `5xx`.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The route label of requests no route matched.
const UNMATCHED: &str = "(unmatched)";
/// The route label of matched routes missing from the route table.
const UNLISTED: &str = "(unlisted)";
/// The method label of methods a route does not register (HEAD on a GET route, a 405).
const OTHER_METHOD: &str = "other";

/// The series of one route template: one per registered method, and one for any other.
struct RouteSeries {
    methods: Vec<(Method, usize)>,
    other: usize,
}

/// Which series a request belongs to: built once from the route table.
struct Index {
    /// The series of each route template.
    routes: HashMap<&'static str, RouteSeries>,
    /// `(method, route)` of each series.
    labels: Vec<(&'static str, &'static str)>,
    unmatched: usize,
    unlisted: usize,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    let mut labels = Vec::new();
    let mut routes: HashMap<&'static str, RouteSeries> = HashMap::new();
    for route in crate::routes::route_table() {
        let entry = routes.entry(route.path).or_insert_with(|| {
            labels.push((OTHER_METHOD, route.path));
            RouteSeries {
                methods: Vec::new(),
                other: labels.len() - 1,
            }
        });
        if !entry.methods.iter().any(|(m, _)| *m == route.method) {
            labels.push((static_method(&route.method), route.path));
            entry.methods.push((route.method, labels.len() - 1));
        }
    }
    labels.push((OTHER_METHOD, UNMATCHED));
    labels.push((OTHER_METHOD, UNLISTED));
    Index {
        routes,
        unmatched: labels.len() - 2,
        unlisted: labels.len() - 1,
        labels,
    }
});

/// The name of a method the route table registers.
fn static_method(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => OTHER_METHOD,
    }
}

impl Index {
    fn series(&self, method: &Method, route: Option<&MatchedPath>) -> usize {
        let Some(route) = route else {
            return self.unmatched;
        };
        match self.routes.get(route.as_str()) {
            Some(r) => r
                .methods
                .iter()
                .find(|(m, _)| m == method)
                .map_or(r.other, |(_, i)| *i),
            None => self.unlisted,
        }
    }
}

/// The counters of one method on one route.
#[derive(Default)]
struct Series {
    by_class: [AtomicU64; CLASSES.len()],
    /// Observations per bucket (not cumulative), the last for those above every bound.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

/// Every request counter of one server.
pub struct RequestMetrics {
    series: Vec<Series>,
    /// Answers by exact status, `100` to `599`.
    by_status: Vec<AtomicU64>,
}

impl Default for RequestMetrics {
    fn default() -> Self {
        Self {
            series: INDEX.labels.iter().map(|_| Series::default()).collect(),
            by_status: (100..600).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl RequestMetrics {
    /// Counts one answered request.
    fn record(&self, series: usize, status: u16, elapsed: std::time::Duration) {
        let Some(s) = self.series.get(series) else {
            return;
        };
        let class = usize::from(status / 100).saturating_sub(1).min(4);
        s.by_class[class].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        s.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        s.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        if let Some(c) = status
            .checked_sub(100)
            .and_then(|i| self.by_status.get(usize::from(i)))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Writes the request families; series without any request are left out.
    pub fn render(&self, out: &mut Exposition) {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let name = "guidance_http_requests_total";
        out.family(
            name,
            Kind::Counter,
            "Requests answered, by method, route template and status class.",
        );
        for (s, (method, route)) in self.series.iter().zip(&INDEX.labels) {
            for (class, counter) in CLASSES.iter().zip(&s.by_class) {
                let n = read(counter);
                if n > 0 {
                    let labels = [("method", *method), ("route", *route), ("status", *class)];
                    out.sample(name, &labels, n);
                }
            }
        }
        let name = "guidance_http_responses_total";
        out.family(name, Kind::Counter, "Requests answered, by status code.");
        for (code, counter) in (100u16..).zip(&self.by_status) {
            let n = read(counter);
            if n > 0 {
                out.sample(name, &[("code", &code.to_string())], n);
            }
        }
        let name = "guidance_http_request_duration_seconds";
        out.family(
            name,
            Kind::Histogram,
            "Time from a request's arrival to its answer's head, by method and route template.",
        );
        for (s, (method, route)) in self.series.iter().zip(&INDEX.labels) {
            let counts: Vec<u64> = s.buckets.iter().map(read).collect();
            if counts.iter().any(|n| *n > 0) {
                let sum = read(&s.sum_nanos) as f64 / 1e9;
                let labels = [("method", *method), ("route", *route)];
                out.histogram(name, &labels, &BUCKETS, &counts, sum);
            }
        }
    }
}

/// The layer that counts each request into a [`RequestMetrics`].
#[derive(Clone)]
pub struct CountRequests(pub Arc<RequestMetrics>);

impl<S> Layer<S> for CountRequests {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            metrics: self.0.clone(),
        }
    }
}

/// The service of [`CountRequests`] around the routes it wraps.
#[derive(Clone)]
pub struct Counted<S> {
    inner: S,
    metrics: Arc<RequestMetrics>,
}

impl<S> Service<Request> for Counted<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Counting<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let series = INDEX.series(req.method(), req.extensions().get::<MatchedPath>());
        Counting {
            answer: self.inner.call(req),
            metrics: self.metrics.clone(),
            series,
            started: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The routes' answer, counted when it is ready.
    pub struct Counting<F> {
        #[pin]
        answer: F,
        metrics: Arc<RequestMetrics>,
        series: usize,
        started: Instant,
    }
}

impl<F> Future for Counting<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Poll::Ready(Ok(resp)) = this.answer.poll(cx) else {
            return Poll::Pending;
        };
        this.metrics
            .record(*this.series, resp.status().as_u16(), this.started.elapsed());
        Poll::Ready(Ok(resp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_template_is_its_own_series_and_other_paths_are_not() {
        let get = INDEX.series(&Method::GET, None);
        assert_eq!(get, INDEX.unmatched);
        assert_eq!(INDEX.labels[INDEX.unlisted].1, UNLISTED);
        let r = &INDEX.routes["/healthz"];
        assert_eq!(INDEX.labels[r.methods[0].1], ("GET", "/healthz"));
        assert_eq!(INDEX.labels[r.other], ("other", "/healthz"));
    }

    #[test]
    fn requests_land_in_their_class_status_and_bucket() {
        let m = RequestMetrics::default();
        let get = INDEX.routes["/healthz"].methods[0].1;
        m.record(get, 200, std::time::Duration::from_millis(3));
        m.record(get, 503, std::time::Duration::from_secs(60));
        let mut out = Exposition::new();
        m.render(&mut out);
        let text = out.into_string();
        for line in [
            "guidance_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"2xx\"} 1",
            "guidance_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"5xx\"} 1",
            "guidance_http_responses_total{code=\"503\"} 1",
            "guidance_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.005\"} 1",
            "guidance_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 2",
            "guidance_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 2",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
