//! A real webhook receiver for the tests: `scripts/webhook_receiver.py` as a child process that
//! verifies every message with the `standardwebhooks` package and keeps what it got; it can be
//! stopped and started again on the same port, and reads the tests' clock from a file.

use std::time::Duration;

use serde_json::Value;

use crate::process::Process;
use crate::python;
use crate::wait::poll;

/// How long the receiver may take to say where it listens.
const STARTUP: Duration = Duration::from_secs(30);
/// How long [`Receiver::wait_for`] waits for messages.
const ARRIVAL: Duration = Duration::from_secs(30);

/// One message as the receiver got it.
#[derive(Debug, Clone)]
pub struct Got {
    /// Its `webhook-id` header.
    pub webhook_id: String,
    /// Its `webhook-timestamp` header (Unix seconds).
    pub timestamp: i64,
    /// Whether `standardwebhooks` verified it with the receiver's secret.
    pub verified: bool,
    /// Why not, when it did not.
    pub error: Option<String>,
    /// The body, parsed (when verified).
    pub payload: Value,
}

/// The receiver process.
pub struct Receiver {
    process: Option<Process>,
    /// Where it writes what it got, its secret, clock and log.
    pub dir: tempfile::TempDir,
    /// The port it listens on.
    pub port: u16,
}

impl Receiver {
    /// Starts a receiver on a free port, with no secret yet (every message fails to verify
    /// until [`Receiver::set_secret`]).
    pub fn start() -> Receiver {
        let mut receiver = Receiver {
            process: None,
            dir: tempfile::tempdir().expect("tempdir"),
            port: 0,
        };
        std::fs::create_dir_all(receiver.dir.path().join("got")).expect("mkdir");
        receiver.set_secret("whsec_");
        receiver.run();
        receiver
    }

    fn run(&mut self) {
        let dir = self.dir.path();
        let mut cmd = std::process::Command::new(python::interpreter());
        cmd.arg(python::script("webhook_receiver.py"))
            .arg("--dir")
            .arg(dir.join("got"))
            .arg("--secret-file")
            .arg(dir.join("secret"))
            .arg("--clock-file")
            .arg(dir.join("clock"))
            .arg("--port")
            .arg(self.port.to_string());
        let mut process = Process::start(cmd, dir.join("receiver.log"));
        let port = process.wait_for_line(STARTUP, |line| {
            line.strip_prefix("listening ")
                .and_then(|rest| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse().ok())
        });
        self.port = port.unwrap_or_else(|| {
            panic!(
                "the webhook receiver did not start:\n{}",
                process.log_text()
            )
        });
        self.process = Some(process);
    }

    /// Its address: `http://127.0.0.1:<port>/hooks`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks", self.port)
    }

    /// Verifies from now on with `secret` (`whsec_…`).
    pub fn set_secret(&self, secret: &str) {
        std::fs::write(self.dir.path().join("secret"), secret).expect("write the secret");
    }

    /// Measures the timestamps' tolerance from `now` (the tests' clock).
    pub fn set_clock(&self, now: jiff::Timestamp) {
        std::fs::write(self.dir.path().join("clock"), now.as_second().to_string())
            .expect("write the clock");
    }

    /// Stops it (SIGTERM): the port refuses connections until [`Receiver::restart`].
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.terminate();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }

    /// Everything received so far, in arrival order.
    pub fn got(&self) -> Vec<Got> {
        let dir = self.dir.path().join("got");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        paths.sort();
        paths
            .iter()
            .map(|path| {
                let v: Value = serde_json::from_slice(&std::fs::read(path).expect("read"))
                    .expect("a JSON record");
                Got {
                    webhook_id: v["webhook_id"].as_str().unwrap_or_default().to_owned(),
                    timestamp: v["timestamp"]
                        .as_str()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or_default(),
                    verified: v["verified"].as_bool().unwrap_or(false),
                    error: v["error"].as_str().map(str::to_owned),
                    payload: v["payload"].clone(),
                }
            })
            .collect()
    }

    /// Waits until at least `n` messages arrived (30 s at most); returns all of them.
    pub async fn wait_for(&self, n: usize) -> Vec<Got> {
        poll(ARRIVAL, || async {
            let got = self.got();
            (got.len() >= n).then_some(got)
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "the webhook receiver got {} of {n} messages",
                self.got().len()
            )
        })
    }
}
