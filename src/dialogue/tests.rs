//! Table tests of the state machine: scripted turns, fake action results,
//! checks on what the agent says and asks the runner to do.

use chrono::{NaiveDate, NaiveDateTime};

use super::machine::BookFailure;
use super::*;
use crate::call::{AfterSpeech, CallEvent, Outcome};
use crate::clinic::{Clinic, Prompts};
use crate::nlu::{EmergencyKind, Entities, Intent, Understanding};
use crate::scheduling::Slot;
use crate::tasks::TaskKind;

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
    let clinic = Clinic::demo();
    let prompts = Prompts::builtin();
    let env = Env {
        clinic: &clinic,
        prompts: &prompts,
        now: local(now),
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
                },
            }),
            Uc(text, intent, confidence, e) => Input::Call(CallEvent::Utterance {
                text: text.into(),
                understanding: Understanding {
                    intent,
                    confidence,
                    entities: ent(e),
                    emergency: None,
                },
            }),
            Sos(text, kind) => Input::Call(CallEvent::Utterance {
                text: text.into(),
                understanding: Understanding {
                    intent: Intent::Emergency,
                    confidence: 1.0,
                    entities: Entities::default(),
                    emergency: kind,
                },
            }),
            Mumble(text) => Input::Call(CallEvent::Utterance {
                text: text.into(),
                understanding: Understanding {
                    intent: Intent::OutOfScope,
                    confidence: 0.2,
                    entities: Entities::default(),
                    emergency: None,
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

#[test]
fn booking_happy_path() {
    run(
        "book",
        OPEN_NOW,
        Some("+15551234567"),
        vec![
            (
                Start,
                &["say:Riverside Family Medicine", "say:911", "phase:Open"],
            ),
            (
                U(
                    "I'd like to make an appointment",
                    Intent::BookAppointment,
                    "",
                ),
                &["say:what is the visit for", "phase:AskType"],
            ),
            (
                U("my annual physical", Intent::Inform, ""),
                &["say:your first and last name", "phase:AskName"],
            ),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["say:date of birth", "phase:AskDob"],
            ),
            (
                U("march fourth 1985", Intent::Inform, MARIA_DOB),
                &["say:ending in 4 5 6 7", "phase:ConfirmCallerNumber"],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &["act:Register", "phase:Waiting", "!say:"],
            ),
            (
                R(registered()),
                &["act:SetPatient", "say:what day and time", "phase:AskWhen"],
            ),
            (
                U(
                    "tuesday morning",
                    Intent::Inform,
                    r#"{"date": "2026-03-17", "part_of_day": "morning"}"#,
                ),
                &["act:FindSlots", "phase:Waiting"],
            ),
            (
                R(ActionResult::Slots(Some(vec![
                    slot("2026-03-17T08:00", "patel", "physical"),
                    slot("2026-03-17T08:30", "kim", "physical"),
                    slot("2026-03-17T10:30", "patel", "physical"),
                ]))),
                &[
                    "say:Tuesday the 17th at 8 AM with Dr. Patel",
                    "say:10:30 AM with Dr. Patel",
                    "phase:Offering",
                ],
            ),
            (
                U("the second one", Intent::Inform, ""),
                &[
                    "say:Just to confirm: an annual physical with Dr. Patel",
                    "say:10:30 AM",
                    "phase:ConfirmSlot",
                ],
            ),
            (
                U("yes please", Intent::Affirm, ""),
                &["act:Book", "phase:Waiting"],
            ),
            (
                R(ActionResult::Booked(Ok(appt(
                    "a1",
                    "2026-03-17T10:30",
                    "patel",
                    "physical",
                )))),
                &[
                    "say:you're all set",
                    "say:anything else",
                    "outcome:Booked",
                    "phase:Open",
                ],
            ),
            (
                U("no that's it", Intent::Deny, ""),
                &[
                    "say:goodbye",
                    "then:hangup",
                    "outcome:Booked",
                    "phase:Ended",
                ],
            ),
        ],
    );
}

#[test]
fn everything_in_one_sentence_reschedule() {
    // "this is Maria Gonzalez, born 3/4/85, I need to move Friday's appointment to next week"
    run(
        "all-in-one",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "this is Maria Gonzalez, born 3/4/85, I need to move Friday's appointment to next week",
                    Intent::RescheduleAppointment,
                    r#"{"person_name": "Maria Gonzalez", "date_of_birth": "1985-03-04", "date": "2026-03-20"}"#,
                ),
                &["act:Verify", "!say:"],
            ),
            (R(patient()), &["act:SetPatient", "act:ListAppointments"]),
            (
                R(ActionResult::Appointments(Some(vec![appt(
                    "a1",
                    "2026-03-20T09:00",
                    "patel",
                    "follow_up",
                )]))),
                &[
                    "act:FindSlots(SlotQuery { type_id: \"follow_up\", provider_id: Some(\"patel\"), from: 2026-03-23, to: 2026-03-29",
                ],
            ),
            (
                R(ActionResult::Slots(Some(vec![
                    slot("2026-03-23T08:00", "patel", "follow_up"),
                    slot("2026-03-24T13:00", "patel", "follow_up"),
                ]))),
                &[
                    "say:Monday the 23rd at 8 AM with Dr. Patel",
                    "phase:Offering",
                ],
            ),
            (
                U("tuesday works", Intent::Affirm, r#"{"date": "2026-03-24"}"#),
                &[
                    "say:I'll move your follow-up visit to Tuesday the 24th at 1 PM",
                    "phase:ConfirmSlot",
                ],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &["act:Reschedule { appointment_id: \"a1\""],
            ),
            (
                R(ActionResult::Rescheduled(Ok(appt(
                    "a2",
                    "2026-03-24T13:00",
                    "patel",
                    "follow_up",
                )))),
                &[
                    "say:is now on Tuesday the 24th at 1 PM",
                    "outcome:Rescheduled",
                ],
            ),
        ],
    );
}

#[test]
fn emergency_wins_in_any_state() {
    run(
        "911 mid-booking",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U("book a sick visit", Intent::BookAppointment, ""),
                &["phase:AskName"],
            ),
            (
                Sos(
                    "actually my husband has crushing chest pain and can't breathe",
                    Some(EmergencyKind::ChestPain),
                ),
                &[
                    "say:dial 911",
                    "!say:988",
                    "task:emergency",
                    "outcome:Emergency",
                    "then:hangup",
                    "!act:Book",
                    "phase:Ended",
                ],
            ),
            (U("hello?", Intent::Inform, ""), &["!say:"]),
        ],
    );
    run(
        "988",
        CLOSED_NOW,
        None,
        vec![
            (Start, &[]),
            (
                Sos(
                    "I don't want to live anymore, I want to kill myself",
                    Some(EmergencyKind::Suicidal),
                ),
                &[
                    "say:988",
                    "task:emergency",
                    "outcome:Emergency",
                    "then:hangup",
                ],
            ),
        ],
    );
    // Even when the agent is waiting for a yes/no and the classifier is unsure of everything else.
    run(
        "911 during confirm",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("do you take aetna", Intent::Insurance, ""),
                &["say:yes, we accept aetna", "phase:Open"],
            ),
            (
                Sos("I'm bleeding heavily", Some(EmergencyKind::Bleeding)),
                &["say:911", "!say:988", "outcome:Emergency"],
            ),
        ],
    );
    // The hotline follows the kind the NLU reports, not the dialogue's own
    // reading of the words: one source of truth.
    run(
        "988 from the net's kind",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                Sos("I can't go on like this", Some(EmergencyKind::Suicidal)),
                &[
                    "say:988",
                    "!say:This sounds like an emergency",
                    "task:emergency",
                ],
            ),
        ],
    );
    run(
        "911 for an overdose",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                Sos(
                    "my son swallowed a whole bottle of pills",
                    Some(EmergencyKind::Overdose),
                ),
                &["say:dial 911", "!say:988", "task:emergency"],
            ),
        ],
    );
    // The model alone, and unsure: ask first; a yes is 911, anything else
    // goes on where the call was.
    let unsure = |text: &'static str| {
        Input::Call(CallEvent::Utterance {
            text: text.into(),
            understanding: Understanding {
                intent: Intent::Emergency,
                confidence: 0.26,
                entities: ent(r#"{"person_name": "Tom Lee"}"#),
                emergency: None,
            },
        })
    };
    let clinic = Clinic::demo();
    let prompts = Prompts::builtin();
    let env = Env {
        clinic: &clinic,
        prompts: &prompts,
        now: local(OPEN_NOW),
    };
    let said = |actions: &[Action]| -> String {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Say(s) => Some(s.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut d = Dialogue::new(Some("5551234567"));
    d.step(&env, Input::Call(CallEvent::Started));
    let a = d.step(&env, unsure("Hi, this is Tom Lee."));
    assert!(said(&a).contains("is this a medical emergency"), "{a:?}");
    assert_eq!(d.phase, Phase::ConfirmEmergency);
    let a = d.step(
        &env,
        Input::Call(CallEvent::Utterance {
            text: "I need a sick visit".into(),
            understanding: Understanding {
                intent: Intent::BookAppointment,
                confidence: 0.95,
                entities: Entities::default(),
                emergency: None,
            },
        }),
    );
    assert!(
        said(&a).contains("date of birth"),
        "the name was kept: {a:?}"
    );
    assert!(d.outcome() != Some(crate::call::Outcome::Emergency));
    let mut d = Dialogue::new(None);
    d.step(&env, Input::Call(CallEvent::Started));
    d.step(&env, unsure("my dad is acting really strange"));
    let a = d.step(
        &env,
        Input::Call(CallEvent::Utterance {
            text: "yes".into(),
            understanding: Understanding {
                intent: Intent::Affirm,
                confidence: 0.99,
                entities: Entities::default(),
                emergency: None,
            },
        }),
    );
    assert!(said(&a).contains("dial 911"), "{a:?}");
    assert!(
        a.iter()
            .any(|x| matches!(x, Action::CreateTask(t) if t.kind == TaskKind::Emergency))
    );
    // Asked for a name, an unsure model-only emergency is the name.
    run(
        "misheard name",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &[],
            ),
            (
                Uc(
                    "This is Bregonzalez.",
                    Intent::Emergency,
                    0.3,
                    r#"{"person_name": "Bregonzalez"}"#,
                ),
                &["!say:emergency", "!say:911", "phase:AskDob"],
            ),
        ],
    );
    // The model alone heard an emergency: 911, the safe default.
    run(
        "911 when only the model heard it",
        CLOSED_NOW,
        None,
        vec![
            (Start, &[]),
            (
                Sos("something is really wrong with my dad", None),
                &["say:dial 911", "!say:988", "outcome:Emergency"],
            ),
        ],
    );
}

#[test]
fn faq_answers_from_configuration() {
    run(
        "hours",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("what are your hours", Intent::OfficeHours, ""),
                &[
                    "say:Monday, Tuesday, and Thursday from 8 AM to 5 PM",
                    "say:Today we're open until 5 PM",
                    "say:anything else",
                    "outcome:Answered",
                ],
            ),
            (
                U(
                    "are you open on christmas",
                    Intent::OfficeHours,
                    r#"{"date": "2026-12-25"}"#,
                ),
                &["say:closed on", "say:Christmas Day"],
            ),
            (
                U(
                    "where are you located, is there parking",
                    Intent::Location,
                    "",
                ),
                &["say:1200 Riverside Drive", "say:garage"],
            ),
            (
                // Whisper's "park".
                U("Where are you and where do I part?", Intent::Location, ""),
                &["say:1200 Riverside Drive", "say:garage"],
            ),
            (
                U("do you take blue cross", Intent::Insurance, ""),
                &["say:Yes, we accept Blue Cross Blue Shield"],
            ),
            (
                U("are you taking new patients", Intent::NewPatient, ""),
                &["say:accepting new patients", "phase:OfferNewPatientBooking"],
            ),
            (
                U("not right now", Intent::Deny, ""),
                &["say:anything else", "phase:Open"],
            ),
            (
                U("bye", Intent::Goodbye, ""),
                &["say:goodbye", "outcome:Answered", "then:hangup"],
            ),
        ],
    );
    run(
        "hours after closing",
        CLOSED_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("are you open", Intent::OfficeHours, ""),
                &["say:We've closed for today"],
            ),
        ],
    );
}

#[test]
fn unknown_insurance_goes_to_billing() {
    run(
        "humana",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U("do you accept humana", Intent::Insurance, ""),
                &["say:Humana isn't on my list", "phase:AskName"],
            ),
            (
                U(
                    "John Smith",
                    Intent::Inform,
                    r#"{"person_name": "John Smith"}"#,
                ),
                &["phase:ConfirmCallerNumber"],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &["task:unknown_insurance", "!say:call you back"],
            ),
            (
                R(ActionResult::TaskCreated(true)),
                &[
                    "say:billing office",
                    "say:ending in 4 5 6 7",
                    "outcome:Escalated",
                ],
            ),
        ],
    );
    run(
        "list then unknown",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U("what insurance do you take", Intent::Insurance, ""),
                &["say:We accept Aetna", "phase:AskInsurancePlan"],
            ),
            (
                U("I have Oscar", Intent::Inform, ""),
                &["say:Oscar isn't on my list", "phase:AskName"],
            ),
        ],
    );
}

#[test]
fn escalations_write_the_task_before_promising_a_callback() {
    run(
        "refill",
        CLOSED_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "I need a refill on my lisinopril",
                    Intent::PrescriptionRefill,
                    r#"{"medication": "lisinopril"}"#,
                ),
                &["say:refill request", "phase:AskName"],
            ),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["phase:AskDob"],
            ),
            (
                U("3/4/85", Intent::Inform, MARIA_DOB),
                &["say:which pharmacy", "phase:AskPharmacy"],
            ),
            (
                U(
                    "the CVS on Main Street",
                    Intent::Inform,
                    r#"{"pharmacy": "CVS on Main Street"}"#,
                ),
                &["say:best phone number", "phase:AskPhone"],
            ),
            (
                U("555 123 4567", Intent::Inform, r#"{"phone": "5551234567"}"#),
                &["task:prescription_refill", "!say:"],
            ),
            (
                R(ActionResult::TaskCreated(true)),
                &[
                    "say:refill request to our clinical team",
                    "outcome:Escalated",
                    "say:anything else",
                ],
            ),
        ],
    );
    run(
        "task write fails",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U("I have a question about my bill", Intent::Billing, ""),
                &["phase:AskName"],
            ),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["phase:ConfirmCallerNumber"],
            ),
            (U("yes", Intent::Affirm, ""), &["task:billing"]),
            (
                R(ActionResult::TaskCreated(false)),
                &[
                    "say:couldn't save your request",
                    "!say:call you back at the number",
                    "!outcome:Escalated",
                ],
            ),
        ],
    );
    run(
        "results are never read out",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U("are my lab results back", Intent::TestResults, ""),
                &["say:not able to share test results", "phase:AskName"],
            ),
        ],
    );
    run(
        "clinical question gets no advice",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "can I take ibuprofen with my blood pressure medicine",
                    Intent::ClinicalQuestion,
                    "",
                ),
                &["say:not able to give medical advice", "say:911"],
            ),
        ],
    );
}

#[test]
fn warm_transfer_during_open_hours() {
    run(
        "staff",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("can I talk to a real person", Intent::SpeakToStaff, ""),
                &[
                    "say:connect you",
                    "then:transfer",
                    "outcome:Transferred",
                    "!act:CreateTask",
                ],
            ),
        ],
    );
    run(
        "billing",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("I got a bill I don't understand", Intent::Billing, ""),
                &["then:transfer"],
            ),
        ],
    );
    run(
        "dtmf zero after hours",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                Dtmf("0"),
                &[
                    "say:front desk call you back",
                    "phase:AskName",
                    "!then:transfer",
                ],
            ),
        ],
    );
}

#[test]
fn existing_appointments_need_identity_and_do_not_probe() {
    let not_found_words = "wasn't able to find an upcoming appointment";
    // Unknown caller.
    run(
        "unknown person",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &["say:your first and last name"],
            ),
            (
                U(
                    "Nobody Here",
                    Intent::Inform,
                    r#"{"person_name": "Nobody Here"}"#,
                ),
                &["say:date of birth"],
            ),
            (
                U(
                    "january 1 1990",
                    Intent::Inform,
                    r#"{"date_of_birth": "1990-01-01"}"#,
                ),
                &["act:Verify"],
            ),
            (
                R(ActionResult::Verified(None)),
                &[
                    &format!("say:{not_found_words}"),
                    "!act:SetPatient",
                    "phase:OfferBookInstead",
                ],
            ),
        ],
    );
    // A real patient with nothing booked hears exactly the same.
    run(
        "patient without appointments",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (
                U("march 4 1985", Intent::Inform, MARIA_DOB),
                &["act:Verify"],
            ),
            (R(patient()), &["act:ListAppointments"]),
            (
                R(ActionResult::Appointments(Some(vec![]))),
                &[&format!("say:{not_found_words}"), "phase:OfferBookInstead"],
            ),
        ],
    );
    run(
        "check",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "I'm Maria Gonzalez, born march 4 1985, when's my appointment",
                    Intent::CheckAppointment,
                    r#"{"person_name": "Maria Gonzalez", "date_of_birth": "1985-03-04"}"#,
                ),
                &["act:Verify", "!say:"],
            ),
            (R(patient()), &["act:ListAppointments"]),
            (
                R(ActionResult::Appointments(Some(vec![appt(
                    "a1",
                    "2026-03-20T09:00",
                    "patel",
                    "follow_up",
                )]))),
                &[
                    "say:your follow-up visit with Dr. Patel on Friday the 20th at 9 AM",
                    "outcome:Answered",
                ],
            ),
        ],
    );
}

#[test]
fn cancel_with_two_appointments_the_same_day() {
    run(
        "cancel",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "I need to cancel my appointment",
                    Intent::CancelAppointment,
                    "",
                ),
                &["phase:AskName"],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("3/4/85", Intent::Inform, MARIA_DOB), &["act:Verify"]),
            (R(patient()), &[]),
            (
                R(ActionResult::Appointments(Some(vec![
                    appt("a1", "2026-03-20T09:00", "patel", "follow_up"),
                    appt("a2", "2026-03-20T14:00", "chen", "sick_visit"),
                ]))),
                &["say:Which one do you mean", "phase:ChooseAppointment"],
            ),
            (
                U(
                    "the two o'clock one",
                    Intent::Inform,
                    r#"{"time": "14:00"}"#,
                ),
                &[
                    "say:cancel your sick visit with nurse practitioner Sarah Chen",
                    "phase:ConfirmCancel",
                ],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &["act:Cancel { appointment_id: \"a2\" }"],
            ),
            (
                R(ActionResult::Cancelled(Ok(appt(
                    "a2",
                    "2026-03-20T14:00",
                    "chen",
                    "sick_visit",
                )))),
                &["say:I've cancelled", "outcome:Cancelled"],
            ),
        ],
    );
}

#[test]
fn a_reply_to_offers_picks_only_when_every_detail_fits() {
    let offers = || {
        R(ActionResult::Slots(Some(vec![
            slot("2026-03-16T10:00", "kim", "physical"),
            slot("2026-03-16T13:00", "kim", "physical"),
            slot("2026-03-16T15:00", "kim", "physical"),
        ])))
    };
    let booking = |reply: (Step, &'static [&'static str])| {
        vec![
            (Start, &[][..]),
            (
                U(
                    "a physical with doctor kim",
                    Intent::BookAppointment,
                    r#"{"provider": "kim"}"#,
                ),
                &["phase:AskName"][..],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[][..]),
            (U("march fourth 1985", Intent::Inform, MARIA_DOB), &[][..]),
            (U("yes", Intent::Affirm, ""), &["act:Register"][..]),
            (R(registered()), &["act:FindSlots"][..]),
            (offers(), &["say:Monday the 16th at 10 AM with Dr. Kim"][..]),
            reply,
        ]
    };
    // Mid-task, an unsure new request is an answer ("I'll take the two
    // thirty" came out 48 % cancel_appointment).
    run(
        "unsure switch",
        OPEN_NOW,
        Some("5551234567"),
        booking((
            Uc(
                "I'll take the three o'clock",
                Intent::CancelAppointment,
                0.79,
                r#"{"time": "15:00"}"#,
            ),
            &["say:Just to confirm", "say:3 PM", "!say:cancel"],
        )),
    );
    // Another day asked for: a new search, not Monday's morning slot.
    run(
        "wednesday morning instead",
        OPEN_NOW,
        Some("5551234567"),
        booking((
            U(
                "Wednesday morning",
                Intent::Inform,
                r#"{"date": "2026-03-18", "part_of_day": "morning"}"#,
            ),
            &["act:FindSlots", "!phase:ConfirmSlot"],
        )),
    );
    // One offer fits what was said: that one.
    run(
        "the morning one",
        OPEN_NOW,
        Some("5551234567"),
        booking((
            U(
                "the Monday morning one",
                Intent::Inform,
                r#"{"date": "2026-03-16", "part_of_day": "morning"}"#,
            ),
            &["!act:FindSlots", "say:Just to confirm", "say:10 AM"],
        )),
    );
}

/// A caller who pauses mid-sentence arrives in pieces (the endpointer
/// ends an utterance at a short pause): no piece may count as a failure,
/// and what each piece says is kept.
#[test]
fn a_sentence_in_pieces_is_understood_piece_by_piece() {
    run(
        "hi / this is Tom Lee / a sick visit / March 4th / 1985",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U("Hi.", Intent::OfficeHours, ""),
                &["say:What can I help you with", "!say:didn't quite catch"],
            ),
            (
                U(
                    "This is Tom Lee.",
                    Intent::OutOfScope,
                    r#"{"person_name": "Tom Lee"}"#,
                ),
                &["say:What can I help you with", "!say:didn't quite catch"],
            ),
            (
                U("I need a sick visit", Intent::BookAppointment, ""),
                &["say:date of birth", "phase:AskDob"],
            ),
            (
                U("March 4th.", Intent::Inform, r#"{"date": "2026-03-04"}"#),
                &["!say:", "phase:AskDob"],
            ),
            (
                U("1985.", Intent::Inform, ""),
                &["say:ending in 4 5 6 7", "phase:ConfirmCallerNumber"],
            ),
            (U("yes", Intent::Affirm, ""), &["act:Register"]),
        ],
    );
    // "born" said with a month and day: the start of a date of birth, not
    // an appointment date that has passed; the year comes next.
    run(
        "born March 4th / 1985 I need to move",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "This is Maria Gonzalez born, March 4th.",
                    Intent::Inform,
                    r#"{"person_name": "Maria Gonzalez", "date": "2026-03-04"}"#,
                ),
                &["!say:"],
            ),
            (
                U(
                    "1985 I need to move my appointment",
                    Intent::RescheduleAppointment,
                    "",
                ),
                &["act:Verify", "!say:date of birth"],
            ),
        ],
    );
    // A month and day in the future is no date of birth in the future.
    run(
        "June 12th / 1972",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &[],
            ),
            (
                U(
                    "David Miller",
                    Intent::Inform,
                    r#"{"person_name": "David Miller"}"#,
                ),
                &[],
            ),
            (
                U("June 12th.", Intent::Inform, r#"{"date": "2026-06-12"}"#),
                &["!say:in the future", "!say:"],
            ),
            (U("1972.", Intent::Inform, ""), &["act:Verify"]),
        ],
    );
    run(
        "month and day, then nothing",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &[],
            ),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["phase:AskDob"],
            ),
            (
                U("March 4th.", Intent::Inform, r#"{"date": "2026-03-04"}"#),
                &["!say:"],
            ),
            (
                Silence,
                &["say:Are you still there", "say:the year you were born"],
            ),
            (U("1985", Intent::Inform, ""), &["act:Verify"]),
        ],
    );
    run(
        "wait",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("I need to cancel", Intent::CancelAppointment, ""),
                &["phase:AskName"],
            ),
            (Mumble("Wait."), &["!say:", "phase:AskName"]),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["say:date of birth"],
            ),
        ],
    );
}

#[test]
fn a_pharmacy_on_a_street_answers_which_pharmacy() {
    run(
        "pharmacy",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "I need a refill of my lisinopril",
                    Intent::PrescriptionRefill,
                    r#"{"medication": "lisinopril"}"#,
                ),
                &["phase:AskName"],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (
                U("march fourth 1985", Intent::Inform, MARIA_DOB),
                &["phase:AskPharmacy"],
            ),
            (
                U("the CBS on Main Street.", Intent::Location, ""),
                &["!say:Riverside Drive", "say:ending in 4 5 6 7"],
            ),
        ],
    );
    // A question is still answered.
    run(
        "where are you",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "I need a refill of my lisinopril",
                    Intent::PrescriptionRefill,
                    r#"{"medication": "lisinopril"}"#,
                ),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march fourth 1985", Intent::Inform, MARIA_DOB), &[]),
            (
                U("where are you located?", Intent::Location, ""),
                &["say:Riverside Drive", "say:which pharmacy"],
            ),
        ],
    );
}

#[test]
fn the_agent_does_not_hang_up_on_a_goodbye_without_goodbye_words() {
    run(
        "misheard name read as goodbye",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (U("I need a physical", Intent::BookAppointment, ""), &[]),
            (
                U("Marie against all of us.", Intent::Goodbye, ""),
                &["!then:hangup", "say:didn't quite catch", "phase:AskName"],
            ),
            (
                U("No, that's all, thanks.", Intent::Goodbye, ""),
                &["then:hangup"],
            ),
        ],
    );
}

#[test]
fn an_unsure_model_still_hears_a_plain_yes_or_no_to_a_yes_no_question() {
    run(
        "keep it",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("cancel my appointment", Intent::CancelAppointment, ""),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("3/4/85", Intent::Inform, MARIA_DOB), &["act:Verify"]),
            (R(patient()), &[]),
            (
                R(ActionResult::Appointments(Some(vec![appt(
                    "a1",
                    "2026-03-20T09:00",
                    "patel",
                    "follow_up",
                )]))),
                &["phase:ConfirmCancel"],
            ),
            // The model is below the confidence bar on this one.
            (
                Mumble("actually no, keep it"),
                &["say:leave it as it is", "!act:Cancel", "phase:Open"],
            ),
            // Outside a yes/no question an unsure "no …" is not an answer.
            (Mumble("no the thing with the"), &["say:didn't quite catch"]),
        ],
    );
}

#[test]
fn corrections_and_repeats() {
    run(
        "no, the 18th",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "I need a sick visit for thursday",
                    Intent::BookAppointment,
                    r#"{"date": "2026-03-19"}"#,
                ),
                &["phase:AskName"],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march 4 1985", Intent::Inform, MARIA_DOB), &[]),
            (U("yes", Intent::Affirm, ""), &["act:Register"]),
            (
                R(registered()),
                &[
                    "act:FindSlots(SlotQuery { type_id: \"sick_visit\", provider_id: None, from: 2026-03-19, to: 2026-03-19",
                ],
            ),
            (
                R(ActionResult::Slots(Some(vec![
                    slot("2026-03-19T08:00", "kim", "sick_visit"),
                    slot("2026-03-19T13:00", "kim", "sick_visit"),
                ]))),
                &["phase:Offering"],
            ),
            (
                U("sorry, could you repeat that", Intent::OutOfScope, ""),
                &[
                    "say:Thursday the 19th at 8 AM with Dr. Kim",
                    "phase:Offering",
                ],
            ),
            (
                U("no, the 18th", Intent::Deny, r#"{"date": "2026-03-18"}"#),
                &[
                    "act:FindSlots(SlotQuery { type_id: \"sick_visit\", provider_id: None, from: 2026-03-18, to: 2026-03-18",
                ],
            ),
        ],
    );
}

#[test]
fn bad_input_gets_a_polite_next_step() {
    run(
        "february 30th",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (U("book a follow up", Intent::BookAppointment, ""), &[]),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march 4 1985", Intent::Inform, MARIA_DOB), &[]),
            (U("yes", Intent::Affirm, ""), &[]),
            (R(registered()), &["phase:AskWhen"]),
            (
                U("february 30th", Intent::Inform, ""),
                &[
                    "say:There's no February 30th",
                    "phase:AskWhen",
                    "!act:FindSlots",
                ],
            ),
            (
                U(
                    "a date in the past like march 2nd",
                    Intent::Inform,
                    r#"{"date": "2026-03-02"}"#,
                ),
                &["say:has already passed", "!act:FindSlots", "phase:AskWhen"],
            ),
            (
                U(
                    "7 pm on tuesday",
                    Intent::Inform,
                    r#"{"date": "2026-03-17", "time": "19:00"}"#,
                ),
                &[
                    "say:On Tuesday we're open from 8 AM to 5 PM, so 7 PM isn't available",
                    "act:FindSlots",
                ],
            ),
        ],
    );
    run(
        "unknown doctor",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U(
                    "I want to see doctor smith for a physical",
                    Intent::BookAppointment,
                    "",
                ),
                &[
                    "say:We don't have a Dr. Smith",
                    "say:Dr. Patel, Dr. Kim, and nurse practitioner Sarah Chen",
                    "phase:AskName",
                ],
            ),
        ],
    );
    run(
        "future dob and refusal",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &[],
            ),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["phase:AskDob"],
            ),
            (
                U(
                    "march 4 2030",
                    Intent::Inform,
                    r#"{"date_of_birth": "2030-03-04"}"#,
                ),
                &["say:in the future", "phase:AskDob", "!act:Verify"],
            ),
            (
                U("I'd rather not say", Intent::Deny, ""),
                &["say:to protect your privacy", "phase:AskDob"],
            ),
            (
                U("no", Intent::Deny, ""),
                &[
                    "say:can't access appointments",
                    "phase:OfferCallback",
                    "!act:Verify",
                ],
            ),
        ],
    );
    run(
        "same day",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "sick visit friday",
                    Intent::BookAppointment,
                    r#"{"date": "2026-03-20"}"#,
                ),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march 4 1985", Intent::Inform, MARIA_DOB), &[]),
            (U("yes", Intent::Affirm, ""), &[]),
            (R(registered()), &["act:FindSlots"]),
            (
                R(ActionResult::Slots(Some(vec![slot(
                    "2026-03-20T10:00",
                    "chen",
                    "sick_visit",
                )]))),
                &["say:The first opening I have is Friday the 20th at 10 AM"],
            ),
            (U("yes", Intent::Affirm, ""), &["phase:ConfirmSlot"]),
            (U("yes", Intent::Affirm, ""), &["act:Book"]),
            (
                R(ActionResult::Booked(Err(BookFailure::SameDay {
                    existing_local: local("2026-03-20T09:00"),
                }))),
                &[
                    "say:You already have an appointment on Friday the 20th at 9 AM",
                    "say:different day",
                    "phase:SameDayOffer",
                ],
            ),
            (U("yes", Intent::Affirm, ""), &["phase:AskWhen"]),
        ],
    );
    run(
        "slot taken by a simultaneous call",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "sick visit tomorrow",
                    Intent::BookAppointment,
                    r#"{"date": "2026-03-17"}"#,
                ),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march 4 1985", Intent::Inform, MARIA_DOB), &[]),
            (U("yes", Intent::Affirm, ""), &[]),
            (R(registered()), &[]),
            (
                R(ActionResult::Slots(Some(vec![slot(
                    "2026-03-17T10:00",
                    "chen",
                    "sick_visit",
                )]))),
                &[],
            ),
            (U("yes", Intent::Affirm, ""), &[]),
            (U("yes", Intent::Affirm, ""), &["act:Book"]),
            (
                R(ActionResult::Booked(Err(BookFailure::SlotTaken))),
                &["say:just taken", "act:FindSlots"],
            ),
        ],
    );
    run(
        "no slots anywhere",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                U(
                    "sick visit tomorrow with dr kim",
                    Intent::BookAppointment,
                    r#"{"date": "2026-03-17", "provider": "kim"}"#,
                ),
                &[],
            ),
            (U("Maria Gonzalez", Intent::Inform, MARIA), &[]),
            (U("march 4 1985", Intent::Inform, MARIA_DOB), &[]),
            (U("yes", Intent::Affirm, ""), &[]),
            (
                R(registered()),
                &["act:FindSlots(SlotQuery { type_id: \"sick_visit\", provider_id: Some(\"kim\")"],
            ),
            (
                R(ActionResult::Slots(Some(vec![]))),
                &[
                    "act:FindSlots(SlotQuery { type_id: \"sick_visit\", provider_id: Some(\"kim\"), from: 2026-03-17, to: 2026-03-31",
                    "!say:",
                ],
            ),
            (
                R(ActionResult::Slots(Some(vec![]))),
                &["act:FindSlots(SlotQuery { type_id: \"sick_visit\", provider_id: None"],
            ),
            (
                R(ActionResult::Slots(Some(vec![slot(
                    "2026-03-18T08:00",
                    "chen",
                    "sick_visit",
                )]))),
                &[
                    "say:I don't have anything open at that time",
                    "say:Sarah Chen",
                ],
            ),
        ],
    );
}

#[test]
fn silence_dtmf_and_misunderstanding() {
    run(
        "silence with caller id",
        OPEN_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                Silence,
                &["say:Are you still there", "say:What can I help you with"],
            ),
            (Silence, &["task:callback", "!say:"]),
            (
                R(ActionResult::TaskCreated(true)),
                &["say:call you back", "then:hangup", "outcome:Abandoned"],
            ),
        ],
    );
    run(
        "silence without caller id",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (Silence, &["say:still there"]),
            (
                Silence,
                &[
                    "say:Please call us back",
                    "!act:CreateTask",
                    "then:hangup",
                    "outcome:Abandoned",
                ],
            ),
        ],
    );
    run(
        "dob by keypad",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("when is my appointment", Intent::CheckAppointment, ""),
                &[],
            ),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["phase:AskDob"],
            ),
            (
                Dtmf("03041985"),
                &["act:Verify { name: \"Maria Gonzalez\", date_of_birth: 1985-03-04 }"],
            ),
        ],
    );
    run(
        "phone by keypad",
        CLOSED_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("I want to talk to someone", Intent::SpeakToStaff, ""),
                &["phase:AskName"],
            ),
            (
                U("Maria Gonzalez", Intent::Inform, MARIA),
                &["phase:AskPhone"],
            ),
            (Dtmf("5551234567"), &["task:callback"]),
        ],
    );
    run(
        "two misunderstandings",
        CLOSED_NOW,
        Some("5551234567"),
        vec![
            (Start, &[]),
            (
                Mumble("blorp"),
                &["say:didn't quite catch that", "phase:Open"],
            ),
            (
                Mumble("zzz"),
                &["say:trouble understanding", "task:failed_understanding"],
            ),
            (
                R(ActionResult::TaskCreated(true)),
                &["say:ending in 4 5 6 7", "outcome:Escalated", "then:hangup"],
            ),
        ],
    );
    run(
        "hangup mid-booking",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (U("book a physical", Intent::BookAppointment, ""), &[]),
            (Hangup, &["outcome:Abandoned", "!say:"]),
        ],
    );
}

#[test]
fn new_patient_registration_before_booking() {
    run(
        "new patient",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("are you accepting new patients", Intent::NewPatient, ""),
                &["phase:OfferNewPatientBooking"],
            ),
            (
                U("yes", Intent::Affirm, ""),
                &["say:first and last name", "phase:AskName"],
            ),
            (
                U("Tom Lee", Intent::Inform, r#"{"person_name": "Tom Lee"}"#),
                &["phase:AskDob"],
            ),
            (
                U(
                    "may 5 1990",
                    Intent::Inform,
                    r#"{"date_of_birth": "1990-05-05"}"#,
                ),
                &["phase:AskPhone"],
            ),
            (
                U("555 987 6543", Intent::Inform, r#"{"phone": "5559876543"}"#),
                &[
                    "act:Register { name: \"Tom Lee\", date_of_birth: 1990-05-05, phone: Some(\"5559876543\") }",
                ],
            ),
            (R(registered()), &["phase:AskWhen"]),
            (
                U("as soon as possible", Intent::Inform, ""),
                &["act:FindSlots(SlotQuery { type_id: \"new_patient\""],
            ),
        ],
    );
}

#[test]
fn a_name_in_answer_to_the_new_patient_offer_means_yes() {
    run(
        "new patient gives a name",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("are you accepting new patients", Intent::NewPatient, ""),
                &["phase:OfferNewPatientBooking"],
            ),
            (
                U(
                    "my name is Asha Khan",
                    Intent::Inform,
                    r#"{"person_name": "Asha Khan"}"#,
                ),
                &[
                    "say:date of birth",
                    "phase:AskDob",
                    "!say:didn't quite catch",
                ],
            ),
        ],
    );
    run(
        "new patient declines with a name",
        OPEN_NOW,
        None,
        vec![
            (Start, &[]),
            (
                U("are you accepting new patients", Intent::NewPatient, ""),
                &["phase:OfferNewPatientBooking"],
            ),
            (
                U(
                    "no thanks, this is Asha Khan",
                    Intent::Deny,
                    r#"{"person_name": "Asha Khan"}"#,
                ),
                &["say:anything else", "phase:Open"],
            ),
        ],
    );
}

#[test]
fn bench_step_runs() {
    assert!(bench_step(2) < std::time::Duration::from_secs(1));
    let _ = NaiveDate::MIN;
    let _ = Outcome::Booked;
    let _ = TaskKind::Callback;
}
