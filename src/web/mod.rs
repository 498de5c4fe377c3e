//! The HTTP surface: staff API under `/api/v1`, health and `/metrics` (the
//! counters themselves live in [`crate::metrics`]), and the router that
//! joins it with the telephony routes.

pub mod auth;
pub mod body;
pub mod calls;
pub mod clinic;
pub mod error;
pub mod health;
pub mod patients;
pub mod policy;
pub mod routes;
pub mod scheduling;
pub mod tasks;

use std::sync::Arc;

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

/// Every route of the staff API, health and metrics, each with its access
/// rule: the one list the router is built from (`routes`).
pub fn api_routes() -> Vec<routes::Route> {
    [
        health::routes(),
        calls::routes(),
        clinic::routes(),
        patients::routes(),
        scheduling::routes(),
        tasks::routes(),
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
