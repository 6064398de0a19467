//! Schemathesis against the real `guidance` binary: it reads `/api/openapi.json` and sends
//! generated requests, valid and invalid, to every public and owner operation (with the owner's
//! bearer token), and fails on any 5xx, any status the document does not list, and any answer
//! outside the documented schema.
//!
//! Bounded: a fixed, derandomized generation with a few examples per operation, a timeout per
//! request and a hard limit on the whole run. The per-address rate limit is raised so that the
//! booking endpoints answer for real instead of 429.
//!
//! Needs the test venv's Python with schemathesis (`GUIDANCE_TEST_PYTHON`, set by
//! `./scripts/test`); without it, the test fails.

use std::process::Command;
use std::time::Duration;

use guidance_testkit::api::{ADMIN_TOKEN, Api, client};
use guidance_testkit::binary;
use guidance_testkit::process::Process;
use guidance_testkit::python;

/// The whole schemathesis run must end within this.
const RUN_LIMIT: Duration = Duration::from_secs(150);

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let python = python::interpreter();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut serve = binary::command(
        env!("CARGO_BIN_EXE_guidance"),
        &["serve"],
        &format!("sqlite://{}", dir.path().join("guidance.db").display()),
        &dir.path().join("mail"),
        &dir.path().join("data"),
    );
    serve
        .env("RUST_LOG", "warn")
        .env("GUIDANCE_BOOKING_RATE_LIMIT", "1000000");
    let server = binary::serve(serve, dir.path().join("serve.log"));
    let base = server.url.clone();

    // A few open slots, so that booking requests can reach the booking logic.
    let api = Api::with_client(&base, client(Duration::from_secs(20)));
    for i in 0..5 {
        api.create_slot(48 + 24 * i).await;
    }
    let client = &api.client;

    let doc: serde_json::Value = client
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .expect("the document")
        .json()
        .await
        .expect("JSON");
    let operations: usize = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").keys())
        .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
        .count();

    let mut run = Command::new(&python);
    run.args(["-m", "schemathesis.cli", "run"])
        .arg(format!("{base}/api/openapi.json"))
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--generation-deterministic",
            "--max-examples",
            "15",
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--no-color",
            "--header",
        ])
        .arg(format!("Authorization: Bearer {ADMIN_TOKEN}"))
        .current_dir(dir.path())
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env("HYPOTHESIS_STORAGE_DIRECTORY", dir.path().join("hypothesis"));
    let mut run = Process::start(run, dir.path().join("schemathesis.log"));
    let status = run.wait(RUN_LIMIT).unwrap_or_else(|| {
        panic!(
            "schemathesis did not finish within {RUN_LIMIT:?}:\n{}",
            run.log_text()
        )
    });
    let output = run.log_text();
    println!("{output}");
    assert!(
        status.success(),
        "schemathesis found problems ({status}):\n{output}\n--- server log ---\n{}",
        server.process.log_text()
    );
    // It really ran: every operation was tested (but the document's own, which schemathesis
    // leaves out as the schema it loads).
    let tested = operations - 1;
    assert!(
        output.contains(&format!("Tested: {tested}")),
        "not all {tested} operations were tested:\n{output}"
    );
}
