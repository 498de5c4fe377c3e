//! One pass over a Whisper transcript that every parser shares: punctuation
//! cleaned the way Whisper writes it, number words turned into digits
//! (`text2num`), and the text cut into tokens.

use std::sync::LazyLock;

use text2num::{Language, replace_numbers_in_text};

/// Built once: `Language::english()` allocates its word tables.
static ENGLISH: LazyLock<Language> = LazyLock::new(Language::english);

/// A token of the numeric view of an utterance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A lowercase word.
    Word(String),
    /// Digits as heard, leading zeros kept ("03", "0", "621").
    Num(String),
    /// "4th", "twenty first" → 21.
    Ord(u32),
    /// Whisper's date notation: "3/4/85", "03-04-1985", "6/3".
    Slash(Vec<String>),
    /// Whisper's clock notation: "2:30" → (2, 30).
    Clock(u32, u32),
}

impl Tok {
    pub(crate) fn word(&self) -> Option<&str> {
        match self {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }

    pub(crate) fn is(&self, w: &str) -> bool {
        self.word() == Some(w)
    }

    pub(crate) fn is_any(&self, ws: &[&str]) -> bool {
        self.word().is_some_and(|w| ws.contains(&w))
    }

    pub(crate) fn num(&self) -> Option<&str> {
        match self {
            Tok::Num(n) => Some(n),
            _ => None,
        }
    }
}

/// A word of the caller's text as written (for names) and lowercased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Word {
    pub orig: String,
    pub lower: String,
    /// The word opens a sentence (Whisper's `.`, `?` or `!` before it).
    pub sentence_start: bool,
}

/// An utterance prepared once for all parsers.
#[derive(Clone, Debug)]
pub(crate) struct Utterance {
    /// Numeric view: numbers in digits, lowercase words.
    pub toks: Vec<Tok>,
    /// Word view: the words as Whisper wrote them, no number conversion.
    pub words: Vec<Word>,
    /// Whisper capitalised words inside sentences, so case can be trusted:
    /// a lowercase word is then not a name.
    pub cased: bool,
    /// No capital letter anywhere: case says nothing.
    pub lowercase: bool,
}

impl Utterance {
    pub(crate) fn new(text: &str) -> Self {
        let cleaned = clean(text);
        let mut words: Vec<Word> = Vec::new();
        let mut sentence_start = true;
        for w in cleaned.split_whitespace() {
            if w == SENTENCE_END {
                // "Dr. Patel" does not end a sentence.
                let abbreviation = words.last().is_some_and(|p| {
                    matches!(
                        p.lower.as_str(),
                        "dr" | "mr" | "mrs" | "ms" | "st" | "jr" | "sr"
                    )
                });
                sentence_start |= !abbreviation;
                continue;
            }
            words.push(Word {
                orig: w.to_string(),
                lower: w.to_lowercase(),
                sentence_start,
            });
            sentence_start = false;
        }
        let lower = mark_meridiem(&text.to_lowercase());
        let numeric = letter_hyphens_to_spaces(&clean(&lower));
        let converted = replace_numbers_in_text(&numeric, &*ENGLISH, 0.0);
        let toks = misheard_weekdays(converted.split_whitespace().flat_map(tokenize).collect());
        Utterance {
            toks,
            words,
            cased: trusts_case(text),
            lowercase: !text.chars().any(char::is_uppercase),
        }
    }
}

/// Whisper tiny.en on a phone line writes "Wednesday" as "once day" or
/// "one day" before a part of the day (neither a phrase of its own: "once a
/// day" keeps its "a").
/// It also writes "nineteen ninety" as "1900, 90": one year.
fn misheard_weekdays(toks: Vec<Tok>) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    for t in toks {
        let once = out.last().is_some_and(|p| p.is("once"));
        if t.is("day") && once {
            out.pop();
            out.push(Tok::Word("wednesday".into()));
        } else if t.is_any(&["morning", "afternoon", "evening"])
            && out.len() >= 2
            && out[out.len() - 1].is("day")
            && matches!(&out[out.len() - 2], Tok::Num(n) if n == "1")
        {
            // "one day afternoon": Wednesday afternoon.
            out.truncate(out.len() - 2);
            out.push(Tok::Word("wednesday".into()));
            out.push(t);
        } else if let Tok::Num(n) = &t
            && n.len() == 2
            && !n.starts_with('0')
            && out.last().is_some_and(|p| p.num() == Some("1900"))
        {
            out.pop();
            out.push(Tok::Num(format!("19{n}")));
        } else {
            out.push(t);
        }
    }
    out
}

/// True when a word that does not start a sentence is capitalised (beyond
/// "I", "I'm"…), which is how Whisper writes names.
fn trusts_case(text: &str) -> bool {
    let mut sentence_start = true;
    for raw in text.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let capital = word.starts_with(|c: char| c.is_uppercase());
        let pronoun = matches!(word, "I" | "I'm" | "I'd" | "I've" | "I'll" | "I’m" | "I’d");
        let all_caps = word.len() > 1 && !word.chars().any(|c| c.is_lowercase());
        if capital && !sentence_start && !pronoun && !all_caps {
            return true;
        }
        sentence_start = raw.ends_with(['.', '?', '!']) || word.is_empty() && sentence_start;
    }
    false
}

/// "2:30 p.m." → "2:30 pm ", "a. m." → " am ".
fn mark_meridiem(lower: &str) -> String {
    let mut s = lower.to_string();
    for (from, to) in [
        ("a. m.", " am "),
        ("p. m.", " pm "),
        ("a.m.", " am "),
        ("p.m.", " pm "),
        ("a.m", " am "),
        ("p.m", " pm "),
    ] {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    s
}

/// Marks where Whisper ended a sentence, as a word of its own.
const SENTENCE_END: &str = "\u{1}";

/// Keeps letters and digits; keeps `'` inside words, `-` between letters or
/// between digits, and `/ : .` between digits; drops markup such as
/// `[BLANK_AUDIO]` or `<UNSURE>`; marks sentence ends; everything else
/// becomes a space.
/// Whisper joins "born" to the name before it: "Tom Lee-born May 5".
static HYPHEN_BORN: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"(?i)(\w)-(born|borne)\b").expect("valid regex"));

fn clean(text: &str) -> String {
    let text = HYPHEN_BORN.replace_all(text, "$1 born");
    let chars: Vec<char> = text
        .chars()
        .map(|c| if c == '’' || c == '‘' { '\'' } else { c })
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut in_markup: Option<char> = None;
    for (i, &c) in chars.iter().enumerate() {
        if let Some(close) = in_markup {
            if c == close {
                in_markup = None;
            }
            out.push(' ');
            continue;
        }
        if c == '<' || c == '[' {
            in_markup = Some(if c == '<' { '>' } else { ']' });
            out.push(' ');
            continue;
        }
        let prev = if i > 0 {
            chars.get(i - 1).copied()
        } else {
            None
        };
        let next = chars.get(i + 1).copied();
        let keep = if c.is_alphanumeric() {
            true
        } else {
            let both = |f: fn(char) -> bool| prev.is_some_and(f) && next.is_some_and(f);
            match c {
                '\'' => {
                    both(char::is_alphabetic)
                        || (prev.is_some_and(|p| p.is_alphabetic()) && next == Some('s'))
                }
                '-' => both(char::is_alphabetic) || both(|c| c.is_ascii_digit()),
                '/' | ':' | '.' => both(|c| c.is_ascii_digit()),
                _ => false,
            }
        };
        if keep {
            out.push(c);
        } else if matches!(c, '.' | '?' | '!') {
            out.push(' ');
            out.push_str(SENTENCE_END);
            out.push(' ');
        } else {
            out.push(' ');
        }
    }
    out
}

/// "twenty-one" → "twenty one" for number conversion; "555-123" stays.
fn letter_hyphens_to_spaces(cleaned: &str) -> String {
    let chars: Vec<char> = cleaned.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let digit_before = i > 0 && chars[i - 1].is_ascii_digit();
            if c == '-' && !digit_before { ' ' } else { c }
        })
        .collect()
}

fn tokenize(raw: &str) -> Vec<Tok> {
    let raw = raw.trim_matches(|c: char| !c.is_alphanumeric());
    if raw.is_empty() {
        return Vec::new();
    }
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if is_digits(raw) {
        return vec![Tok::Num(raw.to_string())];
    }
    if raw.starts_with(|c: char| c.is_ascii_digit()) {
        // "2.30pm", "10:15am": the clock, then the meridiem.
        let letters = raw.len()
            - raw
                .trim_end_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let head = &raw[..raw.len() - letters];
        if letters > 0 && !head.bytes().all(|b| b.is_ascii_digit()) {
            let mut out = tokenize(head);
            out.push(Tok::Word(raw[head.len()..].to_string()));
            return out;
        }
        if let Some((h, m)) = raw.split_once(':')
            && is_digits(h)
            && is_digits(m)
            && h.len() <= 2
            && m.len() == 2
            && let (Ok(h), Ok(m)) = (h.parse(), m.parse())
        {
            return vec![Tok::Clock(h, m)];
        }
        let parts: Vec<&str> = raw.split(['/', '-', '.']).collect();
        if parts.len() > 1 && parts.iter().all(|p| is_digits(p)) {
            let short = |p: &str| p.len() <= 2;
            let date_shaped = match parts.as_slice() {
                [m, d] => raw.contains('/') && short(m) && short(d),
                [m, d, y] => short(m) && short(d) && (y.len() == 2 || y.len() == 4),
                _ => false,
            };
            if date_shaped {
                return vec![Tok::Slash(parts.iter().map(|p| p.to_string()).collect())];
            }
            if raw.contains('.')
                && parts.len() == 2
                && parts[1].len() == 2
                && let (Ok(h), Ok(m)) = (parts[0].parse::<u32>(), parts[1].parse::<u32>())
                && h <= 23
            {
                return vec![Tok::Clock(h, m)];
            }
            return parts.iter().map(|p| Tok::Num(p.to_string())).collect();
        }
        let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
        let (digits, rest) = raw.split_at(split);
        if is_digits(digits) && rest.chars().all(char::is_alphabetic) {
            if matches!(rest, "st" | "nd" | "rd" | "th")
                && let Ok(n) = digits.parse()
            {
                return vec![Tok::Ord(n)];
            }
            return vec![Tok::Num(digits.to_string()), Tok::Word(rest.to_string())];
        }
    }
    vec![Tok::Word(raw.to_string())]
}

/// Words that carry nothing between digits or around a value.
pub(crate) const FILLERS: &[&str] = &[
    "um", "uh", "umm", "uhh", "uhm", "er", "erm", "ah", "hmm", "mm", "mhm", "like",
];

/// Words that start a self-correction: the value after them replaces the one
/// before.
pub(crate) const CORRECTIONS: &[&str] = &[
    "no",
    "sorry",
    "wait",
    "mean",
    "actually",
    "correction",
    "oops",
    "scratch",
    "nope",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        Utterance::new(s).toks
    }

    fn n(s: &str) -> Tok {
        Tok::Num(s.into())
    }

    fn w(s: &str) -> Tok {
        Tok::Word(s.into())
    }

    #[test]
    fn whisper_notations_become_tokens() {
        assert_eq!(toks("555-123-4567."), vec![n("555"), n("123"), n("4567")]);
        assert_eq!(toks("(555) 123-4567"), vec![n("555"), n("123"), n("4567")]);
        assert_eq!(
            toks("3/4/85"),
            vec![Tok::Slash(vec!["3".into(), "4".into(), "85".into()])]
        );
        assert_eq!(
            toks("03-04-1985"),
            vec![Tok::Slash(vec!["03".into(), "04".into(), "1985".into()])]
        );
        assert_eq!(toks("2:30 p.m."), vec![Tok::Clock(2, 30), w("pm")]);
        assert_eq!(toks("3pm"), vec![n("3"), w("pm")]);
        assert_eq!(toks("March 4th,"), vec![w("march"), Tok::Ord(4)]);
        assert_eq!(toks("Oh 621-87."), vec![w("oh"), n("621"), n("87")]);
    }

    #[test]
    fn number_words_become_digits() {
        assert_eq!(toks("twenty-one eighty-seven"), vec![n("21"), n("87")]);
        assert_eq!(toks("the fourth"), vec![w("the"), Tok::Ord(4)]);
        assert_eq!(toks("Dana O'Neil")[1], w("o'neil"));
    }

    #[test]
    fn word_view_keeps_case_and_hyphens() {
        let u = Utterance::new("This is Dana O’Neil, R-U-I-Z.");
        let orig: Vec<&str> = u.words.iter().map(|w| w.orig.as_str()).collect();
        assert_eq!(orig, ["This", "is", "Dana", "O'Neil", "R-U-I-Z"]);
        let u = Utterance::new("Um, hi. [BLANK_AUDIO] It's <UNSURE>Jo</UNSURE> Dr. Lee.");
        let orig: Vec<&str> = u.words.iter().map(|w| w.orig.as_str()).collect();
        assert_eq!(orig, ["Um", "hi", "It's", "Jo", "Dr", "Lee"]);
        let starts: Vec<bool> = u.words.iter().map(|w| w.sentence_start).collect();
        assert_eq!(starts, [true, false, true, false, false, false]);
    }
}
