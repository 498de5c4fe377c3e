//! The shared vocabulary: the words several stages of the call pipeline
//! exchange (a call's events and outcome, what was understood of an
//! utterance, staff task kinds). It depends on nothing else of ours, so every
//! stage may import it and none has to import another stage for a word
//! (`tests/module_layers.rs` keeps it so).

mod call;
mod intent;
mod tasks;
mod understanding;

pub use call::{AfterSpeech, CallEvent, Outcome};
pub use intent::Intent;
pub use tasks::{Priority, Queue, TaskKind};
pub use understanding::{Asked, EmergencyKind, Entities, Hotline, PartOfDay, Understanding};
