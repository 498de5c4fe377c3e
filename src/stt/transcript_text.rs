//! Cleaning Whisper's output.
//!
//! Whisper annotates non-speech ("[BLANK_AUDIO]", "(music)", "♪") and, on
//! silence or noise, sometimes invents a stock phrase ("Thank you.").
//! Neither is something the caller said.

/// Removes bracketed/parenthesised annotations and music symbols, collapses
/// whitespace; returns "" when no word is left.
pub fn clean_transcript(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut depth_square = 0u32;
    let mut depth_round = 0u32;
    for c in raw.chars() {
        match c {
            '[' => depth_square += 1,
            ']' if depth_square > 0 => depth_square -= 1,
            '(' => depth_round += 1,
            ')' if depth_round > 0 => depth_round -= 1,
            '♪' | '♫' | '♬' | '♩' => {}
            _ if depth_square == 0 && depth_round == 0 => out.push(c),
            _ => {}
        }
    }
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.chars().any(char::is_alphanumeric) {
        out
    } else {
        String::new()
    }
}

/// Phrases Whisper is known to produce for silence or noise.
const SILENCE_PHRASES: &[&str] = &[
    "thank you",
    "thanks for watching",
    "thank you for watching",
    "you",
    "bye",
    "so",
    "okay",
    "the end",
];

/// True when `text` is a stock phrase and Whisper itself thought the audio
/// was probably not speech. A caller really saying "thank you" is kept:
/// then the no-speech probability is low.
pub fn is_silence_hallucination(text: &str, no_speech_probability: f32) -> bool {
    if no_speech_probability < 0.5 {
        return false;
    }
    let bare: String = text
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    let bare = bare.split_whitespace().collect::<Vec<_>>().join(" ");
    SILENCE_PHRASES.contains(&bare.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_non_speech_annotations() {
        assert_eq!(clean_transcript(" [BLANK_AUDIO]"), "");
        assert_eq!(clean_transcript("(music)"), "");
        assert_eq!(clean_transcript(" ♪ ♪ "), "");
        assert_eq!(clean_transcript(" ..."), "");
        assert_eq!(clean_transcript(""), "");
        assert_eq!(
            clean_transcript(" I'd like an appointment (coughs) on Tuesday."),
            "I'd like an appointment on Tuesday."
        );
        assert_eq!(
            clean_transcript("  ask not   what\n your country "),
            "ask not what your country"
        );
        assert_eq!(
            clean_transcript("[ Silence ] my date of birth"),
            "my date of birth"
        );
        // An unbalanced closer is kept as text rather than eating the rest.
        assert_eq!(clean_transcript("option 1) cancel"), "option 1) cancel");
    }

    #[test]
    fn stock_phrases_are_dropped_only_when_whisper_doubts_speech() {
        assert!(is_silence_hallucination("Thank you.", 0.9));
        assert!(is_silence_hallucination(" you", 0.7));
        assert!(!is_silence_hallucination("Thank you.", 0.1));
        assert!(!is_silence_hallucination(
            "Thank you, see you Tuesday.",
            0.9
        ));
    }
}
