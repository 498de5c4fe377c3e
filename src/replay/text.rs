//! The text replay: each caller line of a script goes through the
//! product's NLU ([`Nlu::understand`], as the call loop hands it a
//! transcript) into the real front desk on a fresh database, with the
//! clinic clock frozen at the script's `now`. What the call left in the
//! database is checked with [`check`]; the hand labels of a line are only
//! compared with the NLU ([`NluAgreement`]), never handed to the desk.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::ScratchDir;
use super::answering::{AnsweringCaller, CallerKind, Next};
use super::check::{BookingSeen, Happened, NluAgreement, TaskSeen, check, verdict};
use super::script::{CallScript, Then, TurnAction, format_local, parse_local};
use crate::call::Conversation as _;
use crate::clinic::{Clinic, Clock, Prompts};
use crate::desk::Desk;
use crate::nlu::Nlu;
use crate::scheduling::{self, BookRequest, Source, appointments, patients};
use crate::store::{Db, new_id};
use crate::tasks;
use crate::vocabulary::{AfterSpeech, CallEvent, Outcome};

/// How long a `silence` turn lasts in the text replay (the call loop's
/// silence prompt fires after 8 s of caller silence).
pub const SILENCE_MS: u64 = 8000;

/// One caller move, owned (an answering caller's line is made up).
enum Move {
    Say(String),
    Dtmf(String),
    Silence,
    Hangup,
}

impl Move {
    fn of(action: TurnAction<'_>) -> Move {
        match action {
            TurnAction::Say(line) => Move::Say(line.to_string()),
            TurnAction::Dtmf(keys) => Move::Dtmf(keys.to_string()),
            TurnAction::Silence => Move::Silence,
            TurnAction::Hangup => Move::Hangup,
        }
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
        if p.zip.is_some() {
            patients::set_zip(db, &created.id, p.zip.as_deref()).await?;
        }
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
    caller: CallerKind,
) -> anyhow::Result<ScriptReport> {
    script.validate()?;
    let now = script.now()?;
    scheduling::sync_catalog(db, &clinic).await?;
    let seeded = seed_db(db, &clinic, script, now).await?;
    super::seed_receptionist(db, &clinic).await?;
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

    let mut answering = (caller == CallerKind::Answering).then(|| AnsweringCaller::new(script));
    let mut fixed_next = 0;
    let mut last_said = happened.greeting.clone();
    while then == AfterSpeech::Listen {
        // The turn to play (its index in the script), or a line the
        // answering caller made up from the call's facts.
        let (index, action) = match answering.as_mut() {
            None if fixed_next < script.turns.len() => {
                fixed_next += 1;
                let i = fixed_next - 1;
                (Some(i), Move::of(script.turns[i].action()?))
            }
            None => break,
            Some(caller) => match caller.next(&last_said) {
                Next::Done => break,
                Next::Turn(i) => (Some(i), Move::of(script.turns[i].action()?)),
                Next::Improvised(line) => (None, Move::Say(line)),
                Next::Keys(keys) => (None, Move::Dtmf(keys)),
            },
        };
        let events: Vec<CallEvent> = match action {
            Move::Say(line) => {
                report.transcript.push(("caller".into(), line.clone()));
                let asked = call.asked();
                let understanding = tokio::task::spawn_blocking({
                    let (nlu, line) = (nlu.clone(), line.clone());
                    move || nlu.understand_with(&line, today, asked)
                })
                .await
                .context("understanding a caller line")?;
                if let Some(i) = index {
                    report.nlu.compare(i + 1, &script.turns[i], &understanding);
                }
                vec![CallEvent::Utterance {
                    text: line,
                    understanding,
                }]
            }
            Move::Dtmf(keys) => {
                report
                    .transcript
                    .push(("caller".into(), format!("[keys {keys}]")));
                keys.chars().map(CallEvent::Dtmf).collect()
            }
            Move::Silence => {
                report
                    .transcript
                    .push(("caller".into(), "[silence]".into()));
                vec![CallEvent::Silence {
                    silent_ms: SILENCE_MS,
                }]
            }
            Move::Hangup => {
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
        match index {
            Some(i) => happened.replies[i] = Some(said.clone()),
            None => happened.unscripted.push(said.clone()),
        }
        last_said = said;
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

    // A turn's expected words are held against the agent's answer to that
    // turn, wherever the answering caller played it.
    report.failures = check(script, &happened);
    report.happened = happened;
    Ok(report)
}

/// [`replay`] on a fresh SQLite database in a temporary directory, removed
/// afterwards.
pub async fn replay_on_fresh_db(
    clinic: Arc<Clinic>,
    prompts: Arc<Prompts>,
    nlu: Arc<Nlu>,
    script: &CallScript,
    caller: CallerKind,
) -> anyhow::Result<ScriptReport> {
    let dir = ScratchDir::new("replay")?;
    let db = Db::open(&crate::store::sqlite_url_in(dir.path()))
        .await
        .context("opening a fresh SQLite database")?;
    let report = replay(&db, clinic, prompts, nlu, script, caller).await;
    db.pool.close().await;
    report.with_context(|| format!("replaying {}", script.name))
}

/// One script's text replay, as the outcome table shows it.
#[derive(Clone, Debug)]
pub struct TextCall {
    pub expected: Outcome,
    pub emergency: bool,
    pub report: ScriptReport,
}

/// The text replay of a set of scripts.
#[derive(Clone, Debug, Default)]
pub struct TextRun {
    pub caller: CallerKind,
    pub calls: Vec<TextCall>,
}

/// Replays every script, each on its own fresh database, in order.
pub async fn replay_all(
    clinic: Arc<Clinic>,
    prompts: Arc<Prompts>,
    nlu: Arc<Nlu>,
    scripts: &[CallScript],
    caller: CallerKind,
) -> anyhow::Result<TextRun> {
    let mut run = TextRun {
        caller,
        calls: Vec::new(),
    };
    for script in scripts {
        let report =
            replay_on_fresh_db(clinic.clone(), prompts.clone(), nlu.clone(), script, caller)
                .await?;
        run.calls.push(TextCall {
            expected: script.expect.outcome,
            emergency: script.is_emergency(),
            report,
        });
    }
    Ok(run)
}

impl TextRun {
    pub fn passed(&self) -> usize {
        self.calls.iter().filter(|c| c.report.passed()).count()
    }

    pub fn emergencies(&self) -> usize {
        self.calls.iter().filter(|c| c.emergency).count()
    }

    pub fn emergencies_passed(&self) -> usize {
        self.calls
            .iter()
            .filter(|c| c.emergency && c.report.passed())
            .count()
    }

    /// Calls that succeeded, as a fraction of all.
    pub fn rate(&self) -> f64 {
        self.passed() as f64 / self.calls.len() as f64
    }

    /// The NLU's agreement with the hand labels over every call.
    pub fn nlu(&self) -> NluAgreement {
        let mut total = NluAgreement::default();
        for c in &self.calls {
            total.add(&c.report.nlu);
        }
        total
    }

    /// Each failed call: its misses and its transcript.
    pub fn failed(&self) -> Vec<String> {
        self.calls
            .iter()
            .map(|c| &c.report)
            .filter(|r| !r.passed())
            .map(|r| {
                let transcript: Vec<String> = r
                    .transcript
                    .iter()
                    .map(|(who, text)| format!("    {who}: {text}"))
                    .collect();
                format!(
                    "{}:\n  - {}\n{}",
                    r.name,
                    r.failures.join("\n  - "),
                    transcript.join("\n")
                )
            })
            .collect()
    }

    /// Prints the outcome table (per call: name, expected and actual
    /// outcome, pass or the first miss), the success rate, the NLU's
    /// agreement with the labels, and each failed call in full.
    pub fn print(&self) {
        println!("\n{:<40} {:<12} {:<12} result", "call", "expected", "got");
        for c in &self.calls {
            let r = &c.report;
            println!(
                "{:<40} {:<12} {:<12} {}",
                r.name,
                c.expected.as_str(),
                r.happened.outcome.map(|o| o.as_str()).unwrap_or("none"),
                verdict(&r.failures)
            );
        }
        println!(
            "\nscripted calls (text through the NLU, {}): {}/{} succeeded ({:.1}%); emergencies {}/{}",
            match self.caller {
                CallerKind::FixedOrder => "fixed-order caller",
                CallerKind::Answering => "answering caller",
            },
            self.passed(),
            self.calls.len(),
            100.0 * self.rate(),
            self.emergencies_passed(),
            self.emergencies()
        );
        let nlu = self.nlu();
        println!(
            "NLU agreement with the scripts' labels: {}/{} ({:.1}%)",
            nlu.agreed,
            nlu.checked,
            100.0 * nlu.agreed as f64 / nlu.checked.max(1) as f64
        );
        for d in &nlu.disagreements {
            println!("  NLU: {d}");
        }
        let failed = self.failed();
        if !failed.is_empty() {
            println!("\nfailed calls:\n{}", failed.join("\n\n"));
        }
    }
}
