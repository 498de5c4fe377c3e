//! A stand-in for Twilio's REST API, the carrier's side of a warm
//! transfer, as `crate::caller` is the carrier's side of the media stream:
//! it accepts `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`
//! with the account's basic auth and records the new TwiML of each call,
//! so a replayed call that is handed to staff can be checked to dial the
//! receptionist on duty, and ends the dial as Twilio would
//! ([`CallUpdate::end_dial`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::Engine;

/// The made-up account a replay server is configured with.
pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
/// Its auth token: the stand-in checks it, the replay's caller signs with it.
pub const AUTH_TOKEN: &str = "test-twilio-auth-token";

/// One call update received: the CallSid and its new TwiML.
#[derive(Clone, Debug)]
pub struct CallUpdate {
    pub call_sid: String,
    pub twiml: String,
}

/// The running stand-in; cheap to clone.
#[derive(Clone)]
pub struct TwilioApi {
    pub base_url: String,
    updates: Arc<Mutex<Vec<CallUpdate>>>,
}

impl TwilioApi {
    /// The TwiML posted for `call_sid` so far, without waiting.
    pub fn update_now(&self, call_sid: &str) -> Option<CallUpdate> {
        self.updates
            .lock()
            .unwrap()
            .iter()
            .find(|u| u.call_sid == call_sid)
            .cloned()
    }

    /// The TwiML posted for `call_sid`, waiting up to `secs` for it.
    pub async fn update_for(&self, call_sid: &str, secs: u64) -> Option<CallUpdate> {
        for _ in 0..secs * 20 {
            let found = self
                .updates
                .lock()
                .unwrap()
                .iter()
                .find(|u| u.call_sid == call_sid)
                .cloned();
            if found.is_some() {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        None
    }
}

impl CallUpdate {
    /// The `action` URL of the TwiML's `<Dial>`: where Twilio posts how
    /// the dialled call ended.
    pub fn dial_action(&self) -> Option<String> {
        let doc = roxmltree::Document::parse(&self.twiml).ok()?;
        doc.descendants()
            .find(|n| n.has_tag_name("Dial"))?
            .attribute("action")
            .map(String::from)
    }

    /// The number the TwiML's `<Dial>` rings.
    pub fn dialled_number(&self) -> Option<String> {
        let doc = roxmltree::Document::parse(&self.twiml).ok()?;
        doc.descendants()
            .find(|n| n.has_tag_name("Number"))?
            .text()
            .map(String::from)
    }

    /// What Twilio does when the dialled call ends: posts `DialCallStatus`
    /// (`completed`, `no-answer`, `busy`…) to the `<Dial>`'s action URL,
    /// signed with the account's token. Returns the TwiML answered.
    pub async fn end_dial(&self, dial_status: &str) -> anyhow::Result<String> {
        let url = self
            .dial_action()
            .context("the transfer's TwiML has no <Dial action>")?;
        let params: Vec<(String, String)> = [
            ("AccountSid", ACCOUNT_SID),
            ("CallSid", self.call_sid.as_str()),
            ("DialCallSid", "CA00000000000000000000000000dial"),
            ("DialCallStatus", dial_status),
            ("DialCallDuration", "42"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let signature = crate::telephony::twilio::signature::SignatureValidator::new(AUTH_TOKEN)?
            .sign(&url, &params);
        let response = reqwest::Client::new()
            .post(&url)
            .header("X-Twilio-Signature", signature)
            .form(&params)
            .send()
            .await
            .context("posting the dial's end")?;
        anyhow::ensure!(
            response.status().is_success(),
            "the dial's end was refused: HTTP {}",
            response.status()
        );
        Ok(response.text().await?)
    }
}

type Shared = Arc<Mutex<Vec<CallUpdate>>>;

async fn update_call(
    State(updates): State<Shared>,
    Path((account, call)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<serde_json::Value>) {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    );
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    if !authorised || account != ACCOUNT_SID {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"code": 20003, "message": "Authenticate"})),
        );
    }
    let (Some(call_sid), Some(twiml)) = (call.strip_suffix(".json"), form.get("Twiml")) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"code": 21220, "message": "Invalid call update"})),
        );
    };
    updates.lock().unwrap().push(CallUpdate {
        call_sid: call_sid.to_string(),
        twiml: twiml.clone(),
    });
    (
        StatusCode::OK,
        Json(serde_json::json!({"sid": call_sid, "status": "in-progress"})),
    )
}

/// Starts the stand-in on a free loopback port.
pub async fn start() -> anyhow::Result<TwilioApi> {
    let updates: Shared = Arc::default();
    let router = Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Calls/{call}",
            post(update_call),
        )
        .with_state(updates.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the Twilio REST stand-in")?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(TwilioApi {
        base_url: format!("http://127.0.0.1:{port}"),
        updates,
    })
}
