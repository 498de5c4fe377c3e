//! `GET /api/v1/clinic`: the clinic configuration as staff tools see it.

use axum::extract::State;
use axum::{Json, Router};

use super::AppState;
use super::auth::Staff;
use super::error::ApiError;
use super::policy::Access;
use super::routes::{Route, router_of};

pub fn routes() -> Vec<Route> {
    vec![Route::get("/api/v1/clinic", Access::AnyStaff, show)]
}

pub fn router() -> Router<AppState> {
    router_of(routes())
}

async fn show(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(state.clinic.to_api()))
}
