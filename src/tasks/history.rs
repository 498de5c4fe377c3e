//! A task's history: every change (created, claimed, released, expired,
//! note, reassigned, completed, attempt) is a row, written in the same
//! transaction as the change. Rows are never changed or deleted (the
//! database refuses: migration 0003's triggers), so notes are append-only.

use std::collections::HashMap;

use anyhow::Context;
use serde::Serialize;
use sqlx::{Any, QueryBuilder, Row};

use crate::store::{Db, dynamic_sql};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Claimed,
    Released,
    /// The holder did nothing for the claim timeout; the task went back to the queue.
    Expired,
    Note,
    Reassigned,
    Completed,
    /// A call that went unanswered (`no_answer`).
    Attempt,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Claimed => "claimed",
            Action::Released => "released",
            Action::Expired => "expired",
            Action::Note => "note",
            Action::Reassigned => "reassigned",
            Action::Completed => "completed",
            Action::Attempt => "attempt",
        }
    }
}

/// One row, as the staff API shows it (`history` of `Task` in `api.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub at: String,
    /// Who did it; `null` for the agent and for lapsed claims.
    pub staff_id: Option<String>,
    pub action: String,
    pub detail: Option<String>,
}

/// Appends a row inside the transaction that makes the change.
pub async fn record(
    tx: &mut sqlx::Transaction<'static, Any>,
    task_id: &str,
    at: &str,
    staff_id: Option<&str>,
    action: Action,
    detail: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO task_history (task_id, at, staff_id, action, detail) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(task_id)
    .bind(at)
    .bind(staff_id)
    .bind(action.as_str())
    .bind(detail)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("recording a task's {} history", action.as_str()))?;
    Ok(())
}

/// The advisory lock migration 0007 takes (PostgreSQL) before a history
/// row draws its id, so ids are handed out in commit order.
pub const WRITERS_LOCK: i64 = 7_436_100_013;

/// Takes the history writers' turn now (PostgreSQL; SQLite's write lock is
/// already held). A transaction that changes several tasks calls this
/// first: otherwise it could hold one task's row while waiting for the
/// turn, and a writer holding the turn wait for that row (a deadlock).
pub async fn take_writers_turn(
    db: &Db,
    tx: &mut sqlx::Transaction<'static, Any>,
) -> anyhow::Result<()> {
    if db.backend == crate::store::Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITERS_LOCK)
            .execute(&mut **tx)
            .await
            .context("waiting for the task history's turn")?;
    }
    Ok(())
}

/// The history of each task, oldest first.
pub async fn of_tasks(db: &Db, task_ids: &[String]) -> anyhow::Result<HashMap<String, Vec<Entry>>> {
    let mut out: HashMap<String, Vec<Entry>> = HashMap::new();
    // Bounded placeholders per query, whatever the page size.
    for chunk in task_ids.chunks(200) {
        let mut sql = QueryBuilder::<Any>::new(
            "SELECT task_id, at, staff_id, action, detail FROM task_history WHERE task_id IN (",
        );
        let mut ids = sql.separated(", ");
        for id in chunk {
            ids.push_bind(id.clone());
        }
        sql.push(") ORDER BY task_id, id");
        let rows = dynamic_sql::numbered(sql)?
            .fetch_all(&db.pool)
            .await
            .context("reading task history")?;
        for row in rows {
            let task_id: String = row.try_get("task_id")?;
            out.entry(task_id).or_default().push(Entry {
                at: row.try_get("at")?,
                staff_id: row.try_get("staff_id")?,
                action: row.try_get("action")?,
                detail: row.try_get("detail")?,
            });
        }
    }
    Ok(out)
}
