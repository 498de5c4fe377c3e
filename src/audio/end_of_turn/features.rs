//! Smart Turn's input: Whisper's log-mel spectrogram of the last eight
//! seconds, as `transformers.WhisperFeatureExtractor(chunk_length=8)`
//! computes it (the model was trained on exactly these features; pipecat's
//! `_whisper_features.py` is the reference these tests were checked against).

use std::sync::{Arc, LazyLock};

use realfft::{RealFftPlanner, RealToComplex};

use crate::models::mel::{WHISPER_N_FFT, WHISPER_SAMPLE_RATE_HZ, mel_filterbank};

/// Seconds of audio the model sees; older audio is cut, shorter is padded
/// with silence in front.
pub const WINDOW_SECONDS: usize = 8;
/// Samples in the window, at 16 kHz.
pub const WINDOW_SAMPLES: usize = WINDOW_SECONDS * WHISPER_SAMPLE_RATE_HZ as usize;
pub const N_MELS: usize = 80;
/// Spectrogram frames the model takes (10 ms hops; the last frame is dropped).
pub const N_FRAMES: usize = WINDOW_SAMPLES / HOP;
const HOP: usize = 160;
const N_BINS: usize = WHISPER_N_FFT / 2 + 1;

struct Tables {
    /// Periodic Hann window (`torch.hann_window`).
    window: Vec<f64>,
    /// Each mel band's first FFT bin and its non-zero weights (a band
    /// spans a few bins of the 201, so the product skips the zeros).
    bands: Vec<(usize, Vec<f32>)>,
    fft: Arc<dyn RealToComplex<f64>>,
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| Tables {
    window: (0..WHISPER_N_FFT)
        .map(|i| {
            let x = std::f64::consts::PI * 2.0 * i as f64 / WHISPER_N_FFT as f64;
            0.5 - 0.5 * x.cos()
        })
        .collect(),
    bands: mel_filterbank(WHISPER_SAMPLE_RATE_HZ, WHISPER_N_FFT, N_MELS)
        .chunks(N_BINS)
        .map(|row| {
            let first = row.iter().position(|w| *w != 0.0).unwrap_or(0);
            let last = row.iter().rposition(|w| *w != 0.0).unwrap_or(0);
            (first, row[first..=last.max(first)].to_vec())
        })
        .collect(),
    fft: RealFftPlanner::<f64>::new().plan_fft_forward(WHISPER_N_FFT),
});

/// Row-major `N_MELS × N_FRAMES` features of the last [`WINDOW_SECONDS`]
/// of `samples_16k` (mono, [-1, 1]).
pub fn log_mel(samples_16k: &[f32]) -> Vec<f32> {
    let tables = &*TABLES;
    // The last eight seconds, silence in front when shorter.
    let mut x = vec![0f32; WINDOW_SAMPLES];
    let tail = &samples_16k[samples_16k.len().saturating_sub(WINDOW_SAMPLES)..];
    x[WINDOW_SAMPLES - tail.len()..].copy_from_slice(tail);
    // Zero mean, unit variance over the whole window (in f32, as the
    // reference does before the spectrogram promotes to f64).
    let n = x.len() as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let scale = 1.0 / (var + 1e-7).sqrt();
    // Centred frames: reflect-padded by half a window on each side.
    let pad = WHISPER_N_FFT / 2;
    let padded: Vec<f64> = (0..WINDOW_SAMPLES + 2 * pad)
        .map(|i| {
            let j = i as isize - pad as isize;
            let j = if j < 0 {
                -j
            } else if j >= WINDOW_SAMPLES as isize {
                2 * (WINDOW_SAMPLES as isize - 1) - j
            } else {
                j
            } as usize;
            f64::from((x[j] - mean) * scale)
        })
        .collect();
    let mut frame = tables.fft.make_input_vec();
    let mut spectrum = tables.fft.make_output_vec();
    let mut scratch = tables.fft.make_scratch_vec();
    let mut power = vec![0f64; N_BINS];
    let mut out = vec![0f32; N_MELS * N_FRAMES];
    for t in 0..N_FRAMES {
        let start = t * HOP;
        for (k, slot) in frame.iter_mut().enumerate() {
            *slot = padded[start + k] * tables.window[k];
        }
        tables
            .fft
            .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
            .expect("FFT buffers are the planner's own sizes");
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p = c.norm_sqr();
        }
        for (m, (first, weights)) in tables.bands.iter().enumerate() {
            let energy: f64 = weights
                .iter()
                .zip(&power[*first..])
                .map(|(w, p)| f64::from(*w) * p)
                .sum();
            out[m * N_FRAMES + t] = energy.max(1e-10).log10() as f32;
        }
    }
    let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for v in &mut out {
        *v = (v.max(max - 8.0) + 4.0) / 4.0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chirp with a high tone over it, 3 s, at the end of the window;
    /// reference values from pipecat 1.14.0's `compute_whisper_log_mel_features`.
    #[test]
    fn features_match_the_reference_extractor() {
        let samples: Vec<f32> = (0..3 * 16_000)
            .map(|i| {
                let t = i as f64 / 16_000.0;
                let f = 200.0 + 100.0 * t;
                (0.3 * (2.0 * std::f64::consts::PI * f * t).sin()
                    + 0.05 * (2.0 * std::f64::consts::PI * 3100.0 * t).sin()) as f32
            })
            .collect();
        let features = log_mel(&samples);
        assert_eq!(features.len(), N_MELS * N_FRAMES);
        for (mel, frame, expected) in [
            (0, 0, -0.218_006_98),
            (5, 500, 1.597_218_5),
            (10, 700, -0.137_336_05),
            (79, 799, -0.080_482_18),
            (3, 799, 0.674_313_84),
            (20, 400, -0.218_006_98),
        ] {
            let got = features[mel * N_FRAMES + frame];
            assert!(
                (got - expected).abs() < 2e-3,
                "mel {mel} frame {frame}: {got} against {expected}"
            );
        }
    }

    #[test]
    fn only_the_last_eight_seconds_count() {
        let long: Vec<f32> = (0..12 * 16_000)
            .map(|i| ((i % 97) as f32 / 97.0) - 0.5)
            .collect();
        let last = &long[long.len() - WINDOW_SAMPLES..];
        assert_eq!(log_mel(&long), log_mel(last));
    }
}
