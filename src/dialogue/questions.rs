//! Questions answered from the clinic's configuration: hours, location,
//! insurance, new patients. The agent answers the same way whether or not
//! the caller is a patient.

use super::state::{Action, Dialogue, Env, Goal, Phase};
use super::words;
use crate::vocabulary::{Intent, Outcome, TaskKind, Understanding};

impl Dialogue {
    /// The answer to "which plan do you have?".
    pub(super) fn on_insurance_plan_reply(
        &mut self,
        env: &Env,
        text: &str,
        intent: Intent,
        out: &mut Vec<Action>,
    ) {
        let no = intent == Intent::Deny;
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

    /// Answers hours, location, insurance or new patients, then goes back to
    /// the task at hand (or asks what else).
    pub(super) fn answer_faq(
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
