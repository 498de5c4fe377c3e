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
