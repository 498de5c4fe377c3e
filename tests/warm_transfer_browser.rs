//! A warm transfer as the receptionist sees it, in a real browser: headless
//! Chromium through WebDriver against the real `frontdesk serve` binary,
//! real calls over the websocket in a synthesised voice, and the stand-in
//! for Twilio's REST API (`twilio_stand_in`). The receptionist marks
//! herself available on the queue page with the keyboard alone; a caller
//! asks for a person; the incoming-transfer card (caller, "not verified",
//! reason, what was said so far) appears on her open screen without a
//! reload while her phone rings; nobody answers (the dial's status
//! callback says `no-answer`): the caller hears so and a callback task
//! takes the card's place. Then Twilio refuses a transfer: the caller
//! hears so and the callback task appears on her screen. Screenshots go to
//! `<target>/dashboard-screenshots/`; the card's delay is printed.

mod browser;
mod server_process;
mod twilio_stand_in;

use std::time::Duration;

use browser::Browser;
use fantoccini::Locator;
use frontdesk::staff::{self, Role};
use frontdesk::store::Db;
use serde_json::json;
use server_process::{Server, models_present, turns_text};
use twilio_stand_in::{
    ACCOUNT, DESK_PHONE, OPEN_HOURS, RING_SECONDS, TOKEN, TwilioStandIn,
    assert_speaks_then_hangs_up, call, dial_action, end_dial, stored_call, tasks_of,
};

/// WebDriver's Enter key.
const ENTER: &str = "\u{E007}";
/// The caller's request: a person, about a bill.
const ASK: &[&str] = &["I have a question about a charge on my bill."];

/// Notes, in the page, when each task row and each incoming-transfer card
/// first shows, and marks this page load (a reload would lose the mark).
async fn watch(desk: &Browser) {
    desk.js(
        "window.__load = 'watched';
         window.__seen = {};
         const mark = () => document.querySelectorAll('tr[data-task-id], article.incoming-card').forEach(r => {
           const key = r.tagName + ':' + r.getAttribute('data-task-id');
           if (!(key in window.__seen)) { window.__seen[key] = Date.now(); }
         });
         new MutationObserver(mark).observe(document.body, {childList: true, subtree: true});
         mark();",
        vec![],
    )
    .await;
}

async fn still_the_same_page(desk: &Browser) {
    assert_eq!(
        desk.js("return window.__load;", vec![]).await,
        json!("watched"),
        "the page was reloaded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_transfer_rings_on_the_open_screen_and_falls_back_to_a_callback_task() {
    if !models_present() {
        return;
    }
    let Some(desk) = Browser::start().await else {
        return;
    };
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
    let base = server.base_url.clone();

    // Dana signs in and marks herself available, with the keyboard alone:
    // space ticks the box, Enter in the phone field saves.
    desk.sign_in(&base, &dana_token).await;
    assert!(
        desk.wait_for(
            "document.querySelector('.live.on')",
            Duration::from_secs(20)
        )
        .await,
        "the queue never connected to the event stream"
    );
    assert!(
        desk.text("#availability-state")
            .await
            .contains("Not taking transfers")
    );
    let tick = desk.client.find(Locator::Css("#avail-on")).await.unwrap();
    tick.send_keys(" ").await.unwrap();
    desk.type_into("#avail-phone", "+1 (555) 555-0142").await;
    let phone = desk
        .client
        .find(Locator::Css("#avail-phone"))
        .await
        .unwrap();
    phone.send_keys(ENTER).await.unwrap();
    assert!(
        desk.wait_for(
            "document.getElementById('availability-state').innerText.includes('Taking transfers')",
            Duration::from_secs(10)
        )
        .await,
        "saving the setting: {}",
        desk.text("#status").await
    );
    let setting = frontdesk::staff::availability::get(&db, &dana.id)
        .await
        .unwrap();
    assert!(setting.available, "{setting:?}");
    assert_eq!(setting.phone.as_deref(), Some(DESK_PHONE));
    desk.screenshot("12-available-for-transfers").await;
    watch(&desk).await;

    // ---- A caller asks for a person; Twilio takes the transfer and rings
    // Dana's phone. Her screen shows the card before she picks up.
    twilio.answer_with(200);
    // When the transfer's task is first in the database (looked for every
    // 10 ms on the machine's clock; the clinic's clock is pinned here).
    let written = {
        let db = db.clone();
        tokio::spawn(async move {
            loop {
                let found: Option<String> =
                    sqlx::query_scalar("SELECT id FROM tasks WHERE kind = 'warm_transfer'")
                        .fetch_optional(&db.pool)
                        .await
                        .unwrap();
                if found.is_some() {
                    return chrono::Utc::now().timestamp_millis();
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let report = call(&server, ASK).await;
    assert!(
        desk.wait_for(
            "document.querySelector('article.incoming-card')",
            Duration::from_secs(120)
        )
        .await,
        "the incoming-transfer card never appeared on the open screen:\n{}",
        server.logs()
    );
    still_the_same_page(&desk).await;
    let stored = stored_call(&server, &report.call_sid).await;
    let call_id = stored["id"].as_str().unwrap().to_string();
    let ringing = tasks_of(&server, &call_id).await;
    assert_eq!(ringing.len(), 1, "{ringing:?}");
    let task_id = ringing[0]["id"].as_str().unwrap().to_string();
    assert_eq!(ringing[0]["kind"], "warm_transfer", "{ringing:?}");
    let card = format!("article.incoming-card[data-task-id='{task_id}']");
    assert!(desk.exists(&card).await, "the card is this call's");
    let shown = desk
        .js(
            "return window.__seen['ARTICLE:' + arguments[0]];",
            vec![json!(task_id)],
        )
        .await
        .as_i64()
        .unwrap();
    let written = written.await.unwrap();
    eprintln!(
        "FIGURE warm transfer: its task in the database (seen within 10 ms) → the card shown in the browser: {} ms",
        shown - written
    );
    let text = desk.text(&card).await;
    assert!(text.contains("Incoming transfer"), "{text}");
    assert!(text.contains("(555) 123-4567"), "the caller: {text}");
    assert!(text.contains("Not verified"), "the patient: {text}");
    assert!(
        text.to_lowercase().contains("billing"),
        "the reason: {text}"
    );
    assert!(
        desk.wait_for(
            &format!(
                "(() => {{ const t = document.querySelector(\"{card} .transcript\"); return t && t.innerText.toLowerCase().includes('bill'); }})()"
            ),
            Duration::from_secs(90)
        )
        .await,
        "what was said so far is on the card: {}",
        desk.text(&card).await
    );
    desk.screenshot("13-incoming-transfer").await;

    // Nobody answers: Twilio's dial callback says so. The caller hears it
    // and the card gives way to a callback task on the same screen.
    let requests = twilio.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let action = dial_action(requests[0].field("Twiml").unwrap());
    let (status, twiml) = end_dial(&server, &action, &report.call_sid, "no-answer").await;
    assert_eq!(status, 200, "{twiml}");
    assert_speaks_then_hangs_up(&twiml, "call you back");
    assert!(
        desk.wait_for(
            &format!(
                "!document.querySelector(\"{card}\") && document.querySelector(\"tr[data-task-id='{task_id}'][data-status='open']\")"
            ),
            Duration::from_secs(20)
        )
        .await,
        "the callback task replaces the card: {}",
        desk.text("#main").await
    );
    still_the_same_page(&desk).await;
    let row = desk.text(&format!("tr[data-task-id='{task_id}']")).await;
    assert!(row.contains("Callback"), "{row}");
    let fallback = tasks_of(&server, &call_id).await;
    assert_eq!(fallback[0]["kind"], "callback", "{fallback:?}");
    assert_eq!(fallback[0]["status"], "open", "{fallback:?}");
    desk.screenshot("14-transfer-not-answered").await;

    // ---- Twilio refuses the next transfer: the caller is told, and a
    // callback task appears on Dana's screen.
    twilio.answer_with(500);
    let report = call(&server, ASK).await;
    let stored = stored_call(&server, &report.call_sid).await;
    let said = turns_text(&stored, "agent");
    assert!(said.contains("couldn't put you through"), "{said}");
    assert_eq!(stored["outcome"], "escalated", "{stored}");
    let refused = tasks_of(&server, stored["id"].as_str().unwrap()).await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["kind"], "callback", "{refused:?}");
    let refused_id = refused[0]["id"].as_str().unwrap().to_string();
    assert!(
        desk.wait_for(
            &format!(
                "document.querySelector(\"tr[data-task-id='{refused_id}'][data-status='open']\")"
            ),
            Duration::from_secs(20)
        )
        .await,
        "the refused transfer's callback task is on the screen: {}",
        desk.text("#main").await
    );
    assert!(!desk.exists("article.incoming-card").await, "nothing rings");
    still_the_same_page(&desk).await;
    assert_eq!(twilio.requests().len(), 2);
    desk.screenshot("15-transfer-refused").await;

    let logs = server.logs();
    for secret in ["5551234567", "charge on my bill"] {
        assert!(!logs.contains(secret), "{secret:?} in the logs");
    }
    desk.quit().await;
}
