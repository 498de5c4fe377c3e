//! Hand-offs to staff and emergencies: a warm transfer when someone is in,
//! else a task written before the caller hears "someone will call you
//! back"; 911 or 988 at once when an emergency is heard.

use super::state::{Action, Dialogue, Env, Goal, Phase, TaskContext, TaskDraft};
use crate::vocabulary::{AfterSpeech, EmergencyKind, Entities, Hotline, Intent, Outcome, TaskKind};

/// Requests about a patient's care or records: they ask for a date of birth.
pub(super) fn is_clinical(kind: TaskKind) -> bool {
    matches!(
        kind,
        TaskKind::ClinicalQuestion
            | TaskKind::TestResults
            | TaskKind::PrescriptionRefill
            | TaskKind::RecordsRequest
    )
}

impl Dialogue {
    /// The answer to "is this a medical emergency?".
    pub(super) fn on_emergency_confirm_reply(
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
        let held = self.emergency_words.take();
        if yes {
            let said = held.as_ref().map(|(t, _)| t.as_str()).unwrap_or(text);
            self.emergency(env, said, None, out);
            return;
        }
        // Not an emergency: back to where the call was.
        self.phase = self.before_emergency_check;
        self.failures = 0;
        if no {
            // The words that made the agent ask are answered there now
            // ("yes, that's myself" to "is this your best number?").
            self.say_key(env, out, "not_emergency", &[]);
            let said = self.turn_says.len();
            if let Some((words_then, understood)) = held {
                self.heard = self.heard.saturating_sub(1);
                self.on_utterance(env, &words_then, &understood, out);
            }
            if self.turn_says.len() == said && !matches!(self.phase, Phase::Waiting | Phase::Ended)
            {
                self.ask_current(env, out);
            }
        } else {
            // Anything else is an answer where the call was.
            self.in_phase(env, text, intent, e, changed, out);
        }
    }

    /// The answer to "shall someone call you back?".
    pub(super) fn on_callback_offer_reply(
        &mut self,
        env: &Env,
        intent: Intent,
        out: &mut Vec<Action>,
    ) {
        let yes = intent == Intent::Affirm;
        let no = intent == Intent::Deny;
        let resume = self.loop_resume.take();
        if yes {
            self.start_goal(env, Goal::Escalate(TaskKind::Callback), out);
        } else if let (true, Some(phase)) = (no, resume) {
            // Offered because the call went round in circles: carry on,
            // the question put another way.
            self.failures = 0;
            self.phase = phase;
            self.asking = Some((phase, 2));
            self.say_key(env, out, "handoff_declined", &[]);
            self.ask_current(env, out);
        } else if no {
            self.goal = None;
            self.anything_else(env, out);
        } else {
            self.loop_resume = resume;
            self.not_understood(env, out);
        }
    }

    /// The answer to "which medication?".
    pub(super) fn on_medication_reply(
        &mut self,
        env: &Env,
        text: &str,
        intent: Intent,
        out: &mut Vec<Action>,
    ) {
        if self.medication.is_none() && !text.trim().is_empty() && intent != Intent::OutOfScope {
            self.medication = Some(text.trim().chars().take(120).collect());
        }
        if self.medication.is_some() {
            self.advance(env, out);
        } else {
            self.not_understood(env, out);
        }
    }

    /// The answer to "which pharmacy?".
    pub(super) fn on_pharmacy_reply(
        &mut self,
        env: &Env,
        text: &str,
        intent: Intent,
        out: &mut Vec<Action>,
    ) {
        if self.pharmacy.is_none() && !text.trim().is_empty() && intent != Intent::OutOfScope {
            self.pharmacy = Some(text.trim().chars().take(120).collect());
        }
        if self.pharmacy.is_some() {
            self.advance(env, out);
        } else {
            self.not_understood(env, out);
        }
    }

    /// The dialogue's "transfer to a person": when the clinic is open and a
    /// staff member is available (`Env::on_duty`), the caller hears who
    /// they are being put through to and the call ends in a transfer to
    /// that person's phone. The runner makes it happen (the transfer's
    /// task, the carrier); `Transferred` is what the dialogue asks for, the
    /// call's stored outcome says whether anyone answered. Returns whether
    /// it transferred; if not, the hand-off goes on to a callback task.
    pub(super) fn warm_transfer(
        &mut self,
        env: &Env,
        kind: TaskKind,
        out: &mut Vec<Action>,
    ) -> bool {
        let Some(staff) = env.on_duty.filter(|_| env.clinic.is_open_at(env.now)) else {
            return false;
        };
        // Coverage questions need the plan looked up first, not a person now.
        if kind == TaskKind::UnknownInsurance {
            return false;
        }
        let first_name = staff
            .name
            .split_whitespace()
            .next()
            .unwrap_or("a colleague");
        self.say_key(env, out, "transfer", &[("staff_name", first_name)]);
        self.set_outcome(out, Outcome::Transferred);
        self.finish(
            out,
            AfterSpeech::Transfer {
                number: staff.phone.clone(),
            },
        );
        true
    }

    /// The task for the staff member being rung (kind `warm_transfer`):
    /// why the caller is being put through, in the words a callback task
    /// would use, and whom to call back should nobody answer.
    pub fn transfer_task(&self, env: &Env) -> TaskDraft {
        let kind = match self.goal {
            Some(Goal::Escalate(kind)) => kind,
            _ => TaskKind::Callback,
        };
        let summary = self.summary(env, kind);
        self.draft(TaskKind::WarmTransfer, summary, self.callback_number())
    }

    /// The callback task for a call the server ended at its drain deadline
    /// before the conversation reached an outcome: the caller was cut off
    /// mid-business, so the front desk calls back (kind `callback`).
    pub fn shutdown_task(&self) -> TaskDraft {
        let summary = format!(
            "Call ended by server shutdown while the caller was {}, before their \
             request was finished. Please call back to see what they needed.",
            self.doing()
        );
        self.draft(TaskKind::Callback, summary, self.callback_number())
    }

    /// What the caller was doing, for a task's summary (no patient data).
    pub(super) fn doing(&self) -> &'static str {
        match self.goal {
            Some(Goal::Book) => "booking an appointment",
            Some(Goal::Reschedule) => "rescheduling an appointment",
            Some(Goal::Cancel) => "cancelling an appointment",
            Some(Goal::Check) => "asking about an appointment",
            Some(Goal::Escalate(_)) => "asking for a call back",
            None => "calling the clinic",
        }
    }

    /// Next step of a hand-off: who, what and where to call back, then the
    /// task.
    pub(super) fn advance_escalation(&mut self, env: &Env, kind: TaskKind, out: &mut Vec<Action>) {
        if kind != TaskKind::FailedUnderstanding {
            if self.name.is_none() && !self.name_skipped {
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

    /// `kind` is what the NLU's emergency net heard; an emergency the model
    /// alone heard (no kind) gets 911, the safe default.
    pub(super) fn emergency(
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

    /// A task for staff, routed by its kind.
    pub(super) fn draft(
        &self,
        kind: TaskKind,
        summary: String,
        callback_number: Option<String>,
    ) -> TaskDraft {
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
    pub(super) fn summary(&self, env: &Env, kind: TaskKind) -> String {
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
            TaskKind::WarmTransfer => format!("{who} is being put through to the front desk."),
            TaskKind::ConfirmDetails => format!(
                "New patient registered by phone as heard: {who}{}. The caller said the agent's \
                 read-back of their details was wrong twice, so the spelling of the name and the \
                 date of birth need confirming with them.",
                self.dob.map(|d| format!(", born {d}")).unwrap_or_default()
            ),
            TaskKind::Emergency => format!("{who} reported an emergency."),
        };
        let _ = env;
        format!("{body} {reach}")
    }

    /// The task is written (or not): now the caller hears what happens next.
    pub(super) fn on_task_created(&mut self, env: &Env, ok: bool, out: &mut Vec<Action>) {
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
