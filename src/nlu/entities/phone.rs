//! Phone numbers: ten digits, spoken one by one, in groups ("five fifty
//! five"), with "oh", "double five", "triple two", or as Whisper writes them
//! ("555-123-4567", "(555) 123-4567"). A leading country code 1 is dropped;
//! after "no sorry" / "wait" / "I mean", the digits said next replace the end
//! of the number ("555 123 4567 no sorry 4568" → 5551234568).

use super::normalize::{CORRECTIONS, FILLERS, Tok, Utterance};

/// The ten-digit phone number in `text`, if one was said.
pub fn parse_phone(text: &str) -> Option<String> {
    phone_from(&Utterance::new(text))
}

struct Run {
    digits: String,
    after_correction: bool,
}

pub(crate) fn phone_from(u: &Utterance) -> Option<String> {
    let mut number: Option<String> = None;
    for run in runs(u) {
        let d = drop_prefix(&run.digits);
        if d.len() == 10 {
            number = Some(d.to_string());
        } else if run.after_correction {
            correct_end(&mut number, d);
        }
    }
    number
}

/// The phone number in an answer to "what is your phone number?": as
/// [`phone_from`], and when no run of ten digits was said, the groups said
/// apart ("area code 303, and then 555 0199") joined.
pub(crate) fn phone_answer_from(u: &Utterance) -> Option<String> {
    if let Some(number) = phone_from(u) {
        return Some(number);
    }
    let mut number: Option<String> = None;
    let mut said = String::new();
    let mut last_group = 0;
    for run in runs(u) {
        if run.after_correction && number.is_some() {
            correct_end(&mut number, drop_prefix(&run.digits));
            continue;
        }
        if run.after_correction {
            // "303 555, no, 556 0199": the digits said again replace the
            // end of those before, or the group before.
            let keep = if said.len() + run.digits.len() > 10 {
                10usize.saturating_sub(run.digits.len()).min(said.len())
            } else {
                said.len() - last_group
            };
            said.truncate(keep);
        }
        said.push_str(&run.digits);
        last_group = run.digits.len();
        if drop_prefix(&said).len() == 10 {
            number = Some(drop_prefix(&said).to_string());
            said.clear();
            last_group = 0;
        } else if said.len() > 11 {
            // Too many digits for one number: it starts again here.
            said = run.digits;
        }
    }
    number
}

/// "… 4567, no sorry, 4568": the digits said after a correction replace
/// the end of the number said before.
fn correct_end(number: &mut Option<String>, d: &str) {
    if let Some(n) = number.as_mut()
        && !d.is_empty()
        && d.len() < 10
    {
        n.replace_range(10 - d.len().., d);
    }
}

/// The runs of digits said, each with whether a correction opened it.
fn runs(u: &Utterance) -> Vec<Run> {
    let toks = &u.toks;
    let mut runs: Vec<Run> = Vec::new();
    let mut cur = String::new();
    let mut repeat = 1usize;
    let mut correction = false;
    let mut run_correction = false;
    let close = |cur: &mut String, runs: &mut Vec<Run>, run_correction: bool| {
        if !cur.is_empty() {
            runs.push(Run {
                digits: std::mem::take(cur),
                after_correction: run_correction,
            });
        }
    };
    for (i, t) in toks.iter().enumerate() {
        let next_is_digit = toks.get(i + 1).is_some_and(is_digit_tok);
        let digits = match t {
            Tok::Num(n) => Some(n.clone()),
            Tok::Word(w) if matches!(w.as_str(), "oh" | "o" | "zero") => {
                // "Oh, it's …" is a sigh, not a zero.
                (next_is_digit || !cur.is_empty()).then(|| "0".to_string())
            }
            _ => None,
        };
        if let Some(d) = digits {
            if cur.is_empty() {
                run_correction = correction;
                correction = false;
            }
            if repeat > 1 && d.len() == 1 {
                cur.push_str(&d.repeat(repeat));
            } else {
                cur.push_str(&d);
            }
            repeat = 1;
            continue;
        }
        match t {
            Tok::Word(w) if (w == "double" || w == "triple") && next_is_digit => {
                repeat = if w == "double" { 2 } else { 3 };
            }
            Tok::Word(w) if FILLERS.contains(&w.as_str()) || w == "dash" || w == "then" => {}
            Tok::Word(w) => {
                close(&mut cur, &mut runs, run_correction);
                if CORRECTIONS.contains(&w.as_str()) {
                    correction = true;
                }
            }
            _ => close(&mut cur, &mut runs, run_correction),
        }
    }
    close(&mut cur, &mut runs, run_correction);
    runs
}

fn is_digit_tok(t: &Tok) -> bool {
    matches!(t, Tok::Num(_)) || t.is_any(&["oh", "o", "zero", "double", "triple"])
}

/// "1 555 123 4567" → "5551234567"; an interjection "oh" before the number
/// also reads as a leading 0, dropped the same way.
fn drop_prefix(d: &str) -> &str {
    if d.len() == 11 && (d.starts_with('1') || d.starts_with('0')) {
        &d[1..]
    } else {
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_and_whisper_forms() {
        let cases: &[(&str, Option<&str>)] = &[
            ("555-123-4567", Some("5551234567")),
            ("(555) 123-4567.", Some("5551234567")),
            ("My number is 555 123 4567.", Some("5551234567")),
            (
                "five five five one two three four five six seven",
                Some("5551234567"),
            ),
            (
                "five five five, one two three, four five six seven",
                Some("5551234567"),
            ),
            (
                "five fifty five, one twenty three, forty five sixty seven",
                Some("5551234567"),
            ),
            ("It's 1-555-123-4567.", Some("5551234567")),
            (
                "one five five five one two three four five six seven",
                Some("5551234567"),
            ),
            ("+1 (555) 123-4567", Some("5551234567")),
            (
                "six oh two, double five, oh, one two three four",
                Some("6025501234"),
            ),
            (
                "Six oh two triple two one nine eight seven",
                Some("6022221987"),
            ),
            (
                "eight oh eight, um, five five five, uh, zero one nine nine",
                Some("8085550199"),
            ),
            ("Oh, it's 555-123-4567.", Some("5551234567")),
            ("555 123 4567 no sorry 4568", Some("5551234568")),
            ("555-123-4567. No, wait, 555-123-4568.", Some("5551234568")),
            (
                "five five five one two three four five six seven, I mean four five six eight",
                Some("5551234568"),
            ),
            ("Area code 212, 555-0199.", Some("2125550199")),
            (
                "two one two five five five oh one nine nine",
                Some("2125550199"),
            ),
            ("5551234567", Some("5551234567")),
            // Not phone numbers.
            ("555-1234", None),
            ("My date of birth is 3/4/85.", None),
            ("oh three oh four eighty five", None),
            ("I'd like to come in at 2:30 tomorrow.", None),
            ("My number is 555, I don't remember the rest.", None),
            ("", None),
        ];
        let mut bad = Vec::new();
        for (text, want) in cases {
            let got = parse_phone(text);
            let got = got.as_deref();
            if got != *want {
                bad.push(format!("{text:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
