//! The end of a transfer's `<Dial>`: Twilio posts `DialCallStatus` to
//! [`super::twiml::TRANSFER_PATH`] and runs the TwiML we answer. Staff
//! answered (`completed`, `answered`): the call's outcome is `transferred`
//! and its transfer task done. Otherwise (`no-answer`, `busy`, `failed`,
//! `canceled`): the task becomes a callback task, the outcome `escalated`,
//! and the caller hears so. Whatever happens, even with the database down,
//! the answer speaks to the caller and hangs up: never dead air.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use super::routes::{TelephonyState, forbidden, form_params, signed_ok};
use super::twiml;
use crate::store::calls::{TRANSFER_ANSWERED, TRANSFER_NOT_ANSWERED};
use crate::tasks::{self, NewTask};
use crate::vocabulary::{Outcome, TaskKind};

/// What a `DialCallStatus` means for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialEnd {
    /// Staff picked up; the bridged call is over.
    Answered,
    /// Nobody took the call; the words say why (for the task's history).
    NotAnswered(&'static str),
}

impl DialEnd {
    pub fn of_status(status: &str) -> DialEnd {
        match status {
            "completed" | "answered" => DialEnd::Answered,
            "no-answer" => DialEnd::NotAnswered("nobody answered"),
            "busy" => DialEnd::NotAnswered("the line was busy"),
            "canceled" => DialEnd::NotAnswered("the caller hung up while it rang"),
            "failed" => DialEnd::NotAnswered("the call to staff failed"),
            _ => DialEnd::NotAnswered("the transfer did not connect"),
        }
    }
}

fn twiml_reply(xml: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response()
}

/// `POST /telephony/twilio/transfer`: signed like every Twilio request.
pub async fn dial_ended(
    State(state): State<Arc<TelephonyState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = form_params(&body);
    if !signed_ok(&state, &headers, &uri, &params) {
        tracing::warn!("transfer callback with a bad signature refused");
        return forbidden();
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let call_sid = get("CallSid").unwrap_or_default();
    let end = DialEnd::of_status(get("DialCallStatus").unwrap_or_default());
    tracing::info!(call_sid, end = ?end, "transfer dial ended");
    if let Err(e) = settle(&state, call_sid, end).await {
        tracing::error!(
            call_sid,
            error = format!("{e:#}"),
            "could not record how the transfer ended"
        );
    }
    let words = match end {
        DialEnd::Answered => &state.words.transfer_ended,
        DialEnd::NotAnswered(_) => &state.words.transfer_not_answered,
    };
    twiml_reply(twiml::say_and_hang_up_twiml(words))
}

/// Records how the transfer ended: the call's outcome and reason, and its
/// transfer task done or turned into a callback task.
async fn settle(state: &TelephonyState, call_sid: &str, end: DialEnd) -> anyhow::Result<()> {
    let db = &state.services.db;
    let now = state.clock.now();
    let call = db
        .call_by_provider_id(call_sid)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no call with this CallSid"))?;
    match end {
        DialEnd::Answered => {
            tasks::warm_transfer::answered(db, &call.id, now).await?;
            db.settle_handed_on_call(&call.id, Outcome::Transferred, TRANSFER_ANSWERED)
                .await?;
        }
        DialEnd::NotAnswered(why) => {
            // Used only if the transfer's task was never written.
            let (queue, priority) = TaskKind::Callback.routing();
            let fallback = NewTask {
                queue,
                priority,
                kind: TaskKind::Callback,
                summary: "The caller asked for a person and was being put through to staff.".into(),
                call_id: Some(call.id.clone()),
                patient_id: call.patient_id.clone(),
                callback_number: call.from.clone(),
            };
            let task =
                tasks::warm_transfer::not_answered(db, &call.id, why, &fallback, now).await?;
            db.settle_handed_on_call(&call.id, Outcome::Escalated, TRANSFER_NOT_ANSWERED)
                .await?;
            tracing::info!(call_id = %call.id, task_id = %task.id, "transfer not answered; callback task open");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::DialEnd;

    #[test]
    fn dial_statuses_read_as_answered_or_not() {
        assert_eq!(DialEnd::of_status("completed"), DialEnd::Answered);
        assert_eq!(DialEnd::of_status("answered"), DialEnd::Answered);
        for status in ["no-answer", "busy", "failed", "canceled", "", "bogus"] {
            assert!(
                matches!(DialEnd::of_status(status), DialEnd::NotAnswered(_)),
                "{status}"
            );
        }
    }
}
