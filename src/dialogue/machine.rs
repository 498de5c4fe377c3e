//! The state machine itself. See the module docs in `dialogue/mod.rs`.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::words;
use crate::call::{AfterSpeech, CallEvent, Outcome};
use crate::clinic::{Clinic, Prompts};
use crate::nlu::entities::PartOfDay;
use crate::nlu::{EmergencyKind, Entities, Hotline, Intent, Understanding};
use crate::scheduling::{Slot, SlotQuery};
use crate::tasks::{Priority, Queue, TaskKind};

/// Below this the agent treats an utterance as not understood.
pub const MIN_CONFIDENCE: f32 = 0.45;
/// In the middle of a task, a new request needs this much confidence to
/// switch the topic.
pub const SWITCH_CONFIDENCE: f32 = 0.7;
/// While times are offered, a reply that picks one is a pick unless the
/// model is this sure it is something else.
pub const PICK_OVERRIDE_CONFIDENCE: f32 = 0.9;
/// Misunderstandings in a row before the call goes to staff.
const MAX_FAILURES: u32 = 2;
/// Silences in a row before the agent closes the call.
const MAX_SILENCES: u32 = 2;
/// How many days a first search looks ahead.
const FIRST_SEARCH_DAYS: i64 = 14;

/// What the machine may read besides its own state: configuration, the
/// prompt templates and the clinic's local time.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub clinic: &'a Clinic,
    pub prompts: &'a Prompts,
    pub now: NaiveDateTime,
}

impl Env<'_> {
    fn today(&self) -> NaiveDate {
        self.now.date()
    }
}

/// A patient as the dialogue knows one: only an id once verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatientRef {
    pub id: String,
}

/// An existing appointment of the verified caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApptRef {
    pub id: String,
    pub provider_id: String,
    pub type_id: String,
    pub start_local: NaiveDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookFailure {
    /// Someone else got the slot first.
    SlotTaken,
    /// The patient already has an appointment that day.
    SameDay { existing_local: NaiveDateTime },
    /// Anything else (database down, slot no longer valid).
    Failed,
}

/// What an action produced, fed back as the next input.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionResult {
    Verified(Option<PatientRef>),
    Registered(Option<PatientRef>),
    Slots(Option<Vec<Slot>>),
    Appointments(Option<Vec<ApptRef>>),
    Booked(Result<ApptRef, BookFailure>),
    Rescheduled(Result<ApptRef, BookFailure>),
    Cancelled(Result<ApptRef, BookFailure>),
    TaskCreated(bool),
}

#[derive(Clone, Debug)]
pub enum Input {
    Call(CallEvent),
    Result(ActionResult),
}

/// A task the runner writes to the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskDraft {
    pub kind: TaskKind,
    pub queue: Queue,
    pub priority: Priority,
    pub summary: String,
    pub callback_number: Option<String>,
    /// Set when the caller was verified in this call.
    pub patient_id: Option<String>,
    /// Name and date of birth as given, so the runner can link a matching
    /// record without the caller ever learning whether one exists.
    pub identity: Option<(String, NaiveDate)>,
}

/// What the machine asks the runner to do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Say(String),
    /// Name and date of birth must match one record → `Verified`.
    Verify {
        name: String,
        date_of_birth: NaiveDate,
    },
    /// Find the matching patient or register a new one → `Registered`.
    Register {
        name: String,
        date_of_birth: NaiveDate,
        phone: Option<String>,
    },
    FindSlots(SlotQuery),
    /// Upcoming booked appointments → `Appointments`.
    ListAppointments {
        patient_id: String,
    },
    Book {
        patient_id: String,
        slot: Slot,
    },
    Reschedule {
        appointment_id: String,
        patient_id: String,
        slot: Slot,
    },
    Cancel {
        appointment_id: String,
    },
    CreateTask(TaskDraft),
    /// The caller's identity is verified (`AgentTurn.patient_id`).
    SetPatient(String),
    /// The call ends this way after the words are spoken.
    Finish {
        outcome: Outcome,
        then: AfterSpeech,
    },
    /// The call's outcome so far changed (`AgentTurn.outcome`).
    Outcome(Outcome),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    Book,
    Reschedule,
    Cancel,
    Check,
    Escalate(TaskKind),
}

/// What the agent is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Start,
    Open,
    AskType,
    AskName,
    AskDob,
    AskPhone,
    ConfirmCallerNumber,
    AskWhen,
    Offering,
    ConfirmSlot,
    ChooseAppointment,
    ConfirmCancel,
    AskMedication,
    AskPharmacy,
    AskInsurancePlan,
    OfferNewPatientBooking,
    OfferBookInstead,
    SameDayOffer,
    OfferCallback,
    /// "Is this a medical emergency?": the model alone, unsure, heard one.
    ConfirmEmergency,
    Waiting,
    Ended,
}

/// Why a task is being written, to know what to say once it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TaskContext {
    Escalation(TaskKind),
    SilenceClose,
    Emergency,
}

/// The caller's wishes for a slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Prefs {
    type_id: Option<String>,
    provider_id: Option<String>,
    date: Option<NaiveDate>,
    week: Option<(NaiveDate, NaiveDate)>,
    time: Option<NaiveTime>,
    part_of_day: Option<PartOfDay>,
    /// The caller has said when (or that any time is fine).
    when_given: bool,
}

/// One call's dialogue state.
#[derive(Clone, Debug)]
pub struct Dialogue {
    pub phase: Phase,
    pub goal: Option<Goal>,
    caller_number: Option<String>,
    name: Option<String>,
    dob: Option<NaiveDate>,
    phone: Option<String>,
    patient: Option<PatientRef>,
    prefs: Prefs,
    relax: u8,
    offered: Vec<Slot>,
    chosen: Option<Slot>,
    appointments: Option<Vec<ApptRef>>,
    target: Option<ApptRef>,
    medication: Option<String>,
    pharmacy: Option<String>,
    insurance_plan: Option<String>,
    /// The caller's words that led to a clinical or records escalation.
    escalation_words: Option<String>,
    verify_attempts: u32,
    dob_refusals: u32,
    /// A date of birth heard without its year, waiting for it.
    dob_month_day: Option<(u32, u32)>,
    /// Where the call was when the agent asked whether this is an emergency.
    before_emergency_check: Phase,
    failures: u32,
    silences: u32,
    dtmf: String,
    pending_task: Option<TaskContext>,
    outcome: Option<Outcome>,
    answered_something: bool,
    turn_says: Vec<String>,
    last_turn: Vec<String>,
}

fn rank(o: Outcome) -> u8 {
    match o {
        Outcome::Emergency => 6,
        Outcome::Transferred => 5,
        Outcome::Booked | Outcome::Rescheduled | Outcome::Cancelled => 4,
        Outcome::Escalated => 3,
        Outcome::Answered => 2,
        Outcome::Abandoned => 1,
        Outcome::InProgress => 0,
    }
}

fn is_clinical(kind: TaskKind) -> bool {
    matches!(
        kind,
        TaskKind::ClinicalQuestion
            | TaskKind::TestResults
            | TaskKind::PrescriptionRefill
            | TaskKind::RecordsRequest
    )
}

impl Dialogue {
    /// A new call; `caller_number` is the carrier's caller id, if any.
    pub fn new(caller_number: Option<&str>) -> Dialogue {
        Dialogue {
            phase: Phase::Start,
            goal: None,
            caller_number: caller_number
                .and_then(crate::scheduling::PhoneNumber::parse)
                .map(|p| p.as_str().to_string()),
            name: None,
            dob: None,
            phone: None,
            patient: None,
            prefs: Prefs::default(),
            relax: 0,
            offered: Vec::new(),
            chosen: None,
            appointments: None,
            target: None,
            medication: None,
            pharmacy: None,
            insurance_plan: None,
            escalation_words: None,
            verify_attempts: 0,
            dob_refusals: 0,
            dob_month_day: None,
            before_emergency_check: Phase::Open,
            failures: 0,
            silences: 0,
            dtmf: String::new(),
            pending_task: None,
            outcome: None,
            answered_something: false,
            turn_says: Vec::new(),
            last_turn: Vec::new(),
        }
    }

    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    /// One step: the state changes in place and the actions come back.
    pub fn step(&mut self, env: &Env, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        if self.phase == Phase::Ended {
            // Only the write a closing step is waiting for still matters.
            return out;
        }
        match input {
            Input::Call(event) => {
                self.turn_says.clear();
                self.on_event(env, event, &mut out);
            }
            Input::Result(result) => self.on_result(env, result, &mut out),
        }
        if !self.turn_says.is_empty() {
            self.last_turn = self.turn_says.clone();
        }
        out
    }

    // ---------------------------------------------------------------- output

    fn say(&mut self, out: &mut Vec<Action>, text: String) {
        self.turn_says.push(text.clone());
        out.push(Action::Say(text));
    }

    fn say_key(&mut self, env: &Env, out: &mut Vec<Action>, key: &str, vars: &[(&str, &str)]) {
        let text = env.prompts.render(key, vars);
        self.say(out, text);
    }

    fn set_outcome(&mut self, out: &mut Vec<Action>, o: Outcome) {
        if self.outcome.is_none_or(|cur| rank(o) >= rank(cur)) {
            self.outcome = Some(o);
            out.push(Action::Outcome(o));
        }
    }

    fn final_outcome(&self) -> Outcome {
        match self.outcome {
            Some(o) => o,
            None if self.answered_something => Outcome::Answered,
            None => Outcome::Abandoned,
        }
    }

    fn finish(&mut self, out: &mut Vec<Action>, then: AfterSpeech) {
        let outcome = self.final_outcome();
        self.outcome = Some(outcome);
        self.phase = Phase::Ended;
        out.push(Action::Finish { outcome, then });
    }

    fn callback_number(&self) -> Option<String> {
        self.phone.clone().or_else(|| self.caller_number.clone())
    }

    fn provider_spoken<'c>(&self, env: &Env<'c>, id: &str) -> &'c str {
        env.clinic
            .provider(id)
            .map(|p| p.spoken.as_str())
            .unwrap_or("our provider")
    }

    fn type_name<'c>(&self, env: &Env<'c>, id: &str) -> &'c str {
        env.clinic
            .appointment_type(id)
            .map(|t| t.name.as_str())
            .unwrap_or("appointment")
    }

    fn say_slot(&self, env: &Env, slot: &Slot) -> String {
        format!(
            "{} with {}",
            words::say_datetime(slot.start_local, env.today()),
            self.provider_spoken(env, &slot.provider_id)
        )
    }

    fn say_appt(&self, env: &Env, a: &ApptRef) -> String {
        format!(
            "your {} with {} on {}",
            self.type_name(env, &a.type_id),
            self.provider_spoken(env, &a.provider_id),
            words::say_datetime(a.start_local, env.today())
        )
    }

    // ---------------------------------------------------------------- events

    fn on_event(&mut self, env: &Env, event: CallEvent, out: &mut Vec<Action>) {
        match event {
            CallEvent::Started => {
                let clinic = env.clinic.name.clone();
                self.say_key(env, out, "greeting", &[("clinic", &clinic)]);
                self.phase = Phase::Open;
            }
            CallEvent::Hangup => {
                let outcome = self.final_outcome();
                self.outcome = Some(outcome);
                self.phase = Phase::Ended;
                out.push(Action::Finish {
                    outcome,
                    then: AfterSpeech::Hangup,
                });
            }
            CallEvent::Silence { .. } => self.on_silence(env, out),
            CallEvent::Dtmf(digit) => self.on_dtmf(env, digit, out),
            CallEvent::Utterance {
                text,
                understanding,
            } => {
                self.silences = 0;
                self.on_utterance(env, &text, &understanding, out);
            }
        }
    }

    fn on_silence(&mut self, env: &Env, out: &mut Vec<Action>) {
        if self.phase == Phase::Waiting {
            return;
        }
        self.silences += 1;
        if self.silences < MAX_SILENCES {
            self.say_key(env, out, "still_there", &[]);
            self.ask_current(env, out);
            return;
        }
        // Close the call; ask staff to call back if we know where to.
        match self.callback_number() {
            Some(number) => {
                let doing = match self.goal {
                    Some(Goal::Book) => "booking an appointment",
                    Some(Goal::Reschedule) => "rescheduling an appointment",
                    Some(Goal::Cancel) => "cancelling an appointment",
                    Some(Goal::Check) => "asking about an appointment",
                    Some(Goal::Escalate(_)) => "asking for a call back",
                    None => "calling the clinic",
                };
                let summary = format!(
                    "The caller went silent while {doing} and the agent ended the call. \
                     Please call back to see what they needed."
                );
                self.pending_task = Some(TaskContext::SilenceClose);
                self.phase = Phase::Waiting;
                out.push(Action::CreateTask(self.draft(
                    TaskKind::Callback,
                    summary,
                    Some(number),
                )));
            }
            None => {
                let phone = env.clinic.phone.clone();
                self.say_key(
                    env,
                    out,
                    "silence_close_no_number",
                    &[("clinic_phone", &phone)],
                );
                self.finish(out, AfterSpeech::Hangup);
            }
        }
    }

    fn on_dtmf(&mut self, env: &Env, digit: char, out: &mut Vec<Action>) {
        self.silences = 0;
        if digit == '0' && !matches!(self.phase, Phase::AskDob | Phase::AskPhone) {
            self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
            return;
        }
        if !matches!(self.phase, Phase::AskDob | Phase::AskPhone) {
            return;
        }
        if digit.is_ascii_digit() {
            self.dtmf.push(digit);
        }
        let want = if self.phase == Phase::AskDob { 8 } else { 10 };
        let submit = digit == '#' || self.dtmf.len() >= want;
        if !submit {
            return;
        }
        let digits = std::mem::take(&mut self.dtmf);
        if self.phase == Phase::AskDob {
            let parsed = (digits.len() == 8)
                .then(|| NaiveDate::parse_from_str(&digits, "%m%d%Y").ok())
                .flatten();
            match parsed {
                Some(d) if d > env.today() => {
                    self.say_key(env, out, "dob_future", &[]);
                    self.ask_current(env, out);
                }
                Some(d) => {
                    self.dob = Some(d);
                    self.advance(env, out);
                }
                None => {
                    self.say_key(env, out, "dtmf_dob_invalid", &[]);
                }
            }
        } else {
            match crate::scheduling::PhoneNumber::parse(&digits) {
                Some(p) => {
                    self.phone = Some(p.as_str().to_string());
                    self.advance(env, out);
                }
                None => self.say_key(env, out, "dtmf_phone_invalid", &[]),
            }
        }
    }

    fn on_utterance(&mut self, env: &Env, text: &str, u: &Understanding, out: &mut Vec<Action>) {
        // Safety first: an emergency wins over every state and every label.
        if u.intent == Intent::Emergency {
            let sure = u.emergency.is_some() || u.confidence >= MIN_CONFIDENCE;
            if sure || self.phase == Phase::ConfirmEmergency {
                self.emergency(env, text, u.emergency, out);
                return;
            }
            // Only the model heard it, and it is unsure ("Hi, this is Tom
            // Lee." came out 26 % emergency): ask, rather than send a caller
            // who wants a booking to 911 or let a real emergency pass. An
            // answer to "your name?" or "your date of birth?" is that answer
            // (a misheard name, "This is Bregonzalez.", came out emergency):
            // the net still hears any emergency said in it.
            let answering = matches!(self.phase, Phase::AskName | Phase::AskDob | Phase::AskPhone);
            if !answering {
                if self.phase != Phase::Waiting {
                    self.absorb(env, text, &u.entities, out);
                    self.before_emergency_check = self.phase;
                    self.ask(env, Phase::ConfirmEmergency, out);
                }
                return;
            }
        }
        if self.phase == Phase::Waiting {
            return;
        }
        // Half a sentence cut off by a pause, or a pleasantry: no failure.
        let no_entities = u.entities == Entities::default();
        if no_entities && words::is_hold_on(text) {
            // "Wait." The caller is not done; nothing to answer yet.
            return;
        }
        if no_entities && words::is_greeting_only(text) {
            if matches!(self.phase, Phase::Start | Phase::Open) {
                self.say_key(env, out, "how_help", &[]);
            } else {
                self.ask_current(env, out);
            }
            return;
        }
        if words::asks_to_repeat(text) && u.intent != Intent::Inform {
            let again = self.last_turn.clone();
            if again.is_empty() {
                self.ask_current(env, out);
            } else {
                for s in again {
                    self.say(out, s);
                }
            }
            return;
        }
        let mut intent = if u.confidence >= MIN_CONFIDENCE {
            u.intent
        } else {
            // The model does not know what the agent asked; after a yes/no
            // question a reply that opens with one is that answer.
            match words::leading_yes_no(text).filter(|_| self.awaits_yes_no()) {
                Some(true) => Intent::Affirm,
                Some(false) => Intent::Deny,
                None => Intent::OutOfScope,
            }
        };
        // After a yes/no question, a reply that opens with one is that
        // answer, even when the model reads it as giving details.
        if self.awaits_yes_no()
            && matches!(intent, Intent::Inform | Intent::OutOfScope)
            && let Some(yes) = words::leading_yes_no(text)
        {
            intent = if yes { Intent::Affirm } else { Intent::Deny };
        }
        // The agent never hangs up on the model's word alone.
        if intent == Intent::Goodbye && !words::says_goodbye(text) {
            intent = Intent::OutOfScope;
        }
        // Words the model could not place but that carry details ("This is
        // Tom Lee.", a date, a number) give those details. A name needs the
        // caller to say it is theirs: the name parser is generous.
        let e = &u.entities;
        let details = e.date_of_birth.is_some()
            || e.phone.is_some()
            || e.date.is_some()
            || e.time.is_some()
            || e.part_of_day.is_some()
            || e.provider.is_some()
            || e.medication.is_some()
            || e.pharmacy.is_some()
            || (e.person_name.is_some() && words::introduces_self(text));
        if intent == Intent::OutOfScope && details {
            intent = Intent::Inform;
        }
        // "The CVS on Main Street" answers "which pharmacy?"; it is not a
        // question about where the clinic is.
        let faq = matches!(
            intent,
            Intent::OfficeHours | Intent::Location | Intent::Insurance | Intent::NewPatient
        );
        if faq
            && matches!(self.phase, Phase::AskMedication | Phase::AskPharmacy)
            && !words::is_question(text)
        {
            intent = Intent::Inform;
        }
        let changed = self.absorb(env, text, &u.entities, out);

        // A new request switches the topic from any phase; in the middle of
        // a task only when the model is fairly sure ("I'll take the two
        // thirty" came out 48 % cancel_appointment): else it is an answer.
        if let Some(goal) = goal_of(intent) {
            let same = self.goal == Some(goal)
                || (goal == Goal::Book && self.goal == Some(Goal::Reschedule));
            let mid_task = self.goal.is_some() && !matches!(self.phase, Phase::Start | Phase::Open);
            // Offered times, a reply that picks one is that pick ("I'll take
            // the 230." came out 79 % cancel_appointment).
            let picks_offer = self.phase == Phase::Offering
                && u.confidence < PICK_OVERRIDE_CONFIDENCE
                && self.offer_picked(text, &u.entities).is_some();
            if !same && mid_task && (u.confidence < SWITCH_CONFIDENCE || picks_offer) {
                intent = Intent::Inform;
            } else if !same {
                if let Goal::Escalate(kind) = goal
                    && (is_clinical(kind) || kind == TaskKind::Billing)
                {
                    self.escalation_words = Some(text.chars().take(240).collect());
                }
                self.failures = 0;
                self.start_goal(env, goal, out);
                return;
            }
        }
        match intent {
            Intent::OfficeHours | Intent::Location | Intent::Insurance | Intent::NewPatient => {
                self.failures = 0;
                self.answer_faq(env, intent, text, u, out);
                return;
            }
            Intent::Goodbye => {
                self.say_key(env, out, "goodbye", &[]);
                self.finish(out, AfterSpeech::Hangup);
                return;
            }
            _ => {}
        }
        self.in_phase(env, text, intent, &u.entities, changed, out);
    }

    /// Whether the agent's question was a yes/no one.
    fn awaits_yes_no(&self) -> bool {
        matches!(
            self.phase,
            Phase::ConfirmEmergency
                | Phase::ConfirmCallerNumber
                | Phase::ConfirmSlot
                | Phase::ConfirmCancel
                | Phase::OfferNewPatientBooking
                | Phase::OfferBookInstead
                | Phase::SameDayOffer
                | Phase::OfferCallback
        )
    }

    /// Takes every entity the caller offered, whenever it arrives; speaks
    /// a note for values that cannot be right. Returns whether the slot
    /// wishes changed.
    fn absorb(&mut self, env: &Env, text: &str, e: &Entities, out: &mut Vec<Action>) -> bool {
        let today = env.today();
        let verified = self.patient.is_some();
        // The date said is (part of) a date of birth, not a wish.
        let mut date_is_birth = false;
        if !verified {
            if let Some(name) = &e.person_name {
                self.name = Some(name.clone());
            } else if self.phase == Phase::AskName
                && let Some(n) = words::bare_name(text)
            {
                self.name = Some(n);
            }
            // Asked for a date of birth (or told "born …"), a plain date is
            // one. With its year said it is whole (a future one is
            // misheard); a month and day alone wait for their year ("March
            // 4th." … "1985."), which may come in the same words or the next.
            let birth_talk = self.phase == Phase::AskDob || words::talks_of_birth(text);
            let mut dob = e.date_of_birth;
            if dob.is_none() && birth_talk {
                match e.date {
                    Some(d) if words::year_in(text).is_some() => dob = Some(d),
                    Some(d) => {
                        self.dob_month_day = Some((d.month(), d.day()));
                        date_is_birth = true;
                    }
                    None => {}
                }
            }
            if dob.is_none()
                && let (Some((m, day)), Some(y)) = (self.dob_month_day, words::year_in(text))
            {
                dob = NaiveDate::from_ymd_opt(y, m, day);
            }
            if let Some(d) = dob {
                self.dob_month_day = None;
                date_is_birth = e.date == Some(d);
                if d > today {
                    self.say_key(env, out, "dob_future", &[]);
                } else {
                    self.dob = Some(d);
                }
            }
        }
        if let Some(p) = e
            .phone
            .as_deref()
            .and_then(crate::scheduling::PhoneNumber::parse)
        {
            self.phone = Some(p.as_str().to_string());
        }
        if let Some(m) = &e.medication {
            self.medication = Some(m.clone());
        }
        if let Some(p) = &e.pharmacy {
            self.pharmacy = Some(p.clone());
        }
        if self.phase == Phase::AskDob || self.phase == Phase::AskName {
            if let Some(bad) = words::impossible_date(text) {
                self.say_key(env, out, "dob_impossible", &[("date", &bad)]);
            }
            return false;
        }
        let mut changed = false;
        if let Some(t) = words::appointment_type_in(text, env.clinic)
            && self.prefs.type_id.as_deref() != Some(&t.id)
            && self.goal != Some(Goal::Reschedule)
        {
            self.prefs.type_id = Some(t.id.clone());
        }
        if let Some(bad) = words::impossible_date(text) {
            self.say_key(env, out, "date_impossible", &[("date", &bad)]);
        } else if let Some(d) = e
            .date
            .filter(|d| e.date_of_birth != Some(*d) && !date_is_birth)
        {
            if d < today {
                let said = words::say_date(d, today);
                self.say_key(env, out, "date_past", &[("date", &said)]);
            } else {
                self.prefs.date = Some(d);
                self.prefs.week = None;
                self.prefs.when_given = true;
                changed = true;
                if let Some(h) = env.clinic.holiday(d) {
                    let (day, name) = (words::say_date(d, today), h.name.clone());
                    self.say_key(
                        env,
                        out,
                        "closed_holiday_on",
                        &[("date", &day), ("holiday", &name)],
                    );
                } else if env.clinic.hours_on(d).is_none() {
                    let day = words::weekday_name(d.weekday());
                    self.say_key(env, out, "closed_weekday", &[("day", day)]);
                }
            }
        }
        if let Some(week) = words::next_week(text, today) {
            self.prefs.week = Some(week);
            if self.prefs.date.is_some_and(|d| d < week.0 || d > week.1) && e.date.is_none() {
                self.prefs.date = None;
            }
            self.prefs.when_given = true;
            changed = true;
        }
        if let Some(t) = e.time {
            let day = self.prefs.date;
            let open = match day {
                Some(d) => env
                    .clinic
                    .hours_on(d)
                    .is_some_and(|r| t >= r.start && t < r.end),
                None => env
                    .clinic
                    .hours
                    .0
                    .iter()
                    .flatten()
                    .any(|r| t >= r.start && t < r.end),
            };
            if open {
                self.prefs.time = Some(t);
                self.prefs.part_of_day = None;
            } else {
                let hours = match day.and_then(|d| env.clinic.hours_on(d)) {
                    Some(r) => format!(
                        "On {} we're open from {} to {}",
                        words::weekday_name(
                            day.map(|d| d.weekday()).unwrap_or(chrono::Weekday::Mon)
                        ),
                        words::say_time(r.start),
                        words::say_time(r.end)
                    ),
                    None => format!("We're open {}", words::say_week_hours(env.clinic)),
                };
                let asked = words::say_time(t);
                self.say_key(
                    env,
                    out,
                    "time_closed",
                    &[("time", &asked), ("hours", &hours)],
                );
                self.prefs.time = None;
            }
            self.prefs.when_given = true;
            changed = true;
        }
        if let Some(p) = e.part_of_day {
            self.prefs.part_of_day = Some(p);
            if e.time.is_none() {
                self.prefs.time = None;
            }
            self.prefs.when_given = true;
            changed = true;
        }
        if let Some(unknown) =
            words::unknown_doctor(text, env.clinic).filter(|_| e.provider.is_none())
        {
            let list = self.provider_list(env);
            self.say_key(
                env,
                out,
                "unknown_provider",
                &[("name", &unknown), ("providers", &list)],
            );
            self.prefs.provider_id = None;
        }
        if let Some(pid) = &e.provider {
            match env.clinic.provider(pid) {
                Some(_) => {
                    self.prefs.provider_id = Some(pid.clone());
                    self.prefs.when_given = true;
                    changed = true;
                }
                None => {
                    let list = self.provider_list(env);
                    self.say_key(
                        env,
                        out,
                        "unknown_provider",
                        &[("name", pid), ("providers", &list)],
                    );
                }
            }
        }
        if words::wants_earliest(text) {
            self.prefs.when_given = true;
            changed = true;
        }
        if changed {
            self.relax = 0;
        }
        changed
    }

    fn provider_list(&self, env: &Env) -> String {
        let names: Vec<String> = env
            .clinic
            .providers
            .iter()
            .map(|p| p.spoken.clone())
            .collect();
        words::join_list(&names, "and")
    }

    /// Answers for the phase the agent is in.
    fn in_phase(
        &mut self,
        env: &Env,
        text: &str,
        intent: Intent,
        e: &Entities,
        changed: bool,
        out: &mut Vec<Action>,
    ) {
        let yes = intent == Intent::Affirm;
        let no = intent == Intent::Deny;
        match self.phase {
            Phase::Start | Phase::Open => {
                if no
                    || (intent == Intent::Inform
                        && words::any_phrase(text, &["that's all", "that's it", "nothing else"]))
                {
                    self.say_key(env, out, "goodbye", &[]);
                    self.finish(out, AfterSpeech::Hangup);
                } else if yes {
                    self.failures = 0;
                    self.say_key(env, out, "how_help", &[]);
                } else if self.prefs.type_id.is_some() && intent == Intent::Inform {
                    self.start_goal(env, Goal::Book, out);
                } else if intent == Intent::Inform
                    && (e.person_name.is_some() || e.date_of_birth.is_some() || e.phone.is_some())
                {
                    // "This is Tom Lee." Kept for later; what do they need?
                    // Unless a date of birth is half said ("…born March
                    // 4th."): its year, and the request, are still coming.
                    if self.dob_month_day.is_none() {
                        self.say_key(env, out, "how_help", &[]);
                    }
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::AskType => {
                if self.prefs.type_id.is_some() {
                    self.advance(env, out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::AskName => {
                if self.name.is_some() {
                    self.advance(env, out);
                } else if no || words::refuses(text) {
                    self.refused_identity(env, out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::AskDob => {
                if self.dob.is_some() {
                    self.advance(env, out);
                } else if self.dob_month_day.is_some() && e.date.is_some() {
                    // "March 4th." The year is most likely a breath away
                    // (the endpointer cuts at short pauses): wait for it. If
                    // none comes, the silence prompt asks for the year.
                    self.failures = 0;
                } else if no || words::refuses(text) {
                    self.refused_identity(env, out);
                } else if self.turn_says.is_empty() {
                    self.not_understood(env, out);
                } else {
                    self.ask_current(env, out);
                }
            }
            Phase::AskPhone => {
                if self.phone.is_some() {
                    self.advance(env, out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::ConfirmCallerNumber => {
                if self.phone.is_some() {
                    self.advance(env, out);
                } else if yes {
                    self.phone = self.caller_number.clone();
                    self.advance(env, out);
                } else if no {
                    self.failures = 0;
                    self.ask(env, Phase::AskPhone, out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::AskWhen => {
                if !changed && !self.turn_says.is_empty() {
                    // A note (impossible or past date) was said: ask again.
                    self.ask_current(env, out);
                } else if changed || yes || no || intent == Intent::Inform {
                    self.prefs.when_given = true;
                    self.advance(env, out);
                } else if !self.turn_says.is_empty() {
                    self.ask_current(env, out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::Offering => self.on_offer_reply(env, text, intent, e, changed, out),
            Phase::ConfirmSlot => {
                if yes && !changed {
                    self.failures = 0;
                    self.commit_slot(out);
                } else if changed {
                    self.chosen = None;
                    self.search(env, out);
                } else if no {
                    self.chosen = None;
                    self.prefs = Prefs {
                        type_id: self.prefs.type_id.clone(),
                        ..Prefs::default()
                    };
                    self.ask(env, Phase::AskWhen, out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::ChooseAppointment => {
                let list = self.appointments.clone().unwrap_or_default();
                match pick_appointment(&list, text, e) {
                    Some(a) => {
                        self.target = Some(a);
                        self.after_target(env, out);
                    }
                    None => self.not_understood(env, out),
                }
            }
            Phase::ConfirmCancel => {
                if yes {
                    if let Some(t) = &self.target {
                        self.phase = Phase::Waiting;
                        out.push(Action::Cancel {
                            appointment_id: t.id.clone(),
                        });
                    }
                } else if no {
                    self.say_key(env, out, "cancel_kept", &[]);
                    self.goal = None;
                    self.anything_else(env, out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::AskMedication => {
                if self.medication.is_none()
                    && !text.trim().is_empty()
                    && intent != Intent::OutOfScope
                {
                    self.medication = Some(text.trim().chars().take(120).collect());
                }
                if self.medication.is_some() {
                    self.advance(env, out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::AskPharmacy => {
                if self.pharmacy.is_none()
                    && !text.trim().is_empty()
                    && intent != Intent::OutOfScope
                {
                    self.pharmacy = Some(text.trim().chars().take(120).collect());
                }
                if self.pharmacy.is_some() {
                    self.advance(env, out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::AskInsurancePlan => {
                if let Some(plan) = words::accepted_plan_in(text, env.clinic) {
                    self.answered_something = true;
                    self.set_outcome(out, Outcome::Answered);
                    self.say_key(env, out, "insurance_yes", &[("plan", plan)]);
                    self.anything_else(env, out);
                } else if no || words::any_phrase(text, &["don't know", "not sure", "no idea"]) {
                    self.say_key(env, out, "insurance_unsure", &[]);
                    self.anything_else(env, out);
                } else if intent != Intent::OutOfScope || words::known_payer_in(text).is_some() {
                    let plan = words::known_payer_in(text)
                        .unwrap_or_else(|| text.trim().chars().take(80).collect());
                    self.insurance_plan = Some(plan);
                    self.start_goal(env, Goal::Escalate(TaskKind::UnknownInsurance), out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::OfferNewPatientBooking | Phase::OfferBookInstead => {
                let retry = self.phase == Phase::OfferBookInstead
                    && (e.person_name.is_some() || e.date_of_birth.is_some())
                    && self.verify_attempts < 2;
                // "My name is Asha Khan." or "Monday morning?" in answer to
                // "Would you like to book a new patient visit?" means yes.
                let goes_ahead = self.phase == Phase::OfferNewPatientBooking
                    && !no
                    && (e.person_name.is_some()
                        || e.date_of_birth.is_some()
                        || e.phone.is_some()
                        || changed);
                if retry {
                    self.patient = None;
                    self.appointments = None;
                    self.advance(env, out);
                } else if yes || goes_ahead {
                    if self.phase == Phase::OfferNewPatientBooking
                        && env.clinic.appointment_type("new_patient").is_some()
                    {
                        self.prefs.type_id = Some("new_patient".into());
                    }
                    self.start_goal(env, Goal::Book, out);
                } else if no {
                    self.goal = None;
                    self.anything_else(env, out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::SameDayOffer => {
                if yes || changed {
                    self.chosen = None;
                    if !changed {
                        self.prefs.date = None;
                        self.prefs.when_given = false;
                    }
                    self.advance(env, out);
                } else if no {
                    self.goal = None;
                    self.anything_else(env, out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::ConfirmEmergency => {
                if yes {
                    self.emergency(env, text, None, out);
                } else {
                    // Not an emergency: back to where the call was, and this
                    // answer (unless a plain "no") is an answer there.
                    self.phase = self.before_emergency_check;
                    self.failures = 0;
                    if no {
                        self.say_key(env, out, "not_emergency", &[]);
                        self.ask_current(env, out);
                    } else {
                        self.in_phase(env, text, intent, e, changed, out);
                    }
                }
            }
            Phase::OfferCallback => {
                if yes {
                    self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
                } else if no {
                    self.goal = None;
                    self.anything_else(env, out);
                } else {
                    self.not_understood(env, out);
                }
            }
            Phase::Waiting | Phase::Ended => {}
        }
    }

    /// Which offer the caller's words pick, if exactly one: by position
    /// ("the second one"), by time ("the 2:30"), or by every detail said
    /// ("the Tuesday one", "the afternoon one").
    fn offer_picked(&self, text: &str, e: &Entities) -> Option<usize> {
        let offered = &self.offered;
        let mut pick = words::ordinal_choice(text, offered.len());
        if pick.is_none()
            && let Some(t) = e.time
        {
            let matches: Vec<usize> = (0..offered.len())
                .filter(|&i| offered[i].start_local.time() == t)
                .filter(|&i| e.date.is_none_or(|d| offered[i].start_local.date() == d))
                .collect();
            if matches.len() == 1 {
                pick = Some(matches[0]);
            }
        }
        let described = e.date.is_some() || e.provider.is_some() || e.part_of_day.is_some();
        if pick.is_none() && e.time.is_none() && described {
            // "the Tuesday one", "the afternoon one": every detail said must
            // fit ("Wednesday morning" is no pick among Monday mornings).
            let matches: Vec<usize> = (0..offered.len())
                .filter(|&i| {
                    e.date.is_none_or(|d| offered[i].start_local.date() == d)
                        && e.provider
                            .as_deref()
                            .is_none_or(|p| offered[i].provider_id == p)
                        && e.part_of_day.is_none_or(|p| {
                            crate::scheduling::slots::part_of_day(offered[i].start_local.time())
                                == p
                        })
                })
                .collect();
            if matches.len() == 1 {
                pick = Some(matches[0]);
            }
        }
        pick
    }

    fn on_offer_reply(
        &mut self,
        env: &Env,
        text: &str,
        intent: Intent,
        e: &Entities,
        changed: bool,
        out: &mut Vec<Action>,
    ) {
        let offered = self.offered.clone();
        let mut pick = self.offer_picked(text, e);
        if pick.is_none() && intent == Intent::Affirm && offered.len() == 1 {
            pick = Some(0);
        }
        if let Some(i) = pick {
            self.failures = 0;
            self.chosen = Some(offered[i].clone());
            self.ask(env, Phase::ConfirmSlot, out);
        } else if changed {
            self.search(env, out);
        } else if intent == Intent::Deny {
            self.failures = 0;
            self.prefs = Prefs {
                type_id: self.prefs.type_id.clone(),
                ..Prefs::default()
            };
            self.ask(env, Phase::AskWhen, out);
        } else if intent == Intent::Affirm {
            self.say_key(env, out, "which_one", &[]);
            self.ask_current(env, out);
        } else {
            self.not_understood(env, out);
        }
    }

    // ------------------------------------------------------------ the agenda

    fn start_goal(&mut self, env: &Env, goal: Goal, out: &mut Vec<Action>) {
        self.goal = Some(goal);
        self.failures = 0;
        self.offered.clear();
        self.chosen = None;
        self.target = None;
        match goal {
            Goal::Escalate(kind) => {
                if let Some(number) = env.clinic.transfer_target(env.now).map(String::from)
                    && kind != TaskKind::UnknownInsurance
                {
                    self.say_key(env, out, "transfer", &[]);
                    self.set_outcome(out, Outcome::Transferred);
                    self.finish(out, AfterSpeech::Transfer { number });
                    return;
                }
                let key = format!("escalate_intro_{}", kind.as_str());
                let plan = self.insurance_plan.clone().unwrap_or_default();
                self.say_key(env, out, &key, &[("plan", &plan)]);
            }
            Goal::Book
                if self.prefs.type_id.is_none() && env.clinic.appointment_types.len() == 1 =>
            {
                self.prefs.type_id = Some(env.clinic.appointment_types[0].id.clone());
            }
            _ => {}
        }
        self.advance(env, out);
    }

    /// Asks for the next missing piece or performs the next action.
    fn advance(&mut self, env: &Env, out: &mut Vec<Action>) {
        self.failures = 0;
        let Some(goal) = self.goal else {
            self.anything_else(env, out);
            return;
        };
        match goal {
            Goal::Book => {
                if self.prefs.type_id.is_none() {
                    return self.ask(env, Phase::AskType, out);
                }
                if !self.identity_and_phone(env, out) {
                    return;
                }
                let (Some(name), Some(dob)) = (self.name.clone(), self.dob) else {
                    return;
                };
                if self.patient.is_none() {
                    self.phase = Phase::Waiting;
                    out.push(Action::Register {
                        name,
                        date_of_birth: dob,
                        phone: self.phone.clone(),
                    });
                    return;
                }
                self.next_slot_step(env, out);
            }
            Goal::Reschedule | Goal::Cancel | Goal::Check => {
                if self.name.is_none() {
                    return self.ask(env, Phase::AskName, out);
                }
                if self.dob.is_none() {
                    return self.ask(env, Phase::AskDob, out);
                }
                let (Some(name), Some(dob)) = (self.name.clone(), self.dob) else {
                    return;
                };
                let Some(patient) = self.patient.clone() else {
                    self.verify_attempts += 1;
                    self.phase = Phase::Waiting;
                    out.push(Action::Verify {
                        name,
                        date_of_birth: dob,
                    });
                    return;
                };
                let Some(list) = self.appointments.clone() else {
                    self.phase = Phase::Waiting;
                    out.push(Action::ListAppointments {
                        patient_id: patient.id,
                    });
                    return;
                };
                if self.target.is_some() {
                    return self.after_target(env, out);
                }
                if list.is_empty() {
                    return self.not_found(env, out);
                }
                if goal == Goal::Check {
                    let items: Vec<String> =
                        list.iter().take(3).map(|a| self.say_appt(env, a)).collect();
                    let joined = words::join_list(&items, "and");
                    self.say_key(env, out, "check_readback", &[("appointments", &joined)]);
                    self.answered_something = true;
                    self.set_outcome(out, Outcome::Answered);
                    self.goal = None;
                    return self.anything_else(env, out);
                }
                let by_words = pick_appointment_by_prefs(&list, &self.prefs);
                if list.len() == 1 {
                    self.target = Some(list[0].clone());
                } else if let Some(a) = by_words {
                    self.target = Some(a);
                } else {
                    let items: Vec<String> =
                        list.iter().take(4).map(|a| self.say_appt(env, a)).collect();
                    let joined = words::join_list(&items, "or");
                    self.say_key(env, out, "which_appointment", &[("appointments", &joined)]);
                    self.phase = Phase::ChooseAppointment;
                    return;
                }
                // The date that picked the old appointment is not a wish for the new one.
                if let (Some(t), Some(d)) = (&self.target, self.prefs.date)
                    && t.start_local.date() == d
                {
                    self.prefs.date = None;
                    self.prefs.time = None;
                    self.prefs.when_given =
                        self.prefs.week.is_some() || self.prefs.part_of_day.is_some();
                }
                self.after_target(env, out);
            }
            Goal::Escalate(kind) => {
                if kind != TaskKind::FailedUnderstanding {
                    if self.name.is_none() {
                        return self.ask(env, Phase::AskName, out);
                    }
                    if is_clinical(kind) && self.dob.is_none() && self.dob_refusals == 0 {
                        return self.ask(env, Phase::AskDob, out);
                    }
                    if kind == TaskKind::PrescriptionRefill {
                        if self.medication.is_none() {
                            return self.ask(env, Phase::AskMedication, out);
                        }
                        if self.pharmacy.is_none() {
                            return self.ask(env, Phase::AskPharmacy, out);
                        }
                    }
                    if self.phone.is_none() {
                        if self.caller_number.is_some() {
                            return self.ask(env, Phase::ConfirmCallerNumber, out);
                        }
                        return self.ask(env, Phase::AskPhone, out);
                    }
                }
                let summary = self.summary(env, kind);
                let number = self.callback_number();
                self.pending_task = Some(TaskContext::Escalation(kind));
                self.phase = Phase::Waiting;
                out.push(Action::CreateTask(self.draft(kind, summary, number)));
            }
        }
    }

    /// Name, date of birth and a callback number; false while asking.
    fn identity_and_phone(&mut self, env: &Env, out: &mut Vec<Action>) -> bool {
        if self.name.is_none() {
            self.ask(env, Phase::AskName, out);
            return false;
        }
        if self.dob.is_none() {
            self.ask(env, Phase::AskDob, out);
            return false;
        }
        if self.phone.is_none() {
            if self.caller_number.is_some() {
                self.ask(env, Phase::ConfirmCallerNumber, out);
            } else {
                self.ask(env, Phase::AskPhone, out);
            }
            return false;
        }
        true
    }

    fn after_target(&mut self, env: &Env, out: &mut Vec<Action>) {
        let Some(target) = self.target.clone() else {
            return;
        };
        match self.goal {
            Some(Goal::Cancel) => self.ask(env, Phase::ConfirmCancel, out),
            Some(Goal::Reschedule) => {
                self.prefs.type_id = Some(target.type_id.clone());
                if self.prefs.provider_id.is_none() {
                    self.prefs.provider_id = Some(target.provider_id.clone());
                }
                self.next_slot_step(env, out);
            }
            _ => self.advance(env, out),
        }
    }

    fn next_slot_step(&mut self, env: &Env, out: &mut Vec<Action>) {
        if !self.prefs.when_given {
            return self.ask(env, Phase::AskWhen, out);
        }
        if self.chosen.is_some() {
            return self.ask(env, Phase::ConfirmSlot, out);
        }
        self.search(env, out);
    }

    fn search(&mut self, env: &Env, out: &mut Vec<Action>) {
        let Some(type_id) = self.prefs.type_id.clone() else {
            return self.ask(env, Phase::AskType, out);
        };
        // A provider who does not offer this type is dropped with a word.
        if let Some(pid) = self.prefs.provider_id.clone() {
            let offers = env
                .clinic
                .appointment_type(&type_id)
                .is_some_and(|t| t.providers.contains(&pid));
            if !offers {
                let who = self.provider_spoken(env, &pid).to_string();
                let what = words::with_article(self.type_name(env, &type_id));
                self.say_key(
                    env,
                    out,
                    "provider_not_offering",
                    &[("provider", &who), ("type", &what)],
                );
                self.prefs.provider_id = None;
            }
        }
        let today = env.today();
        let horizon = i64::from(env.clinic.booking_horizon_days);
        let (from, to) = match (self.prefs.week, self.prefs.date, self.relax) {
            (Some((a, b)), _, 0) => (a.max(today), b),
            (Some((a, _)), _, _) => (
                a.max(today),
                a.max(today) + Duration::days(FIRST_SEARCH_DAYS),
            ),
            (None, Some(d), 0) => (d, d),
            (None, Some(d), 1) => (d, d + Duration::days(FIRST_SEARCH_DAYS)),
            (None, None, 0) => (today, today + Duration::days(FIRST_SEARCH_DAYS)),
            _ => (today, today + Duration::days(horizon)),
        };
        let query = SlotQuery {
            type_id,
            provider_id: if self.relax < 2 {
                self.prefs.provider_id.clone()
            } else {
                None
            },
            from,
            to: to.min(today + Duration::days(horizon)).max(from),
            part_of_day: if self.relax == 0 {
                self.prefs.part_of_day
            } else {
                None
            },
            limit: 200,
        };
        self.phase = Phase::Waiting;
        out.push(Action::FindSlots(query));
    }

    fn offer(&mut self, env: &Env, slots: Vec<Slot>, out: &mut Vec<Action>) {
        let picks = pick_offers(&slots, self.prefs.time);
        if self.relax > 0 {
            self.say_key(env, out, "nothing_then", &[]);
        }
        let phrases: Vec<String> = picks.iter().map(|s| self.say_slot(env, s)).collect();
        self.offered = picks;
        if phrases.len() == 1 {
            self.say_key(env, out, "offer_one", &[("slot", &phrases[0])]);
        } else {
            let joined = words::join_list(&phrases, "or");
            self.say_key(env, out, "offer_many", &[("slots", &joined)]);
        }
        self.phase = Phase::Offering;
    }

    fn commit_slot(&mut self, out: &mut Vec<Action>) {
        let (Some(slot), Some(patient)) = (self.chosen.clone(), self.patient.clone()) else {
            return;
        };
        self.phase = Phase::Waiting;
        match (self.goal, &self.target) {
            (Some(Goal::Reschedule), Some(t)) => out.push(Action::Reschedule {
                appointment_id: t.id.clone(),
                patient_id: patient.id,
                slot,
            }),
            _ => out.push(Action::Book {
                patient_id: patient.id,
                slot,
            }),
        }
    }

    fn ask(&mut self, env: &Env, phase: Phase, out: &mut Vec<Action>) {
        self.phase = phase;
        self.dtmf.clear();
        self.ask_current(env, out);
    }

    /// Says the question of the current phase.
    fn ask_current(&mut self, env: &Env, out: &mut Vec<Action>) {
        let today = env.today();
        match self.phase {
            Phase::Start | Phase::Open | Phase::Waiting | Phase::Ended => {
                self.say_key(env, out, "how_help", &[])
            }
            Phase::AskType => {
                let names: Vec<String> = env
                    .clinic
                    .appointment_types
                    .iter()
                    .map(|t| words::with_article(&t.name))
                    .collect();
                let options = words::join_list(&names, "or");
                self.say_key(env, out, "ask_type", &[("options", &options)])
            }
            Phase::AskName => self.say_key(env, out, "ask_name", &[]),
            Phase::AskDob if self.dob_month_day.is_some() => {
                self.say_key(env, out, "ask_dob_year", &[])
            }
            Phase::AskDob => self.say_key(env, out, "ask_dob", &[]),
            Phase::AskPhone => self.say_key(env, out, "ask_phone", &[]),
            Phase::ConfirmCallerNumber => {
                let last4 = self
                    .caller_number
                    .as_deref()
                    .map(|n| &n[n.len().saturating_sub(4)..])
                    .unwrap_or("")
                    .to_string();
                let spaced: String = last4
                    .chars()
                    .map(|c| format!("{c} "))
                    .collect::<String>()
                    .trim_end()
                    .to_string();
                self.say_key(env, out, "confirm_caller_number", &[("last4", &spaced)])
            }
            Phase::AskWhen => self.say_key(env, out, "ask_when", &[]),
            Phase::Offering => {
                let phrases: Vec<String> =
                    self.offered.iter().map(|s| self.say_slot(env, s)).collect();
                let joined = words::join_list(&phrases, "or");
                self.say_key(env, out, "offer_many", &[("slots", &joined)])
            }
            Phase::ConfirmSlot => {
                let Some(slot) = self.chosen.clone() else {
                    return;
                };
                let name = self.type_name(env, &slot.type_id);
                let what = if self.goal == Some(Goal::Reschedule) {
                    name.to_string()
                } else {
                    words::with_article(name)
                };
                let when = words::say_datetime(slot.start_local, today);
                let who = self.provider_spoken(env, &slot.provider_id).to_string();
                let key = if self.goal == Some(Goal::Reschedule) {
                    "confirm_reschedule"
                } else {
                    "confirm_booking"
                };
                self.say_key(
                    env,
                    out,
                    key,
                    &[("type", &what), ("when", &when), ("provider", &who)],
                )
            }
            Phase::ChooseAppointment => {
                let list = self.appointments.clone().unwrap_or_default();
                let items: Vec<String> =
                    list.iter().take(4).map(|a| self.say_appt(env, a)).collect();
                let joined = words::join_list(&items, "or");
                self.say_key(env, out, "which_appointment", &[("appointments", &joined)])
            }
            Phase::ConfirmCancel => {
                let Some(t) = self.target.clone() else { return };
                let appt = self.say_appt(env, &t);
                self.say_key(env, out, "confirm_cancel", &[("appointment", &appt)])
            }
            Phase::AskMedication => self.say_key(env, out, "ask_medication", &[]),
            Phase::AskPharmacy => self.say_key(env, out, "ask_pharmacy", &[]),
            Phase::AskInsurancePlan => self.say_key(env, out, "ask_insurance_plan", &[]),
            Phase::OfferNewPatientBooking => {
                self.say_key(env, out, "offer_new_patient_booking", &[])
            }
            Phase::OfferBookInstead => self.say_key(env, out, "offer_book_instead", &[]),
            Phase::SameDayOffer => self.say_key(env, out, "same_day_offer", &[]),
            Phase::OfferCallback => self.say_key(env, out, "offer_callback", &[]),
            Phase::ConfirmEmergency => self.say_key(env, out, "confirm_emergency", &[]),
        }
    }

    fn anything_else(&mut self, env: &Env, out: &mut Vec<Action>) {
        self.goal = None;
        self.phase = Phase::Open;
        self.say_key(env, out, "anything_else", &[]);
    }

    fn not_understood(&mut self, env: &Env, out: &mut Vec<Action>) {
        self.failures += 1;
        if self.failures >= MAX_FAILURES {
            self.failures = 0;
            self.say_key(env, out, "too_many_failures", &[]);
            self.start_goal(env, Goal::Escalate(TaskKind::FailedUnderstanding), out);
            return;
        }
        self.say_key(env, out, "not_understood", &[]);
        self.ask_current(env, out);
    }

    fn not_found(&mut self, env: &Env, out: &mut Vec<Action>) {
        // Identical words whether the record is missing or has no bookings.
        self.say_key(env, out, "no_appointment_found", &[]);
        self.phase = Phase::OfferBookInstead;
        self.ask_current(env, out);
    }

    fn refused_identity(&mut self, env: &Env, out: &mut Vec<Action>) {
        self.dob_refusals += 1;
        if self.dob_refusals == 1 {
            self.say_key(env, out, "identity_why", &[]);
            return;
        }
        if let Some(Goal::Escalate(kind)) = self.goal {
            // A callback can still be arranged without it.
            if self.name.is_none() {
                self.name = Some("the caller (declined to give a name)".into());
            }
            let _ = kind;
            self.advance(env, out);
            return;
        }
        self.say_key(env, out, "identity_declined", &[]);
        self.goal = None;
        self.phase = Phase::OfferCallback;
        self.ask_current(env, out);
    }

    /// `kind` is what the NLU's emergency net heard; an emergency the model
    /// alone heard (no kind) gets 911, the safe default.
    fn emergency(
        &mut self,
        env: &Env,
        text: &str,
        kind: Option<EmergencyKind>,
        out: &mut Vec<Action>,
    ) {
        let crisis = kind.is_some_and(|k| k.hotline() == Hotline::Crisis988);
        self.say_key(
            env,
            out,
            if crisis {
                "emergency_988"
            } else {
                "emergency_911"
            },
            &[],
        );
        let what = if crisis {
            "a possible suicidal crisis (told to call or text 988)"
        } else {
            "a possible medical emergency (told to hang up and dial 911)"
        };
        let words_said: String = text.chars().take(200).collect();
        let summary = format!(
            "URGENT: the caller described {what}. Their words: \"{words_said}\". \
             The agent stopped all other business and ended the call. \
             Please call back now to check on them."
        );
        let number = self.callback_number();
        self.pending_task = Some(TaskContext::Emergency);
        self.set_outcome(out, Outcome::Emergency);
        out.push(Action::CreateTask(self.draft(
            TaskKind::Emergency,
            summary,
            number,
        )));
        self.finish(out, AfterSpeech::Hangup);
    }

    fn draft(&self, kind: TaskKind, summary: String, callback_number: Option<String>) -> TaskDraft {
        let (queue, priority) = kind.routing();
        TaskDraft {
            kind,
            queue,
            priority,
            summary,
            callback_number,
            patient_id: self.patient.as_ref().map(|p| p.id.clone()),
            identity: self.name.clone().zip(self.dob),
        }
    }

    /// One paragraph for staff with only what they need to act.
    fn summary(&self, env: &Env, kind: TaskKind) -> String {
        let who = self.name.clone().unwrap_or_else(|| "The caller".into());
        let dob = match (is_clinical(kind), self.dob) {
            (true, Some(d)) => format!(" (date of birth given: {})", d),
            _ => String::new(),
        };
        let reach = match self.callback_number() {
            Some(n) => format!("Call back at {n}."),
            None => "No callback number was given.".into(),
        };
        let said = self
            .escalation_words
            .as_deref()
            .map(|w| format!(" In their words: \"{w}\"."))
            .unwrap_or_default();
        let body = match kind {
            TaskKind::PrescriptionRefill => format!(
                "{who}{dob} asked for a prescription refill of {} to be sent to {}.",
                self.medication
                    .as_deref()
                    .unwrap_or("an unnamed medication"),
                self.pharmacy.as_deref().unwrap_or("their usual pharmacy")
            ),
            TaskKind::TestResults => {
                format!("{who}{dob} asked about test results. The agent did not discuss them.")
            }
            TaskKind::ClinicalQuestion => {
                format!("{who}{dob} has a non-emergency clinical question for a nurse.{said}")
            }
            TaskKind::RecordsRequest => {
                format!("{who}{dob} has a records, forms or referral request.{said}")
            }
            TaskKind::Billing => format!("{who} has a billing question.{said}"),
            TaskKind::UnknownInsurance => format!(
                "{who} asked whether we accept {}, which is not on our accepted list. Please confirm coverage.",
                self.insurance_plan
                    .as_deref()
                    .unwrap_or("their insurance plan")
            ),
            TaskKind::FailedUnderstanding => {
                let doing = match self.goal {
                    Some(Goal::Book) => " while booking",
                    Some(Goal::Reschedule) => " while rescheduling",
                    Some(Goal::Cancel) => " while cancelling",
                    _ => "",
                };
                format!("The agent could not understand the caller after repeated attempts{doing}.")
            }
            TaskKind::Callback => format!("{who} asked to speak with a staff member."),
            TaskKind::Emergency => format!("{who} reported an emergency."),
        };
        let _ = env;
        format!("{body} {reach}")
    }

    // -------------------------------------------------------------- results

    fn on_result(&mut self, env: &Env, result: ActionResult, out: &mut Vec<Action>) {
        let today = env.today();
        match result {
            ActionResult::Registered(Some(p)) | ActionResult::Verified(Some(p)) => {
                out.push(Action::SetPatient(p.id.clone()));
                self.patient = Some(p);
                self.advance(env, out);
            }
            ActionResult::Registered(None) => {
                self.say_key(env, out, "system_trouble", &[]);
                self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
            }
            ActionResult::Verified(None) => self.not_found(env, out),
            ActionResult::Appointments(Some(list)) => {
                self.appointments = Some(list);
                self.advance(env, out);
            }
            ActionResult::Appointments(None) | ActionResult::Slots(None) => {
                self.say_key(env, out, "system_trouble", &[]);
                self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
            }
            ActionResult::Slots(Some(slots)) => {
                if slots.is_empty() {
                    if self.relax < 2 {
                        self.relax += 1;
                        self.search(env, out);
                    } else {
                        let days = env.clinic.booking_horizon_days.to_string();
                        self.say_key(env, out, "no_slots", &[("days", &days)]);
                        self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
                    }
                } else {
                    self.offer(env, slots, out);
                }
            }
            ActionResult::Booked(Ok(a)) | ActionResult::Rescheduled(Ok(a)) => {
                let rescheduled = self.goal == Some(Goal::Reschedule);
                let what = self.type_name(env, &a.type_id).to_string();
                let what = if rescheduled {
                    what
                } else {
                    words::with_article(&what)
                };
                let when = words::say_datetime(a.start_local, today);
                let who = self.provider_spoken(env, &a.provider_id).to_string();
                let key = if rescheduled { "rescheduled" } else { "booked" };
                self.say_key(
                    env,
                    out,
                    key,
                    &[("type", &what), ("when", &when), ("provider", &who)],
                );
                self.set_outcome(
                    out,
                    if rescheduled {
                        Outcome::Rescheduled
                    } else {
                        Outcome::Booked
                    },
                );
                self.chosen = None;
                self.offered.clear();
                self.target = None;
                self.appointments = None;
                self.prefs = Prefs::default();
                self.anything_else(env, out);
            }
            ActionResult::Booked(Err(f)) | ActionResult::Rescheduled(Err(f)) => match f {
                BookFailure::SlotTaken => {
                    self.say_key(env, out, "slot_taken", &[]);
                    self.chosen = None;
                    self.search(env, out);
                }
                BookFailure::SameDay { existing_local } => {
                    let when = words::say_time(existing_local.time());
                    let day = words::say_date(existing_local.date(), today);
                    self.say_key(env, out, "same_day", &[("time", &when), ("date", &day)]);
                    self.chosen = None;
                    self.phase = Phase::SameDayOffer;
                    self.ask_current(env, out);
                }
                BookFailure::Failed => {
                    self.say_key(env, out, "system_trouble", &[]);
                    self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
                }
            },
            ActionResult::Cancelled(Ok(a)) => {
                let appt = self.say_appt(env, &a);
                self.say_key(env, out, "cancelled", &[("appointment", &appt)]);
                self.set_outcome(out, Outcome::Cancelled);
                self.target = None;
                self.appointments = None;
                self.anything_else(env, out);
            }
            ActionResult::Cancelled(Err(_)) => {
                self.say_key(env, out, "system_trouble", &[]);
                self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
            }
            ActionResult::TaskCreated(ok) => {
                let context = self.pending_task.take();
                match context {
                    Some(TaskContext::Emergency) | None => {}
                    Some(TaskContext::SilenceClose) => {
                        let key = if ok {
                            "silence_close"
                        } else {
                            "silence_close_no_number"
                        };
                        let phone = env.clinic.phone.clone();
                        self.say_key(env, out, key, &[("clinic_phone", &phone)]);
                        self.finish(out, AfterSpeech::Hangup);
                    }
                    Some(TaskContext::Escalation(kind)) => {
                        if ok {
                            let last4: String = self
                                .callback_number()
                                .map(|n| {
                                    n.chars()
                                        .skip(6)
                                        .map(|c| format!("{c} "))
                                        .collect::<String>()
                                        .trim_end()
                                        .to_string()
                                })
                                .unwrap_or_default();
                            let key = if self.callback_number().is_some() {
                                format!("escalate_done_{}", kind.as_str())
                            } else {
                                "escalate_done_no_number".to_string()
                            };
                            self.say_key(env, out, &key, &[("last4", &last4)]);
                            self.set_outcome(out, Outcome::Escalated);
                            if kind == TaskKind::FailedUnderstanding {
                                self.say_key(env, out, "goodbye", &[]);
                                self.finish(out, AfterSpeech::Hangup);
                                return;
                            }
                        } else {
                            let phone = env.clinic.phone.clone();
                            self.say_key(env, out, "task_failed", &[("clinic_phone", &phone)]);
                        }
                        self.goal = None;
                        self.anything_else(env, out);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ FAQ

    fn answer_faq(
        &mut self,
        env: &Env,
        intent: Intent,
        text: &str,
        u: &Understanding,
        out: &mut Vec<Action>,
    ) {
        let resume = self.goal.is_some() && !matches!(self.phase, Phase::Open | Phase::Start);
        match intent {
            Intent::OfficeHours => {
                if let Some(d) = u.entities.date.filter(|d| *d != env.today()) {
                    let day = words::say_date(d, env.today());
                    match (env.clinic.holiday(d), env.clinic.hours_on(d)) {
                        (Some(h), _) => {
                            let name = h.name.clone();
                            self.say_key(
                                env,
                                out,
                                "closed_holiday_on",
                                &[("date", &day), ("holiday", &name)],
                            )
                        }
                        (None, Some(r)) => {
                            let (o, c) = (words::say_time(r.start), words::say_time(r.end));
                            self.say_key(
                                env,
                                out,
                                "hours_on_date",
                                &[("date", &day), ("open", &o), ("close", &c)],
                            )
                        }
                        (None, None) => self.say_key(env, out, "closed_on_date", &[("date", &day)]),
                    }
                } else {
                    let week = words::say_week_hours(env.clinic);
                    self.say_key(env, out, "hours_week", &[("hours", &week)]);
                    let (key, value) = words::say_today_hours(env.clinic, env.now);
                    let v = value.unwrap_or_default();
                    self.say_key(
                        env,
                        out,
                        &format!("hours_today_{key}"),
                        &[("time", &v), ("holiday", &v)],
                    );
                }
            }
            Intent::Location => {
                let address = env.clinic.address.one_line();
                self.say_key(env, out, "location", &[("address", &address)]);
                // "where do I part" is Whisper's "where do I park".
                let asks_parking = words::any_phrase(
                    text,
                    &[
                        "park",
                        "parking",
                        "garage",
                        "car",
                        "where do i part",
                        "where can i part",
                    ],
                );
                if asks_parking && !env.clinic.address.parking.is_empty() {
                    let p = env.clinic.address.parking.clone();
                    self.say(out, p);
                } else if !env.clinic.address.directions.is_empty() {
                    let d = env.clinic.address.directions.clone();
                    self.say(out, d);
                }
            }
            Intent::Insurance => {
                if let Some(plan) = words::accepted_plan_in(text, env.clinic) {
                    self.say_key(env, out, "insurance_yes", &[("plan", plan)]);
                } else if let Some(payer) = words::known_payer_in(text) {
                    self.insurance_plan = Some(payer);
                    self.start_goal(env, Goal::Escalate(TaskKind::UnknownInsurance), out);
                    return;
                } else {
                    let names: Vec<String> = env
                        .clinic
                        .insurance
                        .iter()
                        .map(|p| p.name.clone())
                        .collect();
                    let list = words::join_list(&names, "and");
                    self.say_key(env, out, "insurance_list", &[("plans", &list)]);
                    if !resume {
                        self.answered_something = true;
                        self.set_outcome(out, Outcome::Answered);
                        self.phase = Phase::AskInsurancePlan;
                        self.goal = None;
                        return;
                    }
                }
            }
            Intent::NewPatient => {
                if env.clinic.accepting_new_patients {
                    self.say_key(env, out, "new_patients_yes", &[]);
                    if !resume {
                        self.answered_something = true;
                        self.set_outcome(out, Outcome::Answered);
                        self.goal = None;
                        self.phase = Phase::OfferNewPatientBooking;
                        self.ask_current(env, out);
                        return;
                    }
                } else {
                    self.say_key(env, out, "new_patients_no", &[]);
                }
            }
            _ => {}
        }
        self.answered_something = true;
        self.set_outcome(out, Outcome::Answered);
        if resume {
            self.say_key(env, out, "back_to_it", &[]);
            self.ask_current(env, out);
        } else {
            self.anything_else(env, out);
        }
    }
}

/// The goal an intent starts, if it is a request.
fn goal_of(intent: Intent) -> Option<Goal> {
    Some(match intent {
        Intent::BookAppointment => Goal::Book,
        Intent::RescheduleAppointment => Goal::Reschedule,
        Intent::CancelAppointment => Goal::Cancel,
        Intent::CheckAppointment => Goal::Check,
        Intent::Billing => Goal::Escalate(TaskKind::Billing),
        Intent::PrescriptionRefill => Goal::Escalate(TaskKind::PrescriptionRefill),
        Intent::TestResults => Goal::Escalate(TaskKind::TestResults),
        Intent::ClinicalQuestion => Goal::Escalate(TaskKind::ClinicalQuestion),
        Intent::RecordsRequest => Goal::Escalate(TaskKind::RecordsRequest),
        Intent::SpeakToStaff => Goal::Escalate(TaskKind::Callback),
        _ => return None,
    })
}

/// Two or three offers: the requested time first, else spread over the
/// day(s) so the caller hears real choices.
fn pick_offers(slots: &[Slot], time: Option<NaiveTime>) -> Vec<Slot> {
    if slots.is_empty() {
        return Vec::new();
    }
    if let Some(t) = time {
        let first_day = slots[0].start_local.date();
        let mut day: Vec<&Slot> = slots
            .iter()
            .filter(|s| s.start_local.date() == first_day)
            .collect();
        let minutes = |s: &Slot| {
            (i64::from(s.start_local.time().num_seconds_from_midnight())
                - i64::from(t.num_seconds_from_midnight()))
            .abs()
        };
        day.sort_by_key(|s| (minutes(s), s.provider_id.clone()));
        let mut picked: Vec<Slot> = Vec::new();
        for s in day {
            if picked.iter().any(|p| p.start_local == s.start_local) {
                continue;
            }
            picked.push(s.clone());
            if picked.len() == 3 {
                break;
            }
        }
        picked.sort_by_key(|s| s.start_local);
        return picked;
    }
    let mut picked: Vec<Slot> = vec![slots[0].clone()];
    for s in slots {
        let last = &picked[picked.len() - 1];
        if s.start_local.date() != last.start_local.date()
            || s.start_local - last.start_local >= Duration::hours(2)
        {
            picked.push(s.clone());
            if picked.len() == 3 {
                break;
            }
        }
    }
    if picked.len() < 2
        && let Some(s) = slots
            .iter()
            .find(|s| s.start_local != picked[0].start_local)
    {
        picked.push(s.clone());
    }
    picked
}

fn pick_appointment_by_prefs(list: &[ApptRef], prefs: &Prefs) -> Option<ApptRef> {
    let d = prefs.date?;
    let on_day: Vec<&ApptRef> = list.iter().filter(|a| a.start_local.date() == d).collect();
    match on_day.len() {
        1 => Some(on_day[0].clone()),
        _ => prefs.time.and_then(|t| {
            on_day
                .iter()
                .find(|a| a.start_local.time() == t)
                .map(|a| (*a).clone())
        }),
    }
}

fn pick_appointment(list: &[ApptRef], text: &str, e: &Entities) -> Option<ApptRef> {
    if let Some(i) = words::ordinal_choice(text, list.len()) {
        return list.get(i).cloned();
    }
    let matches: Vec<&ApptRef> = list
        .iter()
        .filter(|a| e.date.is_none_or(|d| a.start_local.date() == d))
        .filter(|a| e.time.is_none_or(|t| a.start_local.time() == t))
        .filter(|a| e.provider.as_deref().is_none_or(|p| a.provider_id == p))
        .collect();
    if (e.date.is_some() || e.time.is_some() || e.provider.is_some()) && matches.len() == 1 {
        return Some(matches[0].clone());
    }
    None
}

/// Mean time of one step over a scripted booking call (no I/O; results are
/// synthesised), for the `< 1 ms` target.
pub fn bench_step(iterations: u32) -> std::time::Duration {
    use crate::nlu::Understanding;
    let clinic = Clinic::demo();
    let prompts = Prompts::builtin();
    let now = NaiveDate::from_ymd_opt(2026, 3, 16)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .unwrap_or_default();
    let env = Env {
        clinic: &clinic,
        prompts: &prompts,
        now,
    };
    let u = |intent: Intent, entities: Entities| Understanding {
        intent,
        confidence: 0.95,
        entities,
        emergency: None,
    };
    let slot = |h: u32| {
        let local = now
            .date()
            .succ_opt()
            .unwrap_or(now.date())
            .and_hms_opt(h, 0, 0)
            .unwrap_or(now);
        Slot {
            provider_id: "patel".into(),
            type_id: "physical".into(),
            start: local.and_utc(),
            end: local.and_utc() + Duration::minutes(30),
            start_local: local,
        }
    };
    let mut steps = 0u32;
    let started = std::time::Instant::now();
    for _ in 0..iterations.max(1) {
        let mut d = Dialogue::new(Some("+15551234567"));
        let utter = |text: &str, u: Understanding| {
            Input::Call(CallEvent::Utterance {
                text: text.into(),
                understanding: u,
            })
        };
        let inputs = vec![
            Input::Call(CallEvent::Started),
            utter(
                "I need a physical",
                u(Intent::BookAppointment, Entities::default()),
            ),
            utter(
                "Maria Gonzalez",
                u(
                    Intent::Inform,
                    Entities {
                        person_name: Some("Maria Gonzalez".into()),
                        ..Default::default()
                    },
                ),
            ),
            utter(
                "March 4 1985",
                u(
                    Intent::Inform,
                    Entities {
                        date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 4),
                        ..Default::default()
                    },
                ),
            ),
            utter("yes", u(Intent::Affirm, Entities::default())),
            Input::Result(ActionResult::Registered(Some(PatientRef {
                id: "p1".into(),
            }))),
            utter(
                "tomorrow morning",
                u(
                    Intent::Inform,
                    Entities {
                        part_of_day: Some(PartOfDay::Morning),
                        ..Default::default()
                    },
                ),
            ),
            Input::Result(ActionResult::Slots(Some(vec![slot(8), slot(9), slot(11)]))),
            utter("the first one", u(Intent::Inform, Entities::default())),
            utter("yes", u(Intent::Affirm, Entities::default())),
        ];
        for input in inputs {
            std::hint::black_box(d.step(&env, input));
            steps += 1;
        }
    }
    started.elapsed() / steps.max(1)
}
