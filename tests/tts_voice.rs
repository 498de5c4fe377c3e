//! The agent's voice end to end with the real Piper model: audible,
//! plausible length, streamed sentence by sentence, cached prompts skip the
//! model, cancellation stops synthesis.

use std::sync::{Arc, OnceLock};

use frontdesk::models::ModelPaths;
use frontdesk::tts::{OUTPUT_SAMPLE_RATE_HZ, Tts};

/// One loaded voice per test binary; `None` (test skipped) when the models
/// have not been fetched.
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

fn rms(samples: &[i16]) -> f64 {
    (samples.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / samples.len().max(1) as f64).sqrt()
}

fn seconds(samples: &[i16]) -> f64 {
    samples.len() as f64 / OUTPUT_SAMPLE_RATE_HZ as f64
}

#[test]
fn synthesised_speech_is_audible_and_plausibly_long() {
    let Some(tts) = tts() else { return };
    let short = tts.synthesize_8k("Hello.", None).unwrap();
    let long = tts
        .synthesize_8k("Your appointment with Doctor Patel is confirmed for Tuesday at nine thirty in the morning.", None)
        .unwrap();
    // 15 words at a receptionist's 2–4 words per second.
    assert!(
        (3.0..8.0).contains(&seconds(&long)),
        "long sentence lasts {:.2} s",
        seconds(&long)
    );
    assert!(
        (0.2..1.5).contains(&seconds(&short)),
        "\"Hello.\" lasts {:.2} s",
        seconds(&short)
    );
    // Speech, not silence or a click: loud enough on average, and loud for
    // most of its 50 ms windows.
    assert!(rms(&long) > 1000.0, "rms {:.0}", rms(&long));
    let windows: Vec<f64> = long.chunks(400).map(rms).collect();
    let voiced = windows.iter().filter(|&&r| r > 500.0).count();
    assert!(
        voiced * 2 > windows.len(),
        "{voiced} of {} windows voiced",
        windows.len()
    );
    // A slower pace gives longer audio.
    let slow = tts
        .synthesize_8k("Hello, how can I help you today?", Some(1.5))
        .unwrap();
    let normal = tts
        .synthesize_8k("Hello, how can I help you today?", None)
        .unwrap();
    assert!(
        seconds(&slow) > seconds(&normal) * 1.25,
        "{:.2} vs {:.2}",
        seconds(&slow),
        seconds(&normal)
    );
}

#[test]
fn normalised_text_is_spoken_not_spelled() {
    let Some(tts) = tts() else { return };
    // espeak alone reads "555-123-4567" as "five hundred fifty five dash …".
    let phonemes = tts
        .voice()
        .phonemize(&frontdesk::tts::text::normalize_for_speech(
            "Call 555-123-4567.",
        ))
        .unwrap();
    let joined = phonemes.join(" ");
    assert!(!joined.contains("dˈæʃ"), "{joined}");
    assert!(!joined.contains("hˈʌndɹɪd"), "{joined}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_streams_sentence_by_sentence() {
    let Some(tts) = tts() else { return };
    let mut stream = tts.speak(vec![
        "Thanks for waiting. Dr. Patel can see you on Monday at 9:30.".to_string(),
    ]);
    let first = stream.next().await.unwrap().unwrap();
    let second = stream.next().await.unwrap().unwrap();
    assert!(stream.next().await.is_none());
    assert_eq!((first.index, second.index), (0, 1));
    assert!(!first.cached && !second.cached);
    // "Dr." did not split the second sentence, which is the longer one.
    assert!(
        second.duration_ms() > first.duration_ms(),
        "{} vs {}",
        second.duration_ms(),
        first.duration_ms()
    );
    assert!(rms(&first.samples_8k) > 1000.0 && rms(&second.samples_8k) > 1000.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_text_gives_errors_or_silence_not_panics() {
    let Some(tts) = tts() else { return };
    assert!(tts.synthesize_8k("", None).unwrap().is_empty());
    assert!(tts.synthesize_8k("...", None).unwrap().len() < 4_000);
    assert!(
        tts.synthesize_8k("a\0b", None).is_err(),
        "a NUL byte is an error"
    );
    let emoji = tts.synthesize_8k("Thanks 🙂 see you soon.", None).unwrap();
    assert!(seconds(&emoji) > 0.5);
    // Nothing to say: the stream ends at once.
    let mut empty = tts.speak(vec![String::new(), "  ".to_string()]);
    assert!(empty.next().await.is_none());
    // A failing sentence ends the reply with an error.
    let mut bad = tts.speak(vec![
        "Fine.".to_string(),
        "bad\0text.".to_string(),
        "Never spoken.".to_string(),
    ]);
    assert!(bad.next().await.unwrap().is_ok());
    assert!(bad.next().await.unwrap().is_err());
    assert!(bad.next().await.is_none());
}
