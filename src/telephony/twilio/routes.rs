//! Twilio's endpoints: the voice webhook (answers with TwiML that connects
//! a media stream), the media stream websocket, the status callback, and
//! the end of a transfer's dial (`transfer`). With `TWILIO_AUTH_TOKEN`
//! set, each request and the websocket upgrade must carry a valid
//! `X-Twilio-Signature`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, mpsc};

use super::carrier::{Transfers, TwilioCarrier, WireIn};
use super::rest::TwilioRest;
use super::signature::SignatureValidator;
use super::twiml;
use crate::call::session::{CallServices, run_stream};
use crate::metrics::Metrics;

/// What the telephony routes share.
pub struct TelephonyState {
    pub services: Arc<CallServices>,
    /// `https://host` as Twilio reaches us; `None` means derive from `Host`.
    pub public_url: Option<String>,
    pub validator: Option<SignatureValidator>,
    /// Twilio's REST API, to hand a call to staff (`None`: no credentials,
    /// so a transfer fails and the caller gets a callback task).
    pub rest: Option<TwilioRest>,
    /// How long a transfer rings staff (`<Dial timeout>`).
    pub ring_seconds: u64,
    /// What Twilio says (`<Say>`) once the agent no longer holds the call.
    pub words: CarrierWords,
    /// The clinic's clock, for the transfer task's history.
    pub clock: crate::clinic::Clock,
    /// One permit per simultaneous call.
    pub call_slots: Arc<Semaphore>,
    pub metrics: Arc<Metrics>,
}

/// The clinic's words that Twilio speaks itself, rendered from the prompts
/// at start-up.
#[derive(Clone, Debug)]
pub struct CarrierWords {
    /// After the stream, if the call was not moved (`stream_ended`).
    pub stream_ended: String,
    /// Nobody answered a transfer (`transfer_not_answered`).
    pub transfer_not_answered: String,
    /// The staff member's call with the caller has ended (`transfer_ended`).
    pub transfer_ended: String,
}

pub fn router(state: Arc<TelephonyState>) -> Router {
    Router::new()
        .route("/telephony/twilio/voice", post(voice))
        .route("/telephony/twilio/status", post(status))
        .route("/telephony/twilio/stream", get(stream))
        .route(twiml::TRANSFER_PATH, post(super::transfer::dial_ended))
        .with_state(state)
}

pub(super) fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        "invalid or missing X-Twilio-Signature",
    )
        .into_response()
}

/// The base URL Twilio used to reach us.
fn base_url(state: &TelephonyState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// A webhook's form body as name/value pairs, repeated names kept.
pub(crate) fn form_params(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Checks the signature of a form POST when a token is configured.
pub(super) fn signed_ok(
    state: &TelephonyState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    params: &[(String, String)],
) -> bool {
    let Some(validator) = &state.validator else {
        return true;
    };
    let Some(signature) = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = format!("{}{}", base_url(state, headers), path_and_query);
    validator.validate(&url, params, signature)
}

async fn voice(
    State(state): State<Arc<TelephonyState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = form_params(&body);
    if !signed_ok(&state, &headers, &uri, &params) {
        tracing::warn!("voice webhook with a bad signature refused");
        return forbidden();
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let call_sid = get("CallSid").unwrap_or("");
    let xml = if state.services.drain.is_draining() {
        // Calls in progress are finishing; the caller can try again once
        // the server is back.
        tracing::info!(call_sid, "the server is stopping; rejecting as busy");
        state.metrics.calls_rejected_busy.inc();
        twiml::reject_busy_twiml().to_string()
    } else if state.call_slots.available_permits() == 0 {
        tracing::warn!(call_sid, "all call slots busy; rejecting");
        state.metrics.calls_rejected_busy.inc();
        // Twilio plays a busy tone; the caller can try again.
        twiml::reject_busy_twiml().to_string()
    } else {
        tracing::info!(call_sid, "incoming call; connecting a media stream");
        let mut extra = Vec::new();
        if let Some(to) = get("To") {
            extra.push(("to", to));
        }
        match twiml::connect_stream_twiml(
            &base_url(&state, &headers),
            get("From"),
            &extra,
            &state.words.stream_ended,
        ) {
            Ok(xml) => xml,
            Err(e) => {
                tracing::error!(error = %e, "cannot build the stream TwiML; check FRONTDESK_PUBLIC_URL");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the public URL setting is invalid",
                )
                    .into_response();
            }
        }
    };
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response()
}

async fn status(
    State(state): State<Arc<TelephonyState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = form_params(&body);
    if !signed_ok(&state, &headers, &uri, &params) {
        tracing::warn!("status callback with a bad signature refused");
        return forbidden();
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let (Some(call_sid), Some(call_status)) = (
        get("CallSid"),
        get("CallStatus").or_else(|| get("StreamEvent")),
    ) else {
        return (
            StatusCode::BAD_REQUEST,
            "CallSid and CallStatus are required",
        )
            .into_response();
    };
    match state
        .services
        .db
        .record_carrier_status(&call_sid, &call_status)
        .await
    {
        Ok(found) => {
            tracing::info!(call_sid = %call_sid, status = %call_status, known = found, "call status");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "could not record a call status");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn stream(
    State(state): State<Arc<TelephonyState>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(validator) = &state.validator {
        let signature = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok());
        let url = format!("{}/telephony/twilio/stream", base_url(&state, &headers));
        let ok = signature.is_some_and(|sig| validator.validate_websocket(&url, sig));
        if !ok {
            tracing::warn!("media stream upgrade with a bad signature refused");
            return forbidden();
        }
    }
    // Counted from here until the call loop has kept its books, so the
    // server's stop waits for it; refused once the server is stopping.
    let Some(in_progress) = state.services.drain.admit() else {
        tracing::warn!("media stream refused: the server is stopping");
        state.metrics.calls_rejected_busy.inc();
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        )
            .into_response();
    };
    let Ok(permit) = state.call_slots.clone().try_acquire_owned() else {
        tracing::warn!("media stream refused: all call slots busy");
        state.metrics.calls_rejected_busy.inc();
        return (StatusCode::SERVICE_UNAVAILABLE, "all call slots are busy").into_response();
    };
    let transfers = transfers(&state, &headers);
    ws.max_message_size(256 * 1024)
        .on_upgrade(move |socket| async move {
            handle_socket(state, socket, transfers).await;
            drop(permit);
            drop(in_progress);
        })
}

/// How this call would be transferred: `None` without credentials or
/// without a usable public URL (the transfer then fails and the caller
/// gets a callback task).
fn transfers(state: &TelephonyState, headers: &HeaderMap) -> Option<Transfers> {
    let rest = state.rest.clone()?;
    let action_url = match twiml::callback_url(&base_url(state, headers), twiml::TRANSFER_PATH) {
        Ok(url) => url,
        Err(e) => {
            tracing::error!(error = %e, "no transfer callback URL; check FRONTDESK_PUBLIC_URL");
            return None;
        }
    };
    Some(Transfers {
        rest,
        action_url,
        ring_seconds: state.ring_seconds,
        fallback: state.words.transfer_not_answered.clone(),
    })
}

/// Bridges the websocket to the call loop through a [`TwilioCarrier`]: a
/// writer task drains the outbound queue; inbound frames become [`WireIn`].
async fn handle_socket(
    state: Arc<TelephonyState>,
    socket: WebSocket,
    transfers: Option<Transfers>,
) {
    let (mut sink, source) = socket.split();
    // Bounded: a reply is a few hundred frames; if the socket stalls the
    // speaker waits rather than buffering without limit.
    let (out_tx, mut out_rx) = mpsc::channel::<String>(1024);
    let writer = tokio::spawn(async move {
        while let Some(text) = out_rx.recv().await {
            if sink.send(Message::Text(text.into())).await.is_err() {
                return;
            }
        }
        let _ = sink.send(Message::Close(None)).await;
        let _ = sink.close().await;
    });
    let carrier = TwilioCarrier::new(wire_frames(source), out_tx, transfers);
    state.metrics.calls_active.inc();
    state.metrics.calls_started.inc();
    // The call loop transfers or hangs up before its bookkeeping.
    let summary = run_stream(state.services.clone(), Box::new(carrier)).await;
    state.metrics.calls_active.dec();
    // The outcome as the call's books have it, once they are written.
    if let Some(call_id) = &summary.call_id {
        match state.services.db.get_call(call_id).await {
            Ok(Some(call)) => state.metrics.call_ended(&call.outcome),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%call_id, error = %error, "reading a call's outcome for the metrics")
            }
        }
    }
    let _ = writer.await;
}

/// Maps websocket messages to the carrier's frames; ends at close.
fn wire_frames(
    source: futures_util::stream::SplitStream<WebSocket>,
) -> impl futures_util::Stream<Item = WireIn> + Unpin + Send + 'static {
    source
        .take_while(|m| std::future::ready(!matches!(m, Err(_) | Ok(Message::Close(_)))))
        .filter_map(|m| {
            std::future::ready(match m {
                Ok(Message::Text(text)) => Some(WireIn::Text(text.to_string())),
                Ok(Message::Binary(bytes)) => Some(WireIn::Binary(bytes.len())),
                _ => None,
            })
        })
}
