//! Noise on the line: what a caller's phone carries besides their words.
//!
//! A [`NoiseBed`] is a loop of noise at unit RMS, generated at run time (no
//! recorded files): room babble, other people talking at once (synthesised
//! talkers summed at random offsets, so no single voice stands out), and
//! steady line hiss (pink noise through the phone band's 300 Hz high-pass).
//! [`LineNoise`] says how loud it is on a call: a signal-to-noise ratio in
//! dB against the caller's active speech level. The caller mixes it into
//! every frame it sends, speech and the silences between lines alike,
//! before µ-law encoding, as the line would carry it.
//!
//! Everything is deterministic per seed: the same bed, seed and SNR give
//! the same noise sample for sample.

use std::sync::Arc;

use super::FRAME_SAMPLES;
use super::playout::is_voiced;

/// Length of a bed: long enough that no two lines of a call hear the same
/// stretch of babble.
pub const BED_SAMPLES: usize = 30 * 8_000;
/// Voices in the babble: with fewer, one talker's words come through.
pub const BABBLE_VOICES: usize = 6;
/// Hiss under the babble in `Room`, in dB relative to the babble's power.
const ROOM_HISS_DB: f32 = -10.0;
/// The speech level assumed when a call has no speech to measure (keys and
/// silences only): about a caller preset's (−24 dBFS).
pub const DEFAULT_SPEECH_LEVEL: f32 = 2_000.0;

/// What is on the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NoiseKind {
    /// Babble with hiss under it (10 dB lower): a caller in a waiting room.
    Room,
    /// Other people talking.
    Babble,
    /// Steady broadband line hiss (pink noise, phone band).
    Hiss,
}

impl NoiseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoiseKind::Room => "room",
            NoiseKind::Babble => "babble",
            NoiseKind::Hiss => "hiss",
        }
    }

    /// Whether the bed needs talkers.
    pub fn needs_talkers(self) -> bool {
        !matches!(self, NoiseKind::Hiss)
    }
}

/// A loop of noise at unit RMS (float, 8 kHz).
pub struct NoiseBed {
    kind: NoiseKind,
    samples: Vec<f32>,
}

impl NoiseBed {
    /// Builds a bed of `kind` from `talkers` (8 kHz speech of different
    /// voices; needed unless `kind` is `Hiss`).
    pub fn new(kind: NoiseKind, talkers: &[Vec<i16>], seed: u64) -> anyhow::Result<NoiseBed> {
        let mut rng = SplitMix64(seed);
        let mut samples = match kind {
            NoiseKind::Hiss => pink_hiss(&mut rng, BED_SAMPLES),
            NoiseKind::Babble => babble(&mut rng, talkers, BED_SAMPLES)?,
            NoiseKind::Room => {
                let mut bed = babble(&mut rng, talkers, BED_SAMPLES)?;
                let hiss = pink_hiss(&mut rng, BED_SAMPLES);
                let gain = 10f32.powf(ROOM_HISS_DB / 20.0);
                bed.iter_mut().zip(&hiss).for_each(|(b, h)| *b += gain * h);
                bed
            }
        };
        normalise(&mut samples);
        Ok(NoiseBed { kind, samples })
    }

    pub fn kind(&self) -> NoiseKind {
        self.kind
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// Noise for calls: a bed, how loud, and where in it a call starts.
#[derive(Clone)]
pub struct LineNoise {
    pub bed: Arc<NoiseBed>,
    /// Caller speech level over noise level, in dB.
    pub snr_db: f32,
    pub seed: u64,
}

impl std::fmt::Debug for LineNoise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineNoise")
            .field("kind", &self.bed.kind)
            .field("snr_db", &self.snr_db)
            .field("seed", &self.seed)
            .finish()
    }
}

impl LineNoise {
    pub fn new(bed: Arc<NoiseBed>, snr_db: f32) -> LineNoise {
        LineNoise {
            bed,
            snr_db,
            seed: 0,
        }
    }

    /// The same noise with its own seed for the call named `name` (stable
    /// across runs, different between calls).
    pub fn for_call(&self, name: &str) -> LineNoise {
        // FNV-1a: stable across builds, unlike the std hasher.
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        LineNoise {
            seed: self.seed ^ hash,
            ..self.clone()
        }
    }

    /// The noise of one call whose caller speaks at `speech_level` (active
    /// RMS, see [`speech_level`]).
    pub fn source(&self, speech_level: f32) -> NoiseSource {
        let len = self.bed.len().max(1);
        NoiseSource {
            bed: self.bed.clone(),
            pos: (SplitMix64(self.seed).next_u64() % len as u64) as usize,
            gain: speech_level / 10f32.powf(self.snr_db / 20.0),
        }
    }
}

/// One call's noise, frame after frame.
pub struct NoiseSource {
    bed: Arc<NoiseBed>,
    pos: usize,
    /// Sample amplitude per unit of bed.
    gain: f32,
}

impl NoiseSource {
    /// The next sample of noise.
    fn sample(&mut self) -> f32 {
        let s = self.bed.samples.get(self.pos).copied().unwrap_or(0.0);
        self.pos = (self.pos + 1) % self.bed.len().max(1);
        s * self.gain
    }

    /// Adds the next `frame.len()` samples of noise to `frame`, clamped to
    /// the PCM16 range (a loud caller clips, never wraps).
    pub fn mix(&mut self, frame: &mut [i16]) {
        for s in frame.iter_mut() {
            let mixed = f32::from(*s) + self.sample();
            *s = mixed
                .round()
                .clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16;
        }
    }
}

/// The active speech level of `clips`: the RMS over their 20 ms frames that
/// hold a voiced sample (the pauses left out, as ITU-T P.56 does), or
/// `None` when nothing is voiced.
pub fn speech_level<'a>(clips: impl IntoIterator<Item = &'a [i16]>) -> Option<f32> {
    let (mut energy, mut n) = (0f64, 0usize);
    for clip in clips {
        for frame in clip.chunks(FRAME_SAMPLES) {
            if frame.iter().any(|&s| is_voiced(s)) {
                energy += frame.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>();
                n += frame.len();
            }
        }
    }
    (n > 0).then(|| (energy / n as f64).sqrt() as f32)
}

/// A small, seedable generator (SplitMix64), so the noise depends on the
/// seed alone.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn white(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// Pink noise (Paul Kellet's filter on white noise, −3 dB per octave)
/// through the phone band's high-pass.
fn pink_hiss(rng: &mut SplitMix64, n: usize) -> Vec<f32> {
    let mut b = [0f32; 7];
    let pink: Vec<f32> = (0..n)
        .map(|_| {
            let w = rng.white();
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.96900 * b[2] + w * 0.153_852;
            b[3] = 0.86650 * b[3] + w * 0.3104856;
            b[4] = 0.55000 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.0168980;
            let out = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362;
            b[6] = w * 0.115926;
            out
        })
        .collect();
    crate::tts::caller_voice::high_pass(&pink, 8_000.0, 300.0)
}

/// [`BABBLE_VOICES`] voices, each a talker (in turn) at unit speech level
/// looped from a random point, summed.
fn babble(rng: &mut SplitMix64, talkers: &[Vec<i16>], n: usize) -> anyhow::Result<Vec<f32>> {
    let talkers: Vec<(&Vec<i16>, f32)> = talkers
        .iter()
        .filter_map(|t| Some((t, speech_level([t.as_slice()])?)))
        .collect();
    anyhow::ensure!(
        !talkers.is_empty(),
        "babble needs at least one talker with speech"
    );
    let mut bed = vec![0f32; n];
    for voice in 0..BABBLE_VOICES {
        let (talker, level) = talkers[voice % talkers.len()];
        let start = (rng.next_u64() % talker.len() as u64) as usize;
        for (i, b) in bed.iter_mut().enumerate() {
            *b += f32::from(talker[(start + i) % talker.len()]) / level;
        }
    }
    // The room reaches the line through the caller's phone.
    Ok(crate::tts::caller_voice::high_pass(&bed, 8_000.0, 300.0))
}

fn rms(samples: &[f32]) -> f32 {
    let energy: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
    (energy / samples.len().max(1) as f64).sqrt() as f32
}

fn normalise(samples: &mut [f32]) {
    let level = rms(samples);
    if level > 0.0 {
        samples.iter_mut().for_each(|s| *s /= level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Speech-like test audio: 400 ms "syllables" (a 220 Hz tone with
    /// harmonics under a smooth envelope) and 300 ms pauses of digital
    /// silence, peaking near `peak`.
    fn speechlike(peak: f32, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                let t = i as f32 / 8000.0;
                let in_cycle = i % 5_600;
                if in_cycle >= 3_200 {
                    return 0;
                }
                let env = (std::f32::consts::PI * in_cycle as f32 / 3_200.0).sin();
                let tone = (1..=5)
                    .map(|k| (2.0 * std::f32::consts::PI * 220.0 * k as f32 * t).sin() / k as f32)
                    .sum::<f32>()
                    / 2.3;
                (peak * env * tone) as i16
            })
            .collect()
    }

    /// Talkers for a babble bed without Piper: speech-like audio at
    /// different pitches and rhythms.
    fn talkers() -> Vec<Vec<i16>> {
        (0..3)
            .map(|k| {
                let mut t = speechlike(4_000.0 + 1_000.0 * k as f32, 40_000 + 7_000 * k);
                t.rotate_left(1_234 * k);
                t
            })
            .collect()
    }

    fn mixed(kind: NoiseKind, clean: &[i16], snr_db: f32, seed: u64) -> Vec<i16> {
        let bed = Arc::new(NoiseBed::new(kind, &talkers(), 7).unwrap());
        let noise = LineNoise {
            seed,
            ..LineNoise::new(bed, snr_db)
        };
        let mut source = noise.source(speech_level([clean]).unwrap());
        let mut out = clean.to_vec();
        for frame in out.chunks_mut(FRAME_SAMPLES) {
            source.mix(frame);
        }
        out
    }

    fn rms_i16(samples: impl Iterator<Item = f64>) -> f64 {
        let (sum, n) = samples.fold((0.0, 0usize), |(s, n), x| (s + x * x, n + 1));
        (sum / n as f64).sqrt()
    }

    #[test]
    fn the_mix_has_the_snr_asked_for_in_every_kind() {
        let clean = speechlike(8_000.0, 5 * 8_000 * 4);
        let level = f64::from(speech_level([clean.as_slice()]).unwrap());
        for kind in [NoiseKind::Room, NoiseKind::Babble, NoiseKind::Hiss] {
            for snr in [5.0f32, 15.0] {
                let out = mixed(kind, &clean, snr, 1);
                let noise = rms_i16(
                    out.iter()
                        .zip(&clean)
                        .map(|(&o, &c)| f64::from(o) - f64::from(c)),
                );
                let measured = 20.0 * (level / noise).log10();
                assert!(
                    (measured - f64::from(snr)).abs() < 1.0,
                    "{kind:?} at {snr} dB measured {measured:.2} dB"
                );
            }
        }
    }

    #[test]
    fn the_silences_between_lines_carry_the_noise() {
        let clean = speechlike(8_000.0, 8_000 * 10);
        let out = mixed(NoiseKind::Room, &clean, 10.0, 3);
        let pauses: Vec<f64> = out
            .iter()
            .zip(&clean)
            .enumerate()
            .filter(|(i, _)| i % 5_600 >= 3_300)
            .map(|(_, (&o, _))| f64::from(o))
            .collect();
        let level = f64::from(speech_level([clean.as_slice()]).unwrap());
        let in_pauses = rms_i16(pauses.into_iter());
        // The noise is as loud in the pauses as anywhere (within 3 dB).
        let expected = level / 10f64.powf(10.0 / 20.0);
        let db = 20.0 * (in_pauses / expected).log10();
        assert!(db.abs() < 3.0, "noise in the pauses {db:.2} dB off");
        // And a frame of nothing but silence gets noise too.
        let bed = Arc::new(NoiseBed::new(NoiseKind::Hiss, &[], 1).unwrap());
        let mut source = LineNoise::new(bed, 10.0).source(DEFAULT_SPEECH_LEVEL);
        let mut frame = vec![0i16; FRAME_SAMPLES];
        source.mix(&mut frame);
        assert!(frame.iter().filter(|&&s| s != 0).count() > FRAME_SAMPLES / 2);
    }

    #[test]
    fn a_loud_caller_clips_and_never_wraps() {
        // A full-scale caller under noise 20 dB down: a wrapping add would
        // turn the peaks pushed past full scale into the opposite sign.
        let loud: Vec<i16> = (0..16_000)
            .map(|i| if i % 2 == 0 { i16::MAX } else { i16::MIN })
            .collect();
        let out = mixed(NoiseKind::Hiss, &loud, 20.0, 5);
        for (i, (&o, &c)) in out.iter().zip(&loud).enumerate() {
            assert_eq!(o.signum(), c.signum(), "sample {i} wrapped: {c} became {o}");
        }
        assert!(
            out.iter().filter(|&&s| s == i16::MAX).count() > 3_000,
            "clipped"
        );
        assert!(
            out.iter().filter(|&&s| s == i16::MIN).count() > 3_000,
            "clipped"
        );
        assert!(
            out.iter().filter(|&&s| s.unsigned_abs() < 32_000).count() > 4_000,
            "noise"
        );
    }

    #[test]
    fn the_noise_is_the_same_for_a_seed_and_differs_between_seeds() {
        let clean = speechlike(6_000.0, 8_000 * 3);
        assert_eq!(
            mixed(NoiseKind::Room, &clean, 10.0, 42),
            mixed(NoiseKind::Room, &clean, 10.0, 42)
        );
        assert_ne!(
            mixed(NoiseKind::Room, &clean, 10.0, 42),
            mixed(NoiseKind::Room, &clean, 10.0, 43)
        );
        let base = LineNoise::new(
            Arc::new(NoiseBed::new(NoiseKind::Hiss, &[], 1).unwrap()),
            10.0,
        );
        assert_eq!(base.for_call("a").seed, base.for_call("a").seed);
        assert_ne!(base.for_call("a").seed, base.for_call("b").seed);
    }

    #[test]
    fn hiss_is_pink_in_the_phone_band() {
        let bed = NoiseBed::new(NoiseKind::Hiss, &[], 9).unwrap();
        assert!((rms(&bed.samples) - 1.0).abs() < 1e-3);
        // The first difference weighs the high end: its power over the
        // signal's is 2 for white noise, far less for pink.
        let diff: Vec<f32> = bed.samples.windows(2).map(|w| w[1] - w[0]).collect();
        let ratio = (rms(&diff) / rms(&bed.samples)).powi(2);
        assert!(ratio < 1.5, "too much high end for pink noise: {ratio}");
        // Nothing much below the phone band: the mean is gone.
        let mean = bed.samples.iter().sum::<f32>() / bed.samples.len() as f32;
        assert!(mean.abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn babble_needs_talkers() {
        assert!(NoiseBed::new(NoiseKind::Babble, &[], 1).is_err());
        assert!(NoiseBed::new(NoiseKind::Room, &[vec![0; 100]], 1).is_err());
        let bed = NoiseBed::new(NoiseKind::Babble, &talkers(), 1).unwrap();
        assert!((rms(&bed.samples) - 1.0).abs() < 1e-3);
        assert_eq!(bed.len(), BED_SAMPLES);
    }
}
