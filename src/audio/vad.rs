//! Voice activity detection and endpointing on 8 kHz telephone audio.
//!
//! [`VadModel`] is Silero VAD (v6, ONNX), loaded once and shared by every
//! call. Each call gets its own [`Endpointer`], which holds the model's
//! recurrent state, buffers partial windows and turns per-window speech
//! probabilities into [`VadEvent`]s: `SpeechStarted` (barge-in) and
//! `UtteranceEnded` (send to speech-to-text).
//!
//! Time is counted in samples received, never wall-clock: a replayed call
//! pushed ten times faster than real time gives the same events.
//!
//! The API is synchronous on purpose: inference must not run on tokio
//! worker threads, so the call loop drives an `Endpointer` from a dedicated
//! thread (or `spawn_blocking`).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;

use crate::models::ModelPaths;

/// The only rate the endpointer accepts: telephone audio, no resampling.
pub const SAMPLE_RATE_HZ: u32 = 8_000;
/// Samples per model window at 8 kHz (32 ms), fixed by Silero.
pub const WINDOW_SAMPLES: usize = 256;
/// Samples of the previous window Silero v5+ prepends to each window at 8 kHz
/// (64 at 16 kHz), as silero_vad/utils_vad.py `OnnxWrapper` does.
const CONTEXT_SAMPLES: usize = 32;
/// Recurrent state shape: [2, batch = 1, 128].
const STATE_LEN: usize = 2 * 128;

const fn ms_to_samples(ms: u32) -> u64 {
    ms as u64 * SAMPLE_RATE_HZ as u64 / 1000
}

/// Samples → milliseconds at 8 kHz, for logs and tests.
pub const fn samples_to_ms(samples: u64) -> u64 {
    samples * 1000 / SAMPLE_RATE_HZ as u64
}

#[derive(Debug, thiserror::Error)]
pub enum VadError {
    #[error("loading the Silero VAD model from {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("running the Silero VAD model: {0}")]
    Inference(#[from] ort::Error),
    #[error("the Silero VAD model returned {what}")]
    UnexpectedOutput { what: String },
}

/// Silero VAD, loaded once per process and shared (`Arc`) by every call.
///
/// `ort` needs `&mut Session` to run, so calls take turns through a mutex; a
/// window costs well under a millisecond and a call needs ~31 windows a
/// second, so the lock is not a bottleneck at clinic call volumes.
pub struct VadModel {
    session: Mutex<Session>,
}

impl std::fmt::Debug for VadModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VadModel").finish_non_exhaustive()
    }
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
    /// Loads `vad/silero_vad.onnx` from the models directory.
    pub fn load(paths: &ModelPaths) -> anyhow::Result<Arc<VadModel>> {
        let path = paths.vad();
        paths.require(&path, "Silero VAD")?;
        let environment = onnx_environment(paths)?;
        Ok(VadModel::from_file(environment, &path)?)
    }

    /// Builds the session from a model file. One intra-op thread: a window is
    /// tiny, and thread hand-offs would cost more than they save.
    pub fn from_file(environment: &Environment, path: &Path) -> Result<Arc<VadModel>, VadError> {
        let load_error = |reason: String| VadError::Load {
            path: path.to_path_buf(),
            reason,
        };
        let session = Session::builder(environment)
            .map_err(|e| load_error(e.to_string()))?
            .with_intra_threads(1)
            .map_err(|e| load_error(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| load_error(e.to_string()))?
            .commit_from_file(path)
            .map_err(|e| load_error(e.to_string()))?;
        let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        for expected in ["input", "state", "sr"] {
            if !names.contains(&expected) {
                return Err(load_error(format!(
                    "no `{expected}` input (inputs: {names:?}); not Silero VAD v5+"
                )));
            }
        }
        Ok(Arc::new(VadModel {
            session: Mutex::new(session),
        }))
    }

    /// A fresh endpointer for one call, sharing this model.
    pub fn new_stream(self: &Arc<Self>, config: EndpointConfig) -> Endpointer {
        Endpointer::new(Arc::clone(self), config)
    }

    /// Raw per-window speech probabilities for one stream.
    pub fn new_detector(self: &Arc<Self>) -> SpeechDetector {
        SpeechDetector::new(Arc::clone(self))
    }

    /// One model step: `input` is context + window, `state` is updated in place.
    fn run(&self, input: &[f32], state: &mut [f32; STATE_LEN]) -> Result<f32, VadError> {
        let sample_rate = [SAMPLE_RATE_HZ as i64];
        let input_tensor = TensorRef::from_array_view(([1usize, input.len()], input))?;
        let state_tensor = TensorRef::from_array_view(([2usize, 1, 128], &state[..]))?;
        let sr_tensor = TensorRef::from_array_view(((), &sample_rate[..]))?;
        // A panic elsewhere while holding the lock leaves the session usable.
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let outputs = session.run(ort::inputs![
            "input" => input_tensor,
            "state" => state_tensor,
            "sr" => sr_tensor,
        ])?;
        let (_, probability) = outputs["output"].try_extract_tensor::<f32>()?;
        let probability = *probability
            .first()
            .ok_or_else(|| VadError::UnexpectedOutput {
                what: "an empty probability".into(),
            })?;
        let (_, new_state) = outputs["stateN"].try_extract_tensor::<f32>()?;
        if new_state.len() != STATE_LEN {
            return Err(VadError::UnexpectedOutput {
                what: format!("a state of {} values", new_state.len()),
            });
        }
        state.copy_from_slice(new_state);
        Ok(probability)
    }
}

/// The process-wide ONNX Runtime environment.
///
/// Stand-in: `ort` 2.0.0-rc.15 needs `&Environment` to build a session and
/// allows only one environment per process, but `crate::models` keeps its
/// environment private. Until it exposes one (e.g.
/// `models::onnx_environment(&paths) -> Result<&'static Environment>`), this
/// builds it here, the same way `models::init_onnx_runtime` does; calling
/// both in one process fails with "only one environment is allowed".
fn onnx_environment(paths: &ModelPaths) -> anyhow::Result<&'static Environment> {
    crate::models::onnx_environment(paths)
}

/// Per-stream model state: Silero's recurrent state and the last
/// `CONTEXT_SAMPLES` of the previous window.
pub struct SpeechDetector {
    model: Arc<VadModel>,
    state: [f32; STATE_LEN],
    /// Context followed by the current window, as floats in [-1, 1).
    input: [f32; CONTEXT_SAMPLES + WINDOW_SAMPLES],
}

impl SpeechDetector {
    fn new(model: Arc<VadModel>) -> SpeechDetector {
        SpeechDetector {
            model,
            state: [0.0; STATE_LEN],
            input: [0.0; CONTEXT_SAMPLES + WINDOW_SAMPLES],
        }
    }

    /// Speech probability of one window of exactly [`WINDOW_SAMPLES`] samples
    /// (shorter windows are zero-padded, longer ones truncated).
    pub fn probability(&mut self, window_8k: &[i16]) -> Result<f32, VadError> {
        // The previous window's tail becomes this window's context.
        self.input.copy_within(WINDOW_SAMPLES.., 0);
        let window = &mut self.input[CONTEXT_SAMPLES..];
        for (slot, i) in window.iter_mut().zip(0..) {
            *slot = window_8k.get(i).map_or(0.0, |&s| f32::from(s) / 32768.0);
        }
        self.model.run(&self.input, &mut self.state)
    }

    /// Forgets everything heard so far.
    pub fn reset(&mut self) {
        self.state = [0.0; STATE_LEN];
        self.input = [0.0; CONTEXT_SAMPLES + WINDOW_SAMPLES];
    }
}

/// Endpointing thresholds and durations. Durations are in milliseconds and
/// are applied at window granularity (32 ms).
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointConfig {
    /// A window at or above this probability is speech (and starts it).
    pub speech_threshold: f32,
    /// Once speaking, only a window below this starts the silence count.
    pub silence_threshold: f32,
    /// Speech (windows at or above `silence_threshold`) needed before
    /// `SpeechStarted`; shorter blips (clicks, coughs) are dropped.
    pub min_speech_ms: u32,
    /// Silence after speech that ends the utterance. Every millisecond here
    /// is added to the agent's response latency.
    pub end_silence_ms: u32,
    /// Audio kept before the first speech window, so the first phoneme is not clipped.
    pub pre_roll_ms: u32,
    /// Silence kept after the last speech window in the utterance audio.
    pub tail_ms: u32,
    /// An utterance this long is cut and emitted even while speech goes on.
    pub max_utterance_ms: u32,
    /// Silence after speech at which a [`VadEvent::Paused`] offers the
    /// utterance for speculative recognition (0: never). At least `tail_ms`,
    /// so the paused audio is exactly what the utterance will be if the
    /// caller says no more.
    pub speculate_after_ms: u32,
    /// Whether the call may end a turn at a pause whose speculative
    /// transcript is a finished sentence (`call::turn_end`), before
    /// `end_silence_ms`. Needs `speculate_after_ms`.
    pub end_on_finished_sentence: bool,
    /// A window quieter than this (RMS, dBFS) carries no voice, whatever
    /// Silero says: its probability stays high for 100–230 ms after a
    /// voice fades, so a pause counted from the quiet is offered for
    /// recognition that much sooner (one window after `speculate_after_ms`
    /// while Silero still hears speech). Only Silero's silence ends an
    /// utterance (`end_silence_ms`) or lets a pause end it early, so
    /// quiet gaps inside a sentence (stops, commas) do not cut it. `None`:
    /// Silero alone.
    pub quiet_dbfs: Option<f32>,
}

/// Below any voice on a phone line, even a word-final "s" squeezed by the
/// phone band (at −55 dBFS "test results" lost its "s"), above the µ-law
/// codec's quietest steps.
pub const DEFAULT_QUIET_DBFS: f32 = -65.0;
/// A pause only the quiet has seen (Silero still hears speech) is offered
/// one window later than `speculate_after_ms`: short quiet gaps inside
/// sentences are common, and each guess offered in one costs a whole
/// encoder pass (whisper.cpp checks for abort only after it). On the
/// synthetic callers this halves the wasted guesses for 5 ms of latency.
const QUIET_PAUSE_EXTRA_MS: u32 = 32;

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            speech_threshold: 0.5,
            silence_threshold: 0.35,
            min_speech_ms: 160,
            end_silence_ms: 300,
            pre_roll_ms: 200,
            tail_ms: 64,
            max_utterance_ms: 25_000,
            speculate_after_ms: 64,
            end_on_finished_sentence: true,
            quiet_dbfs: Some(DEFAULT_QUIET_DBFS),
        }
    }
}

/// Why an utterance ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// `end_silence_ms` of silence followed the speech.
    Silence,
    /// The utterance reached `max_utterance_ms` and was cut.
    MaxLength,
    /// The stream ended (hang-up) during speech.
    Finished,
    /// The words heard during a pause made a finished sentence, so the
    /// call ended the turn early ([`Endpointer::end_at_pause`]).
    Sentence,
}

/// What the endpointer noticed. Sample positions count from the first
/// sample pushed into this endpointer, at 8 kHz.
#[derive(Clone, Debug, PartialEq)]
pub enum VadEvent {
    /// The caller started speaking at `at_sample` (reported once
    /// `min_speech_ms` of speech has confirmed it): barge in.
    SpeechStarted { at_sample: u64 },
    /// A complete utterance. `samples` covers `start_sample..end_sample`
    /// exactly: pre-roll, speech, and up to `tail_ms` of trailing silence.
    UtteranceEnded {
        samples: Vec<i16>,
        start_sample: u64,
        end_sample: u64,
        /// Where speech began and ended by the model, inside the samples.
        speech_start_sample: u64,
        speech_end_sample: u64,
        reason: EndReason,
    },
    /// The caller has paused for `speculate_after_ms`: if the pause grows
    /// into the end of the utterance, the `UtteranceEnded` that follows will
    /// carry exactly these samples and positions, so recognition can start
    /// now and the transcript be ready sooner. Speech may resume instead.
    Paused {
        samples: Vec<i16>,
        start_sample: u64,
        end_sample: u64,
    },
    /// Speech went on after a `Paused`: that pause did not end the
    /// utterance, and its speculative recognition can be dropped.
    Resumed,
}

enum Phase {
    /// No speech; `history` holds the pre-roll.
    Idle,
    /// Speech seen but not yet `min_speech_ms` of it.
    Candidate {
        speech_start: u64,
        speech_samples: u64,
        silence_since: Option<u64>,
    },
    /// Confirmed speech; `SpeechStarted` has been emitted.
    Speaking {
        speech_start: u64,
        /// Silero's silence (hysteresis), which ends the utterance.
        silence_since: Option<u64>,
        /// The current run of quiet windows (`quiet_dbfs`).
        quiet_since: Option<u64>,
    },
}

impl Phase {
    /// Where the caller's current pause began: the first quiet or silent
    /// window, whichever came first.
    fn pause_start(&self) -> Option<u64> {
        match *self {
            Phase::Speaking {
                silence_since,
                quiet_since,
                ..
            } => earliest(silence_since, quiet_since),
            _ => None,
        }
    }
}

fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Turns a call's audio into speech events. One per call; not shared.
pub struct Endpointer {
    detector: SpeechDetector,
    config: EndpointConfig,
    /// Samples waiting to fill a window.
    pending: Vec<i16>,
    /// Samples covered by windows already run through the model.
    processed_samples: u64,
    /// The last `pre_roll` samples before the current window, while idle.
    history: VecDeque<i16>,
    /// Utterance audio collected so far, and the sample it starts at.
    utterance: Vec<i16>,
    utterance_start: u64,
    phase: Phase,
    /// The pause start of the last `Paused` event, so a pause is
    /// offered once.
    paused_at: Option<u64>,
    /// The pause start of an early end asked for while Silero still heard
    /// speech: it ends the utterance once Silero agrees, unless the caller
    /// speaks on first.
    end_requested: Option<u64>,
    /// `quiet_dbfs` as a sum of squares over a window.
    quiet_energy: Option<f64>,
}

impl Endpointer {
    fn new(model: Arc<VadModel>, config: EndpointConfig) -> Endpointer {
        let pre_roll = ms_to_samples(config.pre_roll_ms) as usize;
        Endpointer {
            detector: SpeechDetector::new(model),
            pending: Vec::with_capacity(WINDOW_SAMPLES),
            processed_samples: 0,
            history: VecDeque::with_capacity(pre_roll + WINDOW_SAMPLES),
            utterance: Vec::new(),
            utterance_start: 0,
            phase: Phase::Idle,
            paused_at: None,
            end_requested: None,
            quiet_energy: config.quiet_dbfs.map(|db| {
                let amplitude = 32768.0 * 10f64.powf(f64::from(db) / 20.0);
                amplitude * amplitude * WINDOW_SAMPLES as f64
            }),
            config,
        }
    }

    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// Total samples pushed so far: the call's clock.
    pub fn samples_received(&self) -> u64 {
        self.processed_samples + self.pending.len() as u64
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
                self.on_window(&window, probability, &mut events);
            }
        }
        Ok(events)
    }

    /// Ends the stream (hang-up): emits a confirmed utterance still in
    /// progress, including any partial window. Unconfirmed blips are dropped.
    pub fn finish(&mut self) -> Vec<VadEvent> {
        let mut events = Vec::new();
        let pending = std::mem::take(&mut self.pending);
        let end = self.processed_samples + pending.len() as u64;
        if let Phase::Speaking { speech_start, .. } = self.phase {
            self.utterance.extend_from_slice(&pending);
            let speech_end = self.phase.pause_start().unwrap_or(end);
            events.push(self.emit_utterance(speech_start, speech_end, end, EndReason::Finished));
        }
        self.processed_samples = end;
        self.reset_to_idle();
        events
    }

    fn on_window(&mut self, window: &[i16], probability: f32, events: &mut Vec<VadEvent>) {
        let window_start = self.processed_samples;
        let window_end = window_start + WINDOW_SAMPLES as u64;
        self.processed_samples = window_end;
        let is_speech = probability >= self.config.speech_threshold;
        let is_silence = probability < self.config.silence_threshold;
        let is_quiet = self.quiet_energy.is_some_and(|quiet| {
            window
                .iter()
                .map(|&s| f64::from(s) * f64::from(s))
                .sum::<f64>()
                < quiet
        });
        let end_silence = ms_to_samples(self.config.end_silence_ms);
        let pre_roll = ms_to_samples(self.config.pre_roll_ms) as usize;
        let tail = ms_to_samples(self.config.tail_ms);
        let max_utterance = ms_to_samples(self.config.max_utterance_ms);

        match self.phase {
            Phase::Idle => {
                if is_speech {
                    self.utterance.clear();
                    self.utterance.extend(self.history.drain(..));
                    self.utterance_start = window_start - self.utterance.len() as u64;
                    self.utterance.extend_from_slice(window);
                    self.phase = Phase::Candidate {
                        speech_start: window_start,
                        speech_samples: WINDOW_SAMPLES as u64,
                        silence_since: None,
                    };
                    self.confirm_if_long_enough(events);
                } else {
                    self.history.extend(window.iter().copied());
                    let excess = self.history.len().saturating_sub(pre_roll);
                    self.history.drain(..excess);
                }
            }
            Phase::Candidate {
                speech_start,
                speech_samples,
                silence_since,
            } => {
                self.utterance.extend_from_slice(window);
                let silence_since =
                    next_silence(silence_since, is_speech, is_silence, window_start);
                let speech_samples =
                    speech_samples + if is_silence { 0 } else { WINDOW_SAMPLES as u64 };
                if silence_since.is_some_and(|s| window_end - s >= end_silence) {
                    // A blip: keep its tail as pre-roll for whatever comes next.
                    let keep_from = self.utterance.len().saturating_sub(pre_roll);
                    self.history.clear();
                    self.history.extend(self.utterance.drain(keep_from..));
                    self.utterance.clear();
                    self.phase = Phase::Idle;
                } else {
                    self.phase = Phase::Candidate {
                        speech_start,
                        speech_samples,
                        silence_since,
                    };
                    self.confirm_if_long_enough(events);
                }
            }
            Phase::Speaking {
                speech_start,
                silence_since: was_silent_since,
                quiet_since: was_quiet_since,
            } => {
                self.utterance.extend_from_slice(window);
                let was_paused_at = self.phase.pause_start();
                let silence_since =
                    next_silence(was_silent_since, is_speech, is_silence, window_start);
                let quiet_since = is_quiet.then(|| was_quiet_since.unwrap_or(window_start));
                self.phase = Phase::Speaking {
                    speech_start,
                    silence_since,
                    quiet_since,
                };
                let pause_start = self.phase.pause_start();
                if was_paused_at.is_some()
                    && self.paused_at == was_paused_at
                    && pause_start != was_paused_at
                {
                    events.push(VadEvent::Resumed);
                }
                if self.end_requested.is_some() && self.end_requested != pause_start {
                    self.end_requested = None;
                }
                if self.end_requested.is_some() && silence_since.is_some() {
                    events.extend(self.end_now());
                } else if silence_since.is_some_and(|s| window_end - s >= end_silence) {
                    let speech_end = pause_start.expect("silent, so paused");
                    let end = window_end.min(speech_end + tail);
                    events.push(self.emit_utterance(
                        speech_start,
                        speech_end,
                        end,
                        EndReason::Silence,
                    ));
                    self.reset_to_idle();
                } else if window_end - self.utterance_start >= max_utterance {
                    let speech_end = pause_start.unwrap_or(window_end);
                    events.push(self.emit_utterance(
                        speech_start,
                        speech_end,
                        window_end,
                        EndReason::MaxLength,
                    ));
                    self.reset_to_idle();
                    if !is_silence {
                        // Still talking: the next utterance starts right here.
                        self.utterance_start = window_end;
                        self.phase = Phase::Speaking {
                            speech_start: window_end,
                            silence_since: None,
                            quiet_since: None,
                        };
                        events.push(VadEvent::SpeechStarted {
                            at_sample: window_end,
                        });
                    }
                } else if let Some(pause_start) = pause_start {
                    self.offer_pause(pause_start, window_end, tail, events);
                }
            }
        }
    }

    /// Ends the utterance at its current pause without waiting for
    /// `end_silence_ms`: the call decided from the words of the pause that
    /// the caller is done. `start_sample` and `end_sample` are those of the
    /// `Paused` event; if speech has resumed since, or that utterance has
    /// already ended, nothing happens. The `UtteranceEnded` carries exactly
    /// the paused samples. Silero must agree that the caller is silent (a
    /// quiet gap alone, a comma or a stop consonant, never ends a turn):
    /// until it does, the request waits, and a later `push` ends the
    /// utterance.
    pub fn end_at_pause(&mut self, start_sample: u64, end_sample: u64) -> Vec<VadEvent> {
        let Some(pause_start) = self.phase.pause_start() else {
            return Vec::new();
        };
        if self.paused_at != Some(pause_start) || self.utterance_start != start_sample {
            return Vec::new();
        }
        let end = pause_start + ms_to_samples(self.config.tail_ms);
        let kept = ((end - self.utterance_start) as usize).min(self.utterance.len()) as u64;
        if self.utterance_start + kept != end_sample {
            return Vec::new();
        }
        self.end_requested = Some(pause_start);
        match self.phase {
            Phase::Speaking {
                silence_since: Some(_),
                ..
            } => self.end_now().into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Ends the utterance at the requested pause.
    fn end_now(&mut self) -> Option<VadEvent> {
        let pause_start = self.end_requested.take()?;
        let Phase::Speaking { speech_start, .. } = self.phase else {
            return None;
        };
        let end = pause_start + ms_to_samples(self.config.tail_ms);
        let event = self.emit_utterance(speech_start, pause_start, end, EndReason::Sentence);
        self.reset_to_idle();
        Some(event)
    }

    /// Emits `Paused` once per pause that has lasted `speculate_after_ms`,
    /// with the audio `emit_utterance` would take if the pause ends the
    /// utterance: up to `tail` after the speech.
    fn offer_pause(
        &mut self,
        pause_start: u64,
        window_end: u64,
        tail: u64,
        events: &mut Vec<VadEvent>,
    ) {
        if self.config.speculate_after_ms == 0 || self.paused_at == Some(pause_start) {
            return;
        }
        let mut after = ms_to_samples(self.config.speculate_after_ms).max(tail);
        if matches!(
            self.phase,
            Phase::Speaking {
                silence_since: None,
                ..
            }
        ) {
            after += ms_to_samples(QUIET_PAUSE_EXTRA_MS);
        }
        if window_end - pause_start < after {
            return;
        }
        self.paused_at = Some(pause_start);
        let end = pause_start + tail;
        let keep = ((end - self.utterance_start) as usize).min(self.utterance.len());
        events.push(VadEvent::Paused {
            samples: self.utterance[..keep].to_vec(),
            start_sample: self.utterance_start,
            end_sample: self.utterance_start + keep as u64,
        });
    }

    fn confirm_if_long_enough(&mut self, events: &mut Vec<VadEvent>) {
        if let Phase::Candidate {
            speech_start,
            speech_samples,
            silence_since,
        } = self.phase
            && speech_samples >= ms_to_samples(self.config.min_speech_ms)
        {
            self.phase = Phase::Speaking {
                speech_start,
                silence_since,
                quiet_since: None,
            };
            events.push(VadEvent::SpeechStarted {
                at_sample: speech_start,
            });
        }
    }

    /// Takes the utterance audio up to `end` (trimming the trailing silence
    /// beyond it) and keeps the trimmed part as pre-roll history.
    fn emit_utterance(
        &mut self,
        speech_start: u64,
        speech_end: u64,
        end: u64,
        reason: EndReason,
    ) -> VadEvent {
        let keep = (end - self.utterance_start) as usize;
        let keep = keep.min(self.utterance.len());
        let trimmed: Vec<i16> = self.utterance.drain(keep..).collect();
        let samples = std::mem::take(&mut self.utterance);
        let start_sample = self.utterance_start;
        self.history.clear();
        let pre_roll = ms_to_samples(self.config.pre_roll_ms) as usize;
        self.history.extend(
            trimmed[trimmed.len().saturating_sub(pre_roll)..]
                .iter()
                .copied(),
        );
        tracing::debug!(
            start_ms = samples_to_ms(start_sample),
            duration_ms = samples_to_ms(samples.len() as u64),
            ?reason,
            "utterance ended"
        );
        VadEvent::UtteranceEnded {
            end_sample: start_sample + samples.len() as u64,
            samples,
            start_sample,
            speech_start_sample: speech_start,
            speech_end_sample: speech_end.max(speech_start),
            reason,
        }
    }

    fn reset_to_idle(&mut self) {
        self.end_requested = None;
        self.utterance.clear();
        self.phase = Phase::Idle;
    }
}

/// Silero's hysteresis: silence starts at the first window below the silence
/// threshold and is cancelled only by a window at or above the speech threshold.
fn next_silence(
    silence_since: Option<u64>,
    is_speech: bool,
    is_silence: bool,
    window_start: u64,
) -> Option<u64> {
    if is_speech {
        None
    } else if is_silence {
        silence_since.or(Some(window_start))
    } else {
        silence_since
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn model() -> Option<Arc<VadModel>> {
        let paths = ModelPaths::locate();
        if !paths.vad().is_file() || !paths.onnxruntime().is_file() {
            eprintln!(
                "models not found at {}, skipping (set FRONTDESK_MODELS_DIR)",
                paths.root.display()
            );
            return None;
        }
        static MODEL: std::sync::OnceLock<Arc<VadModel>> = std::sync::OnceLock::new();
        Some(
            MODEL
                .get_or_init(|| Vad::load(&paths).expect("loading Silero VAD"))
                .clone(),
        )
    }

    fn corpus_wav(name: &str) -> Option<Vec<i16>> {
        let dir = std::env::var("FRONTDESK_CORPUS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"))
            });
        let path = dir.join("audio").join(name);
        if !path.is_file() {
            eprintln!("corpus not found at {}, skipping", dir.display());
            return None;
        }
        let mut reader = hound::WavReader::open(&path).unwrap();
        let spec = reader.spec();
        assert_eq!(
            (spec.sample_rate, spec.channels, spec.bits_per_sample),
            (8000, 1, 16)
        );
        Some(reader.samples::<i16>().map(Result::unwrap).collect())
    }

    struct Run {
        events: Vec<VadEvent>,
        /// Sample count pushed when each event was returned.
        emitted_at: Vec<u64>,
    }

    fn run(model: &Arc<VadModel>, config: EndpointConfig, audio: &[i16], frame: usize) -> Run {
        let mut endpointer = model.new_stream(config);
        let mut run = Run {
            events: Vec::new(),
            emitted_at: Vec::new(),
        };
        for chunk in audio.chunks(frame) {
            for event in endpointer.push(chunk).unwrap() {
                run.emitted_at.push(endpointer.samples_received());
                run.events.push(event);
            }
        }
        for event in endpointer.finish() {
            run.emitted_at.push(endpointer.samples_received());
            run.events.push(event);
        }
        run
    }

    fn utterances(events: &[VadEvent]) -> Vec<&VadEvent> {
        events
            .iter()
            .filter(|e| matches!(e, VadEvent::UtteranceEnded { .. }))
            .collect()
    }

    #[test]
    fn model_inputs_are_as_expected() {
        let Some(model) = model() else { return };
        let session = model.session.lock().unwrap();
        let inputs: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
        eprintln!("silero inputs {inputs:?} outputs {outputs:?}");
        assert_eq!(inputs, ["input", "state", "sr"]);
        assert_eq!(outputs, ["output", "stateN"]);
    }

    #[test]
    fn harvard_sentences_give_one_utterance_each() {
        let Some(model) = model() else { return };
        let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
            return;
        };
        let config = EndpointConfig::default();
        let started = Instant::now();
        let run = run(&model, config.clone(), &audio, 160);
        let elapsed = started.elapsed();
        let windows = audio.len() / WINDOW_SAMPLES;
        eprintln!(
            "VAD: {windows} windows in {elapsed:?} = {:.1} µs/window (unoptimised test build of our crate)",
            elapsed.as_secs_f64() * 1e6 / windows as f64
        );
        let ends = utterances(&run.events);
        for e in &ends {
            if let VadEvent::UtteranceEnded {
                start_sample,
                end_sample,
                speech_start_sample,
                speech_end_sample,
                ..
            } = e
            {
                eprintln!(
                    "utterance {:>6}..{:>6} ms, speech {:>6}..{:>6} ms",
                    samples_to_ms(*start_sample),
                    samples_to_ms(*end_sample),
                    samples_to_ms(*speech_start_sample),
                    samples_to_ms(*speech_end_sample)
                );
            }
        }
        // Ten Harvard sentences with pauses between them; the last one ("When
        // you hear the bell, come quickly.") has a ~340 ms pause at its comma,
        // longer than the 300 ms end-of-utterance silence, so it may split.
        assert!(
            (10..=11).contains(&ends.len()),
            "expected ~10 utterances, got {}",
            ends.len()
        );
        // Every utterance is announced first, in order, and ends by silence.
        let mut expecting_start = true;
        let mut previous_end = 0;
        for event in &run.events {
            match event {
                VadEvent::SpeechStarted { .. } => {
                    assert!(expecting_start);
                    expecting_start = false
                }
                VadEvent::UtteranceEnded {
                    samples,
                    start_sample,
                    end_sample,
                    speech_start_sample,
                    speech_end_sample,
                    reason,
                } => {
                    assert!(!expecting_start);
                    expecting_start = true;
                    assert_eq!(*reason, EndReason::Silence);
                    assert_eq!(samples.len() as u64, end_sample - start_sample);
                    // The samples are the audio at those positions.
                    assert_eq!(
                        &samples[..],
                        &audio[*start_sample as usize..*end_sample as usize]
                    );
                    // Pre-roll before speech, a short tail after it.
                    let pre_roll = speech_start_sample - start_sample;
                    assert!(pre_roll <= ms_to_samples(config.pre_roll_ms));
                    assert!(
                        pre_roll >= ms_to_samples(config.pre_roll_ms) / 2 || *start_sample == 0
                    );
                    assert!(end_sample - speech_end_sample <= ms_to_samples(config.tail_ms));
                    let speech_ms = samples_to_ms(speech_end_sample - speech_start_sample);
                    assert!(
                        (500..=4_000).contains(&speech_ms),
                        "a sentence (or clause) lasts 0.5-4 s, got {speech_ms} ms"
                    );
                    assert!(
                        *start_sample >= previous_end,
                        "utterances are in order and disjoint"
                    );
                    previous_end = *end_sample;
                }
                // Checked by each_pause_that_ends_an_utterance_was_offered_with_the_same_audio.
                VadEvent::Paused { .. } | VadEvent::Resumed => {}
            }
        }
        // End of speech is reported within end_silence of Silero's silence,
        // which may start a few windows after the voice's (`quiet_dbfs`).
        for (event, &at) in run.events.iter().zip(&run.emitted_at) {
            if let VadEvent::UtteranceEnded {
                speech_end_sample, ..
            } = event
            {
                let delay = at - speech_end_sample;
                assert!(
                    delay <= ms_to_samples(config.end_silence_ms) + 6 * WINDOW_SAMPLES as u64,
                    "utterance reported {} ms after speech ended",
                    samples_to_ms(delay)
                );
            }
        }
    }

    /// Every offered pause is settled: speech resumes (`Resumed`) or the
    /// utterance ends, before anything else is offered.
    #[test]
    fn every_pause_is_followed_by_resumed_speech_or_an_end() {
        let Some(model) = model() else { return };
        let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
            return;
        };
        let events = run(&model, EndpointConfig::default(), &audio, 160).events;
        let (mut open, mut resumed) = (false, 0);
        for event in &events {
            match event {
                VadEvent::Paused { .. } => {
                    assert!(!open, "a pause offered before the last one was settled");
                    open = true;
                }
                VadEvent::Resumed => {
                    assert!(open, "resumed without a pause");
                    open = false;
                    resumed += 1;
                }
                VadEvent::UtteranceEnded { .. } => open = false,
                VadEvent::SpeechStarted { .. } => assert!(!open),
            }
        }
        assert!(resumed >= 1, "the Harvard sentences pause inside sentences");
    }

    /// Ending at a pause gives the paused audio, at once or as soon as
    /// Silero also hears silence; a stale request (speech resumed, or
    /// positions of another pause) changes nothing.
    #[test]
    fn a_pause_can_end_the_utterance_early_with_the_paused_audio() {
        let Some(model) = model() else { return };
        let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
            return;
        };
        let mut endpointer = model.new_stream(EndpointConfig::default());
        let (mut ended_early, mut waited_for_silero, mut stale_ignored) = (0, 0, 0);
        // The pause whose early end was asked for.
        let mut asked: Option<(Vec<i16>, u64, u64)> = None;
        for chunk in audio.chunks(160) {
            let mut events = endpointer.push(chunk).unwrap();
            while !events.is_empty() {
                let mut more = Vec::new();
                for event in events {
                    match event {
                        VadEvent::Paused {
                            samples,
                            start_sample,
                            end_sample,
                        } => {
                            // A request for a pause that is not this one is ignored.
                            assert!(
                                endpointer
                                    .end_at_pause(start_sample, end_sample + 1)
                                    .is_empty()
                            );
                            stale_ignored += 1;
                            // End the first few pauses early; later ones end by silence.
                            if ended_early <= 3 {
                                more = endpointer.end_at_pause(start_sample, end_sample);
                                waited_for_silero += usize::from(more.is_empty());
                                asked = Some((samples, start_sample, end_sample));
                            }
                        }
                        VadEvent::Resumed => asked = None,
                        VadEvent::UtteranceEnded {
                            samples,
                            start_sample,
                            end_sample,
                            reason,
                            ..
                        } => {
                            let wanted = asked.take();
                            if reason != EndReason::Sentence {
                                continue;
                            }
                            let (paused, s, e) = wanted.expect("an early end nobody asked for");
                            assert_eq!((s, e), (start_sample, end_sample));
                            assert!(paused == samples, "the early end has the paused audio");
                            // Asking twice ends nothing more.
                            assert!(endpointer.end_at_pause(s, e).is_empty());
                            ended_early += 1;
                        }
                        VadEvent::SpeechStarted { .. } => {}
                    }
                }
                events = more;
            }
        }
        assert!(ended_early >= 4, "only {ended_early} early ends");
        assert!(stale_ignored >= ended_early);
        // (Waiting for Silero: `tests/vad_caller_speech.rs`.)
        println!("{waited_for_silero} of {ended_early} early ends waited for Silero");
    }

    /// The pause is offered as soon as the voice stops, with the same audio
    /// the utterance then ends with; a short quiet gap inside speech ends
    /// nothing. (How much sooner than Silero alone, on a caller's faint
    /// tail: `tests/vad_caller_speech.rs`.)
    #[test]
    fn a_pause_is_offered_from_the_first_quiet_window() {
        let Some(model) = model() else { return };
        let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
            return;
        };
        // The first sentence, cut where its voice ends, then digital silence.
        let config = EndpointConfig::default();
        let first = run(&model, config.clone(), &audio, 160);
        let Some(VadEvent::UtteranceEnded {
            start_sample,
            speech_start_sample,
            speech_end_sample,
            ..
        }) = utterances(&first.events).first().copied().cloned()
        else {
            panic!("no utterance");
        };
        let voiced_end = (start_sample as usize..speech_end_sample as usize + 4000)
            .rev()
            .find(|&i| audio[i].unsigned_abs() >= 300)
            .expect("voice in the first sentence")
            + 1;
        let mut cut = audio[..voiced_end].to_vec();
        cut.extend(std::iter::repeat_n(0i16, 8000));
        let paused_at = |config: EndpointConfig| {
            let run = run(&model, config, &cut, 160);
            let ended = run
                .events
                .iter()
                .position(|e| matches!(e, VadEvent::UtteranceEnded { .. }))
                .expect("an utterance");
            let (i, end) = run.events[..ended]
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, e)| match e {
                    VadEvent::Paused { end_sample, .. } => Some((i, *end_sample)),
                    _ => None,
                })
                .expect("a pause before the end");
            let VadEvent::UtteranceEnded { end_sample, .. } = &run.events[ended] else {
                unreachable!()
            };
            assert_eq!(
                *end_sample, end,
                "the utterance ends as the pause was offered"
            );
            run.emitted_at[i]
        };
        let with_quiet = paused_at(config.clone());
        let silero_alone = paused_at(EndpointConfig {
            quiet_dbfs: None,
            ..config.clone()
        });
        let after_voice_ms = samples_to_ms(with_quiet - voiced_end as u64);
        assert!(
            after_voice_ms <= u64::from(config.speculate_after_ms) + 64,
            "offered {after_voice_ms} ms after the voice stopped"
        );
        assert!(
            silero_alone >= with_quiet,
            "Silero alone offered the pause sooner"
        );

        // 160 ms of digital silence inside a sentence: a pause is offered
        // and resumed, and the sentence stays one utterance.
        let mut gapped = audio[..voiced_end].to_vec();
        gapped.extend(std::iter::repeat_n(0i16, 1280));
        gapped.extend_from_slice(&audio[speech_start_sample as usize..voiced_end]);
        gapped.extend(std::iter::repeat_n(0i16, 8000));
        let run = run(&model, config, &gapped, 160);
        assert!(run.events.iter().any(|e| matches!(e, VadEvent::Resumed)));
        assert_eq!(utterances(&run.events).len(), 1, "{:?}", run.events.len());
    }

    #[test]
    fn each_pause_that_ends_an_utterance_was_offered_with_the_same_audio() {
        let Some(model) = model() else { return };
        let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
            return;
        };
        let config = EndpointConfig::default();
        let offered = run(&model, config.clone(), &audio, 160);
        let mut last_pause: Option<(&Vec<i16>, u64, u64, u64)> = None;
        let mut matched = 0;
        for (event, &at) in offered.events.iter().zip(&offered.emitted_at) {
            match event {
                VadEvent::Paused {
                    samples,
                    start_sample,
                    end_sample,
                } => {
                    assert_eq!(samples.len() as u64, end_sample - start_sample);
                    last_pause = Some((samples, *start_sample, *end_sample, at));
                }
                VadEvent::UtteranceEnded {
                    samples,
                    start_sample,
                    end_sample,
                    reason: EndReason::Silence,
                    ..
                } => {
                    let (p_samples, p_start, p_end, p_at) =
                        last_pause.take().expect("a pause before every silence end");
                    assert_eq!((p_start, p_end), (*start_sample, *end_sample));
                    assert!(p_samples == samples, "paused audio differs");
                    // Offered once the pause had lasted long enough.
                    let pause_start = p_end - ms_to_samples(config.tail_ms);
                    let waited_ms = samples_to_ms(p_at - pause_start);
                    assert!(
                        waited_ms >= u64::from(config.speculate_after_ms.max(config.tail_ms)),
                        "the pause was offered {waited_ms} ms after it began"
                    );
                    assert!(at > p_at);
                    matched += 1;
                }
                VadEvent::SpeechStarted { .. } | VadEvent::Resumed => last_pause = None,
                VadEvent::UtteranceEnded { .. } => {}
            }
        }
        assert!(matched >= 5, "only {matched} utterances");
        // Without speculation no pause is offered.
        let off = EndpointConfig {
            speculate_after_ms: 0,
            ..config
        };
        let quiet = run(&model, off, &audio, 160);
        assert!(
            !quiet
                .events
                .iter()
                .any(|e| matches!(e, VadEvent::Paused { .. }))
        );
        assert_eq!(utterances(&quiet.events), utterances(&offered.events));
    }

    #[test]
    fn frame_size_does_not_change_events() {
        let Some(model) = model() else { return };
        let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
            return;
        };
        let audio = &audio[..8000 * 10];
        let reference = run(&model, EndpointConfig::default(), audio, 160).events;
        assert!(!utterances(&reference).is_empty());
        for frame in [1, 37, 256, 1000, audio.len()] {
            assert_eq!(
                run(&model, EndpointConfig::default(), audio, frame).events,
                reference,
                "frame {frame}"
            );
        }
    }

    #[test]
    fn streams_sharing_a_model_keep_their_own_state() {
        let Some(model) = model() else { return };
        let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
            return;
        };
        let audio = &audio[..8000 * 8];
        let alone = run(&model, EndpointConfig::default(), audio, 160).events;
        // Interleave a speech stream with a silence stream on the same model.
        let mut speech = model.new_stream(EndpointConfig::default());
        let mut silence = model.new_stream(EndpointConfig::default());
        let mut events = Vec::new();
        for chunk in audio.chunks(160) {
            events.extend(speech.push(chunk).unwrap());
            assert!(silence.push(&[0; 160]).unwrap().is_empty());
        }
        events.extend(speech.finish());
        assert_eq!(events, alone);
        // And from several threads at once.
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let model = Arc::clone(&model);
                let audio = audio.to_vec();
                std::thread::spawn(move || {
                    run(&model, EndpointConfig::default(), &audio, 160).events
                })
            })
            .collect();
        for handle in handles {
            assert_eq!(handle.join().unwrap(), alone);
        }
    }

    #[test]
    fn silence_and_noise_give_no_utterance() {
        let Some(model) = model() else { return };
        let silence = vec![0i16; 8000 * 10];
        assert!(
            run(&model, EndpointConfig::default(), &silence, 160)
                .events
                .is_empty()
        );
        // Deterministic white noise at about -30 dBFS, and line hiss at -50 dBFS.
        let mut seed: u32 = 0x1234_5678;
        let mut noise = |amplitude: f32| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((seed >> 16) as f32 / 65_535.0 * 2.0 - 1.0) * amplitude
        };
        let loud: Vec<i16> = (0..8000 * 10).map(|_| noise(1_700.0) as i16).collect();
        let hiss: Vec<i16> = (0..8000 * 10).map(|_| noise(170.0) as i16).collect();
        for (name, audio) in [("noise", loud), ("hiss", hiss)] {
            let events = run(&model, EndpointConfig::default(), &audio, 160).events;
            assert!(
                utterances(&events).is_empty(),
                "{name} produced {} events",
                events.len()
            );
        }
    }

    #[test]
    fn long_speech_is_cut_at_max_length() {
        let Some(model) = model() else { return };
        let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
            return;
        };
        let config = EndpointConfig {
            max_utterance_ms: 1_000,
            ..EndpointConfig::default()
        };
        let events = run(&model, config.clone(), &audio, 160).events;
        let mut cuts = 0;
        for event in utterances(&events) {
            let VadEvent::UtteranceEnded {
                samples, reason, ..
            } = event
            else {
                unreachable!()
            };
            assert!(samples.len() as u64 <= ms_to_samples(1_000) + WINDOW_SAMPLES as u64);
            cuts += usize::from(*reason == EndReason::MaxLength);
        }
        assert!(
            cuts >= 10,
            "every 1.5-3 s sentence is cut at least once, got {cuts}"
        );
    }

    #[test]
    fn finish_flushes_speech_in_progress() {
        let Some(model) = model() else { return };
        let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
            return;
        };
        let full = run(&model, EndpointConfig::default(), &audio, 160).events;
        let VadEvent::UtteranceEnded {
            speech_start_sample,
            speech_end_sample,
            ..
        } = utterances(&full)[0]
        else {
            unreachable!()
        };
        // Hang up in the middle of the first sentence.
        let cut = ((speech_start_sample + speech_end_sample) / 2) as usize + 77;
        let mut endpointer = model.new_stream(EndpointConfig::default());
        let mut events = endpointer.push(&audio[..cut]).unwrap();
        assert_eq!(
            events,
            vec![VadEvent::SpeechStarted {
                at_sample: *speech_start_sample
            }]
        );
        events = endpointer.finish();
        let [
            VadEvent::UtteranceEnded {
                samples,
                end_sample,
                reason,
                ..
            },
        ] = &events[..]
        else {
            panic!("expected one utterance, got {events:?}")
        };
        assert_eq!(*reason, EndReason::Finished);
        assert_eq!(*end_sample, cut as u64, "the partial window is included");
        assert_eq!(samples.last(), audio.get(cut - 1));
        assert!(endpointer.finish().is_empty(), "nothing is emitted twice");
    }

    /// Per-window cost. `cargo test --release --lib audio::vad::tests::bench -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn bench_window_cost() {
        let Some(model) = model() else { return };
        let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
            return;
        };
        let mut detector = model.new_detector();
        let windows: Vec<&[i16]> = audio.chunks_exact(WINDOW_SAMPLES).collect();
        for window in windows.iter().take(20) {
            detector.probability(window).unwrap();
        }
        let mut per_window_us: Vec<f64> = Vec::new();
        for _ in 0..3 {
            detector.reset();
            for window in &windows {
                let started = Instant::now();
                detector.probability(window).unwrap();
                per_window_us.push(started.elapsed().as_secs_f64() * 1e6);
            }
        }
        per_window_us.sort_by(f64::total_cmp);
        let mean = per_window_us.iter().sum::<f64>() / per_window_us.len() as f64;
        let p = |q: f64| per_window_us[((per_window_us.len() - 1) as f64 * q) as usize];
        eprintln!(
            "silero window (256 samples = 32 ms): mean {mean:.1} µs, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs over {} windows; real-time factor {:.4}",
            p(0.5),
            p(0.99),
            p(1.0),
            per_window_us.len(),
            mean / 32_000.0
        );
    }
}
