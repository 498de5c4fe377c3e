//! PostgreSQL restarted while staff are claiming: `frontdesk serve` keeps
//! running, requests made while the database is away fail with `503`
//! (`database_unavailable`), and once it is back they succeed again with
//! no restart of frontdesk. Afterwards every task has exactly one
//! `created` and one `claimed` history row (none lost, none doubled), the
//! holder is the one the API told, and an event stream that stayed open
//! through the restart delivered every history row once, in order.
//!
//! The test runs its own PostgreSQL (`private_postgres`): stopping the
//! machine's shared server would break the other tests.

mod private_postgres;
mod queue_support;
mod server_process;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use frontdesk::staff::{self, Role};
use frontdesk::store::Db;
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use private_postgres::PrivatePostgres;
use queue_support::{EventStream, new_task};
use server_process::{ADMIN_TOKEN, Server, models_present};

const TASKS: usize = 40;
const CLAIMERS: usize = 6;
/// Longer than the pool's 5 s acquire timeout, so requests made while the
/// database is down time out there instead of waiting it out.
const DOWNTIME: Duration = Duration::from_secs(8);

/// What one claimer was told.
#[derive(Default)]
struct Outcomes {
    /// task → the claimer the API said holds it (200).
    won: HashMap<String, usize>,
    statuses: Vec<u16>,
    /// Bodies of answers other than 200 and 409.
    others: Vec<(u16, serde_json::Value)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_while_staff_claim_gives_503s_then_recovers_losing_nothing() {
    if !models_present() {
        return;
    }
    let Some(pg) = PrivatePostgres::start() else {
        return;
    };
    let admin = Db::connect(&pg.url("postgres")).await.unwrap();
    sqlx::query("CREATE DATABASE frontdesk")
        .execute(&admin.pool)
        .await
        .unwrap();
    admin.pool.close().await;
    let url = pg.url("frontdesk");
    let db = Db::open(&url).await.unwrap();
    let mut tokens = Vec::new();
    for i in 0..CLAIMERS {
        let (_, token) = staff::add(&db, &format!("Claimer {i}"), Role::Receptionist)
            .await
            .unwrap();
        tokens.push(token);
    }
    let mut task_ids = Vec::new();
    for _ in 0..TASKS {
        task_ids.push(new_task(&db, Queue::FrontDesk, Priority::Normal, TaskKind::Callback).await);
    }
    db.pool.close().await;

    let data = tempfile::tempdir().unwrap();
    let server = Arc::new(Server::start(data.path(), &[("DATABASE_URL", url.as_str())]).await);
    // A manager's dashboard, open from the start, through the restart.
    let mut stream = EventStream::open(
        &server.client,
        &server.url("/api/v1/tasks/events"),
        ADMIN_TOKEN,
        Some("0"),
    )
    .await;

    // Claimers go through the tasks (each in its own order) until every
    // task is settled for them: claimed by them (200) or by someone else (409).
    let outcomes: Arc<Mutex<Vec<Outcomes>>> = Arc::new(Mutex::new(
        (0..CLAIMERS).map(|_| Outcomes::default()).collect(),
    ));
    let mut claimers = Vec::new();
    for (who, token) in tokens.iter().cloned().enumerate() {
        let (server, outcomes, ids) = (server.clone(), outcomes.clone(), task_ids.clone());
        claimers.push(tokio::spawn(async move {
            let mut settled = HashSet::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
            let mut step = 0;
            while settled.len() < ids.len() && tokio::time::Instant::now() < deadline {
                let id = &ids[(who * 7 + step) % ids.len()];
                step += 1;
                if settled.contains(id) {
                    continue;
                }
                let sent = server
                    .client
                    .post(server.url(&format!("/api/v1/tasks/{id}/claim")))
                    .bearer_auth(&token)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                let Ok(response) = sent else {
                    continue;
                };
                let status = response.status().as_u16();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                {
                    let mut o = outcomes.lock().unwrap();
                    o[who].statuses.push(status);
                    match status {
                        200 => {
                            o[who].won.insert(id.clone(), who);
                            settled.insert(id.clone());
                        }
                        409 => {
                            settled.insert(id.clone());
                        }
                        _ => o[who].others.push((status, body)),
                    }
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            settled.len()
        }));
    }

    // Restart PostgreSQL once a few claims are in.
    let won = |outcomes: &Mutex<Vec<Outcomes>>| -> usize {
        outcomes.lock().unwrap().iter().map(|o| o.won.len()).sum()
    };
    while won(&outcomes) < 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pg.stop_server();
    let before = won(&outcomes);
    tokio::time::sleep(DOWNTIME).await;
    pg.start_server();
    for claimer in claimers {
        let settled = claimer.await.unwrap();
        assert_eq!(
            settled,
            TASKS,
            "a claimer never got through:\n{}",
            server.logs()
        );
    }

    let outcomes = outcomes.lock().unwrap();
    let others: Vec<&(u16, serde_json::Value)> =
        outcomes.iter().flat_map(|o| o.others.iter()).collect();
    let answers: usize = outcomes.iter().map(|o| o.statuses.len()).sum();
    eprintln!(
        "{before} of {TASKS} tasks claimed before the stop; {answers} answers in all, {} not 200/409",
        others.len()
    );
    assert!(
        before < TASKS,
        "claims went on after PostgreSQL was back (claimed before the stop: {before})"
    );
    assert!(
        !others.is_empty(),
        "no request failed while PostgreSQL was down"
    );
    for (status, body) in &others {
        assert_eq!(*status, 503, "{body}");
        assert_eq!(body["error"]["code"], "database_unavailable", "{body}");
    }

    // Nothing lost, nothing doubled: one created and one claimed row per
    // task, the holder the one the API said.
    let db = Db::connect(&url).await.unwrap();
    let won: HashMap<String, usize> = outcomes
        .iter()
        .flat_map(|o| o.won.iter().map(|(t, w)| (t.clone(), *w)))
        .collect();
    assert_eq!(won.len(), TASKS, "every task claimed by someone");
    for id in &task_ids {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT action, staff_id FROM task_history WHERE task_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(actions, ["created", "claimed"], "task {id}");
        let holder: Option<String> =
            sqlx::query_scalar("SELECT claimed_by FROM tasks WHERE id = $1")
                .bind(id)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(holder, rows[1].1, "task {id}");
        let told = staff::list(&db)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.name == format!("Claimer {}", won[id]))
            .unwrap();
        assert_eq!(holder.as_deref(), Some(told.id.as_str()), "task {id}");
    }

    // The stream that stayed open saw every history row once, in order.
    let all: Vec<i64> = sqlx::query_scalar("SELECT id FROM task_history ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(all.len(), 2 * TASKS);
    let mut seen = Vec::new();
    while seen.len() < all.len() {
        let Some(frame) = stream.next_event(Duration::from_secs(15)).await else {
            break;
        };
        seen.push(frame.id());
    }
    assert_eq!(seen, all, "the stream through the restart");
    assert!(
        stream.next_event(Duration::from_secs(2)).await.is_none(),
        "nothing after"
    );

    // frontdesk itself never restarted: the same process answers.
    let (status, _) = server.get_json("/readyz").await;
    assert_eq!(status, 200);
    db.pool.close().await;
}
