//! Whisper's mel filter bank: Slaney's triangular filters, as
//! `librosa.filters.mel(sr, n_fft, n_mels)`. The ggml conversion writes it
//! into the Whisper file, and the end-of-turn model's features use it.

/// Whisper's audio front end: 16 kHz, 400-sample FFT, 80 mel bands.
pub const WHISPER_SAMPLE_RATE_HZ: u32 = 16_000;
pub const WHISPER_N_FFT: usize = 400;

fn hz_to_mel_slaney(hz: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= min_log_hz {
        min_log_mel + (hz / min_log_hz).ln() / logstep
    } else {
        hz / f_sp
    }
}

fn mel_to_hz_slaney(mel: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        min_log_hz * (logstep * (mel - min_log_mel)).exp()
    } else {
        f_sp * mel
    }
}

/// Row-major `n_mels × (n_fft/2 + 1)` triangular filters with Slaney's
/// mel scale and area normalisation, from 0 Hz to Nyquist. The arithmetic
/// follows librosa step by step, including its rounding to f32 before the
/// normalisation, so the values match librosa's float32 output.
pub fn mel_filterbank(sample_rate_hz: u32, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let n_bins = n_fft / 2 + 1;
    let sr = sample_rate_hz as f64;
    // np.fft.rfftfreq(n_fft, d=1/sr)
    let bin_hz = 1.0 / (n_fft as f64 * (1.0 / sr));
    let fft_freqs: Vec<f64> = (0..n_bins).map(|i| i as f64 * bin_hz).collect();
    // mel_frequencies(n_mels + 2, fmin=0, fmax=sr/2): np.linspace in mel, back to Hz.
    let min_mel = hz_to_mel_slaney(0.0);
    let max_mel = hz_to_mel_slaney(sr / 2.0);
    let n_points = n_mels + 2;
    let step = (max_mel - min_mel) / (n_points - 1) as f64;
    let mel_f: Vec<f64> = (0..n_points)
        .map(|i| {
            let mel = if i == n_points - 1 {
                max_mel
            } else {
                i as f64 * step + min_mel
            };
            mel_to_hz_slaney(mel)
        })
        .collect();
    let mut weights = vec![0f32; n_mels * n_bins];
    for i in 0..n_mels {
        let fdiff_lo = mel_f[i + 1] - mel_f[i];
        let fdiff_hi = mel_f[i + 2] - mel_f[i + 1];
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for (j, &f) in fft_freqs.iter().enumerate() {
            let lower = -(mel_f[i] - f) / fdiff_lo;
            let upper = (mel_f[i + 2] - f) / fdiff_hi;
            // np.maximum(0, x) keeps x = -0.0 (it happens at 0 Hz); so do we,
            // to match librosa bit for bit.
            let w = lower.min(upper);
            let w = if w < 0.0 { 0.0 } else { w as f32 };
            weights[i * n_bins + j] = (w as f64 * enorm) as f32;
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from librosa 0.11.0,
    /// `librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)` (float32).
    #[test]
    fn mel_filterbank_matches_librosa() {
        let m = mel_filterbank(16_000, 400, 80);
        assert_eq!(m.len(), 80 * 201);
        let at = |i: usize, j: usize| m[i * 201 + j];
        let expected: &[(usize, usize, f32)] = &[
            (0, 1, 0.024_862_595),
            (1, 1, 0.001_990_822),
            (1, 2, 0.022_871_772),
            (5, 6, 0.014_908_484),
            (20, 19, 0.010_972_2),
            (40, 43, 0.014_735_566),
            (60, 93, 0.006_591_093),
            (79, 186, 0.000_366_741_67),
            (79, 192, 0.003_164_711_9),
            (79, 199, 0.000_448_759),
        ];
        for &(i, j, v) in expected {
            assert!(
                (at(i, j) - v).abs() <= v * 1e-6,
                "mel[{i}][{j}] = {} expected {v}",
                at(i, j)
            );
        }
        for &(i, j) in &[(0, 0), (0, 2), (10, 20), (79, 200), (79, 185)] {
            assert_eq!(at(i, j), 0.0, "mel[{i}][{j}]");
        }
        assert_eq!(m.iter().filter(|&&v| v != 0.0).count(), 391);
        let sum: f64 = m.iter().map(|&v| v as f64).sum();
        assert!((sum - 1.999_024_092_387_117).abs() < 1e-9, "sum {sum}");
        // The whole matrix, bit for bit, as little-endian f32.
        use sha2::Digest;
        let bytes: Vec<u8> = m.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&bytes)),
            "4f2701b1d287d74a0dc9871026e9519d98cb76426615f2539b0d151a0ae4ec2e"
        );
    }
}
