//! Dates of birth: a full date with a year, in US month-day-year order,
//! spoken ("march fourth nineteen eighty five", "the fourth of march eighty
//! five", "oh three oh four eighty five") or as Whisper writes it ("3/4/85",
//! "03-04-1985", "Oh 621-87."). The last date said wins, so a caller's
//! self-correction is honoured.

use chrono::{Datelike, NaiveDate};

use super::calendar::said_dates;
use super::normalize::Utterance;

/// Why no date of birth came out of an utterance. Lets the dialogue tell
/// "I didn't catch a date" from "that date can't be right".
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DobError {
    #[error("no date of birth was said")]
    NotSaid,
    #[error("the date of birth said does not exist")]
    Impossible,
    #[error("the date of birth said is in the future")]
    InFuture,
    #[error("the date of birth said is more than {MAX_AGE_YEARS} years ago")]
    TooOld,
}

/// Oldest plausible caller-reported age.
pub(crate) const MAX_AGE_YEARS: i32 = 120;

/// The date of birth in `text`, checked against the call's local date.
pub fn parse_date_of_birth(text: &str, today: NaiveDate) -> Result<NaiveDate, DobError> {
    dob_from(&Utterance::new(text), today)
}

pub(crate) fn dob_from(u: &Utterance, today: NaiveDate) -> Result<NaiveDate, DobError> {
    let said = said_dates(&u.toks, today)
        .into_iter()
        .rev()
        .find_map(|d| d.year.map(|y| (d, y)));
    let Some((d, year)) = said else {
        return Err(DobError::NotSaid);
    };
    let date = d.ymd(year).ok_or(DobError::Impossible)?;
    if date > today {
        Err(DobError::InFuture)
    } else if today.year() - date.year() > MAX_AGE_YEARS {
        Err(DobError::TooOld)
    } else {
        Ok(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn spoken_and_whisper_forms() {
        let today = ymd(2026, 3, 10);
        let d = |y, m, dd| Ok(ymd(y, m, dd));
        let cases: &[(&str, Result<NaiveDate, DobError>)] = &[
            ("march fourth nineteen eighty five", d(1985, 3, 4)),
            // Whisper's "March" on a phone line.
            ("Mark's fourth, 1985.", d(1985, 3, 4)),
            ("March 4th, 1985.", d(1985, 3, 4)),
            ("March 4, 1985", d(1985, 3, 4)),
            // Whisper's "nineteen ninety" on a phone line.
            (
                "Tom Lee-born May 5, 1900, 90, I need a visit",
                d(1990, 5, 5),
            ),
            ("oh three oh four eighty five", d(1985, 3, 4)),
            ("Oh 3, oh 4, 85.", d(1985, 3, 4)),
            ("3/4/85", d(1985, 3, 4)),
            ("03-04-1985", d(1985, 3, 4)),
            ("03/04/1985.", d(1985, 3, 4)),
            ("the fourth of march eighty five", d(1985, 3, 4)),
            ("It's the 4th of March, 1985.", d(1985, 3, 4)),
            ("Oh 621-87.", d(1987, 6, 21)),
            ("0 6 21 87", d(1987, 6, 21)),
            ("oh six twenty one eighty seven", d(1987, 6, 21)),
            ("six twenty one eighty seven", d(1987, 6, 21)),
            ("June 21st, 1987.", d(1987, 6, 21)),
            ("06211987", d(1987, 6, 21)),
            ("zero six two one one nine eight seven", d(1987, 6, 21)),
            ("december twelfth two thousand five", d(2005, 12, 12)),
            ("December 12th, 2005.", d(2005, 12, 12)),
            ("twelve twelve oh five", d(2005, 12, 12)),
            ("january first twenty oh one", d(2001, 1, 1)),
            ("my birthday is july fourth nineteen sixty", d(1960, 7, 4)),
            ("Um, it's, uh, November 3rd, '52.", d(1952, 11, 3)),
            ("uh september ninth ninety nine", d(1999, 9, 9)),
            ("one twelve eighty five", d(1985, 1, 12)),
            ("eleven two eighty five", d(1985, 11, 2)),
            ("two twenty nine two thousand", d(2000, 2, 29)),
            // Two-digit years up to this year's go to 20xx.
            ("3/4/25", d(2025, 3, 4)),
            ("3/4/27", d(1927, 3, 4)),
            // Corrections: the last date said wins.
            (
                "march fourth eighty five, no wait, march fifth eighty five",
                d(1985, 3, 5),
            ),
            // Impossible, future, absent.
            (
                "february thirtieth nineteen ninety",
                Err(DobError::Impossible),
            ),
            ("2/30/1990", Err(DobError::Impossible)),
            ("two twenty nine nineteen ninety", Err(DobError::Impossible)),
            ("march fourth twenty thirty", Err(DobError::InFuture)),
            ("12/1/2026", Err(DobError::InFuture)),
            ("march fourth eighteen ninety", Err(DobError::TooOld)),
            ("march fourth", Err(DobError::NotSaid)),
            ("555-123-4567", Err(DobError::NotSaid)),
            ("at 2:30 tomorrow", Err(DobError::NotSaid)),
            ("I'd like an appointment", Err(DobError::NotSaid)),
        ];
        let mut bad = Vec::new();
        for (text, want) in cases {
            let got = parse_date_of_birth(text, today);
            if got != *want {
                bad.push(format!("{text:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
