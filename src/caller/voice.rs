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

/// What the babble's talkers say: small talk, nothing a clinic's caller
/// would ask for, so that a word that comes through does not read as a
/// request.
const BABBLE_LINES: &[&str] = &[
    "Did you see the game last night? I could not believe the last quarter.",
    "She said the traffic on the bridge was terrible again this morning.",
    "We are thinking about painting the kitchen a lighter color this summer.",
    "My brother finally fixed the old truck, and it runs better than ever.",
    "The bakery on the corner has those cinnamon rolls again on weekends.",
    "I told him to bring a jacket because it always gets cold by the lake.",
    "They moved the concert to the park, so we will need to get there early.",
    "Honestly, the new phone is fine, but the battery does not last a day.",
];

/// Talkers for a room's babble (`caller::noise`), synthesised now: the
/// agent's own voice and each caller preset, each saying the small talk in
/// a different order, as 8 kHz phone-band audio. Blocking, a few seconds
/// of synthesis per talker.
pub fn babble_talkers(tts: &Arc<Tts>) -> anyhow::Result<Vec<Vec<i16>>> {
    let voice = CallerVoice::new(tts.clone());
    let lines = |shift: usize| {
        let mut lines = BABBLE_LINES.to_vec();
        lines.rotate_left(shift % BABBLE_LINES.len());
        lines
    };
    let mut talkers = Vec::new();
    let mut agent = Vec::new();
    for line in lines(0) {
        agent.extend(tts.synthesize_8k(line, None)?);
    }
    talkers.push(agent);
    for (i, p) in PRESETS.iter().enumerate() {
        let mut talker = Vec::new();
        for line in lines(2 * (i + 1)) {
            talker.extend(voice.say(line, p)?);
        }
        talkers.push(talker);
    }
    Ok(talkers)
}
