//! Audio: G.711 µ-law, resampling, voice activity detection, call recording.

pub mod mulaw;
pub mod recording;
pub mod resample;
pub mod vad;
