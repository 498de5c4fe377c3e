//! The caller's voice for text scripts: the agent's Piper voice shifted in
//! pitch and pace (a preset of `tts::caller_voice`) through an 8 kHz phone
//! band, so the agent hears someone else on a phone line.

use std::sync::Arc;

use super::CallerSpeech;
use crate::tts::Tts;
use crate::tts::caller_voice::{CallerPreset, CallerVoice, PRESETS, preset};

pub struct PiperCaller {
    voice: CallerVoice,
    preset: &'static CallerPreset,
}

impl PiperCaller {
    /// `preset_name` is one of `tts::caller_voice::PRESETS` (e.g. `high-fast`).
    pub fn new(tts: Arc<Tts>, preset_name: &str) -> anyhow::Result<PiperCaller> {
        let preset = preset(preset_name).ok_or_else(|| {
            let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
            anyhow::anyhow!(
                "unknown caller voice {preset_name:?}; one of {}",
                names.join(", ")
            )
        })?;
        Ok(PiperCaller {
            voice: CallerVoice::new(tts),
            preset,
        })
    }
}

impl CallerSpeech for PiperCaller {
    fn synthesize(&self, text: &str) -> anyhow::Result<Vec<i16>> {
        self.voice.say(text, self.preset)
    }
}
