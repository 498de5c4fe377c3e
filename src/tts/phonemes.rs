//! Text → espeak-ng IPA phonemes → Piper phoneme ids, the way
//! piper-phonemize does it: espeak-ng in IPA mode clause by clause, clause
//! punctuation kept (". ? !" end a sentence, ", : ;" are followed by a
//! space), language-switch flags such as "(fr)" dropped, NFD-decomposed,
//! then BOS `^`, a pad `_` after every phoneme, EOS `$`.
//!
//! espeak-ng is linked as a C library (build.rs) rather than spawned per
//! sentence: a process per sentence costs milliseconds, the call costs
//! microseconds. espeak-ng keeps global state and is not thread-safe, so
//! every call goes through one process-wide mutex.

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::{Mutex, OnceLock};

use unicode_normalization::UnicodeNormalization;

/// Why text could not be turned into phonemes.
#[derive(Debug, thiserror::Error)]
pub enum PhonemeError {
    #[error("espeak-ng failed to initialise (is espeak-ng-data installed?)")]
    Init,
    #[error("espeak-ng has no voice named {0:?}")]
    UnknownVoice(String),
    #[error("text contains a NUL character")]
    NulInText,
}

mod ffi {
    use std::ffi::{c_char, c_int, c_void};

    /// `AUDIO_OUTPUT_SYNCHRONOUS`: no audio thread, we only want phonemes.
    pub const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
    /// Report failures instead of calling `exit()`.
    pub const ESPEAK_INITIALIZE_DONT_EXIT: c_int = 0x8000;
    pub const ESPEAK_CHARS_UTF8: c_int = 1;
    /// Phoneme mode bit 1: IPA (UTF-8) instead of espeak's ASCII names.
    pub const ESPEAK_PHONEMES_IPA: c_int = 0x02;

    unsafe extern "C" {
        pub fn espeak_Initialize(
            output: c_int,
            buflength: c_int,
            path: *const c_char,
            options: c_int,
        ) -> c_int;
        pub fn espeak_SetVoiceByName(name: *const c_char) -> c_int;
        pub fn espeak_TextToPhonemes(
            textptr: *mut *const c_void,
            textmode: c_int,
            phonememode: c_int,
        ) -> *const c_char;
    }
}

/// The one espeak-ng instance: initialised once, voice last selected.
struct Espeak {
    voice: Option<String>,
}

static ESPEAK: OnceLock<Result<Mutex<Espeak>, ()>> = OnceLock::new();

fn espeak() -> Result<&'static Mutex<Espeak>, PhonemeError> {
    let state = ESPEAK.get_or_init(|| {
        // SAFETY: called once (OnceLock), before any other espeak function;
        // a null path selects the installed espeak-ng-data.
        let sample_rate_hz = unsafe {
            ffi::espeak_Initialize(
                ffi::AUDIO_OUTPUT_SYNCHRONOUS,
                0,
                std::ptr::null(),
                ffi::ESPEAK_INITIALIZE_DONT_EXIT,
            )
        };
        if sample_rate_hz <= 0 {
            Err(())
        } else {
            Ok(Mutex::new(Espeak { voice: None }))
        }
    });
    state.as_ref().map_err(|()| PhonemeError::Init)
}

/// Phonemises `text` with the espeak-ng voice `voice` (e.g. "en-us"): one
/// string of IPA characters per sentence, as Piper's training data had.
pub fn phonemize(text: &str, voice: &str) -> Result<Vec<String>, PhonemeError> {
    let text_c = CString::new(text).map_err(|_| PhonemeError::NulInText)?;
    let voice_c = CString::new(voice).map_err(|_| PhonemeError::UnknownVoice(voice.to_string()))?;
    let mut espeak = espeak()?
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if espeak.voice.as_deref() != Some(voice) {
        // SAFETY: espeak is initialised and we hold its mutex.
        let rc = unsafe { ffi::espeak_SetVoiceByName(voice_c.as_ptr()) };
        if rc != 0 {
            espeak.voice = None;
            return Err(PhonemeError::UnknownVoice(voice.to_string()));
        }
        espeak.voice = Some(voice.to_string());
    }

    let bytes = text_c.as_bytes();
    let base = text_c.as_ptr();
    let mut sentences = Vec::new();
    let mut sentence = String::new();
    let mut cursor: *const c_void = base.cast();
    while !cursor.is_null() {
        let clause_start = (cursor as usize).saturating_sub(base as usize);
        // SAFETY: `cursor` points into `text_c`, which outlives the loop;
        // espeak advances it within the string or sets it to null, and the
        // returned string is valid until the next espeak call (copied at once).
        let phonemes = unsafe {
            let out = ffi::espeak_TextToPhonemes(
                &mut cursor,
                ffi::ESPEAK_CHARS_UTF8,
                ffi::ESPEAK_PHONEMES_IPA,
            );
            if out.is_null() {
                String::new()
            } else {
                CStr::from_ptr(out as *const c_char)
                    .to_string_lossy()
                    .into_owned()
            }
        };
        let clause_end = if cursor.is_null() {
            bytes.len()
        } else {
            ((cursor as usize).saturating_sub(base as usize)).min(bytes.len())
        };
        let consumed = &bytes[clause_start.min(clause_end)..clause_end];
        sentence.push_str(&strip_language_flags(&phonemes));
        match clause_terminator(consumed) {
            Some(mark @ ('.' | '?' | '!')) => {
                sentence.push(mark);
                push_sentence(&mut sentences, &mut sentence);
            }
            Some(mark) => {
                sentence.push(mark);
                sentence.push(' ');
            }
            None => {
                // A clause without punctuation (end of text): words continue.
                if !sentence.is_empty() && !sentence.ends_with(' ') && !cursor.is_null() {
                    sentence.push(' ');
                }
            }
        }
    }
    push_sentence(&mut sentences, &mut sentence);
    Ok(sentences)
}

fn push_sentence(sentences: &mut Vec<String>, sentence: &mut String) {
    let trimmed = sentence.trim();
    if !trimmed.is_empty() {
        sentences.push(trimmed.nfd().collect());
    }
    sentence.clear();
}

/// The punctuation that ended an espeak clause, read from the text espeak
/// consumed (the stock library does not return the terminator, unlike the
/// fork piper-phonemize uses). espeak advances the text pointer a character
/// or two into the next clause, so this is the last clause punctuation in the
/// consumed span rather than its last character.
fn clause_terminator(consumed: &[u8]) -> Option<char> {
    let text = String::from_utf8_lossy(consumed);
    text.chars().rev().find_map(|c| match c {
        '.' | '?' | '!' | ',' | ':' | ';' => Some(c),
        '…' => Some('.'),
        _ => None,
    })
}

/// Drops espeak's language-switch markers, e.g. "(fr)" or "(en)".
fn strip_language_flags(phonemes: &str) -> String {
    let mut out = String::with_capacity(phonemes.len());
    let mut depth = 0u32;
    for c in phonemes.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 && c != '\n' => out.push(c),
            _ => {}
        }
    }
    out
}

/// A voice's phoneme → id table (`phoneme_id_map` in its .onnx.json).
#[derive(Clone, Debug)]
pub struct PhonemeIdMap {
    ids: HashMap<char, Vec<i64>>,
}

const BOS: char = '^';
const EOS: char = '$';
const PAD: char = '_';

impl PhonemeIdMap {
    /// Builds the table from the JSON map; keys must be single characters
    /// and the map must contain BOS, EOS and pad.
    pub fn from_json_map(map: &HashMap<String, Vec<i64>>) -> anyhow::Result<PhonemeIdMap> {
        let mut ids = HashMap::with_capacity(map.len());
        for (key, value) in map {
            let mut chars = key.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => {
                    ids.insert(c, value.clone());
                }
                _ => anyhow::bail!("phoneme_id_map key {key:?} is not a single character"),
            }
        }
        for required in [BOS, EOS, PAD] {
            anyhow::ensure!(
                ids.contains_key(&required),
                "phoneme_id_map lacks {required:?}"
            );
        }
        Ok(PhonemeIdMap { ids })
    }

    /// `^ _ p1 _ p2 _ … pn _ $`; phonemes missing from the map are skipped
    /// (Piper does the same) and counted in the returned tally.
    pub fn to_ids(&self, phonemes: &str) -> (Vec<i64>, usize) {
        let pad = &self.ids[&PAD];
        let mut ids = Vec::with_capacity(phonemes.len() * 2 + 3);
        ids.extend_from_slice(&self.ids[&BOS]);
        ids.extend_from_slice(pad);
        let mut missing = 0;
        for c in phonemes.chars() {
            match self.ids.get(&c) {
                Some(id) => {
                    ids.extend_from_slice(id);
                    ids.extend_from_slice(pad);
                }
                None => missing += 1,
            }
        }
        ids.extend_from_slice(&self.ids[&EOS]);
        (ids, missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phonemises_with_clause_punctuation() {
        let sentences = phonemize("Hello, how are you? I am fine.", "en-us").unwrap();
        assert_eq!(sentences.len(), 2, "{sentences:?}");
        assert!(sentences[0].starts_with("həlˈoʊ, "), "{sentences:?}");
        assert!(sentences[0].ends_with('?'), "{sentences:?}");
        assert!(sentences[1].ends_with('.'), "{sentences:?}");
        assert!(sentences[1].contains("fˈaɪn"), "{sentences:?}");
    }

    /// Reference output of piper-tts 1.8.0's own phonemizer (espeakbridge)
    /// for the same text: our clause handling must match it exactly.
    #[test]
    fn matches_piper_phonemize() {
        let table: &[(&str, &[&str])] = &[
            (
                "I have an opening with Doctor Patel on Tuesday at nine thirty. Would that work for you?",
                &[
                    "aɪ hæv ɐn ˈoʊpənɪŋ wɪð dˈɑːktɚ pɐtˈɛl ˌɔn tˈuːzdeɪ æt nˈaɪn θˈɜːɾi.",
                    "wʊd ðæt wˈɜːk fɔːɹ juː?",
                ],
            ),
            (
                "Your appointment is confirmed; we'll see you then: bring your insurance card!",
                &["jʊɹ ɐpˈɔɪntmənt ɪz kənfˈɜːmd; wiːl sˈiː juː ðˈɛn: bɹˈɪŋ jʊɹ ɪnʃˈʊɹɹəns kˈɑːɹd!"],
            ),
            (
                "I'm sorry, I didn't catch that.",
                &["aɪm sˈɑːɹi, aɪ dˈɪdnt kˈætʃ ðˈæt."],
            ),
            (
                "The café's résumé was naïve.",
                &["ðə kæfˈeɪz ɹˈɛzuːmˌeɪ wʌz naɪˈiːv."],
            ),
        ];
        for (text, expected) in table {
            let expected: Vec<String> = expected.iter().map(|s| s.nfd().collect()).collect();
            assert_eq!(
                phonemize(text, "en-us").unwrap(),
                expected,
                "text: {text:?}"
            );
        }
    }

    #[test]
    fn phonemises_text_without_punctuation() {
        let sentences = phonemize("good morning", "en-us").unwrap();
        assert_eq!(sentences, vec!["ɡˈʊd mˈɔːɹnɪŋ".nfd().collect::<String>()]);
    }

    #[test]
    fn rejects_unknown_voice_and_nul() {
        assert!(matches!(
            phonemize("hi", "xx-nonexistent"),
            Err(PhonemeError::UnknownVoice(_))
        ));
        assert!(matches!(
            phonemize("a\0b", "en-us"),
            Err(PhonemeError::NulInText)
        ));
        // The voice is reselected after a failed switch.
        assert!(!phonemize("hi", "en-us").unwrap().is_empty());
    }

    #[test]
    fn finds_the_terminator_despite_read_ahead() {
        assert_eq!(clause_terminator(b"Hello, h"), Some(','));
        assert_eq!(clause_terminator(b"ow are you? I"), Some('?'));
        assert_eq!(clause_terminator(b"am fine."), Some('.'));
        assert_eq!(clause_terminator(b"no stop"), None);
    }

    #[test]
    fn strips_language_flags() {
        assert_eq!(strip_language_flags("(fr)bɔ̃ʒuʁ(en) hi"), "bɔ̃ʒuʁ hi");
    }

    #[test]
    fn maps_ids_like_piper() {
        let json: HashMap<String, Vec<i64>> =
            [("_", 0), ("^", 1), ("$", 2), (" ", 3), ("a", 14), ("b", 15)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), vec![v]))
                .collect();
        let map = PhonemeIdMap::from_json_map(&json).unwrap();
        assert_eq!(
            map.to_ids("ab a"),
            (vec![1, 0, 14, 0, 15, 0, 3, 0, 14, 0, 2], 0)
        );
        assert_eq!(map.to_ids("aXb"), (vec![1, 0, 14, 0, 15, 0, 2], 1));
        let mut bad = json.clone();
        bad.remove("^");
        assert!(PhonemeIdMap::from_json_map(&bad).is_err());
    }
}
