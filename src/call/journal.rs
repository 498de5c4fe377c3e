//! The call's journal: every write about a call (the call row, each turn,
//! outcome, end) goes through one ordered queue per call, so the call loop
//! never waits on the database. A write that keeps failing (database locked
//! or unreachable) is appended to a spool file in the data directory instead,
//! and the spool is replayed into the database at the next start-up: what a
//! caller said is never lost to a database hiccup.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use crate::store::Db;
use crate::store::calls::{NewCall, NewTurn};
use crate::vocabulary::Outcome;

/// One write about a call.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    Call(NewCall),
    Turn(NewTurn),
    Outcome(Outcome),
    Patient(String),
    End(Outcome),
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
    while let Some(entry) = rx.recv().await {
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

async fn write_with_retry(db: &Db, call_id: &str, entry: &Entry) -> anyhow::Result<()> {
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

async fn apply(db: &Db, call_id: &str, entry: &Entry) -> sqlx::Result<()> {
    match entry {
        Entry::Call(call) => db.insert_call(call).await,
        Entry::Turn(turn) => db.append_turn(call_id, turn).await.map(|_| ()),
        Entry::Outcome(outcome) => db.set_call_outcome(call_id, *outcome).await,
        Entry::Patient(patient_id) => db.set_call_patient(call_id, patient_id).await,
        Entry::End(fallback) => db.end_call(call_id, *fallback).await,
    }
}

fn spool_path(dir: &Path, call_id: &str) -> PathBuf {
    dir.join(format!("{call_id}.jsonl"))
}

async fn spool(dir: &Path, call_id: &str, entry: &Entry) -> anyhow::Result<()> {
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
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let entry: Entry = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a journal entry", path.display(), n + 1))?;
            apply(db, &call_id, &entry)
                .await
                .with_context(|| format!("replaying {}:{}", path.display(), n + 1))?;
        }
        tokio::fs::remove_file(&path)
            .await
            .with_context(|| format!("removing {}", path.display()))?;
        tracing::info!(call_id = %call_id, "replayed a spooled call into the database");
        replayed += 1;
    }
    Ok(replayed)
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
}
