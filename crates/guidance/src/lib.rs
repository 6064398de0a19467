//! The `guidance` binary's library: start-up you can test ([`startup::Application`]), the HTTP
//! server loop with its time-outs and connection cap ([`server`]), the log output
//! ([`telemetry`]) and the operator's commands ([`ops`]). The use cases are in `guidance-app`,
//! HTTP in `guidance-web`; see `ARCHITECTURE.md` at the repository root.

pub mod ops;
pub mod server;
pub mod startup;
pub mod telemetry;
