//! How the agent speaks: prompts and read-backs, the question of each
//! phase, "anything else?", "sorry?", and the call's outcome and end.

use super::state::{Action, ApptRef, Dialogue, Env, Goal, Phase};
use super::words;
use crate::scheduling::Slot;
use crate::vocabulary::{AfterSpeech, Outcome, TaskKind};

/// Misunderstandings in a row before a hand-off: three chances.
const MAX_FAILURES: u32 = 3;
/// The same question asked this many times in a row (without the call
/// moving on) is a loop: the next time the agent changes course.
const LOOP_ASKS: u32 = 3;

/// Which outcome wins when a call has several (an emergency over everything).
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

impl Dialogue {
    /// Says `text` and remembers it for "say that again".
    pub(super) fn say(&mut self, out: &mut Vec<Action>, text: String) {
        self.turn_says.push(text.clone());
        out.push(Action::Say(text));
    }

    /// Says the prompt `key` with `vars` filled in.
    pub(super) fn say_key(
        &mut self,
        env: &Env,
        out: &mut Vec<Action>,
        key: &str,
        vars: &[(&str, &str)],
    ) {
        let text = env.prompts.render(key, vars);
        self.say(out, text);
    }

    /// Raises the call's outcome; a lesser one never replaces a greater.
    pub(super) fn set_outcome(&mut self, out: &mut Vec<Action>, o: Outcome) {
        if self.outcome.is_none_or(|cur| rank(o) >= rank(cur)) {
            self.outcome = Some(o);
            out.push(Action::Outcome(o));
        }
    }

    /// The outcome the call ends with.
    pub(super) fn final_outcome(&self) -> Outcome {
        match self.outcome {
            Some(o) => o,
            None if self.answered_something => Outcome::Answered,
            None => Outcome::Abandoned,
        }
    }

    /// Ends the call after the words are spoken.
    pub(super) fn finish(&mut self, out: &mut Vec<Action>, then: AfterSpeech) {
        let outcome = self.final_outcome();
        self.outcome = Some(outcome);
        self.phase = Phase::Ended;
        out.push(Action::Finish { outcome, then });
    }

    /// The number given in the call, else the caller id.
    pub(super) fn callback_number(&self) -> Option<String> {
        self.phone.clone().or_else(|| self.caller_number.clone())
    }

    /// A provider's name as said ("Dr. Patel").
    pub(super) fn provider_spoken<'c>(&self, env: &Env<'c>, id: &str) -> &'c str {
        env.clinic
            .provider(id)
            .map(|p| p.spoken.as_str())
            .unwrap_or("our provider")
    }

    /// An appointment type's name.
    pub(super) fn type_name<'c>(&self, env: &Env<'c>, id: &str) -> &'c str {
        env.clinic
            .appointment_type(id)
            .map(|t| t.name.as_str())
            .unwrap_or("appointment")
    }

    /// "Tuesday the 17th at 9 AM with Dr. Patel".
    pub(super) fn say_slot(&self, env: &Env, slot: &Slot) -> String {
        format!(
            "{} with {}",
            words::say_datetime(slot.start_local, env.today()),
            self.provider_spoken(env, &slot.provider_id)
        )
    }

    /// "your physical with Dr. Patel on …".
    pub(super) fn say_appt(&self, env: &Env, a: &ApptRef) -> String {
        format!(
            "your {} with {} on {}",
            self.type_name(env, &a.type_id),
            self.provider_spoken(env, &a.provider_id),
            words::say_datetime(a.start_local, env.today())
        )
    }

    /// The clinic's providers, "Dr. A, Dr. B and Dr. C".
    pub(super) fn provider_list(&self, env: &Env) -> String {
        let names: Vec<String> = env
            .clinic
            .providers
            .iter()
            .map(|p| p.spoken.clone())
            .collect();
        words::join_list(&names, "and")
    }

    /// Moves to `phase` and asks its question.
    pub(super) fn ask(&mut self, env: &Env, phase: Phase, out: &mut Vec<Action>) {
        if self.phase != phase {
            self.faq_in = None;
        }
        self.phase = phase;
        self.dtmf.clear();
        self.ask_current(env, out);
    }

    /// Says the question of the current phase: rephrased when it is asked
    /// again, and after three times in a row a change of course (the offer
    /// of a call back) instead of a fourth.
    pub(super) fn ask_current(&mut self, env: &Env, out: &mut Vec<Action>) {
        let times = match self.asking {
            Some((p, n)) if p == self.phase => n + 1,
            _ => 1,
        };
        self.asking = Some((self.phase, times));
        let offers = matches!(
            self.phase,
            Phase::OfferCallback
                | Phase::ConfirmEmergency
                | Phase::ConfirmGoodbye
                | Phase::Start
                | Phase::Open
                | Phase::Waiting
                | Phase::Ended
        );
        if times > LOOP_ASKS && !offers {
            return self.change_course(env, out);
        }
        self.question(env, out);
    }

    /// Going round in circles: offer a call back once (a "no" comes back
    /// to the question, put another way); the second time, hand over.
    fn change_course(&mut self, env: &Env, out: &mut Vec<Action>) {
        if self.loop_resume.is_none() && !self.loop_offered {
            self.loop_offered = true;
            self.offer_handoff(env, out);
        } else {
            self.failures = 0;
            self.say_key(env, out, "too_many_failures", &[]);
            self.start_goal(env, Goal::Escalate(TaskKind::FailedUnderstanding), out);
        }
    }

    /// "Would you like me to have someone call you back?", coming back to
    /// the question asked on a "no".
    pub(super) fn offer_handoff(&mut self, env: &Env, out: &mut Vec<Action>) {
        self.loop_resume = Some(self.phase);
        self.phase = Phase::OfferCallback;
        self.asking = Some((Phase::OfferCallback, 1));
        self.say_key(env, out, "offer_handoff", &[]);
    }

    /// Says `key`, or its rephrasing for the second (`key_again`) and
    /// third or later (`key_third`) time the question is asked in a row.
    fn say_asked(&mut self, env: &Env, out: &mut Vec<Action>, key: &str, vars: &[(&str, &str)]) {
        let times = self.asking.map(|(_, n)| n).unwrap_or(1);
        let again = format!("{key}_again");
        let third = format!("{key}_third");
        let has = |k: &str| env.prompts.template(k).is_some();
        let chosen = match times {
            0 | 1 => key.to_string(),
            2 if has(&again) => again,
            _ if has(&third) => third,
            _ if has(&again) => again,
            _ => key.to_string(),
        };
        self.say_key(env, out, &chosen, vars);
    }

    /// The question of the current phase, worded for how often it was asked.
    fn question(&mut self, env: &Env, out: &mut Vec<Action>) {
        let today = env.today();
        match self.phase {
            Phase::Start | Phase::Open | Phase::Waiting | Phase::Ended => {
                self.say_asked(env, out, "how_help", &[])
            }
            Phase::AskType => {
                let names: Vec<String> = env
                    .clinic
                    .appointment_types
                    .iter()
                    .map(|t| words::with_article(&t.name))
                    .collect();
                let options = words::join_list(&names, "or");
                self.say_asked(env, out, "ask_type", &[("options", &options)])
            }
            Phase::AskName => self.say_asked(env, out, "ask_name", &[]),
            Phase::AskDob if self.dob_month_day.is_some() => {
                self.say_asked(env, out, "ask_dob_year", &[])
            }
            Phase::AskDob => self.say_asked(env, out, "ask_dob", &[]),
            Phase::AskPhone => self.say_asked(env, out, "ask_phone", &[]),
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
                self.say_asked(env, out, "confirm_caller_number", &[("last4", &spaced)])
            }
            Phase::AskSecondFactor => self.say_asked(env, out, "ask_second_factor", &[]),
            Phase::ConfirmIdentity => {
                let name = self.name.clone().unwrap_or_default();
                self.read_back = Some((name.clone(), self.dob));
                let dob = self.dob.map(words::say_birth_date).unwrap_or_default();
                let number = self
                    .phone
                    .as_deref()
                    .map(|n| spaced(&n[n.len().saturating_sub(4)..]))
                    .unwrap_or_default();
                let key = if number.is_empty() {
                    "confirm_identity_no_number"
                } else {
                    "confirm_identity"
                };
                self.say_asked(
                    env,
                    out,
                    key,
                    &[("name", &name), ("dob", &dob), ("last4", &number)],
                )
            }
            Phase::AskWhen => self.say_asked(env, out, "ask_when", &[]),
            Phase::Offering => {
                let phrases: Vec<String> =
                    self.offered.iter().map(|s| self.say_slot(env, s)).collect();
                let joined = words::join_list(&phrases, "or");
                self.say_asked(env, out, "offer_many", &[("slots", &joined)])
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
                self.say_asked(
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
                self.say_asked(env, out, "which_appointment", &[("appointments", &joined)])
            }
            Phase::ConfirmCancel => {
                let Some(t) = self.target.clone() else { return };
                let appt = self.say_appt(env, &t);
                self.say_asked(env, out, "confirm_cancel", &[("appointment", &appt)])
            }
            Phase::AskMedication => self.say_asked(env, out, "ask_medication", &[]),
            Phase::AskPharmacy => self.say_asked(env, out, "ask_pharmacy", &[]),
            Phase::AskInsurancePlan => self.say_asked(env, out, "ask_insurance_plan", &[]),
            Phase::OfferNewPatientBooking => {
                self.say_asked(env, out, "offer_new_patient_booking", &[])
            }
            Phase::OfferBookInstead => self.say_asked(env, out, "offer_book_instead", &[]),
            Phase::SameDayOffer => self.say_asked(env, out, "same_day_offer", &[]),
            Phase::OfferCallback => self.say_asked(env, out, "offer_callback", &[]),
            Phase::ConfirmEmergency => self.say_asked(env, out, "confirm_emergency", &[]),
            Phase::ConfirmGoodbye => self.say_asked(env, out, "confirm_goodbye", &[]),
        }
    }

    /// The task is done: "anything else?".
    pub(super) fn anything_else(&mut self, env: &Env, out: &mut Vec<Action>) {
        self.goal = None;
        self.phase = Phase::Open;
        self.say_key(env, out, "anything_else", &[]);
    }

    /// "Sorry?" and the question again, put another way; after three
    /// misses a hand-off: offered while the call is otherwise going well,
    /// else arranged.
    pub(super) fn not_understood(&mut self, env: &Env, out: &mut Vec<Action>) {
        self.failures += 1;
        if self.failures >= MAX_FAILURES {
            self.failures = 0;
            if self.going_well() && self.phase != Phase::OfferCallback && !self.loop_offered {
                self.loop_offered = true;
                self.say_key(env, out, "not_understood_again", &[]);
                self.offer_handoff(env, out);
                return;
            }
            self.say_key(env, out, "too_many_failures", &[]);
            self.start_goal(env, Goal::Escalate(TaskKind::FailedUnderstanding), out);
            return;
        }
        let key = if self.failures > 1 {
            "not_understood_again"
        } else {
            "not_understood"
        };
        self.say_key(env, out, key, &[]);
        self.ask_current(env, out);
    }

    /// Whether the call is otherwise going well: a request under way with
    /// something gathered, or something already done.
    fn going_well(&self) -> bool {
        let gathered = self.name.is_some()
            || self.dob.is_some()
            || self.patient.is_some()
            || self.prefs.when_given
            || self.prefs.type_id.is_some();
        (self.goal.is_some() && gathered) || self.answered_something || self.outcome.is_some()
    }
}

/// "4567" → "4 5 6 7": digits read one by one.
fn spaced(digits: &str) -> String {
    digits
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ")
}
