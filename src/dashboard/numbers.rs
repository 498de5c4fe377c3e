//! The manager's numbers for a stretch of time, read from what the server
//! already stores: calls and their outcomes, turns (reply latency: from
//! the end of the caller's words to the start of the agent's answer, as
//! stored on the call's clock), tasks (escalations per queue, overdue now)
//! and appointments the agent booked.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::Row;

use crate::clinic::Clinic;
use crate::scheduling::appointments::local_day_bounds;
use crate::scheduling::db_time;
use crate::store::Db;
use crate::tasks::service_level;
use crate::vocabulary::Priority;

/// Outcomes where the agent finished the call without staff.
const CONTAINED: &[&str] = &["booked", "rescheduled", "cancelled", "answered"];

/// What happened between `start` and `end`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Numbers {
    pub calls: i64,
    /// Finished calls (not in progress).
    pub ended: i64,
    /// Finished calls the agent handled without staff.
    pub contained: i64,
    pub escalated: i64,
    pub transfers: i64,
    pub abandoned: i64,
    pub emergencies: i64,
    /// Appointments the agent booked.
    pub bookings: i64,
    /// Tasks created, per queue.
    pub escalations_by_queue: BTreeMap<String, i64>,
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
    /// Calls per clinic day, and how many of them were contained.
    pub per_day: Vec<(NaiveDate, i64, i64)>,
}

impl Numbers {
    /// The contained share of finished calls, in percent.
    pub fn containment_percent(&self) -> Option<i64> {
        (self.ended > 0).then(|| (self.contained * 100 + self.ended / 2) / self.ended)
    }
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The numbers of the clinic days `from..=to`.
pub async fn between(
    db: &Db,
    clinic: &Clinic,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<Numbers> {
    let start = local_day_bounds(clinic, from).0;
    let end = local_day_bounds(clinic, to).1;
    let mut n = Numbers::default();

    let rows = sqlx::query(
        "SELECT started_at, outcome FROM calls WHERE started_at >= $1 AND started_at < $2",
    )
    .bind(text(start))
    .bind(text(end))
    .fetch_all(&db.pool)
    .await
    .context("reading calls for the numbers")?;
    let mut days: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        days.insert(day, (0, 0));
        day += Duration::days(1);
    }
    for row in &rows {
        let started: String = row.try_get("started_at")?;
        let outcome: String = row.try_get("outcome")?;
        n.calls += 1;
        let contained = CONTAINED.contains(&outcome.as_str());
        if outcome != "in_progress" {
            n.ended += 1;
        }
        if contained {
            n.contained += 1;
        }
        match outcome.as_str() {
            "escalated" => n.escalated += 1,
            "transferred" => n.transfers += 1,
            "abandoned" => n.abandoned += 1,
            "emergency" => n.emergencies += 1,
            _ => {}
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(&started) {
            let date = clinic.local(t.with_timezone(&Utc)).date();
            let entry = days.entry(date).or_default();
            entry.0 += 1;
            if contained {
                entry.1 += 1;
            }
        }
    }
    n.per_day = days.into_iter().map(|(d, (c, k))| (d, c, k)).collect();

    let rows = sqlx::query(
        "SELECT queue, COUNT(*) AS n FROM tasks WHERE created_at >= $1 AND created_at < $2 GROUP BY queue",
    )
    .bind(text(start))
    .bind(text(end))
    .fetch_all(&db.pool)
    .await
    .context("counting escalations")?;
    for row in &rows {
        n.escalations_by_queue
            .insert(row.try_get("queue")?, row.try_get("n")?);
    }

    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM appointments WHERE source = 'phone_agent' \
         AND created_at >= $1 AND created_at < $2",
    )
    .bind(db_time(start))
    .bind(db_time(end))
    .fetch_one(&db.pool)
    .await
    .context("counting bookings")?;
    n.bookings = row.try_get("n")?;

    let rows = sqlx::query(
        "SELECT t.call_id, t.speaker, t.started_at_ms, t.ended_at_ms FROM turns t \
         JOIN calls c ON c.id = t.call_id WHERE c.started_at >= $1 AND c.started_at < $2 \
         ORDER BY t.call_id, t.seq",
    )
    .bind(text(start))
    .bind(text(end))
    .fetch_all(&db.pool)
    .await
    .context("reading turns for reply latency")?;
    let mut latencies = Vec::new();
    let mut previous: Option<(String, String, i64)> = None;
    for row in &rows {
        let call: String = row.try_get("call_id")?;
        let speaker: String = row.try_get("speaker")?;
        let started: i64 = row.try_get("started_at_ms")?;
        let ended: i64 = row.try_get("ended_at_ms")?;
        if let Some((prev_call, prev_speaker, prev_end)) = &previous
            && *prev_call == call
            && prev_speaker == "caller"
            && speaker == "agent"
            && started >= *prev_end
        {
            latencies.push(started - prev_end);
        }
        previous = Some((call, speaker, ended));
    }
    latencies.sort_unstable();
    n.latency_p50_ms = percentile(&latencies, 50);
    n.latency_p95_ms = percentile(&latencies, 95);
    Ok(n)
}

/// The `p`th percentile (nearest rank) of sorted values.
pub fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// Tasks overdue now, per queue.
pub async fn overdue_now(
    db: &Db,
    clinic: &Clinic,
    now: DateTime<Utc>,
) -> anyhow::Result<BTreeMap<String, i64>> {
    let rows =
        sqlx::query("SELECT queue, priority, created_at, status FROM tasks WHERE status <> 'done'")
            .fetch_all(&db.pool)
            .await
            .context("reading open tasks")?;
    let mut out = BTreeMap::new();
    for row in &rows {
        let queue: String = row.try_get("queue")?;
        let priority: String = row.try_get("priority")?;
        let created: String = row.try_get("created_at")?;
        let status: String = row.try_get("status")?;
        let Ok(created) = DateTime::parse_from_rfc3339(&created) else {
            continue;
        };
        let priority = Priority::parse(&priority).unwrap_or(Priority::Normal);
        let due = service_level::due_at(clinic, priority, created.with_timezone(&Utc));
        if service_level::is_overdue(&status, due, now) {
            *out.entry(queue).or_insert(0) += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 95), Some(7));
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50), Some(50));
        assert_eq!(percentile(&values, 95), Some(95));
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
    }
}
