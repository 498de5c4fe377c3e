//! One answer is one answer: words the caller has not finished are held
//! and joined to what follows, instead of being answered on their own.
//!
//! Three cases. Words whose transcript arrives while the caller is
//! already speaking again (or, up to three words, while more of their
//! speech is still being recognised) are the start of a sentence ("No,"
//! … "actually I need to book"): held until the rest comes, answered
//! alone after [`HOLD_MS`] of quiet. An utterance that does not
//! stand alone ([`turn_end::stands_alone`]: "Yes," before "that's my
//! cell", "I'm calling because" before the request) is held for
//! [`FRAGMENT_HOLD_MS`] even when the caller has not started again yet: a
//! breath between two halves of one answer is often longer than the end
//! silence. And words whose sound says the caller is not done (the audio
//! end-of-turn model, [`crate::audio::end_of_turn`]: a voice left hanging
//! after "ask not", or "I'd like to book" heard by Whisper as a finished
//! "I'd like to book.") are held for [`UNFINISHED_HOLD_MS`], again after
//! each further pause up to [`MAX_FRAGMENTS`] pieces, as a person waits
//! for a caller who is reading a card or remembering a date. A finished
//! sentence is never held, so its reply latency is unchanged; an
//! unfinished one with nothing after it is answered at most the hold
//! later. Emergencies are never held.

use super::*;
use crate::audio::end_of_turn;

/// Longest utterance (in words) held as the start of a sentence while the
/// caller is speaking again.
const HOLD_MAX_WORDS: usize = 3;
/// How long held words wait for their continuation, once the caller is
/// quiet and nothing is being transcribed.
const HOLD_MS: u64 = 1500;
/// Longest unfinished utterance (in words) held for its continuation.
const FRAGMENT_MAX_WORDS: usize = 14;
/// How long an unfinished utterance waits for its continuation when the
/// caller has not started again: the extra latency, at most, of a reply
/// to words that were in fact all the caller meant to say.
const FRAGMENT_HOLD_MS: u64 = UNFINISHED_HOLD_MS;
/// How long words that sound unfinished wait for the rest, after their
/// transcript (itself about 0.3 s after the caller stopped): callers
/// pause for a second or more mid-sentence, and the agent starting to
/// speak in that pause cuts them off.
const UNFINISHED_HOLD_MS: u64 = 1200;
/// Most pieces one turn is held in: a caller who keeps pausing is
/// answered after the third pause however their voice sounds.
const MAX_FRAGMENTS: usize = 3;

/// A short utterance waiting for the rest of its sentence.
pub(super) struct HeldWords {
    pub(super) text: String,
    pub(super) understanding: Understanding,
    /// Caller audio position after which it is answered alone.
    pub(super) until_sample: u64,
    /// The turn's audio so far (16 kHz), which the end-of-turn model hears
    /// again in front of the rest.
    pub(super) audio_16k: Vec<f32>,
    /// Pieces of the turn held so far, this one included.
    pub(super) fragments: usize,
    /// When its speech ended and was recognised, so a reply to it alone
    /// is timed like any other (the hold counts as waiting for the end
    /// of the turn).
    pub(super) clock: ReplyClock,
}

/// Smart Turn's probability that the turn is over, off the async runtime;
/// `None` when the model failed (logged), so the words alone decide.
pub(super) async fn audio_verdict(model: Arc<EndOfTurnModel>, audio_16k: Vec<f32>) -> Option<f32> {
    match tokio::task::spawn_blocking(move || model.probability_complete(&audio_16k)).await {
        Ok(Ok(p)) => Some(p),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "no end-of-turn verdict; the words alone decide");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "the end-of-turn model's task failed");
            None
        }
    }
}

/// Whether the audio verdict lets the turn end: yes without one.
pub(super) fn sounds_complete(turn_complete: Option<f32>) -> bool {
    turn_complete.is_none_or(|p| p >= end_of_turn::COMPLETE_AT)
}

impl Call {
    /// Held words whose continuation never came (the next sound was a
    /// cough, or nothing) are answered on their own once their wait is over.
    pub(super) fn check_held(&mut self) {
        let due = self.held.as_ref().is_some_and(|h| {
            self.caller_samples >= h.until_sample
                && !self.caller_talking
                && self.utterances_pending == 0
        });
        if due
            && self.pending_event.is_none()
            && let Some(held) = self.held.take()
        {
            tracing::debug!("held words answered on their own");
            let now = std::time::Instant::now();
            self.pending_clock = Some(ReplyClock {
                heard: now,
                understood: now,
                ..held.clock
            });
            self.pending_event = Some(CallEvent::Utterance {
                text: held.text,
                understanding: held.understanding,
            });
        }
    }

    /// Times the reply to held words answered on their own, if one is
    /// being spoken.
    pub(super) fn time_held_reply(&mut self, clock: Option<ReplyClock>) {
        if let Some(clock) = clock
            && self.speaker.is_speaking()
        {
            self.reply_clock = Some(ReplyClock {
                decided: std::time::Instant::now(),
                ..clock
            });
        }
    }

    /// The caller's turn so far for the end-of-turn model: held words'
    /// audio, then `samples_16k`, the last eight seconds of it.
    pub(super) fn turn_audio(&self, samples_16k: &[f32]) -> Vec<f32> {
        let prefix = self.held.as_ref().map_or(&[][..], |h| &h.audio_16k[..]);
        let keep = end_of_turn::features::WINDOW_SAMPLES;
        let mut audio = Vec::with_capacity((prefix.len() + samples_16k.len()).min(keep));
        let from_prefix = keep.saturating_sub(samples_16k.len()).min(prefix.len());
        audio.extend_from_slice(&prefix[prefix.len() - from_prefix..]);
        audio.extend_from_slice(&samples_16k[samples_16k.len().saturating_sub(keep)..]);
        audio
    }

    /// How long (ms of caller audio) to hold `text` for the rest of its
    /// sentence, or `None` to answer it now (see the module docs).
    /// `turn_complete` is the audio verdict on it; `fragments`, how many
    /// pieces of this turn were held before it (only the audio holds a
    /// turn again).
    pub(super) fn hold_as_start(
        &self,
        text: &str,
        understanding: &Understanding,
        turn_complete: Option<f32>,
        fragments: usize,
    ) -> Option<u64> {
        if understanding.intent == Intent::Emergency
            || understanding.emergency.is_some()
            || understanding.possible_emergency.is_some()
            || fragments >= MAX_FRAGMENTS
        {
            return None;
        }
        // The caller is already saying more (recognition ran behind them):
        // answering now would talk over them, whatever these words were.
        if self.caller_talking {
            return Some(HOLD_MS);
        }
        if !sounds_complete(turn_complete) {
            return Some(UNFINISHED_HOLD_MS);
        }
        if fragments > 0 {
            return None;
        }
        let words = text.split_whitespace().count();
        let more_coming = self.utterances_pending > 0;
        if more_coming && words <= HOLD_MAX_WORDS {
            return Some(HOLD_MS);
        }
        if words <= FRAGMENT_MAX_WORDS && !turn_end::stands_alone(text) {
            return Some(if more_coming {
                HOLD_MS
            } else {
                FRAGMENT_HOLD_MS
            });
        }
        None
    }
}
