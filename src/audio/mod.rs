//! Audio: G.711 µ-law, resampling, voice activity detection, call recording.

pub mod recording;
pub mod vad;
