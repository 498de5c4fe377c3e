//! `GET/POST /api/v1/patients`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::audit_trail::AuditNote;
use super::auth::Staff;
use super::error::{ApiError, ErrorBody};
use super::policy::{Access, SCHEDULERS};
use super::routes::{Route, router_of};
use super::views::{PatientList, PatientView};
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

/// `POST /api/v1/patients`.
#[derive(Deserialize, ToSchema)]
pub struct NewPatientBody {
    name: String,
    #[schema(value_type = String, example = "1970-01-02")]
    date_of_birth: chrono::NaiveDate,
    /// Ten digits, or `null`.
    phone: Option<String>,
    /// Five digits, or absent: a second factor when a caller's name is
    /// only close to the record's.
    #[serde(default)]
    zip: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Part of the name.
    name: Option<String>,
    /// `YYYY-MM-DD`.
    date_of_birth: Option<String>,
    /// Ten digits.
    phone: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/patients",
    tag = "patients",
    summary = "Search patients",
    params(SearchParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = PatientList),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody)
    )
)]
pub async fn search(
    State(state): State<AppState>,
    _staff: Staff,
    Query(p): Query<SearchParams>,
) -> Result<Json<PatientList>, ApiError> {
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
    Ok(Json(PatientList {
        patients: found.iter().map(PatientView::from).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/patients",
    tag = "patients",
    summary = "Register a patient",
    request_body = NewPatientBody,
    security(("bearer" = [])),
    responses(
        (status = 201, body = PatientView, description = "Registered"),
        (status = 200, body = PatientView, description = "A patient with this name (in its normal spelling) and date of birth exists: that record, unchanged"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
pub async fn create(
    State(state): State<AppState>,
    _staff: Staff,
    audit: AuditNote,
    Json(body): Json<NewPatientBody>,
) -> Result<(StatusCode, Json<PatientView>), ApiError> {
    let today = state.clinic.local(state.clock.now()).date();
    let zip = body.zip;
    let body = NewPatient {
        name: body.name,
        date_of_birth: body.date_of_birth,
        phone: body.phone,
    };
    let (patient, created) =
        patients::register(&state.db, &body, today)
            .await
            .map_err(|e| match e {
                PatientError::Db(e) => ApiError::from(e),
                other => ApiError::Unprocessable(other.to_string()),
            })?;
    if created && let Some(zip) = zip.as_deref() {
        patients::set_zip(&state.db, &patient.id, Some(zip)).await?;
    }
    audit.resource(&patient.id);
    audit.patient(Some(&patient.id));
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(PatientView::from(&patient))))
}
