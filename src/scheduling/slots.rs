//! Open slots, computed (purely) from provider schedules, clinic hours,
//! holidays, existing bookings and "now".

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clinic::Clinic;
use crate::clinic::config::{AppointmentType, Provider};
use crate::vocabulary::PartOfDay;

/// A bookable start for one provider and appointment type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub provider_id: String,
    pub type_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The clinic's wall time of `start`.
    pub start_local: NaiveDateTime,
}

/// Time a provider is already taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Busy {
    pub provider_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What to search for; dates are local and inclusive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotQuery {
    pub type_id: String,
    pub provider_id: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub part_of_day: Option<PartOfDay>,
    /// Stop after this many slots (in time order per day, providers merged).
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("unknown appointment type {0:?}")]
    UnknownType(String),
    #[error("unknown provider {0:?}")]
    UnknownProvider(String),
    #[error("provider {provider_id:?} does not offer {type_id:?} appointments")]
    NotOffered {
        provider_id: String,
        type_id: String,
    },
}

pub fn part_of_day(t: NaiveTime) -> PartOfDay {
    let noon = NaiveTime::from_hms_opt(12, 0, 0).expect("valid");
    let five = NaiveTime::from_hms_opt(17, 0, 0).expect("valid");
    if t < noon {
        PartOfDay::Morning
    } else if t < five {
        PartOfDay::Afternoon
    } else {
        PartOfDay::Evening
    }
}

/// The providers a query may use, checked against the configuration.
pub fn providers_for<'c>(
    clinic: &'c Clinic,
    type_id: &str,
    provider_id: Option<&str>,
) -> Result<(&'c AppointmentType, Vec<&'c Provider>), SlotError> {
    let kind = clinic
        .appointment_type(type_id)
        .ok_or_else(|| SlotError::UnknownType(type_id.to_string()))?;
    let providers = match provider_id {
        Some(pid) => {
            let p = clinic
                .provider(pid)
                .ok_or_else(|| SlotError::UnknownProvider(pid.into()))?;
            if !kind.providers.iter().any(|x| x == pid) {
                return Err(SlotError::NotOffered {
                    provider_id: pid.into(),
                    type_id: type_id.into(),
                });
            }
            vec![p]
        }
        None => kind
            .providers
            .iter()
            .filter_map(|pid| clinic.provider(pid))
            .collect(),
    };
    Ok((kind, providers))
}

/// Local start times on `date` at which `provider` could see a `kind`
/// appointment if nobody were booked: on the grid, inside the provider's
/// schedule and the clinic's opening hours, not on a holiday.
pub fn candidate_starts(
    clinic: &Clinic,
    provider: &Provider,
    kind: &AppointmentType,
    date: NaiveDate,
) -> Vec<NaiveTime> {
    let Some(open) = clinic.hours_on(date) else {
        return Vec::new();
    };
    let step = Duration::minutes(i64::from(clinic.slot_minutes));
    let length = Duration::minutes(i64::from(kind.minutes));
    let mut out = Vec::new();
    for range in provider.schedule.on(date.weekday()) {
        let start = range.start.max(open.start);
        let end = range.end.min(open.end);
        // Align to the grid counted from midnight.
        let since_midnight = start.signed_duration_since(NaiveTime::MIN).num_minutes();
        let step_min = i64::from(clinic.slot_minutes);
        let aligned = (since_midnight + step_min - 1) / step_min * step_min;
        let mut t = NaiveTime::MIN + Duration::minutes(aligned);
        while t >= start && t + length <= end && t + length > t {
            out.push(t);
            let next = t + step;
            if next <= t {
                break;
            }
            t = next;
        }
    }
    out
}

/// Open slots matching `query`, earliest first. `busy` may be in any order
/// and may include other providers. Slots starting before
/// `now + min_notice_minutes` are excluded.
pub fn open_slots(
    clinic: &Clinic,
    query: &SlotQuery,
    busy: &[Busy],
    now: DateTime<Utc>,
) -> Result<Vec<Slot>, SlotError> {
    let (kind, providers) = providers_for(clinic, &query.type_id, query.provider_id.as_deref())?;
    let earliest = now + Duration::minutes(i64::from(clinic.min_notice_minutes));
    let length = Duration::minutes(i64::from(kind.minutes));
    // Busy intervals per provider, sorted by start, for binary search.
    let mut per_provider: Vec<Vec<(DateTime<Utc>, DateTime<Utc>)>> = providers
        .iter()
        .map(|p| {
            let mut v: Vec<_> = busy
                .iter()
                .filter(|b| b.provider_id == p.id)
                .map(|b| (b.start, b.end))
                .collect();
            v.sort();
            v
        })
        .collect();
    // Merge overlaps so "the last busy interval starting before t" decides.
    for v in &mut per_provider {
        let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(v.len());
        for &(s, e) in v.iter() {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        *v = merged;
    }
    let mut out = Vec::new();
    let four_am = NaiveTime::from_hms_opt(4, 0, 0).expect("valid");
    let mut day: Vec<(DateTime<Utc>, usize, NaiveDateTime)> = Vec::new();
    let mut date = query.from;
    while date <= query.to && out.len() < query.limit {
        // One timezone lookup per day: clocks change at night, so every time
        // from 4 AM on shares midday's offset. Earlier times convert singly.
        let midday = date.and_time(NaiveTime::from_hms_opt(12, 0, 0).expect("valid"));
        let offset = clinic.to_utc(midday).map(|u| u.naive_utc() - midday);
        // Found starts as (start, provider index, local time): sorted
        // cheaply, turned into `Slot`s (which own strings) only at the end.
        day.clear();
        for (pi, provider) in providers.iter().enumerate() {
            for t in candidate_starts(clinic, provider, kind, date) {
                if let Some(pod) = query.part_of_day
                    && part_of_day(t) != pod
                {
                    continue;
                }
                let local = date.and_time(t);
                let start = match offset {
                    Some(off) if t >= four_am => (local + off).and_utc(),
                    _ => match clinic.to_utc(local) {
                        Some(s) => s,
                        None => continue,
                    },
                };
                if start < earliest {
                    continue;
                }
                let end = start + length;
                let intervals = &per_provider[pi];
                let idx = intervals.partition_point(|(s, _)| *s < end);
                if idx > 0 && intervals[idx - 1].1 > start {
                    continue;
                }
                day.push((start, pi, local));
            }
        }
        // Same start: providers in configuration order.
        day.sort_unstable_by_key(|&(start, pi, _)| (start, pi));
        let room = query.limit.saturating_sub(out.len());
        out.extend(day.iter().take(room).map(|&(start, pi, local)| Slot {
            provider_id: providers[pi].id.clone(),
            type_id: kind.id.clone(),
            start,
            end: start + length,
            start_local: local,
        }));
        match date.succ_opt() {
            Some(d) => date = d,
            None => break,
        }
    }
    out.truncate(query.limit);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn query(type_id: &str, provider: Option<&str>, from: &str, to: &str) -> SlotQuery {
        SlotQuery {
            type_id: type_id.into(),
            provider_id: provider.map(String::from),
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
            part_of_day: None,
            limit: 1000,
        }
    }

    #[test]
    fn slots_follow_schedule_hours_and_grid() {
        let c = Clinic::demo();
        // Monday 2026-03-16, 09:00 EDT = 13:00Z; notice 60 min → first 10:00.
        let now = utc("2026-03-16T13:00:00Z");
        let slots = open_slots(
            &c,
            &query("physical", Some("patel"), "2026-03-16", "2026-03-16"),
            &[],
            now,
        )
        .unwrap();
        let first = &slots[0];
        assert_eq!(
            first.start_local.time(),
            NaiveTime::from_hms_opt(10, 0, 0).unwrap()
        );
        assert_eq!(first.start, utc("2026-03-16T14:00:00Z"));
        // Lunch 12-13 is not in Dr. Patel's schedule; the last 30 min slot is 16:30.
        assert!(slots.iter().all(|s| s.start_local.time()
            < NaiveTime::from_hms_opt(11, 31, 0).unwrap()
            || s.start_local.time() >= NaiveTime::from_hms_opt(13, 0, 0).unwrap()));
        assert_eq!(
            slots.last().unwrap().start_local.time(),
            NaiveTime::from_hms_opt(16, 30, 0).unwrap()
        );
    }

    #[test]
    fn bookings_holidays_and_weekends_remove_slots() {
        let c = Clinic::demo();
        let now = utc("2026-03-13T12:00:00Z");
        let busy = vec![Busy {
            provider_id: "patel".into(),
            start: utc("2026-03-16T12:15:00Z"), // 08:15 local
            end: utc("2026-03-16T12:45:00Z"),
        }];
        let slots = open_slots(
            &c,
            &query("physical", Some("patel"), "2026-03-14", "2026-03-16"),
            &busy,
            now,
        )
        .unwrap();
        // Saturday and Sunday closed.
        assert!(
            slots
                .iter()
                .all(|s| s.start_local.date() == "2026-03-16".parse::<NaiveDate>().unwrap())
        );
        let times: Vec<_> = slots
            .iter()
            .map(|s| s.start_local.time().format("%H:%M").to_string())
            .collect();
        assert_eq!(
            &times[..3],
            &["08:45", "09:00", "09:15"],
            "08:00 overlaps 08:15, 08:15 and 08:30 are taken"
        );
        let xmas = open_slots(
            &c,
            &query("sick_visit", None, "2026-12-25", "2026-12-25"),
            &[],
            now,
        )
        .unwrap();
        assert!(xmas.is_empty());
    }

    #[test]
    fn nothing_in_the_past_and_unknowns_are_errors() {
        let c = Clinic::demo();
        let now = utc("2026-03-17T12:00:00Z");
        let past = open_slots(
            &c,
            &query("sick_visit", None, "2026-03-16", "2026-03-16"),
            &[],
            now,
        )
        .unwrap();
        assert!(past.is_empty());
        assert_eq!(
            open_slots(
                &c,
                &query("massage", None, "2026-03-16", "2026-03-16"),
                &[],
                now
            ),
            Err(SlotError::UnknownType("massage".into()))
        );
        assert!(matches!(
            open_slots(
                &c,
                &query("physical", Some("chen"), "2026-03-16", "2026-03-16"),
                &[],
                now
            ),
            Err(SlotError::NotOffered { .. })
        ));
        let mut q = query("sick_visit", None, "2026-03-18", "2026-03-18");
        q.part_of_day = Some(PartOfDay::Evening);
        let evening = open_slots(&c, &q, &[], now).unwrap();
        assert!(!evening.is_empty(), "Wednesday evening hours");
        assert!(
            evening
                .iter()
                .all(|s| s.start_local.time() >= NaiveTime::from_hms_opt(17, 0, 0).unwrap())
        );
    }
}
