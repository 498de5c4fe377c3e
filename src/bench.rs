//! `frontdesk bench`: latency measured the way a caller feels it.
//!
//! `bench calls` starts the real server in-process (port 0, scratch SQLite,
//! real models) and places N simultaneous calls over the real websocket in
//! real time, each a few caller lines in different synthetic voices; per
//! turn it takes the caller-side latency from the end of caller speech to
//! the first non-silent agent audio. It also reports the greeting's
//! latency, Whisper's real-time factor and the voice's time to first audio.
//! `bench load` finds the knee: the most simultaneous calls with reply
//! p95 within a target, and what the next caller over `max_calls` hears
//! (`load`). `bench turns` counts talk-over: the agent starting to speak
//! in a caller's mid-sentence pause (`turns`). `bench nlu` times intent +
//! entities per utterance.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use crate::app::{Application, Engines};
use crate::caller::voice::PiperCaller;
use crate::caller::{CallReport, CallerOptions, CallerSpeech, ScriptStep, place_call};
use crate::settings::Settings;

mod load;
mod turns;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(clap::Subcommand, Debug)]
pub enum BenchWhat {
    /// Simultaneous calls over the real websocket, in real time
    Calls {
        /// Simultaneous calls
        #[arg(long, default_value_t = 1)]
        calls: usize,
        /// Call time per wall time (1 = real time, as a caller hears it)
        #[arg(long, default_value_t = 1.0)]
        speed: f32,
        /// Milliseconds between call starts
        #[arg(long, default_value_t = 400)]
        stagger_ms: u64,
        /// Times the calls are placed, one round after another (more turns
        /// for steadier percentiles)
        #[arg(long, default_value_t = 1)]
        rounds: usize,
    },
    /// Simultaneous calls stepped up until reply p95 passes the target: the
    /// knee (the most calls within it), then a call over a `max_calls` of
    /// the knee, which is answered busy while the others go on
    Load {
        /// Calls at the first step
        #[arg(long, default_value_t = 4)]
        from: usize,
        /// Calls added at each step
        #[arg(long, default_value_t = 2)]
        step: usize,
        /// Calls at the last step
        #[arg(long, default_value_t = 20)]
        max: usize,
        /// Rounds per step (see `calls`)
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        /// Reply p95 a step must meet, in milliseconds
        #[arg(long, default_value_t = 1000)]
        target_ms: u64,
        /// Milliseconds between call starts
        #[arg(long, default_value_t = 400)]
        stagger_ms: u64,
    },
    /// Talk-over: whether the agent starts speaking in a pause the caller
    /// makes mid-sentence. Plays 12 caller lines (synthesised in the caller
    /// voices) with 600–1200 ms silences where the sentence is unfinished,
    /// and the same lines said whole, each first after the greeting and
    /// second in a call, one call at a time in real time; prints the
    /// talk-over onsets per line (and at which pause), then per material,
    /// with the reply latency p50/p95 after finished and after paused
    /// lines. Exits 0 whatever the figures
    Turns {
        /// Also play this WAV (any rate and channels; mixed to mono and
        /// resampled to 8 kHz) as a caller line, first after the greeting
        /// and second after a finished line; its silences of 400 ms or more
        /// (20 ms frames 26 dB under its loudest) are its pauses
        #[arg(long, value_name = "PATH")]
        clip: Option<std::path::PathBuf>,
        /// Times the whole set is played, each round in other voices
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        /// Play only the first N of the lines (1–12)
        #[arg(long, default_value_t = turns::PAUSED_LINES.len())]
        lines: usize,
    },
    /// Intent + entities per utterance on the held-out lines, one core
    Nlu {
        #[arg(long, default_value_t = 20)]
        rounds: usize,
    },
}

/// What callers say in the benchmark: short, typical lines.
const LINES: &[&str] = &[
    "Hi, I'd like to make an appointment please.",
    "It's about a bill I got last week.",
    "Can someone call me back this afternoon?",
    "No, that's everything. Thank you.",
];

const VOICES: &[&str] = &["mid", "high-fast", "low-slow"];

pub async fn run(settings: Settings, args: BenchArgs) -> anyhow::Result<()> {
    match args.what {
        BenchWhat::Calls {
            calls,
            speed,
            stagger_ms,
            rounds,
        } => bench_calls(settings, calls, speed, stagger_ms, rounds).await,
        BenchWhat::Load {
            from,
            step,
            max,
            rounds,
            target_ms,
            stagger_ms,
        } => {
            load::bench_load(
                settings,
                load::Steps {
                    from,
                    step,
                    max,
                    rounds,
                    target_ms,
                    stagger_ms,
                },
            )
            .await
        }
        BenchWhat::Turns {
            clip,
            rounds,
            lines,
        } => {
            turns::bench_turns(
                settings,
                turns::Plan {
                    clip,
                    rounds,
                    lines,
                },
            )
            .await
        }
        BenchWhat::Nlu { rounds } => bench_nlu(settings, rounds).await,
    }
}

/// p-th percentile (nearest rank) of sorted values.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

async fn bench_calls(
    mut settings: Settings,
    calls: usize,
    speed: f32,
    stagger_ms: u64,
    rounds: usize,
) -> anyhow::Result<()> {
    anyhow::ensure!(calls >= 1, "--calls must be at least 1");
    anyhow::ensure!(rounds >= 1, "--rounds must be at least 1");
    let scratch = scratch_settings(&mut settings)?;
    settings.max_calls = settings.max_calls.max(calls);
    let engines = tokio::task::spawn_blocking({
        let settings = settings.clone();
        move || Engines::load(&settings)
    })
    .await??;

    // Component figures first, on an idle server.
    let (stt_rtf, stt_ms) = measure_stt(&engines).await?;
    let (tts_first_ms, tts_audio_ms) = measure_tts(&engines).await?;

    let app = Application::build_with(settings, engines.clone()).await?;
    let port = app.port();
    tokio::spawn(app.run_until_stopped(std::future::pending()));

    let voices = caller_voices(&engines)?;
    crate::call::timing::take_recorded();
    let mut greetings = Vec::new();
    let mut turns = Vec::new();
    let mut missing = 0;
    for round in 1..=rounds {
        println!(
            "round {round}/{rounds}: placing {calls} simultaneous call(s) at {speed}x real time…"
        );
        for report in place_calls(port, &voices, calls, speed, stagger_ms, round).await {
            let report = report?;
            greetings.extend(report.greeting_latency_ms);
            for turn in &report.turns {
                match turn.latency_ms {
                    Some(ms) => turns.push(ms),
                    None => missing += 1,
                }
            }
        }
    }
    greetings.sort_unstable();
    turns.sort_unstable();
    let show = |v: Option<u64>| v.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "–".into());
    println!();
    println!(
        "calls                      {calls} simultaneous, {speed}x real time, {rounds} round(s)"
    );
    println!(
        "greeting after start       p50 {}  p95 {}  (n={})",
        show(percentile(&greetings, 50.0)),
        show(percentile(&greetings, 95.0)),
        greetings.len()
    );
    println!(
        "reply after caller speech  p50 {}  p95 {}  max {}  (n={}, unanswered {missing})",
        show(percentile(&turns, 50.0)),
        show(percentile(&turns, 95.0)),
        show(turns.last().copied()),
        turns.len()
    );
    print_stages(&crate::call::timing::take_recorded());
    println!(
        "speech-to-text             real-time factor {stt_rtf:.3} ({stt_ms} ms for a short utterance, idle)"
    );
    println!(
        "voice, first audio         {tts_first_ms} ms for an uncached sentence ({tts_audio_ms} ms of audio)"
    );
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Where the replies' time went, on the server's clock (p50 / p95 per stage).
fn print_stages(replies: &[crate::call::timing::ReplyTiming]) {
    use crate::call::timing::ReplyTiming;
    if replies.is_empty() {
        return;
    }
    type Stage = (&'static str, fn(&ReplyTiming) -> u64);
    let stages: [Stage; 7] = [
        ("pause before recognition", |t| t.endpoint_ms),
        ("recognition (queue+run)", |t| t.stt_ms),
        ("waiting for end of turn", |t| t.turn_end_ms),
        ("understanding", |t| t.understand_ms),
        ("dialogue", |t| t.dialogue_ms),
        ("voice to first frame", |t| t.voice_ms),
        ("server total", |t| t.total_ms),
    ];
    println!("where the time went (server side, n={}):", replies.len());
    for (name, stage) in stages {
        let mut v: Vec<u64> = replies.iter().map(stage).collect();
        v.sort_unstable();
        println!(
            "  {name:<25} p50 {:>4} ms  p95 {:>4} ms",
            percentile(&v, 50.0).unwrap_or(0),
            percentile(&v, 95.0).unwrap_or(0)
        );
    }
}

/// The bench's server settings: a scratch data directory and SQLite
/// database, a free loopback port. Returns the directory.
fn scratch_settings(settings: &mut Settings) -> anyhow::Result<std::path::PathBuf> {
    let scratch = tempfile_dir()?;
    settings.data_dir = scratch.clone();
    settings.database_url = crate::store::sqlite_url_in(&scratch);
    settings.listen = "127.0.0.1:0".into();
    Ok(scratch)
}

/// The synthetic callers' voices (their speech is synthesised before each
/// call starts).
fn caller_voices(engines: &Engines) -> anyhow::Result<Vec<Arc<dyn CallerSpeech>>> {
    let mut voices: Vec<Arc<dyn CallerSpeech>> = Vec::new();
    for name in VOICES {
        voices.push(Arc::new(PiperCaller::new(engines.tts.clone(), name)?));
    }
    Ok(voices)
}

/// Places `calls` simultaneous calls (the bench's lines, one voice each,
/// started `stagger_ms` apart) on the server at `port`; one result per call.
async fn place_calls(
    port: u16,
    voices: &[Arc<dyn CallerSpeech>],
    calls: usize,
    speed: f32,
    stagger_ms: u64,
    round: usize,
) -> Vec<anyhow::Result<CallReport>> {
    let mut handles = Vec::new();
    for i in 0..calls {
        let server = url::Url::parse(&format!("http://127.0.0.1:{port}")).expect("a URL");
        let mut opts = CallerOptions::new(server);
        opts.speed = speed;
        let voice = voices[(i + round - 1) % voices.len()].clone();
        let script: Vec<ScriptStep> = LINES.iter().map(|l| ScriptStep::say(*l)).collect();
        let delay = std::time::Duration::from_millis(stagger_ms * i as u64);
        handles.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            place_call(&opts, script, Some(voice)).await
        }));
    }
    let mut reports = Vec::new();
    for handle in handles {
        reports.push(match handle.await {
            Ok(report) => report,
            Err(e) => Err(anyhow::anyhow!("a bench call panicked: {e}")),
        });
    }
    reports
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("frontdesk-bench-{}", crate::store::new_id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Whisper on a synthesised caller line through the phone band, three times.
async fn measure_stt(engines: &Engines) -> anyhow::Result<(f64, u64)> {
    let voice = PiperCaller::new(engines.tts.clone(), "mid")?;
    let pcm = tokio::task::spawn_blocking(move || voice.synthesize(LINES[0])).await??;
    let f = crate::audio::resample::i16_to_f32(&pcm);
    let samples_16k = crate::audio::resample::resample(&f, 8000, 16000)?;
    let audio_ms = samples_16k.len() as f64 / 16.0;
    let mut best = u64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        engines.stt.transcribe(samples_16k.clone()).await?;
        best = best.min(started.elapsed().as_millis() as u64);
    }
    Ok((best as f64 / audio_ms, best))
}

/// The voice's time to first audio for a sentence not in the cache.
async fn measure_tts(engines: &Engines) -> anyhow::Result<(u64, u64)> {
    let tts = engines.tts.clone();
    tokio::task::spawn_blocking(move || {
        let mut best = u64::MAX;
        let mut audio_ms = 0;
        for _ in 0..3 {
            let started = Instant::now();
            let audio =
                tts.synthesize_8k("Your appointment is on Tuesday at nine thirty.", None)?;
            best = best.min(started.elapsed().as_millis() as u64);
            audio_ms = audio.len() as u64 / 8;
        }
        Ok((best, audio_ms))
    })
    .await?
}

async fn bench_nlu(settings: Settings, rounds: usize) -> anyhow::Result<()> {
    let nlu = tokio::task::spawn_blocking(move || {
        crate::models::init_onnx_runtime(&settings.models)?;
        crate::nlu::Nlu::load(&settings.models, crate::nlu::ProviderRoster::default())
    })
    .await??;
    let lines = crate::nlu::eval::load_labelled(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/intents/heldout.jsonl"
    )))
    .context("the held-out lines are read from the source tree")?;
    let texts: Vec<String> = lines.iter().map(|l| l.text.clone()).collect();
    let today = chrono::Local::now().date_naive();
    let report = tokio::task::spawn_blocking(move || {
        crate::nlu::eval::bench_nlu(&nlu, &texts, today, rounds)
    })
    .await?;
    println!("{report:?}");
    Ok(())
}
