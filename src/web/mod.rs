//! The HTTP surface: staff API under `/api/v1`, health and `/metrics` (the
//! counters themselves live in [`crate::metrics`]), and the router that
//! joins it with the telephony routes.

pub mod audit;
pub mod audit_trail;
pub mod auth;
pub mod body;
pub mod calls;
pub mod client;
pub mod clinic;
pub mod error;
pub mod health;
pub mod openapi;
pub mod patients;
pub mod policy;
pub mod routes;
pub mod scheduling;
pub mod sign_in;
pub mod staff;
pub mod task_events;
pub mod tasks;
pub mod views;

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
    /// The live task feed behind `GET /api/v1/tasks/events`.
    pub events: crate::tasks::events::TaskEvents,
    /// Failed sign-ins per client address (`429`).
    pub sign_in: Arc<sign_in::SignInLimiter>,
    /// How a request's client address is found (the audit, the limiter).
    pub client: client::ClientAddressing,
}

/// Every route of the staff API, health and metrics, each with its access
/// rule: the one list the router is built from (`routes`).
pub fn api_routes() -> Vec<routes::Route> {
    [
        health::routes(),
        calls::routes(),
        clinic::routes(),
        patients::routes(),
        scheduling::routes(),
        staff::routes(),
        tasks::routes(),
        task_events::routes(),
        audit::routes(),
        openapi::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every staff-facing route, guarded by its access rule, with its state
/// applied.
pub fn router(state: AppState) -> axum::Router {
    routes::router_of(api_routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::guard,
        ))
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
