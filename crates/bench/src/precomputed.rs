//! The reference server of the slots phase: the same kind of server as guidance (axum on a
//! multi-threaded Tokio runtime, HTTP/1.1, its own process), answering `GET /api/slots` with
//! the bytes and headers guidance answered, captured once and served from memory. What guidance
//! does beyond it (the query, building the JSON) is what the phase's ratio measures.

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
use crate::{BenchError, RunArgs, SlotsCapture, get_for, say};

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

/// The reference: the captured bytes served by `guidance-bench serve-bytes`.
pub(crate) async fn measure(
    tmp: &Path,
    args: &RunArgs,
    capture: &SlotsCapture,
) -> Result<Outcome, BenchError> {
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
    let client = load::client(args.concurrency)?;
    let url = format!("http://127.0.0.1:{port}{}", capture.path_and_query);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(r) = client.get(&url).send().await {
            if r.bytes().await.ok().as_deref() == Some(&capture.body[..]) {
                break;
            }
            return Err("the precomputed server answers other bytes".into());
        }
        server.check_alive()?;
        if Instant::now() > deadline {
            return Err("the precomputed server did not answer within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    say(&format!("  GET /api/slots, {} s", args.seconds));
    let outcome = get_for(
        &client,
        port,
        &capture.path_and_query,
        args,
        args.concurrency,
    )
    .await;
    server.check_alive()?;
    server.stop(Duration::from_secs(5))?;
    Ok(outcome)
}
