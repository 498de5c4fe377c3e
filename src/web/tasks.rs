//! The shared queue: `GET /api/v1/tasks`, `GET /api/v1/tasks/{id}`, and a
//! task's lifecycle: `claim`, `release`, `notes`, `reassign` (managers),
//! `complete`. Each staff member sees the part of the queue their role
//! covers (`policy::task_scope`); lapsed claims go back to the queue
//! before the queue is read or changed.

use axum::extract::{Path, Query, State};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::audit_trail::AuditNote;
use super::auth::{BREAK_GLASS_ID, Staff};
use super::body::JsonBody;
use super::error::{ApiError, ErrorBody};
use super::policy::{self, Access, MANAGERS};
use super::routes::{Route, router_of};
use super::views::{HistoryEntryView, PatientView};
use crate::scheduling::patients;
use crate::staff;
use crate::tasks::history::{self, Entry};
use crate::tasks::lifecycle::{self, LifecycleError, Resolution};
use crate::tasks::{self, Task, TaskFilter, service_level};
use crate::vocabulary::{Priority, Queue};

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v1/tasks", Access::Tasks, list),
        Route::get("/api/v1/tasks/{id}", Access::Tasks, one),
        Route::post("/api/v1/tasks/{id}/claim", Access::Tasks, claim),
        Route::post("/api/v1/tasks/{id}/release", Access::Tasks, release),
        Route::post("/api/v1/tasks/{id}/notes", Access::Tasks, add_note),
        Route::post(
            "/api/v1/tasks/{id}/reassign",
            Access::Roles(MANAGERS),
            reassign,
        ),
        Route::post("/api/v1/tasks/{id}/complete", Access::Tasks, complete),
    ]
}

pub fn router() -> Router<AppState> {
    router_of(routes())
}

/// `Task` of `api.md`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub id: String,
    pub queue: String,
    pub priority: String,
    pub kind: String,
    pub summary: String,
    pub status: String,
    pub call_id: Option<String>,
    pub patient: Option<PatientView>,
    pub callback_number: Option<String>,
    pub created_at: String,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<String>,
    pub completed_at: Option<String>,
    pub resolution: Option<String>,
    /// When the clinic's service level for the priority runs out.
    pub due_at: String,
    /// Due and not done.
    pub overdue: bool,
    pub attempts: i64,
    pub history: Vec<HistoryEntryView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    pub tasks: Vec<TaskView>,
}

fn parse_time(text: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc))
}

async fn view(state: &AppState, task: Task, history: Vec<Entry>) -> Result<TaskView, ApiError> {
    let patient = match &task.patient_id {
        Some(id) => patients::get(&state.db, id)
            .await?
            .as_ref()
            .map(PatientView::from),
        None => None,
    };
    let created = parse_time(&task.created_at)?;
    let priority = Priority::parse(&task.priority).unwrap_or(Priority::Normal);
    let due = service_level::due_at(&state.clinic, priority, created);
    Ok(TaskView {
        overdue: service_level::is_overdue(&task.status, due, state.clock.now()),
        due_at: crate::scheduling::api_time(&state.clinic, due),
        id: task.id,
        queue: task.queue,
        priority: task.priority,
        kind: task.kind,
        summary: task.summary,
        status: task.status,
        call_id: task.call_id,
        patient,
        callback_number: task.callback_number,
        created_at: task.created_at,
        claimed_by: task.claimed_by,
        claimed_at: task.claimed_at,
        completed_at: task.completed_at,
        resolution: task.resolution,
        attempts: task.attempts,
        history: history.into_iter().map(HistoryEntryView::from).collect(),
    })
}

/// One task as `GET /api/v1/tasks/{id}` shows it, with its history (the
/// event stream sends exactly this).
pub(super) async fn task_view(state: &AppState, task: Task) -> Result<TaskView, ApiError> {
    let mut histories = history::of_tasks(&state.db, std::slice::from_ref(&task.id)).await?;
    let history = histories.remove(&task.id).unwrap_or_default();
    view(state, task, history).await
}

async fn view_one(state: &AppState, task: Task) -> Result<Json<TaskView>, ApiError> {
    Ok(Json(task_view(state, task).await?))
}

/// The task, after lapsed claims are returned: 404 when there is none,
/// 403 when it is outside the staff member's part of the queue. The audit
/// notes its patient either way.
async fn visible_task(
    state: &AppState,
    staff: &Staff,
    audit: &AuditNote,
    id: &str,
) -> Result<Task, ApiError> {
    policy::expire_claims(state).await?;
    let task = tasks::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no task {id}")))?;
    audit.patient(task.patient_id.as_deref());
    policy::check_task(staff, &task)?;
    Ok(task)
}

/// "held by Dana Reyes (staff 3f…)": who to ask about a task.
async fn holder_text(state: &AppState, holder: &str) -> String {
    if holder == BREAK_GLASS_ID {
        return "the break-glass admin".into();
    }
    match staff::get(&state.db, holder).await {
        Ok(Some(member)) => format!("{} (staff {})", member.name, member.id),
        _ => format!("staff {holder}"),
    }
}

async fn refusal(state: &AppState, id: &str, e: LifecycleError) -> ApiError {
    match e {
        LifecycleError::NotFound => ApiError::NotFound(format!("no task {id}")),
        LifecycleError::HeldBy(holder) => ApiError::Conflict(format!(
            "task {id} is held by {}",
            holder_text(state, &holder).await
        )),
        LifecycleError::NotClaimed => {
            ApiError::Conflict(format!("task {id} is open; claim it first"))
        }
        LifecycleError::Done => ApiError::Conflict(format!("task {id} is already done")),
        LifecycleError::Changed => {
            ApiError::Conflict(format!("task {id} changed meanwhile; try again"))
        }
        LifecycleError::Db(e) => ApiError::from(e),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `open`, `claimed` or `done`.
    status: Option<String>,
    /// `front_desk`, `billing`, `clinical` or `records`.
    queue: Option<String>,
    /// `urgent`, `high` or `normal`.
    priority: Option<String>,
    call_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/tasks",
    tag = "tasks",
    summary = "The part of the queue the caller's role sees",
    params(ListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = TaskList),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)
    )
)]
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<ListParams>,
) -> Result<Json<TaskList>, ApiError> {
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
    policy::expire_claims(&state).await?;
    let filter = TaskFilter {
        status: p.status,
        queue: p.queue,
        priority: p.priority,
        call_id: p.call_id,
        limit: Some(500),
        scope: policy::task_scope(&staff),
        ..TaskFilter::default()
    };
    let found = tasks::list(&state.db, &filter).await?;
    let ids: Vec<String> = found.iter().map(|t| t.id.clone()).collect();
    let mut histories = history::of_tasks(&state.db, &ids).await?;
    let mut items = Vec::with_capacity(found.len());
    for t in found {
        let history = histories.remove(&t.id).unwrap_or_default();
        items.push(view(&state, t, history).await?);
    }
    Ok(Json(TaskList { tasks: items }))
}

#[utoipa::path(
    get,
    path = "/api/v1/tasks/{id}",
    tag = "tasks",
    summary = "A task and its history",
    params(("id" = String, Path, description = "The id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = TaskView),
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
) -> Result<Json<TaskView>, ApiError> {
    let task = visible_task(&state, &staff, &audit, &id).await?;
    view_one(&state, task).await
}

#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/claim",
    tag = "tasks",
    summary = "Claim a task; 409 names who holds it",
    params(("id" = String, Path, description = "The id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = TaskView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn claim(
    State(state): State<AppState>,
    staff: Staff,
    audit: AuditNote,
    Path(id): Path<String>,
) -> Result<Json<TaskView>, ApiError> {
    visible_task(&state, &staff, &audit, &id).await?;
    let claimed = lifecycle::claim(&state.db, &id, &staff.id, state.clock.now()).await;
    if matches!(
        claimed,
        Ok(_) | Err(LifecycleError::HeldBy(_) | LifecycleError::Done)
    ) {
        state.metrics.claim(claimed.is_ok());
    }
    match claimed {
        Ok(task) => view_one(&state, task).await,
        Err(e) => Err(refusal(&state, &id, e).await),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/release",
    tag = "tasks",
    summary = "Give a claimed task back to the queue",
    params(("id" = String, Path, description = "The id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = TaskView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn release(
    State(state): State<AppState>,
    staff: Staff,
    audit: AuditNote,
    Path(id): Path<String>,
) -> Result<Json<TaskView>, ApiError> {
    visible_task(&state, &staff, &audit, &id).await?;
    match lifecycle::release(&state.db, &id, &staff.id, state.clock.now()).await {
        Ok(task) => view_one(&state, task).await,
        Err(e) => Err(refusal(&state, &id, e).await),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    text: String,
}

/// Longest note, in characters.
const NOTE_MAX_CHARS: usize = 4000;

fn note_text(field: &str, text: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::BadRequest(format!("`{field}` must not be empty")));
    }
    if text.chars().count() > NOTE_MAX_CHARS {
        return Err(ApiError::BadRequest(format!(
            "`{field}` is longer than {NOTE_MAX_CHARS} characters"
        )));
    }
    Ok(text.to_string())
}

#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/notes",
    tag = "tasks",
    summary = "Add a note (append-only)",
    params(("id" = String, Path, description = "The id")),
    request_body = NoteBody,
    security(("bearer" = [])),
    responses(
        (status = 200, body = TaskView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn add_note(
    State(state): State<AppState>,
    staff: Staff,
    audit: AuditNote,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NoteBody>,
) -> Result<Json<TaskView>, ApiError> {
    let text = note_text("text", &body.text)?;
    visible_task(&state, &staff, &audit, &id).await?;
    match lifecycle::add_note(&state.db, &id, &staff.id, &text, state.clock.now()).await {
        Ok(task) => view_one(&state, task).await,
        Err(e) => Err(refusal(&state, &id, e).await),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignBody {
    staff_id: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/reassign",
    tag = "tasks",
    summary = "Give a task to another staff member (managers)",
    params(("id" = String, Path, description = "The id")),
    request_body = ReassignBody,
    security(("bearer" = [])),
    responses(
        (status = 200, body = TaskView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
pub async fn reassign(
    State(state): State<AppState>,
    staff: Staff,
    audit: AuditNote,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReassignBody>,
) -> Result<Json<TaskView>, ApiError> {
    let task = visible_task(&state, &staff, &audit, &id).await?;
    let target = staff::get(&state.db, body.staff_id.trim())
        .await?
        .filter(|m| m.is_active())
        .ok_or_else(|| {
            ApiError::Unprocessable(format!(
                "`staff_id`: no active staff member {:?}",
                body.staff_id
            ))
        })?;
    // Minimum necessary holds for reassignment too: the task must be one
    // the new holder's role works.
    if !policy::role_covers(target.role, &task) {
        return Err(ApiError::Unprocessable(format!(
            "`staff_id`: {} ({}) does not work the {} queue",
            target.name, target.role, task.queue
        )));
    }
    match lifecycle::reassign(&state.db, &id, &staff.id, &target.id, state.clock.now()).await {
        Ok(task) => view_one(&state, task).await,
        Err(e) => Err(refusal(&state, &id, e).await),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// `called_back`, `left_voicemail`, `no_answer` (keeps the task open),
    /// `booked`, `resolved`, `not_needed`.
    resolution: String,
    /// Free text, kept in the history.
    note: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/complete",
    tag = "tasks",
    summary = "Complete a task with a resolution",
    params(("id" = String, Path, description = "The id")),
    request_body = CompleteBody,
    security(("bearer" = [])),
    responses(
        (status = 200, body = TaskView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
pub async fn complete(
    State(state): State<AppState>,
    staff: Staff,
    audit: AuditNote,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CompleteBody>,
) -> Result<Json<TaskView>, ApiError> {
    let resolution = Resolution::parse(body.resolution.trim()).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "`resolution` must be one of {}; got {:?}",
            Resolution::ALL.map(Resolution::as_str).join(", "),
            body.resolution
        ))
    })?;
    let note = body
        .note
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(|n| note_text("note", n))
        .transpose()?;
    visible_task(&state, &staff, &audit, &id).await?;
    match lifecycle::complete(
        &state.db,
        &id,
        &staff.id,
        resolution,
        note.as_deref(),
        state.clock.now(),
    )
    .await
    {
        Ok(task) => view_one(&state, task).await,
        Err(e) => Err(refusal(&state, &id, e).await),
    }
}
