//! End-to-end tests: each spawns the real application on port 0 with a fresh SQLite database
//! (or, in `postgres`, a fresh PostgreSQL database) and drives it over HTTP, reading the emails
//! it writes as `.eml` files.

mod helpers;
mod l10n;

mod abuse;
mod admin;
mod admin_browser;
mod admin_questions;
mod admin_ui;
mod around;
mod at_rest;
mod bench;
mod bodies;
mod booking;
mod browser;
mod calendars;
mod clock;
mod confirm;
mod delivery;
mod flow;
mod hostile;
mod idempotency;
mod meeting;
mod openapi;
mod ops;
mod pages;
mod paging;
mod pick_rules;
mod postgres;
mod privacy;
mod proposed;
mod proposed_browser;
mod proposed_links;
mod public;
mod replies;
mod tokens;
mod webhooks;
