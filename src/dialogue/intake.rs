//! The opening of a call and what the caller volunteers: every entity is
//! taken whenever it arrives (a name, a date of birth, a wish for a day or
//! a doctor), with a word when it cannot be right.

use chrono::{Datelike, NaiveDate};

use super::state::{Action, Dialogue, Env, Goal, Phase};
use super::words;
use crate::vocabulary::{AfterSpeech, Entities, Intent};

impl Dialogue {
    /// The answer to "how can I help?" or "anything else?".
    pub(super) fn on_open_reply(
        &mut self,
        env: &Env,
        text: &str,
        intent: Intent,
        e: &Entities,
        out: &mut Vec<Action>,
    ) {
        let yes = intent == Intent::Affirm;
        let no = intent == Intent::Deny;
        if no && self.heard == 1 {
            // "No" as the caller's first words answers nothing the agent
            // asked: a goodbye it does not take on trust.
            self.before_goodbye_check = self.phase;
            self.ask(env, Phase::ConfirmGoodbye, out);
        } else if no
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

    /// Takes every entity the caller offered, whenever it arrives; speaks
    /// a note for values that cannot be right. Returns whether the slot
    /// wishes changed.
    pub(super) fn absorb(
        &mut self,
        env: &Env,
        text: &str,
        e: &Entities,
        out: &mut Vec<Action>,
    ) -> bool {
        let today = env.today();
        let verified = self.patient.is_some();
        // The date said is (part of) a date of birth, not a wish.
        let mut date_is_birth = false;
        if !verified {
            // Asked for a name, the caller's words were read as one
            // (`Dialogue::asked`): a bare "Maria Gonzalez" is in the entities.
            if let Some(name) = &e.person_name {
                self.name = Some(name.clone());
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
}
