//! The Piper voice (VITS exported to ONNX) run through `ort`: phoneme ids in,
//! f32 audio at the voice's sample rate out. Blocking: call it from a
//! dedicated std thread, never from a tokio worker.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use ort::environment::Environment;
use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;

use super::phonemes::{self, PhonemeIdMap};
use crate::compute::ThreadBudget;
use crate::models::{self, ModelPaths};

/// The parts of a Piper `.onnx.json` we use.
#[derive(Debug, Deserialize)]
struct VoiceConfigFile {
    audio: AudioSection,
    espeak: EspeakSection,
    inference: SynthesisParams,
    #[serde(default)]
    num_speakers: u32,
    phoneme_id_map: HashMap<String, Vec<i64>>,
}

#[derive(Debug, Deserialize)]
struct AudioSection {
    sample_rate: u32,
}

#[derive(Debug, Deserialize)]
struct EspeakSection {
    voice: String,
}

/// Piper's `scales` input: sampling noise, pace (larger is slower) and
/// phoneme-duration noise.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
pub struct SynthesisParams {
    pub noise_scale: f32,
    pub length_scale: f32,
    pub noise_w: f32,
}

/// Most threads one sentence is synthesised with.
const MAX_THREADS: usize = 2;

/// A loaded Piper voice, shared by every call.
pub struct PiperVoice {
    /// `sessions[i]` computes with `i + 1` threads, one per thread count the
    /// machine's [`ThreadBudget`] may hand out (up to two); `Session::run`
    /// needs `&mut`, so sentences wanting the same size take turns.
    sessions: Vec<Mutex<Session>>,
    budget: Arc<ThreadBudget>,
    id_map: PhonemeIdMap,
    espeak_voice: String,
    sample_rate_hz: u32,
    defaults: SynthesisParams,
    /// Model invocations so far; lets tests prove the prompt cache bypasses it.
    runs: AtomicU64,
}

impl PiperVoice {
    /// Loads the voice named in `paths` (ONNX Runtime is initialised first).
    pub fn load(paths: &ModelPaths) -> anyhow::Result<PiperVoice> {
        paths.require(&paths.voice(), "Piper voice")?;
        paths.require(&paths.voice_config(), "Piper voice config")?;
        let environment = models::onnx_environment(paths)?;
        PiperVoice::load_files(environment, &paths.voice(), &paths.voice_config())
    }

    fn load_files(
        environment: &Environment,
        model: &Path,
        config: &Path,
    ) -> anyhow::Result<PiperVoice> {
        let started = Instant::now();
        let config_text = std::fs::read_to_string(config)
            .with_context(|| format!("reading the voice config {}", config.display()))?;
        let config: VoiceConfigFile = serde_json::from_str(&config_text)
            .with_context(|| format!("parsing the voice config {}", config.display()))?;
        anyhow::ensure!(
            config.num_speakers <= 1,
            "multi-speaker Piper voices are not supported (this one has {})",
            config.num_speakers
        );
        anyhow::ensure!(
            config.audio.sample_rate > 0,
            "the voice config has a zero sample rate"
        );
        let id_map = PhonemeIdMap::from_json_map(&config.phoneme_id_map)?;
        // Check espeak has the voice now rather than on the first call.
        phonemes::phonemize("ready", &config.espeak.voice)
            .with_context(|| format!("selecting espeak-ng voice {:?}", config.espeak.voice))?;
        let budget = ThreadBudget::machine();
        let sessions = (1..=budget.total().min(MAX_THREADS))
            .map(|threads| {
                let session = Session::builder(environment)
                    .map_err(|e| anyhow::anyhow!("creating an ONNX session builder: {e}"))?
                    .with_intra_threads(threads)
                    .map_err(|e| anyhow::anyhow!("setting intra-op threads: {e}"))?
                    .with_inter_threads(1)
                    .map_err(|e| anyhow::anyhow!("setting inter-op threads: {e}"))?
                    // Idle pool threads must not spin on cores Whisper was given.
                    .with_intra_op_spinning(false)
                    .map_err(|e| anyhow::anyhow!("turning off intra-op spinning: {e}"))?
                    .commit_from_file(model)
                    .with_context(|| format!("loading the Piper voice {}", model.display()))?;
                Ok(Mutex::new(session))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        tracing::info!(
            load_ms = started.elapsed().as_millis() as u64,
            sample_rate_hz = config.audio.sample_rate,
            "piper voice loaded"
        );
        Ok(PiperVoice {
            sessions,
            budget,
            id_map,
            espeak_voice: config.espeak.voice,
            sample_rate_hz: config.audio.sample_rate,
            defaults: config.inference,
            runs: AtomicU64::new(0),
        })
    }

    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    /// The voice's own scales from its config.
    pub fn default_params(&self) -> SynthesisParams {
        self.defaults
    }

    /// How many times the ONNX model has run.
    pub fn model_runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// espeak-ng phonemes for `text`, one string per sentence espeak found.
    pub fn phonemize(&self, text: &str) -> anyhow::Result<Vec<String>> {
        Ok(phonemes::phonemize(text, &self.espeak_voice)?)
    }

    /// Phoneme ids (with BOS/pad/EOS) for one sentence of phonemes.
    pub fn phoneme_ids(&self, phonemes: &str) -> Vec<i64> {
        let (ids, missing) = self.id_map.to_ids(phonemes);
        if missing > 0 {
            tracing::debug!(
                missing,
                "phonemes missing from the voice's id map were skipped"
            );
        }
        ids
    }

    /// Synthesises already-normalised text: f32 audio at
    /// [`Self::sample_rate_hz`], peak-normalised like Piper's own output.
    /// Blocking (tens to hundreds of milliseconds).
    pub fn synthesize(&self, text: &str, params: SynthesisParams) -> anyhow::Result<Vec<f32>> {
        let mut audio = Vec::new();
        for sentence in self.phonemize(text)? {
            let ids = self.phoneme_ids(&sentence);
            audio.extend(self.synthesize_ids(&ids, params)?);
        }
        normalize_peak(&mut audio);
        Ok(audio)
    }

    /// One model run on a phoneme-id sequence; raw model output.
    pub fn synthesize_ids(&self, ids: &[i64], params: SynthesisParams) -> anyhow::Result<Vec<f32>> {
        // BOS + pad + EOS alone: nothing to say.
        if ids.len() <= 3 {
            return Ok(Vec::new());
        }
        let input = Tensor::from_array(([1usize, ids.len()], ids.to_vec()))?;
        let input_lengths = Tensor::from_array(([1usize], vec![ids.len() as i64]))?;
        let scales = Tensor::from_array((
            [3usize],
            vec![params.noise_scale, params.length_scale, params.noise_w],
        ))?;
        let threads = self.budget.take(self.sessions.len(), false);
        let mut session = self.sessions[threads.count().min(self.sessions.len()) - 1]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.runs.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let outputs = session
            .run(ort::inputs![
                "input" => input,
                "input_lengths" => input_lengths,
                "scales" => scales,
            ])
            .context("running the Piper voice")?;
        crate::metrics::engines()
            .piper_seconds
            .observe(started.elapsed().as_secs_f64());
        let (_, audio) = outputs[0]
            .try_extract_tensor::<f32>()
            .context("reading Piper's audio output")?;
        Ok(audio.to_vec())
    }
}

/// Scales audio so its peak sits at Piper's usual level, leaving near-silence
/// alone (no boosting of noise).
fn normalize_peak(audio: &mut [f32]) {
    const TARGET_PEAK: f32 = 0.9;
    let peak = audio.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    if peak > 0.01 {
        let gain = TARGET_PEAK / peak;
        audio.iter_mut().for_each(|s| *s *= gain);
    }
}
