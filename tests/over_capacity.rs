//! A call over `max_calls` on the real `frontdesk serve`: while every slot
//! is taken the voice webhook answers busy TwiML (the caller hears a busy
//! tone and can try again) and a media stream is refused with 503, and the
//! calls already in progress go on to the end of their scripts, every line
//! answered. Once a call ends its slot takes a new call.

mod server_process;

use std::time::Duration;

use frontdesk::caller::{CallEnd, ScriptStep, TurnKind, place_call};
use server_process::{Server, caller_voice, models_present};

const MAX_CALLS: usize = 2;
const BUSY: &str = "<Reject reason=\"busy\"/>";

/// The webhook's answer to a new call.
async fn ring(server: &Server, sid: &str) -> String {
    let response = server
        .client
        .post(server.url("/telephony/twilio/voice"))
        .form(&[("CallSid", sid), ("From", "+15550001111")])
        .send()
        .await
        .expect("the webhook answers");
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// Calls in progress with a caller turn stored.
async fn calls_heard(server: &Server) -> usize {
    let (_, list) = server.get_json("/api/v1/calls?outcome=in_progress").await;
    let mut heard = 0;
    for call in list["calls"].as_array().cloned().unwrap_or_default() {
        let id = call["id"].as_str().unwrap_or_default();
        let (_, call) = server.get_json(&format!("/api/v1/calls/{id}")).await;
        if call["turns"]
            .as_array()
            .is_some_and(|turns| turns.iter().any(|t| t["speaker"] == "caller"))
        {
            heard += 1;
        }
    }
    heard
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_the_limit_is_answered_busy_and_the_calls_in_progress_go_on() {
    if !models_present() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let max = MAX_CALLS.to_string();
    let server = Server::start(data.path(), &[("FRONTDESK_MAX_CALLS", max.as_str())]).await;

    // Every slot taken by a caller who talks, waits on the line (less than
    // the agent's 8 s silence prompt), talks again. Real time, so the calls
    // are long enough to be probed in the middle.
    let mut callers = Vec::new();
    for (i, voice) in ["mid", "low-slow"].into_iter().enumerate() {
        let mut opts = server.caller(1.0);
        opts.from = format!("+1555000200{i}");
        let script = vec![
            ScriptStep::say("Hi, I'd like to make an appointment please."),
            ScriptStep::wait(7_000),
            ScriptStep::say("Actually, can someone call me back this afternoon?"),
        ];
        callers.push(tokio::spawn(async move {
            place_call(&opts, script, Some(caller_voice(voice))).await
        }));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    while calls_heard(&server).await < MAX_CALLS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the calls never got going:\n{}",
            server.logs()
        );
        assert!(
            callers.iter().all(|c| !c.is_finished()),
            "a call ended before the probe"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // One more: busy, and its stream refused.
    let answer = ring(&server, "CA00000000000000000000000000000777").await;
    assert!(answer.contains(BUSY), "not busy over the limit: {answer}");
    let port = server.port;
    match tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/telephony/twilio/stream"))
        .await
    {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("a media stream opened over the limit: {other:?}"),
    }
    // The caller's side of it: no stream to connect to, said plainly.
    let mut opts = server.caller(1.0);
    opts.from = "+15550009999".into();
    let refused = place_call(&opts, vec![ScriptStep::wait(1000)], None)
        .await
        .expect_err("a call over the limit was connected");
    assert!(format!("{refused:#}").contains("Reject"), "{refused:#}");
    assert!(
        callers.iter().all(|c| !c.is_finished()),
        "a call in progress was cut when another was refused"
    );

    // The calls in progress run to their end, every line answered.
    for caller in callers {
        let report = tokio::time::timeout(Duration::from_secs(600), caller)
            .await
            .expect("a call in progress stalled")
            .unwrap()
            .expect("a call in progress failed");
        assert_eq!(report.end, CallEnd::CallerHungUp, "{report:?}");
        assert!(report.protocol_errors.is_empty(), "{report:?}");
        let spoken: Vec<_> = report
            .turns
            .iter()
            .filter(|t| t.kind == TurnKind::Speech)
            .collect();
        assert_eq!(spoken.len(), 2, "{report:?}");
        for turn in spoken {
            assert!(
                turn.latency_ms.is_some() && !turn.reply_timed_out,
                "a line went unanswered: {turn:?}"
            );
        }
    }

    // Slots free again: a new call is taken (its stream is not opened).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let answer = ring(&server, "CA00000000000000000000000000000778").await;
        if answer.contains("<Stream") {
            break;
        }
        assert!(answer.contains(BUSY), "{answer}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slots were never given back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, list) = server.get_json("/api/v1/calls").await;
    let calls = list["calls"].as_array().unwrap();
    assert_eq!(calls.len(), MAX_CALLS, "only the admitted calls are stored");
    assert!(
        calls.iter().all(|c| c["outcome"] != "in_progress"),
        "{list}"
    );
    let metrics = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rejected: f64 = metrics
        .lines()
        .find(|l| l.starts_with("frontdesk_calls_rejected_busy"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .expect("the busy counter");
    assert!(rejected >= 3.0, "rejections counted: {rejected}");
}
