//! Audio for recognition: files of any common kind, and phone-line audio,
//! turned into 16 kHz mono f32 samples.
//!
//! 8 kHz audio takes the same road as a call's audio: µ-law decoded by
//! `audio::mulaw`, brought to 16 kHz 20 ms at a time by the streaming
//! `audio::resample::Resampler`, so a file transcribes as a call would.

use std::path::{Path, PathBuf};

use crate::audio::{mulaw, resample};

/// Whisper's input rate.
pub const STT_SAMPLE_RATE_HZ: u32 = 16_000;
/// The phone network's (G.711) rate.
pub const PHONE_SAMPLE_RATE_HZ: u32 = 8_000;
/// One Twilio media frame: 20 ms at 8 kHz.
const PHONE_FRAME_SAMPLES: usize = 160;

#[derive(Debug, thiserror::Error)]
pub enum AudioInputError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable WAV file: {detail}")]
    Wav { path: PathBuf, detail: String },
    #[error("{path}: not a readable FLAC file: {detail}")]
    Flac { path: PathBuf, detail: String },
    #[error(
        "{path}: unsupported audio ({detail}); use WAV (PCM 8–32 bit, float, or µ-law), FLAC, or raw 8 kHz µ-law named *.ulaw"
    )]
    Unsupported { path: PathBuf, detail: String },
    #[error("{path}: contains no audio")]
    Empty { path: PathBuf },
    #[error("{path}: resampling failed: {detail}")]
    Resample { path: PathBuf, detail: String },
}

/// Decoded audio before it is brought to 16 kHz mono.
struct Decoded {
    sample_rate_hz: u32,
    channels: usize,
    /// Interleaved, in [-1, 1].
    samples: Vec<f32>,
}

/// Reads an audio file into 16 kHz mono samples: WAV (any rate, channel
/// count, PCM bit depth, float, or µ-law; via `hound`), FLAC, or headerless
/// 8 kHz µ-law (`.ulaw`, `.mulaw`, `.ul`). Channels are averaged.
pub fn load_for_recognition(path: &Path) -> Result<Vec<f32>, AudioInputError> {
    let bytes = std::fs::read(path).map_err(|source| AudioInputError::Io {
        path: path.into(),
        source,
    })?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let decoded = if matches!(ext.as_str(), "ulaw" | "mulaw" | "ul") {
        Decoded {
            sample_rate_hz: PHONE_SAMPLE_RATE_HZ,
            channels: 1,
            samples: resample::i16_to_f32(&mulaw::decode_frame(&bytes)),
        }
    } else if bytes.starts_with(b"RIFF") {
        decode_wav(path, &bytes)?
    } else if bytes.starts_with(b"fLaC") {
        decode_flac(path, &bytes)?
    } else {
        return Err(AudioInputError::Unsupported {
            path: path.into(),
            detail: "neither a RIFF/WAVE nor a FLAC header".into(),
        });
    };
    if decoded.samples.is_empty() || decoded.channels == 0 {
        return Err(AudioInputError::Empty { path: path.into() });
    }
    let mono = mix_to_mono(&decoded.samples, decoded.channels);
    to_recognition_rate(&mono, decoded.sample_rate_hz).map_err(|e| AudioInputError::Resample {
        path: path.into(),
        detail: format!("{e:#}"),
    })
}

fn mix_to_mono(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels == 1 {
        return interleaved.to_vec();
    }
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect()
}

fn to_recognition_rate(mono: &[f32], sample_rate_hz: u32) -> anyhow::Result<Vec<f32>> {
    match sample_rate_hz {
        STT_SAMPLE_RATE_HZ => Ok(mono.to_vec()),
        PHONE_SAMPLE_RATE_HZ => phone_to_recognition(mono),
        other => resample::resample(mono, other, STT_SAMPLE_RATE_HZ),
    }
}

/// 8 kHz phone audio → 16 kHz, fed 20 ms at a time through the streaming
/// resampler exactly as the call path feeds it.
pub fn phone_to_recognition(samples_8k: &[f32]) -> anyhow::Result<Vec<f32>> {
    let mut resampler = resample::Resampler::new(PHONE_SAMPLE_RATE_HZ, STT_SAMPLE_RATE_HZ)?;
    let mut out = Vec::with_capacity(samples_8k.len() * 2 + 64);
    for frame in samples_8k.chunks(PHONE_FRAME_SAMPLES) {
        out.extend(resampler.process(frame));
    }
    out.extend(resampler.flush());
    Ok(out)
}

/// What a 16 kHz clip sounds like after a trip through the phone network:
/// down to 8 kHz, G.711 µ-law encoded and decoded, back up to 16 kHz.
pub fn through_phone_line(samples_16k: &[f32]) -> anyhow::Result<Vec<f32>> {
    let narrow = resample::resample(samples_16k, STT_SAMPLE_RATE_HZ, PHONE_SAMPLE_RATE_HZ)?;
    let codes = mulaw::encode_frame(&resample::f32_to_i16(&narrow));
    phone_to_recognition(&resample::i16_to_f32(&mulaw::decode_frame(&codes)))
}

fn decode_wav(path: &Path, bytes: &[u8]) -> Result<Decoded, AudioInputError> {
    let wav_err = |detail: String| AudioInputError::Wav {
        path: path.into(),
        detail,
    };
    let reader = match hound::WavReader::new(std::io::Cursor::new(bytes)) {
        Ok(r) => r,
        // hound reads PCM and float only; µ-law WAV (format 7) is ours.
        Err(hound::Error::Unsupported) => {
            return decode_mulaw_wav(bytes).ok_or_else(|| AudioInputError::Unsupported {
                path: path.into(),
                detail: "a WAV encoding other than PCM, float or µ-law".into(),
            });
        }
        Err(e) => return Err(wav_err(e.to_string())),
    };
    let spec = reader.spec();
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(|e| wav_err(e.to_string()))?
        }
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .map(|s| {
                s.map(|v| {
                    if v.is_finite() {
                        v.clamp(-1.0, 1.0)
                    } else {
                        0.0
                    }
                })
            })
            .collect::<Result<_, _>>()
            .map_err(|e| wav_err(e.to_string()))?,
    };
    Ok(Decoded {
        sample_rate_hz: spec.sample_rate,
        channels: spec.channels as usize,
        samples,
    })
}

/// A WAV whose `fmt ` says G.711 µ-law (format tag 7, 8 bits).
fn decode_mulaw_wav(bytes: &[u8]) -> Option<Decoded> {
    if bytes.len() < 12 || &bytes[8..12] != b"WAVE" {
        return None;
    }
    let mut pos = 12;
    let mut format: Option<(u16, usize, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().ok()?) as usize;
        let body_start = pos + 8;
        let body_end = body_start.checked_add(size)?.min(bytes.len());
        let body = &bytes[body_start..body_end];
        if id == b"fmt " && body.len() >= 16 {
            let tag = u16::from_le_bytes([body[0], body[1]]);
            let channels = u16::from_le_bytes([body[2], body[3]]) as usize;
            let rate = u32::from_le_bytes(body[4..8].try_into().ok()?);
            let bits = u16::from_le_bytes([body[14], body[15]]);
            format = Some((tag, channels, rate, bits));
        } else if id == b"data" {
            let (tag, channels, rate, bits) = format?;
            if tag != 7 || bits != 8 || channels == 0 || rate == 0 {
                return None;
            }
            let samples = resample::i16_to_f32(&mulaw::decode_frame(body));
            return Some(Decoded {
                sample_rate_hz: rate,
                channels,
                samples,
            });
        }
        pos = body_start.checked_add(size + (size & 1))?;
    }
    None
}

fn decode_flac(path: &Path, bytes: &[u8]) -> Result<Decoded, AudioInputError> {
    let flac_err = |e: claxon::Error| AudioInputError::Flac {
        path: path.into(),
        detail: e.to_string(),
    };
    let mut reader = claxon::FlacReader::new(std::io::Cursor::new(bytes)).map_err(flac_err)?;
    let info = reader.streaminfo();
    let scale = 1.0 / (1u64 << (info.bits_per_sample.clamp(1, 32) - 1)) as f32;
    let samples = reader
        .samples()
        .map(|s| s.map(|v| v as f32 * scale))
        .collect::<Result<Vec<f32>, _>>()
        .map_err(flac_err)?;
    Ok(Decoded {
        sample_rate_hz: info.sample_rate,
        channels: info.channels as usize,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(
        path: &Path,
        spec: hound::WavSpec,
        frames: usize,
        value: impl Fn(usize, usize) -> f64,
    ) {
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..frames {
            for ch in 0..spec.channels as usize {
                let v = value(i, ch);
                match (spec.sample_format, spec.bits_per_sample) {
                    (hound::SampleFormat::Float, _) => w.write_sample(v as f32).unwrap(),
                    (_, bits) => {
                        let max = ((1i64 << (bits - 1)) - 1) as f64;
                        w.write_sample((v * max).round() as i32).unwrap()
                    }
                }
            }
        }
        w.finalize().unwrap();
    }

    fn sine(i: usize, rate: u32) -> f64 {
        0.5 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / rate as f64).sin()
    }

    #[test]
    fn any_wav_becomes_16k_mono_of_the_same_duration() {
        let dir = tempfile::tempdir().unwrap();
        for (rate, channels, bits, format) in [
            (16_000, 1, 16, hound::SampleFormat::Int),
            (44_100, 2, 24, hound::SampleFormat::Int),
            (8_000, 1, 8, hound::SampleFormat::Int),
            (48_000, 2, 32, hound::SampleFormat::Float),
            (22_050, 1, 32, hound::SampleFormat::Int),
        ] {
            let path = dir.path().join(format!("t{rate}_{channels}_{bits}.wav"));
            let spec = hound::WavSpec {
                channels,
                sample_rate: rate,
                bits_per_sample: bits,
                sample_format: format,
            };
            // One second; the second channel is silent, so the mix halves the level.
            write_wav(&path, spec, rate as usize, |i, ch| {
                if ch == 0 { sine(i, rate) } else { 0.0 }
            });
            let out = load_for_recognition(&path).unwrap();
            assert!(
                (out.len() as i64 - 16_000).abs() <= 2,
                "{rate} Hz: {} samples",
                out.len()
            );
            let peak = out[2000..14_000].iter().fold(0f32, |m, s| m.max(s.abs()));
            let expected = 0.5 / channels as f32;
            assert!(
                (peak - expected).abs() < 0.05,
                "{rate} Hz {channels} ch {bits} bit: peak {peak}"
            );
        }
    }

    #[test]
    fn raw_and_wav_mulaw_decode_like_the_call_path() {
        let dir = tempfile::tempdir().unwrap();
        let pcm: Vec<i16> = (0..8000)
            .map(|i| (sine(i, 8000) * 20_000.0) as i16)
            .collect();
        let codes = mulaw::encode_frame(&pcm);
        let raw = dir.path().join("clip.ulaw");
        std::fs::write(&raw, &codes).unwrap();
        let from_raw = load_for_recognition(&raw).unwrap();
        let expected =
            phone_to_recognition(&resample::i16_to_f32(&mulaw::decode_frame(&codes))).unwrap();
        assert_eq!(from_raw, expected);
        assert!((from_raw.len() as i64 - 16_000).abs() <= 2);
        // Same bytes in a µ-law WAV container (format tag 7).
        let mut wav = Vec::new();
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&(4 + 26 + 8 + codes.len() as u32).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        wav.extend_from_slice(&18u32.to_le_bytes());
        for v in [7u16, 1] {
            wav.extend_from_slice(&v.to_le_bytes());
        }
        wav.extend_from_slice(&8000u32.to_le_bytes());
        wav.extend_from_slice(&8000u32.to_le_bytes());
        for v in [1u16, 8, 0] {
            wav.extend_from_slice(&v.to_le_bytes());
        }
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&(codes.len() as u32).to_le_bytes());
        wav.extend_from_slice(&codes);
        let wav_path = dir.path().join("clip.wav");
        std::fs::write(&wav_path, &wav).unwrap();
        assert_eq!(load_for_recognition(&wav_path).unwrap(), expected);
    }

    #[test]
    fn the_phone_line_keeps_speech_band_audio_and_duration() {
        let clip: Vec<f32> = (0..16_000).map(|i| sine(i, 16_000) as f32).collect();
        let out = through_phone_line(&clip).unwrap();
        assert!((out.len() as i64 - 16_000).abs() <= 2, "{}", out.len());
        let err: f32 = clip[1000..15_000]
            .iter()
            .zip(&out[1000..15_000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.05, "max error {err}");
    }

    #[test]
    fn bad_files_get_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("notes.txt");
        std::fs::write(&junk, b"hello").unwrap();
        let err = load_for_recognition(&junk).unwrap_err();
        assert!(matches!(err, AudioInputError::Unsupported { .. }), "{err}");
        let broken = dir.path().join("broken.wav");
        std::fs::write(&broken, b"RIFF\x10\0\0\0WAVEjunk").unwrap();
        assert!(load_for_recognition(&broken).is_err());
        let empty = dir.path().join("empty.ulaw");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(
            load_for_recognition(&empty),
            Err(AudioInputError::Empty { .. })
        ));
        let missing = dir.path().join("missing.wav");
        assert!(matches!(
            load_for_recognition(&missing),
            Err(AudioInputError::Io { .. })
        ));
    }
}
