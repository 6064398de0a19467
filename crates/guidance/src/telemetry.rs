//! Where the logs go and how they look: to standard output, as plain lines (coloured only on a
//! terminal, so that a log file written through a pipe holds no escape codes), or as JSON lines
//! with `GUIDANCE_LOG_FORMAT=json` for a log collector. `RUST_LOG` filters as usual.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

impl LogFormat {
    /// Reads `GUIDANCE_LOG_FORMAT` (`text`, the default, or `json`).
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("GUIDANCE_LOG_FORMAT")
            .as_deref()
            .map(str::trim)
        {
            Err(_) | Ok("" | "text") => Ok(LogFormat::Text),
            Ok("json") => Ok(LogFormat::Json),
            Ok(other) => Err(format!(
                "GUIDANCE_LOG_FORMAT must be text or json, not {other:?}"
            )),
        }
    }
}

/// Installs the global log subscriber.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
