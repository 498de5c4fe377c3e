//! Models: where they live on disk, how they are fetched and converted
//! (`frontdesk models`), and the one-time ONNX Runtime set-up.
//!
//! Layout under the models directory (`FRONTDESK_MODELS_DIR`, default
//! `./models`):
//! - `whisper/ggml-tiny.en-q8_0.bin`: Whisper tiny.en converted from
//!   CTranslate2, its matrices in ggml's q8_0 (a quarter to a third faster
//!   than f16 on the CPU; docs/speed.md)
//! - `vad/silero_vad.onnx`: Silero VAD
//! - `voice/en_US-joe-medium.onnx` + `.onnx.json`: the Piper voice
//! - `onnxruntime/libonnxruntime.so`: ONNX Runtime for `ort` (load-dynamic)
//! - `intent/`: the intent classifier, trained in-repo and committed

pub mod fetch;
pub mod mel;
pub mod whisper_ggml;

pub use fetch::{ModelsOptions, run_models_command};

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context;

/// Paths of every model file the agent loads.
#[derive(Clone, Debug)]
pub struct ModelPaths {
    pub root: PathBuf,
}

impl ModelPaths {
    /// `FRONTDESK_MODELS_DIR`, else `models/` under the current directory,
    /// else `models/` beside the crate sources (tests, `cargo run`).
    pub fn locate() -> ModelPaths {
        if let Ok(dir) = std::env::var("FRONTDESK_MODELS_DIR") {
            return ModelPaths {
                root: PathBuf::from(dir),
            };
        }
        let cwd = PathBuf::from("models");
        if cwd.join("manifest.toml").exists() {
            return ModelPaths { root: cwd };
        }
        ModelPaths {
            root: Path::new(env!("CARGO_MANIFEST_DIR")).join("models"),
        }
    }

    pub fn at(root: impl Into<PathBuf>) -> ModelPaths {
        ModelPaths { root: root.into() }
    }

    pub fn whisper(&self) -> PathBuf {
        self.root.join("whisper/ggml-tiny.en-q8_0.bin")
    }
    /// The CTranslate2 source the ggml file is converted from.
    pub fn whisper_ct2_dir(&self) -> PathBuf {
        self.root.join("whisper-ct2")
    }
    /// Where `frontdesk models` keeps downloaded wheels.
    pub fn wheel_cache(&self) -> PathBuf {
        self.root.join(".cache/wheels")
    }
    pub fn vad(&self) -> PathBuf {
        self.root.join("vad/silero_vad.onnx")
    }
    /// Smart Turn v3: whether the caller's audio so far ends a turn.
    pub fn end_of_turn(&self) -> PathBuf {
        self.root.join("turn/smart-turn-v3.2-cpu.onnx")
    }
    pub fn voice(&self) -> PathBuf {
        self.root.join("voice/en_US-joe-medium.onnx")
    }
    pub fn voice_config(&self) -> PathBuf {
        self.root.join("voice/en_US-joe-medium.onnx.json")
    }
    pub fn onnxruntime(&self) -> PathBuf {
        self.root.join("onnxruntime/libonnxruntime.so")
    }
    pub fn intent_dir(&self) -> PathBuf {
        self.root.join("intent")
    }

    /// Fails with a message naming the fix when a model file is missing.
    pub fn require(&self, path: &Path, what: &str) -> anyhow::Result<()> {
        if path.is_file() {
            Ok(())
        } else {
            anyhow::bail!(
                "the {what} model is missing at {} — run `frontdesk models` (or `make models`) to fetch and convert it",
                path.display()
            )
        }
    }
}

/// The process-wide ONNX Runtime environment; `ort` holds it only weakly, so
/// it is kept alive here for the life of the process.
static ORT_ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Loads ONNX Runtime from the models directory, once per process. Every
/// module that runs an ONNX model calls this first.
pub fn init_onnx_runtime(paths: &ModelPaths) -> anyhow::Result<()> {
    let result = ORT_ENV.get_or_init(|| {
        let lib = paths.onnxruntime();
        if !lib.is_file() {
            return Err(format!(
                "ONNX Runtime is missing at {} — run `frontdesk models` (or `make models`) to fetch it",
                lib.display()
            ));
        }
        ort::init_from(&lib)
            .map_err(|e| format!("loading ONNX Runtime from {}: {e}", lib.display()))?
            .with_name("frontdesk")
            .build()
            .map_err(|e| format!("starting ONNX Runtime from {}: {e}", lib.display()))
    });
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err(anyhow::Error::msg(e.clone())).context("setting up ONNX Runtime"),
    }
}

/// The process-wide ONNX Runtime environment (set up on first use);
/// `ort::session::Session::builder` takes it as an argument in rc.15.
pub fn onnx_environment(
    paths: &ModelPaths,
) -> anyhow::Result<&'static ort::environment::Environment> {
    init_onnx_runtime(paths)?;
    match ORT_ENV.get() {
        Some(Ok(env)) => Ok(env),
        _ => anyhow::bail!("ONNX Runtime is not set up"),
    }
}
