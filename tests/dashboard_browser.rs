//! The staff dashboard in real browsers: headless Chromium through
//! WebDriver against the real `frontdesk serve` binary, a real call over
//! the websocket. Sign in; a call escalates and its task appears on an
//! open screen without a reload; the task is claimed, noted (HTML in the
//! note stays text) and completed; a billing user never sees a clinical
//! task, even by URL; forged and missing CSRF tokens are refused; a
//! manager finds the call by a word and plays its recording from a
//! clicked turn; the access audit page lists the refusals; an idle
//! session sends the browser back to sign-in. Two receptionists: one
//! claims, the other sees it at once and cannot claim; the server stops
//! and starts again and the open page reconnects and catches up; the
//! schedule shows a taken slot's 409. Screenshots of every view go to
//! `<target>/dashboard-screenshots/`; the load figures are printed.

mod browser;
mod server_process;

use std::time::Duration;

use browser::Browser;
use frontdesk::caller::{ScriptStep, place_call};
use frontdesk::staff::{self, Role};
use frontdesk::store::Db;
use frontdesk::tasks::{self, NewTask};
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use serde_json::{Value, json};
use server_process::{Server, caller_voice, models_present};

/// After hours, so a billing question becomes a callback task (fixture
/// `22_billing_after_hours`).
const AFTER_HOURS: &str = "2026-03-16T22:30:00Z";

async fn database(data: &std::path::Path) -> Db {
    Db::connect(&frontdesk::store::sqlite_url_in(data))
        .await
        .expect("the server's database")
}

/// A synchronous request from inside the page (same origin, the session
/// cookie attached by the browser): its status and body.
async fn page_request(
    browser: &Browser,
    method: &str,
    url: &str,
    headers: Value,
    body: &str,
) -> (u64, String) {
    let v = browser
        .js(
            "const x = new XMLHttpRequest();
             x.open(arguments[0], arguments[1], false);
             for (const [k, v] of Object.entries(arguments[2])) { x.setRequestHeader(k, v); }
             x.send(arguments[3]);
             return [x.status, x.responseText];",
            vec![json!(method), json!(url), headers, json!(body)],
        )
        .await;
    (
        v[0].as_u64().unwrap_or(0),
        v[1].as_str().unwrap_or_default().to_string(),
    )
}

async fn csrf_of(browser: &Browser) -> String {
    browser
        .js(
            "return document.querySelector('meta[name=\"csrf-token\"]').content;",
            vec![],
        )
        .await
        .as_str()
        .unwrap()
        .to_string()
}

fn millis(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

async fn report_load(browser: &Browser, view: &str) {
    let (bytes, paint) = browser.load_figures().await;
    eprintln!(
        "FIGURE first load of {view}: {:.1} KB (document + styles + scripts, uncompressed), first contentful paint {:?} ms",
        bytes as f64 / 1024.0,
        paint.map(|p| p.round())
    );
    assert!(bytes <= 200 * 1024, "{view} weighs {bytes} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_escalates_live_to_an_open_screen_is_worked_and_reviewed() {
    if !models_present() {
        return;
    }
    let Some(desk) = Browser::start().await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[("FRONTDESK_NOW", AFTER_HOURS)]).await;
    let db = database(data.path()).await;
    let (_, billing_token) = staff::add(&db, "Bea Billing", Role::Billing).await.unwrap();
    let (_, manager_token) = staff::add(&db, "Mo Manager", Role::Manager).await.unwrap();
    let base = server.base_url.clone();

    // Sign in: a wrong token is refused with a message, the right one
    // reaches the queue; the session cookie is out of the page's reach.
    desk.goto(&format!("{base}/")).await;
    report_load(&desk, "sign-in (/)").await;
    desk.screenshot("01-sign-in").await;
    desk.type_into("#token", "not-a-token").await;
    desk.click("form[action='/session'] button[type=submit]")
        .await;
    assert!(
        desk.wait_for(
            "document.body.innerText.includes('not accepted')",
            Duration::from_secs(10)
        )
        .await
    );
    desk.sign_in(&base, &billing_token).await;
    let cookies = desk.js("return document.cookie;", vec![]).await;
    assert!(
        !cookies.as_str().unwrap_or("").contains("frontdesk_session"),
        "the session cookie is HttpOnly: {cookies}"
    );
    assert!(
        desk.wait_for(
            "document.querySelector('.live.on')",
            Duration::from_secs(20)
        )
        .await,
        "the queue never connected to /api/v1/tasks/events"
    );
    report_load(&desk, "/queue").await;
    // Marks this page load, and notes when each task row first shows.
    desk.js(
        "window.__load = 'first-load';
         window.__seen = {};
         const mark = () => document.querySelectorAll('tr[data-task-id]').forEach(r => {
           const id = r.getAttribute('data-task-id');
           if (!(id in window.__seen)) { window.__seen[id] = Date.now(); }
         });
         new MutationObserver(mark).observe(document.body, {childList: true, subtree: true});
         mark();",
        vec![],
    )
    .await;

    // A real call escalates after hours: a billing task.
    let mut opts = server.caller(4.0);
    opts.from = "+15551234567".into();
    let script = vec![
        ScriptStep::say("I have a question about a charge on my bill."),
        ScriptStep::say("My name is Maria Gonzalez."),
        ScriptStep::say("Yes."),
        ScriptStep::say("No, that's all, thanks."),
    ];
    let caller =
        tokio::spawn(async move { place_call(&opts, script, Some(caller_voice("mid"))).await });
    assert!(
        desk.wait_for(
            "document.querySelector('tr[data-task-id]')",
            Duration::from_secs(600)
        )
        .await,
        "the call's task never appeared on the open screen:\n{}",
        server.logs()
    );
    assert_eq!(
        desk.js("return window.__load;", vec![]).await,
        json!("first-load"),
        "the page was reloaded"
    );
    let (_, listed) = server.get_json("/api/v1/tasks?queue=billing").await;
    let task = listed["tasks"][0].clone();
    let task_id = task["id"].as_str().unwrap().to_string();
    let call_id = task["call_id"].as_str().unwrap().to_string();
    let seen = desk
        .js("return window.__seen[arguments[0]];", vec![json!(task_id)])
        .await
        .as_i64()
        .unwrap();
    eprintln!(
        "FIGURE task created → shown in the browser: {} ms",
        seen - millis(task["created_at"].as_str().unwrap())
    );
    desk.screenshot("02-queue-live-task").await;

    // Its card: claim it, then the transcript and the recording are there.
    desk.click(&format!("a.open-task[data-task-id='{task_id}']"))
        .await;
    assert!(
        desk.wait_for(
            "document.querySelector('#card button.claim')",
            Duration::from_secs(10)
        )
        .await
    );
    assert!(desk.text("#card .facts").await.contains("(555) 123-4567"));
    desk.click("#card button.claim").await;
    assert!(
        desk.wait_for(
            "document.querySelector('#card .task-status') && document.querySelector('#card .task-status').innerText.includes('Claimed by you') && document.querySelector('#card ol.transcript')",
            Duration::from_secs(10)
        )
        .await,
        "after the claim the card shows the transcript"
    );
    let _ = caller.await;
    desk.screenshot("03-task-card").await;

    // A note with markup in it stays text.
    let evil = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\"><b>bold?</b>";
    desk.type_into("#note-text", evil).await;
    desk.click("#card button.add-note").await;
    assert!(
        desk.wait_for(
            "document.querySelector('#card .detail.note') && document.querySelector('#card .detail.note').innerText.includes('<script>')",
            Duration::from_secs(10)
        )
        .await,
        "the note is shown as the text typed"
    );
    assert_eq!(
        desk.js("return window.__xss === undefined;", vec![]).await,
        json!(true)
    );
    assert!(!desk.exists("#card .detail.note b").await);
    assert!(!desk.exists("#card .detail.note img").await);

    // Forged or missing CSRF tokens are refused; the page's own works.
    let note_url = format!("/api/v1/tasks/{task_id}/notes");
    let json_type = json!({"Content-Type": "application/json"});
    let (status, _) = page_request(
        &desk,
        "POST",
        &note_url,
        json_type.clone(),
        "{\"text\":\"x\"}",
    )
    .await;
    assert_eq!(status, 403, "no CSRF header");
    let forged = json!({"Content-Type": "application/json", "X-CSRF-Token": "forged"});
    let (status, _) = page_request(&desk, "POST", &note_url, forged, "{\"text\":\"x\"}").await;
    assert_eq!(status, 403, "a forged CSRF header");
    let csrf = csrf_of(&desk).await;
    let real = json!({"Content-Type": "application/json", "X-CSRF-Token": csrf});
    let (status, _) = page_request(
        &desk,
        "POST",
        &note_url,
        real,
        "{\"text\":\"called the insurer\"}",
    )
    .await;
    assert_eq!(status, 200, "the page's own token");
    let form = json!({"Content-Type": "application/x-www-form-urlencoded"});
    let (status, _) = page_request(&desk, "POST", "/session/end", form, "csrf=forged").await;
    assert_eq!(status, 403, "signing out with a forged token");

    // Complete with a resolution, once the card has re-rendered with the
    // note posted above (its event re-renders the card and the select).
    assert!(
        desk.wait_for(
            "document.querySelector('#card').innerText.includes('called the insurer')",
            Duration::from_secs(10)
        )
        .await,
        "the note never showed on the card"
    );
    desk.select("#resolution", "called_back").await;
    desk.click("#card button.complete-button").await;
    assert!(
        desk.wait_for(
            "document.querySelector('#card .task-status').innerText.includes('Done')",
            Duration::from_secs(10)
        )
        .await
    );
    let (_, done) = server.get_json(&format!("/api/v1/tasks/{task_id}")).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["resolution"], "called_back", "{done}");

    // A clinical task: never in billing's list, and a clear 403 by URL.
    let clinical = tasks::create(
        &db,
        &NewTask {
            queue: Queue::Clinical,
            priority: Priority::High,
            kind: TaskKind::TestResults,
            summary: "Lab results question".into(),
            call_id: None,
            patient_id: None,
            callback_number: Some("5550002222".into()),
        },
    )
    .await
    .unwrap();
    desk.goto(&format!("{base}/queue?status=open")).await;
    assert!(
        !desk
            .exists(&format!("tr[data-task-id='{}']", clinical.id))
            .await
    );
    for url in [
        format!("{base}/queue/tasks/{}", clinical.id),
        format!("{base}/queue?task={}", clinical.id),
    ] {
        desk.goto(&url).await;
        let body = desk.text("body").await;
        assert!(body.contains("Not available to you"), "{url}: {body}");
        assert!(!body.contains("Lab results"), "{url}: {body}");
    }
    desk.screenshot("04-forbidden").await;
    desk.goto(&format!("{base}/calls")).await;
    assert!(desk.text("body").await.contains("Not available to you"));

    // The manager finds the call by a word it contains and plays its
    // recording from a clicked turn.
    let Some(manager) = Browser::start().await else {
        return;
    };
    manager.sign_in(&base, &manager_token).await;
    manager.goto(&format!("{base}/calls?q=bill")).await;
    report_load(&manager, "/calls").await;
    manager.screenshot("05-calls").await;
    assert!(
        manager
            .exists(&format!("tr[data-call-id='{call_id}'] a.open-call"))
            .await,
        "the word finds the call"
    );
    manager.goto(&format!("{base}/calls?q=zebra")).await;
    assert!(
        !manager
            .exists(&format!("tr[data-call-id='{call_id}']"))
            .await
    );
    manager.goto(&format!("{base}/calls/{call_id}")).await;
    report_load(&manager, "/calls/{id}").await;
    let turns = manager
        .js(
            "return [...document.querySelectorAll('button.turn-play')].map(b => Number(b.dataset.atMs));",
            vec![],
        )
        .await;
    let starts: Vec<i64> = turns
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let pick = starts
        .iter()
        .position(|s| *s > 2000)
        .expect("a turn after the greeting");
    manager
        .js(
            "document.querySelectorAll('button.turn-play')[arguments[0]].click();",
            vec![json!(pick)],
        )
        .await;
    let at = starts[pick] as f64 / 1000.0;
    assert!(
        manager
            .wait_for(
                &format!(
                    "(() => {{ const a = document.getElementById('recording'); return a && !a.paused && a.currentTime >= {at} - 0.05; }})()"
                ),
                Duration::from_secs(15)
            )
            .await,
        "the recording plays from the clicked turn ({at} s)"
    );
    assert!(
        manager
            .wait_for(
                "document.querySelector('li.turn.playing')",
                Duration::from_secs(5)
            )
            .await,
        "the playing turn is marked"
    );
    manager.screenshot("06-call-detail").await;
    manager.goto(&format!("{base}/schedule")).await;
    report_load(&manager, "/schedule").await;
    manager.screenshot("07-schedule").await;
    // The access audit has the reads of this test in it (the billing
    // member's refusals among them).
    manager.goto(&format!("{base}/calls/audit")).await;
    report_load(&manager, "/calls/audit").await;
    assert!(
        manager.exists("tr.entry.denied").await,
        "{}",
        manager.text("#main").await
    );
    manager.screenshot("07b-access-audit").await;

    // An idle session (as if unused past the timeout) goes back to sign-in.
    sqlx::query("UPDATE dashboard_sessions SET last_seen_at = '2000-01-01T00:00:00.000Z'")
        .execute(&db.pool)
        .await
        .unwrap();
    desk.goto(&format!("{base}/queue")).await;
    assert_eq!(desk.path().await, "/");
    assert!(desk.text("body").await.contains("session ended"));
    let (status, _) = page_request(&desk, "GET", "/api/v1/tasks", json!({}), "").await;
    assert_eq!(status, 401, "the expired cookie opens no API either");
    desk.screenshot("08-session-expired").await;
    desk.quit().await;
    manager.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_receptionists_see_one_claim_at_once_and_a_queue_of_thousands_pages() {
    if !models_present() {
        return;
    }
    let Some(rita) = Browser::start().await else {
        return;
    };
    let Some(sam) = Browser::start().await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]).await;
    let db = database(data.path()).await;
    let (_, rita_token) = staff::add(&db, "Rita Reception", Role::Receptionist)
        .await
        .unwrap();
    let (_, sam_token) = staff::add(&db, "Sam Desk", Role::Receptionist)
        .await
        .unwrap();
    let base = server.base_url.clone();
    let task = tasks::create(
        &db,
        &NewTask {
            queue: Queue::FrontDesk,
            priority: Priority::Urgent,
            kind: TaskKind::Callback,
            summary: "Wants a call back about parking".into(),
            call_id: None,
            patient_id: None,
            callback_number: Some("5550003333".into()),
        },
    )
    .await
    .unwrap();

    rita.sign_in(&base, &rita_token).await;
    sam.sign_in(&base, &sam_token).await;
    for b in [&rita, &sam] {
        b.goto(&format!("{base}/queue?task={}", task.id)).await;
        assert!(
            b.wait_for(
                "document.querySelector('.live.on')",
                Duration::from_secs(20)
            )
            .await
        );
        assert!(b.exists("#card button.claim").await);
    }
    rita.click("#card button.claim").await;
    let clicked = std::time::Instant::now();
    assert!(
        sam.wait_for(
            "document.querySelector('#card .task-status').innerText.includes('Claimed by Rita Reception') && !document.querySelector('#card button.claim')",
            Duration::from_secs(10)
        )
        .await,
        "Sam's open screen shows Rita's claim"
    );
    eprintln!(
        "FIGURE claim on one screen → shown on another: {} ms",
        clicked.elapsed().as_millis()
    );
    sam.screenshot("09-claimed-by-another").await;
    let csrf = csrf_of(&sam).await;
    let (status, body) = page_request(
        &sam,
        "POST",
        &format!("/api/v1/tasks/{}/claim", task.id),
        json!({"Content-Type": "application/json", "X-CSRF-Token": csrf}),
        "{}",
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("Rita Reception"), "{body}");

    // The event stream drops (the server stops) and a task arrives while
    // it is down: the open page reconnects by itself and catches up.
    rita.js("window.__load = 'before-the-drop';", vec![]).await;
    let port = server.port;
    server.kill();
    assert!(
        rita.wait_for(
            "document.querySelector('.live.off')",
            Duration::from_secs(20)
        )
        .await,
        "the page shows the stream is down"
    );
    let missed = tasks::create(
        &db,
        &NewTask {
            queue: Queue::FrontDesk,
            priority: Priority::High,
            kind: TaskKind::Callback,
            summary: "Arrived while the stream was down".into(),
            call_id: None,
            patient_id: None,
            callback_number: Some("5550004444".into()),
        },
    )
    .await
    .unwrap();
    let server = Server::start_on(data.path(), &[], port).await;
    assert!(
        rita.wait_for(
            &format!(
                "document.querySelector('.live.on') && document.querySelector(\"tr[data-task-id='{}']\")",
                missed.id
            ),
            Duration::from_secs(60)
        )
        .await,
        "the page reconnected and caught up: {}",
        rita.text("#main").await
    );
    assert_eq!(
        rita.js("return window.__load;", vec![]).await,
        json!("before-the-drop"),
        "without a reload"
    );
    rita.screenshot("09b-reconnected").await;

    // Five thousand more open tasks (5,002 in all): the queue renders one
    // page of them.
    let mut tx = db.pool.begin().await.unwrap();
    for i in 0..5000 {
        sqlx::query(
            "INSERT INTO tasks (id, queue, priority, kind, summary, status, created_at) \
             VALUES ($1, 'front_desk', 'normal', 'callback', $2, 'open', $3)",
        )
        .bind(format!("bulk-{i:05}"))
        .bind(format!("Bulk callback {i}"))
        .bind(frontdesk::store::now_text())
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let started = std::time::Instant::now();
    rita.goto(&format!("{base}/queue")).await;
    let loaded = started.elapsed();
    let rows = rita
        .js(
            "return document.querySelectorAll('tr[data-task-id]').length;",
            vec![],
        )
        .await;
    assert_eq!(rows, json!(50));
    assert!(
        rita.text("p.count").await.contains("of 5002"),
        "{}",
        rita.text("p.count").await
    );
    eprintln!(
        "FIGURE /queue with 5,002 tasks: loaded in {} ms (WebDriver navigation)",
        loaded.as_millis()
    );
    report_load(&rita, "/queue with 5,002 tasks").await;
    rita.screenshot("10-queue-5000").await;
    let refresh = rita
        .js(
            "const t0 = performance.now(); const x = new XMLHttpRequest();
             x.open('GET', '/queue/list?page=2', false); x.send();
             return [x.status, performance.now() - t0];",
            vec![],
        )
        .await;
    assert_eq!(refresh[0], json!(200));
    eprintln!(
        "FIGURE a page of the 5,002-task list re-read: {:.0} ms",
        refresh[1].as_f64().unwrap()
    );

    // The schedule: a slot taken meanwhile answers 409, shown clearly.
    let (status, patient) = server
        .post_json(
            "/api/v1/patients",
            &json!({"name": "Pat Example", "date_of_birth": "1970-01-02", "phone": "5550004444"}),
        )
        .await;
    assert_eq!(status, 201, "{patient}");
    let mut date = chrono::Utc::now().date_naive();
    let mut found = false;
    for _ in 0..14 {
        date = date.succ_opt().unwrap();
        rita.goto(&format!("{base}/schedule?date={date}")).await;
        if rita.exists("button.book").await {
            found = true;
            break;
        }
    }
    assert!(found, "an open slot within two weeks");
    rita.type_into("#p-name", "Pat Example").await;
    rita.click("button.find-patient").await;
    assert!(
        rita.wait_for(
            "document.querySelector('#patient-pick option')",
            Duration::from_secs(10)
        )
        .await
    );
    let slot = rita
        .js(
            "const f = document.querySelector('button.book').form;
             return {provider_id: f.provider_id.value, type: f.type.value, start: f.start.value};",
            vec![],
        )
        .await;
    let (status, taken) = server
        .post_json(
            "/api/v1/appointments",
            &json!({"patient_id": patient["id"], "provider_id": slot["provider_id"], "type": slot["type"], "start": slot["start"]}),
        )
        .await;
    assert_eq!(status, 201, "{taken}");
    rita.click("button.book").await;
    assert!(
        rita.wait_for(
            "document.getElementById('status').innerText.includes('Conflict')",
            Duration::from_secs(10)
        )
        .await,
        "the taken slot's 409 is shown: {}",
        rita.text("#status").await
    );
    rita.screenshot("11-schedule-conflict").await;
    rita.quit().await;
    sam.quit().await;
}
