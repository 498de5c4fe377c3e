//! Holidays asked about by name ("are you open the day after
//! Thanksgiving?", "on Christmas Eve?"): which date the caller means. The
//! clinic file's own holidays are matched by their names first; the common
//! US holidays are known by rule, so a day the clinic stays open is
//! answered with that day's hours rather than the weekly ones.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::words::{normalised, words};
use crate::clinic::Clinic;

/// A holiday the caller named, resolved to its next date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AskedDay {
    pub date: NaiveDate,
    /// How to say the day: "the day after Thanksgiving".
    pub spoken: String,
}

/// The common US holidays: names as callers say them, and their date in a
/// year.
const RULES: &[(&[&str], &str, Rule)] = &[
    (
        &["new year's day", "new years day", "new year's", "new years"],
        "New Year's Day",
        Rule::Fixed(1, 1),
    ),
    (
        &["martin luther king", "mlk day", "mlk"],
        "Martin Luther King Day",
        Rule::Nth(1, Weekday::Mon, 3),
    ),
    (
        &["presidents day", "presidents' day", "president's day"],
        "Presidents' Day",
        Rule::Nth(2, Weekday::Mon, 3),
    ),
    (
        &["memorial day"],
        "Memorial Day",
        Rule::Last(5, Weekday::Mon),
    ),
    (&["juneteenth"], "Juneteenth", Rule::Fixed(6, 19)),
    (
        &[
            "fourth of july",
            "4th of july",
            "july fourth",
            "july 4th",
            "independence day",
        ],
        "the Fourth of July",
        Rule::Fixed(7, 4),
    ),
    (&["labor day"], "Labor Day", Rule::Nth(9, Weekday::Mon, 1)),
    (
        &[
            "columbus day",
            "indigenous peoples day",
            "indigenous peoples' day",
        ],
        "Columbus Day",
        Rule::Nth(10, Weekday::Mon, 2),
    ),
    (
        &["veterans day", "veterans' day", "veteran's day"],
        "Veterans Day",
        Rule::Fixed(11, 11),
    ),
    (
        &["black friday"],
        "the day after Thanksgiving",
        Rule::AfterNth(11, Weekday::Thu, 4, 1),
    ),
    (
        &["thanksgiving"],
        "Thanksgiving",
        Rule::Nth(11, Weekday::Thu, 4),
    ),
    (&["christmas eve"], "Christmas Eve", Rule::Fixed(12, 24)),
    (&["christmas", "xmas"], "Christmas Day", Rule::Fixed(12, 25)),
    (
        &["new year's eve", "new years eve"],
        "New Year's Eve",
        Rule::Fixed(12, 31),
    ),
];

#[derive(Clone, Copy)]
enum Rule {
    Fixed(u32, u32),
    /// The nth weekday of a month.
    Nth(u32, Weekday, u8),
    /// Days after the nth weekday of a month.
    AfterNth(u32, Weekday, u8, i64),
    /// The last weekday of a month.
    Last(u32, Weekday),
}

impl Rule {
    fn in_year(self, year: i32) -> Option<NaiveDate> {
        match self {
            Rule::Fixed(m, d) => NaiveDate::from_ymd_opt(year, m, d),
            Rule::Nth(m, wd, n) => NaiveDate::from_weekday_of_month_opt(year, m, wd, n),
            Rule::AfterNth(m, wd, n, days) => NaiveDate::from_weekday_of_month_opt(year, m, wd, n)
                .map(|d| d + Duration::days(days)),
            Rule::Last(m, wd) => {
                let next = if m == 12 {
                    NaiveDate::from_ymd_opt(year + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(year, m + 1, 1)
                }?;
                let mut d = next - Duration::days(1);
                while d.weekday() != wd {
                    d -= Duration::days(1);
                }
                Some(d)
            }
        }
    }
}

/// The words of a clinic holiday's name that identify it: "Independence
/// Day (observed)" → "independence day"; "Christmas Day" → "christmas".
fn clinic_names(name: &str) -> Vec<String> {
    let w: Vec<String> = words(name)
        .into_iter()
        .filter(|x| !matches!(x.as_str(), "observed" | "the" | "holiday" | "closed"))
        .collect();
    let mut out = vec![w.join(" ")];
    if w.len() > 1 && w.last().is_some_and(|x| x == "day") {
        out.push(w[..w.len() - 1].join(" "));
    }
    out
}

/// The holiday the caller names in `text`, with "the day after" or "the
/// day before" applied, at its next date from `today` (within a year).
pub fn holiday_asked(text: &str, today: NaiveDate, clinic: &Clinic) -> Option<AskedDay> {
    let norm = normalised(text);
    let has = |p: &str| norm.contains(&format!(" {} ", words(p).join(" ")));
    // The clinic's own holidays first: their dates are the clinic's.
    let mut found: Option<(NaiveDate, String, usize)> = None;
    for h in clinic.holidays.iter().filter(|h| h.date >= today) {
        for n in clinic_names(&h.name) {
            if !n.is_empty()
                && has(&n)
                && found
                    .as_ref()
                    .is_none_or(|(d, _, len)| n.len() > *len || (n.len() == *len && h.date < *d))
            {
                found = Some((h.date, h.name.clone(), n.len()));
            }
        }
    }
    // Then the rule for a name the clinic does not list (longest name said
    // wins: "christmas eve" over "christmas").
    let mut best_rule: Option<(NaiveDate, String, usize)> = None;
    for (names, spoken, rule) in RULES {
        for n in *names {
            if has(n) && best_rule.as_ref().is_none_or(|(_, _, len)| n.len() > *len) {
                let date = [today.year(), today.year() + 1]
                    .into_iter()
                    .filter_map(|y| rule.in_year(y))
                    .find(|d| *d >= today)?;
                best_rule = Some((date, spoken.to_string(), n.len()));
            }
        }
    }
    let (date, name) = match (found, best_rule) {
        (Some(c), Some(r)) if r.2 > c.2 => (r.0, r.1),
        (Some(c), _) => (c.0, c.1),
        (None, Some(r)) => (r.0, r.1),
        (None, None) => return None,
    };
    // A clinic holiday named "the day after Thanksgiving" is that day already.
    let relative =
        normalised(&name).contains(" day after ") || normalised(&name).contains(" day before ");
    let (date, spoken) = if relative {
        (date, name)
    } else if has("day after") {
        (date + Duration::days(1), format!("the day after {name}"))
    } else if has("day before") {
        (date - Duration::days(1), format!("the day before {name}"))
    } else {
        (date, name)
    };
    Some(AskedDay { date, spoken })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn holidays_by_name() {
        let clinic = Clinic::demo();
        let today = day(2026, 3, 16);
        let asked = |t: &str| holiday_asked(t, today, &clinic);
        let a = asked("are you open the day after Thanksgiving?").unwrap();
        assert_eq!(a.date, day(2026, 11, 27));
        assert_eq!(a.spoken, "the day after Thanksgiving");
        assert_eq!(
            asked("open on thanksgiving?").unwrap().date,
            day(2026, 11, 26)
        );
        assert_eq!(
            asked("what about Christmas Eve").unwrap().date,
            day(2026, 12, 24)
        );
        assert_eq!(
            asked("are you closed for christmas").unwrap().date,
            day(2026, 12, 25)
        );
        // The clinic's own date wins over the rule: July 3rd observed.
        assert_eq!(
            asked("are you open on independence day").unwrap().date,
            day(2026, 7, 3)
        );
        assert_eq!(asked("black friday?").unwrap().date, day(2026, 11, 27));
        // Past this year's: next year's.
        assert_eq!(asked("new year's day").unwrap().date, day(2027, 1, 1));
        assert_eq!(asked("memorial day").unwrap().date, day(2026, 5, 25));
        assert!(asked("are you open tomorrow").is_none());
        // A clinic that closes the day after Thanksgiving names it so.
        let second = Clinic::load(Some(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/clinics/foothills.toml"
        ))))
        .unwrap();
        let a = holiday_asked("are you open the day after Thanksgiving?", today, &second).unwrap();
        assert_eq!(a.date, day(2026, 11, 27));
        assert!(second.holiday(a.date).is_some());
    }
}
