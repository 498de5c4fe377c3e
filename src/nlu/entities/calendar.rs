//! Calendar dates as said (month, day, maybe a year), shared by the date of
//! birth parser (which wants a year) and the appointment date parser (which
//! mostly gets none). US order: month before day.

use chrono::{Datelike, NaiveDate};

use super::lexicon;
use super::normalize::{FILLERS, Tok};

/// One calendar date said in the utterance, at tokens `start..end`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SaidDate {
    pub start: usize,
    pub end: usize,
    pub month: u32,
    pub day: u32,
    /// Four-digit year, after the two-digit rule.
    pub year: Option<i32>,
}

impl SaidDate {
    /// `None` when the date does not exist (February 30th).
    pub(crate) fn ymd(&self, year: i32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(year, self.month, self.day)
    }
}

/// Two-digit years: 20xx up to this year's last two digits, else 19xx.
pub(crate) fn expand_year(yy: i32, today: NaiveDate) -> i32 {
    if yy <= today.year() % 100 {
        2000 + yy
    } else {
        1900 + yy
    }
}

/// A day of the month: "4th", "the 4th", "4".
fn day_at(toks: &[Tok], i: usize) -> Option<(u32, usize)> {
    let (i, skipped) = if toks.get(i).is_some_and(|t| t.is("the")) {
        (i + 1, 1)
    } else {
        (i, 0)
    };
    let day = match toks.get(i)? {
        Tok::Ord(n) => *n,
        Tok::Num(n) if n.len() <= 2 => n.parse().ok()?,
        _ => return None,
    };
    (1..=31).contains(&day).then_some((day, skipped + 1))
}

/// A year after a month and day: "1985", "85", "19 85", "20 oh 5", "oh 5".
/// Returns the four-digit year and the tokens used.
pub(crate) fn year_at(toks: &[Tok], i: usize, today: NaiveDate) -> Option<(i32, usize)> {
    let is_oh = |t: Option<&Tok>| t.is_some_and(|t| t.is_any(&["oh", "o"]));
    let first = toks.get(i)?;
    if is_oh(Some(first)) {
        let d = toks.get(i + 1)?.num().filter(|d| d.len() == 1)?;
        return Some((expand_year(d.parse().ok()?, today), 2));
    }
    let n = first.num()?;
    match n.len() {
        4 => {
            let y: i32 = n.parse().ok()?;
            (1850..=2150).contains(&y).then_some((y, 1))
        }
        2 => {
            let century: i32 = n.parse().ok()?;
            if (18..=20).contains(&century) {
                if let Some(rest) = toks.get(i + 1).and_then(Tok::num).filter(|r| r.len() == 2) {
                    return Some((century * 100 + rest.parse::<i32>().ok()?, 2));
                }
                if is_oh(toks.get(i + 1))
                    && let Some(d) = toks.get(i + 2).and_then(Tok::num).filter(|d| d.len() == 1)
                {
                    return Some((century * 100 + d.parse::<i32>().ok()?, 3));
                }
            }
            Some((expand_year(n.parse().ok()?, today), 1))
        }
        _ => None,
    }
}

fn skip_fillers(toks: &[Tok], mut i: usize) -> usize {
    while toks.get(i).is_some_and(|t| t.is_any(FILLERS)) {
        i += 1;
    }
    i
}

/// Every calendar date said in `toks`, in order.
pub(crate) fn said_dates(toks: &[Tok], today: NaiveDate) -> Vec<SaidDate> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some(d) = said_date_at(toks, i, today) {
            i = d.end;
            out.push(d);
        } else {
            i += 1;
        }
    }
    out
}

fn with_year(toks: &[Tok], mut d: SaidDate, today: NaiveDate) -> SaidDate {
    let j = skip_fillers(toks, d.end);
    if let Some((y, used)) = year_at(toks, j, today) {
        d.year = Some(y);
        d.end = j + used;
    }
    d
}

fn said_date_at(toks: &[Tok], i: usize, today: NaiveDate) -> Option<SaidDate> {
    let t = &toks[i];
    // "march fourth (nineteen eighty five)", "march the 4th".
    if let Some(month) = t.word().and_then(lexicon::month) {
        let (day, used) = day_at(toks, i + 1)?;
        let d = SaidDate {
            start: i,
            end: i + 1 + used,
            month,
            day,
            year: None,
        };
        return Some(with_year(toks, d, today));
    }
    // "the fourth of march (eighty five)".
    if t.is("the") || matches!(t, Tok::Ord(_)) {
        let (day, used) = day_at(toks, i)?;
        let j = i + used;
        if toks.get(j).is_some_and(|t| t.is("of"))
            && let Some(month) = toks.get(j + 1).and_then(Tok::word).and_then(lexicon::month)
        {
            let d = SaidDate {
                start: i,
                end: j + 2,
                month,
                day,
                year: None,
            };
            return Some(with_year(toks, d, today));
        }
        return None;
    }
    // "3/4/85", "6/3".
    if let Tok::Slash(parts) = t {
        let month: u32 = parts[0].parse().ok()?;
        let day: u32 = parts[1].parse().ok()?;
        let year = match parts.get(2) {
            Some(y) if y.len() == 4 => Some(y.parse().ok()?),
            Some(y) => Some(expand_year(y.parse().ok()?, today)),
            None => None,
        };
        return Some(SaidDate {
            start: i,
            end: i + 1,
            month,
            day,
            year,
        });
    }
    if matches!(t, Tok::Num(_)) || t.is_any(&["oh", "o"]) {
        return digit_run_date(toks, i, today);
    }
    None
}

/// A date said as digits only: "oh three oh four eighty five", "0 6 21 87",
/// "Oh 621-87.", "03041985". Needs three or more groups or six or eight
/// digits, so times ("2 30") and short numbers are left alone.
fn digit_run_date(toks: &[Tok], i: usize, today: NaiveDate) -> Option<SaidDate> {
    if i > 0 && toks[i - 1].is_any(&["at", "around", "about", "by"]) {
        return None;
    }
    let (groups, j) = digit_groups(toks, i);
    let n: usize = groups.iter().map(|g| g.len()).sum();
    // "3 4 85" is a date; "1 2 1 3" (digits one by one) is not.
    let last_len = groups.last().map_or(0, |g| g.len());
    let shaped = (groups.len() >= 3 && (4..=8).contains(&n) && last_len >= 2) || n == 6 || n == 8;
    if !shaped || meridiem_after(toks, j) {
        return None;
    }
    let digits: String = groups.concat();
    let bounds = group_bounds(&groups);
    let mut best: Option<(usize, SaidDate)> = None;
    for (ml, dl, yl) in SPLITS {
        if ml + dl + yl != n {
            continue;
        }
        let Some((month, day, year)) = split_reading(&digits, (ml, dl, yl), today) else {
            continue;
        };
        let score = [ml, ml + dl].iter().filter(|c| bounds.contains(c)).count();
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((
                score,
                SaidDate {
                    start: i,
                    end: j,
                    month,
                    day,
                    year: Some(year),
                },
            ));
        }
    }
    match best {
        Some((_, d)) => Some(d),
        // Said like a date but no reading exists ("13 45 90"): keep it so the
        // caller can be told the date was not understood.
        None if groups.len() >= 3 && n <= 8 => Some(SaidDate {
            start: i,
            end: j,
            month: 0,
            day: 0,
            year: Some(0),
        }),
        None => None,
    }
}

/// How month, day and year digits can split a run, in order of preference.
const SPLITS: [(usize, usize, usize); 8] = [
    (2, 2, 2),
    (1, 2, 2),
    (2, 1, 2),
    (1, 1, 2),
    (2, 2, 4),
    (1, 2, 4),
    (2, 1, 4),
    (1, 1, 4),
];

/// The digit groups of a run said from `i` ("oh" as 0, fillers skipped, an
/// "oh" that ends the run dropped as a sigh) and where the run ends.
pub(super) fn digit_groups(toks: &[Tok], i: usize) -> (Vec<&str>, usize) {
    let mut groups: Vec<&str> = Vec::new();
    let mut j = i;
    while let Some(t) = toks.get(j) {
        match t {
            Tok::Num(n) => groups.push(n),
            Tok::Word(w) if w == "oh" || w == "o" => groups.push("0"),
            Tok::Word(w) if FILLERS.contains(&w.as_str()) => {}
            _ => break,
        }
        j += 1;
    }
    // An "oh" that ends the run is a sigh.
    while groups.last() == Some(&"0") && toks[j - 1].is_any(&["oh", "o"]) {
        groups.pop();
        j -= 1;
    }
    (groups, j)
}

/// "am", "pm", "o'clock" at `j`: the digits before are a time.
pub(super) fn meridiem_after(toks: &[Tok], j: usize) -> bool {
    toks.get(j)
        .is_some_and(|t| t.is_any(&["am", "pm", "o'clock", "oclock"]))
}

/// Where the groups meet (the digit offsets after each group): a split of
/// the digits on these is how the date was said.
pub(super) fn group_bounds(groups: &[&str]) -> Vec<usize> {
    groups
        .iter()
        .scan(0, |at, g| {
            *at += g.len();
            Some(*at)
        })
        .collect()
}

/// Month, day and four-digit year of `digits` split as `(ml, dl, yl)`, when
/// that date exists.
pub(super) fn split_reading(
    digits: &str,
    (ml, dl, yl): (usize, usize, usize),
    today: NaiveDate,
) -> Option<(u32, u32, i32)> {
    let month: u32 = digits.get(..ml)?.parse().ok()?;
    let day: u32 = digits.get(ml..ml + dl)?.parse().ok()?;
    let yy: i32 = digits.get(ml + dl..ml + dl + yl)?.parse().ok()?;
    let year = if yl == 4 { yy } else { expand_year(yy, today) };
    if yl == 4 && !(1850..=2150).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)?;
    Some((month, day, year))
}
