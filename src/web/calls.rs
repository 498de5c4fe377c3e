//! `GET /api/v1/calls`, `/calls/{id}` (with turns), `/calls/{id}/recording`:
//! how managers review what the agent did.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::auth::Staff;
use super::error::ApiError;
use super::policy::{self, Access, MANAGERS};
use super::routes::{Route, router_of};
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

/// 403 unless `staff` may read this call's transcript and recording.
async fn check_call(state: &AppState, staff: &Staff, id: &str) -> Result<(), ApiError> {
    if policy::may_read_call(state, staff, id).await? {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    since: Option<String>,
    until: Option<String>,
    outcome: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
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

async fn list(
    State(state): State<AppState>,
    _staff: Staff,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
    Ok(Json(json!({"calls": calls, "next_cursor": next_cursor})))
}

async fn one(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    check_call(&state, &staff, &id).await?;
    let call = state
        .db
        .get_call(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no call {id}")))?;
    let turns = state.db.list_turns(&id).await?;
    let mut body = serde_json::to_value(&call).map_err(anyhow::Error::from)?;
    body["turns"] = serde_json::to_value(turns).map_err(anyhow::Error::from)?;
    Ok(Json(body))
}

async fn recording(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_call(&state, &staff, &id).await?;
    let call = state
        .db
        .get_call(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no call {id}")))?;
    let path = call
        .recording_path
        .ok_or_else(|| ApiError::NotFound(format!("call {id} has no recording")))?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| ApiError::NotFound(format!("the recording of call {id} is not on disk")))?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], bytes).into_response())
}
