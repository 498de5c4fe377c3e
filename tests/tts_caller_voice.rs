//! The synthetic caller: sounds unlike the agent (pitch), comes out as
//! phone-band µ-law, and stays intelligible to Whisper tiny.en.

use std::sync::{Arc, OnceLock};

use frontdesk::audio::resample;
use frontdesk::models::ModelPaths;
use frontdesk::tts::caller_voice::{CallerVoice, PRESETS, preset};
use frontdesk::tts::{OUTPUT_SAMPLE_RATE_HZ, Tts};

fn tts() -> Option<Arc<Tts>> {
    static TTS: OnceLock<Option<Arc<Tts>>> = OnceLock::new();
    TTS.get_or_init(|| {
        let paths = ModelPaths::locate();
        if !frontdesk::prerequisites::model_present(&paths.voice()) {
            return None;
        }
        Some(Tts::load(&paths).expect("loading the voice"))
    })
    .clone()
}

/// Median fundamental frequency over voiced 40 ms frames (autocorrelation,
/// 60–400 Hz), 8 kHz input.
fn median_f0_hz(samples: &[i16]) -> f64 {
    let x: Vec<f64> = samples.iter().map(|&s| s as f64).collect();
    let frame = 320;
    let (min_lag, max_lag) = (8000 / 400, 8000 / 60);
    let mut f0s = Vec::new();
    for start in (0..x.len().saturating_sub(frame + max_lag)).step_by(160) {
        let w = &x[start..start + frame + max_lag];
        let energy: f64 = w[..frame].iter().map(|v| v * v).sum();
        if energy / (frame as f64) < 500.0f64.powi(2) {
            continue;
        }
        let mut best = (0usize, 0.0f64);
        for lag in min_lag..=max_lag {
            let num: f64 = (0..frame).map(|i| w[i] * w[i + lag]).sum();
            let den = (energy * w[lag..lag + frame].iter().map(|v| v * v).sum::<f64>()).sqrt();
            let r = num / den.max(1e-9);
            if r > best.1 {
                best = (lag, r);
            }
        }
        if best.1 > 0.6 {
            f0s.push(8000.0 / best.0 as f64);
        }
    }
    assert!(f0s.len() > 10, "too few voiced frames ({})", f0s.len());
    f0s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    f0s[f0s.len() / 2]
}

const PITCH_TEXT: &str = "I would like to book an appointment for next Tuesday morning, please.";

#[test]
fn callers_are_pitched_away_from_the_agent() {
    let Some(tts) = tts() else { return };
    // Piper samples its voice, and each rendering's median pitch moves by a
    // few percent (the agent measured 90–94 Hz; low-slow, nominally ×0.89,
    // 86–88 Hz, so ×0.92–0.95 of the agent), so each voice's pitch is the
    // median over five renderings and low-slow must be under ×0.97: an
    // unshifted voice measures ×1.0.
    let caller = CallerVoice::new(tts.clone());
    let five =
        |render: &dyn Fn() -> Vec<i16>| -> Vec<i16> { (0..5).flat_map(|_| render()).collect() };
    let agent = five(&|| tts.synthesize_8k(PITCH_TEXT, None).unwrap());
    let agent_f0 = median_f0_hz(&agent);
    let high = caller
        .say(PITCH_TEXT, preset("high-fast").unwrap())
        .unwrap();
    let low = caller.say(PITCH_TEXT, preset("low-slow").unwrap()).unwrap();
    let high_f0 = median_f0_hz(&five(&|| {
        caller
            .say(PITCH_TEXT, preset("high-fast").unwrap())
            .unwrap()
    }));
    let low_f0 = median_f0_hz(&five(&|| {
        caller.say(PITCH_TEXT, preset("low-slow").unwrap()).unwrap()
    }));
    eprintln!(
        "median F0: agent {agent_f0:.0} Hz, high-fast {high_f0:.0} Hz, low-slow {low_f0:.0} Hz"
    );
    assert!(
        high_f0 > agent_f0 * 1.12,
        "high-fast {high_f0:.0} Hz vs agent {agent_f0:.0} Hz"
    );
    assert!(
        low_f0 < agent_f0 * 0.97,
        "low-slow {low_f0:.0} Hz vs agent {agent_f0:.0} Hz"
    );
    // Pace: the slow caller takes longer than the fast one for the same text.
    assert!(
        low.len() as f64 > high.len() as f64 * 1.15,
        "{} vs {} samples",
        low.len(),
        high.len()
    );
}

#[test]
fn caller_audio_is_phone_band_mulaw() {
    let Some(tts) = tts() else { return };
    let caller = CallerVoice::new(tts);
    let p = preset("mid").unwrap();
    let bytes = caller
        .say_mulaw("My phone number is 555-123-4567.", p)
        .unwrap();
    let seconds = bytes.len() as f64 / OUTPUT_SAMPLE_RATE_HZ as f64;
    assert!((2.0..9.0).contains(&seconds), "{seconds:.2} s");
    let pcm = frontdesk::audio::mulaw::decode_frame(&bytes);
    // No energy left below the phone band: the 300 Hz high-pass worked.
    let mean = pcm.iter().map(|&s| s as f64).sum::<f64>() / pcm.len() as f64;
    assert!(mean.abs() < 50.0, "DC offset {mean:.1}");
    let rms = (pcm.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / pcm.len() as f64).sqrt();
    assert!(rms > 800.0, "rms {rms:.0}");
}

/// Sentences a clinic's callers say, as a `--say` script would type them.
const CALLER_LINES: &[&str] = &[
    "I'd like to book an appointment with Dr. Patel next Tuesday morning.",
    "My date of birth is March 14th, 1985.",
    "My phone number is 555-123-4567.",
    "I need to cancel my appointment on Friday.",
    "Can I reschedule to sometime next week?",
    "I have had a bad cough and a fever since yesterday.",
    "Do you take Blue Cross insurance?",
    "Is there anything available at 9:30 in the morning?",
    "I would like to speak to a nurse, please.",
    "Yes, that time works for me. Thank you.",
];

/// Lower-case words with punctuation dropped, digit groups joined
/// ("555-123-4567" → "5551234567", "9:30" → "930", "14th" → "14"), small
/// number words as digits and "dr" as "doctor", so WER counts words heard,
/// not spelling conventions.
fn canonical_words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.to_lowercase().chars().collect();
    let mut cleaned = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let between_digits = i > 0
            && i + 1 < chars.len()
            && chars[i - 1].is_ascii_digit()
            && (chars[i + 1].is_ascii_digit() || chars[i + 1] == ' ' && c == '-');
        if matches!(c, '-' | ':' | '.' | ',') && between_digits {
            continue;
        }
        if c.is_alphanumeric() || c == '\'' {
            cleaned.push(c);
        } else {
            cleaned.push(' ');
        }
    }
    cleaned
        .split_whitespace()
        .map(|w| {
            let w = w.trim_matches('\'');
            let digits = w.trim_end_matches(|c: char| c.is_alphabetic());
            if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
                return digits.to_string();
            }
            if let Some(n) = (0..=20u32).find(|n| frontdesk::tts::text::number_words(*n) == w) {
                return n.to_string();
            }
            if w == "dr" {
                "doctor".to_string()
            } else {
                w.to_string()
            }
        })
        .collect()
}

fn word_errors(reference: &[String], hypothesis: &[String]) -> usize {
    let mut row: Vec<usize> = (0..=hypothesis.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, h) in hypothesis.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(r != h)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[hypothesis.len()]
}

#[test]
fn canonical_words_and_wer() {
    assert_eq!(
        canonical_words("Call 555-123-4567, at 9:30, Dr. Patel on the 14th!"),
        [
            "call",
            "5551234567",
            "at",
            "930",
            "doctor",
            "patel",
            "on",
            "the",
            "14"
        ]
    );
    let r = canonical_words("a b c d");
    assert_eq!(word_errors(&r, &canonical_words("a x c")), 2);
    assert_eq!(word_errors(&r, &r), 0);
}

/// What the call path hears: the product's recogniser (token cap, single
/// segment, audio context cut to the utterance), not a hand-set decoder.
fn transcribe(
    stt: &frontdesk::stt::SpeechToText,
    runtime: &tokio::runtime::Runtime,
    pcm_8k: &[i16],
) -> String {
    let audio_16k = resample::resample(&resample::i16_to_f32(pcm_8k), 8_000, 16_000).unwrap();
    runtime.block_on(stt.transcribe(audio_16k)).unwrap().text
}

/// Whisper tiny.en understands every preset through the phone band. Prints
/// the transcripts and the WER per preset. Set FRONTDESK_TTS_WER_AGENT=1 to
/// score the agent's own voice (µ-law round trip) as a reference too.
#[test]
fn whisper_understands_every_caller() {
    let Some(tts) = tts() else { return };
    let whisper_path = ModelPaths::locate().whisper();
    if !frontdesk::prerequisites::model_present(&whisper_path) {
        return;
    }
    let stt = frontdesk::stt::SpeechToText::load(
        &ModelPaths::locate(),
        frontdesk::stt::SttOptions::default(),
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let caller = CallerVoice::new(tts.clone());
    let mut report = Vec::new();
    let with_agent = std::env::var_os("FRONTDESK_TTS_WER_AGENT").is_some();
    let voices: Vec<Option<&_>> = with_agent
        .then_some(None)
        .into_iter()
        .chain(PRESETS.iter().map(Some))
        .collect();
    for voice in voices {
        let name = voice.map_or("agent", |p| p.name);
        let (mut errors, mut words) = (0, 0);
        for line in CALLER_LINES {
            let pcm = match voice {
                Some(p) => caller.say(line, p).unwrap(),
                None => {
                    let bytes = frontdesk::audio::mulaw::encode_frame(
                        &tts.synthesize_8k(line, None).unwrap(),
                    );
                    frontdesk::audio::mulaw::decode_frame(&bytes)
                }
            };
            let heard = transcribe(&stt, &runtime, &pcm);
            let (reference, hypothesis) = (canonical_words(line), canonical_words(&heard));
            let e = word_errors(&reference, &hypothesis);
            eprintln!(
                "[{name}] {e}/{} {:?} -> {:?}",
                reference.len(),
                line,
                heard.trim()
            );
            errors += e;
            words += reference.len();
        }
        let wer = errors as f64 / words as f64;
        report.push((name, wer));
    }
    for (name, wer) in &report {
        eprintln!("WER {name}: {:.1} %", wer * 100.0);
    }
    for (name, wer) in &report {
        assert!(
            *wer <= 0.15,
            "{name} WER {:.1} % is too high for tests to rely on",
            wer * 100.0
        );
    }
}
