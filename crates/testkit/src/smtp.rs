//! A real SMTP server for the delivery tests: `scripts/smtp_sink.py` (aiosmtpd, from the test
//! venv) as a child process that writes each message it receives as an `.eml` file with its
//! envelope beside it, and that can be stopped and started again on the same port.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::mail::message_id;
use crate::pki::TestPki;
use crate::process::Process;
use crate::python;
use crate::wait::poll;

/// How long the server may take to say where it listens.
const STARTUP: Duration = Duration::from_secs(30);

/// How long [`Sink::wait_for`] waits for messages to arrive.
const ARRIVAL: Duration = Duration::from_secs(30);

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its `.eml` file.
    pub path: PathBuf,
    /// The message as it came.
    pub raw: Vec<u8>,
    /// The envelope sender.
    pub mail_from: String,
    /// The envelope recipients.
    pub rcpt_tos: Vec<String>,
    /// The user the client logged in as, if it did.
    pub login: Option<String>,
    /// The TLS version the message came over (`TLSv1.3`), `None` in plain text.
    pub tls: Option<String>,
    /// Its Message-ID header.
    pub message_id: String,
}

/// The SMTP server process.
pub struct Sink {
    process: Option<Process>,
    /// Where the messages (and the server's log) are written.
    pub dir: tempfile::TempDir,
    /// The port it listens on (or will, once started).
    pub port: u16,
    args: Vec<String>,
}

impl Sink {
    /// Starts the server on a free port; `args` are extra flags (`--auth u:p`, `--stall`,
    /// `--tls starttls --cert … --key …`).
    pub fn start(args: &[&str]) -> Sink {
        let mut sink = Sink::not_started(args);
        sink.port = 0;
        sink.run();
        sink
    }

    /// Starts the server on a free port speaking TLS in `mode` (`starttls`, `implicit`) with the
    /// server certificate of `pki`; `args` are further flags.
    pub fn start_tls(pki: &TestPki, mode: &str, args: &[&str]) -> Sink {
        let (cert, key) = (pki.cert(), pki.key());
        let mut all = vec![
            "--tls",
            mode,
            "--cert",
            cert.to_str().expect("a UTF-8 path"),
            "--key",
            key.to_str().expect("a UTF-8 path"),
        ];
        all.extend_from_slice(args);
        Sink::start(&all)
    }

    /// A server that is not running yet, on a port nothing listens on.
    pub fn not_started(args: &[&str]) -> Sink {
        Sink {
            process: None,
            dir: tempfile::tempdir().expect("tempdir"),
            port: crate::free_port(),
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn run(&mut self) {
        let mut cmd = std::process::Command::new(python::interpreter());
        cmd.arg(python::script("smtp_sink.py"))
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--port")
            .arg(self.port.to_string())
            .args(&self.args);
        let mut process = Process::start(cmd, self.dir.path().join("smtp_sink.log"));
        // Its first line: `listening HOST PORT`.
        let port = process.wait_for_line(STARTUP, |line| {
            line.strip_prefix("listening ")
                .and_then(|rest| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse().ok())
        });
        self.port =
            port.unwrap_or_else(|| panic!("the SMTP sink did not start:\n{}", process.log_text()));
        self.process = Some(process);
    }

    /// `smtp://127.0.0.1:<port>?tls=none`, with credentials when given.
    pub fn url(&self, credentials: Option<&str>) -> String {
        match credentials {
            Some(c) => format!("smtp://{c}@127.0.0.1:{}?tls=none", self.port),
            None => format!("smtp://127.0.0.1:{}?tls=none", self.port),
        }
    }

    /// `<scheme>://<credentials>@localhost:<port>`: a TLS form, named as in the certificate.
    pub fn tls_url(&self, scheme: &str, credentials: &str) -> String {
        format!("{scheme}://{credentials}@localhost:{}", self.port)
    }

    /// Stops the server with SIGTERM (it closes every connection) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.terminate();
        }
    }

    /// Starts it again on the same port, with `args` instead of the first flags.
    pub fn restart(&mut self, args: &[&str]) {
        self.stop();
        self.args = args.iter().map(|s| s.to_string()).collect();
        self.run();
    }

    /// Every message received so far, in arrival order.
    pub fn messages(&self) -> Vec<Received> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let raw = std::fs::read(&path).expect("read a message");
                let meta: Value = serde_json::from_slice(
                    &std::fs::read(path.with_extension("json")).expect("read its envelope"),
                )
                .expect("a JSON envelope");
                Received {
                    mail_from: meta["mail_from"].as_str().expect("mail_from").to_owned(),
                    rcpt_tos: meta["rcpt_tos"]
                        .as_array()
                        .expect("rcpt_tos")
                        .iter()
                        .map(|v| v.as_str().expect("a recipient").to_owned())
                        .collect(),
                    login: meta["login"].as_str().map(str::to_owned),
                    tls: meta["tls"].as_str().map(str::to_owned),
                    message_id: message_id(&raw),
                    path,
                    raw,
                }
            })
            .collect()
    }

    /// Waits until at least `n` messages arrived (30 s at most); returns all of them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        poll(ARRIVAL, || async {
            let got = self.messages();
            (got.len() >= n).then_some(got)
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "the SMTP server got {} of {n} messages",
                self.messages().len()
            )
        })
    }
}
