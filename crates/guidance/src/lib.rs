//! The `guidance` binary's library: start-up you can test ([`startup::Application`]), the HTTP
//! server loop with its time-outs and connection cap ([`server`]) and the log output
//! ([`telemetry`]). The use cases are in `guidance-app`, HTTP in `guidance-web`; see
//! `ARCHITECTURE.md` at the repository root.

pub mod server;
pub mod startup;
pub mod telemetry;
