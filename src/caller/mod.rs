//! `frontdesk call`: a local caller that behaves like Twilio towards a
//! running frontdesk server. It posts the voice webhook, opens the media
//! stream, plays caller audio (a WAV or a synthesised script), plays the
//! agent's audio back at call pace (echoing marks, honouring `clear`), and
//! measures how long the agent takes to answer.
//!
//! Time inside the call is counted in audio sent (20 ms per frame), never
//! wall-clock time, so a call at `--speed 10` behaves like one in real time
//! and latencies are comparable across speeds (see `STYLE.md`).
//!
//! Used by `frontdesk call`, the end-to-end tests and the latency bench.

mod cli;
pub mod noise;
mod playout;
mod script;
mod session;
mod signature;
pub mod talk_over;
mod twiml;
pub mod voice;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use futures_util::future::BoxFuture;
use serde::Serialize;
use url::Url;

pub use cli::{CallArgs, run_call_command, run_call_command_with};
pub use noise::{LineNoise, NoiseBed, NoiseKind};
pub use playout::{VOICED_ABS, is_voiced};
pub use script::{ScriptError, ScriptStep, StepAction, StepStart, load_wav_8k, parse_script};
pub use signature::{SIGNATURE_HEADER, twilio_signature};
pub use twiml::{StreamTwiml, TwimlError, parse_connect_stream};

/// Sample rate of everything the caller sends, plays and records.
pub const SAMPLE_RATE_HZ: u32 = 8000;
/// One Media Streams frame.
pub const FRAME_MS: u64 = 20;
pub const FRAME_SAMPLES: usize = 160;

/// The caller's voice for text scripts. Synthesis runs on a blocking
/// thread, before the call starts, so its speed never shows in latencies.
pub trait CallerSpeech: Send + Sync {
    /// Mono PCM16 at 8 kHz.
    fn synthesize(&self, text: &str) -> anyhow::Result<Vec<i16>>;
}

/// How to reach the server and how to behave on the call.
#[derive(Clone, Debug)]
pub struct CallerOptions {
    /// Where the server listens, e.g. `http://127.0.0.1:8080`.
    pub server: Url,
    /// The server's public URL (`FRONTDESK_PUBLIC_URL`), which signatures
    /// are computed over; defaults to `server`.
    pub public_url: Option<Url>,
    pub from: String,
    pub to: String,
    /// Call time per wall time: 1.0 is real time, 10.0 sends ten times faster.
    pub speed: f32,
    /// Sign requests like Twilio (`TWILIO_AUTH_TOKEN` of the server).
    pub auth_token: Option<String>,
    /// Agent silence (call time) after which it counts as having finished.
    pub agent_quiet_ms: u64,
    /// How long (call time) to wait for the agent to start answering.
    pub reply_timeout_ms: u64,
    /// Hang up after this much call time whatever happens.
    pub max_call_ms: u64,
    /// Connect the websocket to the host named in the TwiML instead of
    /// `server` (the path always comes from the TwiML).
    pub follow_twiml_host: bool,
    /// Post `CallStatus=completed` to `/telephony/twilio/status` at the end.
    pub status_callback: bool,
    /// Print the conversation to stdout as it happens.
    pub print_live: bool,
    /// Lose the line on purpose: `(step, ms)` drops the websocket (no
    /// `stop`, no close frame) `ms` of call time into script step `step`
    /// (from 0) while it plays, as a caller's network does mid-sentence.
    /// The call ends [`CallEnd::ConnectionLost`]. For fault tests.
    pub drop_in_step: Option<(usize, u64)>,
    /// Noise on the line: mixed into every frame the caller sends (its
    /// lines and the silences between them) before µ-law encoding, at an
    /// SNR against the caller's speech level. `None`: a clean line.
    pub noise: Option<LineNoise>,
}

impl CallerOptions {
    pub fn new(server: Url) -> CallerOptions {
        CallerOptions {
            server,
            public_url: None,
            from: "+15555550123".into(),
            to: "+15555550100".into(),
            speed: 1.0,
            auth_token: None,
            agent_quiet_ms: 400,
            reply_timeout_ms: 30_000,
            max_call_ms: 15 * 60_000,
            follow_twiml_host: false,
            status_callback: true,
            print_live: false,
            drop_in_step: None,
            noise: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnKind {
    Speech,
    Dtmf,
    Wait,
}

/// One caller step and the agent's answer to it.
#[derive(Clone, Debug, Serialize)]
pub struct Turn {
    pub kind: TurnKind,
    /// The text said, the WAV label, the digits or the wait.
    pub label: String,
    /// Set for synthesised lines.
    pub caller_text: Option<String>,
    pub caller_start_ms: u64,
    /// End of the caller's voiced audio (call time); for keys, when the
    /// last digit was sent.
    pub caller_end_ms: u64,
    /// Media frames the step occupied.
    pub caller_frames: u64,
    /// Call time at which the caller heard the agent's first voiced sample
    /// after `caller_end_ms`.
    pub agent_first_audio_ms: Option<u64>,
    /// Call time at which that sample's `media` message arrived.
    pub agent_first_arrival_ms: Option<u64>,
    /// `agent_first_audio_ms - caller_end_ms`.
    pub latency_ms: Option<u64>,
    /// The same on the wall clock (equals `latency_ms` only at speed 1).
    pub wall_latency_ms: Option<u64>,
    /// The agent had not started answering within `reply_timeout_ms`.
    pub reply_timed_out: bool,
    /// Talk-over: call times at which the agent started to speak (voiced
    /// audio after `agent_quiet_ms` of quiet) while this step was still
    /// unfinished, from `caller_start_ms` up to the end of its voiced
    /// audio (or of the call, if cut off). Speech steps only; empty when
    /// the agent let the caller finish. See [`talk_over`].
    pub talk_over_ms: Vec<u64>,
    /// Agent audio played from the end of this step until the next step
    /// ended (8 kHz, gaps left out).
    #[serde(skip)]
    pub agent_audio: Vec<i16>,
}

/// A mark sent back to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MarkEcho {
    pub name: String,
    pub call_ms: u64,
    /// Echoed because of a `clear`, not because its audio played.
    pub cleared: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallEnd {
    /// The script finished and the caller hung up (sent `stop`).
    CallerHungUp,
    /// The server closed the stream: the agent hung up or transferred.
    AgentHungUp,
    /// `max_call_ms` passed.
    MaxDuration,
    /// The connection failed mid-call (or was dropped on purpose,
    /// [`CallerOptions::drop_in_step`]).
    ConnectionLost(String),
}

#[derive(Clone, Debug, Serialize)]
pub struct CallReport {
    pub call_sid: String,
    pub account_sid: String,
    pub stream_sid: String,
    /// `<Parameter>`s of the TwiML, sent back in `start.customParameters`.
    pub custom_parameters: Vec<(String, String)>,
    pub speed: f32,
    /// Call time from `start` to the first voiced agent sample heard.
    pub greeting_latency_ms: Option<u64>,
    #[serde(skip)]
    pub greeting_audio: Vec<i16>,
    pub turns: Vec<Turn>,
    pub marks_echoed: Vec<MarkEcho>,
    pub clears_received: u32,
    pub end: CallEnd,
    /// Call time when the call ended.
    pub duration_ms: u64,
    /// Script steps not finished (never started or cut off) when the call ended.
    pub steps_not_run: usize,
    /// Agent audio still queued, unheard, when the call ended.
    pub unplayed_at_end_ms: u64,
    /// Messages from the server that broke the protocol, in order.
    pub protocol_errors: Vec<String>,
    /// Everything the caller heard, on the call's timeline (silence where
    /// nothing played), 8 kHz.
    #[serde(skip)]
    pub agent_audio: Vec<i16>,
    /// Everything the caller sent, on the same timeline, 8 kHz.
    #[serde(skip)]
    pub caller_audio: Vec<i16>,
}

impl CallReport {
    /// Writes what the caller heard as a mono 8 kHz WAV.
    pub fn save_agent_wav(&self, path: &Path) -> anyhow::Result<()> {
        write_wav(path, 1, self.agent_audio.iter().copied())
    }

    /// Writes the call as a stereo 8 kHz WAV: caller left, agent right.
    pub fn save_call_wav(&self, path: &Path) -> anyhow::Result<()> {
        let n = self.agent_audio.len().max(self.caller_audio.len());
        let at = |v: &[i16], i: usize| v.get(i).copied().unwrap_or(0);
        write_wav(
            path,
            2,
            (0..n).flat_map(|i| [at(&self.caller_audio, i), at(&self.agent_audio, i)]),
        )
    }
}

fn write_wav(path: &Path, channels: u16, samples: impl Iterator<Item = i16>) -> anyhow::Result<()> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: SAMPLE_RATE_HZ,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)
        .with_context(|| format!("creating {}", path.display()))?;
    for s in samples {
        writer.write_sample(s)?;
    }
    writer
        .finalize()
        .with_context(|| format!("writing {}", path.display()))
}

/// A step ready to play: text already synthesised.
pub(crate) struct PreparedStep {
    pub start: StepStart,
    pub kind: TurnKind,
    pub label: String,
    pub caller_text: Option<String>,
    pub action: PreparedAction,
}

pub(crate) enum PreparedAction {
    Audio(Vec<i16>),
    Dtmf(Vec<char>),
    Wait { ms: u64 },
}

/// Synthesises every text line up front, on a blocking thread.
async fn prepare(
    script: Vec<ScriptStep>,
    speech: Option<Arc<dyn CallerSpeech>>,
) -> anyhow::Result<Vec<PreparedStep>> {
    let needs_voice = script
        .iter()
        .any(|s| matches!(s.action, StepAction::Say(_)));
    anyhow::ensure!(
        !needs_voice || speech.is_some(),
        "the script has lines to say but no caller voice is available; use --wav or give a voice"
    );
    tokio::task::spawn_blocking(move || {
        script
            .into_iter()
            .enumerate()
            .map(|(i, step)| {
                let (kind, label, caller_text, action) = match step.action {
                    StepAction::Say(text) => {
                        let voice = speech.as_ref().expect("checked above");
                        let samples = voice
                            .synthesize(&text)
                            .with_context(|| format!("synthesising caller line {}", i + 1))?;
                        (
                            TurnKind::Speech,
                            text.clone(),
                            Some(text),
                            PreparedAction::Audio(samples),
                        )
                    }
                    StepAction::Audio { label, samples_8k } => (
                        TurnKind::Speech,
                        label,
                        None,
                        PreparedAction::Audio(samples_8k),
                    ),
                    StepAction::Dtmf(digits) => {
                        anyhow::ensure!(
                            script::valid_dtmf(&digits),
                            "step {}: invalid keys {digits:?}",
                            i + 1
                        );
                        (
                            TurnKind::Dtmf,
                            format!("#dtmf {digits}"),
                            None,
                            PreparedAction::Dtmf(digits.chars().collect()),
                        )
                    }
                    StepAction::Wait { ms } => (
                        TurnKind::Wait,
                        format!("#wait {ms}"),
                        None,
                        PreparedAction::Wait { ms },
                    ),
                };
                Ok(PreparedStep {
                    start: step.start,
                    kind,
                    label,
                    caller_text,
                    action,
                })
            })
            .collect()
    })
    .await
    .context("the synthesis thread failed")?
}

/// Chooses the caller's steps as the call goes, instead of a script fixed
/// before it (the scripted-call replay's answering caller).
pub trait Director: Send + Sync {
    /// The agent has answered the last step (or greeted) and fallen quiet:
    /// the caller's next step, or `None` to hang up. The call keeps its
    /// clock (the caller is silent) while this runs.
    fn next_step(self: Arc<Self>) -> BoxFuture<'static, anyhow::Result<Option<ScriptStep>>>;

    /// Lines it may say, synthesised before the call so that choosing one
    /// costs the caller no time on the line (a caller slow to answer hears
    /// "are you still there?").
    fn lines(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A [`Director`], the voice its lines are said in, and the lines
/// synthesised before the call.
#[derive(Clone)]
pub(crate) struct Directed {
    director: Arc<dyn Director>,
    speech: Option<Arc<dyn CallerSpeech>>,
    voiced: Arc<std::collections::HashMap<String, Vec<i16>>>,
}

impl Directed {
    async fn new(
        director: Arc<dyn Director>,
        speech: Option<Arc<dyn CallerSpeech>>,
    ) -> anyhow::Result<Directed> {
        let lines: Vec<ScriptStep> = director.lines().into_iter().map(ScriptStep::say).collect();
        let voiced = prepare(lines, speech.clone())
            .await?
            .into_iter()
            .filter_map(|step| match (step.caller_text, step.action) {
                (Some(text), PreparedAction::Audio(samples)) => Some((text, samples)),
                _ => None,
            })
            .collect();
        Ok(Directed {
            director,
            speech,
            voiced: Arc::new(voiced),
        })
    }

    /// The next step, synthesised.
    pub(crate) fn next(&self) -> BoxFuture<'static, anyhow::Result<Option<PreparedStep>>> {
        let (director, speech, voiced) = (
            self.director.clone(),
            self.speech.clone(),
            self.voiced.clone(),
        );
        Box::pin(async move {
            let Some(step) = director.next_step().await? else {
                return Ok(None);
            };
            if let StepAction::Say(text) = &step.action
                && let Some(samples) = voiced.get(text)
            {
                return Ok(Some(PreparedStep {
                    start: step.start,
                    kind: TurnKind::Speech,
                    label: text.clone(),
                    caller_text: Some(text.clone()),
                    action: PreparedAction::Audio(samples.clone()),
                }));
            }
            Ok(prepare(vec![step], speech).await?.pop())
        })
    }
}

/// Places one call: webhook, media stream, script, hang-up.
pub async fn place_call(
    opts: &CallerOptions,
    script: Vec<ScriptStep>,
    speech: Option<Arc<dyn CallerSpeech>>,
) -> anyhow::Result<CallReport> {
    check_speed(opts)?;
    let steps = prepare(script, speech).await?;
    session::run(opts, steps, None).await
}

/// Places one call whose steps `director` chooses as the call goes.
pub async fn place_directed_call(
    opts: &CallerOptions,
    director: Arc<dyn Director>,
    speech: Option<Arc<dyn CallerSpeech>>,
) -> anyhow::Result<CallReport> {
    check_speed(opts)?;
    let directed = Directed::new(director, speech).await?;
    session::run(opts, Vec::new(), Some(directed)).await
}

fn check_speed(opts: &CallerOptions) -> anyhow::Result<()> {
    anyhow::ensure!(
        opts.speed.is_finite() && (0.05..=1000.0).contains(&opts.speed),
        "speed must be between 0.05 and 1000, not {}",
        opts.speed
    );
    Ok(())
}
