//! The core of the state machine: one step, the events of a call, what an
//! utterance means here, and the dispatch to the rooms (`intake`,
//! `identity`, `booking`, `offers`, `appointments`, `escalation`,
//! `questions`) that answer each question. See the module docs in
//! `dialogue/mod.rs`.

use super::escalation::is_clinical;
use super::state::{Action, ActionResult, Dialogue, Env, Goal, Input, Phase, TaskContext};
use super::words;
use crate::vocabulary::{AfterSpeech, CallEvent, Entities, Intent, TaskKind, Understanding};

/// Below this the agent treats an utterance as not understood.
pub const MIN_CONFIDENCE: f32 = 0.45;
/// In the middle of a task, a new request needs this much confidence to
/// switch the topic.
pub const SWITCH_CONFIDENCE: f32 = 0.7;
/// While times are offered, a reply that picks one is a pick unless the
/// model is this sure it is something else.
pub const PICK_OVERRIDE_CONFIDENCE: f32 = 0.9;
/// Silences in a row before the agent closes the call.
const MAX_SILENCES: u32 = 2;

impl Dialogue {
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

    // ---------------------------------------------------------------- events

    /// A call event: start, hang-up, silence, a keypad digit or words.
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

    /// The caller said nothing: ask again once, then close the call (with a
    /// callback task when there is a number to call).
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

    /// What the caller's words mean here: emergencies first, then pleasantries,
    /// repeats, a new request, a question; else an answer to the question asked.
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

    /// Answers for the phase the agent is in: one handler per question.
    pub(super) fn in_phase(
        &mut self,
        env: &Env,
        text: &str,
        intent: Intent,
        e: &Entities,
        changed: bool,
        out: &mut Vec<Action>,
    ) {
        match self.phase {
            Phase::Start | Phase::Open => self.on_open_reply(env, text, intent, e, out),
            Phase::AskType => self.on_type_reply(env, out),
            Phase::AskName => self.on_name_reply(env, text, intent, out),
            Phase::AskDob => self.on_dob_reply(env, text, intent, e, out),
            Phase::AskPhone => self.on_phone_reply(env, out),
            Phase::ConfirmCallerNumber => self.on_caller_number_reply(env, intent, out),
            Phase::AskWhen => self.on_when_reply(env, intent, changed, out),
            Phase::Offering => self.on_offer_reply(env, text, intent, e, changed, out),
            Phase::ConfirmSlot => self.on_slot_confirm_reply(env, intent, changed, out),
            Phase::ChooseAppointment => self.on_appointment_choice(env, text, e, out),
            Phase::ConfirmCancel => self.on_cancel_confirm_reply(env, intent, out),
            Phase::AskMedication => self.on_medication_reply(env, text, intent, out),
            Phase::AskPharmacy => self.on_pharmacy_reply(env, text, intent, out),
            Phase::AskInsurancePlan => self.on_insurance_plan_reply(env, text, intent, out),
            Phase::OfferNewPatientBooking | Phase::OfferBookInstead => {
                self.on_booking_offer_reply(env, intent, e, changed, out)
            }
            Phase::SameDayOffer => self.on_same_day_reply(env, intent, changed, out),
            Phase::ConfirmEmergency => {
                self.on_emergency_confirm_reply(env, text, intent, e, changed, out)
            }
            Phase::OfferCallback => self.on_callback_offer_reply(env, intent, out),
            Phase::Waiting | Phase::Ended => {}
        }
    }

    // ------------------------------------------------------------ the agenda

    /// A new request: a warm transfer when staff can take it, else its first step.
    pub(super) fn start_goal(&mut self, env: &Env, goal: Goal, out: &mut Vec<Action>) {
        self.goal = Some(goal);
        self.failures = 0;
        self.offered.clear();
        self.chosen = None;
        self.target = None;
        match goal {
            Goal::Escalate(kind) => {
                if self.warm_transfer(env, kind, out) {
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
    pub(super) fn advance(&mut self, env: &Env, out: &mut Vec<Action>) {
        self.failures = 0;
        let Some(goal) = self.goal else {
            self.anything_else(env, out);
            return;
        };
        match goal {
            Goal::Book => self.advance_booking(env, out),
            Goal::Reschedule | Goal::Cancel | Goal::Check => self.advance_existing(env, goal, out),
            Goal::Escalate(kind) => self.advance_escalation(env, kind, out),
        }
    }

    // -------------------------------------------------------------- results

    /// What an action produced: each result goes to the room that asked for it.
    fn on_result(&mut self, env: &Env, result: ActionResult, out: &mut Vec<Action>) {
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
            ActionResult::Slots(Some(slots)) => self.on_slots(env, slots, out),
            ActionResult::Booked(Ok(a)) | ActionResult::Rescheduled(Ok(a)) => {
                self.on_booked(env, a, out)
            }
            ActionResult::Booked(Err(f)) | ActionResult::Rescheduled(Err(f)) => {
                self.on_book_failed(env, f, out)
            }
            ActionResult::Cancelled(Ok(a)) => self.on_cancelled(env, a, out),
            ActionResult::Cancelled(Err(_)) => {
                self.say_key(env, out, "system_trouble", &[]);
                self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
            }
            ActionResult::TaskCreated(ok) => self.on_task_created(env, ok, out),
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
