//! When a task is due: the clinic's service level for its priority
//! (`[queue.service_levels]`: urgent 15 minutes, high 2 hours, normal by
//! the close of the next business day unless the clinic says otherwise).

use chrono::{DateTime, Duration, Utc};

use crate::clinic::Clinic;
use crate::clinic::config::ServiceLevel;
use crate::vocabulary::Priority;

/// The instant a task of this priority created at `created_at` is due.
pub fn due_at(clinic: &Clinic, priority: Priority, created_at: DateTime<Utc>) -> DateTime<Utc> {
    let level = match priority {
        Priority::Urgent => clinic.queue.urgent,
        Priority::High => clinic.queue.high,
        Priority::Normal => clinic.queue.normal,
    };
    match level {
        ServiceLevel::Minutes(minutes) => created_at + Duration::minutes(i64::from(minutes)),
        ServiceLevel::NextBusinessDay => next_business_day_close(clinic, created_at)
            // A clinic that never opens: a day, rather than never.
            .unwrap_or(created_at + Duration::days(1)),
    }
}

/// Closing time of the first day after `after`'s local date that the
/// clinic is open (closed weekdays and holidays skipped).
fn next_business_day_close(clinic: &Clinic, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut day = clinic.local(after).date();
    for _ in 0..366 {
        day = day.succ_opt()?;
        if let Some(hours) = clinic.hours_on(day)
            && let Some(close) = clinic.to_utc(day.and_time(hours.end))
        {
            return Some(close);
        }
    }
    None
}

/// Due and not done.
pub fn is_overdue(status: &str, due_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status != "done" && now > due_at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn default_service_levels() {
        let clinic = Clinic::demo(); // New York, Mon–Fri 08:00–17:00
        // Monday 2026-03-16 10:00 EDT.
        let monday = utc("2026-03-16T14:00:00Z");
        assert_eq!(
            due_at(&clinic, Priority::Urgent, monday),
            utc("2026-03-16T14:15:00Z")
        );
        assert_eq!(
            due_at(&clinic, Priority::High, monday),
            utc("2026-03-16T16:00:00Z")
        );
        // Normal: Tuesday's close, 17:00 EDT.
        assert_eq!(
            due_at(&clinic, Priority::Normal, monday),
            utc("2026-03-17T21:00:00Z")
        );
        // Friday evening → Monday's close; Saturday too.
        let friday_night = utc("2026-03-20T23:30:00Z");
        assert_eq!(
            due_at(&clinic, Priority::Normal, friday_night),
            utc("2026-03-23T21:00:00Z")
        );
        let saturday = utc("2026-03-21T15:00:00Z");
        assert_eq!(
            due_at(&clinic, Priority::Normal, saturday),
            utc("2026-03-23T21:00:00Z")
        );
    }

    #[test]
    fn holidays_are_not_business_days() {
        let clinic = Clinic::demo();
        // Thursday 2026-12-24: the next day is Christmas (a holiday), then the weekend.
        let christmas_eve = utc("2026-12-24T15:00:00Z");
        let due = due_at(&clinic, Priority::Normal, christmas_eve);
        assert!(
            clinic
                .holiday(chrono::NaiveDate::from_ymd_opt(2026, 12, 25).unwrap())
                .is_some()
        );
        // Monday 2026-12-28, 17:00 EST.
        assert_eq!(due, utc("2026-12-28T22:00:00Z"));
    }

    #[test]
    fn configured_levels_are_used() {
        let text = format!(
            "{}\n[queue.service_levels]\nurgent = \"5m\"\nnormal = \"4h\"\n",
            crate::clinic::config::DEMO_CLINIC_TOML
        );
        let clinic = Clinic::from_toml_str(&text).unwrap();
        let t = utc("2026-03-16T14:00:00Z");
        assert_eq!(
            due_at(&clinic, Priority::Urgent, t),
            utc("2026-03-16T14:05:00Z")
        );
        assert_eq!(
            due_at(&clinic, Priority::Normal, t),
            utc("2026-03-16T18:00:00Z")
        );
        assert!(is_overdue("open", t, t + Duration::seconds(1)));
        assert!(!is_overdue("claimed", t, t));
        assert!(!is_overdue("done", t, t + Duration::days(3)));
    }
}
