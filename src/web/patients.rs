//! `GET/POST /api/v1/patients`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::auth::Staff;
use super::error::ApiError;
use super::policy::{Access, SCHEDULERS};
use super::routes::{Route, router_of};
use crate::scheduling::{NewPatient, PatientError, PhoneNumber, patients};

/// Patient records: the front desk and managers (and admins).
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v1/patients", Access::Roles(SCHEDULERS), search),
        Route::post("/api/v1/patients", Access::Roles(SCHEDULERS), create),
    ]
}

pub fn router() -> Router<AppState> {
    router_of(routes())
}

#[derive(Deserialize)]
struct SearchParams {
    name: Option<String>,
    date_of_birth: Option<String>,
    phone: Option<String>,
}

async fn search(
    State(state): State<AppState>,
    _staff: Staff,
    Query(p): Query<SearchParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let dob = p
        .date_of_birth
        .as_deref()
        .map(|d| super::scheduling::parse_date("date_of_birth", d))
        .transpose()?;
    let phone = match p.phone.as_deref() {
        Some(raw) => Some(
            PhoneNumber::parse(raw)
                .ok_or_else(|| ApiError::BadRequest("phone must have 10 digits".into()))?,
        ),
        None => None,
    };
    let found = patients::search(&state.db, p.name.as_deref(), dob, phone.as_ref(), 200).await?;
    Ok(Json(json!({ "patients": found })))
}

async fn create(
    State(state): State<AppState>,
    _staff: Staff,
    Json(body): Json<NewPatient>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let today = state.clinic.local(state.clock.now()).date();
    let created = patients::create(&state.db, &body, today)
        .await
        .map_err(|e| match e {
            PatientError::Db(e) => ApiError::from(e),
            other => ApiError::Unprocessable(other.to_string()),
        })?;
    Ok((StatusCode::CREATED, Json(json!(created))))
}
