//! Speech-to-text: an utterance (16 kHz mono f32) → a [`Transcript`].
//!
//! Whisper tiny.en through whisper.cpp (`whisper-rs`). The model is loaded
//! once and shared; a few dedicated std threads each own a decoding state
//! and take jobs from one bounded queue, so inference never runs on tokio's
//! threads and a burst of callers cannot pile up unbounded work (see
//! [`SpeechToText`] for the saturation policy).
//!
//! - `engine`: the worker pool and the Whisper settings
//! - `jobs`: the bounded queue between calls and workers, guesses that give way
//! - `transcript`: the hint given, the transcript or error returned
//! - `transcript_text`: cleaning Whisper's output (non-speech tags, blanks)
//! - `loop_guard`: stopping Whisper's repetition loops as they start
//! - `audio_input`: audio files and phone-line audio → 16 kHz samples
//! - `transcribe_files`: the `frontdesk transcribe FILE…` command

mod audio_input;
mod engine;
mod jobs;
mod loop_guard;
mod transcript;
mod transcript_text;

pub use audio_input::{
    AudioInputError, PHONE_SAMPLE_RATE_HZ, STT_SAMPLE_RATE_HZ, load_for_recognition,
    phone_to_recognition, through_phone_line,
};
pub use engine::{SpeechToText, SttOptions, audio_ctx_for, token_cap_for};
pub use jobs::{GuessClaim, PendingGuess};
pub use transcript::{Hint, SttError, Transcript};
pub use transcript_text::clean_transcript;

use std::path::PathBuf;

use anyhow::Context;

use crate::models::ModelPaths;

/// `frontdesk transcribe FILE…`: prints `file: text` for each file, "as
/// the call path would hear it" for phone audio (8 kHz µ-law is decoded and
/// brought to 16 kHz by the same code the call path uses). Every file is
/// attempted; the command fails at the end if any file failed.
pub async fn transcribe_files(paths: &ModelPaths, files: &[PathBuf]) -> anyhow::Result<()> {
    let load_paths = paths.clone();
    let stt =
        tokio::task::spawn_blocking(move || SpeechToText::load(&load_paths, SttOptions::default()))
            .await
            .context("the speech-to-text loader stopped")??;
    let mut failures = 0usize;
    for file in files {
        let path = file.clone();
        let samples = tokio::task::spawn_blocking(move || load_for_recognition(&path))
            .await
            .context("the audio reader stopped")?;
        let result = match samples {
            Ok(samples) => stt.transcribe(samples).await.map_err(anyhow::Error::from),
            Err(e) => Err(e.into()),
        };
        match result {
            Ok(t) => {
                println!("{}: {}", file.display(), t.text);
                tracing::info!(
                    audio_ms = t.audio_ms,
                    compute_ms = t.compute_ms,
                    real_time_factor = t.compute_ms as f64 / t.audio_ms.max(1) as f64,
                    "transcribed a file"
                );
            }
            Err(e) => {
                failures += 1;
                eprintln!("{}: error: {e:#}", file.display());
            }
        }
    }
    anyhow::ensure!(
        failures == 0,
        "{failures} of {} file(s) could not be transcribed",
        files.len()
    );
    Ok(())
}
