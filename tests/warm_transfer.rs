//! Warm transfers end to end: the real `frontdesk serve` binary, real
//! calls over the Twilio-protocol websocket in a synthesised voice, and a
//! stand-in for Twilio's REST API started here (`twilio_stand_in`: an
//! HTTP server on a loopback port that records every request and answers
//! with the status the test chooses). Every way a transfer can go: nobody available (a
//! callback task, no REST request), Twilio refusing (the caller told, a
//! callback task, not `transferred`), nobody answering (the dial's end
//! speaks and hangs up, a callback task), and staff answering
//! (`transferred`). Plus the availability API and signed callbacks.

mod server_process;
mod twilio_stand_in;

use base64::Engine;
use frontdesk::caller::CallEnd;
use frontdesk::staff::{self, Role};
use frontdesk::store::Db;
use frontdesk::telephony::twilio::signature::SignatureValidator;
use serde_json::{Value, json};
use server_process::{Server, models_present, turns_text};
use twilio_stand_in::{
    ACCOUNT, CALLER, DESK_PHONE, OPEN_HOURS, RING_SECONDS, TOKEN, TwilioStandIn,
    assert_speaks_then_hangs_up, call, dial_action, end_dial, history, stored_call, tasks_of,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_transfers_ring_the_available_receptionist_and_never_drop_a_caller() {
    if !models_present() {
        return;
    }
    let twilio = TwilioStandIn::start().await;
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("FRONTDESK_NOW", OPEN_HOURS),
        ("TWILIO_ACCOUNT_SID", ACCOUNT),
        ("TWILIO_AUTH_TOKEN", TOKEN),
        ("TWILIO_API_BASE", twilio.base_url.as_str()),
        ("FRONTDESK_TRANSFER_RING_SECONDS", RING_SECONDS),
    ];
    let server = Server::start(data.path(), &env).await;
    let db = Db::connect(&frontdesk::store::sqlite_url_in(data.path()))
        .await
        .unwrap();
    let (dana, dana_token) = staff::add(&db, "Dana Reyes", Role::Receptionist)
        .await
        .unwrap();
    let as_dana = |request: reqwest::RequestBuilder| request.bearer_auth(&dana_token);

    // The stream's TwiML: a goodbye and a hang-up if the stream ends.
    let voice = server.url("/telephony/twilio/voice");
    let params = vec![
        ("CallSid".to_string(), "CA-twiml-check".to_string()),
        ("From".to_string(), CALLER.to_string()),
    ];
    let signature = SignatureValidator::new(TOKEN)
        .unwrap()
        .sign(&voice, &params);
    let twiml = server
        .client
        .post(&voice)
        .header("X-Twilio-Signature", signature)
        .form(&params)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(twiml.contains("<Connect><Stream"), "{twiml}");
    assert_speaks_then_hangs_up(&twiml, "thank you for calling");

    // ---- Nobody available: the agent takes a callback, Twilio is not asked.
    let response = as_dana(
        server
            .client
            .get(server.url("/api/v1/staff/me/availability")),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let availability: Value = response.json().await.unwrap();
    assert_eq!(availability["available"], false, "{availability}");
    let report = call(
        &server,
        &[
            "Can I just talk to somebody at the front desk?",
            "My name is Maria Gonzalez.",
            "Yes.",
        ],
    )
    .await;
    let stored = stored_call(&server, &report.call_sid).await;
    let said = turns_text(&stored, "agent");
    assert!(!said.contains("connect you"), "{said}");
    assert!(said.contains("call you back"), "{said}");
    assert_eq!(stored["outcome"], "escalated", "{stored}");
    let tasks = tasks_of(&server, stored["id"].as_str().unwrap()).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["kind"], "callback", "{tasks:?}");
    assert!(twilio.requests().is_empty(), "{:?}", twilio.requests());

    // ---- Dana marks herself available, with a number to ring.
    let response = as_dana(
        server
            .client
            .put(server.url("/api/v1/staff/me/availability")),
    )
    .json(&json!({"available": true, "phone": "not a phone"}))
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 422, "a bad number is refused");
    let response = as_dana(
        server
            .client
            .put(server.url("/api/v1/staff/me/availability")),
    )
    .json(&json!({"available": true, "phone": "+1 (555) 555-0142"}))
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let availability: Value = response.json().await.unwrap();
    assert_eq!(availability["available"], true, "{availability}");
    assert_eq!(availability["phone"], DESK_PHONE, "{availability}");

    // ---- Twilio refuses the transfer: the caller hears so, a callback task.
    twilio.answer_with(500);
    let report = call(&server, &["I have a question about a charge on my bill."]).await;
    assert!(
        matches!(report.end, CallEnd::AgentHungUp),
        "{:?}",
        report.end
    );
    let requests = twilio.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_eq!(
        request.path,
        format!(
            "/2010-04-01/Accounts/{ACCOUNT}/Calls/{}.json",
            report.call_sid
        )
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"));
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Basic {basic}").as_str())
    );
    assert!(
        request.field("Url").is_none(),
        "Twiml and Url are exclusive"
    );
    let dial = request.field("Twiml").expect("the new TwiML").to_string();
    assert!(
        dial.contains(&format!("<Number>{DESK_PHONE}</Number>")),
        "{dial}"
    );
    assert!(
        dial.contains(&format!("timeout=\"{RING_SECONDS}\"")),
        "{dial}"
    );
    assert_eq!(
        dial_action(&dial),
        server.url("/telephony/twilio/transfer"),
        "{dial}"
    );
    assert_speaks_then_hangs_up(&dial, "call you back");
    let stored = stored_call(&server, &report.call_sid).await;
    let said = turns_text(&stored, "agent");
    assert!(said.contains("connect you with dana"), "{said}");
    assert!(said.contains("couldn't put you through"), "{said}");
    assert_ne!(stored["outcome"], "transferred", "{stored}");
    assert_eq!(stored["outcome"], "escalated", "{stored}");
    let tasks = tasks_of(&server, stored["id"].as_str().unwrap()).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["kind"], "callback", "{tasks:?}");
    assert_eq!(tasks[0]["status"], "open", "{tasks:?}");
    assert_eq!(tasks[0]["callback_number"], "5551234567", "{tasks:?}");
    let why = history(&tasks[0]);
    assert!(why.contains("could not put the call through"), "{why}");
    assert!(why.contains("\"claimed\""), "it rang Dana first: {why}");

    // ---- Transfers go through; Dana answers.
    twilio.answer_with(200);
    let report = call(&server, &["I have a question about a charge on my bill."]).await;
    assert!(
        matches!(report.end, CallEnd::AgentHungUp),
        "{:?}",
        report.end
    );
    let stored = stored_call(&server, &report.call_sid).await;
    let call_id = stored["id"].as_str().unwrap().to_string();
    // The stream's end is the transfer's: not abandoned, the words kept.
    assert_eq!(
        stored["outcome"], "escalated",
        "until she answers: {stored}"
    );
    assert!(turns_text(&stored, "caller").contains("bill"), "{stored}");
    // Her card is on her screen while her phone rings.
    let response = as_dana(
        server
            .client
            .get(server.url(&format!("/api/v1/tasks?call_id={call_id}"))),
    )
    .send()
    .await
    .unwrap();
    let mine: Value = response.json().await.unwrap();
    let card = &mine["tasks"][0];
    assert_eq!(card["kind"], "warm_transfer", "{mine}");
    assert_eq!(card["status"], "claimed", "{mine}");
    assert_eq!(card["claimed_by"], dana.id.as_str(), "{mine}");
    assert_eq!(card["priority"], "urgent", "{mine}");
    assert_eq!(card["queue"], "front_desk", "{mine}");
    assert!(
        card["summary"].as_str().unwrap().contains("billing"),
        "{mine}"
    );
    let requests = twilio.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let action = dial_action(requests[1].field("Twiml").unwrap());
    // An unsigned callback is refused, and changes nothing.
    let forged = server
        .client
        .post(&action)
        .form(&[
            ("CallSid", report.call_sid.as_str()),
            ("DialCallStatus", "completed"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let (status, twiml) = end_dial(&server, &action, &report.call_sid, "completed").await;
    assert_eq!(status, 200, "{twiml}");
    assert_speaks_then_hangs_up(&twiml, "thank you for calling");
    let stored = stored_call(&server, &report.call_sid).await;
    assert_eq!(stored["outcome"], "transferred", "{stored}");
    assert_eq!(stored["ended_reason"], "transfer_answered", "{stored}");
    let tasks = tasks_of(&server, &call_id).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["status"], "done", "{tasks:?}");

    // ---- Transfers go through; nobody answers within the ring time.
    let report = call(&server, &["I have a question about a charge on my bill."]).await;
    let stored = stored_call(&server, &report.call_sid).await;
    let call_id = stored["id"].as_str().unwrap().to_string();
    let requests = twilio.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    let action = dial_action(requests[2].field("Twiml").unwrap());
    let (status, twiml) = end_dial(&server, &action, &report.call_sid, "no-answer").await;
    assert_eq!(status, 200, "{twiml}");
    assert_speaks_then_hangs_up(&twiml, "call you back");
    let stored = stored_call(&server, &report.call_sid).await;
    assert_eq!(stored["outcome"], "escalated", "{stored}");
    assert_eq!(stored["ended_reason"], "transfer_not_answered", "{stored}");
    let tasks = tasks_of(&server, &call_id).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["kind"], "callback", "{tasks:?}");
    assert_eq!(tasks[0]["status"], "open", "{tasks:?}");
    assert!(tasks[0]["claimed_by"].is_null(), "{tasks:?}");
    assert!(history(&tasks[0]).contains("nobody answered"), "{tasks:?}");

    // No patient data in what the server logged about any of it.
    let logs = server.logs();
    for secret in ["Maria", "Gonzalez", "5551234567", "charge on my bill"] {
        assert!(!logs.contains(secret), "{secret:?} in the logs");
    }
}
