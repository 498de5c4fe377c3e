//! Scripted calls (`fixtures/calls/*.toml`): caller lines with their
//! understanding, the expected outcome and database rows. Replayed at text
//! level through the real front desk and database; the coordinator replays
//! the same files over audio.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;
use sqlx::Row;

use super::desk::Desk;
use super::{Clinic, Clock, Prompts};
use crate::call::{AfterSpeech, CallEvent, Outcome};
use crate::nlu::{Entities, Intent, Understanding};
use crate::scheduling::{self, BookRequest, Source, appointments, patients};
use crate::store::{Db, new_id};

/// The default "now" of a script: Monday 2026-03-16, 9:00 in New York.
pub const DEFAULT_NOW: &str = "2026-03-16T13:00:00Z";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallScript {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// RFC 3339; default [`DEFAULT_NOW`].
    #[serde(default)]
    pub now: Option<String>,
    /// The caller id the carrier reports.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub seed: Seed,
    pub turns: Vec<ScriptTurn>,
    pub expect: Expect,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub patients: Vec<SeedPatient>,
    #[serde(default)]
    pub appointments: Vec<SeedAppointment>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPatient {
    pub name: String,
    pub date_of_birth: NaiveDate,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAppointment {
    /// A seeded patient's name.
    pub patient: String,
    pub provider: String,
    #[serde(rename = "type")]
    pub type_id: String,
    /// Clinic-local `YYYY-MM-DDTHH:MM`.
    pub start: String,
}

/// One caller action: a line (with its understanding), a key, silence or hang-up.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptTurn {
    #[serde(default)]
    pub caller: Option<String>,
    #[serde(default)]
    pub intent: Option<Intent>,
    #[serde(default)]
    pub confidence: Option<f32>,
    #[serde(default)]
    pub entities: Entities,
    /// Keypad digits, sent one by one.
    #[serde(default)]
    pub dtmf: Option<String>,
    #[serde(default)]
    pub silence: bool,
    #[serde(default)]
    pub hangup: bool,
    /// Each must appear (case-insensitive) in the agent's answer to this turn.
    #[serde(default)]
    pub agent_says: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedTask {
    pub queue: String,
    pub kind: String,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub linked_to_patient: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub outcome: Outcome,
    /// How the call ends: `hangup`, `transfer`, or `listen` (still open).
    #[serde(default)]
    pub then: Option<String>,
    /// Appointments this call booked and that are still booked.
    #[serde(default)]
    pub booked: usize,
    /// Clinic-local starts (`YYYY-MM-DDTHH:MM`) of those appointments.
    #[serde(default)]
    pub booked_starts: Vec<String>,
    /// Seeded appointments that are now cancelled (by cancel or reschedule).
    #[serde(default)]
    pub seeded_cancelled: usize,
    #[serde(default)]
    pub tasks: Vec<ExpectedTask>,
    /// Patients in the database at the end (seeded plus registered).
    #[serde(default)]
    pub patients: Option<usize>,
    /// Whether the call recorded a verified patient id.
    #[serde(default)]
    pub patient_identified: Option<bool>,
    /// Phrases that must appear somewhere in what the agent said.
    #[serde(default)]
    pub agent_said: Vec<String>,
    /// Phrases that must never appear in what the agent said.
    #[serde(default)]
    pub agent_never_said: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ScriptReport {
    pub name: String,
    pub failures: Vec<String>,
    /// `("caller" | "agent", text)`.
    pub transcript: Vec<(String, String)>,
}

impl ScriptReport {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<CallScript>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            toml::from_str(&text).with_context(|| format!("parsing {}", f.display()))
        })
        .collect()
}

fn parse_local(clinic: &Clinic, s: &str) -> anyhow::Result<DateTime<Utc>> {
    let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .with_context(|| format!("{s:?} is not YYYY-MM-DDTHH:MM"))?;
    clinic
        .to_utc(local)
        .with_context(|| format!("{s:?} does not exist in the clinic's timezone"))
}

/// Replays one script on `db` (a fresh, migrated database).
pub async fn replay(
    db: &Db,
    clinic: Arc<Clinic>,
    prompts: Arc<Prompts>,
    script: &CallScript,
) -> anyhow::Result<ScriptReport> {
    let now: DateTime<Utc> = script
        .now
        .as_deref()
        .unwrap_or(DEFAULT_NOW)
        .parse()
        .context("script `now`")?;
    scheduling::sync_catalog(db, &clinic).await?;
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for p in &script.seed.patients {
        let new = patients::NewPatient {
            name: p.name.clone(),
            date_of_birth: p.date_of_birth,
            phone: p.phone.clone(),
        };
        let created = patients::create(db, &new, clinic.local(now).date()).await?;
        by_name.insert(p.name.clone(), created.id);
    }
    let mut seeded = Vec::new();
    for a in &script.seed.appointments {
        let patient_id = by_name
            .get(&a.patient)
            .with_context(|| format!("seed patient {:?}", a.patient))?;
        let req = BookRequest {
            patient_id: patient_id.clone(),
            provider_id: a.provider.clone(),
            type_id: a.type_id.clone(),
            start: parse_local(&clinic, &a.start)?,
            source: Source::Staff,
            call_id: None,
            one_per_day: false,
        };
        let booked = appointments::book(db, &clinic, &req, now)
            .await
            .with_context(|| format!("seeding appointment at {}", a.start))?;
        seeded.push(booked.id);
    }

    let desk = Desk::new(db.clone(), clinic.clone(), prompts, Clock::frozen_at(now));
    let call_id = new_id();
    let mut call = desk.call(&call_id, script.from.as_deref());
    let mut report = ScriptReport {
        name: script.name.clone(),
        ..Default::default()
    };
    let mut all_said = String::new();
    let mut last_then = AfterSpeech::Listen;
    let mut outcome = None;
    let mut patient_id = None;

    let mut events: Vec<(CallEvent, Vec<String>)> = vec![(CallEvent::Started, Vec::new())];
    for t in &script.turns {
        if let Some(line) = &t.caller {
            let understanding = Understanding {
                intent: t.intent.unwrap_or(Intent::Inform),
                confidence: t.confidence.unwrap_or(0.95),
                entities: t.entities.clone(),
            };
            events.push((
                CallEvent::Utterance {
                    text: line.clone(),
                    understanding,
                },
                t.agent_says.clone(),
            ));
        } else if let Some(digits) = &t.dtmf {
            let n = digits.chars().count();
            for (i, d) in digits.chars().enumerate() {
                let expect = if i + 1 == n {
                    t.agent_says.clone()
                } else {
                    Vec::new()
                };
                events.push((CallEvent::Dtmf(d), expect));
            }
        } else if t.silence {
            events.push((CallEvent::Silence { silent_ms: 8000 }, t.agent_says.clone()));
        } else if t.hangup {
            events.push((CallEvent::Hangup, t.agent_says.clone()));
        }
    }
    for (i, (event, expect)) in events.into_iter().enumerate() {
        if last_then != AfterSpeech::Listen {
            report.failures.push(format!(
                "event {i}: the call had already ended ({last_then:?})"
            ));
            break;
        }
        match &event {
            CallEvent::Utterance { text, .. } => {
                report.transcript.push(("caller".into(), text.clone()))
            }
            CallEvent::Dtmf(d) => report
                .transcript
                .push(("caller".into(), format!("[key {d}]"))),
            CallEvent::Silence { .. } => report
                .transcript
                .push(("caller".into(), "[silence]".into())),
            CallEvent::Hangup => report
                .transcript
                .push(("caller".into(), "[hangs up]".into())),
            CallEvent::Started => {}
        }
        let turn = call.turn(event).await?;
        let said = turn.say.join(" ");
        if !said.is_empty() {
            report.transcript.push(("agent".into(), said.clone()));
        }
        for phrase in expect {
            if !said.to_lowercase().contains(&phrase.to_lowercase()) {
                report.failures.push(format!(
                    "event {i}: expected the agent to say {phrase:?}, it said {said:?}"
                ));
            }
        }
        all_said.push_str(&said);
        all_said.push(' ');
        if turn.outcome.is_some() {
            outcome = turn.outcome;
        }
        if turn.patient_id.is_some() {
            patient_id = turn.patient_id;
        }
        last_then = turn.then;
    }

    let e = &script.expect;
    if outcome != Some(e.outcome) {
        report
            .failures
            .push(format!("outcome {:?}, expected {:?}", outcome, e.outcome));
    }
    if let Some(then) = &e.then {
        let got = match last_then {
            AfterSpeech::Listen => "listen",
            AfterSpeech::Hangup => "hangup",
            AfterSpeech::Transfer { .. } => "transfer",
        };
        if got != then {
            report
                .failures
                .push(format!("call ended with {got}, expected {then}"));
        }
    }
    let filter = appointments::AppointmentFilter {
        call_id: Some(call_id.clone()),
        status: Some("booked".into()),
        ..Default::default()
    };
    let booked = appointments::list(db, &clinic, &filter).await?;
    if booked.len() != e.booked {
        report.failures.push(format!(
            "{} appointments booked by the call, expected {}",
            booked.len(),
            e.booked
        ));
    }
    let starts: Vec<String> = booked
        .iter()
        .map(|a| clinic.local(a.start).format("%Y-%m-%dT%H:%M").to_string())
        .collect();
    for s in &e.booked_starts {
        if !starts.contains(s) {
            report
                .failures
                .push(format!("expected a booking at {s}, got {starts:?}"));
        }
    }
    let mut cancelled = 0;
    for id in &seeded {
        if appointments::get(db, id)
            .await?
            .is_some_and(|a| a.status == "cancelled")
        {
            cancelled += 1;
        }
    }
    if cancelled != e.seeded_cancelled {
        report.failures.push(format!(
            "{cancelled} seeded appointments cancelled, expected {}",
            e.seeded_cancelled
        ));
    }
    let rows =
        sqlx::query("SELECT queue, kind, priority, patient_id FROM tasks WHERE call_id = $1")
            .bind(&call_id)
            .fetch_all(&db.pool)
            .await?;
    let tasks: Vec<(String, String, String, Option<String>)> = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get("queue")?,
                r.try_get("kind")?,
                r.try_get("priority")?,
                r.try_get("patient_id")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?;
    if tasks.len() != e.tasks.len() {
        report.failures.push(format!(
            "{} tasks written, expected {}: {tasks:?}",
            tasks.len(),
            e.tasks.len()
        ));
    }
    for want in &e.tasks {
        let found = tasks.iter().any(|(q, k, p, pid)| {
            q == &want.queue
                && k == &want.kind
                && want.priority.as_ref().is_none_or(|wp| wp == p)
                && want.linked_to_patient.is_none_or(|l| l == pid.is_some())
        });
        if !found {
            report
                .failures
                .push(format!("no task like {want:?} among {tasks:?}"));
        }
    }
    if let Some(n) = e.patients {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients")
            .fetch_one(&db.pool)
            .await?;
        if count as usize != n {
            report
                .failures
                .push(format!("{count} patients in the database, expected {n}"));
        }
    }
    if let Some(want) = e.patient_identified {
        if patient_id.is_some() != want {
            report.failures.push(format!(
                "patient identified: {}, expected {want}",
                patient_id.is_some()
            ));
        }
    }
    let lower = all_said.to_lowercase();
    for p in &e.agent_said {
        if !lower.contains(&p.to_lowercase()) {
            report.failures.push(format!("the agent never said {p:?}"));
        }
    }
    for p in &e.agent_never_said {
        if lower.contains(&p.to_lowercase()) {
            report
                .failures
                .push(format!("the agent said {p:?}, which it must not"));
        }
    }
    Ok(report)
}
