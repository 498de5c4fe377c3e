//! The shared staff task queue: every escalation the agent promises ("someone
//! will call you back") is a row here first.

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
    pub claimed_by: Option<String>,
    pub claimed_at: Option<String>,
    pub completed_at: Option<String>,
    pub resolution: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct TaskFilter {
    pub status: Option<String>,
    pub queue: Option<String>,
    pub priority: Option<String>,
    pub call_id: Option<String>,
    pub limit: Option<i64>,
}

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
    };
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
    .execute(&db.pool)
    .await
    .context("creating a task")?;
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
    })
}

/// Newest first within priority (urgent, high, normal).
pub async fn list(db: &Db, filter: &TaskFilter) -> anyhow::Result<Vec<Task>> {
    let mut sql = QueryBuilder::<Any>::new(
        "SELECT id, queue, priority, kind, summary, status, call_id, patient_id, callback_number, \
         created_at, claimed_by, claimed_at, completed_at, resolution FROM tasks WHERE ",
    );
    let mut conditions = sql.separated(" AND ");
    conditions.push("1 = 1"); // a valid WHERE when no filter is given
    for (column, value) in [
        ("status", &filter.status),
        ("queue", &filter.queue),
        ("priority", &filter.priority),
        ("call_id", &filter.call_id),
    ] {
        if let Some(value) = value {
            conditions
                .push(format_args!("{column} = "))
                .push_bind_unseparated(value.clone());
        }
    }
    sql.push(
        " ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, \
         created_at DESC LIMIT ",
    )
    .push_bind(filter.limit.unwrap_or(200).clamp(1, 1000));
    let rows = dynamic_sql::numbered(sql)?
        .fetch_all(&db.pool)
        .await
        .context("listing tasks")?;
    rows.iter().map(from_row).collect()
}

pub async fn get(db: &Db, id: &str) -> anyhow::Result<Option<Task>> {
    let filter_sql = "SELECT id, queue, priority, kind, summary, status, call_id, patient_id, \
        callback_number, created_at, claimed_by, claimed_at, completed_at, resolution \
        FROM tasks WHERE id = $1";
    let row = sqlx::query(filter_sql)
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}
