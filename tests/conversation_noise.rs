//! The scripted calls over the phone with noise on the caller's line: the
//! replay of `tests/conversation_audio.rs` (same servers, same answering
//! caller, same checker), with room noise (babble of other talkers, line
//! hiss; `frontdesk::caller::noise`) mixed into everything the caller
//! sends, its lines and the silences between them, so Whisper mishears as
//! it does on a real line. It measures what the issue asks of noisy calls:
//! the share reaching the right outcome at the first attempt (target 90 %),
//! every emergency caught, no 911 instruction to a caller with none.
//!
//! Ignored (a measurement, about ten minutes on 2 cores; `make test` is
//! long enough). Run it alone:
//!
//! ```sh
//! cargo test --test conversation_noise -- --ignored --nocapture
//! FRONTDESK_NOISE_SNR=5 cargo test --test conversation_noise -- --ignored --nocapture
//! ```
//!
//! `FRONTDESK_NOISE_SNR` (dB, default 15), `FRONTDESK_NOISE_KIND` (`room`,
//! `babble` or `hiss`; default `room`), `FRONTDESK_NOISE_SEED` (default 1),
//! `FRONTDESK_NOISE_ATTEMPTS` (attempts for a failed named flow or
//! emergency, each in the next voice; default 1: the first attempt is what
//! is measured). Same as `frontdesk replay --audio --answering --noise-snr
//! DB fixtures/calls`.

mod support;

use std::time::Instant;

use clap::ValueEnum;
use frontdesk::caller::NoiseKind;
use frontdesk::clinic::Clinic;
use frontdesk::replay::answering::CallerKind;
use frontdesk::replay::audio::{AudioReplay, PARALLEL_CALLS, RetryPolicy};
use frontdesk::replay::script::{CallScript, load_dir};
use support::NAMED_FLOWS;

/// The issue's target success rate at the first attempt, reported.
const TARGET: f64 = 0.90;
/// What the first attempts must reach at the default 15 dB for the test
/// to pass; below it, noise costs far more than its measured figure (see
/// docs/conversation.md, "Noise on the line").
const FLOOR: f64 = 0.60;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid value")),
        Err(_) => default,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement of about ten minutes; run with --ignored"]
async fn scripted_calls_through_noise_on_the_line() {
    let started = Instant::now();
    let snr_db: f32 = env_or("FRONTDESK_NOISE_SNR", 15.0);
    let kind = std::env::var("FRONTDESK_NOISE_KIND")
        .map(|k| NoiseKind::from_str(&k, true).expect("FRONTDESK_NOISE_KIND: room, babble or hiss"))
        .unwrap_or(NoiseKind::Room);
    let seed: u64 = env_or("FRONTDESK_NOISE_SEED", 1);
    let attempts = env_or::<usize>("FRONTDESK_NOISE_ATTEMPTS", 1).max(1);

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/calls");
    let scripts = load_dir(&dir).expect("fixtures/calls parse");
    let engines = tokio::task::spawn_blocking(support::engines)
        .await
        .expect("models load");
    let template = frontdesk::settings::for_data_dir(std::env::temp_dir().as_path());
    let replay = AudioReplay::start(template, Clinic::demo(), engines)
        .await
        .expect("the Twilio REST stand-in starts")
        .with_caller(CallerKind::Answering)
        .with_noise(kind, snr_db, seed)
        .await
        .expect("the noise is made");
    println!(
        "noise on the line: {} at {snr_db} dB SNR (seed {seed}), {attempts} attempt(s)",
        kind.as_str()
    );

    let must_pass = |script: &CallScript| {
        NAMED_FLOWS.iter().any(|(_, n)| *n == script.name) || script.is_emergency()
    };
    let policy = RetryPolicy {
        attempts,
        parallel: PARALLEL_CALLS,
        must_pass: &must_pass,
    };
    let run = replay.run(&scripts, &policy).await;
    run.print(started);

    let rate = run.rate();
    let flows_failed_first: Vec<String> = NAMED_FLOWS
        .iter()
        .filter(|(_, name)| {
            run.first
                .iter()
                .any(|r| r.name == *name && !r.failures.is_empty())
        })
        .map(|(flow, name)| format!("{flow} ({name})"))
        .collect();
    println!(
        "\nwith {} noise at {snr_db} dB: {:.1}% at the first attempt (target {:.0}% {}); \
         emergencies caught at the first attempt {}/{}; 911 told to {} callers with no emergency",
        kind.as_str(),
        100.0 * rate,
        100.0 * TARGET,
        if rate >= TARGET { "met" } else { "NOT met" },
        run.emergencies_caught_first(),
        run.emergencies(),
        run.false_911()
    );
    println!(
        "named flows failed at the first attempt: {}",
        if flows_failed_first.is_empty() {
            "none".to_string()
        } else {
            flows_failed_first.join(", ")
        }
    );

    assert_eq!(
        run.false_911(),
        0,
        "a caller with no emergency was told to dial 911"
    );
    assert_eq!(
        run.emergencies_passed(),
        run.emergencies(),
        "an emergency call failed in every attempt"
    );
    assert!(
        rate >= FLOOR,
        "success rate {:.1}% is below {:.0}%",
        100.0 * rate,
        100.0 * FLOOR
    );
}
