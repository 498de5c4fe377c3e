//! Test helpers: the real application on port 0 with a fresh SQLite
//! database, models loaded once per test binary, and the shared corpus.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use frontdesk::app::{Application, Engines};
use frontdesk::settings::{self, Settings};

/// The flows the issue names, each with the scripted call that covers it
/// (`fixtures/calls/`): the phone replays assert them by name.
pub const NAMED_FLOWS: &[(&str, &str)] = &[
    ("booking with a named provider", "book_named_provider"),
    ("reschedule", "reschedule_step_by_step"),
    ("cancellation", "cancel_appointment"),
    ("FAQ: hours", "hours_question"),
    ("FAQ: location and parking", "location_and_parking"),
    ("FAQ: insurance", "insurance_accepted"),
    ("FAQ: new patients", "new_patient_question_then_booking"),
    ("billing queue", "billing_after_hours"),
    ("clinical queue: refill", "prescription_refill"),
    ("clinical queue: results", "test_results"),
    ("clinical queue: clinical question", "clinical_question"),
    ("records queue", "records_request"),
    (
        "front desk queue: speak to staff",
        "speak_to_staff_after_hours",
    ),
    (
        "unknown insurance to the billing queue",
        "insurance_unknown_after_hours",
    ),
    (
        "emergency that starts as a booking",
        "emergency_mid_booking",
    ),
    ("everything in one breath", "book_new_caller_all_in_one"),
    (
        "operator after being misunderstood",
        "operator_after_misunderstanding",
    ),
];

/// The real models, loaded once per test binary (they take seconds).
pub fn engines() -> Engines {
    static ENGINES: OnceLock<Engines> = OnceLock::new();
    ENGINES
        .get_or_init(|| {
            let settings = settings::for_data_dir(std::env::temp_dir().as_path());
            Engines::load(&settings)
                .expect("models load (run `frontdesk models` / `make models` first)")
        })
        .clone()
}

/// A running server.
pub struct TestApp {
    pub port: u16,
    pub base_url: String,
    pub admin_token: String,
    pub data_dir: tempfile::TempDir,
    pub client: reqwest::Client,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// GET with the admin token, parsed as JSON.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .unwrap();
        json_reply(response).await
    }
}

/// Starts the application with settings adjusted by `tweak`.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = settings::for_data_dir(data_dir.path());
    settings.admin_token = Some("test-admin-token".into());
    // Tests try many bad tokens from 127.0.0.1 on purpose (the route
    // table); the sign-in limit has its own test (`staff_audit`).
    settings.sign_in.max_failures = 100_000;
    tweak(&mut settings);
    let app = Application::build_with(settings.clone(), engines())
        .await
        .expect("application builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        port,
        base_url: format!("http://127.0.0.1:{port}"),
        admin_token: settings.admin_token.clone().unwrap_or_default(),
        data_dir,
        client: reqwest::Client::new(),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The shared test corpus (`../shared/corpus`), or `None` with a note.
pub fn corpus_dir() -> Option<PathBuf> {
    frontdesk::prerequisites::corpus_dir()
}

use std::sync::Arc;

use frontdesk::caller::voice::PiperCaller;
use frontdesk::caller::{CallReport, CallerOptions, CallerSpeech, ScriptStep, place_call};

/// A response's status and JSON body (`null` when the body is not JSON).
async fn json_reply(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// A caller voice unlike the agent's (the Piper voice shifted in pitch and
/// pace, through an 8 kHz phone band).
pub fn caller_voice(preset: &str) -> Arc<dyn CallerSpeech> {
    Arc::new(PiperCaller::new(engines().tts.clone(), preset).expect("caller voice preset"))
}

impl TestApp {
    /// Caller options for this server, sped up for tests.
    pub fn caller(&self) -> CallerOptions {
        let mut opts = CallerOptions::new(url::Url::parse(&self.base_url).unwrap());
        opts.speed = 6.0;
        // Call time runs 6× faster than wall time: leave room for a loaded machine.
        opts.reply_timeout_ms = 600_000;
        opts.max_call_ms = 30 * 60_000;
        opts
    }

    /// Places a call with a script, in a caller voice.
    pub async fn call(&self, script: Vec<ScriptStep>, voice: &str) -> CallReport {
        place_call(&self.caller(), script, Some(caller_voice(voice)))
            .await
            .expect("the call runs")
    }

    /// The only call stored, with its turns.
    pub async fn only_call(&self) -> serde_json::Value {
        let (status, list) = self.get_json("/api/v1/calls").await;
        assert_eq!(status, 200, "{list}");
        let calls = list["calls"].as_array().unwrap();
        assert_eq!(calls.len(), 1, "{list}");
        let id = calls[0]["id"].as_str().unwrap();
        let (status, call) = self.get_json(&format!("/api/v1/calls/{id}")).await;
        assert_eq!(status, 200);
        call
    }

    /// Waits (up to `secs`) until the stored call has ended.
    pub async fn ended_call(&self, secs: u64) -> serde_json::Value {
        for _ in 0..secs * 10 {
            let (_, list) = self.get_json("/api/v1/calls").await;
            if let Some(call) = list["calls"].as_array().and_then(|c| c.first())
                && !call["ended_at"].is_null()
            {
                return self.only_call().await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no call ended within {secs} s");
    }
}

/// Caller turns' text, lowercased and joined.
pub fn caller_text(call: &serde_json::Value) -> String {
    turns_text(call, "caller")
}

pub fn turns_text(call: &serde_json::Value, speaker: &str) -> String {
    call["turns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["speaker"] == speaker)
        .map(|t| t["text"].as_str().unwrap().to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A raw Twilio-side websocket for malformed-input tests.
pub mod raw {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    pub type Socket = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    pub async fn connect(port: u16) -> Socket {
        let (socket, _) = tokio_tungstenite::connect_async(format!(
            "ws://127.0.0.1:{port}/telephony/twilio/stream"
        ))
        .await
        .expect("websocket connects");
        socket
    }

    pub async fn send(socket: &mut Socket, text: impl Into<String>) {
        socket
            .send(Message::Text(text.into().into()))
            .await
            .expect("send");
    }

    pub fn start(call_sid: &str) -> String {
        serde_json::json!({
            "event": "start", "sequenceNumber": "1", "streamSid": "MZ00000000000000000000000000000001",
            "start": {
                "streamSid": "MZ00000000000000000000000000000001", "accountSid": "AC00000000000000000000000000000001",
                "callSid": call_sid, "tracks": ["inbound"], "customParameters": {"from": "+15555550123"},
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
            }
        })
        .to_string()
    }

    pub fn media(chunk: u64, mulaw: &[u8]) -> String {
        use base64::Engine;
        serde_json::json!({
            "event": "media", "sequenceNumber": (chunk + 1).to_string(), "streamSid": "MZ00000000000000000000000000000001",
            "media": {"track": "inbound", "chunk": chunk.to_string(), "timestamp": (chunk * 20).to_string(),
                      "payload": base64::engine::general_purpose::STANDARD.encode(mulaw)}
        })
        .to_string()
    }

    pub fn stop(call_sid: &str) -> String {
        serde_json::json!({
            "event": "stop", "sequenceNumber": "9999", "streamSid": "MZ00000000000000000000000000000001",
            "stop": {"accountSid": "AC00000000000000000000000000000001", "callSid": call_sid}
        })
        .to_string()
    }

    /// Sends 8 kHz µ-law audio in 20 ms frames, `speed` times real time.
    pub async fn send_audio(
        socket: &mut Socket,
        mulaw: &[u8],
        first_chunk: u64,
        speed: f64,
    ) -> u64 {
        let mut chunk = first_chunk;
        let frame_wall = std::time::Duration::from_secs_f64(0.020 / speed);
        for frame in mulaw.chunks(160) {
            send(socket, media(chunk, frame)).await;
            chunk += 1;
            tokio::time::sleep(frame_wall).await;
        }
        chunk
    }

    /// Reads server messages until `pred` matches one (or `secs` pass).
    pub async fn wait_for(
        socket: &mut Socket,
        secs: u64,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<serde_json::Value> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let next = tokio::time::timeout_at(deadline, socket.next())
                .await
                .ok()??;
            if let Ok(Message::Text(text)) = next
                && let Ok(value) = serde_json::from_str::<serde_json::Value>(&text)
                && pred(&value)
            {
                return Some(value);
            }
        }
    }
}

impl TestApp {
    /// POST JSON with the admin token; the status and the parsed body.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(&self.admin_token)
            .json(body)
            .send()
            .await
            .unwrap();
        json_reply(response).await
    }
}
