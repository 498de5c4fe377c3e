//! Recognition of the caller's utterances: a job's result and timing,
//! the speculative recognition started in a pause, and its verdict.

use crate::stt::{SpeechToText, SttError};

/// A recognition job's result and when it ran (for [`crate::call::timing`]).
pub(super) struct Recognition {
    pub(super) result: Result<String, SttError>,
    pub(super) started: std::time::Instant,
    pub(super) done: std::time::Instant,
    /// The audio end-of-turn verdict on the same audio (probability that
    /// the turn is over), when the model gave one.
    pub(super) turn_complete: Option<f32>,
}

impl Recognition {
    pub(super) async fn run(
        stt: &SpeechToText,
        samples_16k: Vec<f32>,
        hint: Option<crate::stt::Hint>,
    ) -> Recognition {
        let started = std::time::Instant::now();
        Recognition::timed(started, stt.try_transcribe_hinted(samples_16k, hint).await)
    }

    pub(super) fn timed(
        started: std::time::Instant,
        result: Result<crate::stt::Transcript, SttError>,
    ) -> Recognition {
        Recognition {
            result: result.map(|t| t.text),
            started,
            done: std::time::Instant::now(),
            turn_complete: None,
        }
    }
}

/// Recognition started while the caller paused; used if the pause turns
/// out to end the utterance (same samples, same positions). Until then it
/// gives way to other calls' needed utterances.
pub(super) struct Speculation {
    pub(super) start_sample: u64,
    pub(super) end_sample: u64,
    pub(super) claim: crate::stt::GuessClaim,
    pub(super) task: tokio::task::JoinHandle<Recognition>,
}

impl Speculation {
    pub(super) fn matches(&self, start_sample: u64, end_sample: u64) -> bool {
        (self.start_sample, self.end_sample) == (start_sample, end_sample)
    }
}

/// A speculative transcript is ready: did it read, and sound, finished?
pub(super) struct Guess {
    pub(super) start_sample: u64,
    pub(super) end_sample: u64,
    pub(super) finished: bool,
}
