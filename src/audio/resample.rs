//! Sample-rate conversion with `rubato`'s synchronous FFT resampler:
//! 8 kHz → 16 kHz for recognition, the voice's 22 050 Hz → 8 kHz for the
//! caller, any WAV rate → 16 kHz for `frontdesk transcribe`.
//!
//! [`Resampler`] is streaming: feed frames of any length, get out what is
//! ready; its output is aligned with its input (the filter delay is trimmed),
//! so `n` input samples become `n × to / from` output samples after `flush`.

use anyhow::Context;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler as _};

/// Input chunk: 20 ms at the input rate, rounded up to the FFT's granularity.
const CHUNK_MS: usize = 20;

pub struct Resampler {
    inner: Option<Fft<f32>>,
    from_hz: u32,
    to_hz: u32,
    chunk_in: usize,
    pending: Vec<f32>,
    out_buf: Vec<f32>,
    /// Output samples still to drop at the start (the filter's delay).
    delay_left: usize,
    samples_in: u64,
    samples_out: u64,
}

impl Resampler {
    pub fn new(from_hz: u32, to_hz: u32) -> anyhow::Result<Resampler> {
        anyhow::ensure!(
            from_hz > 0 && to_hz > 0,
            "sample rates must be positive ({from_hz} → {to_hz})"
        );
        let chunk_in = (from_hz as usize * CHUNK_MS / 1000).max(1);
        let (inner, delay, out_max) = if from_hz == to_hz {
            (None, 0, 0)
        } else {
            let fft = Fft::<f32>::new(
                from_hz as usize,
                to_hz as usize,
                chunk_in,
                1,
                FixedSync::Input,
            )
            .with_context(|| format!("building a {from_hz} Hz → {to_hz} Hz resampler"))?;
            let delay = fft.output_delay();
            let out_max = fft.output_frames_max();
            (Some(fft), delay, out_max)
        };
        let chunk_in = inner
            .as_ref()
            .map(|f| f.input_frames_next())
            .unwrap_or(chunk_in);
        Ok(Resampler {
            inner,
            from_hz,
            to_hz,
            chunk_in,
            pending: Vec::with_capacity(chunk_in * 2),
            out_buf: vec![0.0; out_max],
            delay_left: delay,
            samples_in: 0,
            samples_out: 0,
        })
    }

    pub fn from_hz(&self) -> u32 {
        self.from_hz
    }

    pub fn to_hz(&self) -> u32 {
        self.to_hz
    }

    /// Feeds samples; returns whatever output is ready.
    pub fn process(&mut self, input: &[f32]) -> Vec<f32> {
        self.samples_in += input.len() as u64;
        if self.inner.is_none() {
            self.samples_out += input.len() as u64;
            return input.to_vec();
        }
        self.pending.extend_from_slice(input);
        let mut out =
            Vec::with_capacity(input.len() * self.to_hz as usize / self.from_hz as usize + 16);
        let mut start = 0;
        while self.pending.len() - start >= self.chunk_in {
            self.run_chunk(start, None, &mut out);
            start += self.chunk_in;
        }
        self.pending.drain(..start);
        out
    }

    /// Pushes the remaining input through and returns the tail, so the total
    /// output matches the input's duration.
    pub fn flush(&mut self) -> Vec<f32> {
        if self.inner.is_none() {
            return Vec::new();
        }
        let expected_total = self.samples_in * self.to_hz as u64 / self.from_hz as u64;
        let mut out = Vec::new();
        let mut guard = 0;
        while self.samples_out < expected_total && guard < 64 {
            let real = self.pending.len().min(self.chunk_in);
            self.pending.resize(self.chunk_in, 0.0);
            self.run_chunk(0, Some(real), &mut out);
            self.pending.clear();
            guard += 1;
        }
        let excess = (self.samples_out - expected_total.min(self.samples_out)) as usize;
        out.truncate(out.len().saturating_sub(excess));
        self.samples_out -= excess as u64;
        out
    }

    fn run_chunk(&mut self, start: usize, partial: Option<usize>, out: &mut Vec<f32>) {
        let fft = self.inner.as_mut().expect("resampler present");
        let input = &self.pending[start..start + self.chunk_in];
        let capacity = self.out_buf.len();
        let adapter_in = InterleavedSlice::new(input, 1, self.chunk_in).expect("input adapter");
        let mut adapter_out =
            InterleavedSlice::new_mut(&mut self.out_buf, 1, capacity).expect("output adapter");
        let indexing = partial.map(|n| rubato::Indexing::new().partial_len(n));
        // Sizes are fixed at construction, so processing cannot fail.
        let (_, written) = fft
            .process_into_buffer(&adapter_in, &mut adapter_out, indexing.as_ref())
            .expect("resampling a full chunk");
        let produced = &self.out_buf[..written];
        let skip = self.delay_left.min(produced.len());
        self.delay_left -= skip;
        out.extend_from_slice(&produced[skip..]);
        self.samples_out += (written - skip) as u64;
    }
}

/// Resamples a whole clip.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> anyhow::Result<Vec<f32>> {
    let mut resampler = Resampler::new(from_hz, to_hz)?;
    let mut out = resampler.process(samples);
    out.extend(resampler.flush());
    Ok(out)
}

/// PCM16 → f32 in [-1, 1).
pub fn i16_to_f32(samples: &[i16]) -> Vec<f32> {
    samples.iter().map(|&s| s as f32 / 32768.0).collect()
}

/// f32 → PCM16, clipping.
pub fn f32_to_i16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|&s| (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq_hz: f32, rate_hz: u32, seconds: f32) -> Vec<f32> {
        let n = (rate_hz as f32 * seconds) as usize;
        (0..n)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq_hz * i as f32 / rate_hz as f32).sin())
            .collect()
    }

    /// Estimates the dominant frequency by counting zero crossings.
    fn frequency(samples: &[f32], rate_hz: u32) -> f32 {
        let crossings = samples
            .windows(2)
            .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
            .count();
        crossings as f32 * rate_hz as f32 / samples.len() as f32
    }

    #[test]
    fn durations_and_pitch_survive_each_conversion_the_call_uses() {
        for (from, to) in [(8000, 16000), (22050, 8000), (44100, 16000), (16000, 8000)] {
            let input = sine(440.0, from, 1.0);
            let out = resample(&input, from, to).unwrap();
            assert_eq!(out.len(), to as usize, "{from}->{to} length");
            let f = frequency(&out[200..out.len() - 200], to);
            assert!((f - 440.0).abs() < 8.0, "{from}->{to}: {f} Hz");
            let peak = out[200..out.len() - 200]
                .iter()
                .fold(0f32, |m, s| m.max(s.abs()));
            assert!((peak - 0.5).abs() < 0.05, "{from}->{to}: peak {peak}");
        }
    }

    #[test]
    fn streaming_in_odd_frames_equals_one_shot() {
        let input = sine(300.0, 8000, 0.5);
        let whole = resample(&input, 8000, 16000).unwrap();
        let mut r = Resampler::new(8000, 16000).unwrap();
        let mut streamed = Vec::new();
        for chunk in input.chunks(37) {
            streamed.extend(r.process(chunk));
        }
        streamed.extend(r.flush());
        assert_eq!(streamed.len(), whole.len());
        for (a, b) in streamed.iter().zip(&whole) {
            assert!((a - b).abs() < 1e-4);
        }
    }

    #[test]
    fn output_is_aligned_with_input() {
        // A click at 100 ms must come out at 100 ms, not delayed by the filter.
        let mut input = vec![0.0f32; 8000];
        input[800] = 1.0;
        let out = resample(&input, 8000, 16000).unwrap();
        let peak = out
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap()
            .0;
        assert!((peak as i64 - 1600).abs() <= 4, "peak at {peak}");
    }

    #[test]
    fn same_rate_is_identity() {
        let input = sine(100.0, 8000, 0.1);
        assert_eq!(resample(&input, 8000, 8000).unwrap(), input);
    }
}
