//! `GET /api/v1/tasks/events`: the queue as Server-Sent Events, for the
//! dashboard's `EventSource`. Each event is one row of a task's history
//! (`event: task`, `id:` the row's id, `data:` the task as `GET
//! /api/v1/tasks/{id}` returns it now), sent only to staff whose part of
//! the queue covers the task (`policy::check_task`, the listing's rule).
//! The events come from the database (`tasks::events`), so `Last-Event-ID`
//! (or `?last_event_id=` for clients that cannot set headers) resumes
//! after exactly that event, on any instance. Idle streams carry a comment
//! line every heartbeat, which also tells the server soon when a client
//! has gone.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Deserialize;

use super::AppState;
use super::auth::Staff;
use super::error::{ApiError, ErrorBody};
use super::policy::{self, Access};
use super::routes::Route;
use super::tasks::task_view;
use crate::tasks::{self, events::Event, events::Subscription};

pub fn routes() -> Vec<Route> {
    vec![Route::get("/api/v1/tasks/events", Access::Tasks, events)]
}

/// How long a stream waits before trying the database again after an error.
const RETRY: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
pub(super) struct EventsParams {
    last_event_id: Option<String>,
}

/// Where a stream starts: after the `Last-Event-ID` header's event, else
/// after the query's, else after the newest event now (only new ones).
async fn starting_point(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<String>,
) -> Result<i64, ApiError> {
    let given = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::BadRequest("`Last-Event-ID` must be an event id".into()))?
                .to_string(),
        ),
        None => query,
    };
    match given.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|id| *id >= 0)
            .ok_or_else(|| {
                ApiError::BadRequest(
                    "`Last-Event-ID` (or `last_event_id`) must be an event id, a whole number"
                        .into(),
                )
            }),
        None => Ok(state.events.latest().await?),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/tasks/events",
    tag = "tasks",
    summary = "Server-Sent Events: `event: task`, `id` the history sequence, `data` the task; `Last-Event-ID` (or `last_event_id`) resumes",
    params(("last_event_id" = Option<i64>, Query, description = "Resume after this event id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "text/event-stream of task events"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 400, body = ErrorBody)
    )
)]
pub(super) async fn events(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(params): Query<EventsParams>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let after = starting_point(&state, &headers, params.last_event_id).await?;
    let heartbeat = state.events.heartbeat();
    let subscription = state.events.subscribe(after);
    // Counted in `frontdesk_sse_clients` while the stream lives: the guard
    // travels with the stream's state, and axum drops the stream when the
    // client goes.
    let client = state.metrics.sse_client();
    tracing::debug!(staff_id = %staff.id, after, "task event stream opened");
    let stream = stream::unfold(
        (state, staff, subscription, client),
        |(state, staff, mut subscription, client)| async move {
            let event = next_visible(&state, &staff, &mut subscription).await;
            Some((Ok(event), (state, staff, subscription, client)))
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(heartbeat)))
}

/// The next event this staff member may see, as sent. Waits out database
/// errors (the stream stays open; heartbeats go on) without skipping an
/// event.
async fn next_visible(
    state: &AppState,
    staff: &Staff,
    subscription: &mut Subscription,
) -> SseEvent {
    let mut failing = false;
    loop {
        let event = loop {
            match subscription.next().await {
                Ok(event) => break event,
                Err(error) => {
                    report(&mut failing, &error);
                    tokio::time::sleep(RETRY).await;
                }
            }
        };
        loop {
            match render(state, staff, &event).await {
                Ok(Some(sent)) => return sent,
                Ok(None) => break,
                Err(error) => {
                    report(&mut failing, &error);
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }
}

fn report(failing: &mut bool, error: &dyn std::fmt::Display) {
    if !*failing {
        *failing = true;
        tracing::warn!(error = %error, "task event stream waiting for the database");
    }
}

/// The event as sent, or `None` when the task is outside the staff
/// member's part of the queue.
async fn render(
    state: &AppState,
    staff: &Staff,
    event: &Event,
) -> Result<Option<SseEvent>, String> {
    let text = |e: ApiError| match e {
        ApiError::Internal(cause) => format!("{cause:#}"),
        other => other.to_string(),
    };
    let Some(task) = tasks::get(&state.db, &event.task_id)
        .await
        .map_err(|e| format!("{e:#}"))?
    else {
        return Ok(None);
    };
    if policy::check_task(staff, &task).is_err() {
        return Ok(None);
    }
    let view = task_view(state, task).await.map_err(text)?;
    let sent = SseEvent::default()
        .event("task")
        .id(event.id.to_string())
        .json_data(&view)
        .map_err(|e| format!("serialising a task event: {e}"))?;
    Ok(Some(sent))
}
