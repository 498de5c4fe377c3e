//! The dialogue machine driven by random calls, without models: the
//! caller's words are understood as the input says (any intent, any
//! confidence, the emergency net's verdict or none) with the entities the
//! model-free parsers find in them, and each action is answered as the
//! front desk would (found or not, booked or taken, task written or not).
//!
//! The input is lines, one call event each; the first byte says which:
//! - `T` + 4 bytes: the call's set-up (day, hour, who is on duty, caller id);
//! - `S` started, `H` hang-up, `Q` silence, `D` + bytes: keypad digits;
//! - `U` + 4 bytes + text: an utterance, then the words. The bytes: the
//!   intent (`a`..`t`: `Intent::ALL` in order), the confidence (`0`..`9`:
//!   tenths plus 0.05, `A` 1, `z` 0, `m` the threshold, `n` NaN), the
//!   emergency (`-` none, `0`..`7` the net's kind, `a`..`h` a possible
//!   one, anything else the net's verdict on the words), the entities
//!   (`-` none, anything else what the parsers find in the words);
//! - `P` + bytes: how the following actions turn out, one byte each.
//!
//! What must hold: no panic; no turn runs away (the runner stops at 64
//! actions); once the call has ended nothing more is said, except to an
//! emergency; an emergency the net reports, at any point, or the model
//! reports as the answer to "is this a medical emergency?" asked twice,
//! gets the
//! emergency answer (988 for a crisis, else 911), an urgent emergency task
//! and the end of the call; one only the model reports, in any phase but a
//! name, date of birth or number question, gets that question (asked again
//! once when it answers the question, the emergency answer after); an
//! emergency outcome is never replaced; no prompt key is ever said instead
//! of its words.

use std::collections::VecDeque;
use std::sync::LazyLock;

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};

use super::driver::Features;
use super::entities::{CLINIC, ROSTER};
use crate::clinic::{Clinic, Prompts};
use crate::dialogue::{
    Action, ActionResult, ApptRef, BookFailure, Dialogue, Env, MIN_CONFIDENCE, OnDuty, PatientRef,
    Phase,
};
use crate::nlu::emergency::{self, Screen};
use crate::nlu::entities as parsers;
use crate::scheduling::{Slot, SlotQuery};
use crate::vocabulary::{
    AfterSpeech, CallEvent, EmergencyKind, Entities, Intent, Outcome, PartOfDay, Priority,
    TaskKind, Understanding,
};

/// The runner's guard (`desk::MAX_ACTIONS_PER_TURN`): more is a loop.
const MAX_ACTIONS_PER_TURN: usize = 64;
/// Events per input: a long call.
const MAX_EVENTS: usize = 200;

const KINDS: [EmergencyKind; 8] = [
    EmergencyKind::ChestPain,
    EmergencyKind::Breathing,
    EmergencyKind::Stroke,
    EmergencyKind::Bleeding,
    EmergencyKind::Overdose,
    EmergencyKind::Suicidal,
    EmergencyKind::Anaphylaxis,
    EmergencyKind::Unresponsive,
];

const DTMF: &[u8; 16] = b"0123456789*#ABCD";

static PROMPTS: LazyLock<Prompts> = LazyLock::new(Prompts::builtin);
static ANSWER_911: LazyLock<String> = LazyLock::new(|| PROMPTS.render("emergency_911", &[]));
static ANSWER_988: LazyLock<String> = LazyLock::new(|| PROMPTS.render("emergency_988", &[]));

fn receptionist() -> OnDuty {
    OnDuty {
        staff_id: "staff-dana".into(),
        name: "Dana Reyes".into(),
        phone: "+15555550199".into(),
    }
}

/// The call's set-up from the `T` line (or the defaults: Monday 9:00, a
/// receptionist on duty, a caller id).
struct Setup {
    now: NaiveDateTime,
    on_duty: Option<OnDuty>,
    caller: Option<&'static str>,
}

fn setup(line: Option<&[u8]>) -> Setup {
    let b = |i: usize| line.and_then(|l| l.get(i)).copied();
    let monday = NaiveDate::from_ymd_opt(2026, 3, 16).expect("a date");
    let day = monday + Days::new(u64::from(b(1).unwrap_or(0) % 21));
    let hour = u32::from(b(2).map_or(9, |h| h % 24));
    let minute = if b(2).is_some_and(|h| h & 0x80 != 0) {
        30
    } else {
        0
    };
    let now = day.and_time(NaiveTime::from_hms_opt(hour, minute, 0).expect("a time"));
    let on_duty = (b(3).unwrap_or(1) % 2 == 1).then(receptionist);
    let caller = match b(4).unwrap_or(1) % 4 {
        0 => None,
        1 => Some("+15555550123"),
        2 => Some("anonymous"),
        _ => Some("+1 (555) 010-9999 ext 7"),
    };
    Setup {
        now,
        on_duty,
        caller,
    }
}

/// How actions turn out: the bytes of the `P` lines in turn, or all well.
struct Outcomes {
    bytes: Vec<u8>,
    next: usize,
}

impl Outcomes {
    /// `None` means "as it should go".
    fn next(&mut self) -> Option<u8> {
        if self.bytes.is_empty() {
            return None;
        }
        let b = self.bytes[self.next % self.bytes.len()];
        self.next += 1;
        Some(b)
    }
}

fn slot_at(clinic: &Clinic, provider_id: &str, type_id: &str, at: NaiveDateTime) -> Option<Slot> {
    let start = clinic.to_utc(at)?;
    let minutes = clinic.appointment_type(type_id).map_or(30, |t| t.minutes);
    Some(Slot {
        provider_id: provider_id.to_string(),
        type_id: type_id.to_string(),
        start,
        end: start + TimeDelta::minutes(i64::from(minutes)),
        start_local: at,
    })
}

fn slots_for(clinic: &Clinic, q: &SlotQuery, n: usize) -> Vec<Slot> {
    let provider = q.provider_id.clone().unwrap_or_else(|| {
        clinic
            .appointment_type(&q.type_id)
            .and_then(|t| t.providers.first().cloned())
            .or_else(|| clinic.providers.first().map(|p| p.id.clone()))
            .unwrap_or_default()
    });
    let first_hour = match q.part_of_day {
        Some(PartOfDay::Afternoon) => 13,
        Some(PartOfDay::Evening) => 17,
        _ => 9,
    };
    (0..n)
        .filter_map(|k| {
            let day = (q.from + Days::new(k as u64 / 2)).min(q.to);
            let at = day.and_time(NaiveTime::from_hms_opt(first_hour + k as u32, 30, 0)?);
            slot_at(clinic, &provider, &q.type_id, at)
        })
        .take(q.limit.max(1))
        .collect()
}

fn appointments(clinic: &Clinic, now: NaiveDateTime, n: usize) -> Vec<ApptRef> {
    (0..n)
        .map(|k| ApptRef {
            id: format!("appt-{k}"),
            provider_id: clinic.providers[k % clinic.providers.len()].id.clone(),
            type_id: clinic.appointment_types[k % clinic.appointment_types.len()]
                .id
                .clone(),
            start_local: (now.date() + Days::new(1 + k as u64))
                .and_time(NaiveTime::from_hms_opt(10 + k as u32, 0, 0).expect("a time")),
        })
        .collect()
}

fn booked(slot: &Slot, p: Option<u8>) -> Result<ApptRef, BookFailure> {
    match p.map(|p| p % 5) {
        Some(0) => Err(BookFailure::SlotTaken),
        Some(1) => Err(BookFailure::SameDay {
            existing_local: slot.start_local.date().and_time(NaiveTime::MIN) + TimeDelta::hours(8),
        }),
        Some(2) => Err(BookFailure::Failed),
        _ => Ok(ApptRef {
            id: "appt-new".into(),
            provider_id: slot.provider_id.clone(),
            type_id: slot.type_id.clone(),
            start_local: slot.start_local,
        }),
    }
}

/// What the front desk answers to one action.
fn respond(clinic: &Clinic, now: NaiveDateTime, action: &Action, o: &mut Outcomes) -> ActionResult {
    let p = o.next();
    let patient = || PatientRef { id: "p1".into() };
    match action {
        Action::Verify { .. } => match p {
            Some(p) if p % 11 == 0 => ActionResult::SecondFactorNeeded,
            _ => ActionResult::Verified((p.is_none_or(|p| p % 3 != 0)).then(patient)),
        },
        Action::Register {
            confirmed: false, ..
        } => match p {
            Some(p) if p % 11 == 0 => ActionResult::SecondFactorNeeded,
            Some(p) if p % 5 == 0 => ActionResult::NewIdentity,
            _ => ActionResult::Registered(Some(patient())),
        },
        Action::Register { .. } => {
            ActionResult::Registered((p.is_none_or(|p| p % 5 != 0)).then(patient))
        }
        Action::CheckSecondFactor { .. } => {
            ActionResult::SecondFactorChecked((p.is_none_or(|p| p % 2 != 0)).then(patient))
        }
        Action::FindSlots(q) => match p {
            Some(p) if p % 7 == 0 => ActionResult::Slots(None),
            Some(p) => ActionResult::Slots(Some(slots_for(clinic, q, usize::from(p % 4)))),
            None => ActionResult::Slots(Some(slots_for(clinic, q, 3))),
        },
        Action::ListAppointments { .. } => match p {
            Some(p) if p % 7 == 0 => ActionResult::Appointments(None),
            Some(p) => {
                ActionResult::Appointments(Some(appointments(clinic, now, usize::from(p % 4))))
            }
            None => ActionResult::Appointments(Some(appointments(clinic, now, 2))),
        },
        Action::Book { slot, .. } => ActionResult::Booked(booked(slot, p)),
        Action::Reschedule { slot, .. } => ActionResult::Rescheduled(booked(slot, p)),
        Action::Cancel { appointment_id } => ActionResult::Cancelled(match p {
            Some(p) if p % 4 == 0 => Err(BookFailure::Failed),
            _ => Ok(ApptRef {
                id: appointment_id.clone(),
                ..appointments(clinic, now, 1).remove(0)
            }),
        }),
        Action::CreateTask(_) => ActionResult::TaskCreated(p.is_none_or(|p| p % 6 != 0)),
        Action::Say(_) | Action::SetPatient(_) | Action::Outcome(_) | Action::Finish { .. } => {
            unreachable!("performed by the runner itself")
        }
    }
}

/// One event through the machine and every action it leads to, as the
/// runner (`desk::DeskCall::turn`) performs them.
fn turn(d: &mut Dialogue, env: &Env, event: CallEvent, o: &mut Outcomes) -> Vec<Action> {
    let mut all = Vec::new();
    let mut queue: VecDeque<Action> = d.step(env, crate::dialogue::Input::Call(event)).into();
    while let Some(action) = queue.pop_front() {
        assert!(
            all.len() < MAX_ACTIONS_PER_TURN,
            "a turn ran past {MAX_ACTIONS_PER_TURN} actions: {:?}",
            &all[all.len() - 4..]
        );
        all.push(action.clone());
        match &action {
            Action::Say(_) | Action::SetPatient(_) | Action::Outcome(_) => continue,
            Action::Finish { then, .. } => {
                if let AfterSpeech::Transfer { .. } = then {
                    let task = d.transfer_task(env);
                    assert_eq!(task.kind, TaskKind::WarmTransfer);
                }
                continue;
            }
            _ => {}
        }
        let result = respond(env.clinic, env.now, &action, o);
        queue.extend(d.step(env, crate::dialogue::Input::Result(result)));
    }
    all
}

/// An utterance from a `U` line: intent, confidence, emergency and
/// entities from the first four bytes, the words after them.
fn utterance(line: &[u8], today: NaiveDate) -> (String, Understanding) {
    let b = |i: usize| line.get(i).copied();
    let text = String::from_utf8_lossy(line.get(5..).unwrap_or_default()).into_owned();
    let intent = Intent::ALL[match b(1).unwrap_or(b'r') {
        c @ b'a'..=b't' => usize::from(c - b'a'),
        c => usize::from(c) % Intent::ALL.len(),
    }];
    let confidence = match b(2) {
        None => 0.95,
        Some(c @ b'0'..=b'9') => f32::from(c - b'0') / 10.0 + 0.05,
        Some(b'A') => 1.0,
        Some(b'z') => 0.0,
        Some(b'm') => MIN_CONFIDENCE,
        Some(b'n') => f32::NAN,
        Some(c) => f32::from(c) / 255.0,
    };
    let (emergency, possible_emergency) = match b(3) {
        None | Some(b'-') => (None, None),
        Some(c @ b'0'..=b'7') => (Some(KINDS[usize::from(c - b'0')]), None),
        Some(c @ b'a'..=b'h') => (None, Some(KINDS[usize::from(c - b'a')])),
        // As the NLU does it: the net's verdict on the words.
        Some(_) => match emergency::screen(&text) {
            Screen::Emergency(kind) => (Some(kind), None),
            Screen::Contained(kind) => (None, Some(kind)),
            Screen::Clear => (None, None),
        },
    };
    let entities = match b(4) {
        Some(b'-') => Entities::default(),
        _ => parsers::extract(&text, today, &ROSTER),
    };
    (
        text,
        Understanding {
            intent,
            confidence,
            entities,
            emergency,
            possible_emergency,
        },
    )
}

/// Whether the agent's words are a bare prompt key ("escalate_intro_x"):
/// a prompt missing from the templates.
fn is_prompt_key(s: &str) -> bool {
    s.contains('_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

pub fn dialogue(data: &[u8], f: &mut Features) {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').take(MAX_EVENTS).collect();
    let set_up = setup(lines.iter().find(|l| l.first() == Some(&b'T')).copied());
    let outcome_bytes: Vec<u8> = lines
        .iter()
        .filter(|l| l.first() == Some(&b'P'))
        .flat_map(|l| l[1..].iter().copied())
        .collect();
    let mut outcomes = Outcomes {
        bytes: outcome_bytes,
        next: 0,
    };
    let clinic = &*CLINIC;
    let env = Env {
        clinic,
        prompts: &PROMPTS,
        now: set_up.now,
        on_duty: set_up.on_duty.as_ref(),
    };
    let mut d = Dialogue::new(set_up.caller);
    let mut events: Vec<CallEvent> = Vec::new();
    for line in &lines {
        match line.first() {
            Some(b'S') => events.push(CallEvent::Started),
            Some(b'H') => events.push(CallEvent::Hangup),
            Some(b'Q') => events.push(CallEvent::Silence { silent_ms: 8_000 }),
            Some(b'D') => events.extend(line[1..].iter().take(16).map(|&b| {
                let key = if DTMF.contains(&b) {
                    b
                } else {
                    DTMF[usize::from(b % 16)]
                };
                CallEvent::Dtmf(char::from(key))
            })),
            Some(b'U') => {
                let (text, understanding) = utterance(line, env.now.date());
                events.push(CallEvent::Utterance {
                    text,
                    understanding,
                });
            }
            _ => {}
        }
    }
    let mut emergency_given = false;
    for event in events {
        let before = d.phase;
        let ended_before = d.is_ended();
        let sure_emergency = match &event {
            CallEvent::Utterance {
                understanding: u, ..
            } => {
                u.emergency.is_some()
                    || (u.intent == Intent::Emergency
                        && before == Phase::ConfirmEmergency
                        && d.times_asked(Phase::ConfirmEmergency) >= 2)
            }
            _ => false,
        };
        let any_emergency = match &event {
            CallEvent::Utterance {
                understanding: u, ..
            } => {
                u.emergency.is_some()
                    || u.possible_emergency.is_some()
                    || u.intent == Intent::Emergency
            }
            _ => false,
        };
        let model_only = match &event {
            CallEvent::Utterance {
                understanding: u, ..
            } => {
                u.emergency.is_none()
                    && u.intent == Intent::Emergency
                    && (before != Phase::ConfirmEmergency
                        || d.times_asked(Phase::ConfirmEmergency) < 2)
                    && !matches!(
                        before,
                        Phase::AskName
                            | Phase::AskDob
                            | Phase::AskPhone
                            | Phase::AskSecondFactor
                            | Phase::Waiting
                    )
            }
            _ => false,
        };
        let crisis = matches!(
            &event,
            CallEvent::Utterance { understanding: u, .. }
                if u.emergency == Some(EmergencyKind::Suicidal)
        );
        let actions = turn(&mut d, &env, event, &mut outcomes);
        let said: Vec<&str> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Say(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();

        for s in &said {
            assert!(!is_prompt_key(s), "a prompt key was said: {s:?}");
        }
        if ended_before && !any_emergency {
            assert!(actions.is_empty(), "the call had ended, yet: {actions:?}");
        }
        if model_only && !emergency_given {
            assert!(
                said.iter().any(|s| s.to_lowercase().contains("emergency")),
                "an emergency only the model heard in {before:?} was not asked about; said {said:?}"
            );
        }
        if sure_emergency && !emergency_given {
            let answer = if crisis { &*ANSWER_988 } else { &*ANSWER_911 };
            assert!(
                said.contains(&answer.as_str()),
                "an emergency in {before:?} did not get its answer; said {said:?}"
            );
            assert!(
                actions.iter().any(|a| matches!(
                    a,
                    Action::CreateTask(t)
                        if t.kind == TaskKind::Emergency && t.priority == Priority::Urgent
                )),
                "an emergency in {before:?} wrote no urgent task: {actions:?}"
            );
            assert!(
                actions.iter().any(|a| matches!(
                    a,
                    Action::Finish {
                        outcome: Outcome::Emergency,
                        then: AfterSpeech::Hangup
                    }
                )),
                "an emergency in {before:?} did not end the call: {actions:?}"
            );
            assert!(d.is_ended());
        }
        if actions
            .iter()
            .any(|a| matches!(a, Action::CreateTask(t) if t.kind == TaskKind::Emergency))
        {
            emergency_given = true;
        }
        if emergency_given {
            assert_eq!(
                d.outcome(),
                Some(Outcome::Emergency),
                "an emergency outcome replaced"
            );
        }
        f.add(("phase", format!("{before:?}"), format!("{:?}", d.phase)));
        for a in &actions {
            let kind = format!("{a:?}");
            let kind = kind.split(['(', ' ', '{']).next().unwrap_or_default();
            f.add(("action", format!("{:?}", d.phase), kind.to_string()));
        }
    }
    f.add(("outcome", format!("{:?}", d.outcome())));
}
