//! The core of the state machine: one step, the events of a call, what an
//! utterance means here, and the dispatch to the rooms (`intake`,
//! `identity`, `booking`, `offers`, `appointments`, `escalation`,
//! `questions`) that answer each question. See the module docs in
//! `dialogue/mod.rs`.

use super::cues;
use super::escalation::is_clinical;
use super::state::{Action, ActionResult, Dialogue, Env, Goal, Input, Phase, TaskContext};
use super::words;
use crate::vocabulary::{
    AfterSpeech, CallEvent, Entities, Intent, Outcome, TaskKind, Understanding,
};

/// Below this the agent treats an utterance as not understood.
pub const MIN_CONFIDENCE: f32 = 0.45;
/// In the middle of a task, a new request needs this much confidence to
/// switch the topic.
pub const SWITCH_CONFIDENCE: f32 = 0.7;
/// While times are offered, a reply that picks one is a pick unless the
/// model is this sure it is something else.
pub const PICK_OVERRIDE_CONFIDENCE: f32 = 0.9;
/// Below this a goodbye is asked about ("anything before you go?"), not obeyed.
pub const GOODBYE_CONFIDENCE: f32 = 0.8;
/// Silences in a row before the agent closes the call.
const MAX_SILENCES: u32 = 2;

impl Dialogue {
    /// One step: the state changes in place and the actions come back.
    pub fn step(&mut self, env: &Env, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        if self.phase == Phase::Ended {
            // The goodbye is being said: words heard now get no reply,
            // unless they tell of an emergency, which still gets its answer
            // (and its task) before the line closes.
            if let Input::Call(CallEvent::Utterance {
                text,
                understanding: u,
            }) = &input
                && self.outcome != Some(Outcome::Emergency)
                && (u.emergency.is_some()
                    || u.possible_emergency.is_some()
                    || u.intent == Intent::Emergency)
            {
                self.turn_says.clear();
                self.on_utterance(env, text, u, &mut out);
                if !self.turn_says.is_empty() {
                    self.last_turn = self.turn_says.clone();
                }
            }
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
                let doing = self.doing();
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

    /// What the caller's words mean here: emergencies first, then a person
    /// asked for, pleasantries, repeats, a new request, a question; else an
    /// answer to the question asked.
    pub(super) fn on_utterance(
        &mut self,
        env: &Env,
        text: &str,
        u: &Understanding,
        out: &mut Vec<Action>,
    ) {
        self.heard += 1;
        // Safety first: an emergency the net is sure of (a crisis, 988,
        // whatever was asked) wins over every state and every label.
        if let Some(kind) = u.emergency {
            self.emergency(env, text, Some(kind), out);
            return;
        }
        if u.intent == Intent::Emergency {
            if self.phase == Phase::ConfirmEmergency {
                // The model alone again, and no yes: the question once
                // more, as a plain yes or no (a lone "and", or voices
                // behind the caller transcribed, came out over 90 %
                // emergency). Heard a third time, it is taken as one.
                if self.times_asked(Phase::ConfirmEmergency) >= 2 {
                    self.emergency(env, text, None, out);
                } else {
                    self.ask_current(env, out);
                }
                return;
            }
            // Only the model heard it, with no support in the words the net
            // knows ("that's myself" for "that's my cell" came out 90 %
            // emergency; so did an ordinary fever): ask, rather than send a
            // caller who wants a booking to 911 or let a real emergency
            // pass. An answer to "your name?" or "your date of birth?" is
            // that answer (a misheard name, "This is Bregonzalez.", came out
            // emergency): the net still hears any emergency said in it.
            // Words that hold no such answer are not one: "Actually, I'm
            // having crushing chess team right now." (chest pain, misheard)
            // said when asked for a date of birth gets the question too.
            let e = &u.entities;
            let answering = match self.phase {
                Phase::AskName => e.person_name.is_some(),
                Phase::AskDob => e.date_of_birth.is_some() || e.date.is_some(),
                Phase::AskPhone => e.phone.is_some(),
                Phase::AskSecondFactor => {
                    e.phone.is_some() || text.chars().any(|c| c.is_ascii_digit())
                }
                _ => false,
            };
            if !answering {
                self.check_emergency(env, text, u, out);
                return;
            }
        }
        // A weak signal ("that's myself" for "that's my cell", an ordinary
        // fever): never 911 on it, but always the question.
        if u.possible_emergency.is_some() && self.phase != Phase::ConfirmEmergency {
            self.check_emergency(env, text, u, out);
            return;
        }
        if matches!(self.phase, Phase::Waiting | Phase::Ended) {
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
        // "Operator", "a person please": staff at once, in any phase (the
        // model's label, or the words themselves when the label is missing).
        let wants_person = cues::asks_for_person(text)
            || (u.intent == Intent::SpeakToStaff && u.confidence >= MIN_CONFIDENCE);
        let in_callback = self.goal == Some(Goal::Escalate(TaskKind::Callback))
            && !matches!(self.phase, Phase::Open | Phase::Start);
        if wants_person && !in_callback {
            self.failures = 0;
            self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
            return;
        }
        let mut intent = if u.confidence >= MIN_CONFIDENCE {
            u.intent
        } else if words::says_goodbye(text) && u.intent == Intent::Goodbye {
            // An unsure goodbye is asked about, never obeyed.
            Intent::Goodbye
        } else {
            // The model does not know what the agent asked; after a yes/no
            // question a reply that opens with one is that answer.
            match cues::yes_or_no(text).filter(|_| self.awaits_yes_no()) {
                Some(true) => Intent::Affirm,
                Some(false) => Intent::Deny,
                None => Intent::OutOfScope,
            }
        };
        // A new request the model is sure of, or one the words make certain.
        let mut switch_sure = u.confidence >= SWITCH_CONFIDENCE;
        // After a yes/no question, a reply that opens with one is that
        // answer, even when the model reads it as giving details; a reply
        // that is nothing but a yes or a no ("uh huh", "nope") is that
        // answer whatever the label.
        // ("No, that's all, thanks" to a yes/no question stays a goodbye.)
        let no_and_goodbye = intent == Intent::Goodbye && words::says_goodbye(text);
        if self.awaits_yes_no() {
            if let Some(yes) = cues::bare_yes_or_no(text).filter(|yes| *yes || !no_and_goodbye) {
                intent = if yes { Intent::Affirm } else { Intent::Deny };
            } else if matches!(intent, Intent::Inform | Intent::OutOfScope)
                && let Some(yes) = cues::yes_or_no(text)
            {
                intent = if yes { Intent::Affirm } else { Intent::Deny };
            }
        }
        // A request that repeats what was just proposed confirms it ("so
        // just cancel it, please" to "you'd like to cancel …, is that
        // right?").
        if self.repeats_proposal(text, intent) {
            intent = Intent::Affirm;
        }
        // The agent never hangs up on the model's word alone.
        if intent == Intent::Goodbye && !words::says_goodbye(text) {
            intent = Intent::OutOfScope;
        }
        // "Can I do a video visit, I want to talk to someone about my
        // anxiety" is a booking (of a video visit if the clinic has one),
        // not a clinical question.
        if cues::wants_remote_visit(text)
            && self.goal != Some(Goal::Book)
            && matches!(
                intent,
                Intent::ClinicalQuestion
                    | Intent::OutOfScope
                    | Intent::Inform
                    | Intent::BookAppointment
                    | Intent::OfficeHours
            )
        {
            intent = Intent::BookAppointment;
            switch_sure = true;
        }
        // Words the model could not place but that carry details ("This is
        // Tom Lee.", a date, a number) give those details. A name needs the
        // caller to say it is theirs: the name parser is generous.
        let e = &u.entities;
        let when_details = e.date.is_some() || e.time.is_some() || e.part_of_day.is_some();
        let details = e.date_of_birth.is_some()
            || e.phone.is_some()
            || when_details
            || e.provider.is_some()
            || e.medication.is_some()
            || e.pharmacy.is_some()
            || (e.person_name.is_some() && words::introduces_self(text));
        if intent == Intent::OutOfScope && details {
            intent = Intent::Inform;
        }
        // Parking and accessibility are questions about the place.
        if matches!(intent, Intent::OutOfScope)
            && (cues::asks_parking(text) || cues::asks_accessibility(text))
            && words::is_question(text)
        {
            intent = Intent::Location;
        }
        intent = self.faq_or_answer(text, intent, when_details);
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
            if !same && mid_task && (!switch_sure || picks_offer) {
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
                self.on_goodbye(env, u.confidence, out);
                return;
            }
            _ => {}
        }
        // Something useful that is not what was asked (a day offered while
        // the agent asks for a phone number) is kept for later, with a
        // word, and the question asked again: no failure.
        if changed && !self.phase_answered(intent) {
            self.failures = 0;
            if self.turn_says.is_empty() {
                self.say_key(env, out, "noted", &[]);
            }
            self.ask_current(env, out);
            return;
        }
        self.in_phase(env, text, intent, &u.entities, changed, out);
    }

    /// Whether the reply answers the question of a phase that wants one
    /// thing (a type, a number), as opposed to giving something else.
    fn phase_answered(&self, intent: Intent) -> bool {
        match self.phase {
            Phase::AskType => self.prefs.type_id.is_some(),
            Phase::AskPhone => self.phone.is_some(),
            Phase::ConfirmCallerNumber => {
                self.phone.is_some() || matches!(intent, Intent::Affirm | Intent::Deny)
            }
            _ => true,
        }
    }

    /// A question (hours, location, insurance, new patients) or an answer
    /// to the question asked: "tomorrow at four if that's open" answers
    /// "when?"; the same question asked again in the phase it interrupted
    /// is an answer there, so the flow resumes once, never in a loop.
    fn faq_or_answer(&self, text: &str, intent: Intent, when_details: bool) -> Intent {
        let faq = matches!(
            intent,
            Intent::OfficeHours | Intent::Location | Intent::Insurance | Intent::NewPatient
        );
        if !faq {
            return intent;
        }
        // "The CVS on Main Street" answers "which pharmacy?"; it is not a
        // question about where the clinic is.
        if matches!(self.phase, Phase::AskMedication | Phase::AskPharmacy)
            && !words::is_question(text)
        {
            return Intent::Inform;
        }
        let booking_phase = matches!(
            self.phase,
            Phase::AskWhen
                | Phase::Offering
                | Phase::ConfirmSlot
                | Phase::SameDayOffer
                | Phase::OfferNewPatientBooking
        );
        if intent == Intent::OfficeHours && booking_phase && cues::hedges_availability(text) {
            return Intent::Inform;
        }
        if booking_phase && when_details && !words::is_question(text) {
            return Intent::Inform;
        }
        if self.faq_in == Some((self.phase, intent)) {
            return Intent::Inform;
        }
        intent
    }

    /// A request that repeats what the agent just proposed: the same
    /// request in a confirmation ("just cancel it, please"), or "book it".
    fn repeats_proposal(&self, text: &str, intent: Intent) -> bool {
        let negated = words::any_phrase(
            text,
            &["don't", "do not", "not", "keep it", "never mind", "instead"],
        );
        if negated {
            return false;
        }
        match self.phase {
            Phase::ConfirmCancel => {
                intent == Intent::CancelAppointment
                    || words::any_phrase(text, &["cancel it", "cancel that", "go ahead"])
            }
            Phase::ConfirmSlot => {
                let same = match self.goal {
                    Some(Goal::Book) => intent == Intent::BookAppointment,
                    Some(Goal::Reschedule) => {
                        matches!(
                            intent,
                            Intent::RescheduleAppointment | Intent::BookAppointment
                        )
                    }
                    _ => false,
                };
                same || words::any_phrase(text, &["book it", "book that", "move it", "do it"])
            }
            Phase::OfferCallback => intent == Intent::SpeakToStaff,
            _ => false,
        }
    }

    /// A goodbye: obeyed when sure; asked about when it is the caller's
    /// first words or the model is unsure (Whisper wrote "bye." for "hi,
    /// um" before a chest pain).
    fn on_goodbye(&mut self, env: &Env, confidence: f32, out: &mut Vec<Action>) {
        let sure = self.heard > 1 && confidence >= GOODBYE_CONFIDENCE;
        if sure || self.phase == Phase::ConfirmGoodbye {
            self.say_key(env, out, "goodbye", &[]);
            self.finish(out, AfterSpeech::Hangup);
        } else {
            // Asked during "is this an emergency?": the call goes back to
            // where that question came from, never to the question itself
            // (each confirmation would hand the reply to the other, forever).
            self.before_goodbye_check = if self.phase == Phase::ConfirmEmergency {
                self.before_emergency_check
            } else {
                self.phase
            };
            self.ask(env, Phase::ConfirmGoodbye, out);
        }
    }

    /// The answer to "anything I can help you with before you go?".
    pub(super) fn on_goodbye_confirm_reply(
        &mut self,
        env: &Env,
        text: &str,
        intent: Intent,
        e: &Entities,
        changed: bool,
        out: &mut Vec<Action>,
    ) {
        let done = intent == Intent::Deny
            || words::says_goodbye(text)
            || words::any_phrase(text, &["that's all", "that's it", "nothing"]);
        if done {
            self.say_key(env, out, "goodbye", &[]);
            self.finish(out, AfterSpeech::Hangup);
        } else if intent == Intent::Affirm {
            self.phase = self.before_goodbye_check;
            self.failures = 0;
            if matches!(self.phase, Phase::Open | Phase::Start) {
                self.say_key(env, out, "how_help", &[]);
            } else {
                self.ask_current(env, out);
            }
        } else {
            self.phase = self.before_goodbye_check;
            self.in_phase(env, text, intent, e, changed, out);
        }
    }

    /// Asks "is this a medical emergency?", keeping the words that made
    /// the agent ask: a "no" answers them where the call was.
    fn check_emergency(&mut self, env: &Env, text: &str, u: &Understanding, out: &mut Vec<Action>) {
        if self.phase == Phase::Waiting {
            return;
        }
        let mut kept = u.clone();
        if kept.intent == Intent::Emergency {
            kept.intent = Intent::OutOfScope;
            kept.confidence = 0.0;
        }
        kept.emergency = None;
        kept.possible_emergency = None;
        // What the words give is kept (a name said with them), quietly:
        // a note about them is said if they are answered after a "no".
        let said = self.turn_says.len();
        self.absorb(env, text, &u.entities, &mut Vec::new());
        self.turn_says.truncate(said);
        self.emergency_words = Some((text.to_string(), kept));
        // Likewise a pending "anything before you go?" returns to where it
        // came from.
        self.before_emergency_check = match self.phase {
            Phase::Ended => Phase::Open,
            Phase::ConfirmGoodbye => self.before_goodbye_check,
            phase => phase,
        };
        self.ask(env, Phase::ConfirmEmergency, out);
    }

    /// Whether the agent's question was a yes/no one.
    fn awaits_yes_no(&self) -> bool {
        matches!(
            self.phase,
            Phase::ConfirmEmergency
                | Phase::ConfirmCallerNumber
                | Phase::ConfirmIdentity
                | Phase::ConfirmSlot
                | Phase::ConfirmCancel
                | Phase::OfferNewPatientBooking
                | Phase::OfferBookInstead
                | Phase::SameDayOffer
                | Phase::OfferCallback
                | Phase::ConfirmGoodbye
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
            Phase::AskSecondFactor => self.on_second_factor_reply(env, text, intent, e, out),
            Phase::ConfirmIdentity => self.on_identity_confirm_reply(env, intent, out),
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
            Phase::ConfirmGoodbye => {
                self.on_goodbye_confirm_reply(env, text, intent, e, changed, out)
            }
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
                if std::mem::take(&mut self.details_to_confirm) {
                    let summary = self.summary(env, TaskKind::ConfirmDetails);
                    let number = self.callback_number();
                    out.push(Action::CreateTask(self.draft(
                        TaskKind::ConfirmDetails,
                        summary,
                        number,
                    )));
                }
                self.advance(env, out);
            }
            ActionResult::Registered(None) => {
                self.say_key(env, out, "system_trouble", &[]);
                self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
            }
            ActionResult::Verified(None) => self.not_found(env, out),
            ActionResult::SecondFactorNeeded => self.second_factor_needed(env, out),
            ActionResult::NewIdentity => self.ask(env, Phase::ConfirmIdentity, out),
            ActionResult::SecondFactorChecked(Some(p)) => {
                out.push(Action::SetPatient(p.id.clone()));
                self.patient = Some(p);
                self.advance(env, out);
            }
            ActionResult::SecondFactorChecked(None) => self.identity_unconfirmed(env, out),
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
