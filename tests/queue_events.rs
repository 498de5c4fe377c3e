//! `GET /api/v1/tasks/events` over real HTTP on the real router, SQLite and
//! PostgreSQL: each history row is one `task` event carrying the task as
//! `GET /api/v1/tasks/{id}` returns it; `Last-Event-ID` (and the
//! `last_event_id` query) resumes with exactly the missed events; each
//! role gets only the events of its part of the queue; idle streams carry
//! heartbeats; clients that drop mid-stream leave nothing behind, and
//! `/metrics` counts the streams open (`frontdesk_sse_clients`).

mod queue_support;
mod scheduling_support;

use std::time::Duration;

use frontdesk::staff::{self, Role};
use frontdesk::store::Db;
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use queue_support::{EventStream, StaffApi, history_ids_after, new_task};
use serde_json::json;

const HEARTBEAT: Duration = Duration::from_millis(200);
/// Long enough for the feed to deliver anything pending (it polls SQLite
/// every 100 ms) on a busy machine.
const QUIET: Duration = Duration::from_millis(1500);
const WAIT: Duration = Duration::from_secs(10);

/// A fresh database: SQLite in a temporary directory, or a fresh
/// PostgreSQL database (`None`, reported, when no server is reachable).
enum Fresh {
    /// Kept until the test ends: the database lives in it.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin: Db,
        name: String,
    },
}

async fn fresh(postgres: bool) -> Option<(String, Fresh)> {
    if postgres {
        let (url, admin, name) = scheduling_support::postgres_database().await?;
        Some((url, Fresh::Postgres { admin, name }))
    } else {
        let dir = tempfile::tempdir().unwrap();
        let url = frontdesk::store::sqlite_url_in(dir.path());
        Some((url, Fresh::Sqlite(dir)))
    }
}

impl Fresh {
    async fn drop_now(self, api: StaffApi) {
        api.state.db.pool.close().await;
        if let Fresh::Postgres { admin, name } = self {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin.pool)
            .await;
        }
    }
}

async fn hire(db: &Db, role: Role) -> (String, String) {
    let (member, token) = staff::add(db, &format!("{role} person"), role)
        .await
        .unwrap();
    (member.id, token)
}

async fn resume_gets_exactly_the_missed_events(postgres: bool) {
    let Some((url, guard)) = fresh(postgres).await else {
        return;
    };
    let api = StaffApi::start(&url, HEARTBEAT).await;
    let db = api.state.db.clone();
    let (_, manager) = hire(&db, Role::Manager).await;
    let (front_id, front) = hire(&db, Role::Receptionist).await;

    // A task from before the stream opened is not sent to a client that
    // asked for no past events.
    new_task(&db, Queue::FrontDesk, Priority::Normal, TaskKind::Callback).await;
    let mut live = api.events(&manager, None).await;
    let first_task = new_task(&db, Queue::FrontDesk, Priority::Normal, TaskKind::Callback).await;
    let first = live.next_event(WAIT).await.expect("the created event");
    assert_eq!(first.event.as_deref(), Some("task"), "{first:?}");
    let data = first.json();
    assert_eq!(data["id"], first_task.as_str(), "{data}");
    assert_eq!(data["history"][0]["action"], "created", "{data}");
    assert_eq!(
        history_ids_after(&db, first.id() - 1).await.first(),
        Some(&first.id()),
        "the event's id is the history row's"
    );
    // Exactly the task as GET returns it.
    let (status, got) = api
        .get(&format!("/api/v1/tasks/{first_task}"), &manager)
        .await;
    assert_eq!(status, 200);
    assert_eq!(data, got);
    assert!(
        live.events_until_quiet(QUIET).await.is_empty(),
        "nothing else happened"
    );
    drop(live);

    // Missed while away: a claim and a note over HTTP, a new task, a release.
    let path = |action: &str| format!("/api/v1/tasks/{first_task}/{action}");
    assert_eq!(api.post(&path("claim"), &front, json!({})).await.0, 200);
    let note = json!({"text": "left a message"});
    assert_eq!(api.post(&path("notes"), &front, note).await.0, 200);
    let second_task = new_task(&db, Queue::FrontDesk, Priority::High, TaskKind::Callback).await;
    assert_eq!(api.post(&path("release"), &front, json!({})).await.0, 200);
    let missed = history_ids_after(&db, first.id()).await;
    assert_eq!(missed.len(), 4, "claimed, note, created, released");

    let last_seen = first.id().to_string();
    let mut resumed = api.events(&manager, Some(&last_seen)).await;
    let got = resumed.events_until_quiet(QUIET).await;
    let ids: Vec<i64> = got.iter().map(|f| f.id()).collect();
    assert_eq!(ids, missed, "every missed event, in order, none twice");
    let tasks: Vec<String> = got
        .iter()
        .map(|f| f.json()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        tasks,
        [&first_task, &first_task, &second_task, &first_task].map(String::clone),
        "each event carries its task"
    );
    // The task as it stands now, with the history the events walk through.
    let now = got[3].json();
    assert_eq!(now["status"], "open");
    let actions: Vec<&str> = now["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "claimed", "note", "released"]);

    // Then live again on the same stream: one more change, once.
    assert_eq!(api.post(&path("claim"), &front, json!({})).await.0, 200);
    let next = resumed.next_event(WAIT).await.expect("the next change");
    assert_eq!(
        vec![next.id()],
        history_ids_after(&db, *missed.last().unwrap()).await
    );
    assert_eq!(next.json()["claimed_by"], front_id.as_str());
    assert!(resumed.events_until_quiet(QUIET).await.is_empty());

    // Clients that cannot set the header resume with the query.
    let url = api.url(&format!("/api/v1/tasks/events?last_event_id={last_seen}"));
    let mut by_query = EventStream::open(&api.client, &url, &manager, None).await;
    let again: Vec<i64> = by_query
        .events_until_quiet(QUIET)
        .await
        .iter()
        .map(|f| f.id())
        .collect();
    assert_eq!(again, history_ids_after(&db, first.id()).await);

    // A resume id that is not an event id is a 400 in the API's shape.
    let response = api
        .client
        .get(api.url("/api/v1/tasks/events"))
        .bearer_auth(&manager)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
    // No token: 401, as on every staff route.
    let response = api
        .client
        .get(api.url("/api/v1/tasks/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    drop((by_query, resumed));
    guard.drop_now(api).await;
}

#[tokio::test]
async fn resume_with_last_event_id_gets_exactly_the_missed_events_sqlite() {
    resume_gets_exactly_the_missed_events(false).await;
}

#[tokio::test]
async fn resume_with_last_event_id_gets_exactly_the_missed_events_postgres() {
    resume_gets_exactly_the_missed_events(true).await;
}

/// The queue each stream's events belong to, in order.
fn queues(frames: &[queue_support::Frame]) -> Vec<String> {
    frames
        .iter()
        .map(|f| f.json()["queue"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn each_role_receives_only_the_events_of_its_part_of_the_queue() {
    let (url, guard) = fresh(false).await.unwrap();
    let api = StaffApi::start(&url, HEARTBEAT).await;
    let db = api.state.db.clone();
    let (_, billing) = hire(&db, Role::Billing).await;
    let (_, clinical) = hire(&db, Role::Clinical).await;
    let (_, front) = hire(&db, Role::Receptionist).await;
    let mut billing_stream = api.events(&billing, None).await;
    let mut clinical_stream = api.events(&clinical, None).await;
    let mut front_stream = api.events(&front, None).await;

    let clinical_task = new_task(
        &db,
        Queue::Clinical,
        Priority::Normal,
        TaskKind::ClinicalQuestion,
    )
    .await;
    let bill = new_task(&db, Queue::Billing, Priority::Normal, TaskKind::Billing).await;
    let urgent = new_task(
        &db,
        Queue::Clinical,
        Priority::Urgent,
        TaskKind::TestResults,
    )
    .await;
    let path = |id: &str| format!("/api/v1/tasks/{id}/claim");
    assert_eq!(
        api.post(&path(&clinical_task), &clinical, json!({}))
            .await
            .0,
        200
    );
    assert_eq!(api.post(&path(&bill), &billing, json!({})).await.0, 200);

    let billing_saw = billing_stream.events_until_quiet(QUIET).await;
    assert_eq!(
        queues(&billing_saw),
        ["billing", "billing"],
        "the billing task created and claimed, nothing clinical"
    );
    let clinical_saw = clinical_stream.events_until_quiet(QUIET).await;
    assert_eq!(queues(&clinical_saw), ["clinical", "clinical", "clinical"]);
    assert_eq!(clinical_saw[1].json()["id"], urgent.as_str());
    // Receptionists see urgent tasks nobody holds, whatever the queue.
    let front_saw = front_stream.events_until_quiet(QUIET).await;
    assert_eq!(front_saw.len(), 1, "{front_saw:?}");
    assert_eq!(front_saw[0].json()["id"], urgent.as_str());

    // Resuming from the very beginning changes nothing of that.
    let mut from_start = api.events(&billing, Some("0")).await;
    assert_eq!(
        queues(&from_start.events_until_quiet(QUIET).await),
        ["billing", "billing"]
    );
    drop((billing_stream, clinical_stream, front_stream, from_start));
    guard.drop_now(api).await;
}

#[tokio::test]
async fn idle_streams_carry_heartbeats_and_dropped_clients_leave_nothing_behind() {
    let (url, guard) = fresh(false).await.unwrap();
    let api = StaffApi::start(&url, HEARTBEAT).await;
    let db = api.state.db.clone();
    let (_, manager) = hire(&db, Role::Manager).await;
    let events = api.state.events.clone();

    // An idle stream says it is alive, as an SSE comment.
    let mut idle = api.events(&manager, None).await;
    let beat = idle.next_frame(WAIT).await.expect("a heartbeat");
    assert!(beat.is_heartbeat() && beat.comment.is_some(), "{beat:?}");
    drop(idle);

    // Five clients read a little of a burst of events and go away mid-stream.
    let mut streams = Vec::new();
    for _ in 0..5 {
        streams.push(api.events(&manager, None).await);
    }
    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            for _ in 0..40 {
                new_task(&db, Queue::FrontDesk, Priority::Normal, TaskKind::Callback).await;
            }
        })
    };
    for stream in &mut streams {
        stream.next_event(WAIT).await.expect("the first event");
    }
    drop(streams);
    writer.await.unwrap();

    // The server notices (at the latest at the next heartbeat) and lets go
    // of every subscription.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while events.subscribers() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} subscriptions still open after their clients left",
            events.subscribers()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // And serves on as before: the API, and a new stream that gets new events.
    let (status, list) = api.get("/api/v1/tasks", &manager).await;
    assert_eq!(status, 200);
    assert_eq!(list["tasks"].as_array().unwrap().len(), 40);
    let mut fresh_stream = api.events(&manager, None).await;
    assert_eq!(events.subscribers(), 1);
    let task = new_task(&db, Queue::FrontDesk, Priority::Normal, TaskKind::Callback).await;
    let frame = fresh_stream.next_event(WAIT).await.expect("a new event");
    assert_eq!(frame.json()["id"], task.as_str());
    drop(fresh_stream);
    guard.drop_now(api).await;
}

/// Many writers at once (tasks created and claimed concurrently) while a
/// stream reads: the stream delivers every history row exactly once, in
/// order. On PostgreSQL this needs ids handed out in commit order
/// (migration 0007): a reader that saw id 11 committed before id 10 would
/// never go back for 10.
async fn concurrent_writers_lose_no_event(postgres: bool) {
    let Some((url, guard)) = fresh(postgres).await else {
        return;
    };
    let api = StaffApi::start(&url, HEARTBEAT).await;
    let db = api.state.db.clone();
    let (_, manager) = hire(&db, Role::Manager).await;
    let start = frontdesk::tasks::events::TaskEvents::latest(&api.state.events)
        .await
        .unwrap();
    let mut stream = api.events(&manager, Some(&start.to_string())).await;
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                for _ in 0..15 {
                    let id =
                        new_task(&db, Queue::FrontDesk, Priority::Normal, TaskKind::Callback).await;
                    frontdesk::tasks::lifecycle::claim(&db, &id, "bench", chrono::Utc::now())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let all = history_ids_after(&db, start).await;
    assert_eq!(all.len(), 8 * 15 * 2);
    let mut seen = Vec::new();
    while seen.len() < all.len() {
        let Some(frame) = stream.next_event(WAIT).await else {
            break;
        };
        seen.push(frame.id());
    }
    assert_eq!(seen, all, "every event once, in order");
    assert!(stream.events_until_quiet(QUIET).await.is_empty());
    drop(stream);
    guard.drop_now(api).await;
}

#[tokio::test]
async fn concurrent_writers_lose_no_event_sqlite() {
    concurrent_writers_lose_no_event(false).await;
}

#[tokio::test]
async fn concurrent_writers_lose_no_event_postgres() {
    concurrent_writers_lose_no_event(true).await;
}

/// The value of `frontdesk_sse_clients` in `/metrics` now.
async fn sse_clients_gauge(api: &queue_support::StaffApi) -> Option<f64> {
    let text = api
        .client
        .get(api.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("frontdesk_sse_clients "))
        .and_then(|v| v.trim().parse().ok())
}

/// Polls `/metrics` until the gauge reads `want` (the server notices a
/// client gone at the latest at the next heartbeat).
async fn gauge_reaches(api: &queue_support::StaffApi, want: f64) -> Option<f64> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = sse_clients_gauge(api).await;
        if now == Some(want) || tokio::time::Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn metrics_count_the_event_streams_open_now() {
    let (url, guard) = fresh(false).await.unwrap();
    let api = StaffApi::start(&url, HEARTBEAT).await;
    let (_, manager) = hire(&api.state.db, Role::Manager).await;
    assert_eq!(sse_clients_gauge(&api).await, Some(0.0), "no stream yet");

    let mut first = api.events(&manager, None).await;
    first.next_frame(WAIT).await.expect("a heartbeat");
    assert_eq!(gauge_reaches(&api, 1.0).await, Some(1.0), "one stream open");
    let second = api.events(&manager, None).await;
    assert_eq!(
        gauge_reaches(&api, 2.0).await,
        Some(2.0),
        "two streams open"
    );
    drop(second);
    assert_eq!(gauge_reaches(&api, 1.0).await, Some(1.0), "one client left");
    drop(first);
    assert_eq!(
        gauge_reaches(&api, 0.0).await,
        Some(0.0),
        "every client left"
    );
    guard.drop_now(api).await;
}
