//! One sample of every message, friendly and hostile, written out for `scripts/check_eml.py`
//! (Python's `email` and `icalendar`) and, on request, for a look by hand.

use super::hostile::hostile_texts;
use super::*;

/// One sample of every message, friendly and hostile, as `(file name, bytes)`.
fn samples() -> Vec<(String, Vec<u8>)> {
    let hostile = booking(
        &hostile_texts()
            .concat()
            .chars()
            .take(110)
            .collect::<String>(),
        &hostile_texts().join("\n"),
        serde_json::json!({ "why": "<script>x</script>\nEND:VEVENT" }),
    );
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (label, b) in [("friendly", friendly()), ("hostile", hostile)] {
        for msg in all_messages() {
            let r = render(&msg, &b, &ctx(), now());
            let n = counts.entry(format!("{label}-{}", r.kind)).or_default();
            *n += 1;
            out.push((format!("{label}-{}-{n}.eml", r.kind), r.bytes));
        }
    }
    out
}

fn write_samples(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    samples()
        .into_iter()
        .map(|(name, bytes)| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect()
}

/// Writes the samples into `$GUIDANCE_DUMP_EML`, for looking at them or for the Python checker
/// by hand. Does nothing without the variable.
#[test]
fn dump_samples_when_asked() {
    if let Some(dir) = std::env::var_os("GUIDANCE_DUMP_EML") {
        write_samples(std::path::Path::new(&dir));
    }
}

/// Runs `scripts/check_eml.py` (Python's `email` and `icalendar`, independent of this crate) on
/// every sample when `GUIDANCE_TEST_PYTHON` names a Python that has `icalendar`, as
/// `scripts/test` arranges. Skipped otherwise.
#[test]
fn the_python_checker_accepts_every_sample() {
    let Some(python) = std::env::var_os("GUIDANCE_TEST_PYTHON") else {
        eprintln!("GUIDANCE_TEST_PYTHON not set: skipping scripts/check_eml.py");
        return;
    };
    let checker = std::env::var_os("GUIDANCE_CHECK_EML")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check_eml.py")
        });
    let dir = tempfile::tempdir().unwrap();
    let files = write_samples(dir.path());
    let out = std::process::Command::new(python)
        .arg(&checker)
        .args(&files)
        .output()
        .expect("the checker runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "check_eml.py failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        report.lines().filter(|l| l.starts_with("ok ")).count(),
        files.len()
    );
}
