//! A date of birth read as the answer to "what is your date of birth?".
//!
//! First the context-free reading ([`dob_from`]); only when it finds no
//! date of birth, the readings that the question alone makes safe:
//! - Whisper's "No" for a spoken "oh" before the digits ("No 621-87.": oh
//!   six twenty one eighty seven);
//! - digits in fewer groups than a date needs ("621 87", "31585"), when
//!   exactly one month-day-year reading exists and no group is cut in two;
//! - the year first ("1987, June 21st", "1987-06-21") or said apart ("June
//!   21st, and the year is 1987", "the 21st of June of 87");
//! - the day before the month without "of" ("21st June 1987").
//!
//! A year alone, or a month and day without a year, is no date of birth:
//! none is invented. The last date said wins.

use chrono::{Datelike, NaiveDate};

use super::super::calendar::{
    SaidDate, digit_groups, group_bounds, meridiem_after, said_dates, split_reading, year_at,
};
use super::super::dob::{MAX_AGE_YEARS, dob_from};
use super::super::lexicon;
use super::super::normalize::{FILLERS, Tok, Utterance};

/// Words Whisper writes for a spoken "oh" that opens the digits.
const OH_MISHEARD: &[&str] = &["no", "know", "now"];

/// Words between a month and day and a year said apart from them.
const BEFORE_YEAR: &[&str] = &[
    "and", "the", "year", "is", "was", "of", "in", "it's", "its", "that's", "born",
];

pub(crate) fn dob_answer_from(u: &Utterance, today: NaiveDate) -> Option<NaiveDate> {
    if let Ok(date) = dob_from(u, today) {
        return Some(date);
    }
    let toks = oh_for_no(&u.toks);
    // (where it was said, the date)
    let mut found: Vec<(usize, NaiveDate)> = Vec::new();
    // Digits said like a date that none can be ("1987 6 21" read month
    // first) are left to the readings below.
    let said: Vec<SaidDate> = said_dates(&toks, today)
        .into_iter()
        .filter(|d| d.month != 0)
        .collect();
    for d in &said {
        let year = d.year.or_else(|| year_apart(&toks, d, today));
        // "21/06/1987": a month that cannot be one, before a day that can,
        // is the day said first.
        let day_first = (d.month > 12 && d.day <= 12).then(|| SaidDate {
            month: d.day,
            day: d.month,
            ..d.clone()
        });
        let date = year.and_then(|y| d.ymd(y).or_else(|| day_first?.ymd(y)));
        if let Some(date) = date {
            found.push((d.start, date));
        }
    }
    let inside_said = |i: usize| said.iter().any(|d| d.start <= i && i < d.end);
    let mut i = 0;
    while i < toks.len() {
        if inside_said(i) {
            i += 1;
            continue;
        }
        if let Some((date, end)) = day_before_month(&toks, i, today) {
            found.push((i, date));
            i = end;
            continue;
        }
        let starts_run = matches!(toks[i], Tok::Num(_)) || toks[i].is_any(&["oh", "o"]);
        if starts_run {
            let (groups, end) = digit_groups(&toks, i);
            if !meridiem_after(&toks, end)
                && let Some(date) = digits_read(&groups, today)
            {
                found.push((i, date));
            }
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    found.sort_by_key(|(at, _)| *at);
    found
        .into_iter()
        .rev()
        .map(|(_, date)| date)
        .find(|date| plausible(*date, today))
}

/// Born by `today`, and not more than the oldest caller's age before it.
fn plausible(date: NaiveDate, today: NaiveDate) -> bool {
    date <= today && today.year() - date.year() <= MAX_AGE_YEARS
}

/// A four-digit year someone alive could be born in.
fn birth_year(group: &str, today: NaiveDate) -> bool {
    group.len() == 4
        && group
            .parse::<i32>()
            .is_ok_and(|y| (today.year() - MAX_AGE_YEARS..=today.year()).contains(&y))
}

/// "No 621-87." → "oh 621 87": a "no" right before the digits, with no
/// number before it (after one it corrects that number).
fn oh_for_no(toks: &[Tok]) -> Vec<Tok> {
    toks.iter()
        .enumerate()
        .map(|(i, t)| {
            let before_digits = matches!(toks.get(i + 1), Some(Tok::Num(_)));
            let after_number = toks[..i]
                .iter()
                .rev()
                .find(|p| !p.is_any(FILLERS))
                .is_some_and(|p| !matches!(p, Tok::Word(_)));
            if t.is_any(OH_MISHEARD) && before_digits && !after_number {
                Tok::Word("oh".into())
            } else {
                t.clone()
            }
        })
        .collect()
}

/// The year of a month and day said without one right after them: said
/// first ("1987, June 21st") or later with words between ("June 21st, and
/// the year is 87").
fn year_apart(toks: &[Tok], d: &SaidDate, today: NaiveDate) -> Option<i32> {
    let mut j = d.end;
    while toks
        .get(j)
        .is_some_and(|t| t.is_any(BEFORE_YEAR) || t.is_any(FILLERS))
    {
        j += 1;
    }
    // "… and the year is 87", "the 21st of June of 87".
    let cue = toks[d.end..j].iter().any(|t| t.is("year"))
        || (j > d.end && toks[j - 1].is_any(&["of", "in"]));
    if let Some((year, used)) = year_at(toks, j, today)
        && (cue || year_words(toks, j, used))
    {
        return Some(year);
    }
    // Said first: a year in four digits (or "19 87") right before.
    let mut k = d.start;
    while k > 0 && toks[k - 1].is_any(FILLERS) {
        k -= 1;
    }
    (k.saturating_sub(2)..k).find_map(|s| {
        let (year, used) = year_at(toks, s, today)?;
        (s + used == k && year_words(toks, s, used)).then_some(year)
    })
}

/// The year at `j` is said whole ("1987", "19 87"), not as two digits that
/// could be anything.
fn year_words(toks: &[Tok], j: usize, used: usize) -> bool {
    used >= 2 || toks.get(j).and_then(Tok::num).is_some_and(|n| n.len() == 4)
}

/// "21st June 1987", "the 21st June, and the year is 87".
fn day_before_month(toks: &[Tok], i: usize, today: NaiveDate) -> Option<(NaiveDate, usize)> {
    let at = usize::from(toks[i].is("the"));
    let Tok::Ord(day) = toks.get(i + at)? else {
        return None;
    };
    let month = toks.get(i + at + 1)?.word().and_then(lexicon::month)?;
    let d = SaidDate {
        start: i,
        end: i + at + 2,
        month,
        day: *day,
        year: None,
    };
    let mut j = d.end;
    while toks.get(j).is_some_and(|t| t.is_any(FILLERS)) {
        j += 1;
    }
    let (year, end) = match year_at(toks, j, today) {
        Some((year, used)) => (year, j + used),
        None => (year_apart(toks, &d, today)?, d.end),
    };
    Some((d.ymd(year)?, end))
}

/// A run of digits read as a date of birth when exactly one reading fits:
/// the year first ("1987 6 21") or last, every group whole within the
/// month, the day or the year ("621 87": 6 | 21 | 87), a four-digit year
/// kept whole, a year alone no date.
fn digits_read(groups: &[&str], today: NaiveDate) -> Option<NaiveDate> {
    let n: usize = groups.iter().map(|g| g.len()).sum();
    let (first, rest) = groups.split_first()?;
    // "19 87 6 21": the year said in two groups.
    let century =
        matches!(*first, "18" | "19" | "20") && rest.first().is_some_and(|g| g.len() == 2);
    let (year, rest) = if century {
        (format!("{first}{}", rest[0]), &rest[1..])
    } else {
        (first.to_string(), rest)
    };
    if birth_year(&year, today) {
        let rest_n: usize = rest.iter().map(|g| g.len()).sum();
        let digits: String = rest.concat();
        let bounds = group_bounds(rest);
        let readings: Vec<NaiveDate> = [(1, 1), (1, 2), (2, 1), (2, 2)]
            .into_iter()
            .filter(|(ml, dl)| ml + dl == rest_n && aligned(&bounds, &[*ml, ml + dl]))
            .filter_map(|(ml, dl)| {
                let month: u32 = digits.get(..ml)?.parse().ok()?;
                let day: u32 = digits.get(ml..ml + dl)?.parse().ok()?;
                NaiveDate::from_ymd_opt(year.parse().ok()?, month, day)
            })
            .collect();
        return only(readings);
    }
    if !(4..=8).contains(&n)
        || groups[..groups.len() - 1]
            .iter()
            .any(|g| birth_year(g, today))
    {
        return None;
    }
    let year_last = groups.last().is_some_and(|g| birth_year(g, today));
    if year_last && groups.len() == 1 {
        return None;
    }
    let digits: String = groups.concat();
    let bounds = group_bounds(groups);
    let readings: Vec<NaiveDate> = [(1, 1, 2), (1, 2, 2), (2, 1, 2), (2, 2, 2)]
        .into_iter()
        .chain([(1, 1, 4), (1, 2, 4), (2, 1, 4), (2, 2, 4)])
        .filter(|&(ml, dl, yl)| ml + dl + yl == n && (!year_last || yl == 4))
        .filter(|&(ml, dl, _)| aligned(&bounds, &[ml, ml + dl, n]))
        .filter_map(|split| {
            let (month, day, year) = split_reading(&digits, split, today)?;
            NaiveDate::from_ymd_opt(year, month, day)
        })
        .collect();
    only(readings)
}

/// Every place the groups meet is a place the fields meet.
fn aligned(bounds: &[usize], fields: &[usize]) -> bool {
    bounds.iter().all(|b| fields.contains(b))
}

/// The one distinct reading, if there is exactly one.
fn only(mut readings: Vec<NaiveDate>) -> Option<NaiveDate> {
    readings.dedup();
    match readings.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}
