//! Handing the caller to staff. The carrier is asked to move the live call
//! once the caller has heard "please hold"; only if it did does the stream
//! end (and that end is the transfer's, not a caller hanging up: the call
//! is not abandoned, its words are kept). If it could not, the caller is
//! still on the line and the conversation says what happens now.

use super::*;

/// The outcome to store when the conversation decides one: a transfer's
/// is `escalated` (its task waits, claimed by the person being rung)
/// until the carrier reports that staff answered.
pub(super) fn pending_outcome(then: &AfterSpeech, outcome: Outcome) -> Outcome {
    match (then, outcome) {
        (AfterSpeech::Transfer { .. }, Outcome::Transferred) => Outcome::Escalated,
        (_, outcome) => outcome,
    }
}

/// What staff are told when the carrier refused (the full error is logged).
const REFUSED: &str = "the phone system could not put the call through";
/// What staff are told when the caller hung up before being put through.
pub(super) const CALLER_LEFT: &str = "the caller hung up before being put through";

impl Call {
    /// Moves the call to `number`: the stream's end when the carrier did,
    /// `None` (the call goes on, with the conversation's answer queued)
    /// when it could not.
    pub(super) async fn hand_over(&mut self, number: String) -> Option<StreamEnd> {
        match self.carrier.transfer(&number).await {
            Ok(()) => {
                tracing::info!("call handed to the carrier for a transfer");
                Some(StreamEnd::Transferred { number })
            }
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "the transfer could not be made; the caller is told"
                );
                let turn = self.after_refused_transfer().await;
                self.act(turn);
                None
            }
        }
    }

    /// As [`Call::hand_over`] when the server is stopping: if the carrier
    /// refuses, the callback is still arranged but nothing more is said.
    pub(super) async fn hand_over_at_stop(&mut self, number: String) -> StreamEnd {
        match self.carrier.transfer(&number).await {
            Ok(()) => StreamEnd::Transferred { number },
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "the transfer could not be made as the server stops"
                );
                let turn = self.after_refused_transfer().await;
                if let Some(outcome) = turn.outcome {
                    self.outcome = Some(outcome);
                    self.journal.record(Entry::Outcome(outcome));
                }
                StreamEnd::ShutDown
            }
        }
    }

    async fn after_refused_transfer(&mut self) -> AgentTurn {
        match self.conversation.transfer_failed(REFUSED.into()).await {
            Ok(turn) => turn,
            Err(e) => {
                tracing::error!(
                    error = format!("{e:#}"),
                    "the conversation failed after a refused transfer"
                );
                AgentTurn {
                    say: vec![crate::call::prompts::call_prompts().shutting_down.clone()],
                    then: AfterSpeech::Hangup,
                    ..Default::default()
                }
            }
        }
    }
}
