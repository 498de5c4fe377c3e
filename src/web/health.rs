//! `/healthz` (the process is alive), `/readyz` (models loaded, database
//! reachable), `/metrics`.

use std::collections::BTreeMap;

use anyhow::Context;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use super::AppState;
use super::policy::Access;
use super::routes::{Route, router_of};
use super::views::Readiness;
use crate::tasks::{self, TaskFilter, service_level};
use crate::vocabulary::Priority;

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

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    summary = "The process is alive",
    responses(
        (status = 200, description = "ok", content_type = "text/plain", body = String)
    )
)]
pub async fn alive() -> &'static str {
    "ok"
}

#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    summary = "Models loaded, database reachable",
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "The database is unreachable", body = Readiness)
    )
)]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    // The server only listens once every model is loaded.
    let database = state.db.ping().await;
    let status = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            models: true,
            database,
        }),
    )
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)
    )
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // The task gauges are read from the database at each scrape, so every
    // instance on a shared database reports the same queue.
    if let Err(error) = count_tasks(&state).await {
        tracing::warn!(
            error = format!("{error:#}"),
            "counting tasks for the metrics"
        );
    }
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
}

/// Sets the task gauges: tasks not done by queue and priority, and how
/// many are past their service level.
async fn count_tasks(state: &AppState) -> anyhow::Result<()> {
    let now = state.clock.now();
    let mut open: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut overdue = 0;
    for status in ["open", "claimed"] {
        let filter = TaskFilter {
            status: Some(status.into()),
            // The most a listing returns; a queue longer than this is
            // counted as this long.
            limit: Some(1000),
            ..TaskFilter::default()
        };
        for task in tasks::list(&state.db, &filter).await? {
            let created = chrono::DateTime::parse_from_rfc3339(&task.created_at)
                .context("a task's creation time")?
                .with_timezone(&chrono::Utc);
            let priority = Priority::parse(&task.priority).unwrap_or(Priority::Normal);
            let due = service_level::due_at(&state.clinic, priority, created);
            if service_level::is_overdue(&task.status, due, now) {
                overdue += 1;
            }
            *open.entry((task.queue, task.priority)).or_default() += 1;
        }
    }
    let open: Vec<(String, String, i64)> = open.into_iter().map(|((q, p), n)| (q, p, n)).collect();
    state.metrics.set_tasks(&open, overdue);
    Ok(())
}
