//! Text preparation for speech: split a reply into sentences (so the first
//! sentence can be spoken while the rest is synthesised) and spell out what
//! espeak-ng reads badly (times, phone numbers, dates, dollar amounts,
//! abbreviations such as "Dr." that espeak takes for the end of a sentence).

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// Abbreviations after which a period never ends a sentence.
const NON_TERMINAL_ABBREVIATIONS: &[&str] = &[
    "dr", "mr", "mrs", "ms", "prof", "st", "ave", "blvd", "rd", "ste", "apt", "jr", "sr", "no",
    "vs", "etc", "e.g", "i.e", "approx", "dept", "mt",
];

/// Splits a reply into sentences at `.`, `!` or `?` followed by white space,
/// keeping abbreviations ("Dr. Patel"), initials ("J. Smith") and
/// "a.m."/"p.m." before a lower-case word intact. Empty pieces are dropped.
pub fn split_sentences(text: &str) -> Vec<String> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut sentences = Vec::new();
    let mut start = 0usize;
    let mut i = 0usize;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if matches!(c, '.' | '!' | '?') {
            // Absorb runs like "?!" or "..." and closing quotes/brackets.
            let mut j = i + 1;
            while j < chars.len()
                && matches!(chars[j].1, '.' | '!' | '?' | '"' | '\'' | ')' | '”' | '’')
            {
                j += 1;
            }
            let at_end = j >= chars.len();
            let followed_by_space = !at_end && chars[j].1.is_whitespace();
            if at_end || (followed_by_space && ends_sentence(text, &chars, start, pos, c, j)) {
                let end = if at_end { text.len() } else { chars[j].0 };
                push_sentence(&mut sentences, &text[start..end]);
                start = end;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    if start < text.len() {
        push_sentence(&mut sentences, &text[start..]);
    }
    sentences
}

fn push_sentence(sentences: &mut Vec<String>, piece: &str) {
    let collapsed = piece.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().any(|c| c.is_alphanumeric()) {
        sentences.push(collapsed);
    }
}

/// Whether the punctuation `mark` at byte `pos` ends a sentence; `next` is
/// the index of the first character after the punctuation run.
fn ends_sentence(
    text: &str,
    chars: &[(usize, char)],
    start: usize,
    pos: usize,
    mark: char,
    next: usize,
) -> bool {
    if mark != '.' {
        return true;
    }
    let word = text[start..pos]
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"')
        .next()
        .unwrap_or("");
    let lower = word.to_lowercase();
    if NON_TERMINAL_ABBREVIATIONS.contains(&lower.as_str()) {
        return false;
    }
    // An initial: a single capital letter ("J. Smith").
    let mut letters = word.chars();
    if let (Some(first), None) = (letters.next(), letters.next())
        && first.is_uppercase()
    {
        return false;
    }
    // "a.m." / "p.m.": a sentence ends only if the next word is capitalised.
    if lower == "a.m" || lower == "p.m" {
        let next_word_char = chars[next..]
            .iter()
            .map(|&(_, c)| c)
            .find(|c| !c.is_whitespace());
        return next_word_char.is_some_and(|c| c.is_uppercase());
    }
    true
}

static TIME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(\d{1,2}):(\d{2})\b(?:\s*([ap])\.?m\b\.?)?").unwrap());
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+?1[\s.-]?)?\(?\b(\d{3})\)?[\s.-]?(\d{3})[\s.-](\d{4})\b").unwrap()
});
static DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b").unwrap());
static DOLLARS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$(\d{1,6})(?:\.(\d{2}))?\b").unwrap());
static LONG_DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d{5,}\b").unwrap());
static EMERGENCY_NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b911\b").unwrap());
static HASH_NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"#\s?(\d)").unwrap());
static TITLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(Dr|Mr|Mrs|Ms|Prof)\.(\s|$)").unwrap());
static SAINT_OR_STREET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\S+)?(\s*)\bSt\.(\s+(\S))?").unwrap());
static ADDRESS_ABBREVIATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(Ave|Blvd|Rd|Ste|Apt|Ln|Dept)\.").unwrap());

/// Rewrites one sentence so espeak-ng reads it the way a receptionist would
/// say it. Pure text in, text out.
pub fn normalize_for_speech(sentence: &str) -> String {
    let mut text = sentence.replace('&', " and ");
    text = PHONE
        .replace_all(&text, |c: &Captures| {
            format!(
                "{}, {}, {}",
                spell_digits(&c[1]),
                spell_digits(&c[2]),
                spell_digits(&c[3])
            )
        })
        .into_owned();
    text = TIME
        .replace_all(&text, |c: &Captures| speak_time(c))
        .into_owned();
    text = DATE
        .replace_all(&text, |c: &Captures| speak_date(c))
        .into_owned();
    text = DOLLARS
        .replace_all(&text, |c: &Captures| speak_dollars(c))
        .into_owned();
    text = EMERGENCY_NUMBER
        .replace_all(&text, "nine one one")
        .into_owned();
    text = LONG_DIGITS
        .replace_all(&text, |c: &Captures| spell_digits(&c[0]))
        .into_owned();
    text = HASH_NUMBER.replace_all(&text, "number $1").into_owned();
    text = TITLE
        .replace_all(&text, |c: &Captures| {
            let word = match &c[1] {
                "Dr" => "Doctor",
                "Mr" => "Mister",
                "Mrs" => "Missus",
                "Ms" => "Miz",
                _ => "Professor",
            };
            format!("{word}{}", &c[2])
        })
        .into_owned();
    text = SAINT_OR_STREET
        .replace_all(&text, |c: &Captures| speak_st(c))
        .into_owned();
    text = ADDRESS_ABBREVIATION
        .replace_all(&text, |c: &Captures| {
            match &c[1] {
                "Ave" => "Avenue",
                "Blvd" => "Boulevard",
                "Rd" => "Road",
                "Ste" => "Suite",
                "Apt" => "Apartment",
                "Ln" => "Lane",
                _ => "Department",
            }
            .to_string()
        })
        .into_owned();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "St." is "Saint" before a name when it does not follow a street name
/// ("St. Mary's"), otherwise "Street" ("12 Main St.").
fn speak_st(c: &Captures) -> String {
    let before = c.get(1).map_or("", |m| m.as_str());
    let gap = &c[2];
    let after_gap = c.get(3).map_or("", |m| m.as_str());
    let next_is_capital = c
        .get(4)
        .and_then(|m| m.as_str().chars().next())
        .is_some_and(|ch| ch.is_uppercase());
    let before_is_street_name = before
        .chars()
        .next()
        .is_some_and(|ch| ch.is_uppercase() || ch.is_ascii_digit())
        && !before.ends_with([',', '.', ';', ':']);
    let word = if next_is_capital && !before_is_street_name {
        "Saint"
    } else {
        "Street"
    };
    format!("{before}{gap}{word}{after_gap}")
}

fn speak_time(c: &Captures) -> String {
    let hour: u32 = c[1].parse().unwrap_or(0);
    let minute: u32 = c[2].parse().unwrap_or(0);
    if hour > 23 || minute > 59 {
        return c[0].to_string();
    }
    let (hour_12, implied_pm) = match hour {
        0 => (12, false),
        13..=23 => (hour - 12, true),
        h => (h, false),
    };
    let meridiem = match c.get(3).map(|m| m.as_str().to_ascii_lowercase()) {
        Some(letter) => Some(if letter == "a" { "a.m." } else { "p.m." }),
        None if implied_pm => Some("p.m."),
        None => None,
    };
    let mut spoken = number_words(hour_12);
    match minute {
        0 if meridiem.is_none() => spoken.push_str(" o'clock"),
        0 => {}
        1..=9 => {
            spoken.push_str(" oh ");
            spoken.push_str(&number_words(minute));
        }
        m => {
            spoken.push(' ');
            spoken.push_str(&number_words(m));
        }
    }
    if let Some(meridiem) = meridiem {
        spoken.push(' ');
        spoken.push_str(meridiem);
    }
    spoken
}

/// Month names, January first (also used by the dialogue's wording).
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn speak_date(c: &Captures) -> String {
    let month: usize = c[1].parse().unwrap_or(0);
    let day: u32 = c[2].parse().unwrap_or(0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return c[0].to_string();
    }
    let mut spoken = format!("{} {}", MONTHS[month - 1], ordinal_words(day));
    if let Some(year) = c.get(3) {
        let year_text = year.as_str();
        let year: u32 = year_text.parse().unwrap_or(0);
        let year = if year_text.len() == 2 {
            if year <= 30 { 2000 + year } else { 1900 + year }
        } else {
            year
        };
        spoken.push_str(", ");
        spoken.push_str(&year_words(year));
    }
    spoken
}

fn speak_dollars(c: &Captures) -> String {
    let dollars: u32 = c[1].parse().unwrap_or(0);
    let cents: u32 = c.get(2).and_then(|m| m.as_str().parse().ok()).unwrap_or(0);
    let unit = if dollars == 1 { "dollar" } else { "dollars" };
    let mut spoken = format!("{} {unit}", number_words(dollars));
    if cents > 0 {
        let cent_unit = if cents == 1 { "cent" } else { "cents" };
        spoken.push_str(&format!(" and {} {cent_unit}", number_words(cents)));
    }
    spoken
}

const DIGITS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// "4567" → "four five six seven".
fn spell_digits(digits: &str) -> String {
    digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| DIGITS[d as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// Cardinal number words, up to 999 999.
pub fn number_words(n: u32) -> String {
    match n {
        0..=19 => ONES[n as usize].to_string(),
        20..=99 => {
            let tens = TENS[(n / 10) as usize];
            if n.is_multiple_of(10) {
                tens.to_string()
            } else {
                format!("{tens} {}", ONES[(n % 10) as usize])
            }
        }
        100..=999 => {
            let rest = n % 100;
            let head = format!("{} hundred", ONES[(n / 100) as usize]);
            if rest == 0 {
                head
            } else {
                format!("{head} {}", number_words(rest))
            }
        }
        _ => {
            let rest = n % 1000;
            let head = format!("{} thousand", number_words(n / 1000));
            if rest == 0 {
                head
            } else {
                format!("{head} {}", number_words(rest))
            }
        }
    }
}

/// "1985" → "nineteen eighty five", "2005" → "two thousand five".
fn year_words(year: u32) -> String {
    if (2000..2010).contains(&year) || !(1100..=2099).contains(&year) {
        return number_words(year);
    }
    let (century, rest) = (year / 100, year % 100);
    match rest {
        0 => format!("{} hundred", number_words(century)),
        1..=9 => format!("{} oh {}", number_words(century), number_words(rest)),
        _ => format!("{} {}", number_words(century), number_words(rest)),
    }
}

/// Ordinal words for days of the month: 1 → "first", 23 → "twenty third".
fn ordinal_words(n: u32) -> String {
    const SPECIAL: [(&str, &str); 8] = [
        ("one", "first"),
        ("two", "second"),
        ("three", "third"),
        ("five", "fifth"),
        ("eight", "eighth"),
        ("nine", "ninth"),
        ("twelve", "twelfth"),
        ("twenty", "twentieth"),
    ];
    let words = number_words(n);
    let (head, last) = match words.rsplit_once(' ') {
        Some((head, last)) => (format!("{head} "), last.to_string()),
        None => (String::new(), words.clone()),
    };
    let last = match SPECIAL.iter().find(|(w, _)| *w == last) {
        Some((_, ordinal)) => ordinal.to_string(),
        None if last.ends_with('y') => format!("{}ieth", &last[..last.len() - 1]),
        None => format!("{last}th"),
    };
    format!("{head}{last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences_and_keeps_abbreviations() {
        let table: &[(&str, &[&str])] = &[
            ("Hello. How can I help?", &["Hello.", "How can I help?"]),
            (
                "Dr. Patel is free at 9 a.m. tomorrow. Shall I book it?",
                &["Dr. Patel is free at 9 a.m. tomorrow.", "Shall I book it?"],
            ),
            (
                "See you at 9 a.m. Bring your card.",
                &["See you at 9 a.m.", "Bring your card."],
            ),
            (
                "We are at 12 Main St. in Springfield.",
                &["We are at 12 Main St. in Springfield."],
            ),
            (
                "Ask for J. Smith. Thanks!",
                &["Ask for J. Smith.", "Thanks!"],
            ),
            (
                "The copay is $12.50 today. OK?",
                &["The copay is $12.50 today.", "OK?"],
            ),
            ("Really?! Yes.", &["Really?!", "Yes."]),
            (
                "  one   sentence without stop  ",
                &["one sentence without stop"],
            ),
            (
                "He said \"hi.\" Then left.",
                &["He said \"hi.\"", "Then left."],
            ),
            ("", &[]),
            (" ... ", &[]),
        ];
        for (input, expected) in table {
            assert_eq!(split_sentences(input), *expected, "input: {input:?}");
        }
    }

    #[test]
    fn normalises_for_speech() {
        let table: &[(&str, &str)] = &[
            ("at 9:30", "at nine thirty"),
            ("at 9:00", "at nine o'clock"),
            ("at 9:05 a.m.", "at nine oh five a.m."),
            ("at 10:15 PM, ok", "at ten fifteen p.m., ok"),
            ("at 8:00 am.", "at eight a.m."),
            ("at 14:00", "at two p.m."),
            ("Dr. Patel", "Doctor Patel"),
            ("Mrs. Smith and Mr. Lee", "Missus Smith and Mister Lee"),
            ("12 Main St. is here", "12 Main Street is here"),
            ("visit St. Mary's", "visit Saint Mary's"),
            ("1234 Oak Ave.", "1234 Oak Avenue"),
            (
                "call 555-123-4567.",
                "call five five five, one two three, four five six seven.",
            ),
            (
                "call (555) 123-4567",
                "call five five five, one two three, four five six seven",
            ),
            (
                "born 03/14/1985",
                "born March fourteenth, nineteen eighty five",
            ),
            ("on 3/1", "on March first"),
            (
                "on 12/22/2005",
                "on December twenty second, two thousand five",
            ),
            ("a $25 copay", "a twenty five dollars copay"),
            ("$12.50", "twelve dollars and fifty cents"),
            ("zip 94110", "zip nine four one one zero"),
            ("room #12", "room number 12"),
            ("please dial 911.", "please dial nine one one."),
            ("Q&A", "Q and A"),
            ("plain text stays", "plain text stays"),
            ("99:99 is not a time", "99:99 is not a time"),
        ];
        for (input, expected) in table {
            assert_eq!(normalize_for_speech(input), *expected, "input: {input:?}");
        }
    }

    #[test]
    fn number_and_ordinal_words() {
        assert_eq!(number_words(0), "zero");
        assert_eq!(number_words(45), "forty five");
        assert_eq!(number_words(700), "seven hundred");
        assert_eq!(number_words(1234), "one thousand two hundred thirty four");
        assert_eq!(ordinal_words(30), "thirtieth");
        assert_eq!(ordinal_words(31), "thirty first");
        assert_eq!(ordinal_words(13), "thirteenth");
        assert_eq!(year_words(1900), "nineteen hundred");
        assert_eq!(year_words(1907), "nineteen oh seven");
        assert_eq!(year_words(2024), "twenty twenty four");
    }
}
