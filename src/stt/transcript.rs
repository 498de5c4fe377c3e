//! What recognition is given and gives back: the hint of words to expect,
//! the transcript, and why there is none. Both the worker pool (`engine`)
//! and its queue (`jobs`) speak these, so neither imports the other for them.

use std::sync::Arc;

/// Words the caller's next utterance is likely to contain ("Dr. Patel,
/// nurse practitioner Sarah Chen", or drug names when the agent asked for
/// a medication), given to Whisper as the text that came before
/// (`initial_prompt`). It biases the decoder towards those spellings
/// without forcing them: Whisper tiny at 8 kHz otherwise hears "Sarah
/// Chen" as "their chin" and "lisinopril" as "listen app role".
pub type Hint = Arc<str>;

/// What Whisper heard.
#[derive(Clone, Debug, PartialEq)]
pub struct Transcript {
    /// Cleaned text; empty when nothing was said.
    pub text: String,
    /// Duration of the audio given.
    pub audio_ms: u64,
    /// Time spent decoding, excluding time in the queue.
    pub compute_ms: u64,
    /// Time spent waiting for a worker.
    pub queue_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SttError {
    /// Every worker is busy and the queue is full. The caller decides: drop
    /// the utterance, ask the caller to repeat, or retry later.
    #[error("speech-to-text is saturated ({capacity} utterances already running or queued)")]
    Saturated { capacity: usize },
    /// A guess ([`SpeechToText::guess`]) gave its place to words a caller
    /// is waiting on.
    #[error("a speculative transcription gave way to a needed one")]
    GaveWay,
    #[error("speech-to-text has stopped")]
    Stopped,
    #[error("invalid audio: {0}")]
    InvalidAudio(String),
    #[error("whisper failed: {0}")]
    Inference(String),
}
