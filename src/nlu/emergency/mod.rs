//! The emergency safety net: deterministic phrase rules that run beside the
//! model and override every label (`spec/intents.md`, safety rules).
//!
//! Each rule names a kind, so the dialogue can say 988 for a suicidal crisis
//! and 911 otherwise. A rule whose every match sits next to a containment cue
//! ("last year", "stopped", "a little", "after the gym") reports `Contained`
//! instead: past or mild symptoms go to nurse triage, not 911. Cues that say
//! "now" ("right now", "still", "suddenly") cancel containment.
//!
//! Text is matched after the classifier's normalisation (lower case,
//! apostrophes dropped, punctuation → space), so "can't" is `cant`. Some
//! patterns accept Whisper's usual mishearings ("wearing his words",
//! "can't breed", "chess pain").

use std::sync::LazyLock;

mod rules;

use super::classifier::tokens;
use crate::vocabulary::EmergencyKind;
use regex::Regex;
use rules::{RULES, SIGNS};

/// The outcome of screening one utterance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// No emergency phrase at all.
    Clear,
    /// Emergency phrases, each one past or mild ("I had chest pain last year").
    Contained(EmergencyKind),
    /// A life-threatening situation now: overrides every other label.
    Emergency(EmergencyKind),
}

/// Cues that put a symptom in the past.
static PAST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:last (?:year|month|week|summer|winter|spring|fall|christmas)|years? ago|months? ago|weeks? ago|",
        r"a while (?:ago|back)|in the past|used to|history of|back in \d+|had (?:a |an )?(?:heart attack|stroke|seizure)|",
        r"stopped|went away|gone now|resolved|better now|doing better|feeling better|follow ?up|once|for years|",
        r"my (?:old )?records?|what (?:are|were) the signs|signs of|how do i know|prevent|risk of|family history|cpr class)\b"
    ))
    .expect("past cue regex is valid")
});

/// Cues that make a symptom mild or explain it; never applied to suicidal
/// statements ("I kind of want to kill myself" is a crisis).
static MILD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:a little|a bit|little bit|slightly|mild|minor|kind of|sort of|",
        r"after the gym|at the gym|working out|after lifting|lifting boxes|moving furniture|pulled a muscle|",
        r"when i cough|from coughing|heartburn|when i exercise|when i run)\b"
    ))
    .expect("mild cue regex is valid")
});

/// Cues that the symptom is happening now; they cancel containment.
static CURRENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:right now|currently|still|again|getting worse|worse now|suddenly|all of a sudden|just now|at the moment|as we speak|wont stop|cant stop)\b")
        .expect("current cue regex is valid")
});

/// Words either side of a match in which cues count.
const CUE_WINDOW_WORDS: usize = 5;
/// Words either side of a match in which "now" cues count.
const CURRENT_WINDOW_WORDS: usize = 10;

/// Screens one utterance. Suicidal matches win over others (988 first).
pub fn screen(text: &str) -> Screen {
    let normal = tokens(text).join(" ");
    if normal.is_empty() {
        return Screen::Clear;
    }
    let mut contained: Option<EmergencyKind> = None;
    let mut live: Option<EmergencyKind> = None;
    for (kind, rule) in RULES.iter() {
        for m in rule.find_iter(&normal) {
            if is_contained(
                &normal,
                m.start(),
                m.end(),
                *kind != EmergencyKind::Suicidal,
            ) {
                contained.get_or_insert(*kind);
            } else if live.is_none() || *kind == EmergencyKind::Suicidal {
                live = Some(*kind);
            }
        }
    }
    for (kind, first, second) in SIGNS.iter() {
        let (Some(a), Some(b)) = (first.find(&normal), second.find(&normal)) else {
            continue;
        };
        let (start, end) = (a.start().min(b.start()), a.end().max(b.end()));
        if is_contained(&normal, start, end, true) {
            contained.get_or_insert(*kind);
        } else if live.is_none() {
            live = Some(*kind);
        }
    }
    match (live, contained) {
        (Some(kind), _) => Screen::Emergency(kind),
        (None, Some(kind)) => Screen::Contained(kind),
        (None, None) => Screen::Clear,
    }
}

/// The kind of a live emergency, if any.
pub fn detect(text: &str) -> Option<EmergencyKind> {
    match screen(text) {
        Screen::Emergency(kind) => Some(kind),
        _ => None,
    }
}

fn is_contained(normal: &str, start: usize, end: usize, mild_counts: bool) -> bool {
    let before: Vec<&str> = normal[..start].split_whitespace().collect();
    let after: Vec<&str> = normal[end..].split_whitespace().collect();
    // A clause boundary ("and now", "but now") ends the window on that side.
    let mut lo = before.len().saturating_sub(CUE_WINDOW_WORDS);
    for i in (lo..before.len()).rev() {
        if before[i] == "now" && i > 0 && matches!(before[i - 1], "and" | "but" | "so") {
            lo = i + 1;
            break;
        }
    }
    let mut hi = after.len().min(CUE_WINDOW_WORDS);
    for i in 0..hi {
        if after[i] == "now" && i > 0 && matches!(after[i - 1], "and" | "but" | "so") {
            hi = i.saturating_sub(1);
            break;
        }
    }
    let outside = format!("{} | {}", before[lo..].join(" "), after[..hi].join(" "));
    // "Now" cues count over a wider stretch: "... last week and it's back again right now".
    let now_lo = before.len().saturating_sub(CURRENT_WINDOW_WORDS);
    let now_hi = after.len().min(CURRENT_WINDOW_WORDS);
    let window = format!(
        "{} | {} | {}",
        before[now_lo..].join(" "),
        &normal[start..end],
        after[..now_hi].join(" ")
    );
    (PAST.is_match(&outside) || (mild_counts && MILD.is_match(&outside)))
        && !CURRENT.is_match(&window)
}

#[cfg(test)]
mod tests;
