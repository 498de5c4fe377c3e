//! What happens in a call and how it ends: the words the call loop, the
//! dialogue, the store and the staff API share.

use serde::{Deserialize, Serialize};

use super::Understanding;

/// How a call ended, as stored in `calls.outcome` (spec `api.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    InProgress,
    Booked,
    Rescheduled,
    Cancelled,
    Answered,
    Escalated,
    Transferred,
    Emergency,
    Abandoned,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::InProgress => "in_progress",
            Outcome::Booked => "booked",
            Outcome::Rescheduled => "rescheduled",
            Outcome::Cancelled => "cancelled",
            Outcome::Answered => "answered",
            Outcome::Escalated => "escalated",
            Outcome::Transferred => "transferred",
            Outcome::Emergency => "emergency",
            Outcome::Abandoned => "abandoned",
        }
    }
}

/// What happens in the call that the conversation must react to.
#[derive(Clone, Debug)]
pub enum CallEvent {
    /// The media stream started: time for the greeting.
    Started,
    /// A final caller utterance, transcribed and understood.
    Utterance {
        text: String,
        understanding: Understanding,
    },
    /// A keypad digit.
    Dtmf(char),
    /// The caller has said nothing for `silent_ms` of call audio since the
    /// agent stopped talking.
    Silence { silent_ms: u64 },
    /// The caller hung up or the stream dropped; no reply can be heard.
    Hangup,
}

/// What the agent does after its words have been played.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AfterSpeech {
    #[default]
    Listen,
    /// Hang up once the words have been heard.
    Hangup,
    /// Hand the call to staff at this number.
    Transfer { number: String },
}
