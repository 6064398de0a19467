//! The Prometheus text exposition format (version 0.0.4), written by hand: a `# HELP` and a
//! `# TYPE` line per family, then one line per sample, `name{label="value",…} value`. Counters'
//! names end in `_total`; a histogram's samples are its cumulative `_bucket`s (the last with
//! `le="+Inf"`), `_sum` and `_count`.
//!
//! Label values are escaped here (backslash, double quote, line feed), so callers may pass any
//! text; names are the callers' constants.

use std::fmt::Write as _;

/// The `Content-Type` of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a family of samples is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only ever goes up (restarts at zero with the process).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations counted into buckets.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A page of the format being written.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// An empty page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the family `name`: its help text and its kind.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
    }

    /// One sample of the family last started.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Into<Number>) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (label, text)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(label);
                self.out.push_str("=\"");
                for c in text.chars() {
                    match c {
                        '\\' => self.out.push_str("\\\\"),
                        '"' => self.out.push_str("\\\""),
                        '\n' => self.out.push_str("\\n"),
                        c => self.out.push(c),
                    }
                }
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = match value.into() {
            Number::Int(n) => writeln!(self.out, " {n}"),
            Number::Float(x) if x.is_nan() => writeln!(self.out, " NaN"),
            Number::Float(x) if x.is_infinite() && x > 0.0 => writeln!(self.out, " +Inf"),
            Number::Float(x) if x.is_infinite() => writeln!(self.out, " -Inf"),
            Number::Float(x) => writeln!(self.out, " {x}"),
        };
    }

    /// The histogram `name` (a family already started) for one set of `labels`: `buckets`
    /// holds the upper bounds, `counts` how many observations fell into each (not cumulative),
    /// with one more for those above the last bound; `sum` is their total.
    pub fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        buckets: &[f64],
        counts: &[u64],
        sum: f64,
    ) {
        let bucket = format!("{name}_bucket");
        let mut cumulative = 0u64;
        for (i, count) in counts.iter().enumerate() {
            cumulative += count;
            let le = buckets
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), f64::to_string);
            let mut with_le: Vec<(&str, &str)> = labels.to_vec();
            with_le.push(("le", &le));
            self.sample(&bucket, &with_le, cumulative);
        }
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, cumulative);
    }

    /// The page.
    pub fn into_string(self) -> String {
        self.out
    }
}

/// A sample's value.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    /// A count.
    Int(i64),
    /// A measure.
    Float(f64),
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        i64::try_from(n).map_or(Number::Float(n as f64), Number::Int)
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number::Int(n)
    }
}

impl From<u32> for Number {
    fn from(n: u32) -> Self {
        Number::Int(i64::from(n))
    }
}

impl From<f64> for Number {
    fn from(x: f64) -> Self {
        Number::Float(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_samples_and_escaped_labels() {
        let mut e = Exposition::new();
        e.family("x_total", Kind::Counter, "Things.\nMore");
        e.sample(
            "x_total",
            &[("route", "/a/{id}"), ("q", "say \"hi\"\\")],
            3u64,
        );
        e.family("h", Kind::Histogram, "Times.");
        e.histogram("h", &[("m", "GET")], &[0.5, 1.0], &[1, 0, 2], 4.25);
        assert_eq!(
            e.into_string(),
            "# HELP x_total Things.\\nMore\n# TYPE x_total counter\n\
             x_total{route=\"/a/{id}\",q=\"say \\\"hi\\\"\\\\\"} 3\n\
             # HELP h Times.\n# TYPE h histogram\n\
             h_bucket{m=\"GET\",le=\"0.5\"} 1\nh_bucket{m=\"GET\",le=\"1\"} 1\n\
             h_bucket{m=\"GET\",le=\"+Inf\"} 3\nh_sum{m=\"GET\"} 4.25\nh_count{m=\"GET\"} 3\n"
        );
    }
}
