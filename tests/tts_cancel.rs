//! Barge-in: cancelling or dropping a reply stops synthesis after at most the
//! current sentence (each test in its own binary-wide lock, so the model-run
//! counter is not shared).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use frontdesk::models::ModelPaths;
use frontdesk::tts::Tts;

fn tts() -> Option<Arc<Tts>> {
    static TTS: OnceLock<Option<Arc<Tts>>> = OnceLock::new();
    TTS.get_or_init(|| {
        let paths = ModelPaths::locate();
        if !frontdesk::prerequisites::model_present(&paths.voice()) {
            return None;
        }
        Some(Tts::load(&paths).expect("loading the voice"))
    })
    .clone()
}

/// The tests count model runs, so they must not overlap (an async lock: it is
/// held across awaits).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Six sentences, with `who` in each: every test speaks its own, since
/// sentences spoken once are kept and would need no model run again.
fn long_reply(who: &str) -> Vec<String> {
    [
        "The first available appointment with {} is on Monday morning.",
        "There is also an opening with {} on Tuesday afternoon.",
        "Doctor {} has time on Wednesday at noon.",
        "On Thursday, {} leaves early.",
        "Friday is fully booked for {}.",
        "Saturday mornings {} sees urgent care only.",
    ]
    .iter()
    .map(|s| s.replace("{}", who))
    .collect()
}

/// Waits until the synthesis thread has surely noticed, then returns the
/// number of model runs since `start`.
async fn runs_after_settling(tts: &Tts, start: u64) -> u64 {
    let mut last = tts.model_runs();
    loop {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let now = tts.model_runs();
        if now == last {
            return now - start;
        }
        last = now;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_handle_stops_further_sentences() {
    let Some(tts) = tts() else { return };
    let _serial = SERIAL.lock().await;
    let reply = long_reply("Patel");
    let start = tts.model_runs();
    let mut stream = tts.speak(reply.clone());
    let handle = stream.cancel_handle();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.index, 0);
    let runs_at_cancel = tts.model_runs() - start;
    handle.cancel();
    assert!(handle.is_cancelled());
    assert!(
        stream.next().await.is_none(),
        "nothing is yielded after cancel"
    );
    let runs = runs_after_settling(&tts, start).await;
    // At cancel time the thread may be inside one sentence and have up to
    // the queue's worth ready; it must not start another one.
    assert!(
        runs <= runs_at_cancel + 1,
        "{runs} runs, {runs_at_cancel} at cancel"
    );
    assert!(runs < reply.len() as u64, "{runs} runs: synthesis went on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_stops_further_sentences() {
    let Some(tts) = tts() else { return };
    let _serial = SERIAL.lock().await;
    let reply = long_reply("Nguyen");
    let start = tts.model_runs();
    let mut stream = tts.speak(reply.clone());
    stream.next().await.unwrap().unwrap();
    let runs_at_drop = tts.model_runs() - start;
    drop(stream);
    let runs = runs_after_settling(&tts, start).await;
    assert!(
        runs <= runs_at_drop + 1,
        "{runs} runs, {runs_at_drop} at drop"
    );
    assert!(runs < reply.len() as u64, "{runs} runs: synthesis went on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uncancelled_reply_speaks_every_sentence() {
    let Some(tts) = tts() else { return };
    let _serial = SERIAL.lock().await;
    let reply = long_reply("Chen");
    let start = tts.model_runs();
    let mut stream = tts.speak(reply.clone());
    let mut indices = Vec::new();
    while let Some(chunk) = stream.next().await {
        indices.push(chunk.unwrap().index);
    }
    assert_eq!(indices, (0..reply.len()).collect::<Vec<_>>());
    assert_eq!(tts.model_runs() - start, reply.len() as u64);
}
