//! Calls and turns: written as they happen, so a crash mid-call keeps what
//! was said; read back by the staff API for review.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, QueryBuilder, Row};

use super::{Db, dynamic_sql, now_text};
use crate::vocabulary::Outcome;

/// A call as the staff API shows it (`spec/api.md`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CallRecord {
    pub id: String,
    pub provider: String,
    pub provider_call_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub duration_s: Option<f64>,
    pub outcome: String,
    /// Why the call ended when the agent and the caller did not end it
    /// themselves: `interrupted_by_restart` for a call a crash left open,
    /// closed at the next start-up ([`ENDED_BY_RESTART`]); after a warm
    /// transfer, whether staff answered ([`TRANSFER_ANSWERED`],
    /// [`TRANSFER_NOT_ANSWERED`]). `null` otherwise.
    pub ended_reason: Option<String>,
    pub intents: Vec<String>,
    pub patient_id: Option<String>,
    #[serde(skip)]
    pub recording_path: Option<String>,
}

/// The `ended_reason` of a call closed at start-up because the server
/// stopped (a crash, a kill) while the call was going on.
pub const ENDED_BY_RESTART: &str = "interrupted_by_restart";
/// The `ended_reason` of a call put through to staff who answered
/// (outcome `transferred`).
pub const TRANSFER_ANSWERED: &str = "transfer_answered";
/// The `ended_reason` of a call whose transfer nobody answered (busy, no
/// answer, failed, or the caller hung up while it rang): outcome
/// `escalated`, with a callback task.
pub const TRANSFER_NOT_ANSWERED: &str = "transfer_not_answered";

/// A call nobody ended, as start-up finds it after a crash.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenCall {
    pub id: String,
    pub started_at: String,
    pub recording_path: Option<String>,
    /// The end of the last turn stored, in call time (ms).
    pub last_turn_ended_ms: i64,
}

/// One turn of a call.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TurnRecord {
    pub seq: i64,
    pub speaker: String,
    pub text: String,
    pub started_at_ms: i64,
    pub ended_at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// The agent was cut off by the caller; `text` is what was actually heard.
    pub interrupted: bool,
}

/// Who spoke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Caller,
    Agent,
}

impl Speaker {
    fn as_str(self) -> &'static str {
        match self {
            Speaker::Caller => "caller",
            Speaker::Agent => "agent",
        }
    }
}

/// A new call, when the carrier first tells us of it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewCall {
    /// Chosen by the caller of `insert_call` so writes can be queued before
    /// the row exists.
    pub id: String,
    pub provider: String,
    pub provider_call_id: Option<String>,
    pub stream_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub recording_path: Option<String>,
}

/// A turn to append.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewTurn {
    pub speaker: Speaker,
    pub text: String,
    /// Call time (audio received) when the turn started, in ms.
    pub started_at_ms: i64,
    pub ended_at_ms: i64,
    pub intent: Option<String>,
    pub confidence: Option<f32>,
    pub interrupted: bool,
}

/// Filters of `GET /api/v1/calls`.
#[derive(Clone, Debug, Default)]
pub struct CallFilter {
    pub since: Option<String>,
    pub until: Option<String>,
    pub outcome: Option<String>,
    /// Matches transcript text.
    pub q: Option<String>,
    /// A caller turn was understood as this intent.
    pub intent: Option<String>,
    pub limit: i64,
    /// `started_at|id` of the last row of the previous page.
    pub cursor: Option<(String, String)>,
}

const CALL_COLUMNS: &str = "id, provider, provider_call_id, from_number, to_number, started_at, ended_at, outcome, ended_reason, patient_id, recording_path";

impl Db {
    /// Inserts the call, owned by this handle's instance; inserting the
    /// same id twice is a no-op, so a retried write is harmless.
    pub async fn insert_call(&self, call: &NewCall) -> sqlx::Result<()> {
        let id = &call.id;
        sqlx::query(
            "INSERT INTO calls (id, provider, provider_call_id, stream_id, from_number, to_number, started_at, outcome, recording_path, owner)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'in_progress', $8, $9)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(&call.provider)
        .bind(call.provider_call_id.as_deref())
        .bind(call.stream_id.as_deref())
        .bind(call.from.as_deref())
        .bind(call.to.as_deref())
        .bind(now_text())
        .bind(call.recording_path.as_deref())
        .bind(self.owner())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Appends a turn; `seq` is the next number for the call.
    pub async fn append_turn(&self, call_id: &str, turn: &NewTurn) -> sqlx::Result<i64> {
        let mut tx = self.begin_write().await?;
        let next: i64 =
            sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE call_id = $1")
                .bind(call_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        sqlx::query(
            "INSERT INTO turns (call_id, seq, speaker, text, started_at_ms, ended_at_ms, intent, confidence, interrupted)
             VALUES ($1, $2, $3, $4, $5, $6, $7, CAST($8 AS DOUBLE PRECISION), $9)",
        )
        .bind(call_id)
        .bind(next)
        .bind(turn.speaker.as_str())
        .bind(&turn.text)
        .bind(turn.started_at_ms)
        .bind(turn.ended_at_ms)
        .bind(turn.intent.as_deref())
        .bind(confidence_param(turn.confidence))
        .bind(turn.interrupted as i32)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Writes turn number `seq` of the call, unless it is already there:
    /// the journal numbers turns as it takes them, so a write retried, or a
    /// spool replayed again after a replay cut short, stores each turn once.
    /// Returns whether the turn was new.
    pub async fn insert_turn(&self, call_id: &str, seq: i64, turn: &NewTurn) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "INSERT INTO turns (call_id, seq, speaker, text, started_at_ms, ended_at_ms, intent, confidence, interrupted)
             VALUES ($1, $2, $3, $4, $5, $6, $7, CAST($8 AS DOUBLE PRECISION), $9)
             ON CONFLICT (call_id, seq) DO NOTHING",
        )
        .bind(call_id)
        .bind(seq)
        .bind(turn.speaker.as_str())
        .bind(&turn.text)
        .bind(turn.started_at_ms)
        .bind(turn.ended_at_ms)
        .bind(turn.intent.as_deref())
        .bind(confidence_param(turn.confidence))
        .bind(turn.interrupted as i32)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Calls never ended that start-up may close: those `owner` wrote (no
    /// call of this instance is live before it listens), and anyone's
    /// started before `started_before` (too old to be live anywhere).
    pub async fn open_calls_left_by(
        &self,
        owner: &str,
        started_before: &str,
    ) -> sqlx::Result<Vec<OpenCall>> {
        let rows = sqlx::query(
            "SELECT c.id, c.started_at, c.recording_path,
                    COALESCE((SELECT MAX(t.ended_at_ms) FROM turns t WHERE t.call_id = c.id), 0) AS last_turn_ended_ms
             FROM calls c
             WHERE c.ended_at IS NULL AND (c.owner = $1 OR c.started_at < $2)
             ORDER BY c.started_at",
        )
        .bind(owner)
        .bind(started_before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OpenCall {
                    id: r.try_get("id")?,
                    started_at: r.try_get("started_at")?,
                    recording_path: r.try_get("recording_path")?,
                    last_turn_ended_ms: r.try_get("last_turn_ended_ms")?,
                })
            })
            .collect()
    }

    /// Closes a call a crash left open: ended at `ended_at`, for `reason`;
    /// an outcome still `in_progress` becomes `abandoned` (one the agent
    /// had already reached, e.g. `booked`, stays). A call already ended is
    /// left alone. Returns whether the call was closed.
    pub async fn close_interrupted_call(
        &self,
        call_id: &str,
        ended_at: &str,
        reason: &str,
    ) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "UPDATE calls SET ended_at = $1, ended_reason = $2,
                 outcome = CASE WHEN outcome = 'in_progress' THEN 'abandoned' ELSE outcome END
             WHERE id = $3 AND ended_at IS NULL",
        )
        .bind(ended_at)
        .bind(reason)
        .bind(call_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn set_call_outcome(&self, call_id: &str, outcome: Outcome) -> sqlx::Result<()> {
        sqlx::query("UPDATE calls SET outcome = $1 WHERE id = $2")
            .bind(outcome.as_str())
            .bind(call_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_call_patient(&self, call_id: &str, patient_id: &str) -> sqlx::Result<()> {
        sqlx::query("UPDATE calls SET patient_id = $1 WHERE id = $2")
            .bind(patient_id)
            .bind(call_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks the call ended; an outcome still `in_progress` becomes `fallback`.
    pub async fn end_call(&self, call_id: &str, fallback: Outcome) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE calls SET ended_at = COALESCE(ended_at, $1),
                 outcome = CASE WHEN outcome = 'in_progress' THEN $2 ELSE outcome END
             WHERE id = $3",
        )
        .bind(now_text())
        .bind(fallback.as_str())
        .bind(call_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records Twilio's status callback against the call with that CallSid.
    pub async fn record_carrier_status(
        &self,
        provider_call_id: &str,
        status: &str,
    ) -> sqlx::Result<bool> {
        let done = sqlx::query("UPDATE calls SET carrier_status = $1 WHERE provider_call_id = $2")
            .bind(status)
            .bind(provider_call_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The call the carrier knows by this id (Twilio's CallSid), newest
    /// first should a carrier ever reuse one.
    pub async fn call_by_provider_id(
        &self,
        provider_call_id: &str,
    ) -> sqlx::Result<Option<CallRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE provider_call_id = $1 \
             ORDER BY started_at DESC LIMIT 1"
        )))
        .bind(provider_call_id)
        .fetch_all(&self.pool)
        .await?;
        match rows.first() {
            Some(row) => Ok(Some(self.call_from_row(row).await?)),
            None => Ok(None),
        }
    }

    /// How a call ended once the agent had handed it on: the outcome and
    /// the `ended_reason` (e.g. [`TRANSFER_ANSWERED`]), set together.
    pub async fn settle_handed_on_call(
        &self,
        call_id: &str,
        outcome: Outcome,
        reason: &str,
    ) -> sqlx::Result<()> {
        sqlx::query("UPDATE calls SET outcome = $1, ended_reason = $2 WHERE id = $3")
            .bind(outcome.as_str())
            .bind(reason)
            .bind(call_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn get_call(&self, id: &str) -> sqlx::Result<Option<CallRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some(self.call_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    pub async fn list_calls(&self, filter: &CallFilter) -> sqlx::Result<Vec<CallRecord>> {
        let mut sql = QueryBuilder::<Any>::new(format!("SELECT {CALL_COLUMNS} FROM calls WHERE "));
        let mut conditions = sql.separated(" AND ");
        conditions.push("1 = 1"); // a valid WHERE when no filter is given
        if let Some(since) = &filter.since {
            conditions
                .push("started_at >= ")
                .push_bind_unseparated(since.clone());
        }
        if let Some(until) = &filter.until {
            conditions
                .push("started_at < ")
                .push_bind_unseparated(until.clone());
        }
        if let Some(outcome) = &filter.outcome {
            conditions
                .push("outcome = ")
                .push_bind_unseparated(outcome.clone());
        }
        if let Some(q) = &filter.q {
            let pattern = format!("%{}%", q.to_lowercase().replace(['%', '_'], ""));
            conditions
                .push("id IN (SELECT call_id FROM turns WHERE LOWER(text) LIKE ")
                .push_bind_unseparated(pattern)
                .push_unseparated(")");
        }
        if let Some(intent) = &filter.intent {
            conditions
                .push("id IN (SELECT call_id FROM turns WHERE intent = ")
                .push_bind_unseparated(intent.clone())
                .push_unseparated(")");
        }
        if let Some((started_at, id)) = &filter.cursor {
            conditions
                .push("(started_at < ")
                .push_bind_unseparated(started_at.clone())
                .push_unseparated(" OR (started_at = ")
                .push_bind_unseparated(started_at.clone())
                .push_unseparated(" AND id < ")
                .push_bind_unseparated(id.clone())
                .push_unseparated("))");
        }
        sql.push(" ORDER BY started_at DESC, id DESC LIMIT ")
            .push_bind(filter.limit.clamp(1, 500));
        let rows = dynamic_sql::numbered(sql)?.fetch_all(&self.pool).await?;
        let mut calls = Vec::with_capacity(rows.len());
        for row in &rows {
            calls.push(self.call_from_row(row).await?);
        }
        Ok(calls)
    }

    pub async fn list_turns(&self, call_id: &str) -> sqlx::Result<Vec<TurnRecord>> {
        let rows = sqlx::query(
            "SELECT seq, speaker, text, started_at_ms, ended_at_ms, intent, confidence, interrupted
             FROM turns WHERE call_id = $1 ORDER BY seq",
        )
        .bind(call_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TurnRecord {
                    seq: r.try_get("seq")?,
                    speaker: r.try_get("speaker")?,
                    text: r.try_get("text")?,
                    started_at_ms: r.try_get("started_at_ms")?,
                    ended_at_ms: r.try_get("ended_at_ms")?,
                    intent: r.try_get("intent")?,
                    confidence: r.try_get("confidence")?,
                    interrupted: r.try_get::<i32, _>("interrupted")? != 0,
                })
            })
            .collect()
    }

    async fn call_from_row(&self, row: &AnyRow) -> sqlx::Result<CallRecord> {
        let id: String = row.try_get("id")?;
        let intents: Vec<String> = sqlx::query(
            "SELECT intent FROM turns WHERE call_id = $1 AND intent IS NOT NULL ORDER BY seq",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .filter_map(|r| r.try_get::<String, _>(0).ok())
        .fold(Vec::new(), |mut seen, intent| {
            if !seen.contains(&intent) {
                seen.push(intent);
            }
            seen
        });
        let started_at: String = row.try_get("started_at")?;
        let ended_at: Option<String> = row.try_get("ended_at")?;
        let duration_s = ended_at.as_deref().and_then(|end| {
            let start = chrono::DateTime::parse_from_rfc3339(&started_at).ok()?;
            let end = chrono::DateTime::parse_from_rfc3339(end).ok()?;
            Some((end - start).num_milliseconds() as f64 / 1000.0)
        });
        Ok(CallRecord {
            id,
            provider: row.try_get("provider")?,
            provider_call_id: row.try_get("provider_call_id")?,
            from: row.try_get("from_number")?,
            to: row.try_get("to_number")?,
            started_at,
            ended_at,
            duration_s,
            outcome: row.try_get("outcome")?,
            ended_reason: row.try_get("ended_reason")?,
            intents,
            patient_id: row.try_get("patient_id")?,
            recording_path: row.try_get("recording_path")?,
        })
    }
}

/// A turn's confidence as bound: text, cast to a number in the SQL. sqlx's
/// `Any` driver (0.9.0) binds a NULL `f64` as PostgreSQL `float4` (and a
/// NULL `f32` as `float8`), so a connection whose turn statement was first
/// prepared for an agent turn (no confidence) refused every caller turn
/// after it ("incorrect binary data format in bind parameter 8"), and the
/// caller's words went to the spool. Text has one type, NULL or not.
fn confidence_param(confidence: Option<f32>) -> Option<String> {
    confidence.map(|c| f64::from(c).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh_db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&crate::store::sqlite_url_in(dir.path()))
            .await
            .unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn turns_are_numbered_and_read_back_with_intents() {
        let (_dir, db) = fresh_db().await;
        let id = crate::store::new_id();
        let call = NewCall {
            id: id.clone(),
            provider: "twilio".into(),
            provider_call_id: Some("CA1".into()),
            ..Default::default()
        };
        db.insert_call(&call).await.unwrap();
        db.insert_call(&call).await.unwrap();
        let caller = NewTurn {
            speaker: Speaker::Caller,
            text: "I need to book a visit".into(),
            started_at_ms: 1000,
            ended_at_ms: 2500,
            intent: Some("book_appointment".into()),
            confidence: Some(0.9),
            interrupted: false,
        };
        assert_eq!(db.append_turn(&id, &caller).await.unwrap(), 1);
        let agent = NewTurn {
            speaker: Speaker::Agent,
            text: "Sure.".into(),
            intent: None,
            confidence: None,
            ..caller.clone()
        };
        assert_eq!(db.append_turn(&id, &agent).await.unwrap(), 2);
        let turns = db.list_turns(&id).await.unwrap();
        assert_eq!(turns.len(), 2);
        assert_eq!(turns[0].speaker, "caller");
        assert_eq!(turns[0].intent.as_deref(), Some("book_appointment"));
        assert_eq!(turns[1].speaker, "agent");
        let call = db.get_call(&id).await.unwrap().unwrap();
        assert_eq!(call.intents, vec!["book_appointment"]);
        assert_eq!(call.outcome, "in_progress");
        db.end_call(&id, Outcome::Abandoned).await.unwrap();
        let call = db.get_call(&id).await.unwrap().unwrap();
        assert_eq!(call.outcome, "abandoned");
        assert!(call.duration_s.unwrap() >= 0.0);
    }

    /// Eight calls writing turns at once, as under load: on SQLite a
    /// deferred read-then-write transaction failed with "database is
    /// locked" here; every turn must be written at the first attempt,
    /// numbered in order per call.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn simultaneous_calls_write_their_turns_without_lock_errors() {
        let (_dir, db) = fresh_db().await;
        let db = std::sync::Arc::new(db);
        let mut writers = Vec::new();
        for _ in 0..8 {
            let db = db.clone();
            writers.push(tokio::spawn(async move {
                let id = crate::store::new_id();
                let _: () = db
                    .insert_call(&NewCall {
                        id: id.clone(),
                        provider: "twilio".into(),
                        ..Default::default()
                    })
                    .await?;
                let mut seqs = Vec::new();
                for i in 0..25 {
                    let turn = NewTurn {
                        speaker: Speaker::Caller,
                        text: format!("line {i}"),
                        started_at_ms: i,
                        ended_at_ms: i + 1,
                        intent: None,
                        confidence: None,
                        interrupted: false,
                    };
                    seqs.push(db.append_turn(&id, &turn).await?);
                }
                Ok::<_, sqlx::Error>(seqs)
            }));
        }
        for writer in writers {
            let seqs = writer.await.unwrap().expect("every write succeeds at once");
            assert_eq!(seqs, (1..=25).collect::<Vec<i64>>());
        }
    }

    #[tokio::test]
    async fn listing_filters_by_outcome_and_text_and_pages() {
        let (_dir, db) = fresh_db().await;
        let mut ids = Vec::new();
        for i in 0..5 {
            let id = crate::store::new_id();
            db.insert_call(&NewCall {
                id: id.clone(),
                provider: "twilio".into(),
                ..Default::default()
            })
            .await
            .unwrap();
            let text = if i == 2 { "my bill is wrong" } else { "hello" }.to_string();
            let turn = NewTurn {
                speaker: Speaker::Caller,
                text,
                started_at_ms: 0,
                ended_at_ms: 1,
                intent: None,
                confidence: None,
                interrupted: false,
            };
            db.append_turn(&id, &turn).await.unwrap();
            if i % 2 == 0 {
                db.set_call_outcome(&id, Outcome::Escalated).await.unwrap();
            }
            ids.push(id);
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
        let escalated = db
            .list_calls(&CallFilter {
                outcome: Some("escalated".into()),
                limit: 50,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(escalated.len(), 3);
        let bill = db
            .list_calls(&CallFilter {
                q: Some("BILL".into()),
                limit: 50,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            bill.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
            vec![ids[2].clone()]
        );
        let page1 = db
            .list_calls(&CallFilter {
                limit: 2,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page1.len(), 2);
        let last = page1.last().unwrap();
        let page2 = db
            .list_calls(&CallFilter {
                limit: 10,
                cursor: Some((last.started_at.clone(), last.id.clone())),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page2.len(), 3);
        assert!(page2.iter().all(|c| !page1.contains(c)));
    }
}
