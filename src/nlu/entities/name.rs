//! Person names: after "my name is", "this is", "it's", "I'm", "last name
//! is"…, spelled out ("R U I Z", "r-u-i-z" → "Ruiz"), or a whole answer of two
//! or three name words ("Maria Gonzalez."). Ordinary words are never names
//! ("this is about my bill"); when Whisper capitalised the text, a lowercase
//! word is not a name either. Normal form: title case.

use super::lexicon::{COMMON, MEDICATIONS, NAMES_TOO, PHARMACY_CHAINS};
use super::normalize::{FILLERS, Utterance};

/// The caller's (or patient's) name in `text`, if one was said.
pub fn parse_person_name(text: &str) -> Option<String> {
    name_from(&Utterance::new(text))
}

/// The name in an answer to "what is your name?": like
/// [`parse_person_name`], but a lone name word ("Angela.") counts too, which
/// without that question would be too easily an ordinary word.
pub fn parse_name_answer(text: &str) -> Option<String> {
    name_answer_from(&Utterance::new(text))
}

/// [`parse_name_answer`] on a prepared utterance. Beyond a lone name word,
/// an answer may repeat a word spelled ("Ruiz, R-U-I-Z": one word, not
/// two) and open with a name that is also a word ("April Nguyen.").
pub(crate) fn name_answer_from(u: &Utterance) -> Option<String> {
    name_with(u, true)
}

#[derive(Clone, Debug)]
struct NameTok {
    lower: String,
    orig: String,
    spelled: bool,
    /// First word of the utterance (capitalised whatever it is).
    first: bool,
    /// Opens a sentence.
    sentence_start: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Full,
    First,
    Last,
}

const TRIGGERS: &[(&[&str], Kind)] = &[
    (&["my", "last", "name", "is"], Kind::Last),
    (&["last", "name", "is"], Kind::Last),
    (&["last", "name's"], Kind::Last),
    (&["last", "name"], Kind::Last),
    (&["surname", "is"], Kind::Last),
    (&["family", "name", "is"], Kind::Last),
    (&["my", "first", "name", "is"], Kind::First),
    (&["first", "name", "is"], Kind::First),
    (&["first", "name's"], Kind::First),
    (&["first", "name"], Kind::First),
    (&["my", "name", "is"], Kind::Full),
    (&["her", "name", "is"], Kind::Full),
    (&["his", "name", "is"], Kind::Full),
    (&["name", "is"], Kind::Full),
    (&["name's"], Kind::Full),
    (&["this", "is"], Kind::Full),
    (&["it's"], Kind::Full),
    (&["it", "is"], Kind::Full),
    (&["i'm"], Kind::Full),
    (&["i", "am"], Kind::Full),
    (&["im"], Kind::Full),
    (&["under"], Kind::Full),
    (&["patient", "is"], Kind::Full),
    (&["call", "me"], Kind::Full),
    (&["my", "son"], Kind::Full),
    (&["my", "daughter"], Kind::Full),
    (&["my", "husband"], Kind::Full),
    (&["my", "wife"], Kind::Full),
    (&["my", "mom"], Kind::Full),
    (&["my", "mother"], Kind::Full),
    (&["my", "dad"], Kind::Full),
    (&["my", "father"], Kind::Full),
    (&["my", "child"], Kind::Full),
    (&["my", "baby"], Kind::Full),
];

/// Titles said before a name and left out of it.
const HONORIFICS: &[&str] = &["mr", "mrs", "ms", "miss", "mister", "missus"];

/// Lowercase particles inside surnames ("de la Cruz").
const PARTICLES: &[&str] = &[
    "de", "la", "del", "van", "von", "da", "di", "le", "st", "mac", "bin",
];

/// Words said around a bare name answer ("Yes, Maria Gonzalez, speaking").
/// "Let's" and "that's" are how Whisper often hears a clipped "it's".
const AROUND_BARE: &[&str] = &[
    "yes", "yeah", "yep", "sure", "okay", "ok", "hi", "hello", "so", "it's", "let's", "that's",
    "its", "this", "is", "um", "uh", "here", "speaking", "please", "thanks", "thank", "you", "oh",
    "well", "hey",
];

fn single_letter(s: &str) -> bool {
    s.len() == 1 && s.bytes().all(|b| b.is_ascii_alphabetic())
}

/// "I, I, I" is a stutter, not a spelling: a spelled name has a vowel and
/// a consonant.
fn spelling(letters: &str) -> bool {
    let vowel = |c: char| "aeiouy".contains(c);
    letters.chars().any(vowel) && letters.chars().any(|c| !vowel(c))
}

/// Merges spelled-out letters into one word each.
fn name_tokens(u: &Utterance) -> Vec<NameTok> {
    let mut out: Vec<NameTok> = Vec::new();
    let words = &u.words;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let parts: Vec<&str> = w.lower.split('-').collect();
        if parts.len() >= 2 && parts.iter().all(|p| single_letter(p)) && spelling(&parts.concat()) {
            let s = parts.concat();
            out.push(NameTok {
                orig: s.clone(),
                lower: s,
                spelled: true,
                first: i == 0,
                sentence_start: w.sentence_start,
            });
            i += 1;
            continue;
        }
        let run = words[i..]
            .iter()
            .take_while(|w| single_letter(&w.lower))
            .count();
        let letters: String = words[i..i + run].iter().map(|w| w.lower.as_str()).collect();
        if run >= 3 && spelling(&letters) {
            let s = letters;
            out.push(NameTok {
                orig: s.clone(),
                lower: s,
                spelled: true,
                first: i == 0,
                sentence_start: w.sentence_start,
            });
            i += run;
            continue;
        }
        out.push(NameTok {
            lower: w.lower.clone(),
            orig: w.orig.clone(),
            spelled: false,
            first: i == 0,
            sentence_start: w.sentence_start,
        });
        i += 1;
    }
    out
}

fn name_like(t: &NameTok, cased: bool) -> bool {
    if t.spelled {
        return true;
    }
    let w = t.lower.as_str();
    let letters = w
        .chars()
        .all(|c| c.is_alphabetic() || c == '\'' || c == '-');
    let capital = t.orig.starts_with(|c: char| c.is_uppercase());
    if !letters || w.chars().filter(|c| c.is_alphabetic()).count() < 2 {
        return false;
    }
    if COMMON.contains(w) || w.split('-').all(|p| COMMON.contains(p)) {
        return cased && capital && !t.first && NAMES_TOO.contains(&w);
    }
    if MEDICATIONS.contains(&w) || PHARMACY_CHAINS.iter().any(|(ws, _)| ws.contains(&w)) {
        return false;
    }
    // Whisper writes acronyms ("ACL", "MRI") in capitals, names not.
    let acronym = t.orig.chars().count() > 1 && !t.orig.chars().any(char::is_lowercase);
    if cased && (!capital || acronym) {
        return false;
    }
    // "calling", "wondering": verbs, unless Whisper capitalised them.
    let verb_like = w.len() > 4 && (w.ends_with("ing") || w.ends_with("ed"));
    !(verb_like && (!capital || t.first))
}

/// Name words from `j`: up to three, particles allowed between them.
fn collect(toks: &[NameTok], mut j: usize, cased: bool) -> Vec<NameTok> {
    while toks.get(j).is_some_and(|t| {
        FILLERS.contains(&t.lower.as_str()) || HONORIFICS.contains(&t.lower.as_str())
    }) {
        j += 1;
    }
    let mut out: Vec<NameTok> = Vec::new();
    while let Some(t) = toks.get(j) {
        if out.len() >= 4 {
            break;
        }
        if name_like(t, cased) {
            push_or_respell(&mut out, t);
        } else if !out.is_empty()
            && PARTICLES.contains(&t.lower.as_str())
            && toks
                .get(j + 1)
                .is_some_and(|n| name_like(n, cased) || PARTICLES.contains(&n.lower.as_str()))
        {
            out.push(t.clone());
        } else {
            break;
        }
        j += 1;
    }
    out
}

/// "Gonzalez, G O N Z A L E Z": a spelling confirms (or corrects) a word
/// already said rather than adding one.
fn push_or_respell(out: &mut Vec<NameTok>, t: &NameTok) {
    let spelled_again = t
        .spelled
        .then(|| {
            out.iter()
                .position(|p| strsim::levenshtein(&p.lower, &t.lower) <= 2)
        })
        .flatten();
    match spelled_again {
        Some(k) => out[k] = t.clone(),
        None => out.push(t.clone()),
    }
}

pub(crate) fn name_from(u: &Utterance) -> Option<String> {
    name_with(u, false)
}

/// `answer`: the text answers "what is your name?" (see
/// [`name_answer_from`]); otherwise a name without "my name is" needs two
/// words.
fn name_with(u: &Utterance, answer: bool) -> Option<String> {
    let toks = name_tokens(u);
    let cased = u.cased;
    let mut hits: Vec<(Kind, Vec<NameTok>)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let trigger = TRIGGERS.iter().find(|(ws, _)| {
            ws.iter()
                .enumerate()
                .all(|(k, w)| toks.get(i + k).is_some_and(|t| t.lower == *w))
        });
        // "it's", "this is", "I'm" open a name only at the start of a
        // sentence ("Yes, it's Sarah Smith"), not in "it's um bit stronger".
        let opener = trigger.is_some_and(|(ws, _)| {
            matches!(
                *ws,
                ["it's"] | ["it", "is"] | ["this", "is"] | ["i'm"] | ["i", "am"] | ["im"]
            )
        });
        let trigger = trigger.filter(|_| !opener || opens_sentence(&toks, i));
        if let Some((ws, kind)) = trigger {
            let words = collect(&toks, i + ws.len(), cased);
            i += ws.len() + words.len();
            // "it's itchy", "I'm diabetic": after a weak opener one lowercase
            // word is not enough.
            let weak = !ws.contains(&"name") && !ws.contains(&"name's") && !ws.contains(&"surname");
            let one_plain = words.len() == 1 && !words[0].spelled && !cased;
            if !words.is_empty() && (!weak || !one_plain) {
                hits.push((*kind, words));
            }
        } else {
            i += 1;
        }
    }

    let last_of = |k: Kind| {
        hits.iter()
            .rev()
            .find(|(kind, _)| *kind == k)
            .map(|(_, w)| w.clone())
    };
    let mut name: Vec<NameTok> = match (
        last_of(Kind::Full),
        last_of(Kind::First),
        last_of(Kind::Last),
    ) {
        (_, Some(first), Some(last)) => first.into_iter().chain(last).collect(),
        (Some(full), None, Some(last)) if full.len() == 1 => full.into_iter().chain(last).collect(),
        (Some(mut full), _, Some(last)) => {
            full.pop();
            full.into_iter().chain(last).collect()
        }
        (Some(full), _, None) => full,
        (None, Some(first), None) => first,
        (None, None, Some(last)) => last,
        (None, None, None) => bare_name(&toks, cased, u.lowercase, answer).unwrap_or_default(),
    };

    // A spelling said apart from the name corrects the word it is closest to.
    for s in toks.iter().filter(|t| t.spelled) {
        if name.iter().any(|n| n.lower == s.lower) {
            continue;
        }
        let closest = name
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.spelled)
            .map(|(k, n)| (k, strsim::levenshtein(&n.lower, &s.lower)))
            .min_by_key(|(_, d)| *d);
        match closest {
            Some((k, d)) if d <= 2.max(s.lower.len() / 3) => name[k] = s.clone(),
            _ if name.is_empty() => name.push(s.clone()),
            _ => {}
        }
    }
    if name.is_empty() {
        return None;
    }
    let words: Vec<String> = name
        .iter()
        .enumerate()
        .map(|(k, t)| {
            if k > 0 && PARTICLES.contains(&t.lower.as_str()) {
                t.lower.clone()
            } else {
                title_case(t)
            }
        })
        .collect();
    Some(words.join(" "))
}

/// Only greetings and fillers stand between the sentence start and `i`.
fn opens_sentence(toks: &[NameTok], i: usize) -> bool {
    let mut k = i;
    loop {
        if toks[k].sentence_start || k == 0 {
            return true;
        }
        k -= 1;
        let w = toks[k].lower.as_str();
        if !AROUND_BARE.contains(&w) && !FILLERS.contains(&w) {
            return false;
        }
    }
}

/// The whole answer is a name: "Maria Gonzalez." / "yes, john smith".
fn bare_name(toks: &[NameTok], cased: bool, lowercase: bool, answer: bool) -> Option<Vec<NameTok>> {
    // "Mr. Ruiz." answers with a title, left out of the name.
    let opens = |w: &str| AROUND_BARE.contains(&w) || (answer && HONORIFICS.contains(&w));
    let start = toks.iter().take_while(|t| opens(t.lower.as_str())).count();
    let end = toks.len()
        - toks[start..]
            .iter()
            .rev()
            .take_while(|t| AROUND_BARE.contains(&t.lower.as_str()))
            .count();
    let mut core = toks[start..end].to_vec();
    if answer {
        // "Ruiz, R-U-I-Z": the spelling is the word said, not another one.
        let said = std::mem::take(&mut core);
        for t in &said {
            push_or_respell(&mut core, t);
        }
    }
    let single_spelled = core.len() == 1 && core[0].spelled;
    // Whisper capitalises names; "Makes sense." is not one. Text written
    // all in lowercase gives no such hint.
    // A spelling says it is a name however Whisper wrote its letters.
    let capitalised = |t: &NameTok| {
        lowercase || t.orig.starts_with(|c: char| c.is_uppercase()) || (answer && t.spelled)
    };
    // Asked for a name, "April Nguyen." opens with one: written with a
    // capital, or beside another name word ("april nguyen").
    let beside_a_name = core.len() >= 2;
    let also_a_word = |t: &NameTok| {
        answer
            && NAMES_TOO.contains(&t.lower.as_str())
            && (beside_a_name || t.orig.starts_with(|c: char| c.is_uppercase()))
    };
    let min_words = if answer { 1 } else { 2 };
    let all_names = (min_words..=3).contains(&core.len())
        && core
            .iter()
            .all(|t| (name_like(t, cased) || also_a_word(t)) && capitalised(t));
    (single_spelled || all_names).then_some(core)
}

/// "o'neil" → "O'Neil", "smith-jones" → "Smith-Jones"; a name Whisper wrote
/// with inner capitals ("McDonald") is kept as written.
fn title_case(t: &NameTok) -> String {
    let inner_caps = t.orig.chars().skip(1).any(|c| c.is_uppercase());
    let all_caps = !t.orig.chars().any(|c| c.is_lowercase());
    if !t.spelled && inner_caps && !all_caps {
        return t.orig.clone();
    }
    let mut out = String::with_capacity(t.lower.len());
    let mut upper_next = true;
    for c in t.lower.chars() {
        if upper_next {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        upper_next = c == '\'' || c == '-';
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_to_what_is_your_name() {
        assert_eq!(parse_name_answer("Angela.").as_deref(), Some("Angela"));
        assert_eq!(parse_name_answer("angela").as_deref(), Some("Angela"));
        assert_eq!(
            parse_name_answer("Yes, Maria Gonzalez.").as_deref(),
            Some("Maria Gonzalez")
        );
        assert_eq!(
            parse_name_answer("Let's Marie Gonzalez.").as_deref(),
            Some("Marie Gonzalez")
        );
        assert_eq!(parse_name_answer("Tomorrow.").as_deref(), None);
        assert_eq!(parse_name_answer("Sure.").as_deref(), None);
        // Without the question a lone word is not taken.
        assert_eq!(parse_person_name("Angela."), None);
    }

    #[test]
    fn said_spelled_and_bare_names() {
        let cases: &[(&str, Option<&str>)] = &[
            ("it's maria gonzalez", Some("Maria Gonzalez")),
            ("my name is john smith", Some("John Smith")),
            (
                "Hi, this is Tom Lee-born May 5, 1990. I need a sick visit",
                Some("Tom Lee"),
            ),
            ("This is Dana O'Neil.", Some("Dana O'Neil")),
            ("this is dana o'neil", Some("Dana O'Neil")),
            (
                "Hi, yes, my name is Keisha Washington, and I'm calling about my bill.",
                Some("Keisha Washington"),
            ),
            ("Um, yeah, so, it's, uh, Robert Chen.", Some("Robert Chen")),
            ("I'm Priya.", Some("Priya")),
            ("R U I Z", Some("Ruiz")),
            ("r-u-i-z", Some("Ruiz")),
            ("R-U-I-Z.", Some("Ruiz")),
            ("last name is g o n z a l e z", Some("Gonzalez")),
            ("My last name is Nguyen, N-G-U-Y-E-N.", Some("Nguyen")),
            (
                "my name is maria gonzales, that's g o n z a l e z",
                Some("Maria Gonzalez"),
            ),
            ("first name john last name smith", Some("John Smith")),
            ("It's Carlos, last name Ruiz, R-U-I-Z.", Some("Carlos Ruiz")),
            ("Maria Gonzalez.", Some("Maria Gonzalez")),
            ("Makes sense.", None),
            ("Fantastic, brilliant.", None),
            ("Hmm, wow.", None),
            ("Um, it's kind of all over, it's um bit, stronger.", None),
            ("I, I, I don't know.", None),
            ("I think it's like ACL or something.", None),
            ("<UNSURE>Mmm</UNSURE>.", None),
            (
                "Hello there. Uh, good afternoon. This is Jack.",
                Some("Jack"),
            ),
            ("yes, john smith", Some("John Smith")),
            ("My name is Maria de la Cruz.", Some("Maria de la Cruz")),
            ("This is Sean McDonald.", Some("Sean McDonald")),
            (
                "I'm calling for my mother, her name is Rosa Diaz.",
                Some("Rosa Diaz"),
            ),
            // Not names.
            ("this is about my bill", None),
            ("It's about my prescription.", None),
            ("I'm calling to reschedule", None),
            ("I'm not sure", None),
            ("it's for my son", None),
            ("I'm diabetic and I need a refill.", None),
            ("Yeah, tomorrow works.", None),
            ("I need a refill on my lisinopril.", None),
            ("Doctor Patel please", None),
            ("it's 555-123-4567", None),
            ("", None),
        ];
        let mut bad = Vec::new();
        for (text, want) in cases {
            let got = parse_person_name(text);
            let got = got.as_deref();
            if got != *want {
                bad.push(format!("{text:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

#[cfg(test)]
mod born_is_not_a_name {
    #[test]
    fn a_date_of_birth_after_the_name_is_not_part_of_it() {
        let got = super::super::parse_person_name(
            "um yeah hi this is maria gonzalez born 3/4/85 I need to move my appointment",
        );
        assert_eq!(got.as_deref(), Some("Maria Gonzalez"));
    }
}
