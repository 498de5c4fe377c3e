//! A staff member's own transfer setting: `GET` and `PUT
//! /api/v1/staff/me/availability` with `{"available": bool, "phone":
//! "+1…"}`. While available (and the clinic open) callers who ask for a
//! person are put through to that phone (`crate::staff::availability`).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::AppState;
use super::audit_trail::AuditNote;
use super::auth::{BREAK_GLASS_ID, Staff};
use super::body::JsonBody;
use super::error::{ApiError, ErrorBody};
use super::policy::{Access, SCHEDULERS};
use super::routes::Route;
use crate::staff::availability::{self, Availability, AvailabilityError};

pub fn routes() -> Vec<Route> {
    vec![
        Route::get(
            "/api/v1/staff/me/availability",
            Access::Roles(SCHEDULERS),
            read,
        ),
        Route::put(
            "/api/v1/staff/me/availability",
            Access::Roles(SCHEDULERS),
            write,
        ),
    ]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Setting {
    available: bool,
    /// Optional when a number was given before.
    #[serde(default)]
    phone: Option<String>,
}

/// The break-glass admin has no staff account to ring.
fn account(staff: &Staff) -> Result<&str, ApiError> {
    if staff.id == BREAK_GLASS_ID {
        return Err(ApiError::Unprocessable(
            "the break-glass admin token has no staff account to take transfers; sign in as a staff member".into(),
        ));
    }
    Ok(&staff.id)
}

#[utoipa::path(
    get,
    path = "/api/v1/staff/me/availability",
    tag = "staff",
    summary = "Whether the signed-in member takes warm transfers, and on which phone",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The setting"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
pub(super) async fn read(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Json<Availability>, ApiError> {
    let id = account(&staff)?;
    Ok(Json(availability::get(&state.db, id).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/staff/me/availability",
    tag = "staff",
    summary = "Take (or stop taking) warm transfers, on a phone number",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The setting now"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
pub(super) async fn write(
    State(state): State<AppState>,
    staff: Staff,
    note: AuditNote,
    JsonBody(setting): JsonBody<Setting>,
) -> Result<Json<Availability>, ApiError> {
    // The audit entry names whose setting it is (`Practitioner/{id}`).
    note.resource(&staff.id);
    let id = account(&staff)?;
    match availability::set(&state.db, id, setting.available, setting.phone.as_deref()).await {
        Ok(now) => Ok(Json(now)),
        Err(e @ (AvailabilityError::BadPhone | AvailabilityError::NoPhone)) => {
            Err(ApiError::Unprocessable(e.to_string()))
        }
        Err(AvailabilityError::Db(e)) => Err(ApiError::Internal(e)),
    }
}
