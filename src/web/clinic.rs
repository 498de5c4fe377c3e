//! `GET /api/v1/clinic`: the clinic configuration as staff tools see it.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use super::auth::Staff;
use super::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/clinic", get(show))
}

async fn show(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(state.clinic.to_api()))
}
