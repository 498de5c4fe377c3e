//! One call from the caller's side: the voice webhook, then the media
//! stream loop. Each 20 ms tick of call time plays one frame of the agent's
//! audio, sends one frame of caller audio, and returns the marks that
//! became due; server messages are handled between ticks.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::future::BoxFuture;
use futures_util::{Sink, SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use url::Url;

use super::noise::{DEFAULT_SPEECH_LEVEL, NoiseSource, speech_level};
use super::playout::{Playout, is_voiced};
use super::signature::{SIGNATURE_HEADER, twilio_signature};
use super::twiml::{StreamTwiml, parse_connect_stream};
use super::{
    CallEnd, CallReport, CallerOptions, Directed, FRAME_MS, FRAME_SAMPLES, MarkEcho,
    PreparedAction, PreparedStep, StepStart, Turn, TurnKind, talk_over,
};
use crate::audio::mulaw;

const SAMPLES_PER_MS: u64 = 8;
/// Keys of one `#dtmf` step are sent this far apart.
const DTMF_GAP_FRAMES: usize = 5;
/// µ-law code for a zero sample: what the line carries when nobody speaks.
const MULAW_SILENCE: u8 = 0xFF;

/// `AC…`, `CA…`, `MZ…`: a prefix and 32 lowercase hex digits, like Twilio.
fn twilio_sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// `base` + `path`, keeping any path prefix of `base`.
fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_path(&format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    ));
    url.set_query(None);
    url.set_fragment(None);
    url
}

pub(super) async fn run(
    opts: &CallerOptions,
    steps: Vec<PreparedStep>,
    directed: Option<Directed>,
) -> anyhow::Result<CallReport> {
    let account_sid = twilio_sid("AC");
    let call_sid = twilio_sid("CA");
    let stream_sid = twilio_sid("MZ");
    let http = reqwest::Client::new();
    let base_params = vec![
        ("AccountSid".to_string(), account_sid.clone()),
        ("ApiVersion".to_string(), "2010-04-01".to_string()),
        ("CallSid".to_string(), call_sid.clone()),
        ("Called".to_string(), opts.to.clone()),
        ("Caller".to_string(), opts.from.clone()),
        ("Direction".to_string(), "inbound".to_string()),
        ("From".to_string(), opts.from.clone()),
        ("To".to_string(), opts.to.clone()),
    ];
    let mut voice_params = base_params.clone();
    voice_params.push(("CallStatus".to_string(), "ringing".to_string()));
    let twiml = post_voice_webhook(&http, opts, &voice_params).await?;
    tracing::info!(call_sid = %call_sid, stream_sid = %stream_sid, "call answered, opening the media stream");

    let connect_url = if opts.follow_twiml_host {
        Url::parse(&twiml.url).context("stream URL")?
    } else {
        let mut url = opts.server.clone();
        let scheme = if opts.server.scheme() == "https" {
            "wss"
        } else {
            "ws"
        };
        url.set_scheme(scheme)
            .map_err(|_| anyhow::anyhow!("cannot use {} for a websocket", opts.server))?;
        let twiml_url = Url::parse(&twiml.url).context("stream URL")?;
        url.set_path(twiml_url.path());
        url.set_query(None);
        url
    };
    let mut request = connect_url
        .as_str()
        .into_client_request()
        .context("building the websocket request")?;
    if let Some(token) = &opts.auth_token {
        let signature = twilio_signature(token, &twiml.url, &[]);
        request
            .headers_mut()
            .insert(SIGNATURE_HEADER, HeaderValue::from_str(&signature)?);
    }
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .with_context(|| format!("opening the media stream at {connect_url}"))?;
    let (mut sink, mut incoming) = socket.split();

    let noise = opts
        .noise
        .as_ref()
        .map(|noise| noise.source(caller_speech_level(&steps, directed.as_ref())));
    let mut call = Call::new(
        opts,
        account_sid,
        call_sid,
        stream_sid,
        twiml.parameters.clone(),
        steps,
    );
    call.directed = directed.is_some();
    call.noise = noise;
    call.live(format!(
        "stream {} open at {connect_url} (speed {}×)",
        call.stream_sid, opts.speed
    ));
    sink.send(text(
        json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
    ))
    .await?;
    let start = call.start_message();
    sink.send(text(start)).await?;

    let period = Duration::from_secs_f64(FRAME_MS as f64 / 1000.0 / opts.speed as f64);
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    // The director's next step while it is being chosen.
    let mut choosing: Option<BoxFuture<'static, anyhow::Result<Option<PreparedStep>>>> = None;
    let end = loop {
        if let Some(directed) = &directed
            && choosing.is_none()
            && call.wants_direction()
        {
            choosing = Some(directed.next());
        }
        tokio::select! {
            biased;
            chosen = async { choosing.as_mut().expect("guarded").await }, if choosing.is_some() => {
                choosing = None;
                call.directed_step(chosen);
            }
            message = incoming.next() => match message {
                None | Some(Ok(Message::Close(_))) => break CallEnd::AgentHungUp,
                Some(Err(e)) => break CallEnd::ConnectionLost(e.to_string()),
                Some(Ok(Message::Text(body))) => {
                    let replies = call.on_server_message(body.as_str());
                    send_all(&mut sink, replies).await?;
                }
                Some(Ok(Message::Binary(_))) => call.protocol_error("binary frame (Twilio takes JSON text)".into()),
                Some(Ok(_)) => {}
            },
            _ = ticker.tick() => {
                let (messages, end) = call.tick(Instant::now());
                if let Err(e) = send_all(&mut sink, messages).await {
                    break CallEnd::ConnectionLost(e.to_string());
                }
                if let Some(end) = end {
                    break end;
                }
            }
        }
    };
    if matches!(end, CallEnd::CallerHungUp | CallEnd::MaxDuration) {
        let stop = call.stop_message();
        sink.send(text(stop)).await.context("sending stop")?;
        let _ = sink.send(Message::Close(None)).await;
        // Let the server see the close; do not wait for it long.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(_)) = incoming.next().await {}
        })
        .await;
    }
    // The line is gone before the carrier reports the call's end.
    drop(sink);
    drop(incoming);
    let mut report = call.finish(end);
    if opts.status_callback {
        let mut params = base_params;
        params.push(("CallStatus".to_string(), "completed".to_string()));
        params.push((
            "CallDuration".to_string(),
            report.duration_ms.div_ceil(1000).to_string(),
        ));
        if let Err(e) = post_signed(&http, opts, "telephony/twilio/status", &params).await {
            report
                .protocol_errors
                .push(format!("status callback: {e:#}"));
        }
    }
    Ok(report)
}

/// The caller's active speech level over every line known before the call
/// (the script's, or the lines a director synthesised up front), which the
/// noise's SNR is relative to.
fn caller_speech_level(steps: &[PreparedStep], directed: Option<&Directed>) -> f32 {
    let scripted = steps.iter().filter_map(|step| match &step.action {
        PreparedAction::Audio(samples) => Some(samples.as_slice()),
        _ => None,
    });
    let voiced = directed
        .into_iter()
        .flat_map(|d| d.voiced.values().map(Vec::as_slice));
    speech_level(scripted.chain(voiced)).unwrap_or(DEFAULT_SPEECH_LEVEL)
}

fn text(value: Value) -> Message {
    Message::Text(value.to_string().into())
}

async fn send_all<S>(sink: &mut S, messages: Vec<Value>) -> Result<(), tungstenite::Error>
where
    S: Sink<Message, Error = tungstenite::Error> + Unpin,
{
    for m in messages {
        sink.feed(text(m)).await?;
    }
    sink.flush().await
}

/// Posts a signed form to `path` on the server; returns the response body.
async fn post_signed(
    http: &reqwest::Client,
    opts: &CallerOptions,
    path: &str,
    params: &[(String, String)],
) -> anyhow::Result<String> {
    let url = endpoint(&opts.server, path);
    let signed_url = endpoint(opts.public_url.as_ref().unwrap_or(&opts.server), path);
    let mut request = http.post(url.clone()).form(params);
    if let Some(token) = &opts.auth_token {
        request = request.header(
            SIGNATURE_HEADER,
            twilio_signature(token, signed_url.as_str(), params),
        );
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .with_context(|| format!("reading the answer of POST {url}"))?;
    anyhow::ensure!(
        status.is_success(),
        "POST {url} answered {status}: {}",
        body.chars().take(200).collect::<String>()
    );
    Ok(body)
}

async fn post_voice_webhook(
    http: &reqwest::Client,
    opts: &CallerOptions,
    params: &[(String, String)],
) -> anyhow::Result<StreamTwiml> {
    let body = post_signed(http, opts, "telephony/twilio/voice", params).await?;
    parse_connect_stream(&body).context("reading the voice webhook's TwiML")
}

/// Why a call dropped on purpose ended ([`CallerOptions::drop_in_step`]).
const DROPPED: &str = "the caller dropped the line on purpose";

/// The step being played.
struct Active {
    turn: usize,
    action: PreparedAction,
    /// Samples, digits or milliseconds done so far.
    pos: usize,
}

struct Call<'o> {
    opts: &'o CallerOptions,
    account_sid: String,
    call_sid: String,
    stream_sid: String,
    custom_parameters: Vec<(String, String)>,
    /// Last sequence number sent.
    seq: u64,
    /// Last media chunk number sent.
    chunk: u64,
    /// Call time at the start of the next frame.
    now_ms: u64,
    playout: Playout,
    pending: VecDeque<PreparedStep>,
    active: Option<Active>,
    /// The turn whose answer the agent audio belongs to (None: greeting).
    listening: Option<usize>,
    turns: Vec<Turn>,
    /// Wall instant at each turn's `caller_end_ms`.
    turn_end_wall: Vec<Instant>,
    greeting_first_ms: Option<u64>,
    greeting_audio: Vec<i16>,
    /// End (call ms) of the latest voiced agent sample heard.
    last_voiced_end_ms: Option<u64>,
    agent_talking: bool,
    agent_audio: Vec<i16>,
    caller_audio: Vec<i16>,
    marks_echoed: Vec<MarkEcho>,
    clears_received: u32,
    protocol_errors: Vec<String>,
    /// Steps come from a director as the call goes.
    directed: bool,
    /// The director has no more steps.
    direction_over: bool,
    /// Noise on the line, added to every frame sent.
    noise: Option<NoiseSource>,
}

impl<'o> Call<'o> {
    fn new(
        opts: &'o CallerOptions,
        account_sid: String,
        call_sid: String,
        stream_sid: String,
        custom_parameters: Vec<(String, String)>,
        steps: Vec<PreparedStep>,
    ) -> Call<'o> {
        Call {
            opts,
            account_sid,
            call_sid,
            stream_sid,
            custom_parameters,
            seq: 0,
            chunk: 0,
            now_ms: 0,
            playout: Playout::default(),
            pending: steps.into(),
            active: None,
            listening: None,
            turns: Vec::new(),
            turn_end_wall: Vec::new(),
            greeting_first_ms: None,
            greeting_audio: Vec::new(),
            last_voiced_end_ms: None,
            agent_talking: false,
            agent_audio: Vec::new(),
            caller_audio: Vec::new(),
            marks_echoed: Vec::new(),
            clears_received: 0,
            protocol_errors: Vec::new(),
            directed: false,
            direction_over: false,
            noise: None,
        }
    }

    fn live(&self, line: String) {
        if self.opts.print_live {
            println!("[{:>8.3}] {line}", self.now_ms as f64 / 1000.0);
        }
    }

    fn next_seq(&mut self) -> String {
        self.seq += 1;
        self.seq.to_string()
    }

    fn start_message(&mut self) -> Value {
        let params: serde_json::Map<String, Value> = self
            .custom_parameters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({
            "event": "start",
            "sequenceNumber": self.next_seq(),
            "start": {
                "accountSid": self.account_sid,
                "streamSid": self.stream_sid,
                "callSid": self.call_sid,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": params,
            },
            "streamSid": self.stream_sid,
        })
    }

    fn stop_message(&mut self) -> Value {
        json!({
            "event": "stop",
            "sequenceNumber": self.next_seq(),
            "streamSid": self.stream_sid,
            "stop": {"accountSid": self.account_sid, "callSid": self.call_sid},
        })
    }

    fn mark_echo(&mut self, name: String, cleared: bool) -> Value {
        let message = json!({
            "event": "mark",
            "sequenceNumber": self.next_seq(),
            "streamSid": self.stream_sid,
            "mark": {"name": name},
        });
        self.live(format!(
            "mark    echoed {name:?}{}",
            if cleared { " (cleared)" } else { "" }
        ));
        self.marks_echoed.push(MarkEcho {
            name,
            call_ms: self.now_ms,
            cleared,
        });
        message
    }

    fn protocol_error(&mut self, what: String) {
        tracing::warn!(stream_sid = %self.stream_sid, error = %what, "server broke the media stream protocol");
        self.live(format!("protocol error: {what}"));
        self.protocol_errors.push(what);
    }

    /// Handles one server message; returns the messages to send back.
    fn on_server_message(&mut self, body: &str) -> Vec<Value> {
        let message: Value = match serde_json::from_str(body) {
            Ok(v) => v,
            Err(e) => {
                self.protocol_error(format!("not JSON ({e})"));
                return Vec::new();
            }
        };
        let event = message["event"].as_str().unwrap_or("");
        if message["streamSid"].as_str() != Some(self.stream_sid.as_str()) {
            self.protocol_error(format!("{event:?} message without our streamSid"));
            return Vec::new();
        }
        match event {
            "media" => {
                let Some(payload) = message["media"]["payload"].as_str() else {
                    self.protocol_error("media without payload".into());
                    return Vec::new();
                };
                match BASE64.decode(payload) {
                    Ok(codes) => self.playout.push(self.now_ms, mulaw::decode_frame(&codes)),
                    Err(e) => self.protocol_error(format!("media payload is not base64 ({e})")),
                }
                Vec::new()
            }
            "mark" => {
                match message["mark"]["name"].as_str() {
                    Some(name) => self.playout.mark(name.to_string()),
                    None => self.protocol_error("mark without a name".into()),
                }
                Vec::new()
            }
            "clear" => {
                self.clears_received += 1;
                let dropped_ms = self.playout.pending_samples() / SAMPLES_PER_MS;
                let names = self.playout.clear();
                self.live(format!(
                    "clear   received: {dropped_ms} ms of agent audio dropped, {} marks returned",
                    names.len()
                ));
                names.into_iter().map(|n| self.mark_echo(n, true)).collect()
            }
            other => {
                self.protocol_error(format!("unknown event {other:?}"));
                Vec::new()
            }
        }
    }

    /// One frame of call time. Returns the messages to send and whether the
    /// call is over.
    fn tick(&mut self, wall: Instant) -> (Vec<Value>, Option<CallEnd>) {
        let t = self.now_ms;
        if let (Some((step, after_ms)), Some(active)) = (self.opts.drop_in_step, &self.active)
            && active.turn == step
            && t >= self.turns[step].caller_start_ms + after_ms
        {
            self.live("caller  loses the line".into());
            return (Vec::new(), Some(CallEnd::ConnectionLost(DROPPED.into())));
        }
        if t >= self.opts.max_call_ms {
            self.live("caller  hangs up: maximum call length reached".into());
            return (Vec::new(), Some(CallEnd::MaxDuration));
        }
        if self.active.is_none()
            && self.pending.is_empty()
            && (!self.directed || self.direction_over)
            && self.may_start(StepStart::AfterAgent { pause_ms: 0 }, t)
        {
            self.live("caller  hangs up".into());
            return (Vec::new(), Some(CallEnd::CallerHungUp));
        }
        // 1. The agent's audio for [t, t + 20 ms).
        let drained = self.playout.drain(FRAME_SAMPLES);
        let mut offset = 0usize;
        for run in &drained.runs {
            for (i, &sample) in run.samples.iter().enumerate() {
                self.heard(t, wall, offset + i, sample, run.arrival_ms);
            }
            offset += run.samples.len();
        }
        self.agent_audio
            .extend(drained.runs.iter().flat_map(|r| r.samples.iter().copied()));
        self.agent_audio
            .resize(self.agent_audio.len() + FRAME_SAMPLES - offset, 0);
        let frame_end = t + FRAME_MS;
        if self.agent_talking && self.agent_quiet_at(frame_end, 0) {
            self.agent_talking = false;
            self.live("agent   quiet".into());
        }

        // 2. The caller's frame.
        let mut out = Vec::new();
        if self.active.is_none()
            && let Some(start) = self.pending.front().map(|step| step.start)
            && self.may_start(start, t)
        {
            self.start_step(t);
        }
        let (samples, digit) = self.caller_frame(t, wall);
        if let Some(digit) = digit {
            out.push(json!({
                "event": "dtmf",
                "streamSid": self.stream_sid,
                "sequenceNumber": self.next_seq(),
                "dtmf": {"track": "inbound_track", "digit": digit.to_string()},
            }));
        }
        // The line's noise is on the caller's words and between them.
        let samples = match self.noise.as_mut() {
            Some(noise) => {
                let mut frame = samples.unwrap_or_else(|| vec![0; FRAME_SAMPLES]);
                noise.mix(&mut frame);
                Some(frame)
            }
            None => samples,
        };
        let codes = match &samples {
            Some(s) => mulaw::encode_frame(s),
            None => vec![MULAW_SILENCE; FRAME_SAMPLES],
        };
        self.caller_audio
            .extend(samples.unwrap_or_else(|| vec![0; FRAME_SAMPLES]));
        self.chunk += 1;
        out.push(json!({
            "event": "media",
            "sequenceNumber": self.next_seq(),
            "media": {
                "track": "inbound",
                "chunk": self.chunk.to_string(),
                "timestamp": t.to_string(),
                "payload": BASE64.encode(&codes),
            },
            "streamSid": self.stream_sid,
        }));
        self.now_ms = frame_end;

        // 3. Marks whose audio has now been heard.
        for name in drained.marks {
            out.push(self.mark_echo(name, false));
        }
        (out, None)
    }

    /// The caller heard `sample`, the `index`-th of the frame starting at `t`.
    fn heard(&mut self, t: u64, wall: Instant, index: usize, sample: i16, arrival_ms: u64) {
        match self.listening {
            None => self.greeting_audio.push(sample),
            Some(turn) => self.turns[turn].agent_audio.push(sample),
        }
        if !is_voiced(sample) {
            return;
        }
        let at_ms = t + index as u64 / SAMPLES_PER_MS;
        self.last_voiced_end_ms = Some(t + (index as u64 + 1).div_ceil(SAMPLES_PER_MS));
        let first = match self.listening {
            None if self.greeting_first_ms.is_none() => {
                self.greeting_first_ms = Some(at_ms);
                self.live(format!("agent   speaking: greeting after {at_ms} ms"));
                true
            }
            Some(i)
                if self.turns[i].agent_first_audio_ms.is_none()
                    && at_ms >= self.turns[i].caller_end_ms =>
            {
                let heard_wall = wall + self.call_to_wall(at_ms - t);
                let wall_latency = heard_wall
                    .saturating_duration_since(self.turn_end_wall[i])
                    .as_millis() as u64;
                let turn = &mut self.turns[i];
                turn.agent_first_audio_ms = Some(at_ms);
                turn.agent_first_arrival_ms = Some(arrival_ms);
                let latency = at_ms - turn.caller_end_ms;
                turn.latency_ms = Some(latency);
                turn.wall_latency_ms = Some(wall_latency);
                self.live(format!(
                    "agent   speaking: latency {latency} ms (wall clock {wall_latency} ms)"
                ));
                true
            }
            _ => false,
        };
        if !first && !self.agent_talking {
            self.live("agent   speaking".into());
        }
        self.agent_talking = true;
    }

    fn call_to_wall(&self, call_ms: u64) -> Duration {
        Duration::from_secs_f64(call_ms as f64 / 1000.0 / self.opts.speed as f64)
    }

    /// No voiced agent audio waiting and none heard for the quiet window.
    fn agent_quiet_at(&self, t: u64, pause_ms: u64) -> bool {
        let gap_ms = self.opts.agent_quiet_ms.max(pause_ms);
        !self.playout.voiced_pending()
            && self.last_voiced_end_ms.is_none_or(|end| t >= end + gap_ms)
    }

    /// Whether a director should choose the next step now: nothing playing
    /// or pending, and the agent has answered and fallen quiet.
    fn wants_direction(&mut self) -> bool {
        self.directed
            && !self.direction_over
            && self.active.is_none()
            && self.pending.is_empty()
            && self.may_start(StepStart::AfterAgent { pause_ms: 0 }, self.now_ms)
    }

    /// What the director chose: a step to play, or the end of the call
    /// (when it has nothing more to say, or failed: said in the report).
    fn directed_step(&mut self, chosen: anyhow::Result<Option<PreparedStep>>) {
        match chosen {
            Ok(Some(step)) => self.pending.push_back(step),
            Ok(None) => self.direction_over = true,
            Err(e) => {
                self.protocol_error(format!("the caller could not choose its next line: {e:#}"));
                self.direction_over = true;
            }
        }
    }

    /// Whether the next step (or the hang-up) may start at call time `t`.
    fn may_start(&mut self, start: StepStart, t: u64) -> bool {
        // What the agent is answering: the last turn, or the call itself.
        let (ended_ms, first_ms, expects_reply) = match self.turns.last() {
            None => (0, self.greeting_first_ms, true),
            Some(turn) => (
                turn.caller_end_ms,
                turn.agent_first_audio_ms,
                turn.kind != TurnKind::Wait,
            ),
        };
        let timed_out =
            first_ms.is_none() && expects_reply && t >= ended_ms + self.opts.reply_timeout_ms;
        if timed_out
            && let Some(turn) = self.turns.last_mut()
            && !turn.reply_timed_out
        {
            turn.reply_timed_out = true;
            self.live(format!(
                "agent   no answer within {} ms",
                self.opts.reply_timeout_ms
            ));
        }
        match start {
            StepStart::At { call_ms } => t >= call_ms,
            StepStart::BargeIn { after_ms } => match first_ms {
                Some(first) => t >= first + after_ms,
                None => timed_out,
            },
            StepStart::AfterAgent { pause_ms } => {
                (first_ms.is_some() || !expects_reply || timed_out)
                    && self.agent_quiet_at(t, pause_ms)
            }
        }
    }

    fn start_step(&mut self, t: u64) {
        let step = self.pending.pop_front().expect("a pending step");
        let turn = self.turns.len();
        let what = match (&step.action, &step.caller_text) {
            (PreparedAction::Audio(_), Some(text)) => format!("says {text:?}"),
            (PreparedAction::Audio(s), None) => {
                format!(
                    "plays {} ({} ms)",
                    step.label,
                    s.len() as u64 / SAMPLES_PER_MS
                )
            }
            (PreparedAction::Dtmf(d), _) => format!("presses {}", d.iter().collect::<String>()),
            (PreparedAction::Wait { ms }, _) => format!("stays silent for {ms} ms"),
        };
        self.live(format!("caller  {what}"));
        tracing::debug!(stream_sid = %self.stream_sid, turn, "caller step started");
        self.turns.push(Turn {
            kind: step.kind,
            label: step.label,
            caller_text: step.caller_text,
            caller_start_ms: t,
            caller_end_ms: t,
            caller_frames: 0,
            agent_first_audio_ms: None,
            agent_first_arrival_ms: None,
            latency_ms: None,
            wall_latency_ms: None,
            reply_timed_out: false,
            talk_over_ms: Vec::new(),
            agent_audio: Vec::new(),
        });
        self.turn_end_wall.push(Instant::now());
        self.active = Some(Active {
            turn,
            action: step.action,
            pos: 0,
        });
    }

    /// The caller's samples for the frame at `t` (None: silence) and a key
    /// to press before it; finishes the active step when it is done.
    fn caller_frame(&mut self, t: u64, wall: Instant) -> (Option<Vec<i16>>, Option<char>) {
        let Some(active) = self.active.as_mut() else {
            return (None, None);
        };
        let turn = active.turn;
        self.turns[turn].caller_frames += 1;
        let (samples, digit, end_ms) = match &active.action {
            PreparedAction::Audio(audio) => {
                let from = active.pos.min(audio.len());
                let to = (from + FRAME_SAMPLES).min(audio.len());
                let mut frame = audio[from..to].to_vec();
                frame.resize(FRAME_SAMPLES, 0);
                active.pos = to;
                let end_ms = (to == audio.len()).then(|| {
                    // The end of speech is the last voiced sample, not trailing silence.
                    let voiced_end = audio
                        .iter()
                        .rposition(|&s| is_voiced(s))
                        .map(|i| i + 1)
                        .unwrap_or(audio.len());
                    self.turns[turn].caller_start_ms + (voiced_end as u64).div_ceil(SAMPLES_PER_MS)
                });
                (Some(frame), None, end_ms)
            }
            PreparedAction::Dtmf(digits) => {
                let frame_index = self.turns[turn].caller_frames as usize - 1;
                let digit = frame_index
                    .is_multiple_of(DTMF_GAP_FRAMES)
                    .then(|| digits.get(frame_index / DTMF_GAP_FRAMES))
                    .flatten();
                if digit.is_some() {
                    active.pos += 1;
                }
                let end_ms = (active.pos == digits.len()).then_some(t);
                (None, digit.copied(), end_ms)
            }
            PreparedAction::Wait { ms } => {
                active.pos += FRAME_MS as usize;
                let end_ms = (active.pos as u64 >= *ms).then_some(t + FRAME_MS);
                (None, None, end_ms)
            }
        };
        if let Some(end_ms) = end_ms {
            self.active = None;
            self.turns[turn].caller_end_ms = end_ms;
            self.turn_end_wall[turn] = wall + self.call_to_wall(end_ms.saturating_sub(t));
            self.listening = Some(turn);
            self.live(format!("caller  done at {:.3} s", end_ms as f64 / 1000.0));
        }
        (samples, digit)
    }

    /// Fills each speech turn's `talk_over_ms` from what the caller heard.
    fn mark_talk_over(&mut self) {
        let onsets = talk_over::agent_onsets(&self.agent_audio, self.opts.agent_quiet_ms);
        let cut_off = self.active.as_ref().map(|a| a.turn);
        for (i, turn) in self.turns.iter_mut().enumerate() {
            if turn.kind != TurnKind::Speech {
                continue;
            }
            let end_ms = if cut_off == Some(i) {
                self.now_ms
            } else {
                turn.caller_end_ms
            };
            turn.talk_over_ms = talk_over::onsets_within(&onsets, turn.caller_start_ms, end_ms);
        }
    }

    fn finish(mut self, end: CallEnd) -> CallReport {
        let reason = match &end {
            CallEnd::CallerHungUp => "caller hung up".to_string(),
            CallEnd::AgentHungUp => "the agent closed the stream".to_string(),
            CallEnd::MaxDuration => "maximum call length".to_string(),
            CallEnd::ConnectionLost(e) => format!("connection lost: {e}"),
        };
        self.live(format!("call    ended: {reason}"));
        tracing::info!(call_sid = %self.call_sid, duration_ms = self.now_ms, "call ended");
        self.mark_talk_over();
        CallReport {
            call_sid: self.call_sid,
            account_sid: self.account_sid,
            stream_sid: self.stream_sid,
            custom_parameters: self.custom_parameters,
            speed: self.opts.speed,
            greeting_latency_ms: self.greeting_first_ms,
            greeting_audio: self.greeting_audio,
            turns: self.turns,
            marks_echoed: self.marks_echoed,
            clears_received: self.clears_received,
            end,
            duration_ms: self.now_ms,
            steps_not_run: self.pending.len() + usize::from(self.active.is_some()),
            unplayed_at_end_ms: self.playout.pending_samples() / SAMPLES_PER_MS,
            protocol_errors: self.protocol_errors,
            agent_audio: self.agent_audio,
            caller_audio: self.caller_audio,
        }
    }
}
