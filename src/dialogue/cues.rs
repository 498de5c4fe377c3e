//! Cues in a caller's words that the dialogue reads itself, as a safety
//! net under the intent model: yes and no in their many spoken forms, a
//! request that repeats what was just proposed, asking for a person, a
//! video visit, parking and accessibility. Pure functions of the text.

use super::words::{any_phrase, words};

/// Sounds that carry no answer; skipped before the answer they lead into.
const FILLERS: &[&str] = &[
    "uh", "um", "oh", "well", "so", "hmm", "er", "ah", "okay", "ok", "actually", "like",
];

/// Spoken forms of yes that are not a single word.
const YES_PHRASES: &[&str] = &[
    "uh huh",
    "uh-huh",
    "mm hmm",
    "mm-hmm",
    "mhm",
    "that's right",
    "that is right",
    "that's correct",
    "that is correct",
    "you got it",
    "you bet",
    "of course",
    "please do",
    "go ahead",
    "sounds good",
    "that works",
    "that's fine",
    "that's the one",
    "that's my cell",
    "that's my number",
    "that's my phone",
    "that's my mobile",
    "that's me",
    "i think so",
    "it is",
    "right",
    "exactly",
    "perfect",
];

/// Spoken forms of no that are not a single word.
const NO_PHRASES: &[&str] = &[
    "not really",
    "no thanks",
    "no thank you",
    "not at all",
    "i don't think so",
    "negative",
    "that's wrong",
    "that's not right",
    "that is not right",
    "that's not it",
    "not quite",
];

/// Single words that answer a yes/no question.
const YES_WORDS: &[&str] = &[
    "yes",
    "yeah",
    "yea",
    "yep",
    "yup",
    "sure",
    "correct",
    "absolutely",
    "definitely",
    "certainly",
    "affirmative",
    "ok",
    "okay",
];
/// Whisper writes "no" as "know" now and then.
const NO_WORDS: &[&str] = &["no", "nope", "nah", "know"];

/// The answer a reply to a yes/no question gives, in any of its spoken
/// forms ("uh huh", "that's right", "nope", "yes, that's my cell"), when
/// the reply opens with one. `None` when it does not.
pub fn yes_or_no(text: &str) -> Option<bool> {
    let w = words(text);
    let start = w
        .iter()
        .position(|x| !FILLERS.contains(&x.as_str()) || x == "ok" || x == "okay")?;
    // "uh huh" begins with a filler: look at the phrases from the start too.
    let rest_from = |i: usize| format!(" {} ", w[i..].join(" "));
    for from in [0, start] {
        let rest = rest_from(from);
        let opens = |p: &str| rest.starts_with(&format!(" {} ", words(p).join(" ")));
        if NO_PHRASES.iter().any(|p| opens(p)) {
            return Some(false);
        }
        // "that's not my cell" opens with "that's", not "that's my cell".
        if YES_PHRASES.iter().any(|p| opens(p)) {
            return Some(true);
        }
    }
    let first = w[start].as_str();
    if NO_WORDS.contains(&first) {
        return Some(false);
    }
    if YES_WORDS.contains(&first) {
        // "okay" alone is a yes; "okay, what about Friday" is not.
        if matches!(first, "ok" | "okay") && w.len() > start + 1 {
            return yes_or_no(&w[start + 1..].join(" "));
        }
        return Some(true);
    }
    None
}

/// A reply that is only a yes or a no, with politeness around it ("yes
/// please", "nope", "uh huh, that's right", "no thank you"): after a
/// yes/no question it is that answer whatever the model labelled it.
pub fn bare_yes_or_no(text: &str) -> Option<bool> {
    let answer = yes_or_no(text)?;
    const POLITE: &[&str] = &[
        "please", "thanks", "thank", "you", "that's", "that", "is", "it", "right", "correct",
        "fine", "sure", "good", "great", "perfect", "my", "cell", "number", "phone", "mobile",
        "me", "huh", "hmm", "mm", "mhm", "not", "really", "i", "don't", "think", "so", "the",
        "one", "go", "ahead", "do", "works", "sounds", "of", "course", "exactly", "at", "all",
        "negative", "wrong", "quite",
    ];
    let w = words(text);
    let only = w.iter().all(|x| {
        FILLERS.contains(&x.as_str())
            || YES_WORDS.contains(&x.as_str())
            || NO_WORDS.contains(&x.as_str())
            || POLITE.contains(&x.as_str())
    });
    only.then_some(answer)
}

/// "Operator", "a person", "a human", "a real person", "a representative":
/// the caller wants staff, in any phase.
pub fn asks_for_person(text: &str) -> bool {
    any_phrase(
        text,
        &[
            "operator",
            "a person",
            "a human",
            "a real person",
            "real person",
            "live person",
            "actual person",
            "human being",
            "a representative",
            "representative",
            "receptionist",
            "speak to someone real",
            "talk to a real",
            "speak to a real",
            "a staff member",
            "speak to staff",
            "talk to staff",
            "speak with staff",
            "somebody real",
            "someone real",
        ],
    ) && !any_phrase(
        text,
        &[
            "in person",
            "person's",
            "personal",
            "the person who",
            "this person",
        ],
    )
}

/// A request for a video or phone visit ("can I do a video visit"): a
/// booking, whatever the reason that follows it.
pub fn wants_remote_visit(text: &str) -> bool {
    any_phrase(
        text,
        &[
            "video visit",
            "video appointment",
            "video call",
            "a video",
            "by video",
            "over video",
            "on video",
            "virtual visit",
            "virtual appointment",
            "virtually",
            "telehealth",
            "tele health",
            "telemedicine",
            "online visit",
            "online appointment",
            "zoom",
            "facetime",
        ],
    )
}

/// "Where do I park?", "is there parking?" ("where do I part" is
/// Whisper's "where do I park").
pub fn asks_parking(text: &str) -> bool {
    any_phrase(
        text,
        &[
            "park",
            "parking",
            "garage",
            "parking lot",
            "where do i part",
            "where can i part",
            "validation",
            "validate",
        ],
    )
}

/// "Is the office wheelchair accessible?", "is there an elevator?".
pub fn asks_accessibility(text: &str) -> bool {
    any_phrase(
        text,
        &[
            "wheelchair",
            "accessible",
            "accessibility",
            "handicap",
            "handicapped",
            "disabled",
            "disability",
            "elevator",
            "ramp",
            "walker",
            "stairs",
            "ada",
        ],
    )
}

/// "The weekend", "Saturday", "Sunday": a question about weekend hours.
pub fn asks_weekend(text: &str) -> bool {
    any_phrase(
        text,
        &[
            "weekend",
            "weekends",
            "saturday",
            "saturdays",
            "sunday",
            "sundays",
        ],
    )
}

/// "If that's open", "if you have it", "if that works": hedges inside an
/// answer about when, which are not questions about opening hours.
pub fn hedges_availability(text: &str) -> bool {
    any_phrase(
        text,
        &[
            "if that's open",
            "if that is open",
            "if it's open",
            "if you're open",
            "if you are open",
            "if that's available",
            "if it's available",
            "if you have it",
            "if you have one",
            "if that works",
            "if possible",
            "if you have anything",
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_and_no_in_their_spoken_forms() {
        for yes in [
            "yes",
            "Yeah.",
            "yep",
            "uh huh",
            "Uh-huh.",
            "mm hmm",
            "that's right",
            "Correct.",
            "Yes, that's my cell.",
            "that's my cell",
            "um, yeah that's fine",
            "okay",
            "sure thing",
            "right",
            "go ahead",
        ] {
            assert_eq!(yes_or_no(yes), Some(true), "{yes:?}");
        }
        for no in [
            "no",
            "Nope.",
            "nah",
            "no thank you",
            "not really",
            "uh, no",
            "that's not right",
            "actually know, keep it",
        ] {
            assert_eq!(yes_or_no(no), Some(false), "{no:?}");
        }
        for neither in [
            "I know what you mean",
            "not sure",
            "okay what about Friday",
            "Tuesday at 3",
            "that's not my cell",
        ] {
            assert_eq!(yes_or_no(neither), None, "{neither:?}");
        }
    }

    #[test]
    fn bare_answers_are_only_an_answer() {
        assert_eq!(bare_yes_or_no("Yes please."), Some(true));
        assert_eq!(bare_yes_or_no("uh huh, that's right"), Some(true));
        assert_eq!(bare_yes_or_no("Nope."), Some(false));
        assert_eq!(bare_yes_or_no("no thank you"), Some(false));
        assert_eq!(bare_yes_or_no("yes, and can I also book a physical"), None);
        assert_eq!(bare_yes_or_no("no, Tuesday instead"), None);
    }

    #[test]
    fn asking_for_a_person() {
        for t in [
            "Operator.",
            "yes, a person please",
            "can I talk to a human",
            "I want a real person",
            "representative",
        ] {
            assert!(asks_for_person(t), "{t:?}");
        }
        for t in [
            "I want to talk to someone about my anxiety",
            "is it in person or by video",
            "I need a physical",
        ] {
            assert!(!asks_for_person(t), "{t:?}");
        }
    }

    #[test]
    fn other_cues() {
        assert!(wants_remote_visit(
            "Can I do a video visit, I want to talk to someone about my anxiety"
        ));
        assert!(!wants_remote_visit("I need a sick visit"));
        assert!(asks_parking("where do I park?"));
        assert!(asks_accessibility("is your office wheelchair accessible?"));
        assert!(!asks_accessibility("what time do you close"));
        assert!(asks_weekend("are you open on the weekend"));
        assert!(hedges_availability("tomorrow at four pm if that's open"));
        assert!(!hedges_availability("are you open tomorrow"));
    }
}
