//! Questions answered from the clinic's configuration: hours (a date, a
//! holiday by name, the weekend), location, parking and accessibility,
//! insurance (a named plan matched against the clinic's insurers), new
//! patients. The agent answers the same way whether or not the caller is a
//! patient.

use chrono::Weekday;

use super::calendar;
use super::cues;
use super::state::{Action, Dialogue, Env, Goal, Phase};
use super::words;
use crate::vocabulary::{Intent, Outcome, TaskKind, Understanding};

/// What the clinic's file says about a plan the caller named.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum PlanAnswer<'c> {
    /// An accepted plan, by its name in the file.
    Accepted(&'c str),
    /// A plan the file says the clinic does not take.
    NotAccepted(String),
    /// An accepted insurer's name with another company's, or a kind of plan
    /// ("Humana Medicare Advantage" where Medicare is accepted): billing
    /// confirms.
    Unsure(String),
    /// A known payer the file does not list.
    Unlisted(String),
    /// No plan named.
    None,
}

/// Words that make a plan a different product from the insurer's name
/// alone (a Medicare Advantage plan is run by a private insurer).
const PLAN_QUALIFIERS: &[&str] = &[
    "advantage",
    "supplement",
    "supplemental",
    "medigap",
    "marketplace",
    "exchange",
    "part c",
];

/// The plan a caller named, as they said it (up to six words, title case).
fn plan_as_said(text: &str, clinic: &crate::clinic::Clinic) -> String {
    let w = words::words(text);
    let mut marks: Vec<&str> = PLAN_QUALIFIERS.to_vec();
    let aliases: Vec<&str> = clinic
        .insurance
        .iter()
        .flat_map(|p| p.aliases.iter().map(String::as_str))
        .chain(clinic.insurance_not_accepted.iter().map(String::as_str))
        .collect();
    marks.extend(aliases.iter().copied());
    let payer = words::known_payer_in(text).map(|p| p.to_lowercase());
    if let Some(p) = &payer {
        marks.push(p.as_str());
    }
    let hits: Vec<usize> = w
        .iter()
        .enumerate()
        .filter(|(_, x)| marks.iter().any(|m| words::words(m).contains(x)))
        .map(|(i, _)| i)
        .collect();
    let (Some(&a), Some(&b)) = (hits.first(), hits.last()) else {
        return text.trim().chars().take(80).collect();
    };
    w[a..=b.min(a + 5)]
        .iter()
        .map(|x| words::capitalised(x))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Matches the plan a caller named against the clinic's insurers.
pub(super) fn plan_answer<'c>(text: &str, clinic: &'c crate::clinic::Clinic) -> PlanAnswer<'c> {
    let accepted = words::accepted_plan_in(text, clinic);
    let declined = clinic
        .insurance_not_accepted
        .iter()
        .any(|p| words::any_phrase(text, &[p.as_str()]));
    let payer = words::known_payer_in(text);
    // The aliases of the accepted plan that were said: another insurer's
    // name beside them makes it another company's plan.
    let said_aliases: Vec<&str> = clinic
        .insurance
        .iter()
        .flat_map(|p| p.aliases.iter())
        .filter(|a| words::any_phrase(text, &[a.as_str()]))
        .map(String::as_str)
        .collect();
    let other_payer = words::known_payer_names_in(text)
        .into_iter()
        .find(|p| !said_aliases.iter().any(|a| words::any_phrase(a, &[p])));
    let listed_qualifier = |q: &str| {
        clinic
            .insurance
            .iter()
            .any(|p| p.aliases.iter().any(|a| a.contains(q)))
    };
    let qualified = PLAN_QUALIFIERS
        .iter()
        .any(|q| words::any_phrase(text, &[q]) && !listed_qualifier(q));
    match accepted {
        Some(name) if other_payer.is_none() && !qualified && !declined => {
            PlanAnswer::Accepted(name)
        }
        Some(_) => PlanAnswer::Unsure(plan_as_said(text, clinic)),
        None if declined => PlanAnswer::NotAccepted(plan_as_said(text, clinic)),
        None => match payer {
            Some(p) => PlanAnswer::Unlisted(p),
            None => PlanAnswer::None,
        },
    }
}

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
        match plan_answer(text, env.clinic) {
            PlanAnswer::None
                if no || words::any_phrase(text, &["don't know", "not sure", "no idea"]) =>
            {
                self.say_key(env, out, "insurance_unsure", &[]);
                self.anything_else(env, out);
            }
            PlanAnswer::None if intent == Intent::OutOfScope => self.not_understood(env, out),
            PlanAnswer::None => {
                self.insurance_plan = Some(text.trim().chars().take(80).collect());
                self.start_goal(env, Goal::Escalate(TaskKind::UnknownInsurance), out);
            }
            answer => {
                if self.answer_plan(env, answer, out) {
                    self.anything_else(env, out);
                }
            }
        }
    }

    /// Says what the clinic's file says about a named plan; false when a
    /// billing check was started instead (the call goes on from there).
    fn answer_plan(&mut self, env: &Env, answer: PlanAnswer, out: &mut Vec<Action>) -> bool {
        self.answered_something = true;
        match answer {
            PlanAnswer::Accepted(plan) => {
                self.set_outcome(out, Outcome::Answered);
                self.say_key(env, out, "insurance_yes", &[("plan", plan)]);
                true
            }
            PlanAnswer::NotAccepted(plan) => {
                self.set_outcome(out, Outcome::Answered);
                self.say_key(env, out, "insurance_no", &[("plan", &plan)]);
                true
            }
            PlanAnswer::Unsure(plan) => {
                // Not a guess either way: billing confirms and calls back.
                self.insurance_plan = Some(plan.clone());
                self.say_key(env, out, "insurance_confirm", &[("plan", &plan)]);
                self.goal = Some(Goal::Escalate(TaskKind::UnknownInsurance));
                self.failures = 0;
                self.advance(env, out);
                false
            }
            PlanAnswer::Unlisted(plan) => {
                self.insurance_plan = Some(plan);
                self.start_goal(env, Goal::Escalate(TaskKind::UnknownInsurance), out);
                false
            }
            PlanAnswer::None => true,
        }
    }

    /// Hours on a date, a holiday asked by name, the weekend, or the week.
    fn answer_hours(&mut self, env: &Env, text: &str, u: &Understanding, out: &mut Vec<Action>) {
        let today = env.today();
        let holiday = calendar::holiday_asked(text, today, env.clinic);
        let date = holiday
            .as_ref()
            .map(|h| h.date)
            .or(u.entities.date.filter(|d| *d != today));
        if let Some(d) = date {
            let day = match &holiday {
                Some(h) => format!("{}, {}", h.spoken, words::say_date(d, today)),
                None => words::say_date(d, today),
            };
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
            return;
        }
        if cues::asks_weekend(text) {
            for wd in [Weekday::Sat, Weekday::Sun] {
                let name = words::weekday_name(wd);
                match env.clinic.hours.on(wd).first() {
                    Some(r) => {
                        let (o, c) = (words::say_time(r.start), words::say_time(r.end));
                        self.say_key(
                            env,
                            out,
                            "hours_weekday",
                            &[("day", name), ("open", &o), ("close", &c)],
                        )
                    }
                    None => self.say_key(env, out, "closed_weekday", &[("day", name)]),
                }
            }
            return;
        }
        let week = words::say_week_hours(env.clinic);
        self.say_key(env, out, "hours_week", &[("hours", &week)]);
        let closed: Vec<String> = (0..7u8)
            .filter_map(|i| Weekday::try_from(i).ok())
            .filter(|wd| env.clinic.hours.on(*wd).is_empty())
            .map(|wd| format!("{}s", words::weekday_name(wd)))
            .collect();
        if !closed.is_empty() {
            let days = words::join_list(&closed, "and");
            self.say_key(env, out, "closed_days", &[("days", &days)]);
        }
        let (key, value) = words::say_today_hours(env.clinic, env.now);
        let v = value.unwrap_or_default();
        self.say_key(
            env,
            out,
            &format!("hours_today_{key}"),
            &[("time", &v), ("holiday", &v)],
        );
    }

    /// The address, or parking, or accessibility, as asked.
    fn answer_place(&mut self, env: &Env, text: &str, out: &mut Vec<Action>) {
        let address = &env.clinic.address;
        let parking = cues::asks_parking(text);
        let access = cues::asks_accessibility(text);
        let asks_where = words::any_phrase(
            text,
            &[
                "where are you",
                "where you are",
                "where is the",
                "where's the",
                "where is your",
                "where's your",
                "address",
                "located",
                "location",
                "directions",
                "how do i get",
                "how to get",
                "find you",
            ],
        );
        if asks_where || (!parking && !access) {
            let line = address.one_line();
            self.say_key(env, out, "location", &[("address", &line)]);
            if !parking && !access && !address.directions.is_empty() {
                let d = address.directions.clone();
                self.say(out, d);
            }
        }
        if parking {
            if address.parking.is_empty() {
                self.say_key(env, out, "parking_unknown", &[]);
            } else {
                let p = address.parking.clone();
                self.say(out, p);
            }
        }
        if access {
            if address.accessibility.is_empty() {
                self.say_key(env, out, "accessibility_unknown", &[]);
            } else {
                let a = address.accessibility.clone();
                self.say(out, a);
            }
        }
    }

    /// Answers hours, location, insurance or new patients, then goes back to
    /// the task at hand (once: the same question again there is an answer)
    /// or asks what else.
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
            Intent::OfficeHours => self.answer_hours(env, text, u, out),
            Intent::Location => self.answer_place(env, text, out),
            Intent::Insurance => match plan_answer(text, env.clinic) {
                PlanAnswer::None => {
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
                answer => {
                    if !self.answer_plan(env, answer, out) {
                        return;
                    }
                }
            },
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
            self.faq_in = Some((self.phase, intent));
            self.say_key(env, out, "back_to_it", &[]);
            self.ask_current(env, out);
        } else {
            self.anything_else(env, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clinic::Clinic;

    #[test]
    fn named_plans_against_the_clinics_insurers() {
        let c = Clinic::demo();
        assert_eq!(
            plan_answer("do you take blue cross", &c),
            PlanAnswer::Accepted("Blue Cross Blue Shield")
        );
        assert_eq!(
            plan_answer("I have Humana Medicare Advantage", &c),
            PlanAnswer::Unsure("Humana Medicare Advantage".into())
        );
        assert_eq!(
            plan_answer("is Medicare Advantage ok", &c),
            PlanAnswer::Unsure("Medicare Advantage".into())
        );
        assert_eq!(
            plan_answer("do you take humana", &c),
            PlanAnswer::Unlisted("Humana".into())
        );
        assert_eq!(plan_answer("do you take insurance", &c), PlanAnswer::None);
        let with_declined = crate::clinic::config::DEMO_CLINIC_TOML.replacen(
            "[address]",
            "insurance_not_accepted = [\"Kaiser\"]\n\n[address]",
            1,
        );
        let c = Clinic::from_toml_str(&with_declined).unwrap();
        assert_eq!(
            plan_answer("do you accept kaiser permanente", &c),
            PlanAnswer::NotAccepted("Kaiser".into())
        );
    }
}
