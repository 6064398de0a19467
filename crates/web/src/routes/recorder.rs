//! A tiny router builder that notes every method and path as it registers it, so that tests can
//! walk the real list of protected routes instead of a hand-written copy that drifts.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};

use crate::state::WebState;

/// One registered route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRoute {
    /// The HTTP method.
    pub method: Method,
    /// The path pattern, e.g. `/admin/slots/{id}`.
    pub path: &'static str,
}

/// Builds a router and the table of its routes together.
#[derive(Default)]
pub struct Recorder {
    router: Router<WebState>,
    table: Vec<RecordedRoute>,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` for `method` on `path`, and notes it.
    pub fn route<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, WebState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("{method} cannot be routed"));
        self.router = self.router.route(path, on(filter, handler));
        self.table.push(RecordedRoute { method, path });
        self
    }

    /// `GET path`.
    pub fn get<H: Handler<T, WebState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.route(Method::GET, path, h)
    }

    /// `POST path`.
    pub fn post<H: Handler<T, WebState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.route(Method::POST, path, h)
    }

    /// `PUT path`.
    pub fn put<H: Handler<T, WebState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.route(Method::PUT, path, h)
    }

    /// `PATCH path`.
    pub fn patch<H: Handler<T, WebState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.route(Method::PATCH, path, h)
    }

    /// `DELETE path`.
    pub fn delete<H: Handler<T, WebState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.route(Method::DELETE, path, h)
    }

    /// The router (to wrap in its guard layer).
    pub fn into_router(self) -> Router<WebState> {
        self.router
    }

    /// The routes registered so far.
    pub fn table(&self) -> Vec<RecordedRoute> {
        self.table.clone()
    }
}
