//! The reference server of the slots phase: the same kind of server as guidance (axum on a
//! multi-threaded Tokio runtime, HTTP/1.1, its own process), answering `GET /api/slots` with
//! the bytes and headers guidance answered, captured once and served from memory. What guidance
//! does beyond it (the query, building the JSON) is what the phase's ratio measures; both are
//! measured side by side, taking turns.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::routing::get;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::child::{self, Running};
use crate::load::{self, Outcome};
use crate::{BenchError, RunArgs, SlotsCapture};

/// Serves `body` with `headers` at `path` on `listen` until killed.
pub async fn serve(
    listen: SocketAddr,
    path: String,
    body: PathBuf,
    headers: Vec<String>,
) -> Result<(), BenchError> {
    let body = Bytes::from(std::fs::read(&body)?);
    let mut map = HeaderMap::new();
    for h in headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| format!("--header {h:?}: expected `name: value`"))?;
        map.insert(
            HeaderName::try_from(name.trim())?,
            HeaderValue::try_from(value.trim())?,
        );
    }
    let app = Router::new().route(
        &path,
        get(move || {
            let (map, body) = (map.clone(), body.clone());
            async move { (map, body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// Turns each side of the comparison takes: enough that a slow patch of the shared machine
/// falls on both alike, few enough that each turn runs long past its connections' start.
pub(crate) const TURNS: u32 = 5;

/// How long each turn lasts: each side's `args.seconds` in all, split into [`TURNS`].
pub(crate) fn turn_length(args: &RunArgs) -> Duration {
    Duration::from_secs(args.seconds) / TURNS
}

/// `GET /api/slots` from guidance (on `guidance_port`) and from the reference (the captured
/// bytes served by `guidance-bench serve-bytes`), measured side by side: after a second's
/// warm-up of each, [`TURNS`] turns of `args.seconds / TURNS` each, in the order guidance,
/// reference, reference, guidance, … so that the machine's drift over the run (it is shared)
/// meets both sides alike. Returns (guidance, reference).
pub(crate) async fn beside(
    tmp: &Path,
    args: &RunArgs,
    capture: &SlotsCapture,
    guidance_port: u16,
) -> Result<(Outcome, Outcome), BenchError> {
    let (mut server, port) = start(tmp, capture).await?;
    let client = load::client(args.concurrency)?;
    let path = &capture.path_and_query;
    let warm_up = Duration::from_secs(1);
    let turn = turn_length(args);
    load::get_during(&client, guidance_port, path, args.concurrency, warm_up).await;
    load::get_during(&client, port, path, args.concurrency, warm_up).await;
    let (mut guidance, mut reference) = (Outcome::default(), Outcome::default());
    for i in 0..TURNS {
        let order = if i % 2 == 0 {
            [guidance_port, port]
        } else {
            [port, guidance_port]
        };
        for p in order {
            let outcome = load::get_during(&client, p, path, args.concurrency, turn).await;
            if p == port {
                reference.absorb(outcome);
            } else {
                guidance.absorb(outcome);
            }
        }
    }
    server.check_alive()?;
    server.stop(Duration::from_secs(5))?;
    Ok((guidance, reference))
}

/// Starts the reference server on the captured bytes; returns it, and its port once it answers
/// them.
async fn start(tmp: &Path, capture: &SlotsCapture) -> Result<(Running, u16), BenchError> {
    let body = tmp.join("slots.json");
    std::fs::write(&body, &capture.body)?;
    let port = child::free_port()?;
    let path = capture
        .path_and_query
        .split('?')
        .next()
        .unwrap_or("/api/slots");
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg("serve-bytes")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--path", path])
        .arg("--body")
        .arg(&body);
    for h in &capture.headers {
        cmd.args(["--header", h]);
    }
    let mut server = Running::spawn("the precomputed server", cmd, &tmp.join("precomputed.log"))?;
    let client = load::client(1)?;
    let url = format!("http://127.0.0.1:{port}{}", capture.path_and_query);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(r) = client.get(&url).send().await {
            if r.bytes().await.ok().as_deref() == Some(&capture.body[..]) {
                return Ok((server, port));
            }
            return Err("the precomputed server answers other bytes".into());
        }
        server.check_alive()?;
        if Instant::now() > deadline {
            return Err("the precomputed server did not answer within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
