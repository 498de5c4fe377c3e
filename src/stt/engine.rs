//! The Whisper worker pool.

use std::ffi::{CStr, c_char, c_void};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Once};
use std::time::Instant;

use anyhow::Context;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use super::STT_SAMPLE_RATE_HZ;
use super::jobs::{GuessState, Job, JobQueue, PendingGuess};
use super::loop_guard;
use super::transcript::{Hint, SttError, Transcript};
use super::transcript_text::{clean_transcript, is_silence_hallucination};
use crate::compute::ThreadBudget;
use crate::models::ModelPaths;
use crate::models::whisper_ggml::check_ggml_file;

/// Sizing of the worker pool.
#[derive(Clone, Debug)]
pub struct SttOptions {
    /// Dedicated threads, each decoding one utterance at a time.
    pub workers: usize,
    /// Most whisper.cpp compute threads one utterance may use.
    pub threads_per_worker: usize,
    /// Where compute threads come from: `None` shares the machine's
    /// budget with the voice ([`ThreadBudget::machine`]); `Some(n)` gives
    /// this engine its own `n` (for measurements).
    pub thread_budget: Option<usize>,
    /// Utterances that may wait for a free worker before
    /// [`SpeechToText::try_transcribe`] reports [`SttError::Saturated`].
    pub queue_depth: usize,
    /// Smallest encoder context used for short utterances (see
    /// [`audio_ctx_for`]).
    pub min_audio_ctx: i32,
    /// Encoder frames (20 ms each) kept after the utterance's audio (see
    /// [`audio_ctx_for`]).
    pub audio_ctx_margin: i32,
    /// whisper.cpp's flash attention on the CPU.
    pub flash_attn: bool,
}

impl Default for SttOptions {
    /// For 2 cores: two workers sharing the machine's compute threads with
    /// the voice. A lone utterance gets both threads (about 1.8× faster:
    /// 213 vs 377 ms a clip in `measure_audio_context`); when others are
    /// running or waiting each gets one. ggml's threads spin-wait for each
    /// other, so more threads than cores collapses (1 × 2 alongside other
    /// work measured 7.7–11.4 s an utterance against 3.4–4.0 s for 2 × 1):
    /// the budget never hands out more.
    fn default() -> Self {
        SttOptions {
            workers: 2,
            threads_per_worker: 2,
            thread_budget: None,
            queue_depth: 4,
            min_audio_ctx: DEFAULT_MIN_AUDIO_CTX,
            audio_ctx_margin: DEFAULT_AUDIO_CTX_MARGIN,
            flash_attn: false,
        }
    }
}

/// Longest utterance accepted. Utterances should stay under 30 s (the VAD
/// cuts them); files may be longer and are decoded 30 s window by window.
const MAX_AUDIO_SECONDS: usize = 600;
/// whisper.cpp refuses less than 100 ms and is unreliable near it.
const MIN_PADDED_SAMPLES: usize = STT_SAMPLE_RATE_HZ as usize;
/// Below this RMS level (-60 dBFS) an utterance is treated as silence
/// without running Whisper, which tends to invent words ("you") for it.
const SILENCE_RMS: f64 = 1e-3;
/// Encoder frames per second of audio (1500 per 30 s window).
const AUDIO_CTX_PER_SECOND: f64 = 50.0;
const FULL_AUDIO_CTX: i32 = 1500;

/// Encoder frames for a short line: 10.24 s. The spec starts at 768
/// (`shared/spec/models.md`); 512 takes about a third less time (a 1.5 s
/// line: 360 → 235 ms on 2 threads) for the same words, once a line
/// Whisper says twice is kept once ([`loop_guard::collapse_repeated_line`]);
/// below 512, repeats and loops grow (`stt_corpus measure_audio_context`).
pub const DEFAULT_MIN_AUDIO_CTX: i32 = 512;
/// Silence after a longer utterance, in encoder frames: 5.12 s. The spec's
/// 64 (1.28 s) let Whisper end early or repeat at small contexts.
pub const DEFAULT_AUDIO_CTX_MARGIN: i32 = 256;

/// The encoder context to use for an utterance: cut to the utterance
/// (`max(floor, 50 × seconds + margin)`) up to 15 s, the full 1500 beyond.
/// Cutting is the biggest speed lever (the encoder is nearly all of a
/// short line's time, linear in the context); too small a context makes
/// Whisper loop (the token cap ends it) or end a sentence early, and the
/// margin keeps the whole utterance in view with silence after it.
pub fn audio_ctx_for(n_samples: usize, floor: i32, margin: i32) -> i32 {
    let seconds = n_samples as f64 / STT_SAMPLE_RATE_HZ as f64;
    if seconds > 15.0 {
        return FULL_AUDIO_CTX;
    }
    ((AUDIO_CTX_PER_SECOND * seconds + margin as f64).ceil() as i32).clamp(floor, FULL_AUDIO_CTX)
}

/// Most tokens decoded for one 30 s window: generous for fast speech (about
/// 6 tokens a second), small enough that a repetition loop ends quickly.
pub fn token_cap_for(n_samples: usize) -> i32 {
    let seconds = (n_samples as f64 / STT_SAMPLE_RATE_HZ as f64).min(30.0);
    (24.0 + 6.0 * seconds).ceil().min(220.0) as i32
}

/// whisper.cpp's abort callback, asked after the encoder and after each
/// decoder step (not inside the encoder, which is most of the time): a job
/// nobody waits for any more (a guess the caller's next words made stale,
/// or one that gave way) stops there and frees its threads.
unsafe extern "C" fn nobody_waits(job: *mut c_void) -> bool {
    // SAFETY: `decode` passes a `&Job` that outlives the computation.
    let job = unsafe { &*(job as *const Job) };
    job.abandoned()
}

/// Longest hint, in tokens; whisper.cpp keeps at most half its text
/// context (224) for a prompt, and every token costs decoder time.
const MAX_HINT_TOKENS: usize = 96;

/// The shared speech-to-text engine.
///
/// Saturation policy: at most `workers + queue_depth` utterances are
/// running or queued. [`try_transcribe`](Self::try_transcribe) fails at once
/// with [`SttError::Saturated`] beyond that, for callers that would rather
/// re-prompt than wait; [`transcribe`](Self::transcribe) waits for room
/// (wrap it in a timeout). Guesses ([`guess`](Self::guess), made while the
/// caller pauses) take only free room and give it back to a needed
/// utterance that finds none, so speculation never makes a caller repeat.
/// A job whose caller has gone away (its future was dropped) frees its slot
/// at once and is skipped, or stopped, rather than decoded.
pub struct SpeechToText {
    jobs: Arc<JobQueue>,
    slots: Arc<Semaphore>,
    /// Guesses that may give way, oldest first.
    guesses: Mutex<Vec<std::sync::Weak<GuessState>>>,
    capacity: usize,
    options: SttOptions,
}

impl SpeechToText {
    /// Loads the model and starts the workers. Blocking (model load takes
    /// a fraction of a second): call it at start-up or in `spawn_blocking`.
    /// Fails with a message naming `frontdesk models` when the model file is
    /// missing or damaged.
    pub fn load(paths: &ModelPaths, options: SttOptions) -> anyhow::Result<Arc<SpeechToText>> {
        anyhow::ensure!(
            options.workers >= 1,
            "speech-to-text needs at least one worker"
        );
        anyhow::ensure!(
            options.threads_per_worker >= 1,
            "speech-to-text needs at least one thread per worker"
        );
        let path = paths.whisper();
        paths.require(&path, "Whisper speech-to-text")?;
        check_ggml_file(&path).map_err(|e| {
            anyhow::anyhow!(
                "the Whisper model at {} is damaged or not a whisper.cpp model ({e}) — run `frontdesk models` to fetch and convert it again",
                path.display()
            )
        })?;
        install_whisper_log_hook();
        let path_str = path
            .to_str()
            .with_context(|| format!("model path {} is not UTF-8", path.display()))?;
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        params.flash_attn(options.flash_attn);
        let ctx = WhisperContext::new_with_params(path_str, params).map_err(|e| {
            anyhow::anyhow!(
                "whisper.cpp could not load {} ({e:?}) — run `frontdesk models` to fetch and convert it again",
                path.display()
            )
        })?;

        // One shared model; each state keeps it alive.
        let ctx = Arc::new(ctx);
        let jobs = Arc::new(JobQueue::new());
        let budget = match options.thread_budget {
            Some(n) => ThreadBudget::new(n),
            None => ThreadBudget::machine(),
        };
        let slots = Arc::new(Semaphore::new(options.workers + options.queue_depth));
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        for worker in 0..options.workers {
            let ctx = Arc::clone(&ctx);
            let queue = Arc::clone(&jobs);
            let ready = ready_tx.clone();
            let worker_options = options.clone();
            let pool = Pool {
                budget: Arc::clone(&budget),
                slots: Arc::clone(&slots),
                capacity: options.workers + options.queue_depth,
            };
            std::thread::Builder::new()
                .name(format!("stt-worker-{worker}"))
                .spawn(move || match ctx.create_state() {
                    Ok(state) => {
                        let _ = ready.send(Ok(()));
                        drop(ready);
                        worker_loop(worker, &ctx, state, &worker_options, &pool, &queue);
                    }
                    Err(e) => {
                        let _ = ready.send(Err(format!("{e:?}")));
                    }
                })
                .context("starting a speech-to-text worker thread")?;
        }
        drop(ready_tx);
        for _ in 0..options.workers {
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => anyhow::bail!("creating a Whisper decoding state: {e}"),
                Err(_) => anyhow::bail!("a speech-to-text worker stopped while starting"),
            }
        }
        let capacity = options.workers + options.queue_depth;
        tracing::info!(
            workers = options.workers,
            threads_per_worker = options.threads_per_worker,
            thread_budget = budget.total(),
            queue_depth = options.queue_depth,
            "speech-to-text ready"
        );
        Ok(Arc::new(SpeechToText {
            jobs,
            slots,
            guesses: Mutex::new(Vec::new()),
            capacity,
            options,
        }))
    }

    pub fn options(&self) -> &SttOptions {
        &self.options
    }

    /// Transcribes 16 kHz mono samples, waiting for room in the queue.
    pub async fn transcribe(&self, samples_16k: Vec<f32>) -> Result<Transcript, SttError> {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| SttError::Stopped)?;
        self.submit(samples_16k, None, slot).await
    }

    /// Transcribes, or fails at once with [`SttError::Saturated`] when every
    /// worker is busy and the queue is full.
    pub async fn try_transcribe(&self, samples_16k: Vec<f32>) -> Result<Transcript, SttError> {
        self.try_transcribe_hinted(samples_16k, None).await
    }

    /// [`try_transcribe`](Self::try_transcribe) with a [`Hint`] of the
    /// words likely to be said.
    pub async fn try_transcribe_hinted(
        &self,
        samples_16k: Vec<f32>,
        hint: Option<Hint>,
    ) -> Result<Transcript, SttError> {
        let slot = match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                self.take_from_a_guess().ok_or(SttError::Saturated {
                    capacity: self.capacity,
                })?
            }
            Err(tokio::sync::TryAcquireError::Closed) => return Err(SttError::Stopped),
        };
        self.submit(samples_16k, hint, slot).await
    }

    /// Starts a speculative transcription, if there is free room: it gives
    /// way to any needed utterance that finds the engine full (it then ends
    /// with [`SttError::GaveWay`]), unless its [`GuessClaim`] is kept.
    /// Fails at once with [`SttError::Saturated`] when there is no room.
    pub fn guess(
        &self,
        samples_16k: Vec<f32>,
        hint: Option<Hint>,
    ) -> Result<PendingGuess, SttError> {
        validate(&samples_16k)?;
        let slot = match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                return Err(SttError::Saturated {
                    capacity: self.capacity,
                });
            }
            Err(tokio::sync::TryAcquireError::Closed) => return Err(SttError::Stopped),
        };
        let (state, gave_way) = GuessState::open(slot);
        {
            let mut guesses = self.guesses.lock().unwrap_or_else(|p| p.into_inner());
            guesses.retain(|g| g.strong_count() > 0);
            guesses.push(Arc::downgrade(&state));
        }
        let answer = self.send(samples_16k, hint, Some(Arc::downgrade(&state)))?;
        Ok(PendingGuess::new(state, answer, gave_way))
    }

    /// The slot of the newest guess that may still give way.
    fn take_from_a_guess(&self) -> Option<OwnedSemaphorePermit> {
        let mut guesses = self.guesses.lock().unwrap_or_else(|p| p.into_inner());
        guesses.retain(|g| g.strong_count() > 0);
        let slot = guesses
            .iter()
            .rev()
            .filter_map(std::sync::Weak::upgrade)
            .find_map(|g| g.give_way());
        if slot.is_some() {
            tracing::debug!("a speculative transcription gave way to a needed one");
        }
        slot
    }

    async fn submit(
        &self,
        samples: Vec<f32>,
        hint: Option<Hint>,
        slot: OwnedSemaphorePermit,
    ) -> Result<Transcript, SttError> {
        validate(&samples)?;
        let answer = self.send(samples, hint, None)?;
        let result = answer.await.map_err(|_| SttError::Stopped)?;
        // Free before answering, so whoever gets the answer finds the room.
        drop(slot);
        result
    }

    fn send(
        &self,
        samples: Vec<f32>,
        hint: Option<Hint>,
        guess: Option<std::sync::Weak<GuessState>>,
    ) -> Result<oneshot::Receiver<Result<Transcript, SttError>>, SttError> {
        let (reply, answer) = oneshot::channel();
        self.jobs.push(Job {
            samples,
            hint,
            reply,
            enqueued: Instant::now(),
            guess,
        })?;
        Ok(answer)
    }
}

impl Drop for SpeechToText {
    /// The workers finish the job in hand and stop.
    fn drop(&mut self) {
        self.jobs.close();
    }
}

fn validate(samples: &[f32]) -> Result<(), SttError> {
    if samples.len() > MAX_AUDIO_SECONDS * STT_SAMPLE_RATE_HZ as usize {
        return Err(SttError::InvalidAudio(format!(
            "{:.0} s of audio is more than the {MAX_AUDIO_SECONDS} s accepted",
            samples.len() as f64 / STT_SAMPLE_RATE_HZ as f64
        )));
    }
    if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
        return Err(SttError::InvalidAudio(format!(
            "sample {i} is not a finite number"
        )));
    }
    Ok(())
}

/// What the workers share besides the model.
struct Pool {
    budget: Arc<ThreadBudget>,
    /// The engine's job slots: permits in use = utterances running or queued.
    slots: Arc<Semaphore>,
    capacity: usize,
}

fn worker_loop(
    worker: usize,
    ctx: &WhisperContext,
    mut state: WhisperState,
    options: &SttOptions,
    pool: &Pool,
    queue: &JobQueue,
) {
    let mut hints = HintTokens::default();
    loop {
        let Some(job) = queue.pop() else {
            break; // the engine was dropped
        };
        // Others running or waiting besides this one, once threads are free?
        let threads = pool.budget.take_when_free(options.threads_per_worker, || {
            pool.capacity - pool.slots.available_permits() > 1
        });
        // While this worker waited for threads, the guess it holds may have
        // gone stale, or needed words may have arrived.
        let Some(job) = queue.rather_than(job) else {
            continue;
        };
        let n_threads = threads.count();
        let queue_ms = job.enqueued.elapsed().as_millis() as u64;
        let started = Instant::now();
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let prompt = job.hint.as_ref().map_or(&[][..], |h| hints.tokens(ctx, h));
            decode(&mut state, &job, prompt, options, n_threads)
        }))
        .unwrap_or_else(|_| Err(SttError::Inference("whisper panicked".into())));
        if job.abandoned() {
            // A guess overtaken by more speech, or given way: its threads
            // went back as soon as whisper.cpp saw nobody was waiting.
            tracing::debug!(
                worker,
                queue_ms,
                compute_ms = started.elapsed().as_millis() as u64,
                "an utterance nobody waits for was dropped"
            );
            continue;
        }
        drop(threads);
        let compute_ms = started.elapsed().as_millis() as u64;
        if result.is_ok() {
            crate::metrics::engines()
                .whisper_seconds
                .observe(started.elapsed().as_secs_f64());
        }
        let audio_ms = job.samples.len() as u64 * 1000 / STT_SAMPLE_RATE_HZ as u64;
        let result = result.map(|text| Transcript {
            text,
            audio_ms,
            compute_ms,
            queue_ms,
        });
        match &result {
            Ok(t) => tracing::debug!(
                worker,
                audio_ms,
                compute_ms,
                queue_ms,
                threads = n_threads,
                chars = t.text.len(),
                "utterance transcribed"
            ),
            Err(e) => tracing::warn!(worker, audio_ms, error = %e, "utterance failed"),
        }
        let _ = job.reply.send(result);
    }
    tracing::debug!(worker, "speech-to-text worker stopped");
}

/// One utterance through Whisper: greedy, English, no timestamps, one
/// segment per 30 s window, nothing carried over from earlier utterances.
fn decode(
    state: &mut WhisperState,
    job: &Job,
    prompt: &[std::ffi::c_int],
    options: &SttOptions,
    threads: usize,
) -> Result<String, SttError> {
    let samples = &job.samples[..];
    if rms(samples) < SILENCE_RMS {
        return Ok(String::new());
    }
    let padded;
    let audio = if samples.len() < MIN_PADDED_SAMPLES {
        let mut p = samples.to_vec();
        p.resize(MIN_PADDED_SAMPLES, 0.0);
        padded = p;
        &padded[..]
    } else {
        samples
    };
    let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    params.set_n_threads(threads as i32);
    params.set_translate(false);
    params.set_no_context(true);
    params.set_no_timestamps(true);
    params.set_single_segment(true);
    params.set_print_special(false);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    params.set_suppress_blank(true);
    params.set_suppress_nst(true);
    // No temperature fallback: deterministic, and the token cap ends loops.
    params.set_temperature(0.0);
    params.set_temperature_inc(0.0);
    params.set_audio_ctx(audio_ctx_for(
        audio.len(),
        options.min_audio_ctx,
        options.audio_ctx_margin,
    ));
    params.set_max_tokens(token_cap_for(audio.len()));
    if !prompt.is_empty() {
        params.set_tokens(prompt);
    }
    let looped = std::sync::atomic::AtomicBool::new(false);
    // SAFETY: the callback only reads whisper.cpp's own buffers, and
    // `looped` outlives `full`, the only place the callback runs.
    unsafe {
        params.set_filter_logits_callback(Some(loop_guard::stop_repetition_loops));
        params.set_filter_logits_callback_user_data(
            &looped as *const std::sync::atomic::AtomicBool as *mut c_void,
        );
    }
    // SAFETY: `job` outlives `full`, the only place the callback runs,
    // and the callback only reads it.
    unsafe {
        params.set_abort_callback(Some(nobody_waits));
        params.set_abort_callback_user_data(job as *const Job as *mut c_void);
    }
    state
        .full(params, audio)
        .map_err(|e| SttError::Inference(format!("{e:?}")))?;
    let looped = looped.load(std::sync::atomic::Ordering::Relaxed);
    if looped {
        tracing::debug!("whisper repetition loop stopped");
    }
    let mut pieces = Vec::new();
    for segment in state.as_iter() {
        let raw = segment
            .to_str_lossy()
            .map_err(|e| SttError::Inference(format!("{e:?}")))?;
        // A stopped loop leaves one repeat behind; a short encoder context
        // with a hint sometimes says a whole sentence twice and stops by
        // itself ("Go forward 10 meters. Go forward 10 meters.").
        let text = loop_guard::collapse_repeated_line(&loop_guard::collapse_repeated_tail(
            &clean_transcript(&raw),
        ));
        let no_speech_probability = segment.no_speech_probability();
        tracing::trace!(no_speech_probability, chars = text.len(), "segment");
        if text.is_empty() || is_silence_hallucination(&text, no_speech_probability) {
            continue;
        }
        pieces.push(text);
    }
    Ok(pieces.join(" "))
}

/// A worker's tokenised hints. Calls reuse a handful of hint texts, so the
/// most recent few are kept.
#[derive(Default)]
struct HintTokens {
    recent: Vec<(Hint, Vec<std::ffi::c_int>)>,
}

impl HintTokens {
    const KEEP: usize = 16;

    fn tokens(&mut self, ctx: &WhisperContext, hint: &Hint) -> &[std::ffi::c_int] {
        if let Some(i) = self.recent.iter().position(|(h, _)| h == hint) {
            return &self.recent[i].1;
        }
        let tokens = match ctx.tokenize(hint, 1024) {
            Ok(mut t) => {
                // Keep the end: the words nearest the utterance weigh most.
                if t.len() > MAX_HINT_TOKENS {
                    t.drain(..t.len() - MAX_HINT_TOKENS);
                }
                t
            }
            Err(e) => {
                tracing::warn!(error = ?e, "a recognition hint could not be tokenised; ignored");
                Vec::new()
            }
        };
        if self.recent.len() == Self::KEEP {
            self.recent.remove(0);
        }
        self.recent.push((hint.clone(), tokens));
        &self.recent.last().expect("just pushed").1
    }
}

/// Root mean square level; 0 for no samples.
fn rms(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|&s| s as f64 * s as f64).sum::<f64>() / samples.len() as f64).sqrt()
}

static LOG_HOOK: Once = Once::new();

/// Routes whisper.cpp's and ggml's logging into `tracing` (target
/// `whisper_cpp`). Debug output is dropped: it can carry decoded text,
/// which must never reach the logs.
fn install_whisper_log_hook() {
    LOG_HOOK.call_once(|| unsafe {
        whisper_rs::whisper_rs_sys::whisper_log_set(Some(whisper_log), std::ptr::null_mut());
        whisper_rs::whisper_rs_sys::ggml_log_set(Some(whisper_log), std::ptr::null_mut());
    });
}

unsafe extern "C" fn whisper_log(
    level: whisper_rs::whisper_rs_sys::ggml_log_level,
    text: *const c_char,
    _: *mut c_void,
) {
    use whisper_rs::whisper_rs_sys as sys;
    if text.is_null() {
        return;
    }
    // SAFETY: whisper.cpp passes a NUL-terminated string valid for this call.
    let message = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    let message = message.trim();
    if message.is_empty() {
        return;
    }
    match level {
        // What a stopped job says (`nobody_waits`); a real failure is
        // reported by the worker ("utterance failed").
        sys::ggml_log_level_GGML_LOG_LEVEL_ERROR
            if message.ends_with("failed to encode") || message.ends_with("failed to decode") =>
        {
            tracing::debug!(target: "whisper_cpp", "{message}")
        }
        sys::ggml_log_level_GGML_LOG_LEVEL_ERROR => {
            tracing::error!(target: "whisper_cpp", "{message}")
        }
        sys::ggml_log_level_GGML_LOG_LEVEL_WARN => {
            tracing::warn!(target: "whisper_cpp", "{message}")
        }
        sys::ggml_log_level_GGML_LOG_LEVEL_INFO => {
            tracing::trace!(target: "whisper_cpp", "{message}")
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_context_follows_the_spec_rule() {
        let s = |seconds: f64| (seconds * 16_000.0) as usize;
        let audio_ctx_for_default = |n, floor| audio_ctx_for(n, floor, 64);
        assert_eq!(audio_ctx_for_default(s(1.0), 768), 768);
        assert_eq!(audio_ctx_for_default(s(2.7), 768), 768);
        assert_eq!(audio_ctx_for_default(s(14.0), 768), 768);
        assert_eq!(audio_ctx_for_default(s(14.5), 768), 789);
        assert_eq!(audio_ctx_for_default(s(15.0), 768), 814);
        assert_eq!(audio_ctx_for_default(s(15.01), 768), 1500);
        assert_eq!(audio_ctx_for_default(s(40.0), 768), 1500);
        assert_eq!(audio_ctx_for_default(s(2.0), 256), 256);
        assert_eq!(audio_ctx_for_default(s(5.0), 256), 314);
        // The default: short lines at 512 frames (10.24 s, about two thirds
        // of the spec's 768), longer ones with 5 s of silence after them.
        let default = |n| audio_ctx_for(n, DEFAULT_MIN_AUDIO_CTX, DEFAULT_AUDIO_CTX_MARGIN);
        assert_eq!(default(s(1.0)), 512);
        assert_eq!(default(s(5.0)), 512);
        assert_eq!(default(s(6.0)), 556);
        assert_eq!(default(s(14.0)), 956);
        assert_eq!(default(s(15.01)), 1500);
        // Always covers the utterance.
        for floor in [0, 256, 768] {
            for tenths in 1..=150 {
                let n = s(tenths as f64 / 10.0);
                assert!(audio_ctx_for(n, floor, 64) as f64 >= n as f64 / 16_000.0 * 50.0);
            }
        }
    }

    #[test]
    fn token_cap_grows_with_audio_and_is_bounded() {
        assert_eq!(token_cap_for(16_000), 30);
        assert!(token_cap_for(16_000 * 11) > 60);
        assert_eq!(token_cap_for(16_000 * 300), 204);
        assert!(token_cap_for(usize::MAX / 2) <= 220);
    }

    #[test]
    fn silence_is_recognised_by_level() {
        assert_eq!(rms(&[]), 0.0);
        assert!(rms(&[0.0005; 100]) < SILENCE_RMS);
        assert!(rms(&[0.01, -0.01]) > SILENCE_RMS);
    }

    #[test]
    fn bad_samples_are_rejected() {
        assert!(matches!(
            validate(&[0.0, f32::NAN]),
            Err(SttError::InvalidAudio(_))
        ));
        assert!(matches!(
            validate(&vec![0.0; 16_000 * 601]),
            Err(SttError::InvalidAudio(_))
        ));
        assert!(validate(&[0.0; 16]).is_ok());
    }
}
