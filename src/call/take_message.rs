//! The interim conversation: takes a message. It greets the caller, listens,
//! thanks them and says staff will call back. An emergency signal always
//! gets the 911 instruction first. Replaced by `dialogue` once the full
//! conversation (booking, questions, escalation) is wired in.

use futures_util::future::BoxFuture;
use serde::Deserialize;

use super::{
    AfterSpeech, AgentTurn, CallEvent, CallInfo, Conversation, ConversationFactory, Outcome,
};
use crate::nlu::Intent;

#[derive(Clone, Debug, Deserialize)]
struct Prompts {
    greeting: String,
    noted: String,
    anything_else: String,
    goodbye: String,
    still_there: String,
    emergency: String,
}

/// Creates a message-taking conversation per call.
pub struct TakeMessage {
    prompts: Prompts,
}

impl TakeMessage {
    pub fn new(clinic_name: &str) -> anyhow::Result<TakeMessage> {
        let mut prompts: Prompts = toml::from_str(include_str!("../../prompts/take_message.toml"))
            .map_err(|e| anyhow::anyhow!("prompts/take_message.toml: {e}"))?;
        prompts.greeting = prompts.greeting.replace("{clinic}", clinic_name);
        Ok(TakeMessage { prompts })
    }
}

impl ConversationFactory for TakeMessage {
    fn start(&self, _call: &CallInfo) -> Box<dyn Conversation> {
        Box::new(MessageTaker {
            prompts: self.prompts.clone(),
            messages: 0,
            silences: 0,
        })
    }

    fn fixed_sentences(&self) -> Vec<String> {
        let p = &self.prompts;
        vec![
            p.greeting.clone(),
            p.noted.clone(),
            p.anything_else.clone(),
            p.goodbye.clone(),
            p.still_there.clone(),
            p.emergency.clone(),
        ]
    }
}

struct MessageTaker {
    prompts: Prompts,
    messages: u32,
    silences: u32,
}

impl MessageTaker {
    fn step(&mut self, event: CallEvent) -> AgentTurn {
        let p = &self.prompts;
        match event {
            CallEvent::Started => AgentTurn {
                say: vec![p.greeting.clone()],
                ..Default::default()
            },
            CallEvent::Utterance { understanding, .. } => {
                self.silences = 0;
                if understanding.intent == Intent::Emergency {
                    return AgentTurn {
                        say: vec![p.emergency.clone()],
                        then: AfterSpeech::Hangup,
                        outcome: Some(Outcome::Emergency),
                        ..Default::default()
                    };
                }
                self.messages += 1;
                if understanding.intent == Intent::Goodbye
                    || understanding.intent == Intent::Deny && self.messages > 1
                    || self.messages > 2
                {
                    return AgentTurn {
                        say: vec![p.goodbye.clone()],
                        then: AfterSpeech::Hangup,
                        outcome: Some(Outcome::Escalated),
                        ..Default::default()
                    };
                }
                AgentTurn {
                    say: vec![p.noted.clone(), p.anything_else.clone()],
                    ..Default::default()
                }
            }
            CallEvent::Dtmf(_) => AgentTurn {
                say: vec![p.still_there.clone()],
                ..Default::default()
            },
            CallEvent::Silence { .. } => {
                self.silences += 1;
                if self.silences >= 2 {
                    AgentTurn {
                        say: vec![p.goodbye.clone()],
                        then: AfterSpeech::Hangup,
                        outcome: Some(Outcome::Abandoned),
                        ..Default::default()
                    }
                } else {
                    AgentTurn {
                        say: vec![p.still_there.clone()],
                        ..Default::default()
                    }
                }
            }
            CallEvent::Hangup => AgentTurn {
                outcome: Some(if self.messages > 0 {
                    Outcome::Escalated
                } else {
                    Outcome::Abandoned
                }),
                ..Default::default()
            },
        }
    }
}

impl Conversation for MessageTaker {
    fn handle(&mut self, event: CallEvent) -> BoxFuture<'_, anyhow::Result<AgentTurn>> {
        let turn = self.step(event);
        Box::pin(async move { Ok(turn) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nlu::{Entities, Understanding};

    fn said(intent: Intent) -> CallEvent {
        CallEvent::Utterance {
            text: "…".into(),
            understanding: Understanding {
                intent,
                confidence: 0.9,
                entities: Entities::default(),
            },
        }
    }

    #[test]
    fn greets_takes_a_message_and_says_goodbye() {
        let factory = TakeMessage::new("Maple Clinic").unwrap();
        let mut c = MessageTaker {
            prompts: factory.prompts.clone(),
            messages: 0,
            silences: 0,
        };
        let greet = c.step(CallEvent::Started);
        assert!(greet.say[0].contains("Maple Clinic"));
        let noted = c.step(said(Intent::Billing));
        assert_eq!(noted.then, AfterSpeech::Listen);
        assert!(noted.say[0].contains("call you back"));
        let bye = c.step(said(Intent::Goodbye));
        assert_eq!(bye.then, AfterSpeech::Hangup);
        assert_eq!(bye.outcome, Some(Outcome::Escalated));
    }

    #[test]
    fn an_emergency_gets_911_at_once() {
        let factory = TakeMessage::new("Maple Clinic").unwrap();
        let mut c = MessageTaker {
            prompts: factory.prompts.clone(),
            messages: 0,
            silences: 0,
        };
        c.step(CallEvent::Started);
        let turn = c.step(said(Intent::Emergency));
        assert!(turn.say[0].contains("911"));
        assert_eq!(turn.outcome, Some(Outcome::Emergency));
    }

    #[test]
    fn every_sentence_is_pre_rendered() {
        let factory = TakeMessage::new("Maple Clinic").unwrap();
        let fixed = factory.fixed_sentences();
        let mut c = MessageTaker {
            prompts: factory.prompts.clone(),
            messages: 0,
            silences: 0,
        };
        for event in [
            CallEvent::Started,
            said(Intent::Billing),
            CallEvent::Silence { silent_ms: 9000 },
        ] {
            for s in c.step(event).say {
                assert!(fixed.contains(&s), "{s} is not pre-rendered");
            }
        }
    }
}
