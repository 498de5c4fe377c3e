//! Bad input gets a clear error, and nothing is lost: malformed frames,
//! dropped sockets, bad signatures, missing models, a locked database.

mod support;

use frontdesk::audio::mulaw;
use support::{caller_text, caller_voice, raw, spawn_app, spawn_app_with};

fn speech_mulaw(text: &str) -> Vec<u8> {
    let pcm = caller_voice("mid").synthesize(text).unwrap();
    let mut padded = pcm;
    // A second of silence after speech so the utterance ends.
    padded.extend(std::iter::repeat_n(0i16, 8000));
    mulaw::encode_frame(&padded)
}

#[tokio::test]
async fn malformed_messages_are_skipped_and_the_call_goes_on() {
    let app = spawn_app().await;
    let mut socket = raw::connect(app.port).await;
    let sid = "CA00000000000000000000000000000101";
    raw::send(&mut socket, "this is not json").await;
    raw::send(&mut socket, r#"{"event":"surprise"}"#).await;
    raw::send(&mut socket, raw::media(1, &[0xFF; 160])).await; // media before start
    raw::send(
        &mut socket,
        r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
    )
    .await;
    raw::send(&mut socket, raw::start(sid)).await;
    raw::send(&mut socket, r#"{"event":"media","streamSid":"MZ00000000000000000000000000000001","media":{"track":"inbound","chunk":"2","timestamp":"20","payload":"%%% not base64 %%%"}}"#).await;
    raw::send(&mut socket, raw::media(3, &vec![0xFF; 40_000])).await; // absurd size
    raw::send(&mut socket, raw::media(4, &[0xFF; 161])).await; // odd length is fine for µ-law
    raw::send(&mut socket, "[1,2,3]").await;
    let greeting = raw::wait_for(&mut socket, 10, |m| m["event"] == "media").await;
    assert!(
        greeting.is_some(),
        "the call did not start after bad messages"
    );
    let audio = speech_mulaw("I would like to ask about my bill please.");
    raw::send_audio(&mut socket, &audio, 5, 8.0).await;
    let reply = raw::wait_for(&mut socket, 30, |m| m["event"] == "mark").await;
    assert!(reply.is_some());
    raw::send(&mut socket, raw::stop(sid)).await;
    let call = app.ended_call(30).await;
    assert!(caller_text(&call).contains("bill"), "{call}");

    // The server keeps serving.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_socket_dropped_mid_utterance_keeps_what_was_said() {
    let app = spawn_app().await;
    let mut socket = raw::connect(app.port).await;
    raw::send(
        &mut socket,
        raw::start("CA00000000000000000000000000000102"),
    )
    .await;
    raw::wait_for(&mut socket, 10, |m| m["event"] == "media")
        .await
        .expect("greeting");
    // Speak, and drop the connection before the sentence ends.
    let pcm = caller_voice("low-slow")
        .synthesize("My name is Robert and I need a refill of my blood pressure medicine.")
        .unwrap();
    let cut = mulaw::encode_frame(&pcm[..pcm.len() * 3 / 4]);
    raw::send_audio(&mut socket, &cut, 1, 8.0).await;
    drop(socket);
    let call = app.ended_call(30).await;
    let heard = caller_text(&call);
    assert!(
        heard.contains("robert") || heard.contains("refill"),
        "the last words were lost: {heard:?}"
    );
    assert_eq!(call["outcome"], "abandoned");
}

#[tokio::test]
async fn unsigned_requests_are_refused_when_a_token_is_set() {
    let app = spawn_app_with(|s| s.twilio_auth_token = Some("test-auth-token".into())).await;
    let form = [
        ("CallSid", "CA00000000000000000000000000000103"),
        ("From", "+15555550123"),
        ("To", "+15555550100"),
    ];
    let unsigned = app
        .client
        .post(app.url("/telephony/twilio/voice"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    let forged = app
        .client
        .post(app.url("/telephony/twilio/voice"))
        .header("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let params: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let url = app.url("/telephony/twilio/voice");
    let signature = frontdesk::caller::twilio_signature("test-auth-token", &url, &params);
    let signed = app
        .client
        .post(&url)
        .header("X-Twilio-Signature", signature)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 200);
    assert!(signed.text().await.unwrap().contains("<Connect><Stream"));

    let upgrade = tokio_tungstenite::connect_async(format!(
        "ws://127.0.0.1:{}/telephony/twilio/stream",
        app.port
    ))
    .await;
    let status = match upgrade {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        other => panic!(
            "an unsigned upgrade must fail with 403, got {:?}",
            other.map(|_| ())
        ),
    };
    assert_eq!(status, 403);

    // The caller signs like Twilio: a whole call works.
    let mut opts = app.caller();
    opts.auth_token = Some("test-auth-token".into());
    let report =
        frontdesk::caller::place_call(&opts, vec![frontdesk::caller::ScriptStep::wait(500)], None)
            .await
            .unwrap();
    assert!(report.greeting_latency_ms.is_some());
}

#[test]
fn a_missing_model_stops_start_up_with_the_fix_named() {
    let empty = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--models-dir")
        .arg(empty.path())
        .arg("--data-dir")
        .arg(data.path())
        .env_remove("FRONTDESK_MODELS_DIR")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("frontdesk models"), "{stderr}");
}

#[tokio::test]
async fn a_locked_database_spools_the_call_and_a_restart_restores_it() {
    let app = spawn_app().await;
    let url = frontdesk::store::sqlite_url_in(app.data_dir.path());
    // Another process holds an exclusive lock for the whole call.
    let locker = frontdesk::store::Db::connect(&url).await.unwrap();
    let mut lock = locker.pool.acquire().await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut *lock)
        .await
        .unwrap();

    let report = app
        .call(
            vec![frontdesk::caller::ScriptStep::say(
                "Please have someone call me about my test results.",
            )],
            "mid",
        )
        .await;
    assert!(
        report.turns[0].latency_ms.is_some(),
        "the call must go on while the database is locked"
    );
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let spool = app.data_dir.path().join("spool");
    let mut spooled = false;
    for _ in 0..600 {
        if std::fs::read_dir(&spool)
            .map(|d| d.count() > 0)
            .unwrap_or(false)
        {
            spooled = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(spooled, "nothing was spooled while the database was locked");
    // Once spooling, the writer appends the rest of the call, ending with its end.
    let mut ended = false;
    for _ in 0..300 {
        let text: String = std::fs::read_dir(&spool)
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
            .collect();
        if text.contains(r#""kind":"end""#) {
            ended = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ended, "the end of the call was not spooled");
    sqlx::query("ROLLBACK").execute(&mut *lock).await.unwrap();
    drop(lock);

    // A restart replays the spool: the transcript is all there.
    let restarted = support::spawn_app_with(|s| {
        s.data_dir = app.data_dir.path().to_path_buf();
        s.database_url = url.clone();
    })
    .await;
    let call = restarted.only_call().await;
    // What Whisper makes of "test" varies ("task results" under load); the
    // caller's words being there at all is what the spool promises.
    assert!(caller_text(&call).contains("results"), "{call}");
    assert!(
        std::fs::read_dir(&spool).unwrap().count() == 0,
        "the spool was not emptied"
    );
}
