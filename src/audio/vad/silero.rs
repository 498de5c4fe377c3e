//! Silero VAD (v6, ONNX) on 8 kHz telephone audio: the model, loaded once
//! and shared by every call, and each stream's recurrent state. It turns a
//! window of [`WINDOW_SAMPLES`] samples into a speech probability and knows
//! nothing of utterances: the endpointer (`super::endpointer`) does.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;

use super::{SAMPLE_RATE_HZ, WINDOW_SAMPLES};
use crate::models::ModelPaths;

/// Samples of the previous window Silero v5+ prepends to each window at 8 kHz
/// (64 at 16 kHz), as silero_vad/utils_vad.py `OnnxWrapper` does.
const CONTEXT_SAMPLES: usize = 32;
/// Recurrent state shape: [2, batch = 1, 128].
const STATE_LEN: usize = 2 * 128;

#[derive(Debug, thiserror::Error)]
pub enum VadError {
    #[error("loading the Silero VAD model from {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("running the Silero VAD model: {0}")]
    Inference(#[from] ort::Error),
    #[error("the Silero VAD model returned {what}")]
    UnexpectedOutput { what: String },
}

/// Silero VAD, loaded once per process and shared (`Arc`) by every call.
///
/// `ort` needs `&mut Session` to run, so calls take turns through a mutex; a
/// window costs well under a millisecond and a call needs ~31 windows a
/// second, so the lock is not a bottleneck at clinic call volumes.
pub struct VadModel {
    session: Mutex<Session>,
}

impl std::fmt::Debug for VadModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VadModel").finish_non_exhaustive()
    }
}

impl VadModel {
    /// Loads `vad/silero_vad.onnx` from the models directory.
    pub fn load(paths: &ModelPaths) -> anyhow::Result<Arc<VadModel>> {
        let path = paths.vad();
        paths.require(&path, "Silero VAD")?;
        let environment = onnx_environment(paths)?;
        Ok(VadModel::from_file(environment, &path)?)
    }

    /// Builds the session from a model file. One intra-op thread: a window is
    /// tiny, and thread hand-offs would cost more than they save.
    pub fn from_file(environment: &Environment, path: &Path) -> Result<Arc<VadModel>, VadError> {
        let load_error = |reason: String| VadError::Load {
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
        let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        for expected in ["input", "state", "sr"] {
            if !names.contains(&expected) {
                return Err(load_error(format!(
                    "no `{expected}` input (inputs: {names:?}); not Silero VAD v5+"
                )));
            }
        }
        Ok(Arc::new(VadModel {
            session: Mutex::new(session),
        }))
    }

    /// Raw per-window speech probabilities for one stream.
    pub fn new_detector(self: &Arc<Self>) -> SpeechDetector {
        SpeechDetector::new(Arc::clone(self))
    }

    /// One model step: `input` is context + window, `state` is updated in place.
    fn run(&self, input: &[f32], state: &mut [f32; STATE_LEN]) -> Result<f32, VadError> {
        let sample_rate = [SAMPLE_RATE_HZ as i64];
        let input_tensor = TensorRef::from_array_view(([1usize, input.len()], input))?;
        let state_tensor = TensorRef::from_array_view(([2usize, 1, 128], &state[..]))?;
        let sr_tensor = TensorRef::from_array_view(((), &sample_rate[..]))?;
        // A panic elsewhere while holding the lock leaves the session usable.
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let outputs = session.run(ort::inputs![
            "input" => input_tensor,
            "state" => state_tensor,
            "sr" => sr_tensor,
        ])?;
        let (_, probability) = outputs["output"].try_extract_tensor::<f32>()?;
        let probability = *probability
            .first()
            .ok_or_else(|| VadError::UnexpectedOutput {
                what: "an empty probability".into(),
            })?;
        let (_, new_state) = outputs["stateN"].try_extract_tensor::<f32>()?;
        if new_state.len() != STATE_LEN {
            return Err(VadError::UnexpectedOutput {
                what: format!("a state of {} values", new_state.len()),
            });
        }
        state.copy_from_slice(new_state);
        Ok(probability)
    }
}

/// The process-wide ONNX Runtime environment.
///
/// Stand-in: `ort` 2.0.0-rc.15 needs `&Environment` to build a session and
/// allows only one environment per process, but `crate::models` keeps its
/// environment private. Until it exposes one (e.g.
/// `models::onnx_environment(&paths) -> Result<&'static Environment>`), this
/// builds it here, the same way `models::init_onnx_runtime` does; calling
/// both in one process fails with "only one environment is allowed".
fn onnx_environment(paths: &ModelPaths) -> anyhow::Result<&'static Environment> {
    crate::models::onnx_environment(paths)
}

/// Per-stream model state: Silero's recurrent state and the last
/// `CONTEXT_SAMPLES` of the previous window.
pub struct SpeechDetector {
    model: Arc<VadModel>,
    state: [f32; STATE_LEN],
    /// Context followed by the current window, as floats in [-1, 1).
    input: [f32; CONTEXT_SAMPLES + WINDOW_SAMPLES],
}

impl SpeechDetector {
    fn new(model: Arc<VadModel>) -> SpeechDetector {
        SpeechDetector {
            model,
            state: [0.0; STATE_LEN],
            input: [0.0; CONTEXT_SAMPLES + WINDOW_SAMPLES],
        }
    }

    /// Speech probability of one window of exactly [`WINDOW_SAMPLES`] samples
    /// (shorter windows are zero-padded, longer ones truncated).
    pub fn probability(&mut self, window_8k: &[i16]) -> Result<f32, VadError> {
        // The previous window's tail becomes this window's context.
        self.input.copy_within(WINDOW_SAMPLES.., 0);
        let window = &mut self.input[CONTEXT_SAMPLES..];
        for (slot, i) in window.iter_mut().zip(0..) {
            *slot = window_8k.get(i).map_or(0.0, |&s| f32::from(s) / 32768.0);
        }
        self.model.run(&self.input, &mut self.state)
    }

    /// Forgets everything heard so far.
    pub fn reset(&mut self) {
        self.state = [0.0; STATE_LEN];
        self.input = [0.0; CONTEXT_SAMPLES + WINDOW_SAMPLES];
    }
}

#[cfg(test)]
#[path = "silero_tests.rs"]
mod tests;
