//! The Guidance service: configuration, HTTP routes, the booking service layer and the outbox
//! worker. `main.rs` is a thin CLI over [`app::Application`].

pub mod app;
pub mod auth;
pub mod config;
pub mod demo;
pub mod error;
pub mod i18n;
pub mod kept;
pub mod outbox;
pub mod owner_settings;
pub mod rate_limit;
pub mod routes;
pub mod service;
pub mod smtp;
pub mod state;
pub mod visitor_link;
