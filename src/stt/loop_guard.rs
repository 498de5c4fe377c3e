//! Whisper's repetition loops, cut short.
//!
//! With the encoder context cut to a short utterance (the big speed lever),
//! Whisper sometimes repeats the last phrase until the token cap ("go
//! forward ten meters. Go forward ten meters. Go forward…"). The decoder is
//! stopped as soon as its tokens end in a repeated run (end-of-text is the
//! only token left allowed), and the one repetition that proved the loop is
//! removed from the text.

use std::ffi::{c_int, c_void};

use whisper_rs::whisper_rs_sys as sys;

/// True when `tokens` end in a run repeated back to back: a run of 4 or more
/// tokens twice, of 2–3 tokens three times, or one token six times. Real
/// speech rarely does this ("five five five" is one or two tokens).
pub fn ends_in_loop(tokens: &[i32]) -> bool {
    let n = tokens.len();
    (1..=n / 2).any(|period| {
        let repeats = match period {
            1 => 6,
            2 | 3 => 3,
            _ => 2,
        };
        let span = period * repeats;
        span <= n && {
            let tail = &tokens[n - span..];
            tail.iter().zip(&tail[period..]).all(|(a, b)| a == b)
        }
    })
}

/// whisper.cpp's logits filter: once the tokens end in a loop, only
/// end-of-text may follow, and the `AtomicBool` behind `user_data` (if any)
/// is set.
///
/// # Safety
/// Called by whisper.cpp with its own valid pointers: `tokens` holds
/// `n_tokens` entries and `logits` holds `whisper_n_vocab(ctx)` floats;
/// `user_data` is null or points to an `AtomicBool` alive for the decode.
pub unsafe extern "C" fn stop_repetition_loops(
    ctx: *mut sys::whisper_context,
    _state: *mut sys::whisper_state,
    tokens: *const sys::whisper_token_data,
    n_tokens: c_int,
    logits: *mut f32,
    user_data: *mut c_void,
) {
    if ctx.is_null() || tokens.is_null() || logits.is_null() || n_tokens < 4 {
        return;
    }
    // SAFETY: per the contract above.
    let tokens = unsafe { std::slice::from_raw_parts(tokens, n_tokens as usize) };
    let ids: Vec<i32> = tokens.iter().map(|t| t.id).collect();
    if !ends_in_loop(&ids) {
        return;
    }
    if !user_data.is_null() {
        // SAFETY: per the contract above.
        let fired = unsafe { &*(user_data as *const std::sync::atomic::AtomicBool) };
        fired.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    // SAFETY: read-only queries on the context whisper.cpp handed us.
    let (eot, n_vocab) = unsafe { (sys::whisper_token_eot(ctx), sys::whisper_n_vocab(ctx)) };
    // SAFETY: `logits` holds n_vocab floats.
    let logits = unsafe { std::slice::from_raw_parts_mut(logits, n_vocab as usize) };
    for (id, logit) in logits.iter_mut().enumerate() {
        if id as i32 != eot {
            *logit = f32::NEG_INFINITY;
        }
    }
}

/// Removes back-to-back repeats of a trailing run of words ("go forward 10
/// meters. Go forward 10 meters." → "go forward 10 meters."), the trace a
/// stopped loop leaves, and Whisper's habit of saying a short line twice
/// when the encoder context is cut. Runs of fewer than three words are
/// kept: people do say "no, no" and "bye bye".
pub fn collapse_repeated_tail(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let norm: Vec<String> = words.iter().map(|w| normalized(w)).collect();
    let mut end = words.len();
    'shrink: loop {
        for period in 3..=end / 2 {
            let a = &norm[end - 2 * period..end - period];
            let b = &norm[end - period..end];
            if a == b {
                end -= period;
                continue 'shrink;
            }
        }
        break;
    }
    if end == words.len() {
        text.to_string()
    } else {
        words[..end].join(" ")
    }
}

/// Whisper's other habit with a cut encoder context: the whole line said
/// again after it ended, in full or in part ("Yes. Yes.", "this is Marie
/// Gonzalez. This", "1985, 1985,"). The first saying is kept. A repeat
/// counts only after a clause ends (or when said three times or more), and
/// a unit of digits only when it is one four-digit group: "555, 555" may be
/// the first half of a phone number and is left alone.
pub fn collapse_repeated_line(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let norm: Vec<String> = words.iter().map(|w| normalized(w)).collect();
    let n = words.len();
    for period in 1..n {
        let clause_ends = words[period - 1].ends_with(['.', ',', '?', '!']);
        let said_thrice = n >= 3 * period && n.is_multiple_of(period);
        if !(clause_ends || said_thrice) {
            continue;
        }
        if !(period..n).all(|i| norm[i] == norm[i - period]) {
            continue;
        }
        let unit = &norm[..period];
        let has_letters = unit.iter().any(|w| w.chars().any(char::is_alphabetic));
        if !(has_letters || (period == 1 && unit[0].len() == 4)) {
            continue;
        }
        return words[..period].join(" ");
    }
    text.to_string()
}

/// A word lower-cased, letters and digits only.
fn normalized(word: &str) -> String {
    word.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_are_recognised_and_speech_is_not() {
        assert!(ends_in_loop(&[1, 2, 3, 4, 5, 2, 3, 4, 5]));
        assert!(ends_in_loop(&[9, 7, 8, 7, 8, 7, 8]));
        assert!(ends_in_loop(&[3, 3, 3, 3, 3, 3]));
        assert!(!ends_in_loop(&[3, 3, 3, 3, 3]));
        assert!(!ends_in_loop(&[7, 8, 7, 8]));
        assert!(!ends_in_loop(&[1, 2, 3, 4, 5, 6, 7, 8]));
        assert!(!ends_in_loop(&[1, 2, 3, 1, 2, 4]));
        assert!(!ends_in_loop(&[]));
    }

    #[test]
    fn a_repeated_tail_is_collapsed() {
        assert_eq!(
            collapse_repeated_tail("go forward 10 meters. Go forward 10 meters."),
            "go forward 10 meters."
        );
        assert_eq!(
            collapse_repeated_tail("I need a refill, a refill of my meds a refill of my meds"),
            "I need a refill, a refill of my meds"
        );
        assert_eq!(collapse_repeated_tail("no, no, no"), "no, no, no");
        assert_eq!(
            collapse_repeated_tail("I'd like to book an appointment"),
            "I'd like to book an appointment"
        );
        assert_eq!(collapse_repeated_tail(""), "");
    }

    #[test]
    fn a_line_said_twice_is_kept_once() {
        for (heard, kept) in [
            ("Yes. Yes.", "Yes."),
            ("yes, please. Yes, please.", "yes, please."),
            ("this is Marie Gonzalez. This", "this is Marie Gonzalez."),
            (
                "can I talk to a real person? Can",
                "can I talk to a real person?",
            ),
            ("1985, 1985,", "1985,"),
            ("1985 1985 1985", "1985"),
            ("March 4, March 4, March 4,", "March 4,"),
        ] {
            assert_eq!(collapse_repeated_line(heard), kept, "{heard:?}");
        }
        for speech in [
            "No. No, that's all.",
            "555, 555,",
            "5 5 5",
            "5, 5, 5, 1 2 3",
            "I need to book an appointment.",
            "Bye bye.",
            "",
        ] {
            assert_eq!(collapse_repeated_line(speech), speech, "{speech:?}");
        }
    }
}
