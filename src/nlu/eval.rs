//! Evaluation of the whole understanding step on labelled lines
//! (`frontdesk nlu --eval FILE`), a seeded Whisper-style noiser for the
//! robustness check, and the latency benchmark (`frontdesk bench nlu`).

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Nlu;
use crate::vocabulary::Intent;

/// One labelled utterance (`fixtures/intents/*.jsonl`).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct LabelledLine {
    pub text: String,
    pub intent: Intent,
}

/// Reads a JSON-lines file of `{"text", "intent"}`.
pub fn load_labelled(path: &Path) -> anyhow::Result<Vec<LabelledLine>> {
    let raw =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    raw.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).with_context(|| {
                format!(
                    "{}:{}: expected {{\"text\", \"intent\"}}",
                    path.display(),
                    n + 1
                )
            })
        })
        .collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct LabelScore {
    pub label: Intent,
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    pub lines: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_label: Vec<LabelScore>,
    /// `confusion[truth][predicted]`, both in `Intent::ALL` order.
    pub confusion: Vec<Vec<usize>>,
    /// Emergency lines labelled emergency / emergency lines.
    pub emergency_recall: f64,
    /// Clinical questions labelled emergency / clinical questions.
    pub clinical_false_alarm_rate: f64,
    /// Expected calibration error of `confidence` (10 equal-width bins).
    pub expected_calibration_error: f64,
    /// The lines that were labelled wrongly: (text, truth, predicted).
    pub errors: Vec<(String, Intent, Intent)>,
}

fn index(intent: Intent) -> usize {
    Intent::ALL.iter().position(|&i| i == intent).unwrap_or(0)
}

pub fn evaluate(nlu: &Nlu, lines: &[LabelledLine]) -> EvalReport {
    let n_labels = Intent::ALL.len();
    let mut confusion = vec![vec![0usize; n_labels]; n_labels];
    let mut scored = Vec::with_capacity(lines.len());
    let mut errors = Vec::new();
    for line in lines {
        let (predicted, confidence, _) = nlu.label(&line.text);
        confusion[index(line.intent)][index(predicted)] += 1;
        scored.push((confidence as f64, predicted == line.intent));
        if predicted != line.intent {
            errors.push((line.text.clone(), line.intent, predicted));
        }
    }
    let correct: usize = (0..n_labels).map(|i| confusion[i][i]).sum();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let per_label: Vec<LabelScore> = Intent::ALL
        .iter()
        .enumerate()
        .map(|(i, &label)| {
            let support: usize = confusion[i].iter().sum();
            let predicted: usize = (0..n_labels).map(|t| confusion[t][i]).sum();
            let precision = ratio(confusion[i][i], predicted);
            let recall = ratio(confusion[i][i], support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            LabelScore {
                label,
                support,
                precision,
                recall,
                f1,
            }
        })
        .collect();
    let present: Vec<&LabelScore> = per_label.iter().filter(|s| s.support > 0).collect();
    let macro_f1 = if present.is_empty() {
        0.0
    } else {
        present.iter().map(|s| s.f1).sum::<f64>() / present.len() as f64
    };
    let em = index(Intent::Emergency);
    let cq = index(Intent::ClinicalQuestion);
    EvalReport {
        lines: lines.len(),
        accuracy: ratio(correct, lines.len()),
        macro_f1,
        emergency_recall: ratio(confusion[em][em], confusion[em].iter().sum()),
        clinical_false_alarm_rate: ratio(confusion[cq][em], confusion[cq].iter().sum()),
        expected_calibration_error: calibration_error(&scored, 10),
        per_label,
        confusion,
        errors,
    }
}

fn calibration_error(scored: &[(f64, bool)], bins: usize) -> f64 {
    if scored.is_empty() {
        return 0.0;
    }
    let mut total = 0.0;
    for b in 0..bins {
        let (lo, hi) = (b as f64 / bins as f64, (b + 1) as f64 / bins as f64);
        let in_bin: Vec<&(f64, bool)> =
            scored.iter().filter(|(c, _)| *c > lo && *c <= hi).collect();
        if in_bin.is_empty() {
            continue;
        }
        let accuracy = in_bin.iter().filter(|(_, ok)| *ok).count() as f64 / in_bin.len() as f64;
        let confidence = in_bin.iter().map(|(c, _)| c).sum::<f64>() / in_bin.len() as f64;
        total += in_bin.len() as f64 / scored.len() as f64 * (accuracy - confidence).abs();
    }
    total
}

impl EvalReport {
    /// A plain-text summary: headline figures, per-label recall, confusions.
    pub fn render(&self) -> String {
        let mut out = format!(
            "lines {}  accuracy {:.3}  macro-F1 {:.3}  emergency recall {:.3}  clinical→emergency false alarms {:.3}  ECE {:.3}\n",
            self.lines,
            self.accuracy,
            self.macro_f1,
            self.emergency_recall,
            self.clinical_false_alarm_rate,
            self.expected_calibration_error
        );
        for s in &self.per_label {
            out += &format!(
                "  {:24} support {:4}  precision {:.3}  recall {:.3}  f1 {:.3}\n",
                s.label.as_str(),
                s.support,
                s.precision,
                s.recall,
                s.f1
            );
        }
        out += "confusions (truth → predicted × count):\n";
        for (t, row) in self.confusion.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                if t != p && count > 0 {
                    out += &format!("  {} → {} × {count}\n", Intent::ALL[t], Intent::ALL[p]);
                }
            }
        }
        out
    }
}

/// Makes text look like Whisper on a phone line: lower case, no punctuation,
/// a filler inserted, one word misheard. Deterministic for a given `seed`.
pub fn whisper_noise(text: &str, seed: u64) -> String {
    // Mishearings typical of narrow-band ASR (sound-alikes), distinct from
    // the training script's table.
    const MISHEARD: &[(&str, &str)] = &[
        ("three", "free"),
        ("slurring", "wearing"),
        ("to", "two"),
        ("for", "four"),
        ("my", "me"),
        ("appointment", "appointments"),
        ("results", "result"),
        ("refill", "refills"),
        ("bill", "build"),
        ("the", "a"),
        ("doctor", "doctors"),
        ("right", "write"),
        ("yes", "yeah"),
        ("no", "know"),
        ("week", "weak"),
        ("hours", "ours"),
        ("pain", "pane"),
        ("breathe", "breed"),
        ("insurance", "assurance"),
        ("records", "record"),
        ("cancel", "council"),
        ("new", "knew"),
        ("bye", "by"),
    ];
    const FILLERS: &[&str] = &["um", "uh", "yeah so", "like", "you know", "so"];
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64*: small, seedable, deterministic across platforms.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let lowered: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' || c.is_whitespace() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    let mut words: Vec<String> = lowered.split_whitespace().map(str::to_string).collect();
    if words.is_empty() {
        return String::new();
    }
    let candidates: Vec<usize> = (0..words.len())
        .filter(|&i| MISHEARD.iter().any(|(w, _)| *w == words[i]))
        .collect();
    if !candidates.is_empty() {
        let i = candidates[(next() % candidates.len() as u64) as usize];
        if let Some((_, heard)) = MISHEARD.iter().find(|(w, _)| *w == words[i]) {
            words[i] = heard.to_string();
        }
    }
    let filler = FILLERS[(next() % FILLERS.len() as u64) as usize];
    let at = (next() % (words.len() as u64 + 1)) as usize;
    words.insert(at, filler.to_string());
    words.join(" ")
}

#[derive(Clone, Debug, Serialize)]
pub struct LatencyReport {
    pub utterances: usize,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub mean_us: u64,
}

/// Times `understand` (intent + entities) per utterance, `rounds` passes over
/// `texts` after one warm-up pass. Run it on one core for the target figure.
pub fn bench_nlu(nlu: &Nlu, texts: &[String], today: NaiveDate, rounds: usize) -> LatencyReport {
    for t in texts {
        std::hint::black_box(nlu.understand(t, today));
    }
    let mut times_us = Vec::with_capacity(texts.len() * rounds);
    for _ in 0..rounds {
        for t in texts {
            let start = Instant::now();
            std::hint::black_box(nlu.understand(t, today));
            times_us.push(start.elapsed().as_micros() as u64);
        }
    }
    times_us.sort_unstable();
    let pick = |q: f64| {
        times_us
            .get(((times_us.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0)
    };
    LatencyReport {
        utterances: times_us.len(),
        p50_us: pick(0.5),
        p99_us: pick(0.99),
        max_us: times_us.last().copied().unwrap_or(0),
        mean_us: if times_us.is_empty() {
            0
        } else {
            times_us.iter().sum::<u64>() / times_us.len() as u64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_deterministic_lowercase_and_unpunctuated() {
        let a = whisper_noise("Yes, I need THREE refills.", 7);
        assert_eq!(a, whisper_noise("Yes, I need THREE refills.", 7));
        assert!(!a.contains(',') && !a.contains('.'));
        assert_eq!(a, a.to_lowercase());
        assert!(
            a.split_whitespace().count() > 5,
            "a filler was inserted: {a}"
        );
    }
}
