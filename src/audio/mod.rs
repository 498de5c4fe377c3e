//! Audio: G.711 µ-law, resampling, voice activity detection, the audio
//! end of turn, call recording.

pub mod end_of_turn;
pub mod mulaw;
pub mod recording;
pub mod resample;
pub mod vad;
