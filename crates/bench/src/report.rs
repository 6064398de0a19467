//! The machine, and the bench's section of `BENCHMARKS.md`: written between
//! [`START`] and [`END`], leaving every other section of the file as it was.

use std::path::Path;
use std::process::Command;

use crate::BenchError;

/// Opens the bench's section.
pub const START: &str = "<!-- guidance-bench:start -->";
/// Closes the bench's section.
pub const END: &str = "<!-- guidance-bench:end -->";

/// What the figures were measured on.
#[derive(Debug, Clone)]
pub struct Machine {
    /// `model name` of the first CPU.
    pub cpu: String,
    /// CPUs this process may run on.
    pub cores: usize,
    /// Total memory in GiB.
    pub memory_gib: f64,
    /// `uname -r`.
    pub kernel: String,
}

impl Machine {
    /// Reads `/proc`.
    pub fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "model name").then(|| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: mem_kib / 1024.0 / 1024.0,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| "unknown".into()),
        }
    }
}

/// The first line a command prints, or a note that it could not be run.
pub fn command_version(program: &str, arg: &str) -> String {
    Command::new(program)
        .arg(arg)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim().to_owned())
        })
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| format!("{program}: not found"))
}

/// Puts `section` (which must start with [`START`] and end with [`END`]) into `existing`: in
/// place of the old section when there is one, else after the rest.
pub fn splice(existing: &str, section: &str) -> String {
    let old = match (existing.find(START), existing.find(END)) {
        (Some(a), Some(b)) if b > a => Some((a, b + END.len())),
        _ => None,
    };
    if let Some((a, b)) = old {
        return format!("{}{section}{}", &existing[..a], &existing[b..]);
    }
    let mut out = existing.trim_end().to_owned();
    if out.is_empty() {
        out.push_str("# Benchmarks");
    }
    out.push_str("\n\n");
    out.push_str(section);
    out.push('\n');
    out
}

/// Writes `section` into the file at `path` (creating it when missing).
pub fn write_section(path: &Path, section: &str) -> Result<(), BenchError> {
    let existing = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e.into()),
    };
    std::fs::write(path, splice(&existing, section))?;
    Ok(())
}

/// A rate for a table cell: whole numbers above 100, one decimal below.
pub fn rate(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// A duration in milliseconds for a table cell.
pub fn ms(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// A CPU time a booking in milliseconds, to the microsecond (what runs side by side tell
/// apart), or "unknown" where it could not be measured.
pub fn cpu_ms(d: Option<std::time::Duration>) -> String {
    d.map_or("unknown".to_owned(), |d| {
        format!("{:.3} ms", d.as_secs_f64() * 1000.0)
    })
}

/// `ratio` as a percentage with a verdict against `goal` (both fractions).
pub fn verdict(ratio: f64, goal: f64) -> String {
    let pct = ratio * 100.0;
    if ratio >= goal {
        format!("**{pct:.0}%** (goal ≥ {:.0}%: met)", goal * 100.0)
    } else {
        format!(
            "**{pct:.0}%** (goal ≥ {:.0}%: missed by {:.0} points; {:.2}× faster needed)",
            goal * 100.0,
            (goal - ratio) * 100.0,
            goal / ratio.max(1e-9)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEW: &str = "<!-- guidance-bench:start -->\nnew figures\n<!-- guidance-bench:end -->";

    #[test]
    fn replaces_only_its_own_section() {
        let old = "# Benchmarks\n\n## Mail\nmail figures\n\n<!-- guidance-bench:start -->\nold \
                   figures\n<!-- guidance-bench:end -->\n\n## Later\nkept\n";
        let out = splice(old, NEW);
        assert_eq!(
            out,
            "# Benchmarks\n\n## Mail\nmail figures\n\n<!-- guidance-bench:start -->\nnew \
             figures\n<!-- guidance-bench:end -->\n\n## Later\nkept\n"
        );
        assert_eq!(splice(&out, NEW), out, "writing twice changes nothing");
    }

    #[test]
    fn appends_when_there_is_no_section_yet() {
        let out = splice("# Benchmarks\n\n## Mail\nmail figures\n", NEW);
        assert_eq!(
            out,
            format!("# Benchmarks\n\n## Mail\nmail figures\n\n{NEW}\n")
        );
        assert_eq!(splice("", NEW), format!("# Benchmarks\n\n{NEW}\n"));
    }

    #[test]
    fn verdicts_say_by_how_much() {
        assert_eq!(verdict(0.62, 0.5), "**62%** (goal ≥ 50%: met)");
        assert_eq!(
            verdict(0.25, 0.5),
            "**25%** (goal ≥ 50%: missed by 25 points; 2.00× faster needed)"
        );
    }
}
