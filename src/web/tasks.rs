//! `GET /api/v1/tasks`: the staff queue (claiming and events come later).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::auth::Staff;
use super::error::ApiError;
use crate::scheduling::patients;
use crate::tasks::{self, TaskFilter};
use crate::vocabulary::{Priority, Queue};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/tasks", get(list))
}

#[derive(Deserialize)]
struct ListParams {
    status: Option<String>,
    queue: Option<String>,
    priority: Option<String>,
    call_id: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    _staff: Staff,
    Query(p): Query<ListParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if let Some(s) = &p.status
        && !["open", "claimed", "done"].contains(&s.as_str())
    {
        return Err(ApiError::BadRequest(
            "status must be open, claimed or done".into(),
        ));
    }
    if let Some(q) = &p.queue {
        Queue::parse(q).ok_or_else(|| {
            ApiError::BadRequest("queue must be front_desk, billing, clinical or records".into())
        })?;
    }
    if let Some(x) = &p.priority {
        Priority::parse(x).ok_or_else(|| {
            ApiError::BadRequest("priority must be urgent, high or normal".into())
        })?;
    }
    let filter = TaskFilter {
        status: p.status,
        queue: p.queue,
        priority: p.priority,
        call_id: p.call_id,
        limit: Some(500),
    };
    let found = tasks::list(&state.db, &filter).await?;
    let mut items = Vec::with_capacity(found.len());
    for t in found {
        let patient = match &t.patient_id {
            Some(id) => patients::get(&state.db, id).await?,
            None => None,
        };
        items.push(json!({
            "id": t.id,
            "queue": t.queue,
            "priority": t.priority,
            "kind": t.kind,
            "summary": t.summary,
            "status": t.status,
            "call_id": t.call_id,
            "patient": patient,
            "callback_number": t.callback_number,
            "created_at": t.created_at,
            "claimed_by": t.claimed_by,
            "claimed_at": t.claimed_at,
            "completed_at": t.completed_at,
            "resolution": t.resolution,
        }));
    }
    Ok(Json(json!({ "tasks": items })))
}
