//! The one checker both replays use. A replay describes what happened in
//! a call as a [`Happened`] (from the database after a text replay, from
//! the staff API and the caller's report after an audio one) and
//! [`check`] holds it against the script's expectations. [`NluAgreement`]
//! compares the NLU with a script's hand labels, reported apart: the labels
//! are never what the front desk receives.

use std::collections::BTreeMap;

use super::script::{CallScript, ScriptTurn, Then};
use crate::vocabulary::{Entities, Outcome, Understanding};

/// A task as a call left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskSeen {
    pub queue: String,
    pub kind: String,
    pub priority: String,
    pub linked_to_patient: bool,
    pub callback_number: Option<String>,
}

/// An appointment the call booked that is still booked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookingSeen {
    /// Clinic-local `YYYY-MM-DDTHH:MM`.
    pub start: String,
    pub provider_id: String,
}

/// What happened in one call, however it was placed and observed.
#[derive(Clone, Debug, Default)]
pub struct Happened {
    /// What the agent said before the caller's first turn.
    pub greeting: String,
    /// The agent's words in answer to each script turn, by turn index.
    /// `None`: the turn never ran (the call had ended).
    pub replies: Vec<Option<String>>,
    /// The outcome the call ended with (or `None` if none was decided).
    pub outcome: Option<Outcome>,
    pub then: Option<Then>,
    pub booked: Vec<BookingSeen>,
    pub seeded_cancelled: usize,
    pub tasks: Vec<TaskSeen>,
    pub patients: usize,
    pub patient_identified: bool,
    /// The agent's words in answer to lines no script turn holds (the
    /// answering caller's own), in order.
    pub unscripted: Vec<String>,
}

impl Happened {
    /// Everything the agent said, greeting included.
    pub fn all_said(&self) -> String {
        let mut all = self.greeting.clone();
        for r in self.replies.iter().flatten().chain(&self.unscripted) {
            all.push(' ');
            all.push_str(r);
        }
        all
    }
}

/// The script's expectations against what happened: one line per miss.
pub fn check(script: &CallScript, happened: &Happened) -> Vec<String> {
    let mut failures = check_turns(script, happened);
    failures.extend(check_outcome(script, happened));
    failures
}

/// Each turn's expected words, in the script's order.
fn check_turns(script: &CallScript, happened: &Happened) -> Vec<String> {
    let mut failures = Vec::new();
    for (i, turn) in script.turns.iter().enumerate() {
        match happened.replies.get(i).cloned().flatten() {
            None => {
                if i == 0 || happened.replies.get(i - 1).is_some_and(Option::is_some) {
                    failures.push(format!(
                        "turn {}: the call had already ended ({:?})",
                        i + 1,
                        happened.then
                    ));
                }
            }
            Some(said) => {
                let lower = said.to_lowercase();
                for phrase in &turn.agent_says {
                    if !lower.contains(&phrase.to_lowercase()) {
                        failures.push(format!(
                            "turn {}: expected the agent to say {phrase:?}, it said {said:?}",
                            i + 1
                        ));
                    }
                }
            }
        }
    }
    failures
}

/// What the call left (outcome, bookings, tasks, patients, words said or
/// never said), whatever order its lines came in.
fn check_outcome(script: &CallScript, happened: &Happened) -> Vec<String> {
    let mut failures = Vec::new();
    let e = &script.expect;
    if happened.outcome != Some(e.outcome) {
        failures.push(format!(
            "outcome {}, expected {}",
            happened.outcome.map(Outcome::as_str).unwrap_or("none"),
            e.outcome.as_str()
        ));
    }
    if let Some(then) = e.then
        && happened.then != Some(then)
    {
        failures.push(format!(
            "the call ended with {:?}, expected {then:?}",
            happened.then
        ));
    }
    if happened.booked.len() != e.booked {
        failures.push(format!(
            "{} appointments booked by the call, expected {}",
            happened.booked.len(),
            e.booked
        ));
    }
    let starts: Vec<&str> = happened.booked.iter().map(|b| b.start.as_str()).collect();
    for s in &e.booked_starts {
        if !starts.contains(&s.as_str()) {
            failures.push(format!("expected a booking at {s}, got {starts:?}"));
        }
    }
    let providers: Vec<&str> = happened
        .booked
        .iter()
        .map(|b| b.provider_id.as_str())
        .collect();
    for p in &e.booked_providers {
        if !providers.contains(&p.as_str()) {
            failures.push(format!("expected a booking with {p}, got {providers:?}"));
        }
    }
    if happened.seeded_cancelled != e.seeded_cancelled {
        failures.push(format!(
            "{} seeded appointments cancelled, expected {}",
            happened.seeded_cancelled, e.seeded_cancelled
        ));
    }
    let tasks = &happened.tasks;
    if tasks.len() != e.tasks.len() {
        failures.push(format!(
            "{} tasks written, expected {}: {tasks:?}",
            tasks.len(),
            e.tasks.len()
        ));
    }
    for want in &e.tasks {
        let found = tasks.iter().any(|t| {
            t.queue == want.queue
                && t.kind == want.kind
                && want.priority.as_ref().is_none_or(|p| p == &t.priority)
                && want
                    .linked_to_patient
                    .is_none_or(|l| l == t.linked_to_patient)
                && want
                    .callback_number
                    .as_ref()
                    .is_none_or(|n| Some(n) == t.callback_number.as_ref())
        });
        if !found {
            failures.push(format!("no task like {want:?} among {tasks:?}"));
        }
    }
    if let Some(n) = e.patients
        && happened.patients != n
    {
        failures.push(format!(
            "{} patients in the database, expected {n}",
            happened.patients
        ));
    }
    if let Some(want) = e.patient_identified
        && happened.patient_identified != want
    {
        failures.push(format!(
            "patient identified: {}, expected {want}",
            happened.patient_identified
        ));
    }
    let lower = happened.all_said().to_lowercase();
    for p in &e.agent_said {
        if !lower.contains(&p.to_lowercase()) {
            failures.push(format!("the agent never said {p:?}"));
        }
    }
    // 911 only when it is one: a caller who is not having an emergency is
    // never told to hang up and dial 911.
    if !script.is_emergency() && lower.contains(&emergency_instruction()) {
        failures.push(FALSE_911.to_string());
    }
    for p in &e.agent_never_said {
        if lower.contains(&p.to_lowercase()) {
            failures.push(format!("the agent said {p:?}, which it must not"));
        }
    }
    failures
}

/// How often the NLU agreed with a script's hand labels.
#[derive(Clone, Debug, Default)]
pub struct NluAgreement {
    /// Labelled intents / entities compared.
    pub checked: usize,
    pub agreed: usize,
    /// `turn N: "line": expected …, got …`.
    pub disagreements: Vec<String>,
}

impl NluAgreement {
    /// Compares one line's understanding with its labels, if it has any.
    pub fn compare(&mut self, turn: usize, script_turn: &ScriptTurn, got: &Understanding) {
        let line = script_turn.caller.as_deref().unwrap_or_default();
        if let Some(want) = script_turn.intent {
            self.checked += 1;
            if want == got.intent {
                self.agreed += 1;
            } else {
                self.disagreements.push(format!(
                    "turn {turn}: {line:?}: intent {} (confidence {:.2}), labelled {}",
                    got.intent,
                    got.confidence,
                    want.as_str()
                ));
            }
        }
        let Some(want) = &script_turn.entities else {
            return;
        };
        let (want, got_e) = (entity_map(want), entity_map(&got.entities));
        for (name, value) in want {
            self.checked += 1;
            match got_e.get(&name) {
                Some(v) if *v == value => self.agreed += 1,
                other => self.disagreements.push(format!(
                    "turn {turn}: {line:?}: {name} {}, labelled {value}",
                    other.map(String::as_str).unwrap_or("missing")
                )),
            }
        }
    }

    pub fn add(&mut self, other: &NluAgreement) {
        self.checked += other.checked;
        self.agreed += other.agreed;
        self.disagreements
            .extend(other.disagreements.iter().cloned());
    }
}

/// Entities as `name → JSON value`, the absent ones left out.
fn entity_map(e: &Entities) -> BTreeMap<String, String> {
    match serde_json::to_value(e) {
        Ok(serde_json::Value::Object(map)) => {
            map.into_iter().map(|(k, v)| (k, v.to_string())).collect()
        }
        _ => BTreeMap::new(),
    }
}

/// The miss of a call whose caller was told to dial 911 without an emergency.
pub const FALSE_911: &str = "the agent told a caller who is not having an emergency to dial 911";

/// A call's cell in the outcome table: `pass`, or the first miss.
pub fn verdict(failures: &[String]) -> String {
    match failures.first() {
        None => "pass".to_string(),
        Some(first) => format!("FAIL: {first}"),
    }
}

/// The agent's 911 instruction as it says it (the built-in prompt), lower case.
fn emergency_instruction() -> String {
    crate::clinic::Prompts::builtin()
        .render("emergency_911", &[])
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(outcome: &str) -> CallScript {
        toml::from_str(&format!(
            r#"
name = "t"
[[turns]]
caller = "hello"
[expect]
outcome = "{outcome}"
"#
        ))
        .unwrap()
    }

    fn happened(outcome: Outcome, unscripted: &str) -> Happened {
        Happened {
            greeting: "If this is a medical emergency, please hang up and dial 911.".into(),
            replies: vec![Some("How can I help?".into())],
            outcome: Some(outcome),
            unscripted: vec![unscripted.into()],
            ..Default::default()
        }
    }

    #[test]
    fn a_911_instruction_fails_a_call_that_is_no_emergency_wherever_it_was_said() {
        let told = emergency_instruction();
        let failures = check_outcome(&script("answered"), &happened(Outcome::Answered, &told));
        assert!(
            failures.iter().any(|f| f.contains("dial 911")),
            "{failures:?}"
        );
        // The greeting's own mention of 911 is no instruction.
        let failures = check_outcome(&script("answered"), &happened(Outcome::Answered, "Sure."));
        assert!(failures.is_empty(), "{failures:?}");
        // In an emergency it is the answer.
        let failures = check_outcome(&script("emergency"), &happened(Outcome::Emergency, &told));
        assert!(failures.is_empty(), "{failures:?}");
    }
}
