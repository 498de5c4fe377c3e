//! Pure helpers that read caller text and phrase dates, times and slots the
//! way a receptionist says them. No I/O.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};

use crate::clinic::Clinic;
use crate::clinic::config::{AppointmentType, TimeRange};

/// Lower-case words of `text`, punctuation stripped (apostrophes kept).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// `text` lower-cased with single spaces and no punctuation, padded with a
/// space on both sides so `contains(" word ")` matches whole words.
pub fn normalised(text: &str) -> String {
    format!(" {} ", words(text).join(" "))
}

fn has_phrase(norm: &str, phrase: &str) -> bool {
    norm.contains(&format!(" {} ", words(phrase).join(" ")))
}

pub fn any_phrase(text: &str, phrases: &[&str]) -> bool {
    let norm = normalised(text);
    phrases.iter().any(|p| has_phrase(&norm, p))
}

/// "Say that again", "repeat that", "what was that?"
pub fn asks_to_repeat(text: &str) -> bool {
    any_phrase(
        text,
        &[
            "repeat",
            "say that again",
            "say again",
            "come again",
            "pardon",
            "what was that",
            "what did you say",
            "i didn't catch that",
            "didn't hear",
            "one more time",
            "sorry what",
        ],
    )
}

/// The answer a reply to a yes/no question opens with: "no, keep it",
/// "yeah that's fine", "uh, nope". Fillers before the answer are skipped.
pub fn leading_yes_no(text: &str) -> Option<bool> {
    const FILLERS: &[&str] = &["uh", "um", "oh", "well", "actually", "so", "hmm", "er"];
    let w = words(text);
    let first = w.iter().find(|x| !FILLERS.contains(&x.as_str()))?;
    match first.as_str() {
        "yes" | "yeah" | "yep" | "yup" | "sure" | "correct" | "ok" | "okay" | "absolutely"
        | "definitely" => Some(true),
        // Whisper writes "no" as "know" now and then.
        "no" | "nope" | "nah" | "know" => Some(false),
        _ => None,
    }
}

/// Whether every word of `text` is one of `allowed` (fillers included).
fn only_words(text: &str, allowed: &[&str]) -> bool {
    let w = words(text);
    !w.is_empty() && w.iter().all(|x| allowed.contains(&x.as_str()))
}

const FILLER_WORDS: &[&str] = &[
    "uh", "um", "oh", "so", "well", "yes", "yeah", "okay", "ok", "er",
];

/// A greeting and nothing else: "Hi.", "Hello?", "Yes, hi, good morning."
pub fn is_greeting_only(text: &str) -> bool {
    let mut allowed = vec![
        "hi",
        "hello",
        "hey",
        "there",
        "good",
        "morning",
        "afternoon",
        "evening",
        "how",
        "are",
        "you",
        "doing",
        "today",
    ];
    allowed.extend_from_slice(FILLER_WORDS);
    only_words(text, &allowed) && !only_words(text, FILLER_WORDS)
}

/// "Wait.", "Hold on.", "One second.", "Let me check.": the caller is
/// not done, nothing to answer yet.
pub fn is_hold_on(text: &str) -> bool {
    let mut allowed = vec![
        "wait", "hold", "on", "hang", "one", "a", "second", "sec", "moment", "minute", "just",
        "let", "me", "check", "see", "think", "bear", "with", "sorry",
    ];
    allowed.extend_from_slice(FILLER_WORDS);
    only_words(text, &allowed)
        && any_phrase(
            text,
            &[
                "wait",
                "hold on",
                "hang on",
                "one second",
                "a second",
                "one sec",
                "a sec",
                "one moment",
                "a moment",
                "a minute",
                "let me check",
                "let me see",
                "let me think",
                "bear with me",
            ],
        )
}

/// Asked as a question: "where do I park?", "what's your address".
pub fn is_question(text: &str) -> bool {
    if text.trim_end().ends_with('?') {
        return true;
    }
    let w = words(text);
    let first = w
        .iter()
        .map(String::as_str)
        .find(|x| !FILLER_WORDS.contains(x));
    matches!(
        first,
        Some(
            "where"
                | "what"
                | "what's"
                | "when"
                | "how"
                | "which"
                | "who"
                | "why"
                | "do"
                | "does"
                | "is"
                | "are"
                | "can"
                | "could"
                | "will"
                | "would"
        )
    )
}

/// Words that close a call: "bye", "that's all", "thanks", "I'm all set".
pub fn says_goodbye(text: &str) -> bool {
    any_phrase(
        text,
        &[
            "bye",
            "goodbye",
            "good bye",
            "bye bye",
            "thanks",
            "thank",
            "that's all",
            "that is all",
            "that's it",
            "that's everything",
            "that'll do",
            "nothing else",
            "i'm good",
            "i'm done",
            "all set",
            "have a good",
            "have a great",
            "have a nice",
            "take care",
            "talk to you later",
            "see you",
            "appreciate",
            "never mind",
            "nevermind",
        ],
    )
}

/// "This is Tom Lee", "my name is…", "it's…": the caller says who they are.
pub fn introduces_self(text: &str) -> bool {
    any_phrase(
        text,
        &[
            "this is",
            "my name is",
            "my name's",
            "name is",
            "it's",
            "i'm",
            "i am",
            "speaking",
        ],
    )
}

/// "born", "birthday", "date of birth".
pub fn talks_of_birth(text: &str) -> bool {
    any_phrase(text, &["born", "birth", "birthday", "birthdate", "dob"])
}

/// A year said as digits, as Whisper writes it ("1985."), 1900 to 2099.
pub fn year_in(text: &str) -> Option<i32> {
    words(text)
        .iter()
        .filter(|w| w.len() == 4)
        .filter_map(|w| w.parse::<i32>().ok())
        .find(|y| (1900..2100).contains(y))
}

/// "As soon as possible", "whenever", "no preference": search from now.
pub fn wants_earliest(text: &str) -> bool {
    any_phrase(
        text,
        &[
            "soon",
            "soonest",
            "earliest",
            "first available",
            "next available",
            "asap",
            "whenever",
            "anytime",
            "any time",
            "any day",
            "doesn't matter",
            "does not matter",
            "no preference",
            "don't care",
            "whatever",
            "anything",
        ],
    )
}

/// "No", "rather not", "I don't want to give that".
pub fn refuses(text: &str) -> bool {
    any_phrase(
        text,
        &[
            "rather not",
            "don't want to",
            "do not want to",
            "won't give",
            "not going to",
            "why do you need",
            "none of your business",
            "prefer not",
            "not comfortable",
        ],
    )
}

/// "Next week" as a range: Monday to Sunday of the week after `today`'s.
pub fn next_week(text: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    if !any_phrase(text, &["next week"]) {
        return None;
    }
    let days_to_monday = 7 - today.weekday().num_days_from_monday() as i64;
    let monday = today + chrono::Duration::days(days_to_monday);
    Some((monday, monday + chrono::Duration::days(6)))
}

/// Which offered option the caller picked by position: "the first one",
/// "second", "the last", "the earlier one".
pub fn ordinal_choice(text: &str, offered: usize) -> Option<usize> {
    let w = words(text);
    let has = |x: &str| w.iter().any(|y| y == x);
    // Ordinals first: "second one." is the second, not "one".
    let pick = if has("first") || has("1st") {
        Some(0)
    } else if has("second") || has("2nd") || has("middle") {
        Some(1)
    } else if has("third") || has("3rd") {
        Some(2)
    } else if has("last") || has("latest") || has("later") {
        offered.checked_sub(1)
    } else if has("earlier")
        || has("earliest")
        || (has("one") && w.len() <= 2 && !has("another") && offered >= 1)
    {
        Some(0)
    } else {
        None
    };
    pick.filter(|i| *i < offered)
}

/// Month names as said; callers' words (lower-cased) match them ignoring case.
const MONTHS: [&str; 12] = [
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

fn spoken_number(w: &str) -> Option<u32> {
    let digits: String = w.chars().take_while(|c| c.is_ascii_digit()).collect();
    if !digits.is_empty() {
        return digits.parse().ok();
    }
    let table = [
        ("thirtieth", 30),
        ("thirty", 30),
        ("thirtyfirst", 31),
        ("twentieth", 20),
        ("twenty", 20),
        ("first", 1),
        ("second", 2),
        ("third", 3),
        ("fourth", 4),
        ("fifth", 5),
        ("sixth", 6),
        ("seventh", 7),
        ("eighth", 8),
        ("ninth", 9),
        ("tenth", 10),
        ("eleventh", 11),
        ("twelfth", 12),
        ("thirteenth", 13),
        ("fourteenth", 14),
        ("fifteenth", 15),
        ("sixteenth", 16),
        ("seventeenth", 17),
        ("eighteenth", 18),
        ("nineteenth", 19),
    ];
    table.iter().find(|(name, _)| *name == w).map(|(_, n)| *n)
}

/// A month and day that no calendar has ("February 30th", "April 31"):
/// returns the words to echo back ("February 30th").
pub fn impossible_date(text: &str) -> Option<String> {
    let w = words(text);
    for (i, word) in w.iter().enumerate() {
        let Some(m) = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(word)) else {
            continue;
        };
        let mut j = i + 1;
        if w.get(j).is_some_and(|x| x == "the") {
            j += 1;
        }
        let Some(first) = w.get(j) else { continue };
        let mut day = match spoken_number(first) {
            Some(n) => n,
            None => continue,
        };
        // "thirty first", "twenty ninth"
        if (day == 20 || day == 30)
            && !first.chars().next().is_some_and(|c| c.is_ascii_digit())
            && let Some(n) = w
                .get(j + 1)
                .and_then(|x| spoken_number(x))
                .filter(|n| *n < 10)
        {
            day += n;
        }
        let max = match m + 1 {
            2 => 29,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if day > max || day == 0 {
            return Some(format!("{} {}", MONTHS[m], ordinal(day)));
        }
    }
    None
}

/// A doctor the caller named who is not on staff: "Dr. Smith" → "Smith".
pub fn unknown_doctor(text: &str, clinic: &Clinic) -> Option<String> {
    let w = words(text);
    for (i, word) in w.iter().enumerate() {
        if word == "doctor" || word == "dr" {
            let Some(name) = w.get(i + 1) else { continue };
            if [
                "a",
                "the",
                "any",
                "someone",
                "anyone",
                "who",
                "that",
                "and",
                "or",
                "i",
                "to",
                "about",
                "is",
                "for",
                "visit",
                "appointment",
                "office",
            ]
            .contains(&name.as_str())
            {
                continue;
            }
            let known = clinic
                .providers
                .iter()
                .any(|p| p.name_words().iter().any(|n| n == name));
            if !known {
                return Some(capitalised(name));
            }
        }
    }
    None
}

/// The appointment type a caller's reason points to.
pub fn appointment_type_in<'c>(text: &str, clinic: &'c Clinic) -> Option<&'c AppointmentType> {
    let norm = normalised(text);
    // Longer keywords first: "new patient" beats "patient".
    let mut best: Option<(&AppointmentType, usize)> = None;
    for t in &clinic.appointment_types {
        for k in &t.keywords {
            if has_phrase(&norm, k) && best.is_none_or(|(_, len)| k.len() > len) {
                best = Some((t, k.len()));
            }
        }
    }
    best.map(|(t, _)| t)
        .or_else(|| type_name_misheard(text, clinic))
}

/// A type's name heard a letter or two wrong, as phone speech recognition
/// writes it ("a seek visit", "a stick visit" for a sick visit): the words
/// right before "visit" against each name's, for names ending in "visit".
fn type_name_misheard<'c>(text: &str, clinic: &'c Clinic) -> Option<&'c AppointmentType> {
    let w = words(text);
    let at = w.iter().position(|x| x == "visit" || x == "visits")?;
    let before = w.get(at.checked_sub(1)?)?;
    let mut found = clinic.appointment_types.iter().filter(|t| {
        let name = words(&t.name);
        name.len() == 2
            && name[1] == "visit"
            && name[0].len() >= 4
            && strsim::levenshtein(&name[0], before) <= 2
            && name[0].chars().next() == before.chars().next()
    });
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// An accepted plan named in `text`.
pub fn accepted_plan_in<'c>(text: &str, clinic: &'c Clinic) -> Option<&'c str> {
    let norm = normalised(text);
    clinic
        .insurance
        .iter()
        .find(|p| p.aliases.iter().any(|a| has_phrase(&norm, a)))
        .map(|p| p.name.as_str())
}

/// A well-known US payer named in `text` (accepted or not), as spoken.
pub fn known_payer_in(text: &str) -> Option<String> {
    known_payers_in(text).into_iter().next()
}

/// Every well-known US payer named in `text`, lower-case as listed.
pub fn known_payer_names_in(text: &str) -> Vec<&'static str> {
    let norm = normalised(text);
    PAYERS
        .iter()
        .copied()
        .filter(|p| has_phrase(&norm, p))
        .collect()
}

/// Every well-known US payer named in `text`, as spoken.
fn known_payers_in(text: &str) -> Vec<String> {
    known_payer_names_in(text)
        .into_iter()
        .map(|p| p.split(' ').map(capitalised).collect::<Vec<_>>().join(" "))
        .collect()
}

/// Well-known US payers, as callers name them.
const PAYERS: &[&str] = &[
    "aetna",
    "anthem",
    "blue cross",
    "blue shield",
    "cigna",
    "humana",
    "kaiser",
    "united healthcare",
    "unitedhealthcare",
    "medicare",
    "medicaid",
    "tricare",
    "oscar",
    "molina",
    "ambetter",
    "wellcare",
    "highmark",
    "centene",
    "health net",
    "amerigroup",
    "caresource",
    "bright health",
    "emblem",
    "geisinger",
    "harvard pilgrim",
    "tufts",
    "premera",
    "regence",
    "priority health",
    "medi-cal",
    "champva",
];

/// `word` with its first letter upper-cased ("émile" → "Émile"), by
/// character: caller text is any UTF-8, so the first letter may be several
/// bytes long.
pub fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "an annual physical", "a sick visit".
pub fn with_article(noun: &str) -> String {
    let vowel = noun
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

pub fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

pub fn month_name(m: u32) -> &'static str {
    MONTHS[(m.clamp(1, 12) - 1) as usize]
}

/// "9:30 AM", "2 PM", "noon".
pub fn say_time(t: NaiveTime) -> String {
    let (h, m) = (t.hour(), t.minute());
    if h == 12 && m == 0 {
        return "noon".into();
    }
    let suffix = if h < 12 { "AM" } else { "PM" };
    let h12 = match h % 12 {
        0 => 12,
        x => x,
    };
    if m == 0 {
        format!("{h12} {suffix}")
    } else {
        format!("{h12}:{m:02} {suffix}")
    }
}

/// "Tuesday the 21st" (within two weeks), else
/// "Tuesday, April 21st".
pub fn say_date(d: NaiveDate, today: NaiveDate) -> String {
    let days = (d - today).num_days();
    let day = weekday_name(d.weekday());
    if (0..14).contains(&days) {
        format!("{day} the {}", ordinal(d.day()))
    } else {
        format!("{day}, {} {}", month_name(d.month()), ordinal(d.day()))
    }
}

pub fn say_datetime(at: NaiveDateTime, today: NaiveDate) -> String {
    format!("{} at {}", say_date(at.date(), today), say_time(at.time()))
}

/// A date of birth as read back: "March 4th, 1985".
pub fn say_birth_date(d: NaiveDate) -> String {
    format!(
        "{} {}, {}",
        month_name(d.month()),
        ordinal(d.day()),
        d.year()
    )
}

/// "a, b, or c" / "a and b".
pub fn join_list(items: &[String], last_word: &str) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        2 => format!("{} {last_word} {}", items[0], items[1]),
        n => format!(
            "{}, {last_word} {}",
            items[..n - 1].join(", "),
            items[n - 1]
        ),
    }
}

fn say_range(r: &TimeRange) -> String {
    format!("{} to {}", say_time(r.start), say_time(r.end))
}

/// The week's hours, days with equal hours grouped: "Monday, Tuesday and
/// Thursday from 8 AM to 5 PM, Wednesday from 8 AM to 7 PM".
pub fn say_week_hours(clinic: &Clinic) -> String {
    let mut groups: Vec<(TimeRange, Vec<String>)> = Vec::new();
    for (i, day) in clinic.hours.0.iter().enumerate() {
        let Some(r) = day.first() else { continue };
        let name = weekday_name(Weekday::try_from(i as u8).unwrap_or(Weekday::Mon)).to_string();
        match groups.iter_mut().find(|(g, _)| g == r) {
            Some((_, days)) => days.push(name),
            None => groups.push((*r, vec![name])),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(r, days)| format!("{} from {}", join_list(days, "and"), say_range(r)))
        .collect();
    join_list(&parts, "and")
}

/// Today's hours, said relative to now: open until 5, opens at 8, closed.
pub fn say_today_hours(clinic: &Clinic, now: NaiveDateTime) -> (String, Option<String>) {
    let today = now.date();
    if let Some(h) = clinic.holiday(today) {
        return ("closed_holiday".into(), Some(h.name.clone()));
    }
    match clinic.hours_on(today) {
        None => ("closed_today".into(), None),
        Some(r) if now.time() < r.start => ("opens_today".into(), Some(say_time(r.start))),
        Some(r) if now.time() < r.end => ("open_until".into(), Some(say_time(r.end))),
        Some(r) => ("closed_for_day".into(), Some(say_time(r.end))),
    }
}

/// The digits said, in order: written ones and "zero"/"oh" to "nine"
/// ("eight oh three 0 2" → "80302"); other words are skipped.
pub fn digits_in(text: &str) -> String {
    const SPOKEN: &[(&str, char)] = &[
        ("zero", '0'),
        ("oh", '0'),
        ("o", '0'),
        ("one", '1'),
        ("two", '2'),
        ("three", '3'),
        ("four", '4'),
        ("five", '5'),
        ("six", '6'),
        ("seven", '7'),
        ("eight", '8'),
        ("nine", '9'),
    ];
    let mut out = String::new();
    for w in text.split(|c: char| c.is_whitespace() || c == ',' || c == '-' || c == '.') {
        let lower = w.to_lowercase();
        if let Some((_, d)) = SPOKEN.iter().find(|(s, _)| *s == lower) {
            out.push(*d);
        } else {
            out.extend(w.chars().filter(|c| c.is_ascii_digit()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_checks() {
        assert!(asks_to_repeat("Sorry, could you repeat that?"));
        assert!(!asks_to_repeat("I need a physical"));
        assert_eq!(leading_yes_no("actually no, keep it"), Some(false));
        assert_eq!(leading_yes_no("Uh, yeah, that's fine."), Some(true));
        assert_eq!(leading_yes_no("Nope."), Some(false));
        assert_eq!(leading_yes_no("I know what you mean"), None);
        assert_eq!(leading_yes_no("not sure"), None);
        assert!(is_greeting_only("Hi."));
        assert!(is_greeting_only("Yes, hello, good morning."));
        assert!(!is_greeting_only("Hi, I need an appointment"));
        assert!(!is_greeting_only("Um."));
        assert!(is_hold_on("Wait."));
        assert!(is_hold_on("uh, hold on one second"));
        assert!(!is_hold_on("wait, where do I park?"));
        assert!(!is_hold_on("one"));
        assert!(is_question("where do I park"));
        assert!(is_question("the one on Main Street?"));
        assert!(!is_question("the CVS on Main Street."));
        assert_eq!(year_in("1985."), Some(1985));
        let clinic = Clinic::demo();
        let type_of = |t: &str| appointment_type_in(t, &clinic).map(|a| a.id.as_str());
        assert_eq!(
            type_of("I need to seek visit Wednesday"),
            Some("sick_visit")
        );
        assert_eq!(type_of("I need to stick visit"), Some("sick_visit"));
        assert_eq!(type_of("I need a week visit"), None);
        assert_eq!(ordinal_choice("second one.", 3), Some(1));
        assert_eq!(ordinal_choice("third one", 3), Some(2));
        assert_eq!(ordinal_choice("that one", 3), Some(0));
        assert!(says_goodbye("No, that's all. Thanks."));
        assert!(says_goodbye("Okay, bye now."));
        assert!(!says_goodbye("Marie against all of us."));
        assert_eq!(leading_yes_no("actually know, keep it."), Some(false));
        assert_eq!(year_in("it's 555 1234"), None);
        assert_eq!(
            impossible_date("how about February 30th"),
            Some("February 30th".into())
        );
        assert_eq!(
            impossible_date("april thirty first please"),
            Some("April 31st".into())
        );
        assert_eq!(impossible_date("march 3rd"), None);
        assert_eq!(ordinal_choice("the second one", 3), Some(1));
        assert_eq!(ordinal_choice("the last one", 3), Some(2));
        assert_eq!(ordinal_choice("third", 2), None);
        let c = Clinic::demo();
        assert_eq!(
            unknown_doctor("can I see doctor smith", &c),
            Some("Smith".into())
        );
        assert_eq!(unknown_doctor("can I see dr. patel", &c), None);
        assert_eq!(
            appointment_type_in("I need my annual physical", &c)
                .unwrap()
                .id,
            "physical"
        );
        assert_eq!(
            appointment_type_in("I'm a new patient", &c).unwrap().id,
            "new_patient"
        );
        assert_eq!(
            accepted_plan_in("do you take blue cross", &c),
            Some("Blue Cross Blue Shield")
        );
        assert_eq!(known_payer_in("I have humana"), Some("Humana".into()));
    }

    /// Found by the `entities` and `dialogue` fuzz targets: capitalising a
    /// word whose first letter is several bytes long panicked.
    #[test]
    fn multi_byte_first_letters_are_capitalised() {
        let clinic = Clinic::demo();
        assert_eq!(
            unknown_doctor("Book with Dr. \u{c9}mile please", &clinic).as_deref(),
            Some("\u{c9}mile")
        );
        let fuzzed =
            "Can I come i\u{fb03}n tomorrow at 2:70 p.m. with Dr.\u{b2} Peed a refillatel?";
        assert_eq!(unknown_doctor(fuzzed, &clinic).as_deref(), Some("\u{b2}"));
        assert_eq!(capitalised("stra\u{df}e"), "Stra\u{df}e");
        assert_eq!(capitalised(""), "");
    }

    #[test]
    fn phrasing() {
        let today = NaiveDate::from_ymd_opt(2026, 4, 14).unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 4, 21).unwrap();
        assert_eq!(say_date(d, today), "Tuesday the 21st");
        assert_eq!(
            say_time(NaiveTime::from_hms_opt(9, 30, 0).unwrap()),
            "9:30 AM"
        );
        assert_eq!(say_time(NaiveTime::from_hms_opt(14, 0, 0).unwrap()), "2 PM");
        let far = NaiveDate::from_ymd_opt(2026, 6, 2).unwrap();
        assert_eq!(say_date(far, today), "Tuesday, June 2nd");
        let c = Clinic::demo();
        let week = say_week_hours(&c);
        assert!(
            week.starts_with("Monday, Tuesday, and Thursday from 8 AM to 5 PM"),
            "{week}"
        );
    }
}
