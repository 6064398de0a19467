//! Real nginx and Caddy from Debian's packages, run as the test's own child processes (not as
//! daemons, on free ports, every file in a temporary directory) with the shipped
//! `deploy/nginx/guidance.conf` and `deploy/Caddyfile`: only host names, ports and certificate
//! paths are replaced, each replacement checked, so that what is tested is what is shipped.
//! A missing proxy fails the test: `scripts/test` installs both.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use guidance_testkit::free_port;
use guidance_testkit::pki::TestPki;
use guidance_testkit::process::Process;

/// A running proxy in front of Guidance, terminating TLS for `https://localhost:<https_port>`.
pub struct Proxy {
    /// The proxy process (killed when dropped).
    pub process: Process,
    /// Where it serves https.
    pub https_port: u16,
    /// Where it serves plain http (which redirects to https).
    pub http_port: u16,
}

impl Proxy {
    /// The public URL of the site behind it.
    pub fn public_url(&self) -> String {
        format!("https://localhost:{}", self.https_port)
    }
}

/// Which proxy.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// nginx, with `deploy/nginx/guidance.conf`.
    Nginx,
    /// Caddy, with `deploy/Caddyfile`.
    Caddy,
}

impl Kind {
    /// Starts the proxy in `dir` for Guidance on 127.0.0.1:`upstream`, with `pki`'s certificate,
    /// and waits until it listens.
    pub fn start(self, dir: &Path, pki: &TestPki, upstream: u16, ports: (u16, u16)) -> Proxy {
        let (https_port, http_port) = ports;
        let process = match self {
            Kind::Nginx => nginx(dir, pki, upstream, https_port, http_port),
            Kind::Caddy => caddy(dir, pki, upstream, https_port, http_port),
        };
        let mut proxy = Proxy {
            process,
            https_port,
            http_port,
        };
        wait_until_listening(&mut proxy.process, https_port);
        proxy
    }
}

/// Two free ports for a proxy: https and http.
pub fn ports() -> (u16, u16) {
    (free_port(), free_port())
}

fn deploy_file(name: &str) -> String {
    let path = guidance_testkit::workspace_root().join("deploy").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `text` with each `(from, to)` replaced, every `from` required to be there.
fn substitute(text: &str, name: &str, pairs: &[(&str, String)]) -> String {
    let mut out = text.to_owned();
    for (from, to) in pairs {
        assert!(
            out.contains(from),
            "{name} no longer contains {from:?}; update the test's substitutions"
        );
        out = out.replace(from, to);
    }
    out
}

/// The path of `program`: in `/usr/sbin` (where Debian puts nginx, not always on a test's PATH)
/// or on the PATH. Panics with how to get it when it is missing.
fn program(name: &str, package: &str) -> PathBuf {
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let candidates = ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"]
        .iter()
        .map(PathBuf::from)
        .chain(std::env::split_paths(&path_var));
    for dir in candidates {
        let path = dir.join(name);
        if path.is_file() {
            return path;
        }
    }
    panic!(
        "{name} is not installed: the proxy tests need it (scripts/test installs it; by hand: \
         apt-get install {package})"
    );
}

fn nginx(dir: &Path, pki: &TestPki, upstream: u16, https: u16, http: u16) -> Process {
    let shipped = deploy_file("nginx/guidance.conf");
    // IPv6 listeners are left out: a test machine may have no IPv6 loopback.
    let v4_only: String = shipped
        .lines()
        .filter(|l| !l.contains("listen [::]"))
        .map(|l| format!("{l}\n"))
        .collect();
    let site = substitute(
        &v4_only,
        "deploy/nginx/guidance.conf",
        &[
            (
                "server 127.0.0.1:8080;",
                format!("server 127.0.0.1:{upstream};"),
            ),
            ("listen 80;", format!("listen 127.0.0.1:{http};")),
            (
                "listen 443 ssl http2;",
                format!("listen 127.0.0.1:{https} ssl http2;"),
            ),
            (
                "server_name guidance.example.org;",
                "server_name localhost;".into(),
            ),
            (
                "/etc/letsencrypt/live/guidance.example.org/fullchain.pem",
                pki.cert().display().to_string(),
            ),
            (
                "/etc/letsencrypt/live/guidance.example.org/privkey.pem",
                pki.key().display().to_string(),
            ),
        ],
    );
    let root = dir.join("nginx");
    std::fs::create_dir_all(root.join("tmp")).expect("nginx dir");
    std::fs::write(root.join("guidance.conf"), site).expect("write the site");
    let r = root.display();
    // The main file a distribution would ship, reduced to one process that stays in the
    // foreground and keeps every file in the test's directory.
    let main = format!(
        "daemon off;\n\
         master_process off;\n\
         worker_processes 1;\n\
         pid {r}/nginx.pid;\n\
         error_log stderr notice;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n\
           access_log {r}/access.log;\n\
           client_body_temp_path {r}/tmp/body;\n\
           proxy_temp_path {r}/tmp/proxy;\n\
           fastcgi_temp_path {r}/tmp/fastcgi;\n\
           uwsgi_temp_path {r}/tmp/uwsgi;\n\
           scgi_temp_path {r}/tmp/scgi;\n\
           include {r}/guidance.conf;\n\
         }}\n"
    );
    std::fs::write(root.join("nginx.conf"), main).expect("write nginx.conf");
    let mut cmd = Command::new(program("nginx", "nginx"));
    cmd.arg("-p")
        .arg(&root)
        .arg("-c")
        .arg(root.join("nginx.conf"))
        .arg("-e")
        .arg("stderr");
    Process::start(cmd, dir.join("nginx.log"))
}

fn caddy(dir: &Path, pki: &TestPki, upstream: u16, https: u16, http: u16) -> Process {
    let shipped = deploy_file("Caddyfile");
    let root = dir.join("caddy");
    std::fs::create_dir_all(&root).expect("caddy dir");
    let site = substitute(
        &shipped,
        "deploy/Caddyfile",
        &[
            (
                "reverse_proxy 127.0.0.1:8080",
                format!("reverse_proxy 127.0.0.1:{upstream}"),
            ),
            (
                "guidance.example.org {",
                format!(
                    "localhost {{\n\ttls {} {}",
                    pki.cert().display(),
                    pki.key().display()
                ),
            ),
        ],
    );
    // Global options come first: the test's ports and files, no admin endpoint, and no attempt
    // to install the CA in the system's trust store.
    let global = format!(
        "{{\n\tadmin off\n\tskip_install_trust\n\tdefault_bind 127.0.0.1\n\
         \thttp_port {http}\n\thttps_port {https}\n\tstorage file_system {}\n}}\n\n",
        root.join("data").display()
    );
    std::fs::write(root.join("Caddyfile"), global + &site).expect("write the Caddyfile");
    let mut cmd = Command::new(program("caddy", "caddy"));
    cmd.arg("run")
        .arg("--config")
        .arg(root.join("Caddyfile"))
        .arg("--adapter")
        .arg("caddyfile")
        .env("HOME", &root)
        .env("XDG_DATA_HOME", root.join("data"))
        .env("XDG_CONFIG_HOME", root.join("config"));
    Process::start(cmd, dir.join("caddy.log"))
}

/// Waits until something accepts connections on 127.0.0.1:`port`; panics with the log when the
/// process ends or a minute passes first.
fn wait_until_listening(process: &mut Process, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if !process.is_running() || Instant::now() >= deadline {
            let _ = process.wait(Duration::from_secs(1));
            panic!(
                "the proxy did not start listening on {port}:\n{}",
                process.log_text()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
