//! One answer is one answer: words the caller has not finished are held
//! and joined to what follows, instead of being answered on their own.
//!
//! Two cases. A short utterance (up to three words) whose transcript
//! arrives while the caller is already speaking again is the start of a
//! sentence ("No," … "actually I need to book"): held until the rest comes,
//! answered alone after [`HOLD_MS`] of quiet. And an utterance that does
//! not stand alone ([`turn_end::stands_alone`]: "Yes," before "that's my
//! cell", "I'm calling because" before the request) is held for
//! [`FRAGMENT_HOLD_MS`] even when the caller has not started again yet: a
//! breath between two halves of one answer is often longer than the end
//! silence. A finished sentence is never held, so its reply latency is
//! unchanged; an unfinished one with nothing after it is answered at most
//! [`FRAGMENT_HOLD_MS`] later. Emergencies are never held.

use super::*;

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
const FRAGMENT_HOLD_MS: u64 = 700;

/// A short utterance waiting for the rest of its sentence.
pub(super) struct HeldWords {
    pub(super) text: String,
    pub(super) understanding: Understanding,
    /// Caller audio position after which it is answered alone.
    pub(super) until_sample: u64,
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
            self.pending_event = Some(CallEvent::Utterance {
                text: held.text,
                understanding: held.understanding,
            });
        }
    }

    /// How long (ms of caller audio) to hold `text` for the rest of its
    /// sentence, or `None` to answer it now (see the module docs).
    pub(super) fn hold_as_start(&self, text: &str, understanding: &Understanding) -> Option<u64> {
        if understanding.intent == Intent::Emergency
            || understanding.emergency.is_some()
            || understanding.possible_emergency.is_some()
        {
            return None;
        }
        let words = text.split_whitespace().count();
        let more_coming = self.caller_talking || self.utterances_pending > 0;
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
