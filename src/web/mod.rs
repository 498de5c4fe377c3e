//! The HTTP surface: staff API under `/api/v1`, health and `/metrics` (the
//! counters themselves live in [`crate::metrics`]), and the router that
//! joins it with the telephony routes.

pub mod auth;
pub mod calls;
pub mod clinic;
pub mod error;
pub mod health;
pub mod patients;
pub mod scheduling;
pub mod tasks;

use std::sync::Arc;

use axum::http::Request;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::TraceLayer;

use crate::clinic::{Clinic, Clock};
use crate::store::Db;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clinic: Arc<Clinic>,
    pub clock: Clock,
    pub auth: Arc<auth::Tokens>,
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Every staff-facing route, with its state applied.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .merge(health::router())
        .merge(calls::router())
        .merge(clinic::router())
        .merge(patients::router())
        .merge(scheduling::router())
        .merge(tasks::router())
        .with_state(state)
}

/// Makes a request's span.
type MakeRequestSpan<B> = fn(&Request<B>) -> tracing::Span;

/// The HTTP trace layer for every route. Its spans carry the method and the
/// path, never the query string: staff search with `?name=…&date_of_birth=…`
/// and `calls?q=` words of a transcript, and logs carry ids only.
pub fn trace_layer<B>() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeRequestSpan<B>>
{
    TraceLayer::new_for_http().make_span_with(request_span::<B> as MakeRequestSpan<B>)
}

/// `request{method=GET path=/api/v1/patients}`: the default span's fields
/// less the query.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
    )
}
