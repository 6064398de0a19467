//! `guidance backup` while bookings pour in, and `guidance restore` of what it wrote: the copy
//! is sound (Python's own `sqlite3` runs `PRAGMA integrity_check`), holds every booking answered
//! `201` before the backup began, is readable by its owner only, and neither command overwrites
//! anything.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use guidance_testkit::api::{Api, visitor_intake};
use guidance_testkit::binary;
use guidance_testkit::python;
use guidance_testkit::wait::poll;
use serde_json::Value;

use crate::{common, output, sqlite_url, text};

/// `guidance <args>` on the SQLite database `db_url`, with its files in `dir`.
fn guidance(args: &[&str], db_url: &str, dir: &Path) -> std::process::Command {
    common::command(args, db_url, &dir.join("mail"), &dir.join("data"))
}

/// The booking ids in the SQLite database at `path`, after Python's `sqlite3` found it sound.
fn sound_bookings(path: &Path) -> BTreeSet<String> {
    let report: Value = serde_json::from_str(&python::run_checker(
        &python::script("check_sqlite_backup.py"),
        &[path],
    ))
    .expect("JSON from check_sqlite_backup.py");
    report["bookings"]
        .as_array()
        .expect("bookings")
        .iter()
        .map(|v| v.as_str().expect("an id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_a_booking_burst_restores_every_booking_answered_before_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_url = sqlite_url(dir.path());
    let server = binary::serve(
        guidance(&["serve"], &db_url, dir.path()),
        dir.path().join("serve.log"),
    );
    let api = Api::new(&server.url);
    let slots = api.create_slots(30, 300).await;

    // The burst: four clients booking one slot after another, each 201 noted as it arrives,
    // until told to stop.
    let answered = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let burst: Vec<_> = (0..4)
        .map(|client| {
            let (api, answered, slots, stop) =
                (api.clone(), answered.clone(), slots.clone(), stop.clone());
            tokio::spawn(async move {
                for i in (client..slots.len()).step_by(4) {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let a = api.try_book(&visitor_intake(&slots[i], i)).await;
                    assert_eq!(a.status, 201, "{}", a.body);
                    answered.lock().unwrap().insert(a.id.expect("an id"));
                }
            })
        })
        .collect();
    let count = || answered.lock().unwrap().len();
    // Once the burst is well under way, the backup, while it goes on.
    poll(Duration::from_secs(60), || async {
        (count() >= 20).then_some(())
    })
    .await
    .expect("the burst is under way");
    let before: BTreeSet<String> = answered.lock().unwrap().clone();
    let backup = dir.path().join("backups/guidance-backup.db");
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
    let args = ["backup", backup.to_str().unwrap()];
    let cmd = guidance(&args, &db_url, dir.path());
    let out = tokio::task::spawn_blocking(move || output(cmd))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // The burst went on after the backup: ten more bookings, then it stops.
    let at_backup_end = count();
    let went_on = poll(Duration::from_secs(60), || async {
        (count() >= at_backup_end + 10).then_some(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for task in burst {
        task.await.expect("the burst");
    }
    assert!(
        went_on.is_some(),
        "the burst ran out of slots before the backup ended ({at_backup_end} bookings)"
    );
    let all = answered.lock().unwrap().clone();

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the backup is readable by its owner only"
        );
    }
    let in_backup = sound_bookings(&backup);
    assert!(
        before.is_subset(&in_backup),
        "answered 201 before the backup began, missing from it: {:?}",
        before.difference(&in_backup).collect::<Vec<_>>()
    );
    assert!(
        in_backup.is_subset(&all),
        "nothing the service did not answer"
    );

    // It never overwrites: not the backup, not a database.
    let kept = std::fs::read(&backup).unwrap();
    let again = output(guidance(&args, &db_url, dir.path()));
    assert!(
        !again.status.success(),
        "a second backup into the same file"
    );
    assert!(text(&again).contains("exists"), "{}", text(&again));
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        kept,
        "the backup is untouched"
    );
    let restore = ["restore", backup.to_str().unwrap()];
    let onto_live = output(guidance(&restore, &db_url, dir.path()));
    assert!(
        !onto_live.status.success(),
        "a restore over the running service's database"
    );
    assert!(
        text(&onto_live).contains("stop the service"),
        "{}",
        text(&onto_live)
    );

    // Restored into a new place, it is sound and serves what the backup held.
    let elsewhere = dir.path().join("restored");
    let restored_url = sqlite_url(&elsewhere);
    let out = output(guidance(&restore, &restored_url, dir.path()));
    assert!(out.status.success(), "{}", text(&out));
    let restored_file = elsewhere.join("guidance.db");
    assert_eq!(sound_bookings(&restored_file), in_backup);
    let restarted = binary::serve(
        guidance(&["serve"], &restored_url, &elsewhere),
        elsewhere.join("serve.log"),
    );
    let served: BTreeSet<String> = Api::new(&restarted.url)
        .bookings()
        .await
        .iter()
        .map(|b| b["id"].as_str().expect("an id").to_owned())
        .collect();
    assert_eq!(
        served, in_backup,
        "the restored service serves every backed-up booking"
    );
}

#[tokio::test]
async fn backup_of_postgresql_points_to_pg_dump() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("never.db");
    let out = output(guidance(
        &["backup", file.to_str().unwrap()],
        "postgres://postgres@127.0.0.1:1/none",
        dir.path(),
    ));
    assert!(!out.status.success());
    assert!(text(&out).contains("pg_dump"), "{}", text(&out));
    assert!(!file.exists());
}
