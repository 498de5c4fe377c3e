//! The caller's existing appointments: read back, pick one, move it or
//! cancel it. The same words whether the record is missing or has no
//! bookings.

use super::state::{Action, ApptRef, Dialogue, Env, Goal, Phase, Prefs};
use super::words;
use crate::vocabulary::{Entities, Intent, Outcome};

impl Dialogue {
    /// The answer to "which appointment?".
    pub(super) fn on_appointment_choice(
        &mut self,
        env: &Env,
        text: &str,
        e: &Entities,
        out: &mut Vec<Action>,
    ) {
        let list = self.appointments.clone().unwrap_or_default();
        match pick_appointment(&list, text, e) {
            Some(a) => {
                self.target = Some(a);
                self.after_target(env, out);
            }
            None => self.not_understood(env, out),
        }
    }

    /// The answer to "shall I cancel it?".
    pub(super) fn on_cancel_confirm_reply(
        &mut self,
        env: &Env,
        intent: Intent,
        out: &mut Vec<Action>,
    ) {
        let yes = intent == Intent::Affirm;
        let no = intent == Intent::Deny;
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

    /// Next step of a reschedule, cancellation or check: identity, the
    /// caller's appointments, which one, then what to do with it.
    pub(super) fn advance_existing(&mut self, env: &Env, goal: Goal, out: &mut Vec<Action>) {
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
            let items: Vec<String> = list.iter().take(3).map(|a| self.say_appt(env, a)).collect();
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
            let items: Vec<String> = list.iter().take(4).map(|a| self.say_appt(env, a)).collect();
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
            self.prefs.when_given = self.prefs.week.is_some() || self.prefs.part_of_day.is_some();
        }
        self.after_target(env, out);
    }

    /// The appointment is known: confirm a cancellation, or look for a new
    /// time for a move.
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

    /// No appointment found; the same words whether the record is missing or
    /// has no bookings.
    pub(super) fn not_found(&mut self, env: &Env, out: &mut Vec<Action>) {
        // Identical words whether the record is missing or has no bookings.
        self.say_key(env, out, "no_appointment_found", &[]);
        self.phase = Phase::OfferBookInstead;
        self.ask_current(env, out);
    }

    /// The appointment is cancelled.
    pub(super) fn on_cancelled(&mut self, env: &Env, a: ApptRef, out: &mut Vec<Action>) {
        let appt = self.say_appt(env, &a);
        self.say_key(env, out, "cancelled", &[("appointment", &appt)]);
        self.set_outcome(out, Outcome::Cancelled);
        self.target = None;
        self.appointments = None;
        self.anything_else(env, out);
    }
}

/// The appointment the caller's wishes name (its day, and time if two
/// share the day), if any.
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

/// The appointment a reply picks: by position or by every detail said.
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
