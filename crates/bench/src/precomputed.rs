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

use crate::BenchError;

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
