//! What a refill request names: the medication ("my lisinopril" →
//! "lisinopril", "my blood pressure medicine") and the pharmacy ("the CVS on
//! Main Street" → "CVS on Main Street"). Both are free text for the clinical
//! task; known drug and chain names are spelled the usual way.

use super::lexicon::{COMMON, MEDICATIONS, NUMBER_WORDS, PHARMACY_CHAINS};
use super::normalize::Utterance;

/// The medication named in `text`, if any (lowercase).
pub fn parse_medication(text: &str) -> Option<String> {
    medication_from(&Utterance::new(text))
}

/// The pharmacy named in `text`, if any.
pub fn parse_pharmacy(text: &str) -> Option<String> {
    pharmacy_from(&Utterance::new(text))
}

/// Words that describe what a medicine is for ("my blood pressure pills").
const CONDITION_WORDS: &[&str] = &[
    "blood",
    "pressure",
    "sugar",
    "cholesterol",
    "thyroid",
    "allergy",
    "allergies",
    "heart",
    "diabetes",
    "asthma",
    "pain",
    "anxiety",
    "depression",
    "sleep",
    "sleeping",
    "birth",
    "control",
    "water",
    "acid",
    "reflux",
    "seizure",
    "migraine",
    "nerve",
    "stomach",
];

/// Nouns that end a medication phrase: "my X prescription".
const MED_HEADS: &[&str] = &[
    "prescription",
    "prescriptions",
    "refill",
    "refilled",
    "medication",
    "medications",
    "medicine",
    "medicines",
    "meds",
    "pills",
    "pill",
    "tablets",
    "filled",
    "renewed",
];

/// Generic words that are not the medication itself.
const NOT_A_MED: &[&str] = &[
    "prescription",
    "prescriptions",
    "medication",
    "medications",
    "medicine",
    "medicines",
    "meds",
    "pills",
    "pill",
    "refill",
    "refills",
    "it",
    "them",
    "one",
    "ones",
    "stuff",
    "usual",
    "regular",
    "same",
    "normal",
    "daily",
    "pharmacy",
];

fn lex_med(w: &str) -> Option<&'static str> {
    if let Some(m) = MEDICATIONS.iter().find(|m| **m == w) {
        return Some(m);
    }
    if w.len() < 6 || COMMON.contains(w) {
        return None;
    }
    // Whisper's spelling of a drug it half knows: "lysinopril".
    let tol = if w.len() >= 9 { 2 } else { 1 };
    MEDICATIONS
        .iter()
        .filter(|m| m.len() >= 6)
        .map(|m| (m, strsim::levenshtein(m, w)))
        .filter(|(_, d)| *d <= tol)
        .min_by_key(|(_, d)| *d)
        .map(|(m, _)| *m)
}

pub(crate) fn medication_from(u: &Utterance) -> Option<String> {
    let w: Vec<&str> = u.words.iter().map(|w| w.lower.as_str()).collect();
    let mut known: Vec<&str> = Vec::new();
    for word in &w {
        if let Some(m) = lex_med(word)
            && !known.contains(&m)
        {
            known.push(m);
        }
    }
    if !known.is_empty() {
        return Some(known.join(" and "));
    }
    let refill_talk = w.iter().any(|x| {
        matches!(
            *x,
            "refill"
                | "refilled"
                | "prescription"
                | "medication"
                | "medicine"
                | "meds"
                | "pills"
                | "renew"
                | "renewed"
                | "filled"
                | "inhaler"
        )
    });
    if !refill_talk {
        return None;
    }
    // Words of the phrase: unknown words (drug names Whisper spelled its own
    // way) and the words for what it treats.
    let med_word = |x: &str| {
        x.chars().all(|c| c.is_alphabetic() || c == '-')
            && (CONDITION_WORDS.contains(&x) || !COMMON.contains(x))
            && !NOT_A_MED.contains(&x)
            && !MED_HEADS.contains(&x)
    };
    for (i, x) in w.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| w[p]);
        let opens = match *x {
            "refill" | "renew" => true,
            "of" => matches!(prev, Some("out" | "refill" | "prescription")),
            "for" => matches!(prev, Some("refill" | "prescription")),
            _ => false,
        };
        if !opens {
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while w
            .get(j)
            .is_some_and(|x| matches!(*x, "on" | "of" | "for" | "my" | "the" | "a" | "her" | "his"))
        {
            j += 1;
        }
        let phrase: Vec<&str> = w[j..]
            .iter()
            .take_while(|x| med_word(x))
            .take(3)
            .copied()
            .collect();
        if !phrase.is_empty() {
            return Some(with_head(&phrase, w.get(j + phrase.len()).copied()));
        }
    }
    // "my metoprolol refilled", "my blood pressure medicine".
    for (i, x) in w.iter().enumerate() {
        if !matches!(*x, "my" | "the" | "her" | "his") {
            continue;
        }
        let phrase: Vec<&str> = w[i + 1..]
            .iter()
            .take_while(|x| med_word(x))
            .take(3)
            .copied()
            .collect();
        let after = w.get(i + 1 + phrase.len()).copied();
        if !phrase.is_empty() && after.is_some_and(|a| MED_HEADS.contains(&a) || a == "inhaler") {
            return Some(with_head(&phrase, after));
        }
    }
    None
}

/// "blood pressure" + "medicine" → "blood pressure medicine"; a drug name
/// stands alone.
fn with_head(phrase: &[&str], after: Option<&str>) -> String {
    let descriptive = phrase.iter().all(|x| CONDITION_WORDS.contains(x));
    match after {
        Some(
            h @ ("medication" | "medicine" | "meds" | "pills" | "pill" | "tablets" | "inhaler"),
        ) if descriptive || h == "inhaler" => {
            format!("{} {h}", phrase.join(" "))
        }
        _ => phrase.join(" "),
    }
}

/// Words that can sit inside a pharmacy's location though they are common.
const PLACE_WORDS: &[&str] = &[
    "street",
    "avenue",
    "road",
    "drive",
    "lane",
    "boulevard",
    "way",
    "the",
    "and",
    "of",
    "north",
    "south",
    "east",
    "west",
    "highway",
    "route",
    "center",
    "plaza",
    "mall",
    "square",
    "park",
    "hill",
    "downtown",
    "main",
    "corner",
];

const SMALL_WORDS: &[&str] = &["the", "and", "of"];

pub(crate) fn pharmacy_from(u: &Utterance) -> Option<String> {
    let w: Vec<&str> = u.words.iter().map(|w| w.lower.as_str()).collect();
    let mut found: Option<String> = None;
    let mut i = 0;
    while i < w.len() {
        let chain = PHARMACY_CHAINS
            .iter()
            .filter(|(ws, _)| w.len() >= i + ws.len() && w[i..i + ws.len()] == **ws)
            .max_by_key(|(ws, _)| ws.len());
        let Some((ws, canonical)) = chain else {
            i += 1;
            continue;
        };
        // "Target" the word is a chain only near pharmacy talk.
        if *canonical == "Target"
            && !w
                .iter()
                .any(|x| matches!(*x, "pharmacy" | "prescription" | "refill" | "send"))
        {
            i += 1;
            continue;
        }
        let mut j = i + ws.len();
        let mut name = canonical.to_string();
        if w.get(j).is_some_and(|x| matches!(*x, "pharmacy" | "store")) {
            j += 1;
        }
        if let Some(loc) = location_at(&w, j) {
            name = format!("{name} {loc}");
        }
        found = Some(name);
        i = j.max(i + 1);
    }
    if found.is_some() {
        return found;
    }
    // "Smith's Pharmacy", "my pharmacy is Green Valley Drugs".
    for (i, x) in w.iter().enumerate() {
        if *x == "pharmacy" {
            let before: Vec<&str> = w[..i]
                .iter()
                .rev()
                .take_while(|x| {
                    !COMMON.contains(*x) && x.chars().all(|c| c.is_alphabetic() || c == '\'')
                })
                .take(3)
                .copied()
                .collect();
            if !before.is_empty() {
                let mut words: Vec<&str> = before.into_iter().rev().collect();
                words.push("pharmacy");
                let mut name = title(&words);
                if let Some(loc) = location_at(&w, i + 1) {
                    name = format!("{name} {loc}");
                }
                return Some(name);
            }
            if w.get(i + 1) == Some(&"is") {
                let after: Vec<&str> = w[i + 2..]
                    .iter()
                    .take_while(|x| !COMMON.contains(*x))
                    .take(4)
                    .copied()
                    .collect();
                if !after.is_empty() {
                    return Some(title(&after));
                }
            }
        }
    }
    None
}

/// "on main street" → "on Main Street".
fn location_at(w: &[&str], j: usize) -> Option<String> {
    let prep = *w.get(j)?;
    let (prep, k) = match prep {
        "on" | "at" | "in" | "by" | "near" | "off" => (prep, j + 1),
        "over" if w.get(j + 1) == Some(&"on") => ("on", j + 2),
        "across" if w.get(j + 1) == Some(&"from") => ("across from", j + 2),
        _ => return None,
    };
    let mut words: Vec<&str> = w[k..]
        .iter()
        .take_while(|x| {
            PLACE_WORDS.contains(x)
                || NUMBER_WORDS.split_whitespace().any(|n| n == **x)
                || (!COMMON.contains(*x) && x.chars().all(|c| c.is_alphanumeric() || c == '\''))
        })
        .take(5)
        .copied()
        .collect();
    while words.last().is_some_and(|x| SMALL_WORDS.contains(x)) {
        words.pop();
    }
    if words.is_empty() {
        return None;
    }
    let place: Vec<String> = words
        .iter()
        .map(|x| {
            if SMALL_WORDS.contains(x) {
                x.to_string()
            } else {
                title(&[x])
            }
        })
        .collect();
    Some(format!("{prep} {}", place.join(" ")))
}

fn title(words: &[&str]) -> String {
    words
        .iter()
        .enumerate()
        .map(|(k, x)| {
            if k > 0 && SMALL_WORDS.contains(x) {
                x.to_string()
            } else {
                let mut c = x.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medications() {
        let cases: &[(&str, Option<&str>)] = &[
            ("my lisinopril", Some("lisinopril")),
            ("I need a refill on my lisinopril.", Some("lisinopril")),
            (
                "Hi, I need a refill of my Metformin, please.",
                Some("metformin"),
            ),
            ("I'm out of my atorvastatin", Some("atorvastatin")),
            ("I need my lysinopril refilled", Some("lisinopril")),
            (
                "I need a refill on my blood pressure medicine",
                Some("blood pressure medicine"),
            ),
            ("can you renew my albuterol inhaler", Some("albuterol")),
            ("I need my inhaler refilled", Some("inhaler")),
            ("my zyrtecs prescription ran out", Some("zyrtecs")),
            (
                "I need a refill on my lisinopril and metformin",
                Some("lisinopril and metformin"),
            ),
            ("I need a refill on my birth control", Some("birth control")),
            ("I need a refill", None),
            ("I have a question about my bill", None),
            ("my prescription", None),
            ("", None),
        ];
        let mut bad = Vec::new();
        for (text, want) in cases {
            let got = parse_medication(text);
            let got = got.as_deref();
            if got != *want {
                bad.push(format!("{text:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn pharmacies() {
        let cases: &[(&str, Option<&str>)] = &[
            ("the CVS on Main Street", Some("CVS on Main Street")),
            ("the cvs on main street", Some("CVS on Main Street")),
            (
                "Send it to the Walgreens on 5th Avenue, please.",
                Some("Walgreens on 5th Avenue"),
            ),
            (
                "the walgreens pharmacy at main and elm",
                Some("Walgreens at Main and Elm"),
            ),
            ("Rite Aid", Some("Rite Aid")),
            ("the rite aid by the mall", Some("Rite Aid by the Mall")),
            ("Costco.", Some("Costco")),
            (
                "the Walmart pharmacy in Springfield",
                Some("Walmart in Springfield"),
            ),
            (
                "Smith's Pharmacy on Oak Street",
                Some("Smith's Pharmacy on Oak Street"),
            ),
            (
                "my pharmacy is Green Valley Drugs",
                Some("Green Valley Drugs"),
            ),
            ("I'm at the target", None),
            ("I need a refill", None),
            ("the pharmacy", None),
        ];
        let mut bad = Vec::new();
        for (text, want) in cases {
            let got = parse_pharmacy(text);
            let got = got.as_deref();
            if got != *want {
                bad.push(format!("{text:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
