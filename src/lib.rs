//! frontdesk: a self-hosted AI receptionist for medical clinics.
//!
//! The call pipeline, one module per stage (see `ARCHITECTURE.md`):
//! carrier message (`telephony`) → audio frame (`audio`) → utterance
//! (`audio::vad`) → transcript (`stt`) → intent + entities (`nlu`) →
//! agent turn (`dialogue`) → speech (`tts`) → carrier message.

pub mod audio;
pub mod call;
pub mod clinic;
pub mod dialogue;
pub mod models;
pub mod nlu;
pub mod scheduling;
pub mod store;
pub mod stt;
pub mod tasks;
pub mod telephony;
pub mod tts;
pub mod web;
