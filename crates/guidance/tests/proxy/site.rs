//! What the tests of this binary share: the real `guidance serve` with its files in a temporary
//! directory, the owner's password set beforehand with `guidance admin set-password`, and HTTP
//! clients whose connections come from a loopback address of their own (127.0.0.2, 127.0.0.3,
//! …: on Linux the whole of 127.0.0.0/8 is this machine), so that one test can be many visitors.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use guidance_testkit::api::visitor_intake;
use guidance_testkit::binary::{self, Server};
use guidance_testkit::pki::TestPki;

/// The owner's password in every test here.
pub const PASSWORD: &str = "correct horse battery staple";

/// `guidance <args>` with its database, mail and data directories in `dir`, plus `env`.
pub fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let data = dir.join("data");
    let mut cmd = binary::command(
        env!("CARGO_BIN_EXE_guidance"),
        args,
        &format!("sqlite://{}", data.join("guidance.db").display()),
        &data.join("mail"),
        &data,
    );
    cmd.current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Sets the owner's password with `guidance admin set-password`, as an operator would.
pub fn set_password(dir: &Path) {
    let mut child = command(dir, &["admin", "set-password"], &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start guidance admin set-password");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("write the password");
    let out = child.wait_with_output().expect("set-password ends");
    assert!(
        out.status.success(),
        "set-password failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `guidance serve` on the files in `dir` with `env`, the owner's password set first; its log
/// in `dir/guidance.log`.
pub fn serve(dir: &Path, env: &[(&str, &str)]) -> Server {
    set_password(dir);
    binary::serve(command(dir, &["serve"], env), dir.join("guidance.log"))
}

/// The loopback address `127.0.0.<n>`.
pub fn loopback(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A client whose connections come from `source`, that follows no redirect, and that trusts the
/// test CA of `pki` (and no other) for `https://localhost:<port>`, which it finds on 127.0.0.1.
pub fn client_from(source: IpAddr, pki: Option<&TestPki>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .local_address(source)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], 0)));
    if let Some(pki) = pki {
        let ca = std::fs::read(pki.ca()).expect("the test CA");
        builder = builder
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("a PEM CA"));
    }
    builder.build().expect("an HTTP client")
}

/// Visitors numbered across the whole test binary, so that each has an email address of its own.
static VISITOR: AtomicUsize = AtomicUsize::new(0);

/// Books the open slots of a site in turn, each booking from a new visitor (its own email
/// address), so that only the per-client limit can refuse one.
pub struct Visitors {
    base: String,
    slots: Vec<String>,
    booked: usize,
}

impl Visitors {
    /// Visitors of the site at `base` (as they reach it) booking `slots`.
    pub fn new(base: &str, slots: Vec<String>) -> Visitors {
        Visitors {
            base: base.to_owned(),
            slots,
            booked: 0,
        }
    }

    /// One booking request through `client` with extra `headers`: its status. A slot is used
    /// up only by a `201`; a `429` must be the per-client limit's.
    pub async fn book(&mut self, client: &reqwest::Client, headers: &[(&str, &str)]) -> u16 {
        let slot = self.slots.get(self.booked).expect("enough slots").clone();
        let visitor = VISITOR.fetch_add(1, Ordering::Relaxed);
        let mut req = client
            .post(format!("{}/api/bookings", self.base))
            .json(&visitor_intake(&slot, visitor));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("a booking request");
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        match status {
            201 => self.booked += 1,
            429 => assert_eq!(body["error"]["code"], "too_many_requests", "{body}"),
            _ => panic!("booking answered {status}: {body}"),
        }
        status
    }

    /// Books through `client` until refused: the statuses, the last the refusal.
    pub async fn until_refused(
        &mut self,
        client: &reqwest::Client,
        headers: &[(&str, &str)],
    ) -> Vec<u16> {
        let mut statuses = Vec::new();
        loop {
            let status = self.book(client, headers).await;
            statuses.push(status);
            if status != 201 || statuses.len() > 20 {
                return statuses;
            }
        }
    }
}

/// The value of the session cookie in a `Set-Cookie`, if it sets the one named `name`.
pub fn session_cookie(resp: &reqwest::Response, name: &str) -> Option<(String, String)> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let value = v.strip_prefix(name)?.strip_prefix('=')?;
            let id = value.split(';').next().unwrap_or_default().to_owned();
            Some((id, v.to_owned()))
        })
}
