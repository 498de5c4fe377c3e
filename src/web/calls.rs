//! `GET /api/v1/calls`, `/calls/{id}` (with turns), `/calls/{id}/recording`:
//! how managers review what the agent did.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::audit_trail::AuditNote;
use super::auth::Staff;
use super::error::{ApiError, ErrorBody};
use super::policy::{self, Access, MANAGERS};
use super::routes::{Route, router_of};
use super::views::{CallDetail, CallList, CallView, TurnView};
use crate::store::calls::CallFilter;

/// Transcripts and recordings are patient data: managers and admins, and
/// the staff member working a task of that call.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v1/calls", Access::Roles(MANAGERS), list),
        Route::get("/api/v1/calls/{id}", Access::CallRecord, one),
        Route::get(
            "/api/v1/calls/{id}/recording",
            Access::CallRecord,
            recording,
        ),
    ]
}

pub fn router() -> axum::Router<AppState> {
    router_of(routes())
}

/// 403 unless `staff` may read this call's transcript and recording; a
/// refusal is audited with the call's patient.
async fn check_call(
    state: &AppState,
    staff: &Staff,
    audit: &AuditNote,
    id: &str,
) -> Result<(), ApiError> {
    if policy::may_read_call(state, staff, id).await? {
        Ok(())
    } else {
        if let Some(call) = state.db.get_call(id).await? {
            audit.patient(call.patient_id.as_deref());
        }
        Err(ApiError::Forbidden)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// RFC 3339; calls started at or after.
    since: Option<String>,
    /// RFC 3339; calls started before.
    until: Option<String>,
    /// One outcome (`booked`, `escalated`, …).
    outcome: Option<String>,
    /// Words of the transcript.
    q: Option<String>,
    /// 1 to 500, default 50.
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn rfc3339_utc(field: &str, value: &str) -> Result<String, ApiError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        })
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "`{field}` must be an RFC 3339 time, e.g. 2026-11-28T09:00:00-05:00"
            ))
        })
}

const OUTCOMES: &[&str] = &[
    "in_progress",
    "booked",
    "rescheduled",
    "cancelled",
    "answered",
    "escalated",
    "transferred",
    "emergency",
    "abandoned",
];

#[utoipa::path(
    get,
    path = "/api/v1/calls",
    tag = "calls",
    summary = "Calls, newest first (managers)",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CallList),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody)
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _staff: Staff,
    Query(query): Query<ListQuery>,
) -> Result<Json<CallList>, ApiError> {
    if let Some(outcome) = &query.outcome
        && !OUTCOMES.contains(&outcome.as_str())
    {
        return Err(ApiError::BadRequest(format!(
            "unknown outcome {outcome:?}; one of {}",
            OUTCOMES.join(", ")
        )));
    }
    let cursor = match &query.cursor {
        Some(c) => {
            let (started_at, id) = c.split_once('|').ok_or_else(|| {
                ApiError::BadRequest("`cursor` is not one this API gave out".into())
            })?;
            Some((started_at.to_string(), id.to_string()))
        }
        None => None,
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "`limit` must be between 1 and 500".into(),
        ));
    }
    let filter = CallFilter {
        since: query
            .since
            .as_deref()
            .map(|v| rfc3339_utc("since", v))
            .transpose()?,
        until: query
            .until
            .as_deref()
            .map(|v| rfc3339_utc("until", v))
            .transpose()?,
        outcome: query.outcome,
        q: query.q.filter(|q| !q.trim().is_empty()),
        limit,
        cursor,
        ..CallFilter::default()
    };
    let calls = state.db.list_calls(&filter).await?;
    let next_cursor = (calls.len() as i64 == limit)
        .then(|| calls.last().map(|c| format!("{}|{}", c.started_at, c.id)))
        .flatten();
    Ok(Json(CallList {
        calls: calls.into_iter().map(CallView::from).collect(),
        next_cursor,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/calls/{id}",
    tag = "calls",
    summary = "A call and its transcript",
    params(("id" = String, Path, description = "The id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CallDetail),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn one(
    State(state): State<AppState>,
    staff: Staff,
    audit: AuditNote,
    Path(id): Path<String>,
) -> Result<Json<CallDetail>, ApiError> {
    check_call(&state, &staff, &audit, &id).await?;
    let call = state
        .db
        .get_call(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no call {id}")))?;
    audit.patient(call.patient_id.as_deref());
    let turns = state.db.list_turns(&id).await?;
    Ok(Json(CallDetail {
        call: CallView::from(call),
        turns: turns.into_iter().map(TurnView::from).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/calls/{id}/recording",
    tag = "calls",
    summary = "A call's stereo recording",
    params(("id" = String, Path, description = "The id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The recording", content_type = "audio/wav", body = Vec<u8>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn recording(
    State(state): State<AppState>,
    staff: Staff,
    audit: AuditNote,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_call(&state, &staff, &audit, &id).await?;
    let call = state
        .db
        .get_call(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no call {id}")))?;
    audit.patient(call.patient_id.as_deref());
    let path = call
        .recording_path
        .ok_or_else(|| ApiError::NotFound(format!("call {id} has no recording")))?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| ApiError::NotFound(format!("the recording of call {id} is not on disk")))?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], bytes).into_response())
}
