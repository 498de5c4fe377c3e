//! The scripted-call format (`fixtures/calls/*.toml`, described in
//! `docs/conversation.md`): what a caller says and does, the outcome and
//! database rows the call must end with, and optionally what the
//! understanding step should make of each line; and loading scripts from
//! files and directories.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;

use crate::clinic::Clinic;
use crate::vocabulary::{AfterSpeech, Entities, Intent, Outcome};

/// The default "now" of a script: Monday 2026-03-16, 8:50 in New York. The
/// clinic is open; with an hour's notice 10:00 is the first bookable slot,
/// and stays so for the minutes an audio replay takes (its clock runs on).
pub const DEFAULT_NOW: &str = "2026-03-16T12:50:00Z";

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
    /// A second factor for identity checks.
    #[serde(default)]
    pub zip: Option<String>,
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

/// Every `*.toml` script in `dir`, in file-name order.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<CallScript>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files.iter().map(|f| load_file(f)).collect()
}

/// One script file, parsed and validated.
pub fn load_file(file: &Path) -> anyhow::Result<CallScript> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let script: CallScript =
        toml::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    script
        .validate()
        .with_context(|| format!("checking {}", file.display()))?;
    Ok(script)
}

/// The scripts of `paths`, in the order given: a file is one script, a
/// directory every `*.toml` in it ([`load_dir`]). Two scripts may not
/// share a name (the outcome table tells calls apart by name).
pub fn load_paths(paths: &[PathBuf]) -> anyhow::Result<Vec<CallScript>> {
    let mut scripts = Vec::new();
    for path in paths {
        if path.is_dir() {
            let found = load_dir(path)?;
            anyhow::ensure!(!found.is_empty(), "no *.toml scripts in {}", path.display());
            scripts.extend(found);
        } else {
            scripts.push(load_file(path)?);
        }
    }
    for (i, s) in scripts.iter().enumerate() {
        anyhow::ensure!(
            !scripts[..i].iter().any(|t| t.name == s.name),
            "two scripted calls are named {:?}",
            s.name
        );
    }
    Ok(scripts)
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
