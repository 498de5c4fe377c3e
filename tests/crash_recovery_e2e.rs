//! A server killed mid-call (SIGKILL: nothing finished, nothing flushed)
//! and started again on the same data directory: the call is closed as
//! interrupted by the restart, what was said is kept, the recording plays,
//! and the task the agent promised before the kill is there.

mod server_process;

use std::time::Duration;

use frontdesk::caller::{ScriptStep, place_call};
use server_process::{Server, caller_voice, models_present, turns_text};

/// After hours, so a billing question becomes a callback task (fixture
/// `22_billing_after_hours`).
const AFTER_HOURS: &str = "2026-03-16T22:30:00Z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_cut_by_a_crash_is_closed_at_restart_with_its_turns_recording_and_task() {
    if !models_present() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let env = [("FRONTDESK_NOW", AFTER_HOURS)];
    let server = Server::start(data.path(), &env).await;

    let mut opts = server.caller(4.0);
    opts.from = "+15551234567".into();
    let script = vec![
        ScriptStep::say("I have a question about a charge on my bill."),
        ScriptStep::say("My name is Maria Gonzalez."),
        ScriptStep::say("Yes."),
        // Still on the line when the server dies.
        ScriptStep::wait(600_000),
    ];
    let caller =
        tokio::spawn(async move { place_call(&opts, script, Some(caller_voice("mid"))).await });

    // Kill the server once the caller has heard the promise of a call back
    // (the agent's turn is stored when its audio has played).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    let call_id = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent never promised a call back:\n{}",
            server.logs()
        );
        assert!(
            !caller.is_finished(),
            "the call ended before the promise: {:?}",
            caller.await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, list) = server.get_json("/api/v1/calls").await;
        let Some(id) = list["calls"][0]["id"].as_str().map(String::from) else {
            continue;
        };
        let (_, call) = server.get_json(&format!("/api/v1/calls/{id}")).await;
        if turns_text(&call, "agent").contains("i've sent your request") {
            break id;
        }
    };
    server.kill();
    // The caller sees the line drop.
    let report = tokio::time::timeout(Duration::from_secs(30), caller)
        .await
        .expect("the caller notices the dead server");
    eprintln!(
        "caller after the kill: {:?}",
        report.map(|r| r.map(|r| r.end))
    );

    let recording = data
        .path()
        .join("recordings")
        .join(format!("{call_id}.wav"));
    let on_disk = std::fs::metadata(&recording)
        .expect("the recording exists")
        .len();
    let header_frames = hound::WavReader::open(&recording).map(|r| r.duration());
    eprintln!("recording after the kill: {on_disk} bytes, header says {header_frames:?} frames");

    let server = Server::start(data.path(), &env).await;
    let (status, call) = server.get_json(&format!("/api/v1/calls/{call_id}")).await;
    assert_eq!(status, 200, "{call}");
    // The agent had escalated before the kill: that outcome stays, and the
    // call says why it ended.
    assert_eq!(call["outcome"], "escalated", "{call}");
    assert_eq!(call["ended_reason"], "interrupted_by_restart", "{call}");
    assert!(call["ended_at"].is_string(), "{call}");
    assert!(call["duration_s"].as_f64().unwrap() > 0.0, "{call}");
    let (_, open) = server.get_json("/api/v1/calls?outcome=in_progress").await;
    assert_eq!(open["calls"].as_array().unwrap().len(), 0, "{open}");

    // What was said before the kill is kept.
    let heard = turns_text(&call, "caller");
    assert!(heard.contains("bill"), "{heard:?}");
    let said = turns_text(&call, "agent");
    assert!(said.contains("billing office"), "{said:?}");
    assert!(said.contains("i've sent your request"), "{said:?}");

    // The task promised before the words were played.
    let (_, tasks) = server
        .get_json(&format!("/api/v1/tasks?call_id={call_id}"))
        .await;
    let tasks = tasks["tasks"].as_array().unwrap().clone();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["queue"], "billing");
    assert_eq!(tasks[0]["callback_number"], "5551234567");

    // The recording plays, every frame the server wrote counted.
    let response = server
        .client
        .get(server.url(&format!("/api/v1/calls/{call_id}/recording")))
        .bearer_auth(server_process::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap().to_vec();
    let frames_in_file = (bytes.len() as u64 - 44) / 4;
    let mut wav = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("a readable WAV");
    assert_eq!((wav.spec().channels, wav.spec().sample_rate), (2, 8_000));
    assert_eq!(u64::from(wav.duration()), frames_in_file);
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    let loud = |channel: usize| {
        samples
            .iter()
            .skip(channel)
            .step_by(2)
            .filter(|s| s.unsigned_abs() > 2000)
            .count()
    };
    let peak = |channel: usize| {
        samples
            .iter()
            .skip(channel)
            .step_by(2)
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0)
    };
    eprintln!(
        "recording after the restart: {frames_in_file} frames; loud samples {} / {}, peaks {} / {}",
        loud(0),
        loud(1),
        peak(0),
        peak(1)
    );
    assert!(loud(0) > 1000, "the caller's words are in the recording");
    assert!(loud(1) > 4000, "the agent's words are in the recording");
    assert!(
        server.logs().contains("left open by a crash"),
        "the restart says what it closed"
    );
}
