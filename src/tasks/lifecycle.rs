//! A task's life: `open → claimed → done`. Claiming is one conditional
//! `UPDATE … WHERE status = 'open' RETURNING`, so of many staff claiming at
//! once exactly one wins; the other changes lock the task's row first
//! ([`lock`]) and then check who holds it. Each change writes its history
//! row in the same transaction. A claim is a reservation: left idle for the
//! clinic's claim timeout it lapses ([`expire_stale`]).

use anyhow::Context;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sqlx::{Any, Row};

use super::history::{self, Action};
use super::{Task, get};
use crate::store::Db;

/// How a task was finished (`POST /api/v1/tasks/{id}/complete`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    CalledBack,
    LeftVoicemail,
    /// Nobody answered: the task stays open, released, one more attempt.
    NoAnswer,
    Booked,
    Resolved,
    NotNeeded,
}

impl Resolution {
    pub const ALL: [Resolution; 6] = [
        Resolution::CalledBack,
        Resolution::LeftVoicemail,
        Resolution::NoAnswer,
        Resolution::Booked,
        Resolution::Resolved,
        Resolution::NotNeeded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::CalledBack => "called_back",
            Resolution::LeftVoicemail => "left_voicemail",
            Resolution::NoAnswer => "no_answer",
            Resolution::Booked => "booked",
            Resolution::Resolved => "resolved",
            Resolution::NotNeeded => "not_needed",
        }
    }

    pub fn parse(text: &str) -> Option<Resolution> {
        Resolution::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// Why a change was refused.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("no such task")]
    NotFound,
    /// Someone else holds it: their staff id.
    #[error("the task is held by staff member {0}")]
    HeldBy(String),
    #[error("the task is open; claim it first")]
    NotClaimed,
    #[error("the task is already done")]
    Done,
    #[error("the task changed meanwhile; try again")]
    Changed,
    #[error(transparent)]
    Db(#[from] anyhow::Error),
}

/// Times as stored: RFC 3339 UTC with milliseconds (text order is time order).
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The task's status and holder, its row locked until the transaction
/// ends. `UPDATE … SET status = status` takes PostgreSQL's row lock (and reads the
/// latest committed row); on SQLite `Db::begin_write` already holds the
/// write lock.
async fn lock(
    tx: &mut sqlx::Transaction<'static, Any>,
    id: &str,
) -> anyhow::Result<Option<(String, Option<String>)>> {
    let row =
        sqlx::query("UPDATE tasks SET status = status WHERE id = $1 RETURNING status, claimed_by")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await
            .context("locking a task")?;
    row.map(|r| -> anyhow::Result<_> { Ok((r.try_get("status")?, r.try_get("claimed_by")?)) })
        .transpose()
}

/// The reason `staff_id` may not act as the holder of a task in this state.
fn not_holder(status: &str, holder: Option<String>, staff_id: &str) -> Option<LifecycleError> {
    match (status, holder) {
        ("done", _) => Some(LifecycleError::Done),
        ("claimed", Some(h)) if h == staff_id => None,
        ("claimed", Some(h)) => Some(LifecycleError::HeldBy(h)),
        _ => Some(LifecycleError::NotClaimed),
    }
}

async fn reread(db: &Db, id: &str) -> Result<Task, LifecycleError> {
    get(db, id).await?.ok_or(LifecycleError::NotFound)
}

/// Claims an open task for `staff_id`. Claiming a task one already holds
/// returns it unchanged.
pub async fn claim(
    db: &Db,
    id: &str,
    staff_id: &str,
    now: DateTime<Utc>,
) -> Result<Task, LifecycleError> {
    let at = stamp(now);
    let mut tx = db.begin_write().await.context("claiming a task")?;
    let won = sqlx::query(
        "UPDATE tasks SET status = 'claimed', claimed_by = $1, claimed_at = $2, touched_at = $2 \
         WHERE id = $3 AND status = 'open' RETURNING id",
    )
    .bind(staff_id)
    .bind(&at)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .context("claiming a task")?
    .is_some();
    if !won {
        tx.rollback().await.context("claiming a task")?;
        let task = reread(db, id).await?;
        return match not_holder(&task.status, task.claimed_by.clone(), staff_id) {
            None => Ok(task),
            // Open again by now (released meanwhile): say so rather than guess.
            Some(LifecycleError::NotClaimed) => Err(LifecycleError::Changed),
            Some(refusal) => Err(refusal),
        };
    }
    history::record(&mut tx, id, &at, Some(staff_id), Action::Claimed, None).await?;
    tx.commit().await.context("claiming a task")?;
    tracing::info!(task_id = %id, staff_id, "task claimed");
    reread(db, id).await
}

/// Gives a claimed task back to the queue; only its holder may.
pub async fn release(
    db: &Db,
    id: &str,
    staff_id: &str,
    now: DateTime<Utc>,
) -> Result<Task, LifecycleError> {
    let at = stamp(now);
    let mut tx = db.begin_write().await.context("releasing a task")?;
    let (status, holder) = lock(&mut tx, id).await?.ok_or(LifecycleError::NotFound)?;
    if let Some(refusal) = not_holder(&status, holder, staff_id) {
        return Err(refusal);
    }
    sqlx::query(
        "UPDATE tasks SET status = 'open', claimed_by = NULL, claimed_at = NULL, \
         touched_at = NULL WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .context("releasing a task")?;
    history::record(&mut tx, id, &at, Some(staff_id), Action::Released, None).await?;
    tx.commit().await.context("releasing a task")?;
    tracing::info!(task_id = %id, staff_id, "task released");
    reread(db, id).await
}

/// Appends a note. Anyone who may see the task may add one; a note by the
/// holder counts as activity on the claim.
pub async fn add_note(
    db: &Db,
    id: &str,
    staff_id: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Task, LifecycleError> {
    let at = stamp(now);
    let mut tx = db.begin_write().await.context("adding a note")?;
    let (status, holder) = lock(&mut tx, id).await?.ok_or(LifecycleError::NotFound)?;
    if status == "claimed" && holder.as_deref() == Some(staff_id) {
        touch(&mut tx, id, &at).await?;
    }
    history::record(&mut tx, id, &at, Some(staff_id), Action::Note, Some(text)).await?;
    tx.commit().await.context("adding a note")?;
    tracing::info!(task_id = %id, staff_id, "task note added");
    reread(db, id).await
}

async fn touch(tx: &mut sqlx::Transaction<'static, Any>, id: &str, at: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE tasks SET touched_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut **tx)
        .await
        .context("marking activity on a claim")?;
    Ok(())
}

/// Gives an unfinished task to `to` (a manager's move), whoever held it.
pub async fn reassign(
    db: &Db,
    id: &str,
    by: &str,
    to: &str,
    now: DateTime<Utc>,
) -> Result<Task, LifecycleError> {
    let at = stamp(now);
    let mut tx = db.begin_write().await.context("reassigning a task")?;
    let (status, holder) = lock(&mut tx, id).await?.ok_or(LifecycleError::NotFound)?;
    if status == "done" {
        return Err(LifecycleError::Done);
    }
    sqlx::query(
        "UPDATE tasks SET status = 'claimed', claimed_by = $1, claimed_at = $2, touched_at = $2 \
         WHERE id = $3",
    )
    .bind(to)
    .bind(&at)
    .bind(id)
    .execute(&mut *tx)
    .await
    .context("reassigning a task")?;
    let detail = format!(
        "from {} to {to}",
        holder.as_deref().unwrap_or("the open queue")
    );
    history::record(
        &mut tx,
        id,
        &at,
        Some(by),
        Action::Reassigned,
        Some(&detail),
    )
    .await?;
    tx.commit().await.context("reassigning a task")?;
    tracing::info!(task_id = %id, staff_id = by, to, "task reassigned");
    reread(db, id).await
}

/// Finishes the holder's task with a resolution (and an optional note).
/// `no_answer` does not finish it: the task is released back to the queue
/// and its attempts counted.
pub async fn complete(
    db: &Db,
    id: &str,
    staff_id: &str,
    resolution: Resolution,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Task, LifecycleError> {
    let at = stamp(now);
    let mut tx = db.begin_write().await.context("completing a task")?;
    let (status, holder) = lock(&mut tx, id).await?.ok_or(LifecycleError::NotFound)?;
    if let Some(refusal) = not_holder(&status, holder, staff_id) {
        return Err(refusal);
    }
    if let Some(note) = note {
        history::record(&mut tx, id, &at, Some(staff_id), Action::Note, Some(note)).await?;
    }
    if resolution == Resolution::NoAnswer {
        let attempts: i64 = sqlx::query(
            "UPDATE tasks SET status = 'open', claimed_by = NULL, claimed_at = NULL, \
             touched_at = NULL, attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .context("counting an attempt")?
        .try_get("attempts")
        .context("counting an attempt")?;
        let detail = format!("no_answer (attempt {attempts}); released to the queue");
        history::record(
            &mut tx,
            id,
            &at,
            Some(staff_id),
            Action::Attempt,
            Some(&detail),
        )
        .await?;
    } else {
        sqlx::query(
            "UPDATE tasks SET status = 'done', completed_at = $1, resolution = $2 WHERE id = $3",
        )
        .bind(&at)
        .bind(resolution.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("completing a task")?;
        history::record(
            &mut tx,
            id,
            &at,
            Some(staff_id),
            Action::Completed,
            Some(resolution.as_str()),
        )
        .await?;
    }
    tx.commit().await.context("completing a task")?;
    tracing::info!(task_id = %id, staff_id, resolution = resolution.as_str(), "task resolution");
    reread(db, id).await
}

/// Returns to the queue every claim whose holder has done nothing for
/// `timeout`, with an `expired` history row at the moment it lapsed. Run
/// before the queue is read or changed, so a lapsed claim is never seen.
/// Returns how many lapsed.
pub async fn expire_stale(db: &Db, now: DateTime<Utc>, timeout: Duration) -> anyhow::Result<usize> {
    let cutoff = stamp(now - timeout);
    // A plain read first: most of the time nothing has lapsed, and no
    // write lock is taken.
    let stale = sqlx::query(
        "SELECT id, claimed_by, touched_at FROM tasks \
         WHERE status = 'claimed' AND touched_at < $1",
    )
    .bind(&cutoff)
    .fetch_all(&db.pool)
    .await
    .context("finding lapsed claims")?;
    if stale.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin_write().await.context("expiring lapsed claims")?;
    history::take_writers_turn(db, &mut tx).await?;
    let mut expired = 0;
    for row in &stale {
        let id: String = row.try_get("id")?;
        let holder: Option<String> = row.try_get("claimed_by")?;
        let touched: String = row.try_get("touched_at")?;
        // Only if nothing changed since the read.
        let lapsed = sqlx::query(
            "UPDATE tasks SET status = 'open', claimed_by = NULL, claimed_at = NULL, \
             touched_at = NULL WHERE id = $1 AND status = 'claimed' AND touched_at = $2 \
             RETURNING id",
        )
        .bind(&id)
        .bind(&touched)
        .fetch_optional(&mut *tx)
        .await
        .context("expiring a lapsed claim")?
        .is_some();
        if !lapsed {
            continue;
        }
        let lapsed_at = DateTime::parse_from_rfc3339(&touched)
            .map(|t| stamp(t.with_timezone(&Utc) + timeout))
            .unwrap_or_else(|_| stamp(now));
        let detail = format!(
            "claim by {} lapsed after {} minutes without activity",
            holder.as_deref().unwrap_or("nobody"),
            timeout.num_minutes()
        );
        history::record(
            &mut tx,
            &id,
            &lapsed_at,
            None,
            Action::Expired,
            Some(&detail),
        )
        .await?;
        tracing::info!(task_id = %id, "task claim expired");
        expired += 1;
    }
    tx.commit().await.context("expiring lapsed claims")?;
    Ok(expired)
}
