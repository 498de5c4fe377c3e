//! Semantic end of turn: whether a caller's words, heard during a pause,
//! already make a finished sentence.
//!
//! The voice activity detector ends an utterance after a fixed silence
//! (`EndpointConfig::end_silence_ms`), and every millisecond of it is
//! added to the agent's reply. When the speculative transcript of a pause
//! (see `VadEvent::Paused`) reads as a finished sentence, the call ends the
//! turn there instead of waiting out the rest of the silence. A pause after
//! "my date of birth is", "and", or half a phone number does not end it.

/// Words after which a sentence is rarely finished.
const TRAILING_WORDS: &[&str] = &[
    "a", "an", "and", "the", "or", "but", "so", "because", "um", "uh", "er", "hmm", "my", "is",
    "was", "are", "with", "to", "for", "of", "at", "on", "in", "from", "born", "like", "then",
    "if", "that", "it's", "i'm", "i", "me", "number", "birth", "name", "about", "need", "want",
    "your", "our", "just", "also", "by", "wait", "actually", "hold",
];

/// Whether `text` (a Whisper transcript) reads as a finished sentence.
pub fn sounds_finished(text: &str) -> bool {
    let text = text.trim();
    if text.ends_with("...") || text.ends_with('…') || text.ends_with(',') || text.ends_with('-')
    {
        return false;
    }
    if !(text.ends_with('.') || text.ends_with('?') || text.ends_with('!')) {
        return false;
    }
    let last = text
        .split_whitespace()
        .last()
        .unwrap_or("")
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
        .to_lowercase();
    if last.is_empty() || TRAILING_WORDS.contains(&last.as_str()) {
        return false;
    }
    // One word is as often the start of a sentence as a whole answer:
    // "No, that's all, thanks" paused after "No" and ended there answered
    // the wrong question, with the rest heard as a second turn. A lone
    // "Yes." waits out the full end silence instead.
    if text.split_whitespace().count() < 2 {
        return false;
    }
    // Digits said in groups ("five five five, one two three") pause
    // between groups: trailing numbers that make part of a phone number
    // (two or more groups, or one of 3, 6 or 7 digits, under 10 in all)
    // are probably half said. "Tuesday at 3." and "1985." are finished.
    let mut digits = 0;
    let mut groups = 0;
    for word in text.split_whitespace().rev() {
        let word = word.trim_matches(|c: char| c.is_ascii_punctuation() && c != '-');
        if word.is_empty() || !word.chars().all(|c| c.is_ascii_digit() || c == '-') {
            break;
        }
        digits += word.chars().filter(|c| c.is_ascii_digit()).count();
        groups += 1;
    }
    if groups > 0 && digits < 10 && (groups >= 2 || matches!(digits, 3 | 6 | 7)) {
        return false;
    }
    true
}

/// Words that leave an utterance hanging whatever follows: conjunctions,
/// articles, prepositions, fillers. Fewer than [`TRAILING_WORDS`]: an
/// utterance already ended by the silence is held only when it clearly
/// cannot be the whole answer ("That's me." and "Hold on." can).
const HANGING_WORDS: &[&str] = &[
    "a", "an", "and", "the", "or", "but", "so", "because", "cause", "um", "uh", "er", "my", "is",
    "was", "with", "to", "for", "of", "at", "from", "born", "if", "your", "our", "about", "need",
    "want", "by", "also", "just", "actually", "i'm", "it's", "i", "um,", "like", "calling",
];

/// Whether an utterance the silence has ended can be answered on its own.
/// "Yes," before a breath and "that's my cell", or an opening request over
/// two breaths ("Hi, I'm calling because", "I need to"), cannot: the call
/// loop holds them for the rest. A question, a finished sentence and a
/// bare "Yes." stand alone, so their replies are not delayed.
pub fn stands_alone(text: &str) -> bool {
    let text = text.trim();
    if text.is_empty() || text.ends_with('?') {
        return true;
    }
    if text.ends_with(',') || text.ends_with("...") || text.ends_with('…') || text.ends_with('-')
    {
        return false;
    }
    let last = text
        .split_whitespace()
        .last()
        .unwrap_or("")
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
        .to_lowercase();
    !HANGING_WORDS.contains(&last.as_str())
}

#[cfg(test)]
mod tests {
    use super::{sounds_finished, stands_alone};

    #[test]
    fn fragments_that_cannot_be_answered_alone() {
        for text in [
            "Yes,",
            "Yeah, so",
            "Hi, I'm calling because",
            "I need to",
            "I was wondering...",
            "My date of birth is",
            "Um, I'd like to make an appointment for",
            "and",
        ] {
            assert!(!stands_alone(text), "{text:?} should be held for the rest");
        }
        for text in [
            "Yes.",
            "No.",
            "Yes, that's my cell.",
            "That's me.",
            "Hold on.",
            "What time do you close?",
            "I need to book a physical.",
            "Tuesday at 3.",
            "",
        ] {
            assert!(stands_alone(text), "{text:?} should be answered at once");
        }
    }

    #[test]
    fn finished_sentences_end_the_turn() {
        for text in [
            "I'd like to book an appointment.",
            "Yes, please.",
            "What time do you close today?",
            "This is Maria Gonzalez.",
            "The second one.",
            "My number is 555-123-4567.",
            "March 4th, 1985.",
            "Tuesday at 3.",
        ] {
            assert!(sounds_finished(text), "{text:?} should end the turn");
        }
    }

    #[test]
    fn unfinished_sentences_wait_for_more() {
        for text in [
            "",
            "My date of birth is",
            "My date of birth is.",
            "I need to book an appointment and.",
            "Um.",
            "It's 555 123.",
            "555-1234.",
            "5 5 5.",
            "I was wondering...",
            "So, I need,",
            "With the",
            "Wait.",
            "Yes.",
            "No.",
        ] {
            assert!(!sounds_finished(text), "{text:?} should not end the turn");
        }
    }
}
