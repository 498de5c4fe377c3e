//! Call recording: a stereo WAV, 8 kHz 16-bit, left = caller, right = agent.
//!
//! Both channels share one timeline counted in caller samples received (the
//! call's clock, see `audio::vad`). Agent audio is placed at the sample
//! position where it was sent; audio sent while earlier agent audio is still
//! queued follows it, as Twilio plays its buffer in order. The file is
//! written as caller audio arrives and flushed regularly, so a crash loses at
//! most the last flush interval; [`repair`] makes what a crash left on disk
//! a WAV whose header counts every whole frame written.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Recording sample rate: the telephone rate, no resampling.
pub const SAMPLE_RATE_HZ: u32 = 8_000;
/// How often the WAV header is rewritten so the file is readable as is.
pub const DEFAULT_FLUSH_INTERVAL_MS: u32 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("creating the directory for call recording {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{action} call recording {path}: {source}")]
    Wav {
        action: &'static str,
        path: PathBuf,
        source: hound::Error,
    },
}

/// What a finished recording holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordingSummary {
    pub path: PathBuf,
    /// Stereo frames written (one per 8 kHz sample of the timeline).
    pub frames: u64,
    pub duration_ms: u64,
}

/// Writes one call's recording incrementally. Dropping it without
/// [`finish`](CallRecorder::finish) still finalises the WAV (hound does so on
/// drop), but loses queued agent audio past the caller's last sample.
pub struct CallRecorder {
    path: PathBuf,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    /// Frames written = caller samples received.
    frames_written: u64,
    /// Agent samples from position `frames_written` on, not yet written.
    agent_queue: VecDeque<i16>,
    flush_interval_frames: u64,
    frames_since_flush: u64,
}

impl std::fmt::Debug for CallRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallRecorder")
            .field("path", &self.path)
            .field("frames_written", &self.frames_written)
            .field("agent_queued", &self.agent_queue.len())
            .finish()
    }
}

impl CallRecorder {
    /// Creates (or truncates) the WAV at `path`, creating its directory.
    pub fn create(path: impl Into<PathBuf>) -> Result<CallRecorder, RecordingError> {
        CallRecorder::with_flush_interval(path, DEFAULT_FLUSH_INTERVAL_MS)
    }

    pub fn with_flush_interval(
        path: impl Into<PathBuf>,
        flush_interval_ms: u32,
    ) -> Result<CallRecorder, RecordingError> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| RecordingError::CreateDir {
                path: path.clone(),
                source,
            })?;
        }
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: SAMPLE_RATE_HZ,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer =
            hound::WavWriter::create(&path, spec).map_err(|source| RecordingError::Wav {
                action: "creating",
                path: path.clone(),
                source,
            })?;
        Ok(CallRecorder {
            path,
            writer: Some(writer),
            frames_written: 0,
            agent_queue: VecDeque::new(),
            flush_interval_frames: (u64::from(flush_interval_ms) * u64::from(SAMPLE_RATE_HZ)
                / 1000)
                .max(1),
            frames_since_flush: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Caller samples recorded so far: the timeline position agent audio sent
    /// now should be placed at.
    pub fn caller_samples(&self) -> u64 {
        self.frames_written
    }

    /// Appends caller audio; this is what advances the timeline.
    pub fn push_caller(&mut self, samples_8k: &[i16]) -> Result<(), RecordingError> {
        for &caller in samples_8k {
            let agent = self.agent_queue.pop_front().unwrap_or(0);
            self.write_frame(caller, agent)?;
        }
        self.frames_since_flush += samples_8k.len() as u64;
        if self.frames_since_flush >= self.flush_interval_frames {
            self.flush()?;
        }
        Ok(())
    }

    /// Places agent audio sent when the caller timeline was at `at_sample`.
    /// It starts there, or after agent audio still queued, whichever is
    /// later; a position already written is treated as "now".
    pub fn push_agent(&mut self, at_sample: u64, samples_8k: &[i16]) {
        let offset = at_sample.saturating_sub(self.frames_written) as usize;
        if offset > self.agent_queue.len() {
            self.agent_queue.resize(offset, 0);
        }
        self.agent_queue.extend(samples_8k.iter().copied());
    }

    /// Barge-in: Twilio dropped the agent audio not yet played, so drop what
    /// is queued from `at_sample` on. Audio before it stays.
    pub fn clear_agent_after(&mut self, at_sample: u64) {
        let keep = at_sample.saturating_sub(self.frames_written) as usize;
        self.agent_queue.truncate(keep);
    }

    /// Makes everything written so far readable in the file (rewrites the header).
    pub fn flush(&mut self) -> Result<(), RecordingError> {
        self.frames_since_flush = 0;
        match self.writer.as_mut() {
            Some(writer) => writer.flush().map_err(|source| RecordingError::Wav {
                action: "flushing",
                path: self.path.clone(),
                source,
            }),
            None => Ok(()),
        }
    }

    /// Writes agent audio still queued (against caller silence) and finalises the WAV.
    pub fn finish(mut self) -> Result<RecordingSummary, RecordingError> {
        while let Some(agent) = self.agent_queue.pop_front() {
            self.write_frame(0, agent)?;
        }
        if let Some(writer) = self.writer.take() {
            writer.finalize().map_err(|source| RecordingError::Wav {
                action: "finalising",
                path: self.path.clone(),
                source,
            })?;
        }
        tracing::debug!(frames = self.frames_written, "call recording finished");
        Ok(RecordingSummary {
            path: self.path.clone(),
            frames: self.frames_written,
            duration_ms: self.frames_written * 1000 / u64::from(SAMPLE_RATE_HZ),
        })
    }

    fn write_frame(&mut self, caller: i16, agent: i16) -> Result<(), RecordingError> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        let result = writer
            .write_sample(caller)
            .and_then(|()| writer.write_sample(agent));
        result.map_err(|source| RecordingError::Wav {
            action: "writing",
            path: self.path.clone(),
            source,
        })?;
        self.frames_written += 1;
        Ok(())
    }
}

/// Bytes before the samples in the files [`CallRecorder`] writes (hound's
/// PCM header: RIFF, `fmt ` of 16 bytes, the `data` chunk's header).
const HEADER_BYTES: u64 = 44;
/// One stereo 16-bit frame.
const FRAME_BYTES: u64 = 4;

/// What [`repair`] found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairedRecording {
    /// Whole frames the file holds now.
    pub frames: u64,
    pub duration_ms: u64,
    /// Whether the header had to be rewritten (false for a finished file).
    pub rewritten: bool,
}

/// Makes a recording its writer never finished (the process was killed)
/// readable with every whole frame that reached the disk: the header's
/// sizes are set from the file's length (a crash leaves them at the last
/// flush, or at zero before the first), a torn last frame is cut off, and a
/// file that lost its header too (killed before anything was flushed) gets
/// a fresh one. A finished recording is left as it is.
pub fn repair(path: &Path) -> std::io::Result<RepairedRecording> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let length = file.metadata()?.len();
    let mut header = [0u8; HEADER_BYTES as usize];
    let ours = length >= HEADER_BYTES && {
        file.read_exact(&mut header)?;
        &header[0..4] == b"RIFF"
            && &header[8..16] == b"WAVEfmt "
            && u32::from_le_bytes([header[16], header[17], header[18], header[19]]) == 16
            && &header[36..40] == b"data"
    };
    let data_bytes = if ours {
        (length - HEADER_BYTES) / FRAME_BYTES * FRAME_BYTES
    } else {
        // Nothing of the header reached the disk, so nothing after it did
        // either (it is written first, in the same buffer): an empty call.
        0
    };
    let expected = wav_header(data_bytes);
    let rewritten = !ours || header != expected || length != HEADER_BYTES + data_bytes;
    if rewritten {
        file.set_len(HEADER_BYTES + data_bytes)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&expected)?;
        file.sync_all()?;
    }
    let frames = data_bytes / FRAME_BYTES;
    Ok(RepairedRecording {
        frames,
        duration_ms: frames * 1000 / u64::from(SAMPLE_RATE_HZ),
        rewritten,
    })
}

/// The 44-byte header of a stereo 8 kHz 16-bit PCM WAV with `data_bytes`
/// of samples, as hound writes it.
fn wav_header(data_bytes: u64) -> [u8; HEADER_BYTES as usize] {
    let channels: u16 = 2;
    let bits: u16 = 16;
    let block_align = channels * bits / 8;
    let data = u32::try_from(data_bytes).unwrap_or(u32::MAX);
    let mut h = [0u8; HEADER_BYTES as usize];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(data.saturating_add(36)).to_le_bytes());
    h[8..16].copy_from_slice(b"WAVEfmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&SAMPLE_RATE_HZ.to_le_bytes());
    h[28..32].copy_from_slice(&(SAMPLE_RATE_HZ * u32::from(block_align)).to_le_bytes());
    h[32..34].copy_from_slice(&block_align.to_le_bytes());
    h[34..36].copy_from_slice(&bits.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(path: &Path) -> (hound::WavSpec, Vec<i16>, Vec<i16>) {
        let mut reader = hound::WavReader::open(path).unwrap();
        let spec = reader.spec();
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        let left = samples.iter().step_by(2).copied().collect();
        let right = samples.iter().skip(1).step_by(2).copied().collect();
        (spec, left, right)
    }

    /// A distinct, non-zero pattern so misplaced samples show up.
    fn pattern(len: usize, base: i16) -> Vec<i16> {
        (0..len)
            .map(|i| base.wrapping_add((i % 1000) as i16 + 1))
            .collect()
    }

    #[test]
    fn caller_and_agent_land_on_their_channels_and_positions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calls/CA123.wav");
        let mut recorder = CallRecorder::create(&path).unwrap();
        let caller_a = pattern(8_000, 1_000);
        let caller_b = pattern(4_000, -9_000);
        let agent = pattern(6_000, 20_000);
        // 20 ms caller frames, as from Twilio; the agent answers at 0.5 s.
        for frame in caller_a[..4_000].chunks(160) {
            recorder.push_caller(frame).unwrap();
        }
        assert_eq!(recorder.caller_samples(), 4_000);
        recorder.push_agent(recorder.caller_samples(), &agent);
        for frame in caller_a[4_000..].chunks(160).chain(caller_b.chunks(160)) {
            recorder.push_caller(frame).unwrap();
        }
        let summary = recorder.finish().unwrap();
        assert_eq!(summary.frames, 12_000);
        assert_eq!(summary.duration_ms, 1_500);

        let (spec, left, right) = read_back(&path);
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (2, 8_000, 16)
        );
        assert_eq!(left.len(), 12_000);
        assert_eq!(right.len(), 12_000);
        assert_eq!(left, [caller_a, caller_b].concat());
        assert!(right[..4_000].iter().all(|&s| s == 0));
        assert_eq!(&right[4_000..10_000], &agent[..]);
        assert!(right[10_000..].iter().all(|&s| s == 0));
    }

    #[test]
    fn queued_agent_audio_plays_in_order_and_outlives_the_caller() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.wav");
        let mut recorder = CallRecorder::create(&path).unwrap();
        recorder.push_caller(&[7; 800]).unwrap();
        let first = pattern(1_000, 100);
        let second = pattern(500, -100);
        // Both sent at once (TTS is faster than real time).
        recorder.push_agent(800, &first);
        recorder.push_agent(800, &second);
        recorder.push_caller(&[7; 200]).unwrap();
        let summary = recorder.finish().unwrap();
        assert_eq!(summary.frames, 800 + 1_500);
        let (_, left, right) = read_back(&path);
        assert_eq!(&right[800..1_800], &first[..]);
        assert_eq!(&right[1_800..2_300], &second[..]);
        assert!(left[..1_000].iter().all(|&s| s == 7));
        assert!(
            left[1_000..].iter().all(|&s| s == 0),
            "caller is silent after hang-up"
        );
    }

    #[test]
    fn barge_in_keeps_only_what_was_played() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("barge.wav");
        let mut recorder = CallRecorder::create(&path).unwrap();
        let agent = pattern(8_000, 3_000);
        recorder.push_agent(0, &agent);
        recorder.push_caller(&[1; 2_400]).unwrap();
        // The caller talks over the agent at 0.3 s; we clear Twilio's buffer.
        recorder.clear_agent_after(recorder.caller_samples());
        recorder.push_caller(&[2; 1_600]).unwrap();
        recorder.finish().unwrap();
        let (_, left, right) = read_back(&path);
        assert_eq!(left.len(), 4_000);
        assert_eq!(&right[..2_400], &agent[..2_400]);
        assert!(right[2_400..].iter().all(|&s| s == 0));
    }

    #[test]
    fn flushed_audio_is_readable_before_finish() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crash.wav");
        let mut recorder = CallRecorder::with_flush_interval(&path, 100).unwrap();
        recorder.push_caller(&pattern(2_000, 5)).unwrap();
        // Simulate a crash: read the file while the writer is still open.
        let (_, left, _) = read_back(&path);
        assert_eq!(left, pattern(2_000, 5));
        std::mem::forget(recorder);
    }

    /// A killed process: the writer is never dropped, so neither its
    /// buffer nor a final header reaches the file. Repair counts what did.
    #[test]
    fn a_recording_left_by_a_crash_is_repaired_with_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("killed.wav");
        // Flushed at 1 s and 2 s; 2.5 s written in all.
        let mut recorder = CallRecorder::with_flush_interval(&path, 1_000).unwrap();
        let audio = pattern(20_000, 11);
        for frame in audio.chunks(160) {
            recorder.push_caller(frame).unwrap();
        }
        std::mem::forget(recorder);
        let (_, before, _) = read_back(&path);
        assert_eq!(
            before.len(),
            16_000,
            "the header says what the last flush said"
        );
        let on_disk = std::fs::metadata(&path).unwrap().len();
        assert!(on_disk > 44 + 16_000 * 4, "the buffer wrote past the flush");

        let repaired = repair(&path).unwrap();
        assert!(repaired.rewritten);
        assert_eq!(repaired.frames, (on_disk - 44) / 4);
        let (spec, left, right) = read_back(&path);
        assert_eq!((spec.channels, spec.sample_rate), (2, 8_000));
        assert_eq!(left.len() as u64, repaired.frames);
        assert_eq!(left, audio[..left.len()], "every sample as written");
        assert_eq!(right.len(), left.len());
        assert_eq!(repaired.duration_ms, repaired.frames / 8);

        // Repairing again (or a finished file) changes nothing.
        let again = repair(&path).unwrap();
        assert!(!again.rewritten);
        assert_eq!(again.frames, repaired.frames);
    }

    #[test]
    fn a_recording_killed_before_its_first_flush_becomes_an_empty_wav() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("early.wav");
        let mut recorder = CallRecorder::create(&path).unwrap();
        recorder.push_caller(&[5; 800]).unwrap();
        std::mem::forget(recorder);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            0,
            "all still buffered"
        );
        let repaired = repair(&path).unwrap();
        assert_eq!((repaired.frames, repaired.rewritten), (0, true));
        let (spec, left, _) = read_back(&path);
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (2, 8_000, 16)
        );
        assert!(left.is_empty());
    }

    #[test]
    fn a_torn_last_frame_is_cut_and_a_finished_file_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("done.wav");
        let mut recorder = CallRecorder::create(&path).unwrap();
        recorder.push_caller(&pattern(1_000, 3)).unwrap();
        recorder.finish().unwrap();
        let finished = std::fs::read(&path).unwrap();
        let repaired = repair(&path).unwrap();
        assert_eq!((repaired.frames, repaired.rewritten), (1_000, false));
        assert_eq!(std::fs::read(&path).unwrap(), finished);

        // Three stray bytes of a frame that never completed.
        let mut torn = finished.clone();
        torn.extend([1, 2, 3]);
        std::fs::write(&path, &torn).unwrap();
        let repaired = repair(&path).unwrap();
        assert_eq!((repaired.frames, repaired.rewritten), (1_000, true));
        assert_eq!(std::fs::read(&path).unwrap(), finished);
    }

    #[test]
    fn errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        std::fs::write(&blocker, b"x").unwrap();
        let path = blocker.join("CA1.wav");
        let error = CallRecorder::create(&path).unwrap_err();
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
    }
}
