//! Speech: the agent's voice (Piper through `ort`, phonemes from espeak-ng)
//! and a synthetic caller voice for tests and scripted calls.
//!
//! A reply is split into sentences and spoken sentence by sentence: each
//! sentence's audio (8 kHz PCM16, ready for µ-law) is sent to the call loop as
//! soon as it is synthesised, so the caller hears the first sentence while
//! the rest is being made. Fixed prompts are rendered once at start-up
//! ([`PromptCache`]) and cost nothing at call time. Synthesis runs on a
//! dedicated std thread per reply; dropping the [`SpeechStream`] (or calling
//! [`CancelHandle::cancel`]) stops it after at most the current sentence,
//! which is how barge-in silences the agent.

pub mod caller_voice;
pub mod phonemes;
pub mod piper;
pub mod prompt_cache;
pub mod text;

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use anyhow::Context;
use tokio::sync::mpsc;

use crate::audio::resample;
use crate::models::ModelPaths;
pub use piper::{PiperVoice, SynthesisParams};
pub use prompt_cache::PromptCache;

/// The sample rate of all audio this module hands to the call loop.
pub const OUTPUT_SAMPLE_RATE_HZ: u32 = 8_000;

/// Piper starts every sentence with silence (100 ms or more), which the
/// caller hears as latency; it is cut to this much before the first sound
/// (enough for the onset below [`SOUND_ABS`], so nothing clicks).
pub const LEAD_IN_MS: usize = 10;
/// A sample this loud (about -40 dBFS) is sound.
const SOUND_ABS: u16 = 328;

/// Cuts leading silence down to [`LEAD_IN_MS`].
pub fn trim_leading_silence(samples_8k: &mut Vec<i16>) {
    let lead_in = LEAD_IN_MS * OUTPUT_SAMPLE_RATE_HZ as usize / 1000;
    if let Some(first) = samples_8k
        .iter()
        .position(|s| s.unsigned_abs() >= SOUND_ABS)
    {
        samples_8k.drain(..first.saturating_sub(lead_in));
    }
}

/// Sentences synthesised ahead of the listener; bounds memory when the
/// consumer is slow (the synthesis thread waits, nothing is dropped).
const SPEECH_QUEUE_SENTENCES: usize = 2;

/// Sentences synthesised during calls that are kept for reuse, on top of
/// the fixed prompts: a clinic's replies repeat ("For example a physical, a
/// follow-up…"), so the second caller hears them at once. About 20 MB.
const LEARNED_SENTENCES: usize = 256;

/// The agent's voice: the Piper model plus the cache of fixed prompts.
pub struct Tts {
    voice: PiperVoice,
    prompts: RwLock<PromptCache>,
    /// Sentences added to `prompts` at call time, oldest first.
    learned: std::sync::Mutex<std::collections::VecDeque<String>>,
}

impl Tts {
    /// Loads the Piper voice (blocking, about a second; call it at start-up
    /// or from `spawn_blocking`).
    pub fn load(paths: &ModelPaths) -> anyhow::Result<Arc<Tts>> {
        let voice = PiperVoice::load(paths).context("loading the agent's voice")?;
        Ok(Arc::new(Tts {
            voice,
            prompts: RwLock::new(PromptCache::default()),
            learned: Default::default(),
        }))
    }

    pub fn voice(&self) -> &PiperVoice {
        &self.voice
    }

    /// How many times the voice model has run (cache hits do not count).
    pub fn model_runs(&self) -> u64 {
        self.voice.model_runs()
    }

    /// Renders every sentence of `prompts` and adds it to the prompt cache,
    /// so speaking it later needs no synthesis. Blocking.
    pub fn render_prompts<S: AsRef<str>>(&self, prompts: &[S]) -> anyhow::Result<usize> {
        let rendered = PromptCache::render(self, prompts)?;
        let added = rendered.len();
        self.prompts
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(rendered);
        Ok(added)
    }

    /// A snapshot lookup in the prompt cache.
    pub fn cached(&self, sentence: &str) -> Option<Arc<[i16]>> {
        self.prompts
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(sentence)
    }

    /// Keeps a sentence synthesised at call time, forgetting the oldest
    /// learned one beyond [`LEARNED_SENTENCES`] (fixed prompts stay).
    fn learn(&self, sentence: &str, samples_8k: &[i16]) {
        let mut learned = self.learned.lock().unwrap_or_else(|p| p.into_inner());
        let mut cache = self
            .prompts
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.get(sentence).is_some() {
            return;
        }
        cache.insert(sentence, samples_8k.to_vec());
        learned.push_back(sentence.to_string());
        if learned.len() > LEARNED_SENTENCES
            && let Some(oldest) = learned.pop_front()
        {
            cache.remove(&oldest);
        }
    }

    /// Synthesises one sentence as 8 kHz PCM16 (normalised for speech first).
    /// Blocking: call from a std thread or `spawn_blocking`. `length_scale`
    /// overrides the voice's pace (larger is slower).
    pub fn synthesize_8k(
        &self,
        sentence: &str,
        length_scale: Option<f32>,
    ) -> anyhow::Result<Vec<i16>> {
        let mut params = self.voice.default_params();
        if let Some(length_scale) = length_scale {
            params.length_scale = length_scale;
        }
        let audio = self
            .voice
            .synthesize(&text::normalize_for_speech(sentence), params)?;
        let audio_8k =
            resample::resample(&audio, self.voice.sample_rate_hz(), OUTPUT_SAMPLE_RATE_HZ)?;
        let mut samples = resample::f32_to_i16(&audio_8k);
        trim_leading_silence(&mut samples);
        Ok(samples)
    }

    /// Speaks a reply: each string is split into sentences, and each
    /// sentence's 8 kHz audio is yielded as soon as it exists (at once when
    /// it is a cached prompt). Synthesis runs on its own std thread.
    pub fn speak(self: &Arc<Self>, reply: Vec<String>) -> SpeechStream {
        let sentences: Vec<String> = reply
            .iter()
            .flat_map(|part| text::split_sentences(part))
            .collect();
        let (tx, rx) = mpsc::channel(SPEECH_QUEUE_SENTENCES);
        let cancelled = Arc::new(AtomicBool::new(false));
        let tts = Arc::clone(self);
        let flag = Arc::clone(&cancelled);
        let spawned = std::thread::Builder::new()
            .name("tts-synthesis".into())
            .spawn(move || tts.run_speech(sentences, tx, flag));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start a synthesis thread");
        }
        SpeechStream { rx, cancelled }
    }

    /// The synthesis thread's body: one sentence at a time, checking for
    /// cancellation before each.
    fn run_speech(
        &self,
        sentences: Vec<String>,
        tx: mpsc::Sender<anyhow::Result<SpeechChunk>>,
        cancelled: Arc<AtomicBool>,
    ) {
        let count = sentences.len();
        for (index, sentence) in sentences.into_iter().enumerate() {
            if cancelled.load(Ordering::Acquire) || tx.is_closed() {
                tracing::debug!(index, count, "speech cancelled");
                return;
            }
            let started = Instant::now();
            let chunk = match self.cached(&sentence) {
                Some(samples) => Ok(SpeechChunk {
                    index,
                    samples_8k: samples.to_vec(),
                    cached: true,
                }),
                None => self.synthesize_8k(&sentence, None).map(|samples_8k| {
                    self.learn(&sentence, &samples_8k);
                    SpeechChunk {
                        index,
                        samples_8k,
                        cached: false,
                    }
                }),
            };
            if let Ok(chunk) = &chunk {
                tracing::debug!(
                    index,
                    cached = chunk.cached,
                    audio_ms = chunk.duration_ms(),
                    synth_ms = started.elapsed().as_millis() as u64,
                    "sentence ready"
                );
            }
            let failed = chunk.is_err();
            if tx.blocking_send(chunk).is_err() || failed {
                return;
            }
        }
    }
}

/// One sentence of the agent's speech.
#[derive(Clone, Debug)]
pub struct SpeechChunk {
    /// Position of the sentence in the reply.
    pub index: usize,
    /// 8 kHz mono PCM16.
    pub samples_8k: Vec<i16>,
    /// Whether it came from the prompt cache.
    pub cached: bool,
}

impl SpeechChunk {
    pub fn duration_ms(&self) -> u64 {
        self.samples_8k.len() as u64 * 1000 / OUTPUT_SAMPLE_RATE_HZ as u64
    }
}

/// The audio of one reply, sentence by sentence. Ends after the last
/// sentence, after an error, or when cancelled; dropping it cancels.
pub struct SpeechStream {
    rx: mpsc::Receiver<anyhow::Result<SpeechChunk>>,
    cancelled: Arc<AtomicBool>,
}

impl SpeechStream {
    /// The next sentence's audio; `None` when the reply is over or cancelled.
    pub async fn next(&mut self) -> Option<anyhow::Result<SpeechChunk>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// A handle that stops this reply from elsewhere (barge-in).
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            cancelled: Arc::clone(&self.cancelled),
        }
    }

    /// Stops synthesis after the current sentence; nothing more is yielded.
    pub fn cancel(&mut self) {
        self.cancelled.store(true, Ordering::Release);
        self.rx.close();
    }

    fn poll_chunk(
        &mut self,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<anyhow::Result<SpeechChunk>>> {
        if self.cancelled.load(Ordering::Acquire) {
            self.rx.close();
            return Poll::Ready(None);
        }
        self.rx.poll_recv(cx)
    }
}

impl futures_util::Stream for SpeechStream {
    type Item = anyhow::Result<SpeechChunk>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx)
    }
}

impl Drop for SpeechStream {
    fn drop(&mut self) {
        self.cancelled.store(true, Ordering::Release);
    }
}

/// Cancels a [`SpeechStream`] from another task.
#[derive(Clone, Debug)]
pub struct CancelHandle {
    cancelled: Arc<AtomicBool>,
}

impl CancelHandle {
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod lead_in_tests {
    use super::*;

    #[test]
    fn leading_silence_is_cut_to_the_lead_in() {
        let mut s = vec![0i16; 2000];
        s.extend([5000, -5000, 0, 0]);
        trim_leading_silence(&mut s);
        assert_eq!(s.len(), 80 + 4);
        assert_eq!(s[80], 5000);
        // Already short, or silent throughout: unchanged.
        let mut short = vec![0, 0, 4000];
        trim_leading_silence(&mut short);
        assert_eq!(short, [0, 0, 4000]);
        let mut quiet = vec![10i16; 500];
        trim_leading_silence(&mut quiet);
        assert_eq!(quiet.len(), 500);
    }
}
