//! Scripted calls (`fixtures/calls/*.toml`): what a caller says and does,
//! the outcome and database rows the call must end with, and optionally
//! what the understanding step should make of each line.
//!
//! Two replays feed one checker. [`replay`] runs the caller's lines as
//! text through the product's NLU ([`Nlu::understand`], as the call loop
//! does) and the real front desk on a database; `tests/conversation_audio.rs`
//! places the same scripts as synthesised speech over the real websocket
//! and reads the result back through the staff API. Both describe what
//! happened as a [`Happened`] and hand it to [`check`].
//!
//! The hand-written `intent` / `entities` of a line are never given to the
//! desk: they are checked against the NLU and reported apart, as
//! [`NluAgreement`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;

use super::desk::Desk;
use super::{Clinic, Clock, Prompts};
use crate::call::{AfterSpeech, CallEvent, Outcome};
use crate::nlu::{Entities, Intent, Nlu, Understanding};
use crate::scheduling::{self, BookRequest, Source, appointments, patients};
use crate::store::{Db, new_id};
use crate::tasks;

/// The default "now" of a script: Monday 2026-03-16, 8:50 in New York. The
/// clinic is open; with an hour's notice 10:00 is the first bookable slot,
/// and stays so for the minutes an audio replay takes (its clock runs on).
pub const DEFAULT_NOW: &str = "2026-03-16T12:50:00Z";

/// How long a `silence` turn lasts in the text replay (the call loop's
/// silence prompt fires after 8 s of caller silence).
pub const SILENCE_MS: u64 = 8000;

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

/// One caller action: a line, a key, silence or hang-up.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptTurn {
    #[serde(default)]
    pub caller: Option<String>,
    /// What the NLU should label the line (an agreement check, not an input).
    #[serde(default)]
    pub intent: Option<Intent>,
    /// Entities the NLU should find in the line; only those listed are
    /// checked (an agreement check, not an input).
    #[serde(default)]
    pub entities: Option<Entities>,
    /// Keypad digits, sent one by one.
    #[serde(default)]
    pub dtmf: Option<String>,
    #[serde(default)]
    pub silence: bool,
    /// The caller hangs up (only as the last turn).
    #[serde(default)]
    pub hangup: bool,
    /// Each must appear (case-insensitive) in the agent's answer to this turn.
    #[serde(default)]
    pub agent_says: Vec<String>,
}

/// What a turn does, once validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnAction<'a> {
    Say(&'a str),
    Dtmf(&'a str),
    Silence,
    Hangup,
}

impl ScriptTurn {
    pub fn action(&self) -> anyhow::Result<TurnAction<'_>> {
        match (&self.caller, &self.dtmf, self.silence, self.hangup) {
            (Some(line), None, false, false) => Ok(TurnAction::Say(line)),
            (None, Some(keys), false, false) => Ok(TurnAction::Dtmf(keys)),
            (None, None, true, false) => Ok(TurnAction::Silence),
            (None, None, false, true) => Ok(TurnAction::Hangup),
            _ => anyhow::bail!("a turn is exactly one of `caller`, `dtmf`, `silence`, `hangup`"),
        }
    }
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
    /// Ten digits.
    #[serde(default)]
    pub callback_number: Option<String>,
}

/// How the call ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Then {
    /// Somebody hung up.
    Hangup,
    /// The agent handed the call to staff.
    Transfer,
    /// The agent was still listening when the script ran out.
    Listen,
}

impl From<&AfterSpeech> for Then {
    fn from(a: &AfterSpeech) -> Then {
        match a {
            AfterSpeech::Listen => Then::Listen,
            AfterSpeech::Hangup => Then::Hangup,
            AfterSpeech::Transfer { .. } => Then::Transfer,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub outcome: Outcome,
    #[serde(default)]
    pub then: Option<Then>,
    /// Appointments this call booked and that are still booked.
    #[serde(default)]
    pub booked: usize,
    /// Clinic-local starts (`YYYY-MM-DDTHH:MM`) of those appointments.
    #[serde(default)]
    pub booked_starts: Vec<String>,
    /// Provider ids of those appointments.
    #[serde(default)]
    pub booked_providers: Vec<String>,
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

impl CallScript {
    /// The instant the call starts.
    pub fn now(&self) -> anyhow::Result<DateTime<Utc>> {
        self.now
            .as_deref()
            .unwrap_or(DEFAULT_NOW)
            .parse()
            .with_context(|| format!("{}: script `now`", self.name))
    }

    pub fn is_emergency(&self) -> bool {
        self.expect.outcome == Outcome::Emergency
    }

    /// Checks the turns make sense: one action each, hang-up only last.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.now()?;
        for (i, t) in self.turns.iter().enumerate() {
            let action = t
                .action()
                .with_context(|| format!("{}: turn {}", self.name, i + 1))?;
            anyhow::ensure!(
                action != TurnAction::Hangup || i + 1 == self.turns.len(),
                "{}: turn {}: a hang-up must be the last turn",
                self.name,
                i + 1
            );
            if let TurnAction::Dtmf(keys) = action {
                anyhow::ensure!(
                    !keys.is_empty()
                        && keys
                            .chars()
                            .all(|c| c.is_ascii_digit() || c == '*' || c == '#'),
                    "{}: turn {}: keys are 0-9, * and #",
                    self.name,
                    i + 1
                );
            }
        }
        let names: Vec<&str> = self.seed.patients.iter().map(|p| p.name.as_str()).collect();
        for a in &self.seed.appointments {
            anyhow::ensure!(
                names.contains(&a.patient.as_str()),
                "{}: seeded appointment for unknown patient {:?}",
                self.name,
                a.patient
            );
        }
        Ok(())
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
            let script: CallScript =
                toml::from_str(&text).with_context(|| format!("parsing {}", f.display()))?;
            script
                .validate()
                .with_context(|| format!("checking {}", f.display()))?;
            Ok(script)
        })
        .collect()
}

/// Clinic-local `YYYY-MM-DDTHH:MM` → an instant.
pub fn parse_local(clinic: &Clinic, s: &str) -> anyhow::Result<DateTime<Utc>> {
    let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .with_context(|| format!("{s:?} is not YYYY-MM-DDTHH:MM"))?;
    clinic
        .to_utc(local)
        .with_context(|| format!("{s:?} does not exist in the clinic's timezone"))
}

/// An instant → clinic-local `YYYY-MM-DDTHH:MM`, as scripts write starts.
pub fn format_local(clinic: &Clinic, t: DateTime<Utc>) -> String {
    clinic.local(t).format("%Y-%m-%dT%H:%M").to_string()
}

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
}

impl Happened {
    /// Everything the agent said, greeting included.
    pub fn all_said(&self) -> String {
        let mut all = self.greeting.clone();
        for r in self.replies.iter().flatten() {
            all.push(' ');
            all.push_str(r);
        }
        all
    }
}

/// The script's expectations against what happened: one line per miss.
pub fn check(script: &CallScript, happened: &Happened) -> Vec<String> {
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

/// The result of one replay.
#[derive(Clone, Debug, Default)]
pub struct ScriptReport {
    pub name: String,
    pub failures: Vec<String>,
    /// `("caller" | "agent", text)`.
    pub transcript: Vec<(String, String)>,
    pub happened: Happened,
    pub nlu: NluAgreement,
}

impl ScriptReport {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Seeds a script's patients and appointments straight into `db`; returns
/// the ids of the seeded appointments.
pub async fn seed_db(
    db: &Db,
    clinic: &Clinic,
    script: &CallScript,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<String>> {
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
            start: parse_local(clinic, &a.start)?,
            source: Source::Staff,
            call_id: None,
            one_per_day: false,
        };
        let booked = appointments::book(db, clinic, &req, now)
            .await
            .with_context(|| format!("seeding appointment at {}", a.start))?;
        seeded.push(booked.id);
    }
    Ok(seeded)
}

/// Replays one script as text on `db` (a fresh, migrated database): each
/// caller line goes through `nlu` as the call loop hands it a transcript,
/// and the front desk gets what the NLU understood.
pub async fn replay(
    db: &Db,
    clinic: Arc<Clinic>,
    prompts: Arc<Prompts>,
    nlu: Arc<Nlu>,
    script: &CallScript,
) -> anyhow::Result<ScriptReport> {
    script.validate()?;
    let now = script.now()?;
    scheduling::sync_catalog(db, &clinic).await?;
    let seeded = seed_db(db, &clinic, script, now).await?;
    // The call loop resolves dates against the call's local start date.
    let today = clinic.local(now).date();

    let desk = Desk::new(db.clone(), clinic.clone(), prompts, Clock::frozen_at(now));
    let call_id = new_id();
    let mut call = desk.call(&call_id, script.from.as_deref());
    let mut report = ScriptReport {
        name: script.name.clone(),
        ..Default::default()
    };
    let mut happened = Happened {
        replies: vec![None; script.turns.len()],
        ..Default::default()
    };
    let mut then = AfterSpeech::Listen;

    let greeting = call.turn(CallEvent::Started).await?;
    happened.greeting = greeting.say.join(" ");
    report
        .transcript
        .push(("agent".into(), happened.greeting.clone()));
    let mut outcome = greeting.outcome;
    let mut patient_id = greeting.patient_id;

    for (i, t) in script.turns.iter().enumerate() {
        if then != AfterSpeech::Listen {
            break;
        }
        let events: Vec<CallEvent> = match t.action()? {
            TurnAction::Say(line) => {
                report.transcript.push(("caller".into(), line.to_string()));
                let understanding = tokio::task::spawn_blocking({
                    let (nlu, line) = (nlu.clone(), line.to_string());
                    move || nlu.understand(&line, today)
                })
                .await
                .context("understanding a caller line")?;
                report.nlu.compare(i + 1, t, &understanding);
                vec![CallEvent::Utterance {
                    text: line.to_string(),
                    understanding,
                }]
            }
            TurnAction::Dtmf(keys) => {
                report
                    .transcript
                    .push(("caller".into(), format!("[keys {keys}]")));
                keys.chars().map(CallEvent::Dtmf).collect()
            }
            TurnAction::Silence => {
                report
                    .transcript
                    .push(("caller".into(), "[silence]".into()));
                vec![CallEvent::Silence {
                    silent_ms: SILENCE_MS,
                }]
            }
            TurnAction::Hangup => {
                report
                    .transcript
                    .push(("caller".into(), "[hangs up]".into()));
                vec![CallEvent::Hangup]
            }
        };
        let mut said = Vec::new();
        for event in events {
            if then != AfterSpeech::Listen {
                break;
            }
            let turn = call.turn(event).await?;
            said.extend(turn.say);
            outcome = turn.outcome.or(outcome);
            patient_id = turn.patient_id.or(patient_id);
            then = turn.then;
        }
        let said = said.join(" ");
        if !said.is_empty() {
            report.transcript.push(("agent".into(), said.clone()));
        }
        happened.replies[i] = Some(said);
    }
    happened.outcome = outcome;
    happened.then = Some(Then::from(&then));
    happened.patient_identified = patient_id.is_some();

    let filter = appointments::AppointmentFilter {
        call_id: Some(call_id.clone()),
        status: Some("booked".into()),
        ..Default::default()
    };
    happened.booked = appointments::list(db, &clinic, &filter)
        .await?
        .iter()
        .map(|a| BookingSeen {
            start: format_local(&clinic, a.start),
            provider_id: a.provider_id.clone(),
        })
        .collect();
    for id in &seeded {
        if appointments::get(db, id)
            .await?
            .is_some_and(|a| a.status == "cancelled")
        {
            happened.seeded_cancelled += 1;
        }
    }
    let filter = tasks::TaskFilter {
        call_id: Some(call_id.clone()),
        ..Default::default()
    };
    happened.tasks = tasks::list(db, &filter)
        .await?
        .into_iter()
        .map(|t| TaskSeen {
            queue: t.queue,
            kind: t.kind,
            priority: t.priority,
            linked_to_patient: t.patient_id.is_some(),
            callback_number: t.callback_number,
        })
        .collect();
    happened.patients = patients::search(db, None, None, None, 1000).await?.len();

    report.failures = check(script, &happened);
    report.happened = happened;
    Ok(report)
}
