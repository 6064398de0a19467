//! `deploy/guidance.service` as systemd itself reads it (`systemd-analyze`, which needs no
//! running systemd): every line understood, the binary it names found, and its sandbox rated.

use std::process::Command;

/// The highest exposure `systemd-analyze security` may rate the unit (0 is locked down, 10 not
/// at all; below 2 it says "OK").
const MAX_EXPOSURE: f64 = 2.0;

fn systemd_analyze(args: &[&str]) -> std::process::Output {
    Command::new("systemd-analyze")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "systemd-analyze could not run ({e}): scripts/test installs it (by hand: apt-get install systemd)"
            )
        })
}

#[test]
fn the_systemd_unit_is_understood_whole_and_sandboxed() {
    let shipped =
        std::fs::read_to_string(guidance_testkit::workspace_root().join("deploy/guidance.service"))
            .expect("deploy/guidance.service");
    let installed = "ExecStart=/usr/local/bin/guidance serve";
    assert!(
        shipped.contains(installed),
        "the unit runs the installed binary"
    );
    // The same unit, pointing at the binary under test.
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = dir.path().join("guidance.service");
    std::fs::write(
        &unit,
        shipped.replace(
            installed,
            &format!("ExecStart={} serve", env!("CARGO_BIN_EXE_guidance")),
        ),
    )
    .expect("write the unit");
    let unit = unit.to_str().expect("a UTF-8 path");

    let out = systemd_analyze(&["verify", "--man=no", unit]);
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    // Unknown or misspelt settings are only warned about, and then not applied.
    assert!(said.trim().is_empty(), "systemd-analyze verify: {said}");

    let out = systemd_analyze(&["security", "--offline=true", unit]);
    let report = String::from_utf8_lossy(&out.stdout);
    let exposure: f64 = report
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for guidance.service:")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{report}"));
    assert!(exposure <= MAX_EXPOSURE, "exposure {exposure}:\n{report}");
}
