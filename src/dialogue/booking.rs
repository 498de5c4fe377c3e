//! Booking a visit: the type, the caller's wishes for when, the slot search
//! (relaxed step by step when nothing fits), the read-back and the booking.

use chrono::Duration;

use super::state::{Action, ApptRef, BookFailure, Dialogue, Env, Goal, Phase, Prefs};
use super::words;
use crate::scheduling::{Slot, SlotQuery};
use crate::vocabulary::{Entities, Intent, Outcome, TaskKind};

/// How many days a first search looks ahead.
const FIRST_SEARCH_DAYS: i64 = 14;

impl Dialogue {
    /// The answer to "which type of visit?".
    pub(super) fn on_type_reply(&mut self, env: &Env, out: &mut Vec<Action>) {
        if self.prefs.type_id.is_some() {
            self.advance(env, out);
        } else {
            self.not_understood(env, out);
        }
    }

    /// The answer to "when would you like to come in?".
    pub(super) fn on_when_reply(
        &mut self,
        env: &Env,
        intent: Intent,
        changed: bool,
        out: &mut Vec<Action>,
    ) {
        let yes = intent == Intent::Affirm;
        let no = intent == Intent::Deny;
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

    /// The answer to "shall I book that?" (or move it there).
    pub(super) fn on_slot_confirm_reply(
        &mut self,
        env: &Env,
        intent: Intent,
        changed: bool,
        out: &mut Vec<Action>,
    ) {
        let yes = intent == Intent::Affirm;
        let no = intent == Intent::Deny;
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

    /// The answer to "would you like to book a visit?" (a new patient, or no appointment found).
    pub(super) fn on_booking_offer_reply(
        &mut self,
        env: &Env,
        intent: Intent,
        e: &Entities,
        changed: bool,
        out: &mut Vec<Action>,
    ) {
        let yes = intent == Intent::Affirm;
        let no = intent == Intent::Deny;
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
            // The clinic's own type for a first visit, whatever its id.
            if self.phase == Phase::OfferNewPatientBooking
                && let Some(t) = words::appointment_type_in("new patient", env.clinic)
            {
                self.prefs.type_id = Some(t.id.clone());
            }
            self.start_goal(env, Goal::Book, out);
        } else if no {
            self.goal = None;
            self.anything_else(env, out);
        } else {
            self.not_understood(env, out);
        }
    }

    /// The answer to "another day instead?" after a same-day clash.
    pub(super) fn on_same_day_reply(
        &mut self,
        env: &Env,
        intent: Intent,
        changed: bool,
        out: &mut Vec<Action>,
    ) {
        let yes = intent == Intent::Affirm;
        let no = intent == Intent::Deny;
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

    /// Next step of a booking: type, identity, registration, then a slot.
    pub(super) fn advance_booking(&mut self, env: &Env, out: &mut Vec<Action>) {
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
                confirmed: self.identity_confirmed,
            });
            return;
        }
        self.next_slot_step(env, out);
    }

    /// When, then the chosen slot's read-back, else a search.
    pub(super) fn next_slot_step(&mut self, env: &Env, out: &mut Vec<Action>) {
        if !self.prefs.when_given {
            return self.ask(env, Phase::AskWhen, out);
        }
        if self.chosen.is_some() {
            return self.ask(env, Phase::ConfirmSlot, out);
        }
        self.search(env, out);
    }

    /// Searches slots for the caller's wishes, wider at each `relax` step.
    pub(super) fn search(&mut self, env: &Env, out: &mut Vec<Action>) {
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

    /// Open slots found for the search (`Slots`).
    pub(super) fn on_slots(&mut self, env: &Env, slots: Vec<Slot>, out: &mut Vec<Action>) {
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

    /// Books the confirmed slot (or moves the appointment to it).
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

    /// The booking or the move went through.
    pub(super) fn on_booked(&mut self, env: &Env, a: ApptRef, out: &mut Vec<Action>) {
        let today = env.today();
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

    /// The booking or the move did not go through.
    pub(super) fn on_book_failed(&mut self, env: &Env, f: BookFailure, out: &mut Vec<Action>) {
        let today = env.today();
        match f {
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
        }
    }
}
