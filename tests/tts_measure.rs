//! Speed of the agent's voice: a benchmark, not a timed test (ignored by
//! default). Run with
//! `cargo test --release --test tts_measure -- --ignored --nocapture`.

use std::process::Command;
use std::time::{Duration, Instant};

use frontdesk::models::ModelPaths;
use frontdesk::tts::{OUTPUT_SAMPLE_RATE_HZ, Tts, phonemes};

const PROMPTS: &[&str] = &[
    "Thank you for calling.",
    "How can I help you today?",
    "Could you spell that for me?",
    "What is your date of birth?",
    "What is the best number to reach you?",
    "One moment, please.",
    "Let me check that for you.",
    "Is there anything else I can help with?",
    "Have a great day.",
    "I'm sorry, I didn't catch that.",
    "Could you say that again?",
    "Which doctor would you like to see?",
    "What day works best for you?",
    "Morning or afternoon?",
    "Your appointment is confirmed.",
    "Your appointment has been cancelled.",
    "I'll have a staff member call you back.",
    "If this is an emergency, please hang up and dial 911.",
    "Please hold while I transfer you.",
    "Our office is closed right now.",
    "Is this for a new patient?",
    "Can I have your first and last name?",
    "Thanks, I found your record.",
    "I couldn't find a record with those details.",
    "That time is no longer available.",
    "Would you like the next available slot?",
    "Do you have insurance?",
    "What is the reason for your visit?",
    "Goodbye.",
    "You're welcome.",
];

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run with --ignored --nocapture"]
async fn measure_voice_speed() {
    let paths = ModelPaths::locate();
    if !frontdesk::prerequisites::model_present(&paths.voice()) {
        return;
    }
    let t = Instant::now();
    frontdesk::models::init_onnx_runtime(&paths).unwrap();
    let ort_ms = ms(t.elapsed());
    let t = Instant::now();
    let tts = Tts::load(&paths).unwrap();
    println!(
        "ONNX Runtime init {ort_ms:.0} ms; voice load {:.0} ms",
        ms(t.elapsed())
    );

    // Phonemisation: library call vs one espeak-ng process per sentence.
    let t = Instant::now();
    for p in PROMPTS {
        phonemes::phonemize(p, "en-us").unwrap();
    }
    let ffi = ms(t.elapsed()) / PROMPTS.len() as f64;
    let t = Instant::now();
    for p in PROMPTS {
        let out = Command::new("espeak-ng")
            .args(["-q", "--ipa", "-v", "en-us", p])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let cli = ms(t.elapsed()) / PROMPTS.len() as f64;
    println!("phonemisation per sentence: FFI {ffi:.2} ms, CLI process {cli:.1} ms");

    // Warm-up run (first inference allocates).
    tts.synthesize_8k("Warming up.", None).unwrap();

    for (label, reply) in [
        ("short sentence", vec!["One moment, please.".to_string()]),
        (
            "2-sentence reply",
            vec![
                "I have an opening with Dr. Patel on Tuesday at 9:30. Would that work for you?"
                    .to_string(),
            ],
        ),
    ] {
        let mut best_first = f64::MAX;
        let mut best_total = f64::MAX;
        let mut audio_ms = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let mut stream = tts.speak(reply.clone());
            let first = stream.next().await.unwrap().unwrap();
            let first_ms = ms(t.elapsed());
            audio_ms = first.duration_ms();
            while let Some(chunk) = stream.next().await {
                audio_ms += chunk.unwrap().duration_ms();
            }
            best_first = best_first.min(first_ms);
            best_total = best_total.min(ms(t.elapsed()));
        }
        println!(
            "{label}: first audio after {best_first:.0} ms, all {best_total:.0} ms for {audio_ms} ms of audio (best of 3)"
        );
    }

    // Real-time factor over the prompt list.
    let t = Instant::now();
    let mut samples = 0usize;
    for p in PROMPTS.iter().take(10) {
        samples += tts.synthesize_8k(p, None).unwrap().len();
    }
    let audio_s = samples as f64 / OUTPUT_SAMPLE_RATE_HZ as f64;
    println!(
        "real-time factor {:.3} ({:.2} s to make {audio_s:.1} s of audio)",
        t.elapsed().as_secs_f64() / audio_s,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let n = tts.render_prompts(PROMPTS).unwrap();
    println!(
        "prompt cache: {n} sentences rendered in {:.0} ms",
        ms(t.elapsed())
    );
}
