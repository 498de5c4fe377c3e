//! The call's journal: every write about a call (the call row, each turn,
//! outcome, end) goes through one ordered queue per call, so the call loop
//! never waits on the database. A write that keeps failing (database locked
//! or unreachable) is appended to a spool file in the data directory instead,
//! and the spool is replayed into the database at the next start-up: what a
//! caller said is never lost to a database hiccup.
//!
//! Every write carries its own identity (the call's id; a turn its number in
//! the call, given as the journal takes it), so writing it twice is
//! harmless: a retry after a write that did reach the database, or a replay
//! cut short by another crash and run again at the next start-up, stores
//! each turn once, in order.
//!
//! A crash also leaves calls open: [`close_interrupted_calls`], run at
//! start-up after the replay, ends them (`abandoned` unless the agent had
//! reached an outcome, `ended_reason` = `interrupted_by_restart`) and makes
//! their recordings readable with what was written.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use crate::store::Db;
use crate::store::calls::{ENDED_BY_RESTART, NewCall, NewTurn};
use crate::vocabulary::Outcome;

/// One write about a call.
#[derive(Clone, Debug)]
pub enum Entry {
    Call(NewCall),
    Turn(NewTurn),
    Outcome(Outcome),
    Patient(String),
    End(Outcome),
}

/// An entry as it is written: to the database, and one JSON line each in
/// the spool. A turn carries its number in the call; a spool written before
/// turns were numbered has none, and its turns are appended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Write {
    Call(NewCall),
    Turn {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<i64>,
        #[serde(flatten)]
        turn: NewTurn,
    },
    Outcome(Outcome),
    Patient {
        patient_id: String,
    },
    End(Outcome),
}

impl Write {
    /// The write for `entry`, numbering turns from 1 in the order taken.
    fn numbered(entry: Entry, turns: &mut i64) -> Write {
        match entry {
            Entry::Call(call) => Write::Call(call),
            Entry::Turn(turn) => {
                *turns += 1;
                Write::Turn {
                    seq: Some(*turns),
                    turn,
                }
            }
            Entry::Outcome(outcome) => Write::Outcome(outcome),
            Entry::Patient(patient_id) => Write::Patient { patient_id },
            Entry::End(outcome) => Write::End(outcome),
        }
    }
}

/// Delays between attempts before a write is spooled.
const RETRY_DELAYS_MS: [u64; 3] = [100, 500, 2000];

/// The sending side; cheap to clone. Dropping every clone lets the writer
/// finish its queue and stop.
#[derive(Clone)]
pub struct Journal {
    call_id: String,
    tx: mpsc::UnboundedSender<Entry>,
}

impl Journal {
    /// Starts the writer for one call. The returned handle completes when
    /// every entry is written (or spooled).
    pub fn start(
        db: Db,
        spool_dir: PathBuf,
        call_id: String,
    ) -> (Journal, tokio::task::JoinHandle<()>) {
        // Unbounded on purpose: a call produces a few entries a minute, and
        // dropping one would lose part of a transcript.
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_entries(db, spool_dir, call_id.clone(), rx));
        (Journal { call_id, tx }, writer)
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    pub fn record(&self, entry: Entry) {
        if self.tx.send(entry).is_err() {
            tracing::error!(call_id = %self.call_id, "journal writer stopped; entry not recorded");
        }
    }
}

async fn write_entries(
    db: Db,
    spool_dir: PathBuf,
    call_id: String,
    mut rx: mpsc::UnboundedReceiver<Entry>,
) {
    // Once one write is spooled, later ones follow it so order is kept.
    let mut spooling = false;
    let mut turns = 0;
    while let Some(entry) = rx.recv().await {
        let entry = Write::numbered(entry, &mut turns);
        if !spooling {
            match write_with_retry(&db, &call_id, &entry).await {
                Ok(()) => continue,
                Err(e) => {
                    tracing::error!(call_id = %call_id, error = %e, "database write failed after retries; spooling this call's writes to disk");
                    spooling = true;
                }
            }
        }
        if let Err(e) = spool(&spool_dir, &call_id, &entry).await {
            tracing::error!(call_id = %call_id, error = format!("{e:#}"), "could not spool a call write; it is lost");
        }
    }
}

async fn write_with_retry(db: &Db, call_id: &str, entry: &Write) -> anyhow::Result<()> {
    let mut last = None;
    for (attempt, delay_ms) in std::iter::once(0).chain(RETRY_DELAYS_MS).enumerate() {
        if delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        }
        match apply(db, call_id, entry).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!(call_id = %call_id, attempt, error = %e, "database write failed");
                last = Some(e);
            }
        }
    }
    Err(anyhow::Error::new(last.expect("at least one attempt")).context("writing the call journal"))
}

/// One write; each is idempotent (see the module's note).
async fn apply(db: &Db, call_id: &str, entry: &Write) -> sqlx::Result<()> {
    match entry {
        Write::Call(call) => db.insert_call(call).await,
        Write::Turn {
            seq: Some(seq),
            turn,
        } => db.insert_turn(call_id, *seq, turn).await.map(|_| ()),
        Write::Turn { seq: None, turn } => db.append_turn(call_id, turn).await.map(|_| ()),
        Write::Outcome(outcome) => db.set_call_outcome(call_id, *outcome).await,
        Write::Patient { patient_id } => db.set_call_patient(call_id, patient_id).await,
        Write::End(fallback) => db.end_call(call_id, *fallback).await,
    }
}

fn spool_path(dir: &Path, call_id: &str) -> PathBuf {
    dir.join(format!("{call_id}.jsonl"))
}

async fn spool(dir: &Path, call_id: &str, entry: &Write) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("creating the spool directory {}", dir.display()))?;
    let path = spool_path(dir, call_id);
    let mut line = serde_json::to_string(entry).context("encoding a journal entry")?;
    line.push('\n');
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    file.write_all(line.as_bytes())
        .await
        .with_context(|| format!("appending to {}", path.display()))?;
    file.sync_data()
        .await
        .with_context(|| format!("syncing {}", path.display()))?;
    Ok(())
}

/// Writes every spooled call into the database and removes the spool files
/// that made it. Returns how many calls were replayed.
///
/// Replaying a file twice stores each write once, so a replay cut short
/// (the server killed again) is simply run again at the next start-up. A
/// last line without its newline is a write torn by a crash: it was never
/// complete, and is skipped. A file with any other unreadable line is set
/// aside as `<call id>.jsonl.unreadable` for a person to look at, and
/// start-up goes on.
pub async fn replay_spool(db: &Db, dir: &Path) -> anyhow::Result<usize> {
    let mut replayed = 0;
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return Ok(0);
    };
    while let Some(file) = entries.next_entry().await? {
        let path = file.path();
        if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
            continue;
        }
        let call_id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let text = tokio::fs::read_to_string(&path)
            .await
            .with_context(|| format!("reading {}", path.display()))?;
        let writes = match parse_spool(&text) {
            Ok(writes) => writes,
            Err(line) => {
                let aside = path.with_extension("jsonl.unreadable");
                tracing::error!(call_id = %call_id, line, "a spooled call has an unreadable line; set aside, not replayed");
                tokio::fs::rename(&path, &aside)
                    .await
                    .with_context(|| format!("moving {} aside", path.display()))?;
                continue;
            }
        };
        for (n, entry) in writes {
            apply(db, &call_id, &entry)
                .await
                .with_context(|| format!("replaying {}:{n}", path.display()))?;
        }
        tokio::fs::remove_file(&path)
            .await
            .with_context(|| format!("removing {}", path.display()))?;
        tracing::info!(call_id = %call_id, "replayed a spooled call into the database");
        replayed += 1;
    }
    Ok(replayed)
}

/// The writes of a spool file with their line numbers, or the number of
/// the first unreadable line. A torn last line is left out.
fn parse_spool(text: &str) -> Result<Vec<(usize, Write)>, usize> {
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut writes = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(entry) => writes.push((i + 1, entry)),
            Err(_) if i + 1 == lines.len() && !complete => {
                tracing::warn!(line = i + 1, "a spooled write torn by a crash is skipped");
            }
            Err(_) => return Err(i + 1),
        }
    }
    Ok(writes)
}

/// How long a call can possibly last: Twilio ends a call after four hours
/// (its default time limit). A call open longer than that is left over from
/// a crash, whichever instance took it.
pub const CALL_TIME_LIMIT: chrono::TimeDelta = chrono::TimeDelta::hours(4);

/// Ends the calls a crash left open and makes their recordings readable;
/// run at start-up, after [`replay_spool`] and before the server listens.
///
/// Several instances may share one PostgreSQL database, so an instance
/// closes only calls it owns (written under its `instance-id`, see
/// `store::instance_id_in`: none of them can be live, as it is only now
/// starting), and calls of any instance started more than
/// [`CALL_TIME_LIMIT`] ago (no call lasts that long). A call is ended at
/// its start plus the call time last heard (its last turn or the end of its
/// recording), never later than now. Returns the ids of the calls closed.
pub async fn close_interrupted_calls(db: &Db, owner: &str) -> anyhow::Result<Vec<String>> {
    let now = chrono::Utc::now();
    let stale_before = (now - CALL_TIME_LIMIT).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let open = db
        .open_calls_left_by(owner, &stale_before)
        .await
        .context("finding calls left open")?;
    let mut closed = Vec::with_capacity(open.len());
    for call in open {
        let recorded_ms = match call.recording_path.clone() {
            Some(path) if Path::new(&path).exists() => {
                match tokio::task::spawn_blocking(move || {
                    crate::audio::recording::repair(Path::new(&path))
                })
                .await
                .context("the recording repair panicked")?
                {
                    Ok(repaired) => {
                        if repaired.rewritten {
                            tracing::info!(call_id = %call.id, frames = repaired.frames, "recording of an interrupted call repaired");
                        }
                        repaired.duration_ms
                    }
                    Err(e) => {
                        tracing::error!(call_id = %call.id, error = %e, "could not repair the recording of an interrupted call");
                        0
                    }
                }
            }
            _ => 0,
        };
        let heard_ms = (call.last_turn_ended_ms.max(0) as u64).max(recorded_ms);
        let ended_at = chrono::DateTime::parse_from_rfc3339(&call.started_at)
            .map(|start| {
                (start.with_timezone(&chrono::Utc)
                    + chrono::TimeDelta::milliseconds(heard_ms as i64))
                .min(now)
            })
            .unwrap_or(now)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        if db
            .close_interrupted_call(&call.id, &ended_at, ENDED_BY_RESTART)
            .await
            .context("closing a call left open")?
        {
            tracing::warn!(call_id = %call.id, "a call left open by a crash was closed");
            closed.push(call.id);
        }
    }
    Ok(closed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::calls::Speaker;

    fn turn(text: &str) -> NewTurn {
        NewTurn {
            speaker: Speaker::Caller,
            text: text.into(),
            started_at_ms: 0,
            ended_at_ms: 10,
            intent: None,
            confidence: None,
            interrupted: false,
        }
    }

    #[tokio::test]
    async fn writes_reach_the_database_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&crate::store::sqlite_url_in(dir.path()))
            .await
            .unwrap();
        let id = crate::store::new_id();
        let (journal, writer) = Journal::start(db.clone(), dir.path().join("spool"), id.clone());
        journal.record(Entry::Call(NewCall {
            id: id.clone(),
            provider: "twilio".into(),
            ..Default::default()
        }));
        journal.record(Entry::Turn(turn("first")));
        journal.record(Entry::Turn(turn("second")));
        journal.record(Entry::End(Outcome::Answered));
        drop(journal);
        writer.await.unwrap();
        let turns = db.list_turns(&id).await.unwrap();
        assert_eq!(
            turns.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
            ["first", "second"]
        );
        assert_eq!(db.get_call(&id).await.unwrap().unwrap().outcome, "answered");
    }

    #[tokio::test]
    async fn an_unreachable_database_spools_and_replay_restores_everything() {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("db");
        let db = Db::open(&crate::store::sqlite_url_in(&db_path))
            .await
            .unwrap();
        let spool_dir = dir.path().join("spool");
        let id = crate::store::new_id();
        // Close the pool: every write now fails as if the database were gone.
        db.pool.close().await;
        let (journal, writer) = Journal::start(db.clone(), spool_dir.clone(), id.clone());
        journal.record(Entry::Call(NewCall {
            id: id.clone(),
            provider: "twilio".into(),
            ..Default::default()
        }));
        journal.record(Entry::Turn(turn("please call me back")));
        journal.record(Entry::End(Outcome::Abandoned));
        drop(journal);
        writer.await.unwrap();
        let spooled = std::fs::read_to_string(spool_dir.join(format!("{id}.jsonl"))).unwrap();
        assert_eq!(spooled.lines().count(), 3);

        let reopened = Db::open(&crate::store::sqlite_url_in(&db_path))
            .await
            .unwrap();
        assert_eq!(replay_spool(&reopened, &spool_dir).await.unwrap(), 1);
        let turns = reopened.list_turns(&id).await.unwrap();
        assert_eq!(turns[0].text, "please call me back");
        assert_eq!(
            reopened.get_call(&id).await.unwrap().unwrap().outcome,
            "abandoned"
        );
        assert!(!spool_dir.join(format!("{id}.jsonl")).exists());
    }

    /// Every kind of write as the spool holds it, and a turn spooled before
    /// turns were numbered. (A patient id was spooled as a bare string
    /// before, which the tagged format could not encode: it was lost.)
    #[test]
    fn every_write_survives_the_spool_and_old_turns_still_read() {
        let writes = vec![
            Write::Call(NewCall {
                id: "c1".into(),
                provider: "twilio".into(),
                ..Default::default()
            }),
            Write::Turn {
                seq: Some(3),
                turn: turn("hello"),
            },
            Write::Outcome(Outcome::Booked),
            Write::Patient {
                patient_id: "p1".into(),
            },
            Write::End(Outcome::Abandoned),
        ];
        let text: String = writes
            .iter()
            .map(|w| serde_json::to_string(w).unwrap() + "\n")
            .collect();
        let read: Vec<Write> = parse_spool(&text)
            .unwrap()
            .into_iter()
            .map(|(_, w)| w)
            .collect();
        assert_eq!(read, writes);

        let old = r#"{"kind":"turn","speaker":"caller","text":"hi","started_at_ms":0,"ended_at_ms":1,"intent":null,"confidence":null,"interrupted":false}"#;
        let parsed = parse_spool(old).unwrap();
        let [(1, Write::Turn { seq: None, turn })] = parsed.as_slice() else {
            panic!("an old turn line reads as an unnumbered turn");
        };
        assert_eq!(turn.text, "hi");
    }

    #[test]
    fn turns_are_numbered_in_the_order_taken() {
        let mut turns = 0;
        let numbered: Vec<Option<i64>> = [
            Entry::Call(NewCall::default()),
            Entry::Turn(turn("a")),
            Entry::Outcome(Outcome::Answered),
            Entry::Turn(turn("b")),
        ]
        .into_iter()
        .map(|e| match Write::numbered(e, &mut turns) {
            Write::Turn { seq, .. } => seq,
            _ => None,
        })
        .collect();
        assert_eq!(numbered, [None, Some(1), None, Some(2)]);
    }

    /// A crash while appending leaves half a line: it is skipped and the
    /// rest replayed. Garbage mid-file sets the file aside; start-up goes on.
    #[tokio::test]
    async fn a_torn_last_line_is_skipped_and_an_unreadable_file_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&crate::store::sqlite_url_in(dir.path()))
            .await
            .unwrap();
        let spool_dir = dir.path().join("spool");
        std::fs::create_dir_all(&spool_dir).unwrap();
        let id = crate::store::new_id();
        let call = Write::Call(NewCall {
            id: id.clone(),
            provider: "twilio".into(),
            ..Default::default()
        });
        let first = Write::Turn {
            seq: Some(1),
            turn: turn("kept"),
        };
        let torn = serde_json::to_string(&Write::Turn {
            seq: Some(2),
            turn: turn("torn"),
        })
        .unwrap();
        let text = format!(
            "{}\n{}\n{}",
            serde_json::to_string(&call).unwrap(),
            serde_json::to_string(&first).unwrap(),
            &torn[..torn.len() / 2]
        );
        std::fs::write(spool_dir.join(format!("{id}.jsonl")), text).unwrap();
        let bad = crate::store::new_id();
        std::fs::write(
            spool_dir.join(format!("{bad}.jsonl")),
            "not json\n{\"kind\":\"end\"}\n",
        )
        .unwrap();

        assert_eq!(replay_spool(&db, &spool_dir).await.unwrap(), 1);
        let turns = db.list_turns(&id).await.unwrap();
        assert_eq!(
            turns.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
            ["kept"]
        );
        assert!(spool_dir.join(format!("{bad}.jsonl.unreadable")).exists());
        assert!(!spool_dir.join(format!("{bad}.jsonl")).exists());
        assert_eq!(replay_spool(&db, &spool_dir).await.unwrap(), 0);
    }
}
