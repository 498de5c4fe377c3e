//! Providers, matched against the clinic's roster: by last name ("doctor
//! patel", "dr patel", "patel"), first name ("anika"), full name, or title
//! ("the nurse practitioner", when only one provider has it), forgiving
//! Whisper's spelling of names within a small edit distance ("Dr. Pattel").
//! An ambiguous mention (two providers share it) gives none; the last
//! provider mentioned wins.

use serde::{Deserialize, Serialize};

use super::lexicon::COMMON;
use super::normalize::Utterance;

/// One provider as the clinic configuration lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterEntry {
    /// The provider id used in `Entities::provider`.
    pub id: String,
    /// As written in the configuration: "Dr. Anika Patel".
    pub name: String,
    /// "MD", "NP", "nurse practitioner", "family physician"…
    pub title: String,
}

#[derive(Clone, Debug)]
struct Indexed {
    id: String,
    /// Lowercase name words without honorifics: ["anika", "patel"].
    names: Vec<String>,
    /// Lowercase phrases that name the role: ["nurse", "practitioner"], ["np"].
    titles: Vec<Vec<String>>,
}

/// The clinic's providers, indexed for matching what callers say.
#[derive(Clone, Debug, Default)]
pub struct ProviderRoster {
    providers: Vec<Indexed>,
}

/// Title abbreviations and the words callers use for them.
const TITLE_ALIASES: &[(&str, &[&str])] = &[
    ("np", &["nurse practitioner"]),
    ("nurse practitioner", &["np", "n p"]),
    (
        "pa",
        &[
            "physician assistant",
            "physician's assistant",
            "physicians assistant",
        ],
    ),
    (
        "pa-c",
        &[
            "physician assistant",
            "physician's assistant",
            "physicians assistant",
        ],
    ),
    (
        "physician assistant",
        &["pa", "p a", "physician's assistant", "physicians assistant"],
    ),
    (
        "family physician",
        &["family doctor", "family medicine doctor"],
    ),
    (
        "pediatrician",
        &["pediatrician", "kids doctor", "children's doctor"],
    ),
    ("md", &[]),
    ("do", &[]),
];

const HONORIFICS: &[&str] = &[
    "dr", "doctor", "mr", "mrs", "ms", "miss", "nurse", "md", "np", "pa", "do", "jr", "sr",
];

fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

impl ProviderRoster {
    pub fn new(providers: Vec<RosterEntry>) -> Self {
        let providers = providers
            .into_iter()
            .map(|p| {
                let names = words(&p.name)
                    .into_iter()
                    .filter(|w| !HONORIFICS.contains(&w.as_str()) && w.len() > 1)
                    .collect();
                let title = p.title.to_lowercase();
                let mut titles: Vec<Vec<String>> = vec![words(&title)];
                for (key, aliases) in TITLE_ALIASES {
                    if title.trim() == *key {
                        titles.extend(aliases.iter().map(|a| words(a)));
                    }
                }
                titles.retain(|t| {
                    !t.is_empty() && (t.len() != 1 || !matches!(t[0].as_str(), "md" | "do"))
                });
                Indexed {
                    id: p.id,
                    names,
                    titles,
                }
            })
            .collect();
        ProviderRoster { providers }
    }

    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// Whether `word` (lowercase) is a provider's name word, for the name
    /// parser to leave alone.
    pub(crate) fn has_name_word(&self, word: &str) -> bool {
        self.providers
            .iter()
            .any(|p| p.names.iter().any(|n| n == word))
    }
}

/// Largest edit distance forgiven for a name of `len` letters.
fn tolerance(len: usize, after_doctor: bool) -> usize {
    match (len, after_doctor) {
        (0..=3, _) => 0,
        (4, true) => 1,
        (_, true) => 2,
        (4..=5, false) => 0,
        (6..=8, false) => 1,
        (_, false) => 2,
    }
}

/// The provider id in `text`, if one provider of `roster` was named.
pub fn parse_provider(text: &str, roster: &ProviderRoster) -> Option<String> {
    provider_from(&Utterance::new(text), roster)
}

pub(crate) fn provider_from(u: &Utterance, roster: &ProviderRoster) -> Option<String> {
    let toks: Vec<&str> = u.words.iter().map(|w| w.lower.as_str()).collect();
    // (position, candidate provider indices) per mention.
    let mut mentions: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, w) in toks.iter().enumerate() {
        let after_doctor = i > 0 && matches!(toks[i - 1], "dr" | "doctor" | "doc");
        let mut exact: Vec<usize> = Vec::new();
        let mut near: Vec<(usize, usize)> = Vec::new();
        for (k, p) in roster.providers.iter().enumerate() {
            for n in &p.names {
                if n == w {
                    exact.push(k);
                } else if after_doctor || !COMMON.contains(w) {
                    let d = strsim::levenshtein(n, w);
                    if d <= tolerance(n.len(), after_doctor) {
                        near.push((k, d));
                    }
                    // Whisper splits a name: "Oka for" for Okafor.
                    if let Some(next) = toks.get(i + 1).filter(|_| after_doctor) {
                        let joined = format!("{w}{next}");
                        if strsim::levenshtein(n, &joined) <= tolerance(n.len(), true) {
                            near.push((k, 1));
                        }
                    }
                }
            }
        }
        exact.dedup();
        if !exact.is_empty() {
            mentions.push((i, exact));
        } else if let Some(best) = near.iter().map(|(_, d)| *d).min() {
            let mut ks: Vec<usize> = near
                .iter()
                .filter(|(_, d)| *d == best)
                .map(|(k, _)| *k)
                .collect();
            ks.dedup();
            mentions.push((i, ks));
        }
        // Titles: "the nurse practitioner", "the NP".
        for (k, p) in roster.providers.iter().enumerate() {
            for t in &p.titles {
                if toks.len() >= i + t.len()
                    && toks[i..i + t.len()].iter().zip(t).all(|(a, b)| a == b)
                {
                    let same: Vec<usize> = roster
                        .providers
                        .iter()
                        .enumerate()
                        .filter(|(_, q)| q.titles.contains(t))
                        .map(|(k2, _)| k2)
                        .collect();
                    if same == [k] {
                        mentions.push((i, vec![k]));
                    }
                }
            }
        }
    }
    // "doctor anika patel": first and last name narrow each other down.
    let mut chosen: Option<Vec<usize>> = None;
    let mut last_pos = usize::MAX;
    for (pos, ks) in mentions {
        let adjacent = last_pos != usize::MAX && pos == last_pos + 1;
        chosen = match (chosen, adjacent) {
            (Some(prev), true) => {
                let both: Vec<usize> = prev.iter().copied().filter(|k| ks.contains(k)).collect();
                Some(if both.is_empty() { ks } else { both })
            }
            _ => Some(ks),
        };
        last_pos = pos;
    }
    match chosen.as_deref() {
        Some([k]) => Some(roster.providers[*k].id.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster() -> ProviderRoster {
        let e = |id: &str, name: &str, title: &str| RosterEntry {
            id: id.into(),
            name: name.into(),
            title: title.into(),
        };
        ProviderRoster::new(vec![
            e("patel", "Dr. Anika Patel", "MD"),
            e("nguyen", "Dr. Thomas Nguyen", "family physician"),
            e("okafor", "Grace Okafor", "NP"),
            e("schmidt-l", "Dr. Lena Schmidt", "pediatrician"),
            e("schmidt-m", "Dr. Mark Schmidt", "MD"),
        ])
    }

    #[test]
    fn names_titles_and_misspellings() {
        let r = roster();
        let cases: &[(&str, Option<&str>)] = &[
            ("doctor patel", Some("patel")),
            ("Dr. Patel, please.", Some("patel")),
            ("dr patel", Some("patel")),
            ("I usually see Patel.", Some("patel")),
            ("anika", Some("patel")),
            ("Can I see Dr. Anika Patel?", Some("patel")),
            ("Dr. Pattel", Some("patel")),
            ("doctor petal", Some("patel")),
            ("Dr. Win", None),
            ("doctor when", None),
            ("Dr. Nguyen", Some("nguyen")),
            ("doctor new yen", Some("nguyen")),
            ("the nurse practitioner", Some("okafor")),
            ("Can I see the NP?", Some("okafor")),
            ("Grace", Some("okafor")),
            ("Dr. Okafor", Some("okafor")),
            ("doctor oka for", Some("okafor")),
            ("my family doctor", Some("nguyen")),
            ("Dr. Schmidt", None),
            ("Dr. Lena Schmidt", Some("schmidt-l")),
            ("Mark Schmidt", Some("schmidt-m")),
            ("the pediatrician", Some("schmidt-l")),
            ("not doctor patel, doctor nguyen", Some("nguyen")),
            // Ordinary words near a name are not a provider.
            ("I need a pastel", None),
            ("the doctor", None),
            ("I'd like an appointment", None),
        ];
        let mut bad = Vec::new();
        for (text, want) in cases {
            let got = parse_provider(text, &r);
            let got = got.as_deref();
            if got != *want {
                bad.push(format!("{text:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
