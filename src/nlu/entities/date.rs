//! Appointment dates, resolved against the call's local date `today`.
//!
//! Readings (the ones a US front desk uses; the dialogue reads the date back
//! with its weekday and day of month, so a caller can correct it):
//! - "today", "tomorrow", "the day after tomorrow";
//! - a bare weekday, "on friday", "this friday", "this coming friday": the
//!   first such day after today (never today itself);
//! - "next tuesday": the Tuesday of next week (weeks start on Monday). Said on
//!   a Monday it is eight days away, said on a Saturday three; "this tuesday"
//!   is the near one;
//! - "a week from friday", "friday after next": that Friday plus seven days;
//! - "in three days", "in two weeks", "a week from today", "three days from
//!   now";
//! - "the 14th": the next 14th, today included; months without that day are
//!   skipped;
//! - "june third", "the third of june", "6/3": that day this year; once it
//!   has passed, whichever of this year's (past, so the dialogue can say so)
//!   and next year's is nearer: "march second" said on March 16 is the one
//!   two weeks ago, "january fifth" said in December is next January's. A
//!   future year said ("6/3/2027") is kept;
//! - vague ranges ("sometime next week", "next month") and impossible dates
//!   ("february 30th") give no date.
//!
//! The last date said wins ("friday, no, monday" → Monday).

use chrono::{Datelike, Days, Months, NaiveDate};

use super::calendar::{SaidDate, said_dates};
use super::lexicon;
use super::normalize::{Tok, Utterance};

/// The appointment date in `text`, if one was said.
pub fn parse_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    date_from(&Utterance::new(text), today)
}

/// Nouns after "the first" / "the second" that make it not a date.
const NOT_A_DAY: &[&str] = &[
    "thing",
    "available",
    "appointment",
    "time",
    "one",
    "opening",
    "slot",
    "spot",
    "visit",
    "floor",
    "option",
    "person",
    "doctor",
    "step",
    "place",
    "page",
    "line",
    "number",
];

pub(crate) fn date_from(u: &Utterance, today: NaiveDate) -> Option<NaiveDate> {
    date_with(u, today, true)
}

/// The appointment date in an answer to "what day?": as [`date_from`], and a
/// day of the month said alone ("The 14th." without "the": "14th.") is one.
pub(crate) fn date_answer_from(u: &Utterance, today: NaiveDate) -> Option<NaiveDate> {
    date_from(u, today).or_else(|| {
        let toks = &u.toks;
        toks.iter().enumerate().rev().find_map(|(i, t)| {
            let Tok::Ord(day) = t else { return None };
            let after = toks.get(i + 1);
            let taken = after.is_some_and(|t| {
                t.is_any(NOT_A_DAY) || t.is("of") || t.word().and_then(lexicon::month).is_some()
            });
            let month_before = i > 0 && toks[i - 1].word().and_then(lexicon::month).is_some();
            ((1..=31).contains(day) && !taken && !month_before)
                .then(|| next_day_of_month(today, *day))
                .flatten()
        })
    })
}

/// The relative dates only ("tomorrow", "next friday"), for an answer to
/// "your date of birth?": a calendar date or a day of the month said there
/// is (part of) the birth date, not an appointment.
pub(crate) fn relative_date_from(u: &Utterance, today: NaiveDate) -> Option<NaiveDate> {
    date_with(u, today, false)
}

/// `calendar`: calendar dates and days of the month count.
fn date_with(u: &Utterance, today: NaiveDate, calendar: bool) -> Option<NaiveDate> {
    let toks = &u.toks;
    // (position, date or None for a vague or impossible mention)
    let mut found: Vec<(usize, Option<NaiveDate>)> = Vec::new();
    let said = said_dates(toks, today);
    let inside_said = |i: usize| said.iter().any(|d| d.start <= i && i < d.end);
    // A full date in birth talk is a date of birth, even a wrong one.
    let birth_talk = toks
        .iter()
        .any(|t| t.is_any(&["born", "birth", "birthday", "dob", "birthdate"]));
    for d in &said {
        if !calendar || (birth_talk && d.year.is_some()) {
            continue;
        }
        if let Some(date) = calendar_date(d, today) {
            found.push((d.start, date));
        }
    }
    let mut i = 0;
    while i < toks.len() {
        if inside_said(i) {
            i += 1;
            continue;
        }
        if let Some((date, used)) = relative_at(toks, i, today, calendar) {
            found.push((i, date));
            i += used.max(1);
        } else {
            i += 1;
        }
    }
    // "the 14th, not the 15th".
    found.retain(|(pos, _)| *pos == 0 || !toks[pos - 1].is("not"));
    found.sort_by_key(|(pos, _)| *pos);
    // "Wednesday, March 8th" when Wednesday is the 18th: on a phone line a
    // number is misheard far more often than a weekday, so the weekday wins.
    if let [.., (p1, Some(d1)), (p2, Some(d2))] = found.as_slice()
        && d1 != d2
        && weekday_at(toks, *p1)
        && !weekday_at(toks, *p2)
        && *p2 <= *p1 + 3
    {
        return Some(*d1);
    }
    found.last().and_then(|(_, d)| *d)
}

/// Whether a weekday ("friday", "next friday", "this coming friday") starts at `i`.
fn weekday_at(toks: &[Tok], i: usize) -> bool {
    let day = |k: usize| {
        toks.get(k)
            .and_then(Tok::word)
            .and_then(lexicon::weekday)
            .is_some()
    };
    day(i)
        || (toks.get(i).is_some_and(|t| t.is_any(&["next", "this"])) && (day(i + 1) || day(i + 2)))
}

/// A said calendar date as an appointment date: `None` when it is someone's
/// birthday (a past year), `Some(None)` when it does not exist.
fn calendar_date(d: &SaidDate, today: NaiveDate) -> Option<Option<NaiveDate>> {
    if d.month == 0 {
        return None;
    }
    match d.year {
        Some(y) => {
            let date = d.ymd(y);
            match date {
                Some(date) if date >= today => Some(Some(date)),
                Some(_) => None,
                None => Some(None),
            }
        }
        None => {
            let this_year = d.ymd(today.year());
            let next_year = d.ymd(today.year() + 1);
            Some(match (this_year, next_year) {
                (Some(date), _) if date >= today => Some(date),
                (Some(past), Some(next)) => {
                    if today - past <= next - today {
                        Some(past)
                    } else {
                        Some(next)
                    }
                }
                _ if d.month == 2 && d.day == 29 => next_year,
                (Some(_), None) => next_year,
                (None, _) => None,
            })
        }
    }
}

fn add_days(today: NaiveDate, n: u64) -> Option<NaiveDate> {
    today.checked_add_days(Days::new(n))
}

/// The first `weekday` (0 = Monday) strictly after `today`.
fn first_after(today: NaiveDate, weekday: u32) -> Option<NaiveDate> {
    let now = today.weekday().num_days_from_monday();
    let ahead = (weekday + 7 - now) % 7;
    add_days(today, if ahead == 0 { 7 } else { ahead.into() })
}

/// "next X": X in the week after this one (weeks start on Monday).
fn next_week_day(today: NaiveDate, weekday: u32) -> Option<NaiveDate> {
    let now = today.weekday().num_days_from_monday();
    add_days(today, (7 - now + weekday).into())
}

/// "the 14th": the next 14th from today on, skipping months without one.
fn next_day_of_month(today: NaiveDate, day: u32) -> Option<NaiveDate> {
    let first = today.with_day(1)?;
    (0..13).find_map(|k| {
        let month = first.checked_add_months(Months::new(k))?;
        month.with_day(day).filter(|d| *d >= today)
    })
}

/// A number of units: "3", "a", "one", "a couple of" is vague (None).
fn count_at(toks: &[Tok], i: usize) -> Option<u64> {
    match toks.get(i)? {
        Tok::Num(n) => n.parse().ok().filter(|n: &u64| *n <= 366),
        t if t.is_any(&["a", "an"]) => Some(1),
        _ => None,
    }
}

fn unit_days(t: Option<&Tok>) -> Option<u64> {
    match t?.word()? {
        "day" | "days" => Some(1),
        "week" | "weeks" => Some(7),
        _ => None,
    }
}

/// A relative date starting at token `i`: the date (or `None` when vague or
/// past) and the tokens it covers.
/// `days_of_month`: "the 14th" counts.
fn relative_at(
    toks: &[Tok],
    i: usize,
    today: NaiveDate,
    days_of_month: bool,
) -> Option<(Option<NaiveDate>, usize)> {
    let t = &toks[i];
    let at = |k: usize| toks.get(i + k);
    let is = |k: usize, w: &str| at(k).is_some_and(|t| t.is(w));

    // "the day after tomorrow", "day after tomorrow".
    if t.is("day") && is(1, "after") && is(2, "tomorrow") {
        return Some((add_days(today, 2), 3));
    }
    if t.is("today") || t.is("tonight") {
        return Some((Some(today), 1));
    }
    if t.is("tomorrow") {
        return Some((add_days(today, 1), 1));
    }
    // "in 3 days", "in a week", "in two weeks".
    if t.is("in") && !is(3, "from") {
        if let (Some(n), Some(unit)) = (count_at(toks, i + 1), unit_days(at(2))) {
            return Some((add_days(today, n * unit), 3));
        }
        return None;
    }
    // "a week from friday", "3 days from now", "two weeks from today".
    if let (Some(n), Some(unit)) = (count_at(toks, i), unit_days(at(1))) {
        if is(2, "from") {
            let (base, used) = match at(3) {
                Some(t) if t.is_any(&["today", "now"]) => (Some(today), 1),
                Some(t) if t.is("tomorrow") => (add_days(today, 1), 1),
                Some(t) if t.is_any(&["this", "next"]) => {
                    let wd = at(4).and_then(Tok::word).and_then(lexicon::weekday)?;
                    let base = if t.is("next") {
                        next_week_day(today, wd)
                    } else {
                        first_after(today, wd)
                    };
                    (base, 2)
                }
                Some(t) => (first_after(today, t.word().and_then(lexicon::weekday)?), 1),
                None => return None,
            };
            return Some((base.and_then(|b| add_days(b, n * unit)), 3 + used));
        }
        return None;
    }
    // Vague ranges: "next week", "this week", "next month", "sometime".
    if t.is_any(&["next", "this", "later", "end", "early"])
        && at(1).is_some_and(|t| t.is_any(&["week", "month", "year", "weekend"]))
    {
        return Some((None, 2));
    }
    if t.is("weekend") {
        return Some((None, 1));
    }
    // "next tuesday", "this friday", "this coming friday", "friday after next".
    let (wd_at, next) = if t.is("next") {
        (1, true)
    } else if t.is("this") && is(1, "coming") {
        (2, false)
    } else {
        (0, false)
    };
    if let Some(wd) = at(wd_at).and_then(Tok::word).and_then(lexicon::weekday) {
        if i > 0 && toks[i - 1].is("last") {
            return Some((None, wd_at + 1));
        }
        if is(wd_at + 1, "after") && is(wd_at + 2, "next") {
            return Some((
                first_after(today, wd).and_then(|d| add_days(d, 7)),
                wd_at + 3,
            ));
        }
        let date = if next {
            next_week_day(today, wd)
        } else {
            first_after(today, wd)
        };
        // "monday the 14th": the day of month decides. On a phone line
        // Whisper drops "teen" ("eighteenth" → "8th"): when the teen day is
        // sooner and falls on the weekday said, it is the one meant.
        if let Some((dom, used)) = day_of_month_at(toks, i + wd_at + 1).filter(|_| days_of_month) {
            let said = next_day_of_month(today, dom);
            let teen = (dom < 10)
                .then(|| next_day_of_month(today, dom + 10))
                .flatten()
                .filter(|t| t.weekday().num_days_from_monday() == wd)
                .filter(|t| said.is_none_or(|s| *t < s));
            return Some((teen.or(said), wd_at + 1 + used));
        }
        return Some((date, wd_at + 1));
    }
    // "the 14th", "on the 3rd".
    if let Some((dom, used)) = day_of_month_at(toks, i).filter(|_| days_of_month) {
        return Some((next_day_of_month(today, dom), used));
    }
    None
}

/// "the 14th" (not "the first available"); "the 18" when nothing follows
/// (Whisper drops the "th": "No, the 18.").
fn day_of_month_at(toks: &[Tok], i: usize) -> Option<(u32, usize)> {
    if !toks.get(i)?.is("the") {
        return None;
    }
    let n = match toks.get(i + 1)? {
        Tok::Ord(n) => n,
        Tok::Num(d) if i + 2 == toks.len() && d.len() <= 2 && !d.starts_with('0') => {
            &d.parse::<u32>().ok()?
        }
        _ => return None,
    };
    // "the first one": number words are digits by now, so "one" is `1`.
    let after = toks.get(i + 2);
    if !(1..=31).contains(n) || after.is_some_and(|t| t.is_any(NOT_A_DAY) || t.num() == Some("1")) {
        return None;
    }
    Some((*n, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn relative_and_calendar_forms() {
        // Tuesday, 10 March 2026.
        let today = ymd(2026, 3, 10);
        let d = |m, dd| Some(ymd(2026, m, dd));
        let cases: &[(&str, Option<NaiveDate>)] = &[
            ("tomorrow", d(3, 11)),
            ("Tomorrow morning, if possible.", d(3, 11)),
            ("the day after tomorrow", d(3, 12)),
            ("today", d(3, 10)),
            ("friday", d(3, 13)),
            ("This Friday.", d(3, 13)),
            ("on friday at two", d(3, 13)),
            ("this coming friday", d(3, 13)),
            ("tuesday", d(3, 17)),
            ("wednesday", d(3, 11)),
            ("next tuesday", d(3, 17)),
            ("next wednesday", d(3, 18)),
            ("Next Monday works.", d(3, 16)),
            ("a week from friday", d(3, 20)),
            ("friday after next", d(3, 20)),
            ("a week from today", d(3, 17)),
            ("a week from tomorrow", d(3, 18)),
            ("in three days", d(3, 13)),
            ("In 3 days.", d(3, 13)),
            ("in two weeks", d(3, 24)),
            ("two weeks from today", d(3, 24)),
            ("three days from now", d(3, 13)),
            ("the 14th", d(3, 14)),
            ("The 10th.", d(3, 10)),
            ("the 9th", d(4, 9)),
            ("the thirty first", d(3, 31)),
            ("on the fifth", d(4, 5)),
            ("june third", d(6, 3)),
            ("June 3rd.", d(6, 3)),
            ("the third of june", d(6, 3)),
            ("6/3", d(6, 3)),
            // Yesterday: the dialogue says it has passed.
            ("march ninth", d(3, 9)),
            ("february 20th", d(2, 20)),
            ("monday the 16th", d(3, 16)),
            ("friday, no, monday", d(3, 16)),
            ("I need to move Friday's appointment", d(3, 13)),
            // A misheard day number does not beat the weekday said with it.
            ("Okay, how about Wednesday, March 8th?", d(3, 11)),
            ("Okay, Wednesday the 87.", d(3, 11)),
            ("Tuesday, March 17th", d(3, 17)),
            ("a sick visit once day afternoon", d(3, 11)),
            ("I take it once a day", None),
            ("I need to sit visit one day afternoon", d(3, 11)),
            ("one day I'd like to come in", None),
            ("tomorrow, actually the day after", d(3, 11)),
            // No date.
            ("sometime next week", None),
            ("next week", None),
            ("tomorrow or sometime next week", None),
            ("february thirtieth", None),
            ("the first available appointment", None),
            ("the first one", None),
            ("No, the 18.", d(3, 18)),
            ("the 2 of us", None),
            ("the second one please", None),
            ("first thing in the morning", None),
            ("my date of birth is march 4 1985", None),
            ("3/4/85", None),
            ("at 2:30", None),
            ("I'd like to book an appointment", None),
            ("wait a second", None),
            ("it's been three days", None),
        ];
        let mut bad = Vec::new();
        for (text, want) in cases {
            let got = parse_date(text, today);
            if got != *want {
                bad.push(format!("{text:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn a_passed_month_day_is_the_nearer_one() {
        let today = ymd(2026, 12, 20);
        assert_eq!(parse_date("january 5th", today), Some(ymd(2027, 1, 5)));
        assert_eq!(parse_date("december 1st", today), Some(ymd(2026, 12, 1)));
        assert_eq!(parse_date("june 3rd", today), Some(ymd(2027, 6, 3)));
        assert_eq!(
            parse_date("march second", ymd(2026, 3, 16)),
            Some(ymd(2026, 3, 2))
        );
    }

    #[test]
    fn a_weekday_with_a_day_whose_teen_is_sooner_is_the_teen() {
        let today = ymd(2026, 3, 16); // a Monday
        // Wednesday the 18th heard as "the 8th" (the 8th of April is a
        // Wednesday too, three weeks later).
        assert_eq!(
            parse_date("Wednesday the 8th.", today),
            Some(ymd(2026, 3, 18))
        );
        // Said and meant: the 18th itself, and an 8th once the 18th has
        // passed (the next 18th, in April, is a Saturday).
        assert_eq!(
            parse_date("Wednesday the 18th", today),
            Some(ymd(2026, 3, 18))
        );
        assert_eq!(
            parse_date("Wednesday the 8th", ymd(2026, 3, 20)),
            Some(ymd(2026, 4, 8))
        );
    }

    #[test]
    fn the_31st_skips_short_months() {
        assert_eq!(
            parse_date("the 31st", ymd(2026, 4, 2)),
            Some(ymd(2026, 5, 31))
        );
        assert_eq!(
            parse_date("the 31st", ymd(2026, 12, 31)),
            Some(ymd(2026, 12, 31))
        );
    }
}
