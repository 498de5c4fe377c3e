//! Measurement helpers for `benches/conversation.rs` (and `frontdesk bench`):
//! slot search over a 10-provider, 90-day schedule.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::slots::{Busy, SlotQuery, open_slots};
use crate::clinic::Clinic;

/// A clinic with ten full-time providers offering every appointment type.
pub fn ten_provider_clinic() -> Clinic {
    let mut toml = crate::clinic::config::DEMO_CLINIC_TOML
        .split("[[providers]]")
        .next()
        .unwrap_or_default()
        .to_string();
    let ids: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
    for id in &ids {
        toml.push_str(&format!(
            "[[providers]]\nid = \"{id}\"\nname = \"Provider {id}\"\ntitle = \"MD\"\n\
             [providers.schedule]\nmonday = [\"08:00-12:00\", \"13:00-17:00\"]\n\
             tuesday = [\"08:00-12:00\", \"13:00-17:00\"]\nwednesday = [\"08:00-12:00\", \"13:00-19:00\"]\n\
             thursday = [\"08:00-12:00\", \"13:00-17:00\"]\nfriday = [\"08:00-12:00\", \"13:00-16:00\"]\n\n"
        ));
    }
    let list = ids
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ");
    toml.push_str(&format!(
        "[[appointment_types]]\nid = \"follow_up\"\nname = \"follow-up visit\"\nminutes = 15\nproviders = [{list}]\n"
    ));
    Clinic::from_toml_str(&toml).expect("bench clinic is valid")
}

/// Busy time: every provider booked for half of each morning for 90 days.
pub fn busy_schedule(clinic: &Clinic, now: DateTime<Utc>) -> Vec<Busy> {
    let mut out = Vec::new();
    let today = clinic.local(now).date();
    for d in 0..90 {
        let date = today + chrono::Duration::days(d);
        for p in &clinic.providers {
            for h in [8u32, 9, 10, 11] {
                let local = date.and_hms_opt(h, 0, 0).expect("valid");
                if let Some(start) = clinic.to_utc(local) {
                    out.push(Busy {
                        provider_id: p.id.clone(),
                        start,
                        end: start + chrono::Duration::minutes(30),
                    });
                }
            }
        }
    }
    out
}

/// Median time of one full 90-day slot search (no limit) over `iterations` runs.
pub fn slot_search(iterations: u32) -> (Duration, usize) {
    let clinic = ten_provider_clinic();
    let now: DateTime<Utc> = "2026-03-16T13:00:00Z".parse().expect("valid");
    let busy = busy_schedule(&clinic, now);
    let today = clinic.local(now).date();
    let query = SlotQuery {
        type_id: "follow_up".into(),
        provider_id: None,
        from: today,
        to: today + chrono::Duration::days(89),
        part_of_day: None,
        limit: usize::MAX,
    };
    let mut found = 0;
    let mut times = Vec::with_capacity(iterations.max(1) as usize);
    for _ in 0..iterations.max(1) {
        let started = Instant::now();
        found = open_slots(&clinic, &query, &busy, now)
            .map(|s| s.len())
            .unwrap_or(0);
        times.push(started.elapsed());
    }
    // The median shrugs off other load on a shared machine.
    times.sort();
    (times[times.len() / 2], found)
}
