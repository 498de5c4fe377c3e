//! Barge-in: cancelling or dropping a reply stops synthesis after at most the
//! current sentence (each test in its own binary-wide lock, so the model-run
//! counter is not shared).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use frontdesk::models::ModelPaths;
use frontdesk::tts::Tts;

fn tts() -> Option<Arc<Tts>> {
    static TTS: OnceLock<Option<Arc<Tts>>> = OnceLock::new();
    TTS.get_or_init(|| {
        let paths = ModelPaths::locate();
        if !paths.voice().is_file() {
            eprintln!(
                "voice model not found at {}, skipping (run `frontdesk models`)",
                paths.voice().display()
            );
            return None;
        }
        Some(Tts::load(&paths).expect("loading the voice"))
    })
    .clone()
}

/// The tests count model runs, so they must not overlap.
static SERIAL: Mutex<()> = Mutex::new(());

fn long_reply() -> Vec<String> {
    vec![
        "The first available appointment is on Monday morning.".to_string(),
        "There is also an opening on Tuesday afternoon.".to_string(),
        "Doctor Patel has time on Wednesday at noon.".to_string(),
        "On Thursday the clinic closes early.".to_string(),
        "Friday is fully booked for routine visits.".to_string(),
        "Saturday mornings are for urgent care only.".to_string(),
    ]
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
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let start = tts.model_runs();
    let mut stream = tts.speak(long_reply());
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
    assert!(
        runs < long_reply().len() as u64,
        "{runs} runs: synthesis went on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_stops_further_sentences() {
    let Some(tts) = tts() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let start = tts.model_runs();
    let mut stream = tts.speak(long_reply());
    stream.next().await.unwrap().unwrap();
    let runs_at_drop = tts.model_runs() - start;
    drop(stream);
    let runs = runs_after_settling(&tts, start).await;
    assert!(
        runs <= runs_at_drop + 1,
        "{runs} runs, {runs_at_drop} at drop"
    );
    assert!(
        runs < long_reply().len() as u64,
        "{runs} runs: synthesis went on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uncancelled_reply_speaks_every_sentence() {
    let Some(tts) = tts() else { return };
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let start = tts.model_runs();
    let mut stream = tts.speak(long_reply());
    let mut indices = Vec::new();
    while let Some(chunk) = stream.next().await {
        indices.push(chunk.unwrap().index);
    }
    assert_eq!(indices, (0..long_reply().len()).collect::<Vec<_>>());
    assert_eq!(tts.model_runs() - start, long_reply().len() as u64);
}
