//! A warm transfer's task: written, claimed by the staff member being rung,
//! before their phone rings, so the "incoming transfer" card is on their
//! screen when they pick up. When they answer the task is done; when
//! nobody answers (or the transfer cannot be made) it becomes a `callback`
//! task back in the front desk queue, its history saying why. Nothing the
//! caller asked for is dropped.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::history::{self, Action};
use super::lifecycle::{Resolution, stamp};
use super::{NewTask, Task, get};
use crate::store::{Db, new_id};
use crate::vocabulary::TaskKind;

/// Writes the transfer's task, claimed by `staff_id` (the one being rung).
/// `new` gives the call, patient, callback number and summary (the
/// reason); its kind, queue and priority are the warm transfer's.
pub async fn ring(
    db: &Db,
    new: &NewTask,
    staff_id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Task> {
    let (queue, priority) = TaskKind::WarmTransfer.routing();
    let id = new_id();
    let at = stamp(now);
    let mut tx = db
        .begin_write()
        .await
        .context("writing a transfer's task")?;
    sqlx::query(
        "INSERT INTO tasks (id, queue, priority, kind, summary, status, call_id, patient_id, \
         callback_number, created_at, claimed_by, claimed_at, touched_at) \
         VALUES ($1, $2, $3, $4, $5, 'claimed', $6, $7, $8, $9, $10, $9, $9)",
    )
    .bind(&id)
    .bind(queue.as_str())
    .bind(priority.as_str())
    .bind(TaskKind::WarmTransfer.as_str())
    .bind(&new.summary)
    .bind(&new.call_id)
    .bind(&new.patient_id)
    .bind(&new.callback_number)
    .bind(&at)
    .bind(staff_id)
    .execute(&mut *tx)
    .await
    .context("writing a transfer's task")?;
    let created = format!("{} task in the {} queue", priority.as_str(), queue.as_str());
    history::record(&mut tx, &id, &at, None, Action::Created, Some(&created)).await?;
    history::record(
        &mut tx,
        &id,
        &at,
        Some(staff_id),
        Action::Claimed,
        Some("their phone is ringing with the transferred call"),
    )
    .await?;
    tx.commit().await.context("writing a transfer's task")?;
    tracing::info!(task_id = %id, staff_id, "warm transfer task written");
    get(db, &id)
        .await?
        .context("the transfer's task vanished once written")
}

/// The call's transfer task still waiting on an answer, if any.
async fn ringing(db: &Db, call_id: &str) -> anyhow::Result<Option<String>> {
    let rows = sqlx::query(
        "SELECT id FROM tasks WHERE call_id = $1 AND kind = 'warm_transfer' \
         AND status <> 'done' ORDER BY created_at DESC LIMIT 1",
    )
    .bind(call_id)
    .fetch_all(&db.pool)
    .await
    .context("finding a call's transfer task")?;
    rows.first()
        .map(|r| r.try_get::<String, _>("id"))
        .transpose()
        .context("reading a transfer task's id")
}

/// The staff member answered: the transfer's task is done (`resolved`).
/// Returns it, or `None` when the call has no transfer waiting.
pub async fn answered(db: &Db, call_id: &str, now: DateTime<Utc>) -> anyhow::Result<Option<Task>> {
    let Some(id) = ringing(db, call_id).await? else {
        return Ok(None);
    };
    let at = stamp(now);
    let mut tx = db
        .begin_write()
        .await
        .context("closing a transfer's task")?;
    let holder: Option<String> = sqlx::query(
        "UPDATE tasks SET status = 'done', completed_at = $1, resolution = $2 \
         WHERE id = $3 AND status <> 'done' RETURNING claimed_by",
    )
    .bind(&at)
    .bind(Resolution::Resolved.as_str())
    .bind(&id)
    .fetch_optional(&mut *tx)
    .await
    .context("closing a transfer's task")?
    .map(|r| r.try_get::<Option<String>, _>("claimed_by"))
    .transpose()?
    .flatten();
    history::record(
        &mut tx,
        &id,
        &at,
        holder.as_deref(),
        Action::Completed,
        Some("resolved: the transferred call was answered"),
    )
    .await?;
    tx.commit().await.context("closing a transfer's task")?;
    tracing::info!(task_id = %id, "warm transfer answered");
    get(db, &id).await
}

/// The transfer did not reach anyone (`why`: no answer, busy, refused by
/// the carrier…): the call's transfer task becomes an open `callback` task
/// in the front desk queue, released by whoever it was ringing. With no
/// transfer task (it could not be written), `fallback` is written as a new
/// callback task. Returns the callback task.
pub async fn not_answered(
    db: &Db,
    call_id: &str,
    why: &str,
    fallback: &NewTask,
    now: DateTime<Utc>,
) -> anyhow::Result<Task> {
    let Some(id) = ringing(db, call_id).await? else {
        let new = NewTask {
            kind: TaskKind::Callback,
            queue: TaskKind::Callback.routing().0,
            priority: TaskKind::Callback.routing().1,
            summary: format!(
                "{} The transfer to staff did not connect: {why}.",
                fallback.summary
            ),
            ..fallback.clone()
        };
        return super::create(db, &new).await;
    };
    let (queue, priority) = TaskKind::Callback.routing();
    let at = stamp(now);
    let mut tx = db
        .begin_write()
        .await
        .context("turning a transfer into a callback")?;
    // Takes the row's lock (PostgreSQL; SQLite holds the write lock
    // already) and reads who was being rung.
    let Some(held) = sqlx::query(
        "UPDATE tasks SET status = status WHERE id = $1 AND status <> 'done' RETURNING claimed_by",
    )
    .bind(&id)
    .fetch_optional(&mut *tx)
    .await
    .context("turning a transfer into a callback")?
    else {
        // Answered meanwhile.
        tx.rollback().await.ok();
        return get(db, &id).await?.context("the transfer's task vanished");
    };
    let holder: Option<String> = held.try_get("claimed_by")?;
    sqlx::query(
        "UPDATE tasks SET kind = $1, queue = $2, priority = $3, status = 'open', \
         claimed_by = NULL, claimed_at = NULL, touched_at = NULL, \
         summary = summary || $4 WHERE id = $5",
    )
    .bind(TaskKind::Callback.as_str())
    .bind(queue.as_str())
    .bind(priority.as_str())
    .bind(format!(
        " The transfer to staff did not connect ({why}): please call back."
    ))
    .bind(&id)
    .execute(&mut *tx)
    .await
    .context("turning a transfer into a callback")?;
    let detail = format!("transfer not connected ({why}); now a callback task");
    history::record(
        &mut tx,
        &id,
        &at,
        holder.as_deref(),
        Action::Released,
        Some(&detail),
    )
    .await?;
    tx.commit()
        .await
        .context("turning a transfer into a callback")?;
    tracing::info!(task_id = %id, why, "warm transfer became a callback task");
    get(db, &id)
        .await?
        .context("the callback task vanished once written")
}
