//! What the warm-transfer tests share: a stand-in for Twilio's REST API
//! (an HTTP server on a loopback port that records every request and
//! answers with the status the test chooses; the server is pointed at it
//! with `TWILIO_API_BASE`), calls placed and signed like Twilio's, the
//! dial's status callback, and the TwiML checks.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use frontdesk::caller::{CallReport, ScriptStep, place_call};
use frontdesk::telephony::twilio::signature::SignatureValidator;
use serde_json::{Value, json};

use crate::server_process::{Server, caller_voice};

pub const ACCOUNT: &str = "AC0000000000000000000000000000test";
pub const TOKEN: &str = "warm-transfer-test-auth-token";
/// Monday 2026-03-16, 11:00 in New York: the demo clinic is open.
pub const OPEN_HOURS: &str = "2026-03-16T15:00:00Z";
pub const DESK_PHONE: &str = "+15555550142";
pub const CALLER: &str = "+15551234567";
pub const RING_SECONDS: &str = "7";

/// One request Twilio's stand-in received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub authorization: Option<String>,
    pub form: Vec<(String, String)>,
    /// When it arrived, in Unix milliseconds (the machine's real clock).
    pub at_ms: i64,
}

impl Seen {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Twilio's REST API as far as a transfer goes: every request recorded,
/// answered with `status`.
#[derive(Clone)]
pub struct TwilioStandIn {
    pub base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    status: Arc<AtomicU16>,
}

impl TwilioStandIn {
    pub async fn start() -> TwilioStandIn {
        let stand_in = TwilioStandIn {
            base_url: String::new(),
            seen: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
        };
        async fn record(
            State(s): State<TwilioStandIn>,
            uri: Uri,
            headers: HeaderMap,
            body: String,
        ) -> (StatusCode, axum::Json<Value>) {
            s.seen.lock().unwrap().push(Seen {
                path: uri.path().to_string(),
                authorization: headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(String::from),
                form: url::form_urlencoded::parse(body.as_bytes())
                    .into_owned()
                    .collect(),
                at_ms: chrono::Utc::now().timestamp_millis(),
            });
            let status = StatusCode::from_u16(s.status.load(Ordering::SeqCst)).unwrap();
            (status, axum::Json(json!({"status": "in-progress"})))
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let router = axum::Router::new()
            .fallback(record)
            .with_state(stand_in.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        TwilioStandIn {
            base_url,
            ..stand_in
        }
    }

    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Places one call saying `lines`, signed like Twilio.
pub async fn call(server: &Server, lines: &[&str]) -> CallReport {
    let mut opts = server.caller(4.0);
    opts.from = CALLER.into();
    opts.auth_token = Some(TOKEN.into());
    let script = lines.iter().map(|l| ScriptStep::say(*l)).collect();
    tokio::time::timeout(
        Duration::from_secs(900),
        place_call(&opts, script, Some(caller_voice("mid"))),
    )
    .await
    .expect("the call finished in time")
    .expect("the call was placed")
}

/// The stored call of a CallSid, once its books are kept.
pub async fn stored_call(server: &Server, call_sid: &str) -> Value {
    for _ in 0..600 {
        let (_, list) = server.get_json("/api/v1/calls").await;
        let found = list["calls"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["provider_call_id"] == call_sid && !c["ended_at"].is_null());
        if let Some(c) = found {
            let (_, call) = server
                .get_json(&format!("/api/v1/calls/{}", c["id"].as_str().unwrap()))
                .await;
            return call;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("call {call_sid} never ended:\n{}", server.logs());
}

pub async fn tasks_of(server: &Server, call_id: &str) -> Vec<Value> {
    let (_, tasks) = server
        .get_json(&format!("/api/v1/tasks?call_id={call_id}"))
        .await;
    tasks["tasks"].as_array().cloned().unwrap_or_default()
}

/// What a task's history says, joined.
pub fn history(task: &Value) -> String {
    task["history"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| format!("{} {}", h["action"], h["detail"]))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `<Dial action>` of a transfer's TwiML.
pub fn dial_action(twiml: &str) -> String {
    let doc = roxmltree::Document::parse(twiml).expect("the transfer's TwiML is XML");
    doc.descendants()
        .find(|n| n.has_tag_name("Dial"))
        .and_then(|d| d.attribute("action"))
        .expect("<Dial action>")
        .to_string()
}

/// Posts what Twilio posts when the dialled call ends; returns the status
/// and the TwiML answered.
pub async fn end_dial(
    server: &Server,
    action: &str,
    call_sid: &str,
    status: &str,
) -> (u16, String) {
    let params: Vec<(String, String)> = [
        ("AccountSid", ACCOUNT),
        ("CallSid", call_sid),
        ("DialCallSid", "CA000000000000000000000000000dial"),
        ("DialCallStatus", status),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let signature = SignatureValidator::new(TOKEN)
        .unwrap()
        .sign(action, &params);
    let response = server
        .client
        .post(action)
        .header("X-Twilio-Signature", signature)
        .form(&params)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

/// TwiML that speaks, then hangs up, and nothing after.
pub fn assert_speaks_then_hangs_up(twiml: &str, words: &str) {
    let doc = roxmltree::Document::parse(twiml).expect("TwiML is XML");
    let verbs: Vec<_> = doc
        .root_element()
        .children()
        .filter(|n| n.is_element())
        .collect();
    let names: Vec<&str> = verbs.iter().map(|n| n.tag_name().name()).collect();
    assert!(
        names.ends_with(&["Say", "Hangup"]),
        "ends with a spoken message and a hang-up: {twiml}"
    );
    let said = verbs[verbs.len() - 2]
        .text()
        .unwrap_or_default()
        .to_lowercase();
    assert!(said.contains(words), "says {words:?}: {twiml}");
}
