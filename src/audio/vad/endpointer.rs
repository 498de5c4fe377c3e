//! The endpointing rules, with no model: per-window speech probabilities
//! and levels in, [`VadEvent`]s out.
//!
//! A window ([`WINDOW_SAMPLES`], 32 ms) at or above `speech_threshold`
//! starts a candidate; `min_speech_ms` of windows not below
//! `silence_threshold` confirm it (`SpeechStarted`), shorter blips are
//! dropped. Once speaking, a pause begins at the first window Silero calls
//! silent or the first quieter than `quiet_dbfs`, whichever comes first;
//! after `speculate_after_ms` of it (one window more if only the quiet has
//! seen it) the utterance so far is offered (`Paused`), and speech going on
//! takes the offer back (`Resumed`). Only Silero's silence ends an
//! utterance: after `end_silence_ms`, or at once when the call asks
//! ([`EndpointRules::end_at_pause`]) and Silero hears silence. An utterance
//! reaching `max_utterance_ms` is cut. Thresholds are applied with
//! hysteresis: only a speech window cancels a silence.
//!
//! On a line with voices behind the caller (`background_margin_db`), a
//! window near the line's background level counts as silence whatever
//! Silero says, so the background neither starts an utterance nor keeps
//! one from ending; starting one takes 4 dB more than going on. Nothing
//! starts in the line's first [`MIN_WINDOWS`](super::background::MIN_WINDOWS),
//! before that level is known.
//!
//! Time is counted in samples received, never wall-clock: a replayed call
//! pushed ten times faster than real time gives the same events.

use std::collections::VecDeque;

use super::background::{BackgroundFloor, NOISY_LINE_DBFS};
use super::{WINDOW_SAMPLES, ms_to_samples, samples_to_ms};

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
    /// On a line with audible background (people talking behind the
    /// caller), a window less than this many dB above the line's floor is
    /// the background, silent whatever Silero says (`background`). `None`:
    /// every voice is the caller's.
    pub background_margin_db: Option<f32>,
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
/// A caller is this far above the voices behind them, in the line's level
/// smoothed over 192 ms (`background`): six Piper voices talking 15 dB
/// under a caller, and 10 dB under, stayed below it in every window
/// (`tests/vad_caller_speech.rs`), the caller's words mostly above it.
pub const DEFAULT_BACKGROUND_MARGIN_DB: f32 = 8.0;
/// Added to `background_margin_db` for a window to start an utterance: in
/// whole calls with a waiting room behind the caller, babble still started
/// utterances ("and", "and we'll be right.") at the line's quietest
/// moments, while a caller's first syllables clear the floor by more.
const BACKGROUND_START_EXTRA_DB: f32 = 4.0;

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
            background_margin_db: Some(DEFAULT_BACKGROUND_MARGIN_DB),
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
    /// call ended the turn early ([`EndpointRules::end_at_pause`]).
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

/// The endpointing rules for one stream: fed whole windows of audio with
/// their speech probability, it keeps the utterance audio and says when
/// speech starts, pauses, resumes and ends. No model: the probabilities
/// come from whoever calls [`EndpointRules::on_window`] (Silero in
/// [`super::Endpointer`], a table of numbers in the tests).
pub struct EndpointRules {
    config: EndpointConfig,
    /// Samples covered by the windows seen so far.
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
    /// The line's background level (`background_margin_db`).
    background: BackgroundFloor,
    /// Whether the last window found the line noisy, so the change is
    /// logged once.
    noisy_line: bool,
}

impl EndpointRules {
    pub fn new(config: EndpointConfig) -> EndpointRules {
        let pre_roll = ms_to_samples(config.pre_roll_ms) as usize;
        EndpointRules {
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
            background: BackgroundFloor::default(),
            noisy_line: false,
            config,
        }
    }

    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// Samples covered by the windows seen so far (and a final partial one).
    pub fn processed_samples(&self) -> u64 {
        self.processed_samples
    }

    /// Ends the stream (hang-up): emits a confirmed utterance still in
    /// progress, including `partial`, the samples that did not fill a
    /// window. Unconfirmed blips are dropped.
    pub fn finish(&mut self, partial: &[i16]) -> Vec<VadEvent> {
        let mut events = Vec::new();
        let end = self.processed_samples + partial.len() as u64;
        if let Phase::Speaking { speech_start, .. } = self.phase {
            self.utterance.extend_from_slice(partial);
            let speech_end = self.phase.pause_start().unwrap_or(end);
            events.push(self.emit_utterance(speech_start, speech_end, end, EndReason::Finished));
        }
        self.processed_samples = end;
        self.reset_to_idle();
        events
    }

    /// One window of exactly [`WINDOW_SAMPLES`] samples and the probability
    /// that it holds speech; the events it completes are appended to
    /// `events`. Its level (`quiet_dbfs`) is measured here.
    pub fn on_window(&mut self, window: &[i16], probability: f32, events: &mut Vec<VadEvent>) {
        debug_assert_eq!(window.len(), WINDOW_SAMPLES);
        let window_start = self.processed_samples;
        let window_end = window_start + WINDOW_SAMPLES as u64;
        self.processed_samples = window_end;
        let energy: f64 = window.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        let level = self.background.smoothed_dbfs(energy, window.len());
        // Starting takes a clearer voice than going on (`BACKGROUND_START_EXTRA_DB`).
        let is_background = self.is_background(level, matches!(self.phase, Phase::Idle));
        let is_speech = probability >= self.config.speech_threshold && !is_background;
        let is_silence = probability < self.config.silence_threshold || is_background;
        let is_quiet = self.quiet_energy.is_some_and(|quiet| energy < quiet);
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

    /// Whether the line at `dbfs` (smoothed) is its background, not the
    /// caller (or comes before the floor is known, when that cannot be
    /// told); the level joins the floor's history afterwards.
    fn is_background(&mut self, dbfs: f32, starting: bool) -> bool {
        let Some(margin) = self.config.background_margin_db else {
            return false;
        };
        let margin = margin
            + if starting {
                BACKGROUND_START_EXTRA_DB
            } else {
                0.0
            };
        // Until the line has been heard for a moment nothing starts: the
        // first windows of a noisy line would be taken for the caller.
        let background =
            self.background.floor_dbfs().is_none() || self.background.is_background(dbfs, margin);
        let noisy = self
            .background
            .floor_dbfs()
            .is_some_and(|floor| floor >= NOISY_LINE_DBFS);
        if noisy != self.noisy_line {
            self.noisy_line = noisy;
            tracing::info!(
                noisy,
                floor_dbfs = self.background.floor_dbfs().map(|f| f.round()),
                at_ms = samples_to_ms(self.processed_samples),
                "line background changed: voices this close to it are not the caller's"
            );
        }
        self.background.push(dbfs);
        background
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
#[path = "endpointer_tests.rs"]
mod tests;
