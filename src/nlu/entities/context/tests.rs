//! Answers read in the context of the question (development lines written
//! for these tests, not taken from any evaluation set).

use chrono::{NaiveDate, NaiveTime};

use super::super::{ProviderRoster, RosterEntry, extract};
use super::extract_in_context;
use crate::vocabulary::{Asked, Entities};

fn roster() -> ProviderRoster {
    ProviderRoster::new(vec![
        RosterEntry {
            id: "dr_patel".into(),
            name: "Priya Patel".into(),
            title: "Dr.".into(),
        },
        RosterEntry {
            id: "np_chen".into(),
            name: "Sarah Chen".into(),
            title: "NP".into(),
        },
    ])
}

/// Tuesday, 10 March 2026.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn read(text: &str, asked: Asked) -> Entities {
    extract_in_context(text, today(), &roster(), Some(asked))
}

/// The five entities `asked` can name, as (name, DOB, phone, date, time).
type Core = (
    Option<String>,
    Option<NaiveDate>,
    Option<String>,
    Option<NaiveDate>,
    Option<NaiveTime>,
);

fn core(e: &Entities) -> Core {
    (
        e.person_name.clone(),
        e.date_of_birth,
        e.phone.clone(),
        e.date,
        e.time,
    )
}

/// Runs a table of answers to one question; every mismatch is listed.
fn check(asked: Asked, cases: &[(&str, Core)]) {
    let mut bad = Vec::new();
    for (text, want) in cases {
        let got = core(&read(text, asked));
        if got != *want {
            bad.push(format!("{text:?}: got {got:?}, want {want:?}"));
        }
    }
    assert!(bad.is_empty(), "asked {asked:?}:\n{}", bad.join("\n"));
}

fn dob(d: NaiveDate) -> Core {
    (None, Some(d), None, None, None)
}

fn nothing() -> Core {
    (None, None, None, None, None)
}

#[test]
fn without_a_question_it_is_the_context_free_reading() {
    for text in [
        "Four.",
        "No 621-87.",
        "1987, June 21st.",
        "area code 720 and then 555 0134",
        "Ruiz, R-U-I-Z",
        "Mateo Ruiz.",
        "three fourteen, no wait, three fifteen",
        "555 123 4567 no sorry 4568",
        "",
    ] {
        assert_eq!(
            extract_in_context(text, today(), &roster(), None),
            extract(text, today(), &roster()),
            "{text:?}"
        );
    }
}

#[test]
fn answers_to_date_of_birth() {
    let d = |y, m, dd| dob(ymd(y, m, dd));
    check(
        Asked::DateOfBirth,
        &[
            // Already read without the question; still read with it.
            ("March 4th, 1985.", d(1985, 3, 4)),
            ("oh six twenty one eighty seven", d(1987, 6, 21)),
            ("two three sixty eight", d(1968, 2, 3)),
            // Whisper's "No" for a spoken "oh".
            ("No 621-87.", d(1987, 6, 21)),
            ("Know 4 15 92.", d(1992, 4, 15)),
            // Fewer groups than a date needs, one reading only.
            ("621 87", d(1987, 6, 21)),
            ("It's 31590.", d(1990, 3, 15)),
            ("3485", d(1985, 3, 4)),
            ("9 30 2001", d(2001, 9, 30)),
            // Two readings (1/25/85 or 12/5/85): none is chosen.
            ("12585", nothing()),
            // A year alone, a month and day alone, too few digits.
            ("1979.", nothing()),
            ("Nineteen seventy nine.", nothing()),
            ("368", nothing()),
            ("three sixty eight", nothing()),
            // The year first, or said apart.
            ("1987, June 21st.", d(1987, 6, 21)),
            ("nineteen eighty seven, june twenty first", d(1987, 6, 21)),
            ("1987-06-21", d(1987, 6, 21)),
            ("1987 6 21", d(1987, 6, 21)),
            ("June 21st, and the year is 1987.", d(1987, 6, 21)),
            (
                "june twenty first and the year is eighty seven",
                d(1987, 6, 21),
            ),
            ("the 21st of June of 87", d(1987, 6, 21)),
            ("21st June 1987", d(1987, 6, 21)),
            ("21/06/1987", d(1987, 6, 21)),
            // Numbers in a date of birth are no time and no phone.
            ("Ten thirty eighty.", d(1980, 10, 30)),
            ("um it's 2 15 at 89", nothing()),
            ("1 2 3 4 5 6 7 8 9 0", nothing()),
            // "It's June …": June is the month, not a name.
            ("It's June 21st, 1987.", d(1987, 6, 21)),
            // Corrections: the last date said.
            ("March 4th 85, no wait, March 5th 85", d(1985, 3, 5)),
            ("6 21 87, sorry, 6 22 87", d(1987, 6, 22)),
            // Impossible or in the future: none.
            ("February 30th, 1990", nothing()),
            // (A future one stays the date said: see below.)
        ],
    );
}

#[test]
fn a_number_or_a_day_in_the_same_breath_is_kept() {
    let e = read(
        "March 4th 1985, and my number is 720 555 0134",
        Asked::DateOfBirth,
    );
    assert_eq!(e.date_of_birth, Some(ymd(1985, 3, 4)));
    assert_eq!(e.phone.as_deref(), Some("7205550134"));
    let e = read("720 555 0134, and tomorrow works for me", Asked::Phone);
    assert_eq!(e.phone.as_deref(), Some("7205550134"));
    assert_eq!(e.date, Some(ymd(2026, 3, 11)));
    let e = read("Friday, and call me on 720 555 0134", Asked::Date);
    assert_eq!(e.date, Some(ymd(2026, 3, 13)));
    assert_eq!(e.phone.as_deref(), Some("7205550134"));
}

#[test]
fn without_a_date_of_birth_the_date_said_stays() {
    // No date of birth is invented; the dialogue keeps the month and day
    // and waits for the year ("June 21st." … "1987.").
    let e = read("June 21st.", Asked::DateOfBirth);
    assert_eq!(e.date_of_birth, None);
    assert_eq!(e.date, Some(ymd(2026, 6, 21)));
    assert_eq!((e.time, e.phone), (None, None));
    // A date of birth in the future is none; the date said stays, so the
    // agent can say it cannot be a birth date.
    let e = read("June 21st, 2031", Asked::DateOfBirth);
    assert_eq!(e.date_of_birth, None);
    assert_eq!(e.date, Some(ymd(2031, 6, 21)));
}

#[test]
fn names_in_any_script_are_read_without_a_panic() {
    // Once crashes of the dialogue's own name reader, which this replaced.
    let fuzzed = String::from_utf8_lossy(b"ST topel\xe2\x80\xa8l\xea\xd9\xaee");
    let _ = read(&fuzzed, Asked::PersonName);
    let e = read("my name is \u{e9}mile \u{e7}elik", Asked::PersonName);
    assert_eq!(e.person_name.as_deref(), Some("\u{c9}mile \u{c7}elik"));
}

#[test]
fn a_date_of_birth_answer_keeps_a_name_and_a_relative_day() {
    let e = read("This is Maria Gonzalez, March 4th 1985", Asked::DateOfBirth);
    assert_eq!(e.person_name.as_deref(), Some("Maria Gonzalez"));
    assert_eq!(e.date_of_birth, Some(ymd(1985, 3, 4)));
    let e = read("3/4/85, and can I come in tomorrow", Asked::DateOfBirth);
    assert_eq!(e.date_of_birth, Some(ymd(1985, 3, 4)));
    assert_eq!(e.date, Some(ymd(2026, 3, 11)));
    assert_eq!(e.time, None);
}

#[test]
fn answers_to_phone() {
    let p = |n: &str| (None, None, Some(n.to_string()), None, None);
    check(
        Asked::Phone,
        &[
            ("720-555-0134", p("7205550134")),
            ("area code 720, 555 0134", p("7205550134")),
            ("area code is 720 and then 555 0134", p("7205550134")),
            ("It's 720, and the rest is 555-0134.", p("7205550134")),
            (
                "seven two oh, five five five, double two oh four",
                p("7205552204"),
            ),
            ("720 555 double two oh four", p("7205552204")),
            (
                "three oh three, five fifty five, oh one three four",
                p("3035550134"),
            ),
            // Self-corrections.
            ("720 555 0134, no sorry, 0135", p("7205550135")),
            ("720 and 555, no, 556 and 0134", p("7205560134")),
            ("area code 720, wait, 719, 555 0134", p("7195550134")),
            // Not ten digits: no number, and never a time or a date.
            ("555 0134", nothing()),
            ("two oh four", nothing()),
            ("six twenty one eighty seven", nothing()),
        ],
    );
}

#[test]
fn answers_to_person_name() {
    let n = |s: &str| (Some(s.to_string()), None, None, None, None);
    check(
        Asked::PersonName,
        &[
            ("Mateo Ruiz.", n("Mateo Ruiz")),
            ("mateo ruiz", n("Mateo Ruiz")),
            ("Mateo.", n("Mateo")),
            ("Yeah, it's Mateo Ruiz.", n("Mateo Ruiz")),
            ("R U I Z", n("Ruiz")),
            ("R-U-I-Z.", n("Ruiz")),
            ("Ruiz, R-U-I-Z.", n("Ruiz")),
            ("Mateo Ruiz, R-U-I-Z.", n("Mateo Ruiz")),
            ("Mateo Ruis, R-U-I-Z.", n("Mateo Ruiz")),
            ("Ana Lopez-Garcia.", n("Ana Lopez-Garcia")),
            ("ana lopez-garcia", n("Ana Lopez-Garcia")),
            ("Ana Lopez hyphen Garcia.", n("Ana Lopez-Garcia")),
            ("Ana Lopez dash Garcia", n("Ana Lopez-Garcia")),
            ("April Nguyen.", n("April Nguyen")),
            ("Mr. Ruiz.", n("Ruiz")),
            ("Mrs. Ana Ruiz", n("Ana Ruiz")),
            // A provider's surname is the caller's too.
            ("Raj Patel.", n("Raj Patel")),
            // Self-corrections.
            ("Marta, sorry, Maria Ruiz.", n("Maria Ruiz")),
            ("Maria Ruis, no, Ruiz.", n("Maria Ruiz")),
            ("No, it's Mateo Ruiz.", n("Mateo Ruiz")),
            // Not names.
            ("Sure.", nothing()),
            ("I'm not sure.", nothing()),
            ("Can you repeat that?", nothing()),
        ],
    );
}

#[test]
fn answers_to_time_and_date() {
    let t = |h, m| (None, None, None, None, Some(hm(h, m)));
    check(
        Asked::Time,
        &[
            ("Four.", t(16, 0)),
            ("four", t(16, 0)),
            ("Ten.", t(10, 0)),
            ("Um, maybe four thirty?", t(16, 30)),
            ("2:30 p.m.", t(14, 30)),
            ("nine in the morning", t(9, 0)),
            ("three fourteen, no wait, three fifteen", t(15, 15)),
            ("at 2, um, actually make it 3", t(15, 0)),
            ("two oh four", t(14, 4)),
            // No time.
            ("Whenever works.", nothing()),
            (
                "in 2 weeks",
                (None, None, None, Some(ymd(2026, 3, 24)), None),
            ),
        ],
    );
    let dt = |d: Option<NaiveDate>, time: Option<NaiveTime>| (None, None, None, d, time);
    check(
        Asked::Date,
        &[
            ("Four.", dt(None, Some(hm(16, 0)))),
            (
                "Friday at four.",
                dt(Some(ymd(2026, 3, 13)), Some(hm(16, 0))),
            ),
            ("Friday, four.", dt(Some(ymd(2026, 3, 13)), Some(hm(16, 0)))),
            ("The 14th.", dt(Some(ymd(2026, 3, 14)), None)),
            ("14th.", dt(Some(ymd(2026, 3, 14)), None)),
            ("June 3rd.", dt(Some(ymd(2026, 6, 3)), None)),
            ("friday, no, monday", dt(Some(ymd(2026, 3, 16)), None)),
            ("first available", dt(None, None)),
            ("next week", dt(None, None)),
        ],
    );
}
