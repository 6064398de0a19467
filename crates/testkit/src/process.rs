//! A child process a test starts and owns: its standard output and error go to a log file that a
//! failing test can show, a line it prints (a banner, a link) can be waited for, and it is killed
//! when dropped, even when the test panicked. Every wait is bounded, so a stuck process fails the
//! test instead of hanging it.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running child process and its log.
pub struct Process {
    child: Option<Child>,
    log: PathBuf,
    /// Copies the child's standard output into the log, line by line, until it closes.
    copier: Option<JoinHandle<()>>,
    /// How far [`Process::wait_for_line`] has read the log.
    scanned: usize,
}

impl Process {
    /// Starts `cmd` with its standard output and error appended to `log` (created if need be).
    pub fn start(mut cmd: Command, log: impl Into<PathBuf>) -> Process {
        let log = log.into();
        let scanned = std::fs::metadata(&log).map_or(0, |m| m.len() as usize);
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(append_to(&log))
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {:?}: {e}", cmd.get_program()));
        let stdout = child.stdout.take().expect("the child's output");
        let mut copy = append_to(&log);
        // Whole lines, so that they do not interleave with what the child writes to stderr; and
        // always read, so that the child never blocks on a full pipe.
        let copier = std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = Vec::new();
            while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                let _ = copy.write_all(&line);
                line.clear();
            }
        });
        Process {
            child: Some(child),
            log,
            copier: Some(copier),
            scanned,
        }
    }

    /// Where the log is.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// What the process logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Reads the lines logged since the last call, until `find` picks one (its answer), the
    /// process ends, or `limit` passes (`None` for both).
    pub fn wait_for_line<T>(
        &mut self,
        limit: Duration,
        mut find: impl FnMut(&str) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + limit;
        loop {
            // Looked at before reading, so that the last read sees everything an ended process
            // wrote.
            let ended = !self.is_running();
            if ended {
                self.finish_copy();
            }
            let text = std::fs::read(&self.log).unwrap_or_default();
            while let Some(end) = text[self.scanned..].iter().position(|b| *b == b'\n') {
                let line = String::from_utf8_lossy(&text[self.scanned..self.scanned + end]);
                self.scanned += end + 1;
                if let Some(found) = find(line.trim_end_matches('\r')) {
                    return Some(found);
                }
            }
            if ended || Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the process exits by itself, for at most `limit`: its exit status, with all
    /// its output in the log; `None` while it still runs.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            let status = self
                .child
                .as_mut()?
                .try_wait()
                .expect("wait for the process");
            if let Some(status) = status {
                self.finish_copy();
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the process is still running (it has not exited or been killed).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Kills the process without warning (SIGKILL on Unix: no shutdown code runs) and waits
    /// until it is gone and its output is in the log.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.finish_copy();
    }

    /// Asks the process to stop (SIGTERM, as a service manager would) and waits until it has.
    pub fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            child.wait().expect("the process stops");
        }
        self.finish_copy();
    }

    /// Lets the copier write what the ended process left in the pipe. A process of its own that
    /// the child left behind may hold the pipe open: after a few seconds the copier is left to
    /// itself.
    fn finish_copy(&mut self) {
        let Some(copier) = self.copier.take() else {
            return;
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while !copier.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if copier.is_finished() {
            let _ = copier.join();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

fn append_to(log: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|e| panic!("log file {}: {e}", log.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[test]
    fn both_outputs_reach_the_log_and_a_printed_line_can_be_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Process::start(
            sh("echo starting; echo oops >&2; echo 'port 4242'; exec sleep 30"),
            dir.path().join("p.log"),
        );
        let port = p.wait_for_line(Duration::from_secs(10), |l| {
            l.strip_prefix("port ").map(|n| n.parse::<u16>().unwrap())
        });
        assert_eq!(port, Some(4242));
        assert!(p.is_running());
        p.kill();
        assert!(!p.is_running());
        let log = p.log_text();
        assert!(
            log.contains("starting\n") && log.contains("oops\n"),
            "{log}"
        );
    }

    #[test]
    fn an_ended_process_ends_the_wait_and_gives_its_status() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Process::start(sh("echo bye; exit 3"), dir.path().join("p.log"));
        assert_eq!(
            p.wait_for_line(Duration::from_secs(10), |l| (l == "never").then_some(())),
            None
        );
        let status = p.wait(Duration::from_secs(10)).expect("it ended");
        assert_eq!(status.code(), Some(3));
        assert_eq!(p.log_text(), "bye\n");
    }
}
