//! The intent classifier: hand-computed TF-IDF features → ONNX model via `ort`.
//!
//! Only the model over the numeric feature vector is in ONNX; the features are
//! computed here exactly as `scripts/train_intent.py` computes them (word
//! unigrams, word bigrams, character n-grams inside each padded word with the
//! range from `features.json`; sublinear TF × IDF; L2 norm).
//! `models/intent/features_check.jsonl` pins the two together.
//!
//! A second model over the same vector, `crisis.onnx`, says how likely the
//! words are a suicidal crisis (988) rather than anything else, other
//! emergencies included: a linear model trained by the same script on the
//! crisis lines of `scripts/crisis_phrases.py` against every other line. Its
//! threshold is folded into it: a probability of 0.5 or more is a crisis.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use serde::Deserialize;

use crate::vocabulary::Intent;

pub const MODEL_FILE: &str = "intent.onnx";
pub const FEATURES_FILE: &str = "features.json";
pub const CRISIS_MODEL_FILE: &str = "crisis.onnx";
const RETRAIN_HINT: &str = "retrain with `python3 scripts/train_intent.py` (make train-intents) or restore models/intent/ from git";

#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    #[error("running the intent model: {0}")]
    Inference(String),
    #[error("the intent model returned {got} probabilities, expected {expected}")]
    OutputShape { got: usize, expected: usize },
    #[error("the crisis model returned {got} values, expected 1")]
    CrisisShape { got: usize },
}

/// FNV-1a: the lookup keys are a few bytes long, where SipHash's set-up
/// cost dominates; no untrusted party chooses the keys of these tables.
#[derive(Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type Table = HashMap<String, u32, BuildHasherDefault<Fnv1a>>;

/// The feature space the model was trained on. The training script names
/// features "w word", "b left_right" and "c <gram"; each kind sits in its own
/// table keyed without the prefix, so lookups need no key building.
#[derive(Debug)]
pub struct FeatureSpace {
    words: Table,
    bigrams: Table,
    char_grams: Table,
    idf: Vec<f32>,
    char_ngram_min: usize,
    char_ngram_max: usize,
}

#[derive(Deserialize)]
struct FeaturesFile {
    format: u32,
    labels: Vec<String>,
    char_ngram_min: usize,
    char_ngram_max: usize,
    vocab: Vec<String>,
    idf: Vec<f32>,
}

/// Lower-cased ASCII words; apostrophes vanish (can't → cant), anything else
/// that is not an ASCII letter or digit separates words.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for ch in text.chars() {
        if ch == '\'' || ch == '\u{2019}' {
            continue;
        }
        if ch.is_ascii_alphanumeric() {
            word.push(ch.to_ascii_lowercase());
        } else if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

impl FeatureSpace {
    pub fn dimension(&self) -> usize {
        self.idf.len()
    }

    /// True when the training data contained this word.
    pub fn knows_word(&self, word: &str) -> bool {
        self.words.contains_key(word)
    }

    /// Sparse TF-IDF vector, sorted by index (the Python `Featurizer.sparse`).
    ///
    /// Allocation-light: one lower-cased buffer for the words, one reused key
    /// buffer for lookups, one vector of hit indices (sorted, then counted as
    /// runs) and the result; no per-word strings, no count map.
    pub fn sparse(&self, text: &str) -> Vec<(u32, f32)> {
        let mut lowered = String::with_capacity(text.len());
        let mut words: Vec<(usize, usize)> = Vec::with_capacity(32);
        let mut start = 0;
        for ch in text.chars() {
            if ch == '\'' || ch == '\u{2019}' {
                continue;
            }
            if ch.is_ascii_alphanumeric() {
                lowered.push(ch.to_ascii_lowercase());
            } else if lowered.len() > start {
                words.push((start, lowered.len()));
                start = lowered.len();
            }
        }
        if lowered.len() > start {
            words.push((start, lowered.len()));
        }
        let word = |w: &(usize, usize)| &lowered[w.0..w.1];

        let mut hits: Vec<u32> = Vec::with_capacity(words.len() * 16);
        for w in &words {
            if let Some(&i) = self.words.get(word(w)) {
                hits.push(i);
            }
        }
        let mut key = String::with_capacity(48);
        for pair in words.windows(2) {
            key.clear();
            key.push_str(word(&pair[0]));
            key.push('_');
            key.push_str(word(&pair[1]));
            if let Some(&i) = self.bigrams.get(key.as_str()) {
                hits.push(i);
            }
        }
        for w in &words {
            key.clear();
            key.push('<');
            key.push_str(word(w));
            key.push('>');
            // ASCII only, so byte offsets are character offsets.
            let padded_len = key.len();
            for n in self.char_ngram_min..=self.char_ngram_max.min(padded_len) {
                for at in 0..=padded_len - n {
                    let gram = &key[at..at + n];
                    if let Some(&i) = self.char_grams.get(gram) {
                        hits.push(i);
                    }
                }
            }
        }
        hits.sort_unstable();
        let mut pairs: Vec<(u32, f32)> = Vec::with_capacity(hits.len());
        let mut norm_sq = 0.0f64;
        let mut run_start = 0;
        while run_start < hits.len() {
            let i = hits[run_start];
            let mut run_end = run_start + 1;
            while run_end < hits.len() && hits[run_end] == i {
                run_end += 1;
            }
            let count = (run_end - run_start) as f64;
            let value = (1.0 + count.ln()) * self.idf[i as usize] as f64;
            norm_sq += value * value;
            pairs.push((i, value as f32));
            run_start = run_end;
        }
        let norm = norm_sq.sqrt();
        if norm > 0.0 {
            for p in &mut pairs {
                p.1 = (p.1 as f64 / norm) as f32;
            }
        }
        pairs
    }
}

/// One classification: the label and the calibrated probability of every label.
#[derive(Clone, Debug)]
pub struct Prediction {
    /// Probabilities in `Intent::ALL` order (temperature-scaled softmax).
    pub probabilities: [f32; 20],
    /// How likely a suicidal crisis is (the crisis model): 0.5 or more is one.
    pub crisis: f32,
}

impl Prediction {
    pub fn best(&self) -> (Intent, f32) {
        self.best_except(None)
    }

    /// The most probable label other than `excluded`.
    pub fn best_except(&self, excluded: Option<Intent>) -> (Intent, f32) {
        let mut best = (Intent::OutOfScope, f32::MIN);
        for (i, &p) in self.probabilities.iter().enumerate() {
            let intent = Intent::ALL[i];
            if Some(intent) != excluded && p > best.1 {
                best = (intent, p);
            }
        }
        best
    }

    pub fn probability(&self, intent: Intent) -> f32 {
        let i = Intent::ALL.iter().position(|&x| x == intent).unwrap_or(0);
        self.probabilities[i]
    }
}

/// The ONNX sessions plus a reusable input buffer; `Session::run` needs
/// `&mut`, so they sit behind one mutex.
struct Runner {
    session: Session,
    crisis: Session,
    dense: Vec<f32>,
}

/// Loaded once per process and shared; `classify` does no set-up.
pub struct IntentClassifier {
    features: FeatureSpace,
    /// Model output index → label, from the training metadata.
    labels: Vec<Intent>,
    runner: Mutex<Runner>,
}

impl IntentClassifier {
    /// Loads `intent.onnx`, `crisis.onnx` and `features.json` from `dir`.
    /// ONNX Runtime must be set up (`models::onnx_environment`).
    pub fn load(
        dir: &Path,
        environment: &ort::environment::Environment,
    ) -> anyhow::Result<IntentClassifier> {
        let features_path = dir.join(FEATURES_FILE);
        let model_path = dir.join(MODEL_FILE);
        let crisis_path = dir.join(CRISIS_MODEL_FILE);
        for path in [&features_path, &model_path, &crisis_path] {
            if !path.is_file() {
                anyhow::bail!(
                    "the intent model file is missing at {} — {RETRAIN_HINT}",
                    path.display()
                );
            }
        }
        let raw = std::fs::read(&features_path)
            .with_context(|| format!("reading {}", features_path.display()))?;
        let file: FeaturesFile = serde_json::from_slice(&raw).map_err(|e| {
            anyhow::anyhow!(
                "the intent feature file {} is corrupt ({e}) — {RETRAIN_HINT}",
                features_path.display()
            )
        })?;
        if file.format != 1 || file.vocab.len() != file.idf.len() || file.char_ngram_min == 0 {
            anyhow::bail!(
                "the intent feature file {} is inconsistent (format {}, {} words, {} idf weights) — {RETRAIN_HINT}",
                features_path.display(),
                file.format,
                file.vocab.len(),
                file.idf.len()
            );
        }
        let labels = file
            .labels
            .iter()
            .map(|l| {
                Intent::parse(l).with_context(|| {
                    format!(
                        "unknown intent label {l:?} in {} — {RETRAIN_HINT}",
                        features_path.display()
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if labels.len() != Intent::ALL.len() {
            anyhow::bail!(
                "{} lists {} labels, expected {} — {RETRAIN_HINT}",
                features_path.display(),
                labels.len(),
                Intent::ALL.len()
            );
        }
        let dimension = file.vocab.len();
        let (mut words, mut bigrams, mut char_grams) =
            (Table::default(), Table::default(), Table::default());
        for (i, feature) in file.vocab.into_iter().enumerate() {
            let table = match feature.get(..2) {
                Some("w ") => &mut words,
                Some("b ") => &mut bigrams,
                Some("c ") => &mut char_grams,
                _ => anyhow::bail!(
                    "the intent feature file {} names an unknown feature {feature:?} — {RETRAIN_HINT}",
                    features_path.display()
                ),
            };
            table.insert(feature[2..].to_string(), i as u32);
        }
        let features = FeatureSpace {
            words,
            bigrams,
            char_grams,
            idf: file.idf,
            char_ngram_min: file.char_ngram_min,
            char_ngram_max: file.char_ngram_max,
        };
        let session = open_session(environment, &model_path)?;
        let crisis = open_session(environment, &crisis_path)?;
        let classifier = IntentClassifier {
            features,
            labels,
            runner: Mutex::new(Runner {
                session,
                crisis,
                dense: vec![0.0; dimension],
            }),
        };
        // Fail at load, not on the first call, when model and features disagree.
        classifier.classify("hello").map_err(|e| {
            anyhow::anyhow!(
                "the intent model {} does not match {} ({e}) — {RETRAIN_HINT}",
                model_path.display(),
                features_path.display()
            )
        })?;
        Ok(classifier)
    }

    pub fn features(&self) -> &FeatureSpace {
        &self.features
    }

    pub fn classify(&self, text: &str) -> Result<Prediction, ClassifierError> {
        let sparse = self.features.sparse(text);
        let mut guard = self
            .runner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Runner {
            session,
            crisis,
            dense,
        } = &mut *guard;
        for &(i, v) in &sparse {
            dense[i as usize] = v;
        }
        let result = run_model(session, dense, "probabilities")
            .and_then(|raw| Ok((raw, run_model(crisis, dense, "crisis")?)));
        for &(i, _) in &sparse {
            dense[i as usize] = 0.0;
        }
        let (raw, crisis) = result?;
        if crisis.len() != 1 {
            return Err(ClassifierError::CrisisShape { got: crisis.len() });
        }
        if raw.len() != self.labels.len() {
            return Err(ClassifierError::OutputShape {
                got: raw.len(),
                expected: self.labels.len(),
            });
        }
        let mut probabilities = [0.0f32; 20];
        for (out_index, &label) in self.labels.iter().enumerate() {
            let at = Intent::ALL.iter().position(|&x| x == label).unwrap_or(0);
            probabilities[at] = raw[out_index];
        }
        Ok(Prediction {
            probabilities,
            crisis: crisis[0],
        })
    }
}

/// One ONNX session on one model file, for one utterance at a time.
fn open_session(
    environment: &ort::environment::Environment,
    path: &Path,
) -> anyhow::Result<Session> {
    Session::builder(environment)
        .map_err(|e| anyhow::anyhow!("creating an ONNX session builder: {e}"))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| anyhow::anyhow!("setting the optimisation level: {e}"))?
        // One utterance is a single small matrix product: threads only add latency.
        .with_intra_threads(1)
        .map_err(|e| anyhow::anyhow!("setting intra-op threads: {e}"))?
        .with_inter_threads(1)
        .map_err(|e| anyhow::anyhow!("setting inter-op threads: {e}"))?
        .commit_from_file(path)
        .map_err(|e| {
            anyhow::anyhow!(
                "the intent model {} is corrupt or unreadable ({e}) — {RETRAIN_HINT}",
                path.display()
            )
        })
}

fn run_model(
    session: &mut Session,
    dense: &[f32],
    output: &str,
) -> Result<Vec<f32>, ClassifierError> {
    let err = |e: ort::Error| ClassifierError::Inference(e.to_string());
    let input = TensorRef::from_array_view(([1usize, dense.len()], dense)).map_err(err)?;
    let outputs = session
        .run(ort::inputs!["features" => input])
        .map_err(err)?;
    let (_, values) = outputs[output].try_extract_tensor::<f32>().map_err(err)?;
    Ok(values.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_lowercase_drop_apostrophes_and_split_on_everything_else() {
        assert_eq!(
            tokens("Um, I CAN'T breathe!!"),
            vec!["um", "i", "cant", "breathe"]
        );
        assert_eq!(
            tokens("café naïve — 3/4/85"),
            vec!["caf", "na", "ve", "3", "4", "85"]
        );
        assert_eq!(tokens("  "), Vec::<String>::new());
    }

    fn space(features: &[&str]) -> FeatureSpace {
        let (mut words, mut bigrams, mut char_grams) =
            (Table::default(), Table::default(), Table::default());
        for (i, f) in features.iter().enumerate() {
            let table = match &f[..2] {
                "w " => &mut words,
                "b " => &mut bigrams,
                _ => &mut char_grams,
            };
            table.insert(f[2..].to_string(), i as u32);
        }
        FeatureSpace {
            words,
            bigrams,
            char_grams,
            idf: vec![1.0; features.len()],
            char_ngram_min: 2,
            char_ngram_max: 3,
        }
    }

    #[test]
    fn sparse_counts_words_bigrams_and_in_word_grams_with_sublinear_tf() {
        let fs = space(&["w no", "b no_no", "c <n", "c no>", "w yes"]);
        // "no no": word ×2, bigram ×1, "<n" ×2, "no>" ×2; "yes" absent.
        let v = fs.sparse("No, NO!");
        let indices: Vec<u32> = v.iter().map(|p| p.0).collect();
        assert_eq!(indices, vec![0, 1, 2, 3]);
        let twice = 1.0 + 2f64.ln();
        let norm = (3.0 * twice * twice + 1.0f64).sqrt();
        assert!((v[0].1 as f64 - twice / norm).abs() < 1e-6, "{v:?}");
        assert!((v[1].1 as f64 - 1.0 / norm).abs() < 1e-6, "{v:?}");
        // Grams never cross a word boundary: "o n" is not "on".
        assert!(space(&["c on"]).sparse("no no").is_empty());
        assert!(fs.sparse("").is_empty());
    }
}
