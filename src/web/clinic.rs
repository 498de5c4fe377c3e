//! `GET /api/v1/clinic`: the clinic configuration as staff tools see it.

use axum::extract::State;
use axum::{Json, Router};

use super::AppState;
use super::auth::Staff;
use super::error::{ApiError, ErrorBody};
use super::policy::Access;
use super::routes::{Route, router_of};
use super::views::ClinicView;

pub fn routes() -> Vec<Route> {
    vec![Route::get("/api/v1/clinic", Access::AnyStaff, show)]
}

pub fn router() -> Router<AppState> {
    router_of(routes())
}

#[utoipa::path(
    get,
    path = "/api/v1/clinic",
    tag = "clinic",
    summary = "The clinic as staff tools see it",
    security(("bearer" = [])),
    responses(
        (status = 200, body = ClinicView),
        (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)
    )
)]
pub async fn show(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<ClinicView>, ApiError> {
    Ok(Json(ClinicView::from(state.clinic.as_ref())))
}
