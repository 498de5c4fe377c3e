//! The shared staff task queue: every escalation the agent promises ("someone
//! will call you back") is a row here first. A task goes `open → claimed →
//! done` (`lifecycle`); every change is a row of its `history`; each
//! priority has a service level (`service_level`); every history row is
//! an event of the live feed (`events`).

pub mod events;
pub mod history;
pub mod lifecycle;
pub mod service_level;
pub mod warm_transfer;

use anyhow::Context;
use serde::Serialize;
use sqlx::{Any, QueryBuilder, Row};

use crate::store::{Db, dynamic_sql, new_id, now_text};
use crate::vocabulary::{Priority, Queue, TaskKind};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTask {
    pub queue: Queue,
    pub priority: Priority,
    pub kind: TaskKind,
    /// One paragraph for staff; no more patient data than needed.
    pub summary: String,
    pub call_id: Option<String>,
    pub patient_id: Option<String>,
    pub callback_number: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Task {
    pub id: String,
    pub queue: String,
    pub priority: String,
    pub kind: String,
    pub summary: String,
    pub status: String,
    pub call_id: Option<String>,
    pub patient_id: Option<String>,
    pub callback_number: Option<String>,
    pub created_at: String,
    /// The staff id holding the task (or that completed it).
    pub claimed_by: Option<String>,
    pub claimed_at: Option<String>,
    pub completed_at: Option<String>,
    pub resolution: Option<String>,
    /// Calls that went unanswered (`no_answer`).
    pub attempts: i64,
    /// When the holder last acted on the task; a claim idle past the
    /// clinic's claim timeout lapses.
    pub touched_at: Option<String>,
}

/// Which urgent tasks outside a staff member's own queues they see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UrgentTasks {
    #[default]
    None,
    /// Only while nobody has claimed them.
    Open,
    All,
}

/// The part of the queue one staff member may see: whole queues, urgent
/// and emergency tasks of any queue, and tasks they hold. The staff API
/// decides a role's scope (`web::policy`); this type keeps the SQL and the
/// check of a single task in agreement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskScope {
    pub queues: Vec<Queue>,
    pub urgent: UrgentTasks,
    /// Tasks of kind `emergency`, whatever their queue.
    pub emergencies: bool,
    /// A staff id: the tasks they hold or completed.
    pub holder: Option<String>,
}

impl TaskScope {
    pub fn covers(&self, task: &Task) -> bool {
        self.queues.iter().any(|q| q.as_str() == task.queue)
            || match self.urgent {
                UrgentTasks::None => false,
                UrgentTasks::Open => task.priority == "urgent" && task.status == "open",
                UrgentTasks::All => task.priority == "urgent",
            }
            || (self.emergencies && task.kind == TaskKind::Emergency.as_str())
            || self
                .holder
                .as_deref()
                .is_some_and(|h| task.claimed_by.as_deref() == Some(h))
    }

    /// ` AND (…)`: the same rule as [`TaskScope::covers`], in SQL.
    fn push_sql(&self, sql: &mut QueryBuilder<Any>) {
        sql.push(" AND (1 = 0");
        for queue in &self.queues {
            sql.push(" OR queue = ").push_bind(queue.as_str());
        }
        match self.urgent {
            UrgentTasks::None => {}
            UrgentTasks::Open => {
                sql.push(" OR (priority = 'urgent' AND status = 'open')");
            }
            UrgentTasks::All => {
                sql.push(" OR priority = 'urgent'");
            }
        }
        if self.emergencies {
            sql.push(" OR kind = 'emergency'");
        }
        if let Some(holder) = &self.holder {
            sql.push(" OR claimed_by = ").push_bind(holder.clone());
        }
        sql.push(")");
    }
}

#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    pub status: Option<String>,
    pub queue: Option<String>,
    pub priority: Option<String>,
    pub call_id: Option<String>,
    pub limit: Option<i64>,
    /// Rows to skip (a page of a long listing).
    pub offset: Option<i64>,
    /// Only tasks not yet done (open or claimed), when `status` is not given.
    pub not_done: bool,
    /// Only the tasks this scope covers; `None`: every task.
    pub scope: Option<TaskScope>,
}

const TASK_COLUMNS: &str = "id, queue, priority, kind, summary, status, call_id, patient_id, \
    callback_number, created_at, claimed_by, claimed_at, completed_at, resolution, attempts, \
    touched_at";

pub async fn create(db: &Db, new: &NewTask) -> anyhow::Result<Task> {
    let task = Task {
        id: new_id(),
        queue: new.queue.as_str().into(),
        priority: new.priority.as_str().into(),
        kind: new.kind.as_str().into(),
        summary: new.summary.clone(),
        status: "open".into(),
        call_id: new.call_id.clone(),
        patient_id: new.patient_id.clone(),
        callback_number: new.callback_number.clone(),
        created_at: now_text(),
        claimed_by: None,
        claimed_at: None,
        completed_at: None,
        resolution: None,
        attempts: 0,
        touched_at: None,
    };
    let mut tx = db.begin_write().await.context("creating a task")?;
    sqlx::query(
        "INSERT INTO tasks (id, queue, priority, kind, summary, status, call_id, patient_id, \
         callback_number, created_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9)",
    )
    .bind(&task.id)
    .bind(&task.queue)
    .bind(&task.priority)
    .bind(&task.kind)
    .bind(&task.summary)
    .bind(&task.call_id)
    .bind(&task.patient_id)
    .bind(&task.callback_number)
    .bind(&task.created_at)
    .execute(&mut *tx)
    .await
    .context("creating a task")?;
    history::record(
        &mut tx,
        &task.id,
        &task.created_at,
        None,
        history::Action::Created,
        Some(&format!(
            "{} task in the {} queue",
            task.priority, task.queue
        )),
    )
    .await?;
    tx.commit().await.context("creating a task")?;
    tracing::info!(task_id = %task.id, kind = task.kind, queue = task.queue, "task created");
    Ok(task)
}

fn from_row(r: &sqlx::any::AnyRow) -> anyhow::Result<Task> {
    Ok(Task {
        id: r.try_get("id")?,
        queue: r.try_get("queue")?,
        priority: r.try_get("priority")?,
        kind: r.try_get("kind")?,
        summary: r.try_get("summary")?,
        status: r.try_get("status")?,
        call_id: r.try_get("call_id")?,
        patient_id: r.try_get("patient_id")?,
        callback_number: r.try_get("callback_number")?,
        created_at: r.try_get("created_at")?,
        claimed_by: r.try_get("claimed_by")?,
        claimed_at: r.try_get("claimed_at")?,
        completed_at: r.try_get("completed_at")?,
        resolution: r.try_get("resolution")?,
        attempts: r.try_get("attempts")?,
        touched_at: r.try_get("touched_at")?,
    })
}

/// ` WHERE …` of a listing: the filter's columns and its scope.
fn push_where(sql: &mut QueryBuilder<Any>, filter: &TaskFilter) {
    sql.push(" WHERE 1 = 1");
    for (column, value) in [
        ("status", &filter.status),
        ("queue", &filter.queue),
        ("priority", &filter.priority),
        ("call_id", &filter.call_id),
    ] {
        if let Some(value) = value {
            sql.push(format_args!(" AND {column} = "))
                .push_bind(value.clone());
        }
    }
    if filter.not_done && filter.status.is_none() {
        sql.push(" AND status <> 'done'");
    }
    if let Some(scope) = &filter.scope {
        scope.push_sql(sql);
    }
}

/// Newest first within priority (urgent, high, normal).
pub async fn list(db: &Db, filter: &TaskFilter) -> anyhow::Result<Vec<Task>> {
    let mut sql = QueryBuilder::<Any>::new(format!("SELECT {TASK_COLUMNS} FROM tasks"));
    push_where(&mut sql, filter);
    sql.push(
        " ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, \
         created_at DESC, id LIMIT ",
    )
    .push_bind(filter.limit.unwrap_or(200).clamp(1, 1000));
    if let Some(offset) = filter.offset.filter(|o| *o > 0) {
        sql.push(" OFFSET ").push_bind(offset);
    }
    let rows = dynamic_sql::numbered(sql)?
        .fetch_all(&db.pool)
        .await
        .context("listing tasks")?;
    rows.iter().map(from_row).collect()
}

/// How many tasks the filter matches (its limit and offset aside).
pub async fn count(db: &Db, filter: &TaskFilter) -> anyhow::Result<i64> {
    let mut sql = QueryBuilder::<Any>::new("SELECT COUNT(*) AS n FROM tasks");
    push_where(&mut sql, filter);
    let row = dynamic_sql::numbered(sql)?
        .fetch_one(&db.pool)
        .await
        .context("counting tasks")?;
    Ok(row.try_get("n")?)
}

pub async fn get(db: &Db, id: &str) -> anyhow::Result<Option<Task>> {
    let row = sqlx::query(
        "SELECT id, queue, priority, kind, summary, status, call_id, patient_id, \
         callback_number, created_at, claimed_by, claimed_at, completed_at, resolution, \
         attempts, touched_at FROM tasks WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await
    .context("reading a task")?;
    row.as_ref().map(from_row).transpose()
}

/// Whether this staff member holds (has claimed, not yet finished) a task
/// of this call: what lets them read its transcript.
pub async fn holds_task_of_call(db: &Db, call_id: &str, staff_id: &str) -> anyhow::Result<bool> {
    let row = sqlx::query(
        "SELECT id FROM tasks WHERE call_id = $1 AND status = 'claimed' AND claimed_by = $2 \
         LIMIT 1",
    )
    .bind(call_id)
    .bind(staff_id)
    .fetch_optional(&db.pool)
    .await
    .context("checking who holds a call's tasks")?;
    Ok(row.is_some())
}
