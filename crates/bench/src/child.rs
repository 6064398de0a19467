//! Child processes the bench starts and always stops: the real `guidance` binary, the
//! precomputed-bytes server, the SMTP sink. Each one's output goes to a log file in the run's
//! temporary directory, shown when it fails.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::BenchError;

/// A free port on 127.0.0.1 (bound, then released for the child to take).
pub fn free_port() -> Result<u16, BenchError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running child process, stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Running {
    child: Child,
    /// What it is, for messages.
    pub name: String,
    /// Its log file (stdout and stderr).
    pub log: PathBuf,
}

impl Running {
    /// Starts `command` with its output going to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Result<Self, BenchError> {
        let out = std::fs::File::create(log)?;
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Self {
            child,
            name: name.to_owned(),
            log: log.to_owned(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails with the log's tail when the process has exited.
    pub fn check_alive(&mut self) -> Result<(), BenchError> {
        if let Some(status) = self.child.try_wait()? {
            return Err(format!(
                "{} exited ({status}); its log ends with:\n{}",
                self.name,
                log_tail(&self.log)
            )
            .into());
        }
        Ok(())
    }

    /// The CPU time (user + system) the process has used, from `/proc/<pid>/stat`.
    pub fn cpu_time(&self) -> Result<Duration, BenchError> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        let (_, times) = stat_times(&stat).ok_or("unreadable /proc/<pid>/stat")?;
        Ok(ticks_to_time(times.user + times.system))
    }

    /// Waits (up to `cap`) until the process is quiet: under 5% of a core over half a second.
    /// A phase measured right after another would otherwise share the cores with what the
    /// server still does for the previous one (sending its emails), which its reference, run
    /// on a quiet machine, does not. Returns how long it waited.
    pub async fn wait_quiet(&mut self, cap: Duration) -> Result<Duration, BenchError> {
        let start = Instant::now();
        let window = Duration::from_millis(500);
        loop {
            let before = self.cpu_time()?;
            tokio::time::sleep(window).await;
            self.check_alive()?;
            let used = self.cpu_time()?.saturating_sub(before);
            if used < window / 20 || start.elapsed() > cap {
                return Ok(start.elapsed());
            }
        }
    }

    /// `VmHWM` (peak resident memory) and `VmRSS` from `/proc/<pid>/status`, in KiB.
    pub fn memory_kib(&self) -> Result<(u64, u64), BenchError> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let field = |name: &str| -> Result<u64, BenchError> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .ok_or_else(|| format!("no {name} in /proc/{}/status", self.pid()).into())
        };
        Ok((field("VmHWM:")?, field("VmRSS:")?))
    }

    /// Asks the process to stop (SIGTERM: guidance finishes what is in flight), waits up to
    /// `grace`, then kills it.
    pub fn stop(mut self, grace: Duration) -> Result<(), BenchError> {
        self.terminate(grace)
    }

    fn terminate(&mut self, grace: Duration) -> Result<(), BenchError> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        // `kill` the command: the workspace forbids unsafe code, so no libc::kill here.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.terminate(Duration::from_secs(5));
    }
}

/// CPU times of a process in clock ticks, as `/proc/<pid>/stat` gives them.
pub struct StatTimes {
    /// In user mode.
    pub user: u64,
    /// In the kernel.
    pub system: u64,
    /// Of its children it has waited for (theirs and their children's), user and kernel.
    pub children: u64,
}

/// The command name and CPU times of a `/proc/<pid>/stat` line.
pub fn stat_times(stat: &str) -> Option<(&str, StatTimes)> {
    // The name is in parentheses and may hold spaces and parentheses: it ends at the last one.
    let (name, rest) = stat.split_once(" (")?.1.rsplit_once(')')?;
    // utime, stime, cutime and cstime are fields 14 to 17 of the line, 12 to 15 after the name
    // and the state.
    let mut fields = rest.split_whitespace().skip(11).map(str::parse::<u64>);
    let mut next = || fields.next()?.ok();
    let (user, system) = (next()?, next()?);
    let children = next()? + next()?;
    Some((
        name,
        StatTimes {
            user,
            system,
            children,
        },
    ))
}

/// `ticks` of `/proc/<pid>/stat` as a duration.
pub fn ticks_to_time(ticks: u64) -> Duration {
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second() as f64)
}

/// The kernel's clock ticks per second, the unit of `/proc/<pid>/stat`'s times: asked of
/// `getconf` once (the quiet waits read a process's time twice a second).
fn clock_ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or(100)
    })
}

/// The last lines of a log file.
pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// How to start the `guidance` binary for one phase.
pub struct Guidance {
    /// The release binary.
    pub binary: PathBuf,
    /// Directory for the data dir, mail dir and logs of this instance.
    pub dir: PathBuf,
    /// `GUIDANCE_DATABASE_URL`.
    pub database_url: String,
    /// Extra `GUIDANCE_*` settings (e.g. `GUIDANCE_SMTP_URL`).
    pub extra: BTreeMap<String, String>,
}

/// The owner API token every bench instance accepts.
pub const ADMIN_TOKEN: &str = "bench-owner-token-0123456789";

impl Guidance {
    /// A command running `guidance <args>` with this instance's settings and nothing inherited
    /// from the caller's `GUIDANCE_*` environment.
    fn command(&self, args: &[&str], port: u16) -> Command {
        let mut c = Command::new(&self.binary);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GUIDANCE_DATABASE_URL", &self.database_url)
            .env("GUIDANCE_LISTEN", format!("127.0.0.1:{port}"))
            .env("GUIDANCE_DATA_DIR", self.dir.join("data"))
            .env("GUIDANCE_MAIL_DIR", self.dir.join("mail"))
            .env(
                "GUIDANCE_SECRET",
                "bench-secret-0123456789abcdef0123456789abcdef",
            )
            .env("GUIDANCE_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("GUIDANCE_OWNER_EMAIL", "owner@example.org")
            .env("GUIDANCE_MAIL_FROM", "guidance@example.org")
            // The bench is one client address sending thousands of bookings: the per-IP limit
            // (20 a minute by default) would answer 429 to nearly all of them.
            .env("GUIDANCE_BOOKING_RATE_LIMIT", "1000000000")
            // The booking slots lie months ahead: the longest horizon an owner may set.
            .env("GUIDANCE_BOOKING_HORIZON_DAYS", "730");
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        c
    }

    /// Runs `guidance migrate` to completion.
    pub fn migrate(&self) -> Result<(), BenchError> {
        std::fs::create_dir_all(&self.dir)?;
        let out = self.command(&["migrate"], 0).output()?;
        if !out.status.success() {
            return Err(format!(
                "guidance migrate failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(())
    }

    /// Starts `guidance serve` on a free port; returns it with the port once the process is
    /// started (not yet answering: see [`wait_healthy`]).
    pub fn serve(&self, log_name: &str) -> Result<(Running, u16), BenchError> {
        std::fs::create_dir_all(&self.dir)?;
        let port = free_port()?;
        let running = Running::spawn(
            "guidance serve",
            self.command(&["serve"], port),
            &self.dir.join(log_name),
        )?;
        Ok((running, port))
    }

    /// `guidance --version`.
    pub fn version(&self) -> Result<String, BenchError> {
        let out = Command::new(&self.binary).arg("--version").output()?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

/// Polls `GET /healthz` until it answers 200; returns the time from `since`.
pub async fn wait_healthy(
    running: &mut Running,
    port: u16,
    since: Instant,
    timeout: Duration,
) -> Result<Duration, BenchError> {
    // A fresh client without a pool: each poll is a new connection, as a first visitor's is.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let url = format!("http://127.0.0.1:{port}/healthz");
    loop {
        let answered = client.get(&url).send().await;
        if answered.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
            return Ok(since.elapsed());
        }
        running.check_alive()?;
        if since.elapsed() > timeout {
            return Err(format!(
                "{} did not answer /healthz within {timeout:?}; its log ends with:\n{}",
                running.name,
                log_tail(&running.log)
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_times_after_a_name_with_spaces_and_parentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
        // utime stime cutime cstime …
        let stat = "4242 (tokio (rt) 1) S 1 4242 4242 0 -1 4194560 900 5 0 0 \
                    120 30 7 3 20 0 4 0 100 2000000 500";
        let (name, t) = stat_times(stat).expect("readable");
        assert_eq!(name, "tokio (rt) 1");
        assert_eq!((t.user, t.system, t.children), (120, 30, 10));
        assert!(stat_times("4242 (cut short) S 1 2").is_none());
    }
}
