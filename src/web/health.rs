//! `/healthz` (the process is alive), `/readyz` (models loaded, database
//! reachable), `/metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::AppState;
use super::policy::Access;
use super::routes::{Route, router_of};

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/healthz", Access::Public, alive),
        Route::get("/readyz", Access::Public, ready),
        Route::get("/metrics", Access::Public, metrics),
    ]
}

pub fn router() -> axum::Router<AppState> {
    router_of(routes())
}

async fn alive() -> &'static str {
    "ok"
}

async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    // The server only listens once every model is loaded.
    let database = state.db.ping().await;
    let status = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(json!({"models": true, "database": database})))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
