//! A synthetic caller: turns caller text into 8 kHz phone-band audio that
//! sounds unlike the agent, for tests and `frontdesk call --say "…"` scripts.
//!
//! It is the Piper voice (espeak-ng's own voice squeezed to 8 kHz is
//! unintelligible to Whisper; Piper survives) with a different pace and a
//! pitch shift done by resampling: the 22 050 Hz synthesis is resampled to
//! `8000 / r` Hz and then played as 8 kHz, which raises pitch (and formants)
//! by `r` and shortens duration by `1 / r`; the model's `length_scale` is
//! chosen to give the pace wanted after that. A 300 Hz high-pass and a
//! G.711 µ-law round trip then make it sound like a phone line.

use std::sync::Arc;

use anyhow::Context;

use super::{OUTPUT_SAMPLE_RATE_HZ, Tts, text};
use crate::audio::{mulaw, resample};

/// One synthetic caller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CallerPreset {
    pub name: &'static str,
    /// The rate the voice is resampled to before being played as 8 kHz:
    /// pitch ratio = 8000 / this. Chosen to share large factors with
    /// 22 050 Hz so the FFT resampler stays small.
    pub intermediate_rate_hz: u32,
    /// Speaking time relative to the agent's pace (1.0 = same, 1.1 = 10 %
    /// slower), after the pitch shift.
    pub pace: f32,
    /// Piper's sampling noise; a little more makes prosody less regular.
    pub noise_scale: f32,
    pub noise_w: f32,
    /// Linear gain before µ-law encoding (callers are quieter than the agent).
    pub gain: f32,
}

impl CallerPreset {
    /// Pitch ratio (> 1 is higher).
    pub fn pitch_ratio(&self) -> f32 {
        OUTPUT_SAMPLE_RATE_HZ as f32 / self.intermediate_rate_hz as f32
    }

    /// The model's length_scale that yields `pace` after the pitch shift.
    pub fn length_scale(&self) -> f32 {
        self.pace * self.pitch_ratio()
    }
}

/// The built-in callers.
pub const PRESETS: &[CallerPreset] = &[
    // Higher (×1.25) and a little quicker.
    CallerPreset {
        name: "high-fast",
        intermediate_rate_hz: 6_400,
        pace: 0.9,
        noise_scale: 0.7,
        noise_w: 0.9,
        gain: 0.7,
    },
    // Lower (×0.89) and slower. At ×0.85 and pace 1.15 Whisper tiny.en
    // misheard 7 % of words ("a nurse" → "an earth"); this setting is clearer.
    CallerPreset {
        name: "low-slow",
        intermediate_rate_hz: 9_000,
        pace: 1.1,
        noise_scale: 0.667,
        noise_w: 0.8,
        gain: 0.8,
    },
    // Slightly higher (×1.14), the agent's pace.
    CallerPreset {
        name: "mid",
        intermediate_rate_hz: 7_000,
        pace: 1.0,
        noise_scale: 0.6,
        noise_w: 0.7,
        gain: 0.6,
    },
];

/// Looks a preset up by name.
pub fn preset(name: &str) -> Option<&'static CallerPreset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// Synthesises caller speech with the agent's loaded model (one session,
/// different settings).
#[derive(Clone)]
pub struct CallerVoice {
    tts: Arc<Tts>,
}

impl CallerVoice {
    pub fn new(tts: Arc<Tts>) -> CallerVoice {
        CallerVoice { tts }
    }

    /// The caller saying `text`, as µ-law bytes at 8 kHz (what the carrier
    /// would send). Blocking.
    pub fn say_mulaw(&self, text: &str, preset: &CallerPreset) -> anyhow::Result<Vec<u8>> {
        let voice = self.tts.voice();
        let params = super::SynthesisParams {
            noise_scale: preset.noise_scale,
            length_scale: preset.length_scale(),
            noise_w: preset.noise_w,
        };
        let mut audio = Vec::new();
        for sentence in text::split_sentences(text) {
            let spoken = text::normalize_for_speech(&sentence);
            audio.extend(
                voice
                    .synthesize(&spoken, params)
                    .context("synthesising caller speech")?,
            );
        }
        let shifted =
            resample::resample(&audio, voice.sample_rate_hz(), preset.intermediate_rate_hz)?;
        // `shifted` is now played back as 8 kHz: the pitch shift.
        let mut phone = high_pass(&shifted, OUTPUT_SAMPLE_RATE_HZ as f32, 300.0);
        phone.iter_mut().for_each(|s| *s *= preset.gain);
        Ok(mulaw::encode_frame(&resample::f32_to_i16(&phone)))
    }

    /// The caller saying `text`, as 8 kHz PCM16 after a µ-law round trip.
    pub fn say(&self, text: &str, preset: &CallerPreset) -> anyhow::Result<Vec<i16>> {
        Ok(mulaw::decode_frame(&self.say_mulaw(text, preset)?))
    }
}

/// A second-order Butterworth high-pass (RBJ biquad): removes the low end a
/// phone line does not carry.
pub(crate) fn high_pass(samples: &[f32], sample_rate_hz: f32, cutoff_hz: f32) -> Vec<f32> {
    let w0 = 2.0 * std::f32::consts::PI * cutoff_hz / sample_rate_hz;
    let alpha = w0.sin() / (2.0 * std::f32::consts::FRAC_1_SQRT_2);
    let cos_w0 = w0.cos();
    let a0 = 1.0 + alpha;
    let b0 = (1.0 + cos_w0) / 2.0 / a0;
    let b1 = -(1.0 + cos_w0) / a0;
    let b2 = b0;
    let a1 = -2.0 * cos_w0 / a0;
    let a2 = (1.0 - alpha) / a0;
    let (mut x1, mut x2, mut y1, mut y2) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
    samples
        .iter()
        .map(|&x| {
            let y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
            (x2, x1, y2, y1) = (x1, x, y1, y);
            y
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(samples: &[f32]) -> f32 {
        (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt()
    }

    fn sine(freq_hz: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * freq_hz * i as f32 / 8000.0).sin())
            .collect()
    }

    #[test]
    fn high_pass_cuts_hum_and_keeps_voice_band() {
        let hum = high_pass(&sine(60.0, 8000), 8000.0, 300.0);
        let voice = high_pass(&sine(1000.0, 8000), 8000.0, 300.0);
        assert!(rms(&hum[4000..]) < 0.05, "60 Hz rms {}", rms(&hum[4000..]));
        assert!(
            rms(&voice[4000..]) > 0.65,
            "1 kHz rms {}",
            rms(&voice[4000..])
        );
    }

    #[test]
    fn presets_differ_from_the_agent_and_each_other() {
        for p in PRESETS {
            assert!(
                (p.pitch_ratio() - 1.0).abs() > 0.1,
                "{} too close to the agent's pitch",
                p.name
            );
            assert!(
                p.length_scale() > 0.5 && p.length_scale() < 2.0,
                "{}",
                p.name
            );
        }
        assert!(preset("low-slow").unwrap().pitch_ratio() < 1.0);
        assert!(preset("high-fast").unwrap().pitch_ratio() > 1.0);
        assert!(preset("nobody").is_none());
    }
}
