//! Availability and appointments: `GET /api/v1/slots`,
//! `GET/POST /api/v1/appointments`, `POST /api/v1/appointments/{id}/cancel`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::audit_trail::AuditNote;
use super::auth::Staff;
use super::error::{ApiError, ErrorBody};
use super::policy::{Access, SCHEDULERS};
use super::routes::{Route, router_of};
use super::views::{AppointmentList, AppointmentView, SlotList, SlotView};
use crate::scheduling::{
    self, AppointmentFilter, BookError, BookRequest, SlotError, SlotQuery, Source, appointments,
};

/// Free slots for all staff; appointments (patient data) and booking for
/// the front desk and managers.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v1/slots", Access::AnyStaff, slots),
        Route::get("/api/v1/appointments", Access::Roles(SCHEDULERS), list),
        Route::post("/api/v1/appointments", Access::Roles(SCHEDULERS), create),
        Route::post(
            "/api/v1/appointments/{id}/cancel",
            Access::Roles(SCHEDULERS),
            cancel,
        ),
        Route::post(
            "/api/v1/appointments/{id}/move",
            Access::Roles(SCHEDULERS),
            move_to,
        ),
    ]
}

pub fn router() -> Router<AppState> {
    router_of(routes())
}

pub(crate) fn parse_date(field: &str, value: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| ApiError::BadRequest(format!("{field} must be a date like 2026-03-16")))
}

fn slot_error(e: SlotError) -> ApiError {
    ApiError::Unprocessable(e.to_string())
}

fn book_error(e: BookError) -> ApiError {
    match e {
        BookError::SlotTaken => ApiError::Conflict("that slot is already booked".into()),
        BookError::NotBooked => ApiError::Conflict("the appointment is already cancelled".into()),
        BookError::NotFound => ApiError::NotFound("no such appointment".into()),
        BookError::Db(e) => ApiError::from(e),
        BookError::SameDay { .. } => {
            ApiError::Conflict("the patient already has an appointment that day".into())
        }
        other @ (BookError::Slot(_)
        | BookError::UnknownPatient
        | BookError::NotASlot
        | BookError::InPast) => ApiError::Unprocessable(other.to_string()),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotParams {
    /// `YYYY-MM-DD`; default today, clinic time.
    date: Option<String>,
    provider_id: Option<String>,
    /// An appointment type's id.
    #[serde(rename = "type")]
    type_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/slots",
    tag = "scheduling",
    summary = "Free slots on a day",
    params(SlotParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = SlotList),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
pub async fn slots(
    State(state): State<AppState>,
    _staff: Staff,
    Query(params): Query<SlotParams>,
) -> Result<Json<SlotList>, ApiError> {
    let now = state.clock.now();
    let date = match &params.date {
        Some(d) => parse_date("date", d)?,
        None => state.clinic.local(now).date(),
    };
    let types: Vec<String> = match &params.type_id {
        Some(t) => vec![t.clone()],
        None => state
            .clinic
            .appointment_types
            .iter()
            .filter(|t| {
                params
                    .provider_id
                    .as_ref()
                    .is_none_or(|p| t.providers.contains(p))
            })
            .map(|t| t.id.clone())
            .collect(),
    };
    if let Some(p) = &params.provider_id
        && state.clinic.provider(p).is_none()
    {
        return Err(ApiError::NotFound(format!("no provider {p:?}")));
    }
    let mut out = Vec::new();
    for type_id in types {
        let query = SlotQuery {
            type_id,
            provider_id: params.provider_id.clone(),
            from: date,
            to: date,
            part_of_day: None,
            limit: 1000,
        };
        let found = appointments::find_slots(&state.db, &state.clinic, &query, now)
            .await
            .map_err(|e| match e {
                BookError::Slot(s) => slot_error(s),
                other => book_error(other),
            })?;
        for s in found {
            let name = state
                .clinic
                .provider(&s.provider_id)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            out.push(SlotView {
                start: scheduling::api_time(&state.clinic, s.start),
                end: scheduling::api_time(&state.clinic, s.end),
                provider_id: s.provider_id,
                provider_name: name,
                type_id: s.type_id,
            });
        }
    }
    Ok(Json(SlotList { slots: out }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `YYYY-MM-DD`, clinic time.
    date: Option<String>,
    provider_id: Option<String>,
    patient_id: Option<String>,
    /// `booked` or `cancelled`.
    status: Option<String>,
    call_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/appointments",
    tag = "scheduling",
    summary = "Appointments",
    params(ListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AppointmentList),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody)
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _staff: Staff,
    audit: AuditNote,
    Query(p): Query<ListParams>,
) -> Result<Json<AppointmentList>, ApiError> {
    if let Some(s) = &p.status
        && s != "booked"
        && s != "cancelled"
    {
        return Err(ApiError::BadRequest(
            "status must be booked or cancelled".into(),
        ));
    }
    audit.patient(p.patient_id.as_deref());
    let filter = AppointmentFilter {
        date: p
            .date
            .as_deref()
            .map(|d| parse_date("date", d))
            .transpose()?,
        provider_id: p.provider_id,
        patient_id: p.patient_id,
        status: p.status,
        call_id: p.call_id,
        starting_after: None,
        limit: Some(1000),
    };
    let found = appointments::list(&state.db, &state.clinic, &filter).await?;
    Ok(Json(AppointmentList {
        appointments: found
            .iter()
            .map(|a| AppointmentView::of(a, &state.clinic))
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateBody {
    patient_id: String,
    provider_id: String,
    #[serde(rename = "type")]
    type_id: String,
    start: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/appointments",
    tag = "scheduling",
    summary = "Book an appointment (staff)",
    request_body = CreateBody,
    security(("bearer" = [])),
    responses(
        (status = 201, body = AppointmentView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
pub async fn create(
    State(state): State<AppState>,
    _staff: Staff,
    audit: AuditNote,
    Json(body): Json<CreateBody>,
) -> Result<(StatusCode, Json<AppointmentView>), ApiError> {
    let start = DateTime::parse_from_rfc3339(&body.start)
        .map_err(|_| ApiError::BadRequest("start must be RFC 3339 with an offset".into()))?
        .with_timezone(&Utc);
    audit.patient(Some(&body.patient_id));
    let req = BookRequest {
        patient_id: body.patient_id,
        provider_id: body.provider_id,
        type_id: body.type_id,
        start,
        source: Source::Staff,
        call_id: None,
        one_per_day: false,
    };
    let booked = appointments::book(&state.db, &state.clinic, &req, state.clock.now())
        .await
        .map_err(book_error)?;
    audit.resource(&booked.id);
    Ok((
        StatusCode::CREATED,
        Json(AppointmentView::of(&booked, &state.clinic)),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/appointments/{id}/cancel",
    tag = "scheduling",
    summary = "Cancel an appointment",
    params(("id" = String, Path, description = "The id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AppointmentView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    _staff: Staff,
    audit: AuditNote,
    Path(id): Path<String>,
) -> Result<Json<AppointmentView>, ApiError> {
    let cancelled = appointments::cancel(&state.db, &id)
        .await
        .map_err(book_error)?;
    audit.patient(Some(&cancelled.patient.id));
    Ok(Json(AppointmentView::of(&cancelled, &state.clinic)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MoveBody {
    start: String,
    /// Another provider who offers the same type; the same one when absent.
    provider_id: Option<String>,
}

/// Moves a booked appointment to another start (and provider, if given)
/// for the same type: the old one is cancelled and the new slot booked in one
/// transaction (`appointments::reschedule`, as on the phone); `409` when
/// the new slot is taken.
#[utoipa::path(
    post,
    path = "/api/v1/appointments/{id}/move",
    tag = "scheduling",
    summary = "Move an appointment to another start (and provider)",
    params(("id" = String, Path, description = "The id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AppointmentView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub(super) async fn move_to(
    State(state): State<AppState>,
    _staff: Staff,
    Path(id): Path<String>,
    Json(body): Json<MoveBody>,
) -> Result<Json<AppointmentView>, ApiError> {
    let start = DateTime::parse_from_rfc3339(&body.start)
        .map_err(|_| ApiError::BadRequest("start must be RFC 3339 with an offset".into()))?
        .with_timezone(&Utc);
    let old = appointments::get(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no appointment {id}")))?;
    if old.status != "booked" {
        return Err(ApiError::Conflict(
            "the appointment is already cancelled".into(),
        ));
    }
    let req = BookRequest {
        patient_id: old.patient.id.clone(),
        provider_id: body.provider_id.unwrap_or_else(|| old.provider_id.clone()),
        type_id: old.type_id.clone(),
        start,
        source: Source::Staff,
        call_id: None,
        one_per_day: false,
    };
    let moved = appointments::reschedule(&state.db, &state.clinic, &id, &req, state.clock.now())
        .await
        .map_err(book_error)?;
    Ok(Json(AppointmentView::of(&moved, &state.clinic)))
}
