//! What a crash leaves behind, on SQLite always and on PostgreSQL when the
//! server is reachable: a spool replayed, cut short and replayed again
//! stores every turn once, in order; calls left open are closed at start-up
//! (only this instance's, or anyone's too old to be live), their recordings
//! made readable.

mod scheduling_support;

use std::path::Path;
use std::time::Duration;

use frontdesk::audio::recording::CallRecorder;
use frontdesk::call::journal::{Entry, Journal, close_interrupted_calls, replay_spool};
use frontdesk::store::Db;
use frontdesk::store::calls::{NewCall, NewTurn, Speaker};
use frontdesk::vocabulary::Outcome;

/// A fresh database that can be opened again by URL; dropped at the end.
struct FreshDb {
    url: String,
    _dir: tempfile::TempDir,
    pg: Option<(Db, String)>,
}

impl FreshDb {
    async fn sqlite() -> FreshDb {
        let dir = tempfile::tempdir().unwrap();
        FreshDb {
            url: frontdesk::store::sqlite_url_in(dir.path()),
            _dir: dir,
            pg: None,
        }
    }

    async fn postgres() -> Option<FreshDb> {
        let (url, admin, name) = scheduling_support::postgres_database().await?;
        Some(FreshDb {
            url,
            _dir: tempfile::tempdir().unwrap(),
            pg: Some((admin, name)),
        })
    }

    async fn open(&self) -> Db {
        Db::open(&self.url).await.expect("open the test database")
    }

    async fn drop_now(self) {
        if let Some((admin, name)) = self.pg {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin.pool)
            .await;
        }
    }
}

fn turn(text: &str, at_ms: i64) -> NewTurn {
    NewTurn {
        speaker: if at_ms % 2 == 0 {
            Speaker::Caller
        } else {
            Speaker::Agent
        },
        text: text.into(),
        started_at_ms: at_ms * 1000,
        ended_at_ms: at_ms * 1000 + 500,
        intent: None,
        confidence: None,
        interrupted: false,
    }
}

async fn texts_and_seqs(db: &Db, id: &str) -> (Vec<String>, Vec<i64>) {
    let turns = db.list_turns(id).await.unwrap();
    (
        turns.iter().map(|t| t.text.clone()).collect(),
        turns.iter().map(|t| t.seq).collect(),
    )
}

/// Two turns reach the database, then it goes away: the rest of the call
/// is spooled. The spool is replayed in part (a replay killed halfway, its
/// last line torn), then in full, then in full again.
async fn a_spool_replayed_twice_stores_each_turn_once(fresh: &FreshDb) {
    let db = fresh.open().await;
    let spool_dir = fresh._dir.path().join("spool");
    let id = frontdesk::store::new_id();
    let (journal, writer) = Journal::start(db.clone(), spool_dir.clone(), id.clone());
    journal.record(Entry::Call(NewCall {
        id: id.clone(),
        provider: "twilio".into(),
        ..Default::default()
    }));
    journal.record(Entry::Turn(turn("one", 0)));
    journal.record(Entry::Turn(turn("two", 1)));
    let reached = async {
        while db.list_turns(&id).await.unwrap().len() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), reached)
        .await
        .expect("the first turns are written directly");
    // The database goes away: every later write is spooled.
    db.pool.close().await;
    for (i, text) in ["three", "four", "five", "six"].into_iter().enumerate() {
        journal.record(Entry::Turn(turn(text, i as i64 + 2)));
    }
    journal.record(Entry::Outcome(Outcome::Answered));
    journal.record(Entry::End(Outcome::Abandoned));
    drop(journal);
    writer.await.unwrap();
    let spool_file = spool_dir.join(format!("{id}.jsonl"));
    let spooled = std::fs::read_to_string(&spool_file).unwrap();
    assert_eq!(spooled.lines().count(), 6, "{spooled}");

    let db = fresh.open().await;
    let all = ["one", "two", "three", "four", "five", "six"].map(String::from);
    // A replay cut short: two lines made it, the third was half read.
    let lines: Vec<&str> = spooled.lines().collect();
    let cut = format!(
        "{}\n{}\n{}",
        lines[0],
        lines[1],
        &lines[2][..lines[2].len() / 2]
    );
    std::fs::write(&spool_file, cut).unwrap();
    assert_eq!(replay_spool(&db, &spool_dir).await.unwrap(), 1);
    assert_eq!(texts_and_seqs(&db, &id).await.0, all[..4]);

    // The next start-up replays the whole file, and once more after that.
    for round in 0..2 {
        std::fs::write(&spool_file, &spooled).unwrap();
        assert_eq!(
            replay_spool(&db, &spool_dir).await.unwrap(),
            1,
            "round {round}"
        );
        let (texts, seqs) = texts_and_seqs(&db, &id).await;
        assert_eq!(texts, all, "round {round}: every turn once, in order");
        assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    }
    let call = db.get_call(&id).await.unwrap().unwrap();
    assert_eq!(call.outcome, "answered");
    assert!(call.ended_at.is_some());
    assert!(!spool_file.exists());
    db.pool.close().await;
}

/// The recording a killed server leaves: the writer never finished.
fn crashed_recording(path: &Path, frames: usize) {
    let mut recorder = CallRecorder::with_flush_interval(path, 1_000).unwrap();
    let audio: Vec<i16> = (0..frames).map(|i| ((i % 200) as i16 - 100) * 50).collect();
    for frame in audio.chunks(160) {
        recorder.push_caller(frame).unwrap();
    }
    std::mem::forget(recorder);
}

async fn open_calls_are_closed_only_when_this_instance_may(fresh: &FreshDb) {
    let base = fresh.open().await;
    let mine = base.clone().owned_by("instance-a");
    let theirs = base.clone().owned_by("instance-b");
    let new_call = |id: &str, recording: Option<String>| NewCall {
        id: id.into(),
        provider: "twilio".into(),
        recording_path: recording,
        ..Default::default()
    };
    let recording = fresh._dir.path().join("recordings/crashed.wav");
    std::fs::create_dir_all(recording.parent().unwrap()).unwrap();
    // 2.5 s: flushed at 1 s and 2 s, the rest partly in the lost buffer.
    crashed_recording(&recording, 20_000);

    let [crashed, ended, booked, live_elsewhere, stale_elsewhere] =
        ["crashed", "ended", "booked", "live", "stale"]
            .map(|s| format!("{s}-{}", uuid::Uuid::new_v4()));
    mine.insert_call(&new_call(&crashed, Some(recording.display().to_string())))
        .await
        .unwrap();
    mine.insert_turn(&crashed, 1, &turn("hello", 0))
        .await
        .unwrap();
    mine.insert_turn(&crashed, 2, &turn("hi there", 1))
        .await
        .unwrap();
    mine.insert_call(&new_call(&ended, None)).await.unwrap();
    mine.end_call(&ended, Outcome::Answered).await.unwrap();
    mine.insert_call(&new_call(&booked, None)).await.unwrap();
    mine.set_call_outcome(&booked, Outcome::Booked)
        .await
        .unwrap();
    theirs
        .insert_call(&new_call(&live_elsewhere, None))
        .await
        .unwrap();
    theirs
        .insert_call(&new_call(&stale_elsewhere, None))
        .await
        .unwrap();
    let ago = |minutes: i64| {
        (chrono::Utc::now() - chrono::TimeDelta::minutes(minutes))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    for (id, started_at) in [(&stale_elsewhere, ago(5 * 60)), (&crashed, ago(1))] {
        sqlx::query("UPDATE calls SET started_at = $1 WHERE id = $2")
            .bind(started_at)
            .bind(id)
            .execute(&base.pool)
            .await
            .unwrap();
    }
    let ended_before = base.get_call(&ended).await.unwrap().unwrap();

    let mut closed = close_interrupted_calls(&mine, "instance-a").await.unwrap();
    closed.sort();
    let mut expected = vec![crashed.clone(), booked.clone(), stale_elsewhere.clone()];
    expected.sort();
    assert_eq!(closed, expected);

    let call = base.get_call(&crashed).await.unwrap().unwrap();
    assert_eq!(call.outcome, "abandoned");
    assert_eq!(call.ended_reason.as_deref(), Some("interrupted_by_restart"));
    // Ended when it was last heard: the end of what the recording kept
    // (the 2 s flushed and what the buffer wrote), not at the restart.
    let duration = call.duration_s.unwrap();
    assert!((2.0..=3.0).contains(&duration), "{duration}");
    let mut wav = hound::WavReader::open(&recording).expect("the recording opens");
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    let file_frames = (std::fs::metadata(&recording).unwrap().len() - 44) / 4;
    assert_eq!(
        samples.len() as u64,
        file_frames * 2,
        "the header counts every frame"
    );
    assert!(file_frames > 16_000, "{file_frames}");

    let booked = base.get_call(&booked).await.unwrap().unwrap();
    assert_eq!(booked.outcome, "booked", "an outcome reached is kept");
    assert_eq!(
        booked.ended_reason.as_deref(),
        Some("interrupted_by_restart")
    );
    let stale = base.get_call(&stale_elsewhere).await.unwrap().unwrap();
    assert_eq!(stale.outcome, "abandoned");
    let live = base.get_call(&live_elsewhere).await.unwrap().unwrap();
    assert_eq!(live.outcome, "in_progress", "another instance's live call");
    assert!(live.ended_at.is_none());
    assert_eq!(base.get_call(&ended).await.unwrap().unwrap(), ended_before);

    // A second start-up finds nothing left to close.
    assert!(
        close_interrupted_calls(&mine, "instance-a")
            .await
            .unwrap()
            .is_empty()
    );
    base.pool.close().await;
}

#[tokio::test]
async fn sqlite_spool_replayed_twice() {
    let fresh = FreshDb::sqlite().await;
    a_spool_replayed_twice_stores_each_turn_once(&fresh).await;
}

#[tokio::test]
async fn postgres_spool_replayed_twice() {
    let Some(fresh) = FreshDb::postgres().await else {
        return;
    };
    a_spool_replayed_twice_stores_each_turn_once(&fresh).await;
    fresh.drop_now().await;
}

#[tokio::test]
async fn sqlite_calls_left_open_are_closed() {
    let fresh = FreshDb::sqlite().await;
    open_calls_are_closed_only_when_this_instance_may(&fresh).await;
}

#[tokio::test]
async fn postgres_calls_left_open_are_closed() {
    let Some(fresh) = FreshDb::postgres().await else {
        return;
    };
    open_calls_are_closed_only_when_this_instance_may(&fresh).await;
    fresh.drop_now().await;
}

/// Whether turn `i` carries a confidence (caller) or not (agent): mixed
/// irregularly, so that over the pool's connections (handed out in turn)
/// each one sees a turn without a confidence before one with.
fn has_confidence(i: u64) -> bool {
    (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 63) == 1
}

/// Agent turns (no confidence) and caller turns (a confidence) mixed, as
/// in a call: each is stored with its confidence. On PostgreSQL a
/// connection whose statement was first prepared for an agent turn once
/// refused every caller turn after it.
async fn turns_with_and_without_confidence_alternate(fresh: &FreshDb) {
    let db = fresh.open().await;
    let id = frontdesk::store::new_id();
    db.insert_call(&NewCall {
        id: id.clone(),
        provider: "test".into(),
        provider_call_id: None,
        stream_id: None,
        from: None,
        to: None,
        recording_path: None,
    })
    .await
    .unwrap();
    const TURNS: u64 = 96;
    for i in 0..TURNS {
        let mut t = turn(&format!("line {i}"), i as i64);
        t.confidence = has_confidence(i).then_some(0.75);
        db.append_turn(&id, &t)
            .await
            .unwrap_or_else(|e| panic!("turn {i} not written: {e}"));
    }
    let turns = db.list_turns(&id).await.unwrap();
    assert_eq!(turns.len() as u64, TURNS);
    for (i, t) in turns.iter().enumerate() {
        let expected = has_confidence(i as u64).then_some(0.75);
        assert_eq!(t.confidence, expected, "turn {i}");
    }
    db.pool.close().await;
}

#[tokio::test]
async fn sqlite_turns_with_and_without_confidence() {
    let fresh = FreshDb::sqlite().await;
    turns_with_and_without_confidence_alternate(&fresh).await;
}

#[tokio::test]
async fn postgres_turns_with_and_without_confidence() {
    let Some(fresh) = FreshDb::postgres().await else {
        return;
    };
    turns_with_and_without_confidence_alternate(&fresh).await;
    fresh.drop_now().await;
}
