//! The audio end of turn: whether the caller has finished what they were
//! saying, judged from how it sounded. A person hears a pause after "my
//! date of birth is" or "ask not" as a breath, from the pitch and pace
//! before it, where the words so far (often a full stop from Whisper) and
//! the silence alone cannot tell. Smart Turn v3.2 (Daily, BSD-2-Clause;
//! `frontdesk models` takes it from the pinned pipecat-ai wheel) reads the
//! last eight seconds and gives the probability that the turn is over.
//! The call loop asks it at every pause (`call::session`): an unfinished
//! turn is neither ended early nor answered until the caller has been
//! quiet for longer.

pub mod features;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;

use crate::models::ModelPaths;
use features::{N_FRAMES, N_MELS};

/// At or above this the turn is over (the model's own threshold).
pub const COMPLETE_AT: f32 = 0.5;

#[derive(Debug, thiserror::Error)]
pub enum EndOfTurnError {
    #[error("loading the end-of-turn model from {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("running the end-of-turn model: {0}")]
    Inference(#[from] ort::Error),
    #[error("the end-of-turn model returned {what}")]
    UnexpectedOutput { what: String },
}

/// Smart Turn, loaded once per process and shared by every call; calls
/// take turns through a mutex (`ort` runs a session through `&mut`). One
/// verdict costs tens of milliseconds, a few per caller sentence.
pub struct EndOfTurnModel {
    session: Mutex<Session>,
}

impl std::fmt::Debug for EndOfTurnModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndOfTurnModel").finish_non_exhaustive()
    }
}

impl EndOfTurnModel {
    /// Loads `turn/smart-turn-v3.2-cpu.onnx` from the models directory.
    pub fn load(paths: &ModelPaths) -> anyhow::Result<Arc<EndOfTurnModel>> {
        let path = paths.end_of_turn();
        paths.require(&path, "Smart Turn (end of turn)")?;
        let environment = crate::models::onnx_environment(paths)?;
        Ok(EndOfTurnModel::from_file(environment, &path)?)
    }

    /// One intra-op thread: the model is small and the second core is
    /// Whisper's, which is working on the same pause.
    pub fn from_file(
        environment: &Environment,
        path: &Path,
    ) -> Result<Arc<EndOfTurnModel>, EndOfTurnError> {
        let load_error = |reason: String| EndOfTurnError::Load {
            path: path.to_path_buf(),
            reason,
        };
        let session = Session::builder(environment)
            .map_err(|e| load_error(e.to_string()))?
            .with_intra_threads(1)
            .map_err(|e| load_error(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| load_error(e.to_string()))?
            .commit_from_file(path)
            .map_err(|e| load_error(e.to_string()))?;
        if !session
            .inputs()
            .iter()
            .any(|i| i.name() == "input_features")
        {
            return Err(load_error(
                "no `input_features` input; not Smart Turn v3".into(),
            ));
        }
        Ok(Arc::new(EndOfTurnModel {
            session: Mutex::new(session),
        }))
    }

    /// The probability that the turn is over, from the caller's audio of
    /// this turn so far (16 kHz mono, ending at the pause).
    pub fn probability_complete(&self, samples_16k: &[f32]) -> Result<f32, EndOfTurnError> {
        let features = features::log_mel(samples_16k);
        let input = TensorRef::from_array_view(([1usize, N_MELS, N_FRAMES], &features[..]))?;
        // A panic elsewhere while holding the lock leaves the session usable.
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let outputs = session.run(ort::inputs!["input_features" => input])?;
        let (_, values) = outputs[0].try_extract_tensor::<f32>()?;
        let probability = *values
            .first()
            .ok_or_else(|| EndOfTurnError::UnexpectedOutput {
                what: "no value".into(),
            })?;
        if !(0.0..=1.0).contains(&probability) {
            return Err(EndOfTurnError::UnexpectedOutput {
                what: format!("{probability}, not a probability"),
            });
        }
        Ok(probability)
    }

    /// Whether the turn is over ([`COMPLETE_AT`]).
    pub fn is_complete(&self, samples_16k: &[f32]) -> Result<bool, EndOfTurnError> {
        Ok(self.probability_complete(samples_16k)? >= COMPLETE_AT)
    }
}

#[cfg(test)]
mod tests;
