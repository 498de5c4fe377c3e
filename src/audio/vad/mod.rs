//! Voice activity detection and endpointing on 8 kHz telephone audio.
//!
//! Two halves, joined here:
//! - `silero`: [`VadModel`] is Silero VAD (v6, ONNX), loaded once and
//!   shared by every call; a [`SpeechDetector`] holds one stream's recurrent
//!   state and turns a window into a speech probability.
//! - `endpointer`: [`EndpointRules`], the rules that turn per-window
//!   probabilities and levels into [`VadEvent`]s: `SpeechStarted`
//!   (barge-in), `Paused`/`Resumed` (speculative recognition) and
//!   `UtteranceEnded` (send to speech-to-text). Pure, so they are
//!   table-tested without a model. `background` tracks the line's
//!   background level, so voices behind the caller are not the caller.
//!
//! Each call gets its own [`Endpointer`]: a detector and the rules, fed
//! audio of any length and cutting it into Silero's windows.
//!
//! Time is counted in samples received, never wall-clock: a replayed call
//! pushed ten times faster than real time gives the same events.
//!
//! The API is synchronous on purpose: inference must not run on tokio
//! worker threads, so the call loop drives an `Endpointer` from a dedicated
//! thread (or `spawn_blocking`).

mod background;
mod endpointer;
mod silero;

use std::sync::Arc;

pub use endpointer::{
    DEFAULT_BACKGROUND_MARGIN_DB, DEFAULT_QUIET_DBFS, EndReason, EndpointConfig, EndpointRules,
    VadEvent,
};
pub use silero::{SpeechDetector, VadError, VadModel};

use crate::models::ModelPaths;

/// The only rate the endpointer accepts: telephone audio, no resampling.
pub const SAMPLE_RATE_HZ: u32 = 8_000;
/// Samples per model window at 8 kHz (32 ms), fixed by Silero.
pub const WINDOW_SAMPLES: usize = 256;

const fn ms_to_samples(ms: u32) -> u64 {
    ms as u64 * SAMPLE_RATE_HZ as u64 / 1000
}

/// Samples → milliseconds at 8 kHz, for logs and tests.
pub const fn samples_to_ms(samples: u64) -> u64 {
    samples * 1000 / SAMPLE_RATE_HZ as u64
}

/// Entry point, so call sites read `Vad::load(&paths)`.
pub struct Vad;

impl Vad {
    /// Loads `vad/silero_vad.onnx` from the models directory.
    pub fn load(paths: &ModelPaths) -> anyhow::Result<Arc<VadModel>> {
        VadModel::load(paths)
    }
}

impl VadModel {
    /// A fresh endpointer for one call, sharing this model.
    pub fn new_stream(self: &Arc<Self>, config: EndpointConfig) -> Endpointer {
        Endpointer {
            detector: self.new_detector(),
            pending: Vec::with_capacity(WINDOW_SAMPLES),
            rules: EndpointRules::new(config),
        }
    }
}

/// Turns a call's audio into speech events. One per call; not shared.
pub struct Endpointer {
    detector: SpeechDetector,
    /// Samples waiting to fill a window.
    pending: Vec<i16>,
    rules: EndpointRules,
}

impl Endpointer {
    pub fn config(&self) -> &EndpointConfig {
        self.rules.config()
    }

    /// Total samples pushed so far: the call's clock.
    pub fn samples_received(&self) -> u64 {
        self.rules.processed_samples() + self.pending.len() as u64
    }

    /// Feeds 8 kHz audio of any length; returns the events it completed.
    pub fn push(&mut self, samples_8k: &[i16]) -> Result<Vec<VadEvent>, VadError> {
        let mut events = Vec::new();
        let mut rest = samples_8k;
        while !rest.is_empty() {
            let take = (WINDOW_SAMPLES - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == WINDOW_SAMPLES {
                let window =
                    std::mem::replace(&mut self.pending, Vec::with_capacity(WINDOW_SAMPLES));
                let probability = self.detector.probability(&window)?;
                self.rules.on_window(&window, probability, &mut events);
            }
        }
        Ok(events)
    }

    /// Ends the stream (hang-up): emits a confirmed utterance still in
    /// progress, including any partial window. Unconfirmed blips are dropped.
    pub fn finish(&mut self) -> Vec<VadEvent> {
        let partial = std::mem::take(&mut self.pending);
        self.rules.finish(&partial)
    }

    /// Ends the utterance at its current pause without waiting for
    /// `end_silence_ms` (see [`EndpointRules::end_at_pause`]): `start_sample`
    /// and `end_sample` are those of the `Paused` event. Silero must agree
    /// that the caller is silent; until it does, a later `push` ends it.
    pub fn end_at_pause(&mut self, start_sample: u64, end_sample: u64) -> Vec<VadEvent> {
        self.rules.end_at_pause(start_sample, end_sample)
    }
}
