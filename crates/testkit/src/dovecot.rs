//! A real IMAP server for the tests: Debian's Dovecot, configured in a temporary folder and run
//! in the foreground as a child process (`dovecot -F -c <conf>`), one user from a passwd-file,
//! maildirs in the folder, listening on free loopback ports, plain and TLS (a certificate from
//! a [`TestPki`]). It never touches a system Dovecot or its ports. Tests put emails into it with
//! IMAP `APPEND` and count what is in each folder.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::pki::TestPki;
use crate::process::Process;

const DOVECOT: &str = "/usr/sbin/dovecot";
/// The mailbox user and password.
pub const USER: &str = "guidance";
/// The mailbox password.
pub const PASSWORD: &str = "mailbox-password";

/// A running Dovecot.
pub struct Dovecot {
    dir: tempfile::TempDir,
    pki: TestPki,
    process: Option<Process>,
    /// The plain (and STARTTLS) IMAP port.
    pub imap_port: u16,
    /// The IMAP-over-TLS port.
    pub imaps_port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Dovecot {
    /// Configures and starts a fresh server; panics with the reason when Dovecot is missing
    /// (Debian: `dovecot-imapd`; `scripts/test` installs it) or does not start.
    pub fn start() -> Dovecot {
        assert!(
            Path::new(DOVECOT).exists(),
            "{DOVECOT} is missing: install Debian's dovecot-imapd (scripts/test does)"
        );
        let dir = tempfile::Builder::new()
            .prefix("guidance-dovecot")
            .tempdir()
            .expect("tempdir");
        let pki = TestPki::new("dovecot");
        let mut d = Dovecot {
            dir,
            pki,
            process: None,
            imap_port: free_port(),
            imaps_port: free_port(),
        };
        d.configure();
        d.run();
        d
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn configure(&self) {
        let root = self.dir.path();
        // Dovecot's own users must reach the folder; as root the mail belongs to `dovecot`.
        let (uid, gid, internal, login) = if is_root() {
            (
                id("-u", "dovecot"),
                id("-g", "dovecot"),
                "dovecot".to_owned(),
                "dovenull".to_owned(),
            )
        } else {
            let me = String::from_utf8(Command::new("id").arg("-un").output().expect("id").stdout)
                .expect("utf-8")
                .trim()
                .to_owned();
            (id("-u", &me), id("-g", &me), me.clone(), me)
        };
        let home = self.path("home");
        for sub in ["home", "run", "state"] {
            std::fs::create_dir_all(self.path(sub)).expect("mkdir");
        }
        let chmod = |p: &Path| {
            let _ = Command::new("chmod")
                .args(["755", p.to_str().unwrap()])
                .status();
        };
        chmod(root);
        if is_root() {
            let _ = Command::new("chown")
                .args(["-R", &format!("{uid}:{gid}"), home.to_str().unwrap()])
                .status();
        }
        std::fs::write(
            self.path("passwd"),
            format!(
                "{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{}::\n",
                home.display()
            ),
        )
        .expect("passwd");
        let conf = format!(
            r#"base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
first_valid_gid = 1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"#,
            root = root.display(),
            cert = self.pki.cert().display(),
            key = self.pki.key().display(),
            imap = self.imap_port,
            imaps = self.imaps_port,
        );
        std::fs::write(self.path("dovecot.conf"), conf).expect("dovecot.conf");
        if is_root() {
            // The login processes read the key as root before dropping privileges; the mail
            // processes need nothing of it.
            chmod(self.pki.key().parent().unwrap());
        }
    }

    fn run(&mut self) {
        let mut cmd = Command::new(DOVECOT);
        cmd.args(["-F", "-c", self.path("dovecot.conf").to_str().unwrap()]);
        let process = Process::start(cmd, self.path("dovecot.out"));
        self.process = Some(process);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let up = [self.imap_port, self.imaps_port]
                .iter()
                .all(|p| TcpStream::connect(("127.0.0.1", *p)).is_ok());
            if up {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Dovecot did not start listening:\n{}\n{}",
                std::fs::read_to_string(self.path("dovecot.out")).unwrap_or_default(),
                std::fs::read_to_string(self.path("dovecot.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (SIGTERM: every connection closes) and waits until it has.
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.terminate();
        }
        // The listeners are gone once nothing answers any more.
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.imap_port)).is_ok() && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts it again on the same ports and mail.
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }

    /// The plain loopback URL of the inbox (`?tls=none`).
    pub fn plain_url(&self) -> String {
        format!(
            "imap://{USER}:{PASSWORD}@127.0.0.1:{}/INBOX?tls=none",
            self.imap_port
        )
    }

    /// The URL with STARTTLS on the plain port.
    pub fn starttls_url(&self) -> String {
        format!(
            "imap://{USER}:{PASSWORD}@localhost:{}/INBOX",
            self.imap_port
        )
    }

    /// The URL with TLS from the start.
    pub fn tls_url(&self) -> String {
        format!(
            "imaps://{USER}:{PASSWORD}@localhost:{}/INBOX",
            self.imaps_port
        )
    }

    /// The authority that signed the server's certificate.
    pub fn ca(&self) -> PathBuf {
        self.pki.ca()
    }

    /// What the server logged, for a failing test to show.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("dovecot.log")).unwrap_or_default()
    }

    /// Puts `message` into `folder` with IMAP `APPEND`, as a delivery would.
    pub fn append(&self, folder: &str, message: &[u8]) {
        let mut s = Session::login(self.imap_port);
        s.literal(&format!("APPEND \"{folder}\""), message);
        s.logout();
    }

    /// How many messages `folder` holds (`STATUS … (MESSAGES)`); 0 when it does not exist.
    pub fn count(&self, folder: &str) -> usize {
        let mut s = Session::login(self.imap_port);
        let lines = s.command(&format!("STATUS \"{folder}\" (MESSAGES)"));
        s.logout();
        lines
            .iter()
            .find_map(|l| {
                let rest = l.split("(MESSAGES ").nth(1)?;
                rest.trim().trim_end_matches(')').trim().parse().ok()
            })
            .unwrap_or(0)
    }
}

impl Dovecot {
    /// Every folder of the mailbox (`LIST "" "*"`), sorted.
    pub fn folders(&self) -> Vec<String> {
        let mut s = Session::login(self.imap_port);
        let lines = s.command("LIST \"\" \"*\"");
        s.logout();
        let mut names: Vec<String> = lines
            .iter()
            .filter_map(|l| {
                let name = l.strip_prefix("* LIST ")?.rsplit(' ').next()?;
                Some(name.trim().trim_matches('"').to_owned())
            })
            .collect();
        names.sort();
        names
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.terminate();
        }
    }
}

fn is_root() -> bool {
    id("-u", "") == 0
}

fn id(flag: &str, user: &str) -> u32 {
    let mut cmd = Command::new("id");
    cmd.arg(flag);
    if !user.is_empty() {
        cmd.arg(user);
    }
    String::from_utf8(cmd.output().expect("id").stdout)
        .expect("utf-8")
        .trim()
        .parse()
        .expect("a number")
}

/// A tiny IMAP client for putting messages in and counting them (the service's own client is
/// what is under test, so the tests do not use it).
struct Session {
    reader: BufReader<TcpStream>,
    tag: u32,
}

impl Session {
    fn login(port: u16) -> Session {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to Dovecot");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut s = Session {
            reader: BufReader::new(stream),
            tag: 0,
        };
        let mut greeting = String::new();
        s.reader.read_line(&mut greeting).expect("greeting");
        s.command(&format!("LOGIN {USER} {PASSWORD}"));
        s
    }

    fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("write");
    }

    fn read_until_tagged(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("read");
            assert!(n > 0, "Dovecot closed the connection: {lines:?}");
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                assert!(rest.starts_with("OK"), "IMAP command failed: {line}");
                return lines;
            }
            lines.push(line);
        }
    }

    fn command(&mut self, cmd: &str) -> Vec<String> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        self.send(format!("{tag} {cmd}\r\n").as_bytes());
        self.read_until_tagged(&tag)
    }

    fn literal(&mut self, cmd: &str, data: &[u8]) {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        self.send(format!("{tag} {cmd} {{{}}}\r\n", data.len()).as_bytes());
        let mut cont = String::new();
        self.reader.read_line(&mut cont).expect("continuation");
        assert!(cont.starts_with('+'), "APPEND refused: {cont}");
        self.send(data);
        self.send(b"\r\n");
        self.read_until_tagged(&tag);
    }

    fn logout(mut self) {
        self.send(b"z LOGOUT\r\n");
        let mut rest = Vec::new();
        let _ = self.reader.read_to_end(&mut rest);
    }
}
