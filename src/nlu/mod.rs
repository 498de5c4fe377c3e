//! Understanding: transcript text → intent + entities.
//!
//! `intent` (the label set), `classifier` (ONNX model through `ort`),
//! `emergency` (the deterministic safety net that overrides every label),
//! `entities` (one parser per entity of `spec/intents.md`).

pub mod entities;
pub mod intent;

pub use entities::Entities;
pub use intent::Intent;

use serde::{Deserialize, Serialize};

/// What the agent understood of one caller utterance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Understanding {
    pub intent: Intent,
    /// Calibrated probability of `intent` (0..=1); the dialogue asks again when low.
    pub confidence: f32,
    pub entities: Entities,
}
