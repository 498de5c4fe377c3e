//! The call loop for one media stream: carrier events in, agent audio
//! out. It speaks to the carrier only through [`super::carrier::Carrier`],
//! so tests can drive it with a scripted carrier and the server with a
//! real one (Twilio's media stream websocket).
//!
//! Time inside the call is counted in caller audio received (8 kHz
//! samples), never wall-clock: endpointing, silence prompts and barge-in
//! behave the same in real time and in fast replays.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::Instrument;

use super::carrier::{Carrier, CarrierEvent, StreamStarted};
use super::drain::{CallsEnding, Drain};
use super::journal::{Entry, Journal};
use super::listener::{Heard, Listener};
use super::speaker::{AgentAudioSink, Speaker, SpokenReply};
use super::timing::{FrameArrivals, ReplyClock};
use super::turn_end;
use super::{AgentTurn, CallInfo, ConversationFactory};
use crate::audio::end_of_turn::EndOfTurnModel;
use crate::audio::mulaw;
use crate::audio::recording::CallRecorder;
use crate::audio::vad::{EndpointConfig, VadModel};
use crate::nlu::Nlu;
use crate::store::Db;
use crate::store::calls::{NewCall, NewTurn, Speaker as Who};
use crate::stt::{SpeechToText, SttError};
use crate::tts::Tts;
use crate::vocabulary::{AfterSpeech, CallEvent, Intent, Outcome, Understanding};
use held::HeldWords;
use recognition::{Guess, Recognition, Speculation};

const SAMPLE_RATE_HZ: u64 = 8000;
/// How long (wall clock) the agent's goodbye may take to be heard when the
/// server stops, before the line is let go anyway: a caller's phone that
/// never confirms playback must not hold the stop.
const GOODBYE_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);
/// How long (wall clock) a hung-up call waits for its listener thread to
/// hand over the caller's last words before it keeps its books without
/// them (they are still in the recording).
const LISTENER_FLUSH_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Caller silence (after the agent finishes) before the conversation is
/// told ("Are you still there?"), in call time: the server's default for
/// [`CallServices::silence_prompt_ms`].
pub const SILENCE_PROMPT_MS: u64 = 8000;

/// Everything a call needs, shared by all calls.
pub struct CallServices {
    pub db: Db,
    pub spool_dir: PathBuf,
    pub recordings_dir: PathBuf,
    pub stt: Arc<SpeechToText>,
    pub vad: Arc<VadModel>,
    /// Smart Turn: whether a pause ends the caller's turn, by its sound.
    pub end_of_turn: Arc<EndOfTurnModel>,
    pub tts: Arc<Tts>,
    pub nlu: Arc<Nlu>,
    pub conversations: Arc<dyn ConversationFactory>,
    /// The clinic's local date and time now.
    pub local_now: Arc<dyn Fn() -> chrono::NaiveDateTime + Send + Sync>,
    pub endpoint: EndpointConfig,
    /// Caller silence (after the agent finishes) before the conversation is told.
    pub silence_prompt_ms: u64,
    /// The server's stop: tells calls still running at the drain deadline
    /// to say goodbye and end.
    pub drain: Drain,
}

/// How the stream ended, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// The carrier sent `stop`.
    Stopped,
    /// The socket closed or dropped without `stop`.
    Dropped,
    /// The agent hung up.
    AgentHungUp,
    /// The agent handed the call to staff.
    Transferred { number: String },
    /// No `start` ever came.
    NeverStarted,
    /// The server stopped: the agent said goodbye and let the line go.
    ShutDown,
}

/// What the loop reports when the call is over.
#[derive(Debug, Clone)]
pub struct CallSummary {
    pub call_id: Option<String>,
    /// The carrier's id of the call ([`StreamStarted::carrier_call_id`]).
    pub carrier_call_id: Option<String>,
    pub end: StreamEnd,
    pub bad_messages: u64,
}

/// Limits on caller-controlled input before the call is closed.
const MAX_BAD_MESSAGES: u64 = 500;

/// Transcripts finished and not yet taken by the call loop. Bounded so a
/// stalled loop cannot pile up memory; a recognition task that finds the
/// queue full waits with its transcript until the loop takes it, so none
/// is ever dropped (they are the caller's words). A caller says a few
/// utterances a minute: 16 is minutes of speech.
const TRANSCRIPT_QUEUE: usize = 16;

/// Speculative transcripts' verdicts not yet taken by the call loop. One
/// comes per pause and only the latest matters; when the queue is full a
/// verdict is dropped, which only means its turn ends at the usual end
/// silence rather than early.
const GUESS_QUEUE: usize = 8;

/// Runs one media stream to its end.
pub async fn run_stream(services: Arc<CallServices>, mut carrier: Box<dyn Carrier>) -> CallSummary {
    let mut bad_messages = 0u64;
    let mut ending = services.drain.ending();
    // A stream that has not started when the server's drain deadline
    // passes is no call yet: closed.
    let started = tokio::select! {
        started = wait_for_start(carrier.as_mut(), &mut bad_messages) => started,
        () = ending.now() => None,
    };
    let Some(start) = started else {
        return CallSummary {
            call_id: None,
            carrier_call_id: None,
            end: StreamEnd::NeverStarted,
            bad_messages,
        };
    };
    let call_id = crate::store::new_id();
    let carrier_call_id = start.carrier_call_id.clone();
    let span = tracing::info_span!("call", call_id = %call_id, call_sid = %start.carrier_call_id, stream_sid = %start.stream_id);
    let call = Call::begin(services, call_id.clone(), start, carrier, bad_messages);
    let (end, bad_messages) = call.run().instrument(span).await;
    CallSummary {
        call_id: Some(call_id),
        carrier_call_id: Some(carrier_call_id),
        end,
        bad_messages,
    }
}

/// Waits for the stream's start; `None` if the call never starts (closed,
/// stopped, or too many bad messages first). Events before the start
/// cannot be attributed to a call: they are counted in `bad_messages`.
async fn wait_for_start(
    carrier: &mut dyn Carrier,
    bad_messages: &mut u64,
) -> Option<StreamStarted> {
    loop {
        let Some(event) = carrier.next_event().await else {
            tracing::warn!(
                bad_messages = *bad_messages,
                "media stream closed before it started"
            );
            return None;
        };
        match event {
            CarrierEvent::Started(start) => return Some(start),
            CarrierEvent::Stopped => return None,
            CarrierEvent::Malformed(e) => {
                *bad_messages += 1;
                tracing::warn!(error = %e, "unreadable media stream message; ignored");
            }
            other => {
                *bad_messages += 1;
                tracing::warn!(
                    event = other.name(),
                    "message before the stream's start; ignored"
                );
            }
        }
        if *bad_messages > MAX_BAD_MESSAGES {
            tracing::warn!(
                bad_messages = *bad_messages,
                "too many bad messages before start; closing"
            );
            return None;
        }
    }
}

/// A transcript back from the recogniser.
struct Transcribed {
    /// Order of the utterance in the call: transcripts finish out of order
    /// (several recognition workers), turns are kept in the order spoken.
    seq: u64,
    start_sample: u64,
    end_sample: u64,
    recognition: Recognition,
    /// The caller's turn so far, this utterance last (for holding it).
    turn_audio: Vec<f32>,
}

/// Agent audio goes to the recording's right channel; the recorder queues
/// it after earlier agent audio, as the carrier's playout buffer does.
struct RecordingSink<'a> {
    recording: &'a mut Option<CallRecorder>,
    now_sample: u64,
}

impl AgentAudioSink for RecordingSink<'_> {
    fn agent_audio(&mut self, samples_8k: &[i16]) {
        if let Some(recording) = self.recording.as_mut() {
            recording.push_agent(self.now_sample, samples_8k);
        }
    }
}

struct Call {
    services: Arc<CallServices>,
    info: CallInfo,
    /// The line to the caller: events in, agent audio and call control out.
    carrier: Box<dyn Carrier>,
    journal: Journal,
    journal_writer: tokio::task::JoinHandle<()>,
    speaker: Speaker,
    listener: Listener,
    heard: mpsc::Receiver<Heard>,
    transcripts_tx: mpsc::Sender<Transcribed>,
    transcripts: mpsc::Receiver<Transcribed>,
    conversation: Box<dyn super::Conversation>,
    recording: Option<CallRecorder>,
    /// Caller samples received so far: the call's clock.
    caller_samples: u64,
    /// Call time of the last sign of life (speech start, agent finished).
    last_activity_sample: u64,
    silence_reported: bool,
    caller_talking: bool,
    utterances_pending: usize,
    after_speech: Option<AfterSpeech>,
    outcome: Option<Outcome>,
    bad_messages: u64,
    /// An event the loop hands to the conversation next (a silence, or
    /// held words whose rest never came).
    pending_event: Option<CallEvent>,
    /// The reply clock of held words answered on their own (`held.rs`).
    pending_clock: Option<ReplyClock>,
    /// The start of a sentence heard as its own utterance, waiting for the
    /// rest (see [`Call::hold_as_start`]).
    held: Option<HeldWords>,
    /// Utterances sent to recognition, and handled, in spoken order.
    utterances_heard: u64,
    utterances_handled: u64,
    /// Transcripts that finished before an earlier utterance's.
    reordered: std::collections::BTreeMap<u64, Transcribed>,
    /// Recognition of the caller's current pause, started before the
    /// endpoint is sure.
    speculation: Option<Speculation>,
    guesses_tx: mpsc::Sender<Guess>,
    guesses: mpsc::Receiver<Guess>,
    /// What the conversation expects to hear next, for recognition.
    listen_for: Option<crate::stt::Hint>,
    /// When recent caller audio arrived, and the stages of the reply now
    /// being prepared ([`super::timing`]).
    arrivals: FrameArrivals,
    reply_clock: Option<ReplyClock>,
    /// Says when the server's drain deadline has passed.
    ending: CallsEnding,
    /// Set once the server stops the call: when the line is let go even if
    /// the goodbye has not been heard by then.
    winding_down: Option<tokio::time::Instant>,
    /// The pending hang-up is the stop's goodbye, not the conversation's.
    goodbye_ours: bool,
    /// Caller audio position until which the words the caller is saying as
    /// the agent's goodbye ends are heard out (see `ending.rs`).
    hear_out_until: Option<u64>,
}

impl Call {
    fn begin(
        services: Arc<CallServices>,
        call_id: String,
        start: StreamStarted,
        carrier: Box<dyn Carrier>,
        bad_messages: u64,
    ) -> Call {
        let StreamStarted {
            carrier: carrier_name,
            carrier_call_id,
            stream_id,
            from,
            to,
        } = start;
        let (journal, journal_writer) = Journal::start(
            services.db.clone(),
            services.spool_dir.clone(),
            call_id.clone(),
        );
        let recording_path = services.recordings_dir.join(format!("{call_id}.wav"));
        let recording = match CallRecorder::create(&recording_path) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "cannot record this call");
                None
            }
        };
        journal.record(Entry::Call(NewCall {
            id: call_id.clone(),
            provider: carrier_name.into(),
            provider_call_id: Some(carrier_call_id),
            stream_id: Some(stream_id),
            from: from.clone(),
            to,
            recording_path: recording
                .as_ref()
                .map(|_| recording_path.display().to_string()),
        }));
        let info = CallInfo {
            call_id: call_id.clone(),
            from,
            started_local: (services.local_now)(),
        };
        let conversation = services.conversations.start(&info);
        let (listener, heard) =
            Listener::start(services.vad.clone(), services.endpoint.clone(), &call_id);
        let speaker = Speaker::new(services.tts.clone());
        let (transcripts_tx, transcripts) = mpsc::channel(TRANSCRIPT_QUEUE);
        let ending = services.drain.ending();
        let (guesses_tx, guesses) = mpsc::channel(GUESS_QUEUE);
        tracing::info!("call started");
        Call {
            services,
            info,
            carrier,
            journal,
            journal_writer,
            speaker,
            listener,
            heard,
            transcripts_tx,
            transcripts,
            conversation,
            recording,
            caller_samples: 0,
            last_activity_sample: 0,
            silence_reported: false,
            caller_talking: false,
            utterances_pending: 0,
            after_speech: None,
            outcome: None,
            bad_messages,
            pending_event: None,
            pending_clock: None,
            held: None,
            utterances_heard: 0,
            utterances_handled: 0,
            reordered: std::collections::BTreeMap::new(),
            speculation: None,
            guesses_tx,
            guesses,
            listen_for: None,
            arrivals: FrameArrivals::default(),
            reply_clock: None,
            ending,
            winding_down: None,
            goodbye_ours: false,
            hear_out_until: None,
        }
    }

    async fn run(mut self) -> (StreamEnd, u64) {
        self.converse(CallEvent::Started).await;
        let end = loop {
            if let Some(end) = self.end_if_done().await {
                break end;
            }
            if let Some(event) = self.pending_event.take() {
                let clock = self.pending_clock.take();
                if self.winding_down.is_none() {
                    self.converse(event).await;
                    self.time_held_reply(clock);
                }
                continue;
            }
            tokio::select! {
                event = self.carrier.next_event() => match event {
                    Some(event) => {
                        if let Some(end) = self.on_event(event).await {
                            break end;
                        }
                    }
                    None => {
                        tracing::warn!("media stream dropped without stop");
                        break StreamEnd::Dropped;
                    }
                },
                Some(heard) = self.heard.recv() => self.on_heard(heard).await,
                Some(guess) = self.guesses.recv() => self.on_guess(guess),
                () = self.ending.now(), if self.winding_down.is_none() => self.wind_down(),
                () = tokio::time::sleep_until(self.winding_down.unwrap_or_else(tokio::time::Instant::now)),
                    if self.winding_down.is_some() => {
                    tracing::warn!("the goodbye was not heard in time; letting the line go");
                    break match self.after_speech.take() {
                        // A transfer the conversation asked for still happens.
                        Some(AfterSpeech::Transfer { number }) => self.hand_over_at_stop(number).await,
                        _ => StreamEnd::ShutDown,
                    };
                }
                Some(done) = self.transcripts.recv() => {
                    self.reordered.insert(done.seq, done);
                    while let Some(next) = self.reordered.remove(&self.utterances_handled) {
                        self.utterances_handled += 1;
                        self.on_transcript(next).await;
                    }
                }
                chunk = self.speaker.next_audio() => match chunk {
                    Some(Ok(chunk)) => {
                        let mut sink = RecordingSink { recording: &mut self.recording, now_sample: self.caller_samples };
                        if let Err(e) = self.speaker.send_sentence(chunk, self.caller_samples, &mut sink, self.carrier.as_mut()).await {
                            tracing::warn!(error = %e, "could not send agent audio; the socket is gone");
                            break StreamEnd::Dropped;
                        }
                        if let Some(clock) = self.reply_clock.take() {
                            super::timing::record(clock.finish(std::time::Instant::now()));
                        }
                    }
                    Some(Err(e)) => {
                        tracing::error!(error = format!("{e:#}"), "speech synthesis failed; the reply is cut short");
                        self.speaker.synthesis_done();
                    }
                    None => {
                        self.speaker.synthesis_done();
                        if let Some(spoken) = self.speaker.poll_finished(self.caller_samples) {
                            self.on_spoken(spoken);
                        }
                    }
                },
            }
        };
        self.finish(end).await
    }

    /// Performs a pending hang-up or transfer once the caller has heard the
    /// agent's last words.
    async fn end_if_done(&mut self) -> Option<StreamEnd> {
        if self.speaker.is_speaking() || self.hearing_out_last_words() {
            return None;
        }
        match self.after_speech.take()? {
            AfterSpeech::Listen => None,
            AfterSpeech::Hangup if self.goodbye_ours => Some(StreamEnd::ShutDown),
            AfterSpeech::Hangup => Some(StreamEnd::AgentHungUp),
            AfterSpeech::Transfer { number } => self.hand_over(number).await,
        }
    }

    async fn on_event(&mut self, event: CarrierEvent) -> Option<StreamEnd> {
        match event {
            CarrierEvent::Malformed(e) => {
                self.bad_messages += 1;
                tracing::warn!(error = %e, "unreadable media stream message; ignored");
                if self.bad_messages > MAX_BAD_MESSAGES {
                    tracing::warn!(
                        bad_messages = self.bad_messages,
                        "too many bad messages; closing the stream"
                    );
                    return Some(StreamEnd::Dropped);
                }
            }
            CarrierEvent::Audio(payload_mulaw) => self.on_caller_audio(&payload_mulaw),
            CarrierEvent::Mark(name) => {
                if let Some(spoken) = self.speaker.on_mark(&name, self.caller_samples) {
                    self.on_spoken(spoken);
                }
            }
            CarrierEvent::Dtmf(digit) => {
                tracing::info!("keypad digit pressed");
                self.last_activity_sample = self.caller_samples;
                if self.winding_down.is_none() {
                    self.converse(CallEvent::Dtmf(digit)).await;
                }
            }
            CarrierEvent::Stopped => return Some(StreamEnd::Stopped),
            CarrierEvent::Started(_) => {
                self.bad_messages += 1;
                tracing::warn!("a second start on one stream; ignored");
            }
        }
        None
    }

    fn on_caller_audio(&mut self, payload_mulaw: &[u8]) {
        let pcm = mulaw::decode_frame(payload_mulaw);
        if let Some(recording) = self.recording.as_mut()
            && let Err(e) = recording.push_caller(&pcm)
        {
            tracing::error!(
                error = format!("{e:#}"),
                "recording failed; the call goes on unrecorded"
            );
            self.recording = None;
        }
        self.caller_samples += pcm.len() as u64;
        self.arrivals
            .push(self.caller_samples, std::time::Instant::now());
        self.listener.push(pcm);
        self.check_held();
        self.check_silence();
    }

    /// Tells the conversation once the caller has been silent too long.
    fn check_silence(&mut self) {
        if self.silence_reported
            || self.caller_talking
            || self.utterances_pending > 0
            || self.held.is_some()
            || self.pending_event.is_some()
            || self.speaker.is_speaking()
            || self.after_speech.is_some()
        {
            return;
        }
        let silent_ms = (self.caller_samples - self.last_activity_sample) * 1000 / SAMPLE_RATE_HZ;
        if silent_ms >= self.services.silence_prompt_ms {
            self.silence_reported = true;
            self.pending_event = Some(CallEvent::Silence { silent_ms });
        }
    }

    async fn on_heard(&mut self, heard: Heard) {
        match heard {
            Heard::SpeechStarted { at_sample } => {
                self.caller_talking = true;
                self.last_activity_sample = at_sample;
                if self.speaker.is_speaking() && self.after_speech.is_none() {
                    tracing::info!("caller barged in; agent speech cleared");
                    self.reply_clock = None;
                    if let Some(recording) = self.recording.as_mut() {
                        recording.clear_agent_after(self.caller_samples);
                    }
                    match self
                        .speaker
                        .barge_in(self.caller_samples, self.carrier.as_mut())
                        .await
                    {
                        Ok(Some(spoken)) => self.on_spoken(spoken),
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "could not send clear"),
                    }
                }
            }
            Heard::Utterance {
                samples_16k,
                start_sample,
                end_sample,
            } => {
                self.caller_talking = false;
                self.last_activity_sample = end_sample;
                self.utterances_pending += 1;
                let seq = self.utterances_heard;
                self.utterances_heard += 1;
                let stt = self.services.stt.clone();
                let hint = self.listen_for.clone();
                let tx = self.transcripts_tx.clone();
                let turn_audio = self.turn_audio(&samples_16k);
                let end_of_turn = self.services.end_of_turn.clone();
                let speculation = self.speculation.take().and_then(|s| {
                    if s.matches(start_sample, end_sample) && s.claim.keep() {
                        Some(s)
                    } else {
                        s.task.abort();
                        None
                    }
                });
                tracing::debug!(speculated = speculation.is_some(), "utterance ended");
                tokio::spawn(
                    async move {
                        let early = match speculation {
                            Some(Speculation { task, .. }) => task.await.ok(),
                            None => None,
                        };
                        let mut recognition = match early {
                            // A saturated or lost guess is retried like any utterance.
                            Some(r) if r.result.is_ok() => r,
                            _ => Recognition::run(&stt, samples_16k, hint).await,
                        };
                        if recognition.turn_complete.is_none() {
                            recognition.turn_complete =
                                held::audio_verdict(end_of_turn, turn_audio.clone()).await;
                        }
                        // Waits while the queue is full; the call loop (or
                        // its end) takes every transcript.
                        let _ = tx
                            .send(Transcribed {
                                seq,
                                start_sample,
                                end_sample,
                                recognition,
                                turn_audio,
                            })
                            .await;
                    }
                    .in_current_span(),
                );
            }
            Heard::Paused {
                samples_16k,
                start_sample,
                end_sample,
            } => {
                if let Some(stale) = self.speculation.take() {
                    stale.task.abort();
                }
                // Queued even when every worker is busy: when the pause
                // ends the utterance (most do) the words are needed anyway,
                // 236 ms sooner; when speech resumes the job is dropped
                // (`Heard::Resumed`): at once if queued, after the encoder
                // if running (whisper.cpp asks no sooner). It takes only
                // free room, and gives it back to another call's needed
                // utterance.
                let started = std::time::Instant::now();
                let (end_of_turn, turn_audio) = (
                    self.services.end_of_turn.clone(),
                    self.turn_audio(&samples_16k),
                );
                let pending = match self
                    .services
                    .stt
                    .guess(samples_16k, self.listen_for.clone())
                {
                    Ok(pending) => pending,
                    Err(e) => {
                        tracing::debug!(error = %e, "no speculative recognition in this pause");
                        return;
                    }
                };
                let claim = pending.claim();
                let guesses = self.guesses_tx.clone();
                let task = tokio::spawn(
                    async move {
                        let mut recognition =
                            Recognition::timed(started, pending.transcript().await);
                        // The sound is asked only when the words already
                        // read as finished: it can only veto an early end.
                        if let Ok(text) = &recognition.result
                            && turn_end::sounds_finished(text)
                        {
                            recognition.turn_complete =
                                held::audio_verdict(end_of_turn, turn_audio).await;
                            // Full (a stalled loop): the guess is dropped
                            // and the turn ends at its usual end silence.
                            let _ = guesses.try_send(Guess {
                                start_sample,
                                end_sample,
                                finished: held::sounds_complete(recognition.turn_complete),
                            });
                        }
                        recognition
                    }
                    .in_current_span(),
                );
                self.speculation = Some(Speculation {
                    start_sample,
                    end_sample,
                    claim,
                    task,
                });
            }
            Heard::Resumed => {
                if let Some(stale) = self.speculation.take() {
                    stale.task.abort();
                }
            }
            Heard::Failed(reason) => {
                tracing::error!(reason = %reason, "the call can no longer hear the caller");
            }
        }
    }

    /// Semantic end of turn: a pause whose words already make a finished
    /// sentence ends the utterance now rather than after the full end
    /// silence. The listener ignores the request if the caller has spoken
    /// again since.
    fn on_guess(&mut self, guess: Guess) {
        let current = self
            .speculation
            .as_ref()
            .is_some_and(|s| s.matches(guess.start_sample, guess.end_sample));
        if current && guess.finished && self.services.endpoint.end_on_finished_sentence {
            tracing::debug!("a finished sentence in the pause; ending the turn early");
            self.listener
                .end_at_pause(guess.start_sample, guess.end_sample);
        }
    }

    async fn on_transcript(&mut self, done: Transcribed) {
        self.utterances_pending -= 1;
        let heard_at = std::time::Instant::now();
        let tail = u64::from(self.services.endpoint.tail_ms) * SAMPLE_RATE_HZ / 1000;
        let speech_end = self
            .arrivals
            .arrival_of(done.end_sample.saturating_sub(tail).saturating_sub(1))
            .unwrap_or(done.recognition.started);
        let turn_complete = done.recognition.turn_complete;
        let text = match done.recognition.result {
            Ok(text) => text.trim().to_string(),
            Err(SttError::Saturated { .. }) => {
                tracing::warn!("speech recognition saturated; asking the caller to repeat");
                self.speaker
                    .say(vec![crate::call::prompts::call_prompts().saturated.clone()]);
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "speech recognition failed for an utterance");
                return;
            }
        };
        if text.is_empty() {
            return;
        }
        // The rest of a held start: understood together.
        let held = self.held.take();
        let heard_alone = text.clone();
        let text = match &held {
            Some(h) => format!("{} {text}", h.text),
            None => text,
        };
        let nlu = self.services.nlu.clone();
        let today = self.info.started_local.date();
        let utterance = text.clone();
        let asked = self.conversation.asked();
        let understanding = match tokio::task::spawn_blocking(move || {
            nlu.understand_with(&utterance, today, asked)
        })
        .await
        {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(error = %e, "understanding failed");
                return;
            }
        };
        tracing::info!(intent = %understanding.intent, confidence = understanding.confidence, audio_ms = (done.end_sample - done.start_sample) / 8, "caller utterance");
        // Each utterance is its own turn in the transcript, as heard; the
        // labels are those of the words understood (joined with a held start).
        self.journal.record(Entry::Turn(NewTurn {
            speaker: Who::Caller,
            text: heard_alone,
            started_at_ms: (done.start_sample * 1000 / SAMPLE_RATE_HZ) as i64,
            ended_at_ms: (done.end_sample * 1000 / SAMPLE_RATE_HZ) as i64,
            intent: Some(understanding.intent.as_str().to_string()),
            confidence: Some(understanding.confidence),
            interrupted: false,
        }));
        self.silence_reported = false;
        if self.winding_down.is_some() {
            // Kept above; the agent is saying goodbye and will not answer.
            return;
        }
        let fragments = held.as_ref().map_or(0, |h| h.fragments);
        if let Some(wait_ms) = self.hold_as_start(&text, &understanding, turn_complete, fragments) {
            tracing::debug!(
                wait_ms,
                turn_complete,
                "the start of a sentence; held for the rest"
            );
            let now = std::time::Instant::now();
            self.held = Some(HeldWords {
                text,
                understanding,
                until_sample: self.caller_samples + wait_ms * SAMPLE_RATE_HZ / 1000,
                audio_16k: done.turn_audio,
                fragments: fragments + 1,
                clock: ReplyClock {
                    speech_end,
                    stt_started: done.recognition.started,
                    stt_done: done.recognition.done,
                    heard: now,
                    understood: now,
                    decided: now,
                },
            });
            return;
        }
        let understood = std::time::Instant::now();
        self.converse(CallEvent::Utterance {
            text,
            understanding,
        })
        .await;
        self.reply_clock = self.speaker.is_speaking().then(|| ReplyClock {
            speech_end,
            stt_started: done.recognition.started,
            stt_done: done.recognition.done,
            heard: heard_at,
            understood,
            decided: std::time::Instant::now(),
        });
    }

    fn on_spoken(&mut self, spoken: SpokenReply) {
        self.last_activity_sample = self.caller_samples;
        self.silence_reported = false;
        if spoken.heard.is_empty() && !spoken.interrupted {
            return;
        }
        self.journal.record(Entry::Turn(NewTurn {
            speaker: Who::Agent,
            text: spoken.heard.join(" "),
            started_at_ms: (spoken.started_sample * 1000 / SAMPLE_RATE_HZ) as i64,
            ended_at_ms: (spoken.ended_sample * 1000 / SAMPLE_RATE_HZ) as i64,
            intent: None,
            confidence: None,
            interrupted: spoken.interrupted,
        }));
    }

    /// Hands an event to the conversation and acts on its answer.
    async fn converse(&mut self, event: CallEvent) {
        let turn = match self.conversation.handle(event).await {
            Ok(turn) => turn,
            Err(e) => {
                tracing::error!(
                    error = format!("{e:#}"),
                    "the conversation failed; apologising"
                );
                AgentTurn {
                    say: vec![crate::call::prompts::call_prompts().internal_error.clone()],
                    ..Default::default()
                }
            }
        };
        self.act(turn);
    }

    fn act(&mut self, turn: AgentTurn) {
        if let Some(outcome) = turn.outcome {
            let outcome = transfer::pending_outcome(&turn.then, outcome);
            self.outcome = Some(outcome);
            self.journal.record(Entry::Outcome(outcome));
        }
        if let Some(patient_id) = turn.patient_id {
            self.journal.record(Entry::Patient(patient_id));
        }
        self.listen_for = turn.listen_for;
        if turn.then != AfterSpeech::Listen {
            self.after_speech = Some(turn.then);
        } else if !turn.say.is_empty() && !self.goodbye_ours {
            // Words heard during its goodbye made the conversation ask
            // something ("is this a medical emergency?"): it listens again.
            self.after_speech = None;
        }
        self.speaker.say(turn.say);
    }
}

mod ending;
mod held;
mod recognition;
mod transfer;

#[cfg(test)]
mod tests;
