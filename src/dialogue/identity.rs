//! Who is calling: name, date of birth (spoken or keyed), a callback
//! number. Nothing about a patient is said or changed before name and date
//! of birth match a record.

use chrono::NaiveDate;

use super::state::{Action, Dialogue, Env, Goal, Phase};
use super::words;
use crate::scheduling::SecondFactor;
use crate::vocabulary::{Entities, Intent, TaskKind};

/// Read-backs the caller may reject before the details are taken as heard
/// and left for the front desk to confirm.
const MAX_READ_BACK_DENIALS: u32 = 2;

impl Dialogue {
    /// A keypad digit: 0 asks for staff; while a date of birth or a phone
    /// number is asked, digits build the answer.
    pub(super) fn on_dtmf(&mut self, env: &Env, digit: char, out: &mut Vec<Action>) {
        self.silences = 0;
        let keyed = matches!(
            self.phase,
            Phase::AskDob | Phase::AskPhone | Phase::AskSecondFactor
        );
        if digit == '0' && !keyed {
            self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
            return;
        }
        if !keyed {
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
        if self.phase == Phase::AskSecondFactor {
            match SecondFactor::parse(&digits) {
                Some(f) => self.check_second_factor(f, out),
                None => self.say_key(env, out, "dtmf_second_factor_invalid", &[]),
            }
        } else if self.phase == Phase::AskDob {
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

    /// The answer to "your name?".
    pub(super) fn on_name_reply(
        &mut self,
        env: &Env,
        text: &str,
        intent: Intent,
        out: &mut Vec<Action>,
    ) {
        let no = intent == Intent::Deny;
        if self.name.is_some() {
            self.advance(env, out);
        } else if no || words::refuses(text) {
            self.refused_identity(env, out);
        } else if let Some(Goal::Escalate(kind)) = self.goal
            && self.failures >= 1
        {
            // A callback needs a number more than a name: the second name
            // not heard ("Ben Carter" heard as "Then Carter.") does not end
            // the call in a hand-off for failing to understand; staff
            // confirm the name when they call.
            self.failures = 0;
            self.name_skipped = true;
            self.say_key(env, out, "name_skipped", &[]);
            self.advance_escalation(env, kind, out);
        } else {
            self.not_understood(env, out);
        }
    }

    /// The answer to "your date of birth?".
    pub(super) fn on_dob_reply(
        &mut self,
        env: &Env,
        text: &str,
        intent: Intent,
        e: &Entities,
        out: &mut Vec<Action>,
    ) {
        let no = intent == Intent::Deny;
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

    /// The answer to "your phone number?".
    pub(super) fn on_phone_reply(&mut self, env: &Env, out: &mut Vec<Action>) {
        if self.phone.is_some() {
            self.advance(env, out);
        } else {
            self.not_understood(env, out);
        }
    }

    /// The answer to "may we call you back on the number ending …?".
    pub(super) fn on_caller_number_reply(
        &mut self,
        env: &Env,
        intent: Intent,
        out: &mut Vec<Action>,
    ) {
        let yes = intent == Intent::Affirm;
        let no = intent == Intent::Deny;
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

    /// Name, date of birth and a callback number; false while asking.
    pub(super) fn identity_and_phone(&mut self, env: &Env, out: &mut Vec<Action>) -> bool {
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

    /// The name and date of birth could be a record but not certainly:
    /// the phone number on file or the ZIP code settles it. A second time
    /// in one call (the first did not fit) is the fallback at once.
    pub(super) fn second_factor_needed(&mut self, env: &Env, out: &mut Vec<Action>) {
        if self.second_factor_failed {
            return self.identity_unconfirmed(env, out);
        }
        self.failures = 0;
        self.ask(env, Phase::AskSecondFactor, out);
    }

    /// The answer to "the phone number on file, or your ZIP code?": ten
    /// digits or five, said or keyed.
    pub(super) fn on_second_factor_reply(
        &mut self,
        env: &Env,
        text: &str,
        intent: Intent,
        e: &Entities,
        out: &mut Vec<Action>,
    ) {
        let factor = e
            .phone
            .as_deref()
            .and_then(SecondFactor::parse)
            .or_else(|| SecondFactor::parse(&words::digits_in(text)));
        match factor {
            Some(f) => self.check_second_factor(f, out),
            None if intent == Intent::Deny || words::refuses(text) => {
                self.identity_unconfirmed(env, out)
            }
            None => self.not_understood(env, out),
        }
    }

    fn check_second_factor(&mut self, factor: SecondFactor, out: &mut Vec<Action>) {
        let (Some(name), Some(dob)) = (self.name.clone(), self.dob) else {
            return;
        };
        self.phase = Phase::Waiting;
        out.push(Action::CheckSecondFactor {
            name,
            date_of_birth: dob,
            factor,
        });
    }

    /// A second factor that fits no record, or none given: the words of
    /// "not found", nothing read back, and the usual way on (booking
    /// instead, or for a booking a call back from staff).
    pub(super) fn identity_unconfirmed(&mut self, env: &Env, out: &mut Vec<Action>) {
        self.second_factor_failed = true;
        self.patient = None;
        if self.goal == Some(Goal::Book) {
            self.say_key(env, out, "identity_unconfirmed", &[]);
            self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
        } else {
            self.not_found(env, out);
        }
    }

    /// The answer to "I have …, born …: is that right?" before a new
    /// registration: yes registers; a correction said in the reply is
    /// read back again; a bare no asks name and date of birth again. The
    /// second time the caller says it is wrong, the details are taken as
    /// heard and the front desk is asked to confirm them.
    pub(super) fn on_identity_confirm_reply(
        &mut self,
        env: &Env,
        intent: Intent,
        out: &mut Vec<Action>,
    ) {
        // What the reply said of the details themselves (absorbed already).
        let now = self.name.clone().map(|n| (n, self.dob));
        let corrected = self.read_back.is_some() && now != self.read_back;
        if intent == Intent::Affirm && !corrected {
            self.identity_confirmed = true;
            self.advance(env, out);
            return;
        }
        if !corrected && intent != Intent::Deny {
            return self.not_understood(env, out);
        }
        self.read_back_denials += 1;
        if self.read_back_denials >= MAX_READ_BACK_DENIALS {
            // A name recognition cannot carry over this line ("Aisha" heard
            // as "Asha" again and again): asking once more would loop.
            // Registered as heard (with the correction, if one was said),
            // and the front desk confirms the details with the caller.
            self.say_key(env, out, "identity_as_heard", &[]);
            self.identity_confirmed = true;
            self.details_to_confirm = true;
        } else if corrected {
            // "No, it's Mateo." The new details go through the lookup again.
            self.identity_confirmed = false;
        } else {
            self.say_key(env, out, "correct_identity", &[]);
            self.identity_confirmed = false;
            self.name = None;
            self.dob = None;
            self.dob_month_day = None;
        }
        self.advance(env, out);
    }

    /// The caller will not say who they are: why it is asked, once; then a
    /// callback without it, or an offer of one.
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
}
