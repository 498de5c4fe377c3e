//! Entities read as the answer to what the agent just asked
//! ([`Asked`]): "four" answers "what time?", "oh six twenty one eighty
//! seven" answers "your date of birth?", "double two oh four" answers "your
//! phone number?" and is digits, not a time.
//!
//! Every reading starts from the context-free one (the same parsers as
//! [`super::extract`]); the question then adds readings only it makes safe
//! and drops values it rules out: numbers in an answer to "your date of
//! birth?" are never a time, a phone number or an appointment date, and so
//! on. Without a question nothing here runs.

mod birth;

use chrono::NaiveDate;

use super::normalize::{CORRECTIONS, FILLERS, Utterance};
use super::{ProviderRoster, date, lexicon, name, phone, time};
use crate::vocabulary::{Asked, Entities};

/// Every entity in one utterance, read as the answer to `asked` when the
/// agent asked for one; `None` is exactly [`super::extract`].
pub fn extract_in_context(
    text: &str,
    today: NaiveDate,
    roster: &ProviderRoster,
    asked: Option<Asked>,
) -> Entities {
    let Some(asked) = asked else {
        return super::extract(text, today, roster);
    };
    let u = Utterance::new(text);
    let mut e = super::extract_from(&u, today, roster);
    match asked {
        Asked::PersonName => {
            if let Some(n) = name_answer(text) {
                // The caller's name, even when a provider shares a word of it.
                if e.provider.is_some() && e.person_name.is_none() {
                    e.provider = None;
                }
                e.person_name = Some(n);
            }
        }
        Asked::DateOfBirth => {
            e.date_of_birth = birth::dob_answer_from(&u, today);
            // A month and day without their year ("March 4th.") stay the
            // date said: the dialogue keeps them and waits for the year.
            if e.date_of_birth.is_some() {
                e.date = date::relative_date_from(&u, today);
            }
            e.time = None;
            e.phone = e.phone.filter(|p| whole_us_number(p));
            // "It's June 21st, 1987.": June is the month, not a name.
            if e.person_name.as_deref().is_some_and(names_a_month) {
                e.person_name = None;
            }
        }
        Asked::Phone => {
            e.phone = phone::phone_answer_from(&u);
            e.date_of_birth = None;
            // "Tomorrow" or "next Friday" offered early is still a day.
            e.date = date::relative_date_from(&u, today);
            e.time = None;
        }
        Asked::Date | Asked::Time => {
            if asked == Asked::Date {
                e.date = date::date_answer_from(&u, today);
            }
            e.time = time::time_answer_from(&u);
            if e.time.is_some() {
                e.part_of_day = None;
            }
            e.date_of_birth = None;
            e.phone = e.phone.filter(|p| whole_us_number(p));
        }
    }
    e
}

/// Ten digits that can be a US number (area code and exchange start 2-9):
/// said in one breath with another answer ("March 4th 1985, and my
/// number is 720 555 0134"), it is no part of that answer and is kept.
fn whole_us_number(digits: &str) -> bool {
    let d = digits.as_bytes();
    d.len() == 10
        && d.iter().all(u8::is_ascii_digit)
        && (b'2'..=b'9').contains(&d[0])
        && (b'2'..=b'9').contains(&d[3])
}

fn names_a_month(name: &str) -> bool {
    name.split(' ')
        .any(|w| lexicon::month(&w.to_lowercase()).is_some())
}

/// Words that join the two halves of a surname said aloud.
const HYPHEN_WORDS: &[&str] = &["hyphen", "hyphenated", "dash"];

/// The name in an answer to "what is your name?": the one reading of
/// [`super::parse_name_answer`], and a self-correction honoured ("Marta,
/// sorry, Maria Ruiz"; "Maria Ruis, no, Ruiz" corrects the word closest to
/// the one said again); a surname said "Lopez hyphen Garcia" is written
/// "Lopez-Garcia".
fn name_answer(text: &str) -> Option<String> {
    let joined = join_hyphen_words(text);
    let read = |t: &str| name::name_answer_from(&Utterance::new(t));
    let Some((before, after)) = split_at_last_correction(&joined) else {
        return read(&joined);
    };
    let Some(corrected) = read(&after) else {
        return read(&joined);
    };
    match read(&before) {
        Some(said) if !corrected.contains(' ') && said.contains(' ') => {
            let mut words: Vec<&str> = said.split(' ').collect();
            let key = |w: &str| strsim::levenshtein(&w.to_lowercase(), &corrected.to_lowercase());
            let closest = (0..words.len()).min_by_key(|&k| key(words[k]))?;
            words[closest] = corrected.as_str();
            Some(words.join(" "))
        }
        _ => Some(corrected),
    }
}

/// "Lopez hyphen Garcia" → "Lopez-Garcia".
fn join_hyphen_words(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut k = 0;
    while k < words.len() {
        let bare = |w: &str| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        };
        let joins = HYPHEN_WORDS.contains(&bare(words[k]).as_str());
        if joins && !out.is_empty() && k + 1 < words.len() {
            let before = out.pop().unwrap_or_default();
            let before = before.trim_end_matches(|c: char| !c.is_alphanumeric());
            out.push(format!("{before}-{}", words[k + 1]));
            k += 2;
        } else {
            out.push(words[k].to_string());
            k += 1;
        }
    }
    out.join(" ")
}

/// The words before and after the last self-correction ("no", "sorry", "I
/// mean"…), when one was said and something follows it.
fn split_at_last_correction(text: &str) -> Option<(String, String)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let lower = |w: &str| {
        w.trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase()
    };
    let at = words
        .iter()
        .rposition(|w| CORRECTIONS.contains(&lower(w).as_str()))?;
    let after: Vec<&str> = words[at + 1..]
        .iter()
        .copied()
        .skip_while(|w| {
            let w = lower(w);
            w.is_empty() || FILLERS.contains(&w.as_str()) || CORRECTIONS.contains(&w.as_str())
        })
        .collect();
    (!after.is_empty()).then(|| (words[..at].join(" "), after.join(" ")))
}

#[cfg(test)]
mod tests;
