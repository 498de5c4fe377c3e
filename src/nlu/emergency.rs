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

use super::classifier::tokens;
use crate::vocabulary::EmergencyKind;
use regex::Regex;

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

const PRONOUN: &str = r"(?:my|his|her|their|your|the)";
const SELF: &str = r"(?:myself|himself|herself|themselves|themself|yourself)";

static RULES: LazyLock<Vec<(EmergencyKind, Regex)>> = LazyLock::new(|| {
    let raw: Vec<(EmergencyKind, String)> = vec![
        // Chest pain.
        (EmergencyKind::ChestPain, r"\b(?:chest|chess) (?:pain|pains|pressure|tightness)\b".into()),
        (EmergencyKind::ChestPain, r"\b(?:chest|chess) (?:is |feels |really |so |very |a little |a bit |kind of )*(?:hurting|hurts|crushing|tight|heavy|squeezing)\b".into()),
        (EmergencyKind::ChestPain, r"\b(?:crushing|squeezing) (?:pain|pressure|feeling)\b".into()),
        (EmergencyKind::ChestPain, r"\bheart attack\b".into()),
        (EmergencyKind::ChestPain, format!(r"\b(?:grabbed|grabbing|clutching|holding) {PRONOUN} chest\b")),
        // Breathing.
        (EmergencyKind::Breathing, r"\b(?:cant|can not|cannot|couldnt|unable to|barely|struggling to|hard to) (?:breathe|breath|breed|breathing)\b".into()),
        (EmergencyKind::Breathing, format!(r"\b(?:cant|cannot|can not|couldnt) (?:get (?:any )?air|catch {PRONOUN} breath)\b")),
        (EmergencyKind::Breathing, r"\b(?:not|isnt|stopped|wasnt|isn t) breathing\b".into()),
        (EmergencyKind::Breathing, r"\b(?:gasping|choking)\b".into()),
        (EmergencyKind::Breathing, r"\b(?:turning|turned|going) blue\b|\blips (?:are |look |looks )?(?:turning )?blue\b".into()),
        // Stroke.
        (EmergencyKind::Stroke, r"\b(?:having|had|has) a stroke\b|\bstroke\b".into()),
        (EmergencyKind::Stroke, r"\bface (?:is |looks |went )?(?:drooping|droopy|numb|crooked)\b|\bdrooping\b".into()),
        (EmergencyKind::Stroke, format!(r"\b(?:slurring|slurred|slurs|wearing|slurry) (?:{PRONOUN} )?(?:words|speech)\b|\bslurring\b|\bslurred\b")),
        (EmergencyKind::Stroke, format!(r"\b(?:cant|cannot|can not) (?:lift|move|feel|raise) (?:{PRONOUN} )?(?:\w+ )?(?:arm|leg|hand|side)\b")),
        (EmergencyKind::Stroke, format!(r"\bone side of {PRONOUN} (?:face|body)\b")),
        (EmergencyKind::Stroke, r"\b(?:suddenly|all of a sudden) (?:\w+ )?(?:cant|cannot) (?:talk|speak|see|walk)\b|\bcant (?:talk|speak) (?:properly|right|straight)\b".into()),
        // Severe bleeding.
        (EmergencyKind::Bleeding, r"\b(?:wont|will not|cant|doesnt|does not|isnt) stop(?:ping)? bleeding\b|\bbleeding (?:wont|will not|doesnt|isnt) stop".into()),
        (EmergencyKind::Bleeding, r"\bbleeding (?:heavily|a lot|badly|really bad|so much|everywhere|profusely)\b".into()),
        (EmergencyKind::Bleeding, r"\b(?:blood everywhere|so much blood|lot of blood|lots of blood|pool of blood)\b".into()),
        (EmergencyKind::Bleeding, r"\b(?:gushing|spurting|pouring) (?:out )?blood\b|\bblood (?:is )?(?:gushing|spurting|pouring)\b|\bsoaking through\b".into()),
        (EmergencyKind::Bleeding, r"\b(?:coughing|throwing|vomiting|puking) (?:up )?blood\b".into()),
        // Overdose and poisoning.
        (EmergencyKind::Overdose, r"\boverdos\w*".into()),
        (EmergencyKind::Overdose, r"\b(?:took|taken|swallowed|ate|drank|downed) (?:a |the |an )?(?:whole |entire )?(?:bottle|bunch|handful|box|pack) of\b".into()),
        (EmergencyKind::Overdose, r"\b(?:took|taken|swallowed|ate) (?:way )?too (?:many|much)\b".into()),
        (EmergencyKind::Overdose, r"\bdrank (?:bleach|antifreeze)\b|\bswallowed (?:bleach|batteries|a battery)\b".into()),
        // Suicidal thoughts or plans.
        (EmergencyKind::Suicidal, format!(r"\bkill(?:ing)? {SELF}\b|\bsuicid\w*")),
        (EmergencyKind::Suicidal, format!(r"\b(?:end|ending|take|taking) {PRONOUN} (?:own )?life\b|\b(?:end|ending) it all\b|\bend it tonight\b|\bgoing to end it\b")),
        (EmergencyKind::Suicidal, r"\b(?:dont|do not|doesnt|does not) want to (?:live|be alive|be here)\b|\bwant to die\b|\bbetter off dead\b|\bno reason to live\b".into()),
        (EmergencyKind::Suicidal, format!(r"\b(?:hurt|hurting|harm|harming) {SELF}\b")),
        // Anaphylaxis.
        (EmergencyKind::Anaphylaxis, r"\banaphyla\w*|\bepi ?pen\b".into()),
        (EmergencyKind::Anaphylaxis, r"\bthroat (?:is )?(?:closing|swelling|swelled|tight|closing up)\b".into()),
        (EmergencyKind::Anaphylaxis, r"\b(?:tongue|lips|face|throat) (?:is |are |has |have )?(?:swelling|swelled|swollen)\b|\bswelling (?:shut|up)\b".into()),
        // Unresponsive person.
        (EmergencyKind::Unresponsive, r"\b(?:unresponsive|unconscious)\b".into()),
        (EmergencyKind::Unresponsive, r"\b(?:not|isnt|wont|stopped) (?:responding|answering me|moving|waking up|wake up)\b".into()),
        (EmergencyKind::Unresponsive, r"\bcant wake (?:\w+ )?up\b|\bwont wake\b".into()),
        (EmergencyKind::Unresponsive, r"\b(?:collapsed|passed out|fainted|blacked out)\b".into()),
        (EmergencyKind::Unresponsive, r"\b(?:having|has) a seizure\b|\bseizing\b".into()),
    ];
    raw.into_iter()
        .map(|(kind, pattern)| {
            (
                kind,
                Regex::new(&pattern).expect("emergency patterns are valid regexes"),
            )
        })
        .collect()
});

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
mod tests {
    use super::*;
    use crate::vocabulary::Hotline;

    #[test]
    fn fires_on_live_emergencies_with_the_right_kind() {
        let cases = [
            (
                "my dad has chest pain right now and he's pale and sweaty",
                EmergencyKind::ChestPain,
            ),
            ("I can't breathe", EmergencyKind::Breathing),
            (
                "um my husband is wearing his words and his face is drooping",
                EmergencyKind::Stroke,
            ),
            (
                "there's blood everywhere it won't stop bleeding",
                EmergencyKind::Bleeding,
            ),
            ("I think my son overdosed", EmergencyKind::Overdose),
            ("i want to kill myself", EmergencyKind::Suicidal),
            (
                "her throat is closing up after the peanuts",
                EmergencyKind::Anaphylaxis,
            ),
            (
                "my grandpa collapsed and isn't responding",
                EmergencyKind::Unresponsive,
            ),
        ];
        for (text, kind) in cases {
            assert_eq!(screen(text), Screen::Emergency(kind), "{text}");
        }
        assert_eq!(EmergencyKind::Suicidal.hotline(), Hotline::Crisis988);
        assert_eq!(EmergencyKind::Stroke.hotline(), Hotline::Emergency911);
    }

    #[test]
    fn past_or_mild_symptoms_are_contained_not_emergencies() {
        for text in [
            "I had chest pain last year",
            "my chest is a little tight after the gym",
            "I had a heart attack years ago and need a refill",
            "I used to have suicidal thoughts but I'm doing better",
        ] {
            assert!(
                matches!(screen(text), Screen::Contained(_)),
                "{text}: {:?}",
                screen(text)
            );
        }
        for text in [
            "a little sore after the gym",
            "my bleeding stopped and I need a follow-up",
            "I need a refill",
        ] {
            assert_eq!(screen(text), Screen::Clear, "{text}");
        }
    }

    #[test]
    fn a_current_cue_or_a_new_clause_beats_containment() {
        assert_eq!(
            screen("I had chest pain last week and it's back again right now"),
            Screen::Emergency(EmergencyKind::ChestPain)
        );
        assert_eq!(
            screen("I had chest pain last year and now my dad can't breathe"),
            Screen::Emergency(EmergencyKind::Breathing)
        );
        assert_eq!(
            screen("he stopped breathing"),
            Screen::Emergency(EmergencyKind::Breathing)
        );
    }
}
