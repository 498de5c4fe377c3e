//! Clock times and parts of the day.
//!
//! Times come spoken ("two thirty pm", "quarter past two", "ten till five",
//! "noon") or as Whisper writes them ("2:30 p.m.", "3 in the afternoon"),
//! including its mishearings of hour words ("free in the afternoon" for
//! three). Without am/pm, bare hours follow clinic hours: 7–11 are morning,
//! 12 is noon, 1–6 are afternoon. "after 3" / "before 10" are bounds, not
//! times, and give none. The last time said wins.
//!
//! A part of the day ("first thing in the morning", "after lunch") is kept
//! only when no clock time was said.

use chrono::{NaiveTime, TimeDelta};

use super::normalize::{FILLERS, Tok, Utterance};
use crate::vocabulary::PartOfDay;

/// The clock time in `text`, if one was said.
pub fn parse_time(text: &str) -> Option<NaiveTime> {
    time_from(&Utterance::new(text))
}

/// The part of the day in `text`, only when no clock time was said.
pub fn parse_part_of_day(text: &str) -> Option<PartOfDay> {
    let u = Utterance::new(text);
    match time_from(&u) {
        Some(_) => None,
        None => part_of_day_from(&u),
    }
}

/// Words Whisper writes for an hour word it misheard on a phone line.
const MISHEARD_HOURS: &[(&str, u32)] = &[
    ("free", 3),
    ("tree", 3),
    ("for", 4),
    ("fore", 4),
    ("won", 1),
    ("ate", 8),
    ("tin", 10),
];

/// Misheard hour words that also read as "in the afternoon"-style phrases
/// ("free in the afternoon"); the others need "pm" or "o'clock" after them.
const MISHEARD_WITH_PHRASE: &[&str] = &["free", "tree"];

/// Words that make a misheard hour word what it looks like ("are you free in
/// the afternoon").
const NOT_BEFORE_MISHEARD: &[&str] = &[
    "are", "you're", "be", "i'm", "im", "am", "is", "we're", "they're", "anyone", "someone",
    "somebody", "anything", "you", "i", "we", "they", "he", "she", "it", "was", "were", "been",
    "come", "go", "in", "back", "up", "down", "out", "get", "talk", "speak", "need", "want",
];

/// Words after a number that make it a count, not an hour.
const UNITS: &[&str] = &[
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "minute",
    "minutes",
    "hour",
    "hours",
    "time",
    "times",
    "pill",
    "pills",
    "mg",
    "milligrams",
    "tablets",
    "people",
    "of",
    "kids",
    "children",
    "percent",
    "dollars",
    "bucks",
    "refills",
    "doses",
    "units",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Meridiem {
    Am,
    Pm,
}

/// am/pm said at `i`: "pm", "in the afternoon", "at night", "tonight".
fn meridiem_at(toks: &[Tok], i: usize) -> Option<(Meridiem, usize)> {
    let t = toks.get(i)?;
    let is = |k: usize, w: &str| toks.get(i + k).is_some_and(|t| t.is(w));
    if t.is("am") {
        return Some((Meridiem::Am, 1));
    }
    if t.is("pm") {
        return Some((Meridiem::Pm, 1));
    }
    if t.is_any(&["in", "this"]) {
        let k = if t.is("in") && is(1, "the") { 2 } else { 1 };
        return match toks.get(i + k).and_then(Tok::word) {
            Some("morning") => Some((Meridiem::Am, k + 1)),
            Some("afternoon" | "evening") => Some((Meridiem::Pm, k + 1)),
            _ => None,
        };
    }
    if t.is("at") && is(1, "night") {
        return Some((Meridiem::Pm, 2));
    }
    if t.is("tonight") {
        return Some((Meridiem::Pm, 1));
    }
    None
}

fn oclock(t: Option<&Tok>) -> bool {
    t.is_some_and(|t| t.is_any(&["o'clock", "oclock"]))
}

/// An hour said at `i` as digits (1–24), with the tokens used.
fn hour_at(toks: &[Tok], i: usize) -> Option<u32> {
    let n = toks.get(i)?.num()?;
    let h: u32 = n.parse().ok()?;
    (n.len() <= 2 && h <= 24).then_some(h)
}

/// Minutes after an hour: "30", "oh 5", "05".
fn minutes_at(toks: &[Tok], i: usize) -> Option<(u32, usize)> {
    let t = toks.get(i)?;
    if t.is_any(&["oh", "o"]) {
        let d = toks.get(i + 1)?.num().filter(|d| d.len() == 1)?;
        return Some((d.parse().ok()?, 2));
    }
    let n = t.num().filter(|n| n.len() == 2)?;
    let m: u32 = n.parse().ok()?;
    (m <= 59).then_some((m, 1))
}

/// Clinic-hours reading of an hour, or the meridiem said.
fn to_24h(hour: u32, minute: u32, m: Option<Meridiem>) -> Option<NaiveTime> {
    let h = match (hour, m) {
        (0, _) => 0,
        (13..=24, _) => hour % 24,
        (12, Some(Meridiem::Am)) => 0,
        (12, _) => 12,
        (h, Some(Meridiem::Am)) => h,
        (h, Some(Meridiem::Pm)) => h + 12,
        (h @ 7..=11, None) => h,
        (h, None) => h + 12,
    };
    NaiveTime::from_hms_opt(h, minute, 0)
}

pub(crate) fn time_from(u: &Utterance) -> Option<NaiveTime> {
    time_with(u, false)
}

/// The time in an answer to "what time?" (or "what day?"): as
/// [`time_from`], and an hour said bare ("Four.", "maybe ten") is one, read
/// in clinic hours.
pub(crate) fn time_answer_from(u: &Utterance) -> Option<NaiveTime> {
    time_with(u, true)
}

fn time_with(u: &Utterance, bare_hours: bool) -> Option<NaiveTime> {
    let toks = &u.toks;
    // Digits of a date with a year ("oh eight, oh two, oh three") are no
    // time. Which tokens form a date does not depend on the reference date.
    let dates: Vec<_> = super::calendar::said_dates(toks, chrono::NaiveDate::MIN)
        .into_iter()
        .filter(|d| d.year.is_some())
        .map(|d| d.start..d.end)
        .collect();
    // "Tuesday evening at 7": the evening said anywhere makes a bare hour pm.
    let bias = (part_of_day_from(u) == Some(PartOfDay::Evening)).then_some(Meridiem::Pm);
    let mut found: Option<NaiveTime> = None;
    let mut i = 0;
    while i < toks.len() {
        if let Some(r) = dates.iter().find(|r| r.contains(&i)) {
            i = r.end;
            continue;
        }
        let negated = i > 0 && toks[i - 1].is("not");
        match time_at(toks, i, bias, bare_hours) {
            Some((t, used)) => {
                if !negated {
                    found = t.or(found);
                }
                i += used;
            }
            None => i += 1,
        }
    }
    found
}

/// A time starting at token `i` and the tokens it covers; `Some((None, n))`
/// marks a bound ("after 3") that is skipped. `bias` is the am/pm of a part
/// of the day said elsewhere in the utterance, for hours said bare;
/// `bare_hours`: an hour with no cue around it is a time (an answer to "what
/// time?").
fn time_at(
    toks: &[Tok],
    i: usize,
    bias: Option<Meridiem>,
    bare_hours: bool,
) -> Option<(Option<NaiveTime>, usize)> {
    let t = &toks[i];
    let prev = i.checked_sub(1).map(|p| &toks[p]);
    let prev_is = |ws: &[&str]| prev.is_some_and(|p| p.is_any(ws));

    if t.is_any(&["noon", "midday"]) {
        return Some((NaiveTime::from_hms_opt(12, 0, 0), 1));
    }
    if t.is("midnight") {
        return Some((NaiveTime::from_hms_opt(0, 0, 0), 1));
    }
    // "quarter past 2", "half past 10", "10 till 5", "quarter to 5".
    let before_target = |k: usize| -> Option<(i64, usize)> {
        let rel = toks.get(i + k)?.word()?;
        let sign = match rel {
            "past" | "after" => 1,
            "to" | "till" | "til" | "until" | "before" | "of" => -1,
            _ => return None,
        };
        Some((sign, k + 1))
    };
    let offset = if t.is("quarter") {
        Some(15)
    } else if t.is("half") {
        Some(30)
    } else if !prev_is(&["from", "between"]) {
        t.num()
            .filter(|n| n.len() <= 2)
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|m| (1..=30).contains(m))
    } else {
        None
    };
    if let Some(minutes) = offset
        && let Some((sign, k)) = before_target(1)
        && !(t.is("half") && sign < 0)
        && let Some(hour) = hour_word_at(toks, i + k)
    {
        let (mer, used) = match meridiem_at(toks, i + k + 1) {
            Some((m, n)) => (Some(m), n),
            None => (bias, 0),
        };
        let base = to_24h(hour, 0, mer)?;
        let (time, _) = base.overflowing_add_signed(TimeDelta::minutes(sign * minutes));
        return Some((Some(time), k + 1 + used));
    }

    // "after 3", "before 10": a bound, not a time.
    if t.is_any(&["after", "before"])
        && (hour_at(toks, i + 1).is_some() || matches!(toks.get(i + 1), Some(Tok::Clock(..))))
    {
        let used = 2 + minutes_at(toks, i + 2).map_or(0, |(_, n)| n);
        let used = used + meridiem_at(toks, i + used).map_or(0, |(_, n)| n);
        return Some((None, used));
    }

    // "2:30", "2:30 pm", "14:30".
    if let Tok::Clock(h, m) = t {
        let (mer, used) = meridiem_at(toks, i + 1).map_or((bias, 0), |(m, n)| (Some(m), n));
        return Some((to_24h(*h, *m, mer), 1 + used));
    }

    // Whisper writes "two thirty" as "230" and "ten thirty" as "1030": a
    // time when am/pm follows or "at"/"around" comes before.
    if let Some(n) = t.num().filter(|n| n.len() == 3 || n.len() == 4) {
        let (h, m) = n.split_at(n.len() - 2);
        if let (Ok(h), Ok(m)) = (h.parse::<u32>(), m.parse::<u32>())
            && (1..=12).contains(&h)
            && m < 60
        {
            if let Some((mer, used)) = meridiem_at(toks, i + 1) {
                return Some((to_24h(h, m, Some(mer)), 1 + used));
            }
            if prev_is(&["at", "around", "about", "by"]) {
                return Some((to_24h(h, m, bias), 1));
            }
            // A reply to offered times: "230 works.", "Yes, 1030 please."
            let opens = i == 0 || prev_is(&["yes", "yeah", "ok", "okay", "um", "uh", "the", "so"]);
            let next = toks.get(i + 1);
            let closes = next.is_none_or(|t| {
                t.is_any(&[
                    "works", "work", "please", "sounds", "is", "would", "then", "one",
                ])
            });
            if opens && closes {
                return Some((to_24h(h, m, bias), 1));
            }
        }
    }

    // "3 pm", "3 30 pm", "3 o'clock", "3 in the afternoon", "free in the afternoon".
    let digit_hour = hour_at(toks, i);
    let misheard = if digit_hour.is_none() && !prev_is(NOT_BEFORE_MISHEARD) {
        t.word()
            .and_then(|w| MISHEARD_HOURS.iter().find(|(m, _)| *m == w))
            .map(|(_, h)| *h)
    } else {
        None
    };
    let hour = digit_hour.or(misheard)?;
    let (minute, m_used) = minutes_at(toks, i + 1).unwrap_or((0, 0));
    let after = i + 1 + m_used;
    if let Some((mer, used)) = meridiem_at(toks, after) {
        let phrase = !toks[after].is_any(&["am", "pm"]);
        let weak_word = misheard.is_some() && !t.is_any(MISHEARD_WITH_PHRASE);
        if hour == 0 || hour > 12 || (phrase && weak_word) {
            return None;
        }
        return Some((to_24h(hour, minute, Some(mer)), after - i + used));
    }
    if oclock(toks.get(after)) {
        return Some((to_24h(hour, minute, bias), after - i + 1));
    }
    if misheard.is_some() {
        return None;
    }
    // From here the number has no time word after it: it is a time only with
    // "at 3" / "around 3:30" in front, or as "3 30" on its own.
    let next = toks.get(after);
    if next.is_some_and(|t| t.is_any(UNITS) || matches!(t, Tok::Num(_))) {
        return None;
    }
    if prev.is_some_and(|p| matches!(p, Tok::Num(_) | Tok::Ord(_) | Tok::Slash(_))) {
        return None;
    }
    let make_it = prev_is(&["it"]) && i >= 2 && toks[i - 2].is("make");
    let cue = bare_hours
        || make_it
        || prev_is(&["at", "around", "about", "say", "maybe", "by", "like", "how"])
        || (prev.is_some_and(|p| p.is_any(FILLERS))
            && i >= 2
            && toks[i - 2].is_any(&["at", "around", "about"]));
    if hour == 0 || hour > 12 {
        return None;
    }
    if cue || m_used > 0 {
        if prev.is_some_and(|p| p.word().and_then(super::lexicon::month).is_some()) {
            return None;
        }
        return Some((to_24h(hour, minute, bias), after - i));
    }
    None
}

/// An hour as digits or as a misheard word ("free" for three), for "quarter
/// past free".
fn hour_word_at(toks: &[Tok], i: usize) -> Option<u32> {
    hour_at(toks, i)
        .filter(|h| (1..=12).contains(h))
        .or_else(|| {
            let w = toks.get(i)?.word()?;
            MISHEARD_HOURS
                .iter()
                .find(|(m, _)| *m == w && MISHEARD_WITH_PHRASE.contains(m))
                .map(|(_, h)| *h)
        })
}

pub(crate) fn part_of_day_from(u: &Utterance) -> Option<PartOfDay> {
    let toks = &u.toks;
    let mut found = None;
    for (i, t) in toks.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &toks[p]);
        let next = toks.get(i + 1);
        let greeting = prev.is_some_and(|p| p.is("good"));
        let part = match t.word() {
            Some("morning" | "mornings") if !greeting => Some(PartOfDay::Morning),
            Some("afternoon" | "afternoons") if !greeting => Some(PartOfDay::Afternoon),
            Some("evening" | "evenings" | "tonight") if !greeting => Some(PartOfDay::Evening),
            Some("lunch" | "lunchtime") => match prev.and_then(Tok::word) {
                Some("after") => Some(PartOfDay::Afternoon),
                Some("before") => Some(PartOfDay::Morning),
                _ => None,
            },
            Some("work") if prev.is_some_and(|p| p.is("after")) => Some(PartOfDay::Evening),
            Some("thing") if matches!(prev, Some(Tok::Ord(1))) => Some(PartOfDay::Morning),
            Some("am") if prev.is_some_and(|p| p.is("the")) => Some(PartOfDay::Morning),
            Some("pm") if prev.is_some_and(|p| p.is("the")) => Some(PartOfDay::Afternoon),
            Some("day") if prev.is_some_and(|p| p.is("the")) && next.is_none() => {
                // "end of the day", "late in the day".
                let before = i.checked_sub(3).map(|p| &toks[p]);
                before
                    .is_some_and(|b| b.is_any(&["end", "late", "later"]))
                    .then_some(PartOfDay::Afternoon)
            }
            _ => None,
        };
        if part.is_some() {
            found = part;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(h: u32, m: u32) -> Option<NaiveTime> {
        NaiveTime::from_hms_opt(h, m, 0)
    }

    #[test]
    fn spoken_and_whisper_forms() {
        let cases: &[(&str, Option<NaiveTime>)] = &[
            ("two thirty pm", hm(14, 30)),
            ("2:30", hm(14, 30)),
            ("2:30 p.m.", hm(14, 30)),
            ("2:30 PM.", hm(14, 30)),
            ("2.30pm", hm(14, 30)),
            ("at two thirty", hm(14, 30)),
            ("How about 2:30?", hm(14, 30)),
            ("quarter past two", hm(14, 15)),
            ("a quarter after two", hm(14, 15)),
            ("half past ten", hm(10, 30)),
            ("ten till five", hm(16, 50)),
            ("ten to five", hm(16, 50)),
            ("quarter to nine", hm(8, 45)),
            ("twenty past eleven", hm(11, 20)),
            ("noon", hm(12, 0)),
            ("Around noon.", hm(12, 0)),
            ("nine a.m.", hm(9, 0)),
            ("9 AM", hm(9, 0)),
            ("9am", hm(9, 0)),
            ("3 in the afternoon", hm(15, 0)),
            ("free in the afternoon", hm(15, 0)),
            ("At free in the afternoon.", hm(15, 0)),
            ("three o'clock", hm(15, 0)),
            ("at 3", hm(15, 0)),
            ("at eight", hm(8, 0)),
            ("at seven in the evening", hm(19, 0)),
            ("ten fifteen", hm(10, 15)),
            ("ten oh five", hm(10, 5)),
            ("eleven thirty am", hm(11, 30)),
            ("twelve thirty", hm(12, 30)),
            ("14:30", hm(14, 30)),
            ("eight in the morning", hm(8, 0)),
            ("Tomorrow at 10:00 a.m.", hm(10, 0)),
            ("three fourteen, no wait, three fifteen", hm(15, 15)),
            ("at 2, um, actually make it 3", hm(15, 0)),
            // A part of the day said before the hour.
            ("next Tuesday evening at 7", hm(19, 0)),
            ("tonight around eight thirty", hm(20, 30)),
            ("Wednesday morning at 9", hm(9, 0)),
            ("in the evening, say 6 o'clock", hm(18, 0)),
            // No time.
            ("are you free in the afternoon", None),
            ("in the afternoon", None),
            ("after 3", None),
            ("in three days", None),
            ("I take 2 pills a day", None),
            ("555-123-4567", None),
            ("3/4/85", None),
            ("march fourth nineteen eighty five", None),
            ("the 14th", None),
            ("I want to come in", None),
            ("from 10 to 5", None),
            ("", None),
        ];
        let mut bad = Vec::new();
        for (text, want) in cases {
            let got = parse_time(text);
            if got != *want {
                bad.push(format!("{text:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn whisper_run_together_times() {
        assert_eq!(
            parse_time("Could I come in tomorrow at 230 in the afternoon?"),
            hm(14, 30)
        );
        assert_eq!(parse_time("at 1030 please"), hm(10, 30));
        assert_eq!(parse_time("930 am works"), hm(9, 30));
        assert_eq!(parse_time("I live at 1985 Main Street"), None);
        assert_eq!(parse_time("230 works."), hm(14, 30));
        assert_eq!(parse_time("Yes, 1030 please"), hm(10, 30));
        assert_eq!(parse_time("1985."), None);
        assert_eq!(parse_time("1234 Main Street"), None);
        assert_eq!(parse_time("room 230 on the second floor"), None);
    }

    #[test]
    fn part_of_day_only_without_a_clock_time() {
        let cases: &[(&str, Option<PartOfDay>)] = &[
            ("first thing in the morning", Some(PartOfDay::Morning)),
            ("after lunch", Some(PartOfDay::Afternoon)),
            ("in the evening", Some(PartOfDay::Evening)),
            ("Afternoon.", Some(PartOfDay::Afternoon)),
            (
                "Sometime in the morning would be great.",
                Some(PartOfDay::Morning),
            ),
            ("before lunch", Some(PartOfDay::Morning)),
            ("tomorrow afternoon", Some(PartOfDay::Afternoon)),
            ("at the end of the day", Some(PartOfDay::Afternoon)),
            ("good morning I need an appointment", None),
            ("3 in the afternoon", None),
            ("nine in the morning", None),
            ("I'd like an appointment", None),
        ];
        let mut bad = Vec::new();
        for (text, want) in cases {
            let got = parse_part_of_day(text);
            if got != *want {
                bad.push(format!("{text:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
