//! `GET /metrics` after a real call over the real websocket (real models):
//! the old counters under their old names, calls by outcome, the reply
//! latency, Whisper and Piper histograms, and the task gauges read from
//! the database.

mod support;

use frontdesk::caller::ScriptStep;
use frontdesk::staff::{self, Role};
use frontdesk::store::Db;
use frontdesk::tasks::{self, NewTask};
use frontdesk::vocabulary::{Priority, Queue, TaskKind};

/// The value of the sample line `name` (exactly, labels included).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_after_a_real_call() {
    let mut url = String::new();
    let app = support::spawn_app_with(|s| url = s.database_url.clone()).await;
    app.call(
        vec![ScriptStep::say(
            "Hi, what time do you open on Monday? That's all, thanks, goodbye.",
        )],
        "mid",
    )
    .await;
    let call = app.ended_call(60).await;
    let outcome = call["outcome"].as_str().unwrap().to_string();

    // A task past its service level, and a claim that wins.
    let db = Db::connect(&url).await.unwrap();
    let task = tasks::create(
        &db,
        &NewTask {
            queue: Queue::Billing,
            priority: Priority::Urgent,
            kind: TaskKind::Billing,
            summary: "metrics".into(),
            call_id: None,
            patient_id: None,
            callback_number: None,
        },
    )
    .await
    .unwrap();
    sqlx::query("UPDATE tasks SET created_at = '2020-01-01T00:00:00.000Z' WHERE id = $1")
        .bind(&task.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let (_, token) = staff::add(&db, "Bill", Role::Billing).await.unwrap();
    let claimed = app
        .client
        .post(app.url(&format!("/api/v1/tasks/{}/claim", task.id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(claimed.status(), 200);

    // The call is counted once its books are written, just after it is
    // stored as ended: scrape until it shows (or 10 s).
    let ended = format!("frontdesk_calls_ended_total{{outcome=\"{outcome}\"}}");
    let mut text = String::new();
    for _ in 0..100 {
        let response = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        text = response.text().await.unwrap();
        if sample(&text, &ended).is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        sample(&text, "frontdesk_calls_started_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "frontdesk_calls_active"), Some(0.0));
    assert_eq!(
        sample(&text, "frontdesk_calls_rejected_busy_total"),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!("frontdesk_calls_ended_total{{outcome=\"{outcome}\"}}")
        ),
        Some(1.0),
        "{text}"
    );
    for histogram in [
        "frontdesk_reply_latency_seconds_count",
        "frontdesk_whisper_seconds_count",
        "frontdesk_piper_seconds_count",
    ] {
        let count = sample(&text, histogram).unwrap_or_else(|| panic!("no {histogram} in {text}"));
        assert!(count >= 1.0, "{histogram} {count}");
    }
    assert_eq!(
        sample(
            &text,
            "frontdesk_tasks_open{queue=\"billing\",priority=\"urgent\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert!(sample(&text, "frontdesk_tasks_overdue").unwrap() >= 1.0);
    assert_eq!(
        sample(&text, "frontdesk_task_claims_total{result=\"won\"}"),
        Some(1.0)
    );
    assert_eq!(sample(&text, "frontdesk_sse_clients"), Some(0.0));
}
