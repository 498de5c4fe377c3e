//! `cargo bench --bench queue`: the staff queue over real HTTP.
//!
//! - claim throughput and latency (p50, p99) with 20 staff clients claiming
//!   at once, each claim a different open task, on SQLite and PostgreSQL;
//! - time from a task's creation on instance A (the agent's write) to its
//!   event on an event-stream client of instance B, both on one PostgreSQL
//!   database (LISTEN/NOTIFY), p50 and p99; and the same on one SQLite
//!   instance (its feed polls).
//!
//! Each instance is the real staff API (`web::router` with its state: the
//! database pool, the event feed) on a loopback port, without the speech
//! models the queue does not use. `cargo test` (and so `make test`) runs a
//! short variant, so the benchmark cannot rot; `cargo bench` the full one.
//! PostgreSQL is `FRONTDESK_TEST_POSTGRES` or the machine's 127.0.0.1:5432;
//! without it the PostgreSQL figures are skipped with a note (a failure
//! under `FRONTDESK_REQUIRE_ALL`).

#[path = "../tests/queue_support/mod.rs"]
mod queue_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use frontdesk::staff::{self, Role};
use frontdesk::store::Db;
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use queue_support::{StaffApi, new_task};

const CLIENTS: usize = 20;

struct Sizes {
    claims: usize,
    deliveries: usize,
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = if full {
        Sizes {
            claims: 2000,
            deliveries: 200,
        }
    } else {
        Sizes {
            claims: 200,
            deliveries: 20,
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(run(sizes));
}

async fn run(sizes: Sizes) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sqlite = frontdesk::store::sqlite_url_in(dir.path());
    let api = StaffApi::start(&sqlite, Duration::from_secs(15)).await;
    report("claims, SQLite", &claims(&api, sizes.claims).await);
    report(
        "task event, created → delivered, one SQLite instance",
        &deliveries(&api, &api, sizes.deliveries).await,
    );

    let Some((url, admin, name)) = postgres_database().await else {
        return;
    };
    let a = StaffApi::start(&url, Duration::from_secs(15)).await;
    let b = StaffApi::start(&url, Duration::from_secs(15)).await;
    report("claims, PostgreSQL", &claims(&a, sizes.claims).await);
    report(
        "task event, created on A → delivered on B, PostgreSQL",
        &deliveries(&a, &b, sizes.deliveries).await,
    );
    for instance in [a, b] {
        instance.state.db.pool.close().await;
    }
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin.pool)
    .await;
}

/// Latencies of one measurement, and how long it took in all.
struct Measured {
    latencies: Vec<Duration>,
    wall: Duration,
    unit: &'static str,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn report(what: &str, m: &Measured) {
    let mut sorted = m.latencies.clone();
    sorted.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{what}: {} {} in {:.2} s ({:.0}/s); p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        sorted.len(),
        m.unit,
        m.wall.as_secs_f64(),
        sorted.len() as f64 / m.wall.as_secs_f64(),
        ms(percentile(&sorted, 0.50)),
        ms(percentile(&sorted, 0.99)),
        ms(*sorted.last().unwrap_or(&Duration::ZERO)),
    );
}

/// `count` open tasks claimed by 20 staff clients at once over HTTP, each
/// client taking the next task nobody has taken: every answer must be 200.
async fn claims(api: &StaffApi, count: usize) -> Measured {
    let db = &api.state.db;
    let mut tokens = Vec::new();
    for i in 0..CLIENTS {
        let (_, token) = staff::add(db, &format!("Bench claimer {i}"), Role::Receptionist)
            .await
            .expect("a staff account");
        tokens.push(token);
    }
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        ids.push(new_task(db, Queue::FrontDesk, Priority::Normal, TaskKind::Callback).await);
    }
    let ids = Arc::new(ids);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients = tokens.into_iter().map(|token| {
        let (ids, next) = (ids.clone(), next.clone());
        let (client, base) = (api.client.clone(), api.base_url.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(id) = ids.get(i) else {
                    return latencies;
                };
                let sent = Instant::now();
                let response = client
                    .post(format!("{base}/api/v1/tasks/{id}/claim"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("the server answers");
                let status = response.status();
                let _ = response.bytes().await;
                latencies.push(sent.elapsed());
                assert_eq!(status, 200, "claiming task {id}");
            }
        })
    });
    let mut latencies = Vec::with_capacity(count);
    for client in futures_util::future::join_all(clients).await {
        latencies.extend(client.expect("a claim client"));
    }
    Measured {
        latencies,
        wall: started.elapsed(),
        unit: "claims",
    }
}

/// Tasks written through `writer`'s database handle (the agent's path: a
/// call's task is a `tasks::create`), one at a time, each timed until its
/// event arrives on an event stream of `reader`.
async fn deliveries(writer: &StaffApi, reader: &StaffApi, count: usize) -> Measured {
    let mut stream = reader.events(queue_support::ADMIN_TOKEN, None).await;
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let created = Instant::now();
        let id = new_task(
            &writer.state.db,
            Queue::FrontDesk,
            Priority::Normal,
            TaskKind::Callback,
        )
        .await;
        loop {
            let frame = stream
                .next_event(Duration::from_secs(10))
                .await
                .expect("the task's event within 10 s");
            if frame.json()["id"] == id.as_str() {
                break;
            }
        }
        latencies.push(created.elapsed());
        // Apart, as tasks come (not a burst that one wake-up would carry).
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Measured {
        latencies,
        wall: started.elapsed(),
        unit: "events",
    }
}

/// A fresh database on the test PostgreSQL server, or `None` (reported).
async fn postgres_database() -> Option<(String, Db, String)> {
    sqlx::any::install_default_drivers();
    let admin_url = std::env::var("FRONTDESK_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin = match Db::connect(&admin_url).await {
        Ok(db) => db,
        Err(e) => {
            frontdesk::prerequisites::missing(
                &format!("PostgreSQL at {admin_url} ({e:#})"),
                "start it (scripts/ensure-postgres.sh) or set FRONTDESK_TEST_POSTGRES",
            );
            return None;
        }
    };
    let name = format!("fd_bench_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin.pool)
        .await
        .expect("create the benchmark database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin_url.clone());
    Some((format!("{base}/{name}"), admin, name))
}
