//! `cargo bench --bench audit`: what the access audit costs a request.
//! `GET /api/v1/tasks/{id}` for a task that names a patient, through the
//! real router in-process (no sockets), with the audit (the guard writes a
//! hash-chained entry in a write transaction) and without it (the same
//! handler behind the bare route list, which checks the token and the
//! role but writes nothing); p50 and p99 of each and their difference, on
//! SQLite and, when it is reachable, PostgreSQL. `cargo test` (and so
//! `make test`) runs a short variant; `cargo bench` the full one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use frontdesk::clinic::{Clinic, Clock};
use frontdesk::scheduling::{self, NewPatient};
use frontdesk::staff::{self, Role};
use frontdesk::store::Db;
use frontdesk::tasks::{self, NewTask};
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use frontdesk::web::{self, AppState};
use tower::ServiceExt;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test` runs the short variant.
    let full = std::env::args().any(|a| a == "--bench");
    let requests = if full { 2000 } else { 60 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let sqlite_url = frontdesk::store::sqlite_url_in(dir.path());
        let sqlite = Db::open(&sqlite_url).await.expect("the SQLite database");
        measure("SQLite", sqlite, &sqlite_url, requests).await;
        let postgres = std::env::var("FRONTDESK_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        match fresh_postgres(&postgres).await {
            Some((db, admin, name)) => {
                let base = postgres.rsplit_once('/').map_or("", |(b, _)| b);
                let url = format!("{base}/{name}");
                measure("PostgreSQL", db.clone(), &url, requests).await;
                db.pool.close().await;
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&admin.pool)
                .await;
            }
            None => frontdesk::prerequisites::missing(
                &format!("PostgreSQL at {postgres}"),
                "start it (scripts/ensure-postgres.sh) or set FRONTDESK_TEST_POSTGRES",
            ),
        }
    });
}

async fn fresh_postgres(admin_url: &str) -> Option<(Db, Db, String)> {
    let admin = Db::connect(admin_url).await.ok()?;
    let name = format!("fd_bench_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin.pool)
        .await
        .ok()?;
    let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_string())?;
    let db = Db::open(&format!("{base}/{name}")).await.ok()?;
    Some((db, admin, name))
}

async fn measure(backend: &str, db: Db, database_url: &str, requests: usize) {
    let clinic = Arc::new(Clinic::demo());
    scheduling::sync_catalog(&db, &clinic)
        .await
        .expect("the catalogue");
    let (_, token) = staff::add(&db, "Bench Manager", Role::Manager)
        .await
        .expect("a manager");
    let patient = scheduling::patients::create(
        &db,
        &NewPatient {
            name: "Bench Patient".into(),
            date_of_birth: "1970-01-01".parse().unwrap(),
            phone: None,
        },
        "2026-01-01".parse().unwrap(),
    )
    .await
    .expect("a patient");
    let task = tasks::create(
        &db,
        &NewTask {
            queue: Queue::Clinical,
            priority: Priority::High,
            kind: TaskKind::ClinicalQuestion,
            summary: "bench".into(),
            call_id: None,
            patient_id: Some(patient.id),
            callback_number: None,
        },
    )
    .await
    .expect("a task");
    let state = AppState {
        events: frontdesk::tasks::events::TaskEvents::start(
            db.clone(),
            database_url,
            std::time::Duration::from_secs(15),
        ),
        db: db.clone(),
        clinic,
        clock: Clock::system(),
        auth: Arc::new(web::auth::Tokens::new()),
        metrics: Arc::default(),
        sign_in: Arc::default(),
        client: Default::default(),
    };
    let audited = web::router(state.clone());
    let bare = web::routes::router_of(web::api_routes()).with_state(state);
    let path = format!("/api/v1/tasks/{}", task.id);
    // Warm both, then alternate so load on the machine hits both alike.
    let warm = requests / 10 + 5;
    for _ in 0..warm {
        get(&audited, &path, &token).await;
        get(&bare, &path, &token).await;
    }
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..requests {
        with.push(get(&audited, &path, &token).await);
        without.push(get(&bare, &path, &token).await);
    }
    let (w50, w99) = percentiles(&mut with);
    let (n50, n99) = percentiles(&mut without);
    println!(
        "audit overhead, GET /api/v1/tasks/{{id}}, {backend}, {requests} requests each: \
         with audit p50 {:.2} ms p99 {:.2} ms; without p50 {:.2} ms p99 {:.2} ms; \
         overhead p50 {:+.2} ms p99 {:+.2} ms",
        ms(w50),
        ms(w99),
        ms(n50),
        ms(n99),
        ms(w50) - ms(n50),
        ms(w99) - ms(n99),
    );
    let written = frontdesk::audit::verify(&db)
        .await
        .expect("the chain is readable")
        .expect("the chain holds");
    assert_eq!(
        written.entries as usize,
        requests + warm,
        "one entry per audited request"
    );
}

async fn get(router: &Router, path: &str, token: &str) -> Duration {
    let request = Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let started = Instant::now();
    let response = router.clone().oneshot(request).await.expect("a response");
    assert_eq!(response.status(), 200);
    started.elapsed()
}

fn percentiles(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
