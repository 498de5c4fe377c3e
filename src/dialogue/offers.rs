//! Offering times: two or three real choices, and which one a reply picks.

use chrono::{Duration, NaiveTime, Timelike};

use super::state::{Action, Dialogue, Env, Phase, Prefs};
use super::words;
use crate::scheduling::Slot;
use crate::vocabulary::{Entities, Intent};

impl Dialogue {
    /// Offers two or three of the slots found.
    pub(super) fn offer(&mut self, env: &Env, slots: Vec<Slot>, out: &mut Vec<Action>) {
        let picks = pick_offers(&slots, self.prefs.time);
        if self.relax > 0 {
            self.say_key(env, out, "nothing_then", &[]);
        }
        let phrases: Vec<String> = picks.iter().map(|s| self.say_slot(env, s)).collect();
        self.offered = picks;
        if phrases.len() == 1 {
            self.say_key(env, out, "offer_one", &[("slot", &phrases[0])]);
        } else {
            let joined = words::join_list(&phrases, "or");
            self.say_key(env, out, "offer_many", &[("slots", &joined)]);
        }
        self.phase = Phase::Offering;
    }

    /// Which offer the caller's words pick, if exactly one: by position
    /// ("the second one"), by time ("the 2:30"), or by every detail said
    /// ("the Tuesday one", "the afternoon one").
    pub(super) fn offer_picked(&self, text: &str, e: &Entities) -> Option<usize> {
        let offered = &self.offered;
        let mut pick = words::ordinal_choice(text, offered.len());
        if pick.is_none()
            && let Some(t) = e.time
        {
            let matches: Vec<usize> = (0..offered.len())
                .filter(|&i| offered[i].start_local.time() == t)
                .filter(|&i| e.date.is_none_or(|d| offered[i].start_local.date() == d))
                .collect();
            if matches.len() == 1 {
                pick = Some(matches[0]);
            }
        }
        let described = e.date.is_some() || e.provider.is_some() || e.part_of_day.is_some();
        if pick.is_none() && e.time.is_none() && described {
            // "the Tuesday one", "the afternoon one": every detail said must
            // fit ("Wednesday morning" is no pick among Monday mornings).
            let matches: Vec<usize> = (0..offered.len())
                .filter(|&i| {
                    e.date.is_none_or(|d| offered[i].start_local.date() == d)
                        && e.provider
                            .as_deref()
                            .is_none_or(|p| offered[i].provider_id == p)
                        && e.part_of_day.is_none_or(|p| {
                            crate::scheduling::slots::part_of_day(offered[i].start_local.time())
                                == p
                        })
                })
                .collect();
            if matches.len() == 1 {
                pick = Some(matches[0]);
            }
        }
        pick
    }

    /// The answer to the offered times.
    pub(super) fn on_offer_reply(
        &mut self,
        env: &Env,
        text: &str,
        intent: Intent,
        e: &Entities,
        changed: bool,
        out: &mut Vec<Action>,
    ) {
        let offered = self.offered.clone();
        let mut pick = self.offer_picked(text, e);
        if pick.is_none() && intent == Intent::Affirm && offered.len() == 1 {
            pick = Some(0);
        }
        if let Some(i) = pick {
            self.failures = 0;
            self.chosen = Some(offered[i].clone());
            self.ask(env, Phase::ConfirmSlot, out);
        } else if changed {
            self.search(env, out);
        } else if intent == Intent::Deny {
            self.failures = 0;
            self.prefs = Prefs {
                type_id: self.prefs.type_id.clone(),
                ..Prefs::default()
            };
            self.ask(env, Phase::AskWhen, out);
        } else if intent == Intent::Affirm {
            self.say_key(env, out, "which_one", &[]);
            self.ask_current(env, out);
        } else {
            self.not_understood(env, out);
        }
    }
}

/// Two or three offers: the requested time first, else spread over the
/// day(s) so the caller hears real choices.
fn pick_offers(slots: &[Slot], time: Option<NaiveTime>) -> Vec<Slot> {
    if slots.is_empty() {
        return Vec::new();
    }
    if let Some(t) = time {
        let first_day = slots[0].start_local.date();
        let mut day: Vec<&Slot> = slots
            .iter()
            .filter(|s| s.start_local.date() == first_day)
            .collect();
        let minutes = |s: &Slot| {
            (i64::from(s.start_local.time().num_seconds_from_midnight())
                - i64::from(t.num_seconds_from_midnight()))
            .abs()
        };
        day.sort_by_key(|s| (minutes(s), s.provider_id.clone()));
        let mut picked: Vec<Slot> = Vec::new();
        for s in day {
            if picked.iter().any(|p| p.start_local == s.start_local) {
                continue;
            }
            picked.push(s.clone());
            if picked.len() == 3 {
                break;
            }
        }
        picked.sort_by_key(|s| s.start_local);
        return picked;
    }
    let mut picked: Vec<Slot> = vec![slots[0].clone()];
    for s in slots {
        let last = &picked[picked.len() - 1];
        if s.start_local.date() != last.start_local.date()
            || s.start_local - last.start_local >= Duration::hours(2)
        {
            picked.push(s.clone());
            if picked.len() == 3 {
                break;
            }
        }
    }
    if picked.len() < 2
        && let Some(s) = slots
            .iter()
            .find(|s| s.start_local != picked[0].start_local)
    {
        picked.push(s.clone());
    }
    picked
}
