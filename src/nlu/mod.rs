//! Understanding: transcript text → intent + entities.
//!
//! `intent` (the label set), `classifier` (ONNX models through `ort`: the
//! intent model and the crisis model beside it),
//! `emergency` (the deterministic safety net that overrides every label),
//! `entities` (one parser per entity of `spec/intents.md`), `eval` (held-out
//! evaluation, Whisper-style noise, latency benchmark).

pub mod classifier;
pub mod emergency;
pub mod entities;
pub mod eval;

pub use classifier::{IntentClassifier, Prediction};
pub use emergency::Screen;
pub use eval::{EvalReport, LabelledLine, bench_nlu, evaluate};

use std::io::{BufRead, Write};

use anyhow::Context;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::models::{ModelPaths, onnx_environment};
use crate::vocabulary::{Asked, EmergencyKind, Entities, Intent, Understanding};

use entities as entity_parsers;
pub use entities::ProviderRoster;

/// Longer utterances are not a caller turn (a stuck line, a pasted document).
pub const MAX_WORDS: usize = 200;
/// The crisis model's probability from which words are a suicidal crisis
/// (its trained threshold is folded into the model: see `classifier`).
pub const CRISIS_THRESHOLD: f32 = 0.5;

/// Classifier + emergency safety net + entity parsers, loaded once and shared.
pub struct Nlu {
    classifier: IntentClassifier,
    roster: ProviderRoster,
}

impl Nlu {
    /// Loads the intent model from `paths.intent_dir()`; a missing or corrupt
    /// file fails here with a message naming the fix.
    pub fn load(paths: &ModelPaths, roster: ProviderRoster) -> anyhow::Result<Nlu> {
        let environment = onnx_environment(paths)?;
        let classifier = IntentClassifier::load(&paths.intent_dir(), environment)
            .context("loading the intent classifier")?;
        Ok(Nlu { classifier, roster })
    }

    pub fn classifier(&self) -> &IntentClassifier {
        &self.classifier
    }

    /// What one caller utterance means: the intent (the emergency net
    /// first), its confidence, the emergency kind when the net fired or the
    /// crisis model heard a suicidal crisis (`Suicidal`: 988), and
    /// every entity, dates resolved against `today` (the call's local date).
    /// The call loop and the scripted-call replay both understand callers
    /// through this one function.
    pub fn understand(&self, text: &str, today: NaiveDate) -> Understanding {
        self.understand_with(text, today, None)
    }

    /// [`Nlu::understand`] for the answer to a question: `asked` is the
    /// entity the agent just asked for, and the entities are read as that
    /// answer ([`entities::extract_in_context`]); `None` is `understand`.
    /// The intent is labelled as without a question. An answer the intent
    /// step rejects as out of scope before the model ("R U I Z": words it
    /// does not know) still has its entities read.
    pub fn understand_with(
        &self,
        text: &str,
        today: NaiveDate,
        asked: Option<Asked>,
    ) -> Understanding {
        let (intent, confidence, emergency) = self.label(text);
        let entities = if intent == Intent::OutOfScope && confidence >= 1.0 && asked.is_none() {
            Entities::default()
        } else {
            entity_parsers::extract_in_context(text, today, &self.roster, asked)
        };
        Understanding {
            intent,
            confidence,
            entities,
            emergency,
            possible_emergency: None,
        }
    }

    /// The intent alone (no entities).
    pub fn label(&self, text: &str) -> (Intent, f32, Option<EmergencyKind>) {
        // Safety first: the net runs on any text, even text rejected below.
        let screen = emergency::screen(text);
        if let Screen::Emergency(kind) = screen {
            return (Intent::Emergency, 1.0, Some(kind));
        }
        if let Some(reason) = reject_reason(text, self.classifier.features()) {
            tracing::debug!(reason, "utterance rejected as out of scope");
            return (Intent::OutOfScope, 1.0, None);
        }
        let prediction = match self.classifier.classify(text) {
            Ok(p) => p,
            Err(error) => {
                tracing::error!(%error, "intent model failed");
                return (Intent::OutOfScope, 0.0, None);
            }
        };
        tracing::debug!(
            crisis = prediction.crisis,
            best = ?prediction.best(),
            "intent model verdicts"
        );
        decide(screen, &prediction)
    }
}

/// The label from the models' verdicts when the net named no live
/// emergency. A crisis the crisis model hears is a suicidal emergency (988),
/// whatever the intent model says: callers in crisis rarely name it ("I
/// can't keep doing this anymore", "I've been saving up my pills"), and the
/// intent model alone gives no kind, which the dialogue answers with 911 or
/// "is this a medical emergency?". Only the net's verdict that the words
/// tell of a past crisis ("I tried to kill myself years ago") holds it back.
fn decide(screen: Screen, prediction: &Prediction) -> (Intent, f32, Option<EmergencyKind>) {
    let past_crisis = screen == Screen::Contained(EmergencyKind::Suicidal);
    if prediction.crisis >= CRISIS_THRESHOLD && !past_crisis {
        let confidence = prediction
            .crisis
            .max(prediction.probability(Intent::Emergency));
        return (Intent::Emergency, confidence, Some(EmergencyKind::Suicidal));
    }
    let (intent, confidence) = prediction.best();
    if intent == Intent::Emergency && matches!(screen, Screen::Contained(_)) {
        // The net saw only past or mild symptoms: nurse triage, not 911.
        let (other, p) = prediction.best_except(Some(Intent::Emergency));
        return (other, p, None);
    }
    (intent, confidence, None)
}

/// Why an utterance is out of scope before the model sees it, if it is.
fn reject_reason(text: &str, features: &classifier::FeatureSpace) -> Option<&'static str> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Some("control characters");
    }
    let words = classifier::tokens(text);
    if words.is_empty() {
        return Some("empty");
    }
    if text.split_whitespace().count() > MAX_WORDS {
        return Some("too long");
    }
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let non_ascii = text
        .chars()
        .filter(|c| c.is_alphabetic() && !c.is_ascii())
        .count();
    if letters > 0 && non_ascii * 10 > letters * 3 {
        return Some("non-latin script");
    }
    let known = words.iter().filter(|w| features.knows_word(w)).count();
    if words.len() >= 3 && known * 4 < words.len() {
        return Some("unknown vocabulary");
    }
    None
}

#[derive(Deserialize)]
struct NluRequest {
    text: String,
    #[serde(rename = "ref")]
    reference_date: Option<String>,
    /// Read as [`Asked`] by hand, so a wrong value gets an error naming
    /// the field and the values it takes.
    #[serde(default)]
    asked: Option<serde_json::Value>,
}

/// One request line, read.
#[derive(Debug, PartialEq)]
struct Request {
    text: String,
    today: NaiveDate,
    asked: Option<Asked>,
}

#[derive(Serialize)]
struct NluResponse<'a> {
    intent: Intent,
    confidence: f32,
    entities: &'a Entities,
}

/// `frontdesk nlu`: JSON lines `{"text", "ref"?, "asked"?}` in, one
/// `{"intent","confidence","entities"}` line out each; a bad line (an
/// unknown `asked` too) gets an `{"error": …}` line and the stream goes on.
pub fn run_nlu_command(
    nlu: &Nlu,
    input: impl BufRead,
    mut output: impl Write,
) -> anyhow::Result<()> {
    let today = chrono::Local::now().date_naive();
    for (n, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("reading input line {}", n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match parse_request(&line, today) {
            Ok(req) => {
                let u = nlu.understand_with(&req.text, req.today, req.asked);
                serde_json::to_string(&NluResponse {
                    intent: u.intent,
                    confidence: u.confidence,
                    entities: &u.entities,
                })?
            }
            Err(message) => {
                serde_json::json!({ "error": format!("line {}: {message}", n + 1) }).to_string()
            }
        };
        writeln!(output, "{reply}").context("writing output")?;
    }
    output.flush().context("writing output")?;
    Ok(())
}

fn parse_request(line: &str, today: NaiveDate) -> Result<Request, String> {
    let req: NluRequest = serde_json::from_str(line).map_err(|e| {
        format!(
            "expected a JSON object {{\"text\": …, \"ref\"?: \"YYYY-MM-DD\", \"asked\"?: …}}: {e}"
        )
    })?;
    let date = match req.reference_date {
        None => today,
        Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map_err(|_| format!("\"ref\" must be a date YYYY-MM-DD, got {s:?}"))?,
    };
    let asked = match req.asked {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => Some(value.as_str().and_then(Asked::from_name).ok_or_else(|| {
            let names: Vec<&str> = Asked::ALL.iter().map(|a| a.as_str()).collect();
            format!("\"asked\" must be one of {}, got {value}", names.join(", "))
        })?),
    };
    Ok(Request {
        text: req.text,
        today: date,
        asked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
    }

    /// A prediction whose best label is `best` (at `p`) with this crisis verdict.
    fn prediction(best: Intent, p: f32, crisis: f32) -> Prediction {
        let mut probabilities = [(1.0 - p) / 19.0; 20];
        let at = Intent::ALL.iter().position(|&i| i == best).unwrap();
        probabilities[at] = p;
        Prediction {
            probabilities,
            crisis,
        }
    }

    #[test]
    fn a_crisis_the_crisis_model_hears_is_suicidal_whatever_the_intent_model_says() {
        for best in [
            Intent::Emergency,
            Intent::BookAppointment,
            Intent::OutOfScope,
        ] {
            let (intent, confidence, kind) = decide(Screen::Clear, &prediction(best, 0.8, 0.93));
            assert_eq!(intent, Intent::Emergency, "{best:?}");
            assert_eq!(kind, Some(EmergencyKind::Suicidal), "{best:?}");
            assert!(confidence >= 0.93, "{best:?}: {confidence}");
            assert_eq!(
                kind.unwrap().hotline(),
                crate::vocabulary::Hotline::Crisis988
            );
        }
        // Contained symptoms of another kind do not hold a crisis back.
        let (_, _, kind) = decide(
            Screen::Contained(EmergencyKind::ChestPain),
            &prediction(Intent::ClinicalQuestion, 0.9, 0.7),
        );
        assert_eq!(kind, Some(EmergencyKind::Suicidal));
    }

    #[test]
    fn no_crisis_below_the_threshold_or_when_the_net_says_it_is_past() {
        // The model's emergency alone has no kind: the dialogue asks.
        assert_eq!(
            decide(Screen::Clear, &prediction(Intent::Emergency, 0.9, 0.2)),
            (Intent::Emergency, 0.9, None)
        );
        assert_eq!(
            decide(Screen::Clear, &prediction(Intent::TestResults, 0.9, 0.49)),
            (Intent::TestResults, 0.9, None)
        );
        // "I tried to kill myself years ago": the net calls it past.
        let (intent, _, kind) = decide(
            Screen::Contained(EmergencyKind::Suicidal),
            &prediction(Intent::Emergency, 0.9, 0.95),
        );
        assert_ne!(intent, Intent::Emergency);
        assert_eq!(kind, None);
    }

    #[test]
    fn a_request_reads_its_question() {
        let req = parse_request(r#"{"text": "Four.", "asked": "time"}"#, today()).unwrap();
        assert_eq!(req.asked, Some(Asked::Time));
        assert_eq!(req.text, "Four.");
        for asked in Asked::ALL {
            let line = serde_json::json!({ "text": "x", "asked": asked.as_str() }).to_string();
            assert_eq!(parse_request(&line, today()).unwrap().asked, Some(asked));
        }
        let none = parse_request(r#"{"text": "Four.", "asked": null}"#, today()).unwrap();
        assert_eq!(none.asked, None);
        let plain = parse_request(r#"{"text": "Four.", "ref": "2026-03-10"}"#, today()).unwrap();
        assert_eq!(plain.asked, None);
        assert_eq!(plain.today, NaiveDate::from_ymd_opt(2026, 3, 10).unwrap());
    }

    #[test]
    fn an_unknown_question_is_an_error_naming_the_field() {
        for line in [
            r#"{"text": "Four.", "asked": "hour"}"#,
            r#"{"text": "Four.", "asked": 3}"#,
            r#"{"text": "Four.", "asked": "Time"}"#,
        ] {
            let error = parse_request(line, today()).unwrap_err();
            assert!(error.contains("\"asked\""), "{error}");
            assert!(error.contains("date_of_birth"), "{error}");
        }
    }
}
