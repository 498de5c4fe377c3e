//! frontdesk: a self-hosted AI receptionist for medical clinics.
//!
//! The call pipeline, one module per stage (see `ARCHITECTURE.md`):
//! carrier message (`telephony`) → audio frame (`audio`) → utterance
//! (`audio::vad`) → transcript (`stt`) → intent + entities (`nlu`) →
//! agent turn (`dialogue`) → speech (`tts`) → carrier message. Whisper
//! and Piper share the cores through `compute`.

pub mod app;
pub mod audio;
pub mod audit;
pub mod bench;
pub mod call;
pub mod caller;
pub mod clinic;
pub mod compute;
pub mod dashboard;
pub mod desk;
pub mod dialogue;
pub mod fuzzing;
pub mod metrics;
pub mod models;
pub mod nlu;
pub mod prerequisites;
pub mod replay;
pub mod scheduling;
pub mod settings;
pub mod staff;
pub mod store;
pub mod stt;
pub mod tasks;
pub mod telephony;
pub mod tts;
pub mod vocabulary;
pub mod web;
