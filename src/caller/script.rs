//! What the caller does: lines to say, audio to play, keys to press, and
//! when each starts relative to the agent.

use std::path::{Path, PathBuf};

use anyhow::Context;
use thiserror::Error;

use crate::audio::resample::{f32_to_i16, resample};

/// When a step starts; every rule is checked on the call's audio clock,
/// never before the previous step has finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStart {
    /// Once the agent has answered the previous step (or greeted, for the
    /// first) and fallen quiet: no voiced agent audio left to play and none
    /// heard for `max(agent_quiet_ms, pause_ms)`.
    AfterAgent { pause_ms: u64 },
    /// Barge-in: `after_ms` after the agent starts its answer to the
    /// previous step (or its greeting), whether or not it has finished.
    BargeIn { after_ms: u64 },
    /// At a fixed call time (ms since the stream started).
    At { call_ms: u64 },
}

impl Default for StepStart {
    fn default() -> Self {
        StepStart::AfterAgent { pause_ms: 0 }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum StepAction {
    /// A line synthesised with the [`super::CallerSpeech`] voice.
    Say(String),
    /// Recorded caller audio, 8 kHz mono.
    Audio { label: String, samples_8k: Vec<i16> },
    /// Keypad digits (`0-9`, `*`, `#`), one `dtmf` message per digit,
    /// 100 ms apart.
    Dtmf(String),
    /// Silence for this long (the caller says nothing).
    Wait { ms: u64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScriptStep {
    pub start: StepStart,
    pub action: StepAction,
}

impl ScriptStep {
    pub fn say(text: impl Into<String>) -> ScriptStep {
        ScriptStep {
            start: StepStart::default(),
            action: StepAction::Say(text.into()),
        }
    }

    pub fn audio(label: impl Into<String>, samples_8k: Vec<i16>) -> ScriptStep {
        ScriptStep {
            start: StepStart::default(),
            action: StepAction::Audio {
                label: label.into(),
                samples_8k,
            },
        }
    }

    pub fn dtmf(digits: impl Into<String>) -> ScriptStep {
        ScriptStep {
            start: StepStart::default(),
            action: StepAction::Dtmf(digits.into()),
        }
    }

    pub fn wait(ms: u64) -> ScriptStep {
        ScriptStep {
            start: StepStart::default(),
            action: StepAction::Wait { ms },
        }
    }

    /// The same step with another start rule.
    pub fn starting(mut self, start: StepStart) -> ScriptStep {
        self.start = start;
        self
    }
}

#[derive(Debug, Error)]
pub enum ScriptError {
    #[error(
        "script line {line}: unknown directive #{word} (known: #dtmf, #wait, #pause, #barge, #at, #wav)"
    )]
    UnknownDirective { line: usize, word: String },
    #[error("script line {line}: #{word} needs {what}")]
    BadArgument {
        line: usize,
        word: String,
        what: &'static str,
    },
    #[error("script line {line}: #{word} modifies the next line, but none follows")]
    DanglingModifier { line: usize, word: String },
    #[error("script line {line}: cannot read the WAV file {path}: {source:#}")]
    Wav {
        line: usize,
        path: PathBuf,
        source: anyhow::Error,
    },
}

/// Keys a caller can press.
pub fn valid_dtmf(digits: &str) -> bool {
    !digits.is_empty()
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
}

/// Parses a caller script: one caller line per line, and directives:
/// `#dtmf 12#` keys, `#wait 2000` silence (ms), `#wav FILE` recorded audio
/// (relative to `base_dir`); `#pause MS`, `#barge MS`, `#at MS` set how the
/// next step starts (see [`StepStart`]). Blank lines, `# comments` and
/// `// comments` are skipped.
pub fn parse_script(text: &str, base_dir: &Path) -> Result<Vec<ScriptStep>, ScriptError> {
    let mut steps = Vec::new();
    let mut next_start: Option<(usize, String, StepStart)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty()
            || trimmed.starts_with("//")
            || trimmed.starts_with("# ")
            || trimmed == "#"
        {
            continue;
        }
        let action = if let Some(directive) = trimmed.strip_prefix('#') {
            let (word, arg) = directive
                .split_once(char::is_whitespace)
                .unwrap_or((directive, ""));
            let arg = arg.trim();
            let word_s = word.to_string();
            let ms = || {
                arg.parse::<u64>().map_err(|_| ScriptError::BadArgument {
                    line,
                    word: word.to_string(),
                    what: "a whole number of milliseconds",
                })
            };
            match word {
                "dtmf" if valid_dtmf(arg) => StepAction::Dtmf(arg.to_string()),
                "dtmf" => {
                    return Err(ScriptError::BadArgument {
                        line,
                        word: word_s,
                        what: "keys 0-9, * or #",
                    });
                }
                "wait" => StepAction::Wait { ms: ms()? },
                "wav" if arg.is_empty() => {
                    return Err(ScriptError::BadArgument {
                        line,
                        word: word_s,
                        what: "a file name",
                    });
                }
                "wav" => {
                    let path = base_dir.join(arg);
                    let samples_8k = load_wav_8k(&path).map_err(|source| ScriptError::Wav {
                        line,
                        path: path.clone(),
                        source,
                    })?;
                    StepAction::Audio {
                        label: arg.to_string(),
                        samples_8k,
                    }
                }
                "pause" => {
                    next_start = Some((line, word_s, StepStart::AfterAgent { pause_ms: ms()? }));
                    continue;
                }
                "barge" => {
                    next_start = Some((line, word_s, StepStart::BargeIn { after_ms: ms()? }));
                    continue;
                }
                "at" => {
                    next_start = Some((line, word_s, StepStart::At { call_ms: ms()? }));
                    continue;
                }
                _ => return Err(ScriptError::UnknownDirective { line, word: word_s }),
            }
        } else {
            StepAction::Say(trimmed.to_string())
        };
        let start = next_start.take().map(|(_, _, s)| s).unwrap_or_default();
        steps.push(ScriptStep { start, action });
    }
    if let Some((line, word, _)) = next_start {
        return Err(ScriptError::DanglingModifier { line, word });
    }
    Ok(steps)
}

/// Reads any PCM WAV, mixes it to mono and resamples it to 8 kHz.
pub fn load_wav_8k(path: &Path) -> anyhow::Result<Vec<i16>> {
    let mut reader =
        hound::WavReader::open(path).with_context(|| format!("opening {}", path.display()))?;
    let spec = reader.spec();
    anyhow::ensure!(spec.channels > 0, "{}: no channels", path.display());
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
        }
    }
    .with_context(|| format!("decoding {}", path.display()))?;
    let channels = spec.channels as usize;
    let mono: Vec<f32> = interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    let at_8k = resample(&mono, spec.sample_rate, 8000)
        .with_context(|| format!("resampling {} from {} Hz", path.display(), spec.sample_rate))?;
    Ok(f32_to_i16(&at_8k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_directives_and_start_rules() {
        let text = "Hello, I'd like an appointment.\n\n# a comment\n#pause 700\nNext Tuesday.\n#dtmf 0#\n#wait 2000\n#barge 800\nActually, wait.\n#at 30000\nBye.\n";
        let steps = parse_script(text, Path::new(".")).unwrap();
        assert_eq!(
            steps,
            vec![
                ScriptStep::say("Hello, I'd like an appointment."),
                ScriptStep::say("Next Tuesday.").starting(StepStart::AfterAgent { pause_ms: 700 }),
                ScriptStep::dtmf("0#"),
                ScriptStep::wait(2000),
                ScriptStep::say("Actually, wait.").starting(StepStart::BargeIn { after_ms: 800 }),
                ScriptStep::say("Bye.").starting(StepStart::At { call_ms: 30000 }),
            ]
        );
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let err = parse_script("hi\n#dial 5\n", Path::new(".")).unwrap_err();
        assert!(
            matches!(err, ScriptError::UnknownDirective { line: 2, .. }),
            "{err}"
        );
        let err = parse_script("#wait soon\n", Path::new(".")).unwrap_err();
        assert!(
            matches!(err, ScriptError::BadArgument { line: 1, .. }),
            "{err}"
        );
        let err = parse_script("#dtmf 5x\n", Path::new(".")).unwrap_err();
        assert!(
            matches!(err, ScriptError::BadArgument { line: 1, .. }),
            "{err}"
        );
        let err = parse_script("hi\n#barge 100\n", Path::new(".")).unwrap_err();
        assert!(
            matches!(err, ScriptError::DanglingModifier { line: 2, .. }),
            "{err}"
        );
        let err = parse_script("#wav /nonexistent/x.wav\n", Path::new(".")).unwrap_err();
        assert!(matches!(err, ScriptError::Wav { line: 1, .. }), "{err}");
    }

    #[test]
    fn wav_is_mixed_to_mono_and_resampled_to_8k() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stereo.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..16000 {
            let s =
                (8000.0 * (2.0 * std::f32::consts::PI * 300.0 * i as f32 / 16000.0).sin()) as i16;
            w.write_sample(s).unwrap();
            w.write_sample(0i16).unwrap();
        }
        w.finalize().unwrap();
        let samples = load_wav_8k(&path).unwrap();
        assert_eq!(samples.len(), 8000);
        let peak = samples[100..7900]
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap();
        assert!(
            (3700..=4300).contains(&peak),
            "mono mix halves the peak: {peak}"
        );
    }
}
