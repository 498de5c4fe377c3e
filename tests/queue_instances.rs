//! Two `frontdesk serve` processes on one fresh PostgreSQL database, as a
//! clinic group runs them behind one number: a task the agent writes during
//! a real call on instance A reaches an event-stream client on instance B
//! within a second (LISTEN/NOTIFY); 20 claims racing across the two give
//! one winner and 409s naming the holder; 20 bookings of one slot racing
//! across the two book it once; 20 registrations of one new patient racing
//! across the two (`POST /api/v1/patients`, the unique identity key the
//! phone's registration also relies on) leave one patient.

mod queue_support;
mod scheduling_support;
mod server_process;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use frontdesk::caller::{ScriptStep, place_call};
use frontdesk::staff::{self, Role};
use frontdesk::store::Db;
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use queue_support::{EventStream, new_task};
use serde_json::{Value, json};
use server_process::{ADMIN_TOKEN, Server, caller_voice, models_present};

/// After hours, so a billing question becomes a callback task (fixture
/// `22_billing_after_hours`).
const AFTER_HOURS: &str = "2026-03-16T22:30:00Z";

/// From a change on one instance to its event on the other.
const DELIVERY_BOUND: Duration = Duration::from_secs(1);

async fn post(server: &Server, path: &str, token: &str, body: Value) -> (u16, Value) {
    let response = server
        .client
        .post(server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// Waits for the next event on `stream` about `task_id`, skipping others.
async fn event_for(stream: &mut EventStream, task_id: &str, action: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let frame = stream
            .next_event(left)
            .await
            .unwrap_or_else(|| panic!("no {action} event for task {task_id}"));
        let data = frame.json();
        let last = data["history"].as_array().and_then(|h| h.last()).cloned();
        if data["id"] == task_id && last.is_some_and(|h| h["action"] == action) {
            return data;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_share_one_queue() {
    if !models_present() {
        return;
    }
    let Some((url, admin, name)) = scheduling_support::postgres_database().await else {
        return;
    };
    // Migrated once before either server starts (each would also migrate).
    let db = Db::open(&url).await.expect("the test database");
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("FRONTDESK_NOW", AFTER_HOURS),
    ];
    let (a, b) = tokio::join!(
        Server::start(dir_a.path(), &env),
        Server::start(dir_b.path(), &env)
    );

    // ---- A real call on A writes a billing task; B's client hears of it.
    let mut on_b =
        EventStream::open(&b.client, &b.url("/api/v1/tasks/events"), ADMIN_TOKEN, None).await;
    let mut opts = a.caller(4.0);
    opts.from = "+15551234567".into();
    let script = vec![
        ScriptStep::say("I have a question about a charge on my bill."),
        ScriptStep::say("My name is Maria Gonzalez."),
        ScriptStep::say("Yes."),
        ScriptStep::say("No, that's all, thanks."),
        ScriptStep::wait(60_000),
    ];
    let caller =
        tokio::spawn(async move { place_call(&opts, script, Some(caller_voice("mid"))).await });
    let frame = on_b
        .next_event(Duration::from_secs(600))
        .await
        .unwrap_or_else(|| panic!("no task event on B during the call:\n{}", a.logs()));
    let received = Utc::now();
    let task = frame.json();
    assert_eq!(task["queue"], "billing", "{task}");
    assert_eq!(task["kind"], "billing", "{task}");
    assert!(task["call_id"].is_string(), "the call's task: {task}");
    assert_eq!(task["history"][0]["action"], "created");
    let created: DateTime<Utc> = task["created_at"].as_str().unwrap().parse().unwrap();
    let delivery = (received - created).to_std().unwrap_or_default();
    eprintln!("task created on A by a call, delivered on B after {delivery:?}");
    assert!(
        delivery < DELIVERY_BOUND,
        "created on A at {created}, on B's stream at {received}"
    );
    caller.abort();

    // ---- 20 receptionists claim one task, half on A, half on B.
    let mut crew = Vec::new();
    for i in 0..20 {
        let (member, token) = staff::add(&db, &format!("Claimer {i:02}"), Role::Receptionist)
            .await
            .unwrap();
        crew.push((member, token));
    }
    let contested = new_task(&db, Queue::FrontDesk, Priority::Normal, TaskKind::Callback).await;
    event_for(&mut on_b, &contested, "created").await;
    let path = format!("/api/v1/tasks/{contested}/claim");
    let started = Instant::now();
    let replies = futures_util::future::join_all(crew.iter().enumerate().map(|(i, (_, token))| {
        let server = if i % 2 == 0 { &a } else { &b };
        post(server, &path, token, json!({}))
    }))
    .await;
    let winners: Vec<usize> = (0..replies.len())
        .filter(|i| replies[*i].0 == 200)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one winner: {replies:?}");
    let winner = &crew[winners[0]].0;
    for (i, (status, body)) in replies.iter().enumerate() {
        if i == winners[0] {
            continue;
        }
        assert_eq!(*status, 409, "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&winner.name) && message.contains(&winner.id),
            "the 409 names the holder: {message}"
        );
    }
    let claimed = event_for(&mut on_b, &contested, "claimed").await;
    let seen_after = started.elapsed();
    assert_eq!(claimed["claimed_by"], winner.id.as_str());
    eprintln!(
        "20 claims across A and B, the claim seen on B's stream {seen_after:?} after they started"
    );
    let claims: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM task_history WHERE task_id = $1 AND action = 'claimed'",
    )
    .bind(&contested)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(claims, 1);

    // ---- 20 bookings of one slot, half on A, half on B.
    let (status, patient) = post(
        &a,
        "/api/v1/patients",
        ADMIN_TOKEN,
        json!({"name": "Rhea Racer", "date_of_birth": "1979-05-06", "phone": "5550002222"}),
    )
    .await;
    assert_eq!(status, 201, "{patient}");
    let (_, clinic) = a.get_json("/api/v1/clinic").await;
    let kind = clinic["appointment_types"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The clinic's clock starts at AFTER_HOURS; book a few days after it.
    let today = AFTER_HOURS.parse::<DateTime<Utc>>().unwrap().date_naive();
    let slot = {
        let mut found = None;
        for ahead in 2..30 {
            let date = today + chrono::Duration::days(ahead);
            let (_, slots) = a
                .get_json(&format!("/api/v1/slots?date={date}&type={kind}"))
                .await;
            if let Some(slot) = slots["slots"].as_array().and_then(|s| s.first()) {
                found = Some(slot.clone());
                break;
            }
        }
        found.expect("a free slot in the next four weeks")
    };
    let booking = json!({
        "patient_id": patient["id"], "provider_id": slot["provider_id"],
        "type": kind, "start": slot["start"],
    });
    let replies = futures_util::future::join_all((0..20).map(|i| {
        let server = if i % 2 == 0 { &a } else { &b };
        post(server, "/api/v1/appointments", ADMIN_TOKEN, booking.clone())
    }))
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.0).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "one booking: {replies:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{replies:?}"
    );
    let (_, booked) = a
        .get_json(&format!(
            "/api/v1/appointments?patient_id={}",
            patient["id"].as_str().unwrap()
        ))
        .await;
    let booked: Vec<&Value> = booked["appointments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] == "booked")
        .collect();
    assert_eq!(booked.len(), 1, "{booked:?}");

    // ---- 20 registrations of one new patient, half on A, half on B,
    // spelt as recognition writes the name: one record, the same for all.
    let spellings = ["Nia Gonzalez", "nia gonzales", "Nía González"];
    let replies = futures_util::future::join_all((0..20).map(|i| {
        let server = if i % 2 == 0 { &a } else { &b };
        let body = json!({
            "name": spellings[i % spellings.len()],
            "date_of_birth": "1991-02-03", "phone": "5550003333",
        });
        post(server, "/api/v1/patients", ADMIN_TOKEN, body)
    }))
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.0).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "one registration: {replies:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 200),
        "{replies:?}"
    );
    let ids: std::collections::BTreeSet<&str> =
        replies.iter().filter_map(|r| r.1["id"].as_str()).collect();
    assert_eq!(ids.len(), 1, "every answer is the one record: {replies:?}");
    let records: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM patients WHERE date_of_birth = '1991-02-03'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(records, 1, "two instances, one patient");

    drop((on_b, a, b));
    db.pool.close().await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin.pool)
    .await;
}
