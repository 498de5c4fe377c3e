//! `/queue`: the tasks the agent handed to staff, as the viewer's role may
//! see them (`policy::task_scope`), filtered by queue, priority and status
//! and paged on the server (a queue of thousands renders one page). The
//! page listens to `/api/v1/tasks/events` and re-reads `/queue/list` (the
//! same rows, rendered here) when a task arrives or changes; an incoming
//! warm transfer held by the viewer is a card above everything else (the
//! caller, the patient, the reason, what was said so far). Front desk
//! staff mark themselves available for transfers here, with their phone.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::card;
use super::labels::{kind_label, priority_label, queue_label};
use super::page::{PageError, Viewer, local_time, phone_text, relative, shell};
use super::trail;
use crate::audit::Action;
use crate::staff::availability;
use crate::tasks::{self, Task, TaskFilter, service_level};
use crate::vocabulary::{Priority, Queue};
use crate::web::AppState;
use crate::web::auth::BREAK_GLASS_ID;
use crate::web::policy::{self, Access};
use crate::web::routes::Route;

/// Rows on one page of the queue.
pub const PAGE_SIZE: i64 = 50;

/// The kind of task a warm transfer makes while it rings a receptionist.
pub const WARM_TRANSFER_KIND: &str = "warm_transfer";

/// Where the availability form sends its setting.
const AVAILABILITY_API: &str = "/api/v1/staff/me/availability";

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/queue", Access::AnyStaff, page),
        Route::get("/queue/list", Access::AnyStaff, list_fragment),
        Route::get("/queue/tasks/{id}", Access::Tasks, card_fragment),
    ]
}

/// The queue's filters, as the page's form and links carry them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct QueueParams {
    pub queue: Option<String>,
    pub priority: Option<String>,
    /// `active` (open or claimed; the default), `open`, `claimed`, `done`.
    pub status: Option<String>,
    pub page: Option<i64>,
    /// The task whose card is open.
    pub task: Option<String>,
}

impl QueueParams {
    fn clean(mut self) -> QueueParams {
        self.queue = self.queue.filter(|q| Queue::parse(q).is_some());
        self.priority = self.priority.filter(|p| Priority::parse(p).is_some());
        self.status = self
            .status
            .filter(|s| ["open", "claimed", "done"].contains(&s.as_str()));
        self.page = Some(self.page.unwrap_or(1).max(1));
        self.task = self.task.filter(|t| !t.trim().is_empty());
        self
    }

    /// The query string of these filters on another page (`task` left out).
    fn query(&self, page: i64) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("queue", &self.queue),
            ("priority", &self.priority),
            ("status", &self.status),
        ] {
            if let Some(v) = value {
                parts.push(format!("{key}={v}"));
            }
        }
        parts.push(format!("page={page}"));
        parts.join("&")
    }

    fn filter(&self, viewer: &Viewer) -> TaskFilter {
        TaskFilter {
            status: self.status.clone(),
            queue: self.queue.clone(),
            priority: self.priority.clone(),
            not_done: true,
            limit: Some(PAGE_SIZE),
            offset: Some((self.page.unwrap_or(1) - 1) * PAGE_SIZE),
            scope: policy::task_scope(&viewer.staff),
            ..TaskFilter::default()
        }
    }
}

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<QueueParams>,
) -> Result<Markup, PageError> {
    let params = params.clean();
    policy::expire_claims(&state).await?;
    let incoming = incoming_transfers(&state, &viewer).await?;
    let list = task_list(&state, &viewer, &params).await?;
    let mut incoming_cards = Vec::with_capacity(incoming.len());
    for task in &incoming {
        incoming_cards.push(incoming_card(&state, &viewer, task).await?);
    }
    let availability = availability_form(&state, &viewer).await?;
    let open_card = match &params.task {
        Some(id) => Some(card::render(&state, &viewer, id).await?),
        None => None,
    };
    let content = html! {
        main id="main" class="queue" data-page="queue" {
            @if !incoming_cards.is_empty() {
                section class="incoming" aria-label="Incoming transfers" {
                    @for card in incoming_cards { (card) }
                }
            }
            @if let Some(form) = availability { (form) }
            div class="columns" {
                section class="list" aria-label="Tasks" {
                    h1 { "Queue" }
                    (filters(&params))
                    div id="task-list" data-query=(params.query(params.page.unwrap_or(1))) {
                        (list)
                    }
                }
                section id="card" class="card-panel" aria-label="Task" data-task=[params.task.as_deref()] {
                    @match open_card {
                        Some(card) => (card),
                        None => p class="hint" { "Open a task to see who called, why, and what was said." },
                    }
                }
            }
        }
    };
    Ok(shell(&viewer, "Queue", "/queue", content))
}

fn filters(params: &QueueParams) -> Markup {
    let option = |value: &str, label: &str, current: &Option<String>| {
        html! {
            @if current.as_deref() == Some(value) {
                option value=(value) selected { (label) }
            } @else {
                option value=(value) { (label) }
            }
        }
    };
    html! {
        form method="get" action="/queue" class="filters" {
            label for="f-queue" { "Queue" }
            select id="f-queue" name="queue" {
                option value="" { "All I can see" }
                @for q in QUEUES {
                    (option(q.as_str(), queue_label(q.as_str()), &params.queue))
                }
            }
            label for="f-priority" { "Priority" }
            select id="f-priority" name="priority" {
                option value="" { "Any" }
                (option("urgent", "Urgent", &params.priority))
                (option("high", "High", &params.priority))
                (option("normal", "Normal", &params.priority))
            }
            label for="f-status" { "Status" }
            select id="f-status" name="status" {
                option value="" { "Open or claimed" }
                (option("open", "Open", &params.status))
                (option("claimed", "Claimed", &params.status))
                (option("done", "Done", &params.status))
            }
            button type="submit" { "Show" }
        }
    }
}

/// The viewer's own warm-transfer setting, a form for those the staff
/// API lets set one (`PUT /api/v1/staff/me/availability`, the same rule):
/// whether they take transfers now, and on which phone. The page's script
/// sends it with the session's CSRF token.
async fn availability_form(state: &AppState, viewer: &Viewer) -> Result<Option<Markup>, PageError> {
    let allowed = crate::web::routes::rule_for(&Method::PUT, AVAILABILITY_API)
        .is_some_and(|access| access.admits(viewer.staff.role));
    if !allowed || viewer.staff.id == BREAK_GLASS_ID {
        return Ok(None);
    }
    let now = availability::get(&state.db, &viewer.staff.id).await?;
    Ok(Some(html! {
        section class="panel availability" aria-label="Warm transfers" {
            form id="availability" class="act" data-api=(AVAILABILITY_API) data-method="PUT" data-done="Saved." {
                input id="avail-on" name="available" type="checkbox" checked[now.available];
                label for="avail-on" { "I take warm transfers" }
                label for="avail-phone" { "on the phone" }
                input id="avail-phone" name="phone" type="tel" autocomplete="tel"
                    placeholder="+1 555 555 0142" value=[now.phone.as_deref()];
                button type="submit" class="save-availability" { "Save" }
                span id="availability-state" class="hint" role="status" {
                    (availability_text(now.available, now.phone.as_deref()))
                }
            }
        }
    }))
}

/// The setting in words (the script writes the same after a change).
fn availability_text(available: bool, phone: Option<&str>) -> String {
    match (available, phone) {
        (true, Some(phone)) => format!("Taking transfers on {}.", phone_text(phone)),
        _ => "Not taking transfers.".into(),
    }
}

/// Warm transfers ringing the viewer now: claimed by them, not done.
async fn incoming_transfers(state: &AppState, viewer: &Viewer) -> Result<Vec<Task>, PageError> {
    let filter = TaskFilter {
        status: Some("claimed".into()),
        limit: Some(10),
        scope: policy::task_scope(&viewer.staff),
        ..TaskFilter::default()
    };
    Ok(tasks::list(&state.db, &filter)
        .await?
        .into_iter()
        .filter(|t| {
            t.kind == WARM_TRANSFER_KIND
                && t.claimed_by.as_deref() == Some(viewer.staff.id.as_str())
        })
        .collect())
}

async fn incoming_card(
    state: &AppState,
    viewer: &Viewer,
    task: &Task,
) -> Result<Markup, PageError> {
    trail::record(
        state,
        viewer,
        Action::Read,
        "Task",
        Some(&task.id),
        task.patient_id.as_deref(),
    )
    .await?;
    let said = card::transcript_so_far(state, viewer, task).await?;
    Ok(html! {
        article class="incoming-card" role="alert" aria-live="assertive" data-task-id=(task.id) {
            h2 { "Incoming transfer" }
            p class="caller" {
                "Caller: "
                @match &task.callback_number {
                    Some(n) => strong { (phone_text(n)) },
                    None => "number withheld",
                }
            }
            (card::patient_line(state, task).await?)
            p class="reason" { "Reason: " (task.summary) }
            (said)
            a href={ "/queue?task=" (task.id) } { "Open the task" }
        }
    })
}

/// The rows of one page of the queue, with the page links.
pub async fn task_list(
    state: &AppState,
    viewer: &Viewer,
    params: &QueueParams,
) -> Result<Markup, PageError> {
    let filter = params.filter(viewer);
    // A listing of tasks, as `GET /api/v1/tasks` is audited.
    trail::record(state, viewer, Action::Search, "Task", None, None).await?;
    let total = tasks::count(&state.db, &filter).await?;
    let found = tasks::list(&state.db, &filter).await?;
    let now = state.clock.now();
    let page = params.page.unwrap_or(1);
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let first = (page - 1) * PAGE_SIZE + 1;
    let mut rows = Vec::with_capacity(found.len());
    for task in &found {
        rows.push(row(state, task, now, params.task.as_deref()));
    }
    Ok(html! {
        p class="count" {
            @if total == 0 {
                "No tasks here."
            } @else {
                "Tasks " (first) "–" (first - 1 + found.len() as i64) " of " (total)
            }
        }
        @if !found.is_empty() {
            table class="tasks" {
                thead {
                    tr {
                        th scope="col" { "Priority" }
                        th scope="col" { "Task" }
                        th scope="col" { "Queue" }
                        th scope="col" { "Status" }
                        th scope="col" { "Due" }
                    }
                }
                tbody { @for r in rows { (r) } }
            }
        }
        @if pages > 1 {
            nav class="pages" aria-label="Pages" {
                @if page > 1 {
                    a href={ "/queue?" (params.query(page - 1)) } rel="prev" { "← Newer" }
                }
                span { "Page " (page) " of " (pages) }
                @if page < pages {
                    a href={ "/queue?" (params.query(page + 1)) } rel="next" { "Older →" }
                }
            }
        }
    })
}

fn row(state: &AppState, task: &Task, now: DateTime<Utc>, open: Option<&str>) -> Markup {
    let due = due_of(state, task);
    let overdue = due.is_some_and(|d| service_level::is_overdue(&task.status, d, now));
    let class = format!(
        "task p-{}{}{}",
        task.priority,
        if overdue { " overdue" } else { "" },
        if open == Some(task.id.as_str()) {
            " open"
        } else {
            ""
        }
    );
    html! {
        tr class=(class) data-task-id=(task.id) data-status=(task.status) {
            td {
                span class={ "badge p-" (task.priority) } { (priority_label(&task.priority)) }
            }
            td {
                a href={ "/queue?task=" (task.id) } class="open-task" data-task-id=(task.id) {
                    (kind_label(&task.kind))
                }
                div class="summary" { (short(&task.summary, 120)) }
            }
            td { (queue_label(&task.queue)) }
            td class="status-cell" {
                @match task.status.as_str() {
                    "claimed" => "Claimed",
                    "done" => "Done",
                    _ => "Open",
                }
                @if task.attempts > 0 {
                    br; small { (task.attempts) " unanswered call" @if task.attempts > 1 { "s" } }
                }
            }
            td {
                @match due {
                    Some(d) if overdue => strong class="overdue-text" { "OVERDUE " (relative(now, d)) },
                    Some(d) if task.status != "done" => span title=(local_time(state, &d.to_rfc3339())) { "due " (relative(now, d)) },
                    _ => "—",
                }
            }
        }
    }
}

/// When the task's service level runs out.
pub fn due_of(state: &AppState, task: &Task) -> Option<DateTime<Utc>> {
    let created = DateTime::parse_from_rfc3339(&task.created_at)
        .ok()?
        .with_timezone(&Utc);
    let priority = Priority::parse(&task.priority).unwrap_or(Priority::Normal);
    Some(service_level::due_at(&state.clinic, priority, created))
}

const QUEUES: [Queue; 4] = [
    Queue::FrontDesk,
    Queue::Billing,
    Queue::Clinical,
    Queue::Records,
];

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

async fn list_fragment(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<QueueParams>,
) -> Result<Markup, PageError> {
    policy::expire_claims(&state).await?;
    let params = params.clean();
    let incoming = incoming_transfers(&state, &viewer).await?;
    let list = task_list(&state, &viewer, &params).await?;
    let mut cards = Vec::with_capacity(incoming.len());
    for task in &incoming {
        cards.push(incoming_card(&state, &viewer, task).await?);
    }
    // The incoming-transfer cards travel with the list, so a transfer that
    // starts ringing appears without a reload too.
    Ok(html! {
        template id="incoming-update" {
            @for card in cards { (card) }
        }
        (list)
    })
}

async fn card_fragment(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    card::render(&state, &viewer, &id).await
}
