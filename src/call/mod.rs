//! One phone call: the loop that turns caller audio into utterances, hands
//! them to the conversation, and streams the agent's speech back.
//!
//! The call loop knows audio, timing and persistence of turns; it knows
//! nothing of appointments or clinics. Everything the agent decides comes
//! through the [`Conversation`] seam below.

use futures_util::future::BoxFuture;

use crate::vocabulary::{AfterSpeech, Asked, CallEvent, Outcome};

/// Facts about the call known when the stream starts.
#[derive(Clone, Debug)]
pub struct CallInfo {
    /// Our id of the call (`calls.id`).
    pub call_id: String,
    /// The caller's number as the carrier reported it, if any.
    pub from: Option<String>,
    /// The clinic's local date and time when the call started.
    pub started_local: chrono::NaiveDateTime,
}

/// The agent's answer to one [`CallEvent`].
#[derive(Clone, Debug, Default)]
pub struct AgentTurn {
    /// Sentences to speak, in order; each is synthesised and streamed as
    /// soon as it is ready.
    pub say: Vec<String>,
    pub then: AfterSpeech,
    /// Set when the conversation has decided how the call ends.
    pub outcome: Option<Outcome>,
    /// Set once the caller's identity is verified (`calls.patient_id`).
    pub patient_id: Option<String>,
    /// Words the caller's answer is likely to contain, for speech
    /// recognition (see [`crate::stt::Hint`]), until the next turn.
    pub listen_for: Option<crate::stt::Hint>,
}

/// The dialogue stage, one instance per call. Implementations may do I/O
/// (database, task queue) but must never block the async runtime.
pub trait Conversation: Send {
    fn handle(&mut self, event: CallEvent) -> BoxFuture<'_, anyhow::Result<AgentTurn>>;

    /// The transfer this conversation asked for (`AfterSpeech::Transfer`)
    /// could not be made: the carrier refused it, and the caller is still
    /// on the line, waiting. `why` names the failure (no patient data).
    /// The answer says what the caller hears now; it should not leave them
    /// without a way forward (a callback, another number). By default: the
    /// call loop's "please call us back" and a hang-up.
    fn transfer_failed(&mut self, why: String) -> BoxFuture<'_, anyhow::Result<AgentTurn>> {
        let _ = why;
        Box::pin(async {
            Ok(AgentTurn {
                say: vec![prompts::call_prompts().shutting_down.clone()],
                then: AfterSpeech::Hangup,
                ..Default::default()
            })
        })
    }

    /// The server ended this call at its drain deadline before the
    /// conversation reached an outcome: the caller's business is
    /// unfinished. The conversation leaves whatever staff need to finish it
    /// (the desk: a front-desk callback task) and returns the outcome that
    /// now stands, if any. By default: nothing is left.
    fn ended_by_server(&mut self) -> BoxFuture<'_, anyhow::Result<Option<Outcome>>> {
        Box::pin(async { Ok(None) })
    }

    /// The entity the conversation just asked the caller for, so the next
    /// words are read as its answer (`Nlu::understand_with`): "four" after
    /// "what time?", "oh six twenty one eighty seven" after "your date of
    /// birth?". By default: none, and words are read without a question.
    fn asked(&self) -> Option<Asked> {
        None
    }
}

/// Creates a [`Conversation`] for each new call.
pub trait ConversationFactory: Send + Sync {
    fn start(&self, call: &CallInfo) -> Box<dyn Conversation>;
    /// Every fixed sentence the agent may say (greeting, fallbacks), rendered
    /// to audio once at start-up so they play without synthesis delay.
    fn fixed_sentences(&self) -> Vec<String>;
}

pub mod carrier;
pub mod drain;
pub mod journal;
pub mod listener;
pub mod prompts;
pub mod session;
pub mod speaker;
pub mod timing;
pub mod turn_end;
