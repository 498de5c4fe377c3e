//! Table tests of the state machine: scripted turns, fake action results,
//! checks on what the agent says and asks the runner to do.

use chrono::NaiveDateTime;

use super::*;
use crate::clinic::{Clinic, Prompts};
use crate::scheduling::Slot;
use crate::vocabulary::{
    AfterSpeech, CallEvent, EmergencyKind, Entities, Intent, TaskKind, Understanding,
};

/// Monday 2026-03-16, 9:00 local: the clinic is open (transfers possible).
const OPEN_NOW: &str = "2026-03-16T09:00";
/// Monday 2026-03-16, 18:00 local: closed (escalations become tasks).
const CLOSED_NOW: &str = "2026-03-16T18:00";

enum Step {
    Start,
    U(&'static str, Intent, &'static str),
    /// As `U`, with the model's confidence.
    Uc(&'static str, Intent, f32, &'static str),
    /// An emergency as the NLU reports one: the net's kind, or `None` when
    /// the model alone heard it.
    Sos(&'static str, Option<EmergencyKind>),
    /// Low-confidence utterance.
    Mumble(&'static str),
    /// A weak emergency signal (`possible_emergency`) on an utterance.
    Maybe(&'static str, Intent, EmergencyKind),
    R(ActionResult),
    Silence,
    Dtmf(&'static str),
    Hangup,
}
use Step::*;

fn ent(json: &str) -> Entities {
    if json.is_empty() {
        return Entities::default();
    }
    serde_json::from_str(json).expect("test entities")
}

fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").expect("test time")
}

fn slot(at: &str, provider: &str, type_id: &str) -> Slot {
    let clinic = Clinic::demo();
    let start_local = local(at);
    let start = clinic.to_utc(start_local).unwrap();
    let minutes = clinic.appointment_type(type_id).unwrap().minutes;
    Slot {
        provider_id: provider.into(),
        type_id: type_id.into(),
        start,
        end: start + chrono::Duration::minutes(minutes.into()),
        start_local,
    }
}

fn appt(id: &str, at: &str, provider: &str, type_id: &str) -> ApptRef {
    ApptRef {
        id: id.into(),
        provider_id: provider.into(),
        type_id: type_id.into(),
        start_local: local(at),
    }
}

fn patient() -> ActionResult {
    ActionResult::Verified(Some(PatientRef { id: "p1".into() }))
}

fn registered() -> ActionResult {
    ActionResult::Registered(Some(PatientRef { id: "p1".into() }))
}

/// Runs a script; each step's checks: `say:text` (in this step's speech),
/// `!say:text`, `act:Name` (an action whose Debug starts with Name),
/// `!act:Name`, `phase:Name`, `outcome:Name`, `then:hangup|transfer`,
/// `task:kind`.
fn run(name: &str, now: &str, from: Option<&str>, script: Vec<(Step, &[&str])>) {
    run_in(
        &Clinic::demo(),
        name,
        now,
        from,
        Some(&receptionist()),
        script,
    )
}

/// The receptionist available for transfers in [`run`]'s calls.
fn receptionist() -> OnDuty {
    OnDuty {
        staff_id: "staff-dana".into(),
        name: "Dana Reyes".into(),
        phone: "+15555550199".into(),
    }
}

/// As [`run`], with `on_duty` available for transfers (or nobody).
fn run_staffed(
    name: &str,
    now: &str,
    from: Option<&str>,
    on_duty: Option<&OnDuty>,
    script: Vec<(Step, &[&str])>,
) {
    run_in(&Clinic::demo(), name, now, from, on_duty, script)
}

/// As [`run_staffed`], for any clinic's configuration.
fn run_in(
    clinic: &Clinic,
    name: &str,
    now: &str,
    from: Option<&str>,
    on_duty: Option<&OnDuty>,
    script: Vec<(Step, &[&str])>,
) {
    let clinic = clinic.clone();
    let prompts = Prompts::builtin();
    let env = Env {
        clinic: &clinic,
        prompts: &prompts,
        now: local(now),
        on_duty,
    };
    let mut d = Dialogue::new(from);
    for (i, (step, checks)) in script.into_iter().enumerate() {
        let input = match step {
            Start => Input::Call(CallEvent::Started),
            U(text, intent, e) => Input::Call(CallEvent::Utterance {
                text: text.into(),
                understanding: Understanding {
                    intent,
                    confidence: 0.95,
                    entities: ent(e),
                    emergency: None,
                    possible_emergency: None,
                },
            }),
            Uc(text, intent, confidence, e) => Input::Call(CallEvent::Utterance {
                text: text.into(),
                understanding: Understanding {
                    intent,
                    confidence,
                    entities: ent(e),
                    emergency: None,
                    possible_emergency: None,
                },
            }),
            Sos(text, kind) => Input::Call(CallEvent::Utterance {
                text: text.into(),
                understanding: Understanding {
                    intent: Intent::Emergency,
                    confidence: 1.0,
                    entities: Entities::default(),
                    emergency: kind,
                    possible_emergency: None,
                },
            }),
            Mumble(text) => Input::Call(CallEvent::Utterance {
                text: text.into(),
                understanding: Understanding {
                    intent: Intent::OutOfScope,
                    confidence: 0.2,
                    entities: Entities::default(),
                    emergency: None,
                    possible_emergency: None,
                },
            }),
            Maybe(text, intent, kind) => Input::Call(CallEvent::Utterance {
                text: text.into(),
                understanding: Understanding {
                    intent,
                    confidence: 0.9,
                    entities: Entities::default(),
                    emergency: None,
                    possible_emergency: Some(kind),
                },
            }),
            R(r) => Input::Result(r),
            Silence => Input::Call(CallEvent::Silence { silent_ms: 8000 }),
            Dtmf(digits) => {
                let mut all = Vec::new();
                for c in digits.chars() {
                    all.extend(d.step(&env, Input::Call(CallEvent::Dtmf(c))));
                }
                check(name, i, &d, &all, checks);
                continue;
            }
            Hangup => Input::Call(CallEvent::Hangup),
        };
        let actions = d.step(&env, input);
        check(name, i, &d, &actions, checks);
    }
}

fn check(name: &str, i: usize, d: &Dialogue, actions: &[Action], checks: &[&str]) {
    let said: String = actions
        .iter()
        .filter_map(|a| {
            if let Action::Say(s) = a {
                Some(s.as_str())
            } else {
                None
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let ctx = || {
        format!(
            "[{name}] step {i}: said {said:?}\nactions {actions:#?}\nphase {:?}",
            d.phase
        )
    };
    for c in checks {
        let (neg, c) = match c.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, *c),
        };
        let (kind, arg) = c.split_once(':').expect("check has a kind");
        let ok = match kind {
            "say" if arg.is_empty() => !said.is_empty(),
            "say" => said.to_lowercase().contains(&arg.to_lowercase()),
            "act" => actions.iter().any(|a| format!("{a:?}").starts_with(arg)),
            "phase" => format!("{:?}", d.phase) == arg,
            "outcome" => actions.iter().any(|a| match a {
                Action::Finish { outcome, .. } | Action::Outcome(outcome) => {
                    format!("{outcome:?}") == arg
                }
                _ => false,
            }),
            "then" => actions.iter().any(|a| {
                matches!(
                    (a, arg),
                    (
                        Action::Finish {
                            then: AfterSpeech::Hangup,
                            ..
                        },
                        "hangup",
                    ) | (
                        Action::Finish {
                            then: AfterSpeech::Transfer { .. },
                            ..
                        },
                        "transfer",
                    )
                )
            }),
            "task" => actions
                .iter()
                .any(|a| matches!(a, Action::CreateTask(t) if t.kind.as_str() == arg)),
            other => panic!("unknown check {other}"),
        };
        assert!(
            ok != neg,
            "check {}{c} failed\n{}",
            if neg { "!" } else { "" },
            ctx()
        );
    }
}

const MARIA: &str = r#"{"person_name": "Maria Gonzalez"}"#;
const MARIA_DOB: &str = r#"{"date_of_birth": "1985-03-04"}"#;

mod appointments;
mod booking;
mod escalation;
mod flow;
mod identity;
mod intake;
mod questions;
