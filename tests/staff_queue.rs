//! Staff accounts, minimum-necessary access and the task lifecycle, on the
//! real server over loopback HTTP (SQLite and PostgreSQL) and on the store
//! itself (both backends): `frontdesk staff` (the built binary), every
//! route × every role, the 20-way claim race, release, notes, complete,
//! `no_answer`, reassign, lapsed claims, history and service levels.

mod scheduling_support;
mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use axum::http::Method;
use chrono::{DateTime, Duration, Utc};
use frontdesk::staff::{self, Role, StaffMember};
use frontdesk::store::Db;
use frontdesk::store::calls::NewCall;
use frontdesk::tasks::history::Entry;
use frontdesk::tasks::lifecycle::{self, LifecycleError, Resolution};
use frontdesk::tasks::{self, NewTask};
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use frontdesk::web::routes;
use serde_json::{Value, json};
use support::{TestApp, spawn_app_with};

// ---------------------------------------------------------------- helpers

/// The server with a fresh SQLite database (or `database_url`), and a
/// handle on that database.
async fn server(database_url: Option<String>, clinic_toml: Option<String>) -> (TestApp, Db) {
    let mut url = String::new();
    let app = spawn_app_with(|s| {
        if let Some(u) = database_url {
            s.database_url = u;
        }
        s.config_text = clinic_toml;
        url = s.database_url.clone();
    })
    .await;
    let db = Db::connect(&url)
        .await
        .expect("the test reaches the app's database");
    (app, db)
}

async fn send(
    app: &TestApp,
    method: &Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = app.client.request(method.clone(), app.url(path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(b);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let streaming = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if streaming {
        // An event stream does not end: its status is the answer.
        return (status, Value::Null);
    }
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    send(app, &Method::GET, path, Some(token), None).await
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    send(app, &Method::POST, path, Some(token), Some(&body)).await
}

/// One account per role, with its token.
struct Crew(HashMap<Role, (StaffMember, String)>);

impl Crew {
    async fn hire(db: &Db) -> Crew {
        let mut members = HashMap::new();
        for role in Role::ALL {
            let (member, token) = staff::add(db, &format!("{role} person"), role)
                .await
                .expect("staff member added");
            members.insert(role, (member, token));
        }
        Crew(members)
    }
    fn token(&self, role: Role) -> &str {
        &self.0[&role].1
    }
    fn id(&self, role: Role) -> &str {
        &self.0[&role].0.id
    }
}

async fn new_task(db: &Db, queue: Queue, priority: Priority, kind: TaskKind) -> String {
    new_task_for_call(db, queue, priority, kind, None).await
}

async fn new_task_for_call(
    db: &Db,
    queue: Queue,
    priority: Priority,
    kind: TaskKind,
    call_id: Option<&str>,
) -> String {
    tasks::create(
        db,
        &NewTask {
            queue,
            priority,
            kind,
            summary: format!("{} task for the test", kind.as_str()),
            call_id: call_id.map(str::to_string),
            patient_id: None,
            callback_number: Some("5551234567".into()),
        },
    )
    .await
    .expect("task created")
    .id
}

fn actions(task: &Value) -> Vec<String> {
    task["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["action"].as_str().unwrap().to_string())
        .collect()
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or("(not the API's error shape)")
}

async fn drop_postgres(admin: Db, name: &str) {
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin.pool)
    .await;
}

// ---------------------------------------------------------------- staff CLI

fn frontdesk(data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("FRONTDESK_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the frontdesk binary runs")
}

fn field<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no `{name}:` line in {stdout:?}"))
}

#[tokio::test]
async fn staff_cli_adds_lists_and_revokes_and_the_api_follows() {
    let dir = tempfile::tempdir().unwrap();
    let added = frontdesk(
        dir.path(),
        &["staff", "add", "Dana Reyes", "--role", "clinical"],
    );
    assert!(added.status.success(), "{added:?}");
    let stdout = String::from_utf8(added.stdout).unwrap();
    let id = field(&stdout, "id").to_string();
    let token = field(&stdout, "token").to_string();
    assert_eq!(field(&stdout, "role"), "clinical");
    assert_eq!(token.len(), 64, "32 random bytes, hex");
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));

    // Only the hash is stored: no file of the data directory holds the token.
    let url = frontdesk::store::sqlite_url_in(dir.path());
    let db = Db::connect(&url).await.unwrap();
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM staff WHERE id = $1")
        .bind(&id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored, staff::token_hash(&token));
    assert_ne!(stored, token);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "the token is in {}",
                path.display()
            );
        }
    }

    // A second account; the listing shows both, never a token.
    let second = frontdesk(
        dir.path(),
        &["staff", "add", "Sam Okafor", "--role", "billing"],
    );
    assert!(second.status.success(), "{second:?}");
    let second_token = field(&String::from_utf8(second.stdout).unwrap(), "token").to_string();
    let listed = frontdesk(dir.path(), &["staff", "list"]);
    assert!(listed.status.success(), "{listed:?}");
    let listing = String::from_utf8(listed.stdout).unwrap();
    let dana = listing
        .lines()
        .find(|l| l.contains(&id))
        .expect("Dana listed");
    assert!(dana.contains("Dana Reyes") && dana.contains("clinical") && dana.contains("active"));
    assert!(listing.contains("Sam Okafor") && listing.contains("billing"));
    assert!(!listing.contains(&token) && !listing.contains(&second_token));
    assert!(!listing.contains(&stored), "not even the hash is listed");

    // A bad role is refused, naming the roles.
    let bad = frontdesk(dir.path(), &["staff", "add", "Pat", "--role", "janitor"]);
    assert!(!bad.status.success());
    let err = String::from_utf8(bad.stderr).unwrap();
    assert!(
        err.contains("receptionist") && err.contains("records"),
        "{err}"
    );

    // The token works on the server until it is revoked.
    let (app, _db) = server(Some(url.clone()), None).await;
    let (status, _) = get(&app, "/api/v1/tasks", &token).await;
    assert_eq!(status, 200);
    let revoked = frontdesk(dir.path(), &["staff", "revoke", &id]);
    assert!(revoked.status.success(), "{revoked:?}");
    assert!(
        String::from_utf8(revoked.stdout)
            .unwrap()
            .contains("revoked")
    );
    let (status, body) = get(&app, "/api/v1/tasks", &token).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_code(&body), "unauthorized");
    let (status, _) = get(&app, "/api/v1/tasks", &second_token).await;
    assert_eq!(status, 200, "the other account is untouched");
    let listing = String::from_utf8(frontdesk(dir.path(), &["staff", "list"]).stdout).unwrap();
    let dana = listing.lines().find(|l| l.contains(&id)).unwrap();
    assert!(dana.contains("revoked"), "{dana}");

    let unknown = frontdesk(dir.path(), &["staff", "revoke", "no-such-id"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8(unknown.stderr)
            .unwrap()
            .contains("no staff member")
    );
}

// ---------------------------------------------------------------- route × role

const ROLES: [Role; 6] = [
    Role::Receptionist,
    Role::Billing,
    Role::Clinical,
    Role::Records,
    Role::Manager,
    Role::Admin,
];

struct Fixture {
    app: TestApp,
    db: Db,
    crew: Crew,
    call_id: String,
    patient_id: String,
    /// Free, non-overlapping slots: (provider_id, type, start).
    slots: Vec<(String, String, String)>,
    slot_date: String,
}

impl Fixture {
    fn admin(&self) -> &str {
        self.crew.token(Role::Admin)
    }

    async fn book(&self, slot: usize) -> String {
        let (provider, kind, start) = &self.slots[slot];
        let (status, booked) = post(
            &self.app,
            "/api/v1/appointments",
            self.admin(),
            json!({"patient_id": self.patient_id, "provider_id": provider, "type": kind, "start": start}),
        )
        .await;
        assert_eq!(status, 201, "{booked}");
        booked["id"].as_str().unwrap().to_string()
    }
}

async fn fixture() -> Fixture {
    let (app, db) = server(None, None).await;
    let crew = Crew::hire(&db).await;
    let admin = crew.token(Role::Admin).to_string();

    // A call with a recording, one of whose tasks the clinical member holds.
    let recording = app.data_dir.path().join("route-table.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::create(&recording, spec).unwrap();
    for _ in 0..800 {
        wav.write_sample(0i16).unwrap();
    }
    wav.finalize().unwrap();
    let call_id = "call-route-table".to_string();
    db.insert_call(&NewCall {
        id: call_id.clone(),
        provider: "twilio".into(),
        recording_path: Some(recording.display().to_string()),
        ..NewCall::default()
    })
    .await
    .unwrap();
    let held = new_task_for_call(
        &db,
        Queue::Clinical,
        Priority::High,
        TaskKind::ClinicalQuestion,
        Some(&call_id),
    )
    .await;
    lifecycle::claim(&db, &held, crew.id(Role::Clinical), Utc::now())
        .await
        .unwrap();

    let (status, patient) = post(
        &app,
        "/api/v1/patients",
        &admin,
        json!({"name": "Routa Table", "date_of_birth": "1970-01-02", "phone": "5550001111"}),
    )
    .await;
    assert_eq!(status, 201, "{patient}");
    let patient_id = patient["id"].as_str().unwrap().to_string();

    // A day with two dozen free slots that do not overlap.
    let (_, clinic) = get(&app, "/api/v1/clinic", &admin).await;
    let kind = clinic["appointment_types"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let today = Utc::now().date_naive();
    for ahead in 2..30 {
        let date = (today + Duration::days(ahead)).to_string();
        let (status, found) = get(
            &app,
            &format!("/api/v1/slots?date={date}&type={kind}"),
            &admin,
        )
        .await;
        assert_eq!(status, 200, "{found}");
        let mut last_end: HashMap<String, String> = HashMap::new();
        let mut slots = Vec::new();
        for s in found["slots"].as_array().unwrap() {
            let provider = s["provider_id"].as_str().unwrap().to_string();
            let (start, end) = (s["start"].as_str().unwrap(), s["end"].as_str().unwrap());
            let start_at: DateTime<Utc> = start.parse().unwrap();
            if last_end
                .get(&provider)
                .is_some_and(|e| e.parse::<DateTime<Utc>>().unwrap() > start_at)
            {
                continue;
            }
            last_end.insert(provider.clone(), end.to_string());
            slots.push((provider, kind.clone(), start.to_string()));
        }
        if slots.len() >= 24 {
            return Fixture {
                app,
                db,
                crew,
                call_id,
                patient_id,
                slots,
                slot_date: date,
            };
        }
    }
    panic!("no day in the next four weeks has two dozen free slots");
}

/// The request one role makes on one route, and the status each role gets
/// (receptionist, billing, clinical, records, manager, admin). `None`: the
/// route has no entry here, which fails the test.
async fn case(
    f: &Fixture,
    method: &Method,
    path: &str,
    role: Role,
) -> Option<(String, Option<Value>, [u16; 6])> {
    let i = ROLES.iter().position(|r| *r == role).unwrap();
    let with_id = |id: &str| path.replace("{id}", id);
    const ALL_OK: [u16; 6] = [200; 6];
    const SCHEDULERS: [u16; 6] = [200, 403, 403, 403, 200, 200];
    const SCHEDULERS_CREATE: [u16; 6] = [201, 403, 403, 403, 201, 201];
    const MANAGERS: [u16; 6] = [403, 403, 403, 403, 200, 200];
    const CALL_HOLDER: [u16; 6] = [403, 403, 200, 403, 200, 200];
    Some(match (method.as_str(), path) {
        (
            "GET",
            "/healthz"
            | "/readyz"
            | "/metrics"
            | "/api/v1/clinic"
            | "/api/v1/tasks"
            | "/api/v1/tasks/events"
            | "/api/v1/openapi.json",
        ) => (path.to_string(), None, ALL_OK),
        ("GET", "/api/v1/calls" | "/api/v1/audit") => (path.to_string(), None, MANAGERS),
        ("GET", "/api/v1/calls/{id}" | "/api/v1/calls/{id}/recording") => {
            (with_id(&f.call_id), None, CALL_HOLDER)
        }
        ("GET", "/api/v1/patients") => ("/api/v1/patients?name=routa".into(), None, SCHEDULERS),
        ("POST", "/api/v1/patients") => (
            path.to_string(),
            Some(
                json!({"name": format!("Route {role} Patient"), "date_of_birth": "1981-02-03", "phone": null}),
            ),
            SCHEDULERS_CREATE,
        ),
        ("GET", "/api/v1/slots") => (format!("{path}?date={}", f.slot_date), None, ALL_OK),
        ("GET", "/api/v1/appointments") => (path.to_string(), None, SCHEDULERS),
        // Front desk staff take warm transfers; each sets only their own.
        ("GET", "/api/v1/staff/me/availability") => (path.to_string(), None, SCHEDULERS),
        ("PUT", "/api/v1/staff/me/availability") => (
            path.to_string(),
            Some(json!({"available": true, "phone": "+15555550142"})),
            SCHEDULERS,
        ),
        ("POST", "/api/v1/appointments") => {
            let (provider, kind, start) = &f.slots[i];
            (
                path.to_string(),
                Some(
                    json!({"patient_id": f.patient_id, "provider_id": provider, "type": kind, "start": start}),
                ),
                SCHEDULERS_CREATE,
            )
        }
        ("POST", "/api/v1/appointments/{id}/cancel") => {
            (with_id(&f.book(6 + i).await), None, SCHEDULERS)
        }
        ("POST", "/api/v1/appointments/{id}/move") => {
            let (provider, _, start) = &f.slots[18 + i];
            (
                with_id(&f.book(12 + i).await),
                Some(json!({"start": start, "provider_id": provider})),
                SCHEDULERS,
            )
        }
        ("GET", "/api/v1/tasks/{id}") => {
            let id = new_task(
                &f.db,
                Queue::Clinical,
                Priority::Normal,
                TaskKind::TestResults,
            )
            .await;
            (with_id(&id), None, [403, 403, 200, 403, 200, 200])
        }
        ("POST", "/api/v1/tasks/{id}/claim") => {
            let id = new_task(
                &f.db,
                Queue::FrontDesk,
                Priority::Normal,
                TaskKind::Callback,
            )
            .await;
            (with_id(&id), None, [200, 403, 403, 403, 200, 200])
        }
        ("POST", "/api/v1/tasks/{id}/release") => {
            // Held by the records member: only they may release it.
            let id = new_task(
                &f.db,
                Queue::Records,
                Priority::Normal,
                TaskKind::RecordsRequest,
            )
            .await;
            lifecycle::claim(&f.db, &id, f.crew.id(Role::Records), Utc::now())
                .await
                .unwrap();
            (with_id(&id), None, [403, 403, 403, 200, 409, 409])
        }
        ("POST", "/api/v1/tasks/{id}/notes") => {
            let id = new_task(&f.db, Queue::Billing, Priority::Normal, TaskKind::Billing).await;
            (
                with_id(&id),
                Some(json!({"text": "called the insurer"})),
                [403, 200, 403, 403, 200, 200],
            )
        }
        ("POST", "/api/v1/tasks/{id}/reassign") => {
            let id = new_task(
                &f.db,
                Queue::Clinical,
                Priority::High,
                TaskKind::ClinicalQuestion,
            )
            .await;
            (
                with_id(&id),
                Some(json!({"staff_id": f.crew.id(Role::Clinical)})),
                MANAGERS,
            )
        }
        ("POST", "/api/v1/tasks/{id}/complete") => {
            // Held by the receptionist: only they may complete it.
            let id = new_task(
                &f.db,
                Queue::FrontDesk,
                Priority::Normal,
                TaskKind::Callback,
            )
            .await;
            lifecycle::claim(&f.db, &id, f.crew.id(Role::Receptionist), Utc::now())
                .await
                .unwrap();
            (
                with_id(&id),
                Some(json!({"resolution": "resolved"})),
                [200, 403, 403, 403, 409, 409],
            )
        }
        _ => return None,
    })
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_policy_says() {
    let f = fixture().await;
    let rules = routes::rules();
    assert!(rules.len() >= 20, "the route list: {rules:?}");

    // A revoked member's token.
    let (gone, gone_token) = staff::add(&f.db, "Gone Person", Role::Manager)
        .await
        .unwrap();
    staff::revoke(&f.db, &gone.id).await.unwrap();

    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    for rule in rules {
        let public = rule.access == frontdesk::web::policy::Access::Public;
        for role in ROLES {
            let Some((path, body, expected)) = case(&f, &rule.method, rule.path, role).await else {
                missing.push(format!("{} {}", rule.method, rule.path));
                break;
            };
            let i = ROLES.iter().position(|r| *r == role).unwrap();
            let (status, reply) = send(
                &f.app,
                &rule.method,
                &path,
                Some(f.crew.token(role)),
                body.as_ref(),
            )
            .await;
            if status != expected[i] {
                wrong.push(format!(
                    "{} {} as {role}: {status}, expected {} ({reply})",
                    rule.method, rule.path, expected[i]
                ));
            }
            if status == 403 {
                assert_eq!(error_code(&reply), "forbidden", "{} {}", rule.method, path);
            }
            if role == Role::Receptionist {
                // No token, an unknown token, a revoked token: 401, the API's shape.
                for token in [None, Some("not-a-token"), Some(gone_token.as_str())] {
                    let (status, reply) =
                        send(&f.app, &rule.method, &path, token, body.as_ref()).await;
                    let expected = if public { 200 } else { 401 };
                    if status != expected {
                        wrong.push(format!(
                            "{} {} with token {token:?}: {status}, expected {expected}",
                            rule.method, rule.path
                        ));
                    } else if !public {
                        assert_eq!(error_code(&reply), "unauthorized");
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes with no expectation in this table (give each new route a rule and a row): {missing:?}"
    );
    assert!(
        wrong.is_empty(),
        "routes that broke the policy:\n{}",
        wrong.join("\n")
    );

    // The break-glass admin token still works, as an admin.
    let (status, _) = get(&f.app, "/api/v1/calls", &f.app.admin_token).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn each_role_sees_its_own_part_of_the_queue() {
    let (app, db) = server(None, None).await;
    let crew = Crew::hire(&db).await;
    let front = new_task(&db, Queue::FrontDesk, Priority::Normal, TaskKind::Callback).await;
    let front_high = new_task(
        &db,
        Queue::FrontDesk,
        Priority::High,
        TaskKind::FailedUnderstanding,
    )
    .await;
    let billing = new_task(&db, Queue::Billing, Priority::Normal, TaskKind::Billing).await;
    let billing_urgent = new_task(&db, Queue::Billing, Priority::Urgent, TaskKind::Billing).await;
    let clinical = new_task(
        &db,
        Queue::Clinical,
        Priority::Normal,
        TaskKind::TestResults,
    )
    .await;
    let records = new_task(
        &db,
        Queue::Records,
        Priority::Normal,
        TaskKind::RecordsRequest,
    )
    .await;
    // An emergency task filed as high priority: clinical staff see it by its kind.
    let emergency = new_task(&db, Queue::FrontDesk, Priority::High, TaskKind::Emergency).await;
    let everything = vec![
        &front,
        &front_high,
        &billing,
        &billing_urgent,
        &clinical,
        &records,
        &emergency,
    ];

    let seen = |role: Role| {
        let app = &app;
        let token = crew.token(role).to_string();
        async move {
            let (status, body) = get(app, "/api/v1/tasks", &token).await;
            assert_eq!(status, 200, "{body}");
            let mut ids: Vec<String> = body["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        }
    };
    let sorted = |v: Vec<&String>| {
        let mut v: Vec<String> = v.into_iter().cloned().collect();
        v.sort();
        v
    };
    assert_eq!(
        seen(Role::Receptionist).await,
        sorted(vec![&front, &front_high, &emergency, &billing_urgent])
    );
    assert_eq!(
        seen(Role::Billing).await,
        sorted(vec![&billing, &billing_urgent])
    );
    assert_eq!(
        seen(Role::Clinical).await,
        sorted(vec![&clinical, &billing_urgent, &emergency])
    );
    assert_eq!(seen(Role::Records).await, sorted(vec![&records]));
    assert_eq!(seen(Role::Manager).await, sorted(everything.clone()));
    assert_eq!(seen(Role::Admin).await, sorted(everything));

    // Once clinical claims the urgent billing task, the front desk no longer sees it;
    // billing (its queue) and the holder still do.
    let (status, _) = post(
        &app,
        &format!("/api/v1/tasks/{billing_urgent}/claim"),
        crew.token(Role::Clinical),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!seen(Role::Receptionist).await.contains(&billing_urgent));
    assert!(seen(Role::Billing).await.contains(&billing_urgent));
    assert!(seen(Role::Clinical).await.contains(&billing_urgent));

    // A filter narrows a role's part, never widens it.
    let (_, body) = get(
        &app,
        "/api/v1/tasks?queue=records",
        crew.token(Role::Billing),
    )
    .await;
    assert_eq!(body["tasks"], json!([]));
    // One task outside the role's part: 403, not its contents.
    let (status, body) = get(
        &app,
        &format!("/api/v1/tasks/{records}"),
        crew.token(Role::Receptionist),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.get("summary").is_none());
    let (status, _) = get(
        &app,
        "/api/v1/tasks/no-such-task",
        crew.token(Role::Manager),
    )
    .await;
    assert_eq!(status, 404);
}

// ---------------------------------------------------------------- lifecycle

#[tokio::test]
async fn claim_release_notes_complete_no_answer_and_reassign() {
    let (app, db) = server(None, None).await;
    let crew = Crew::hire(&db).await;
    let (second, second_token) = staff::add(&db, "Robin Front", Role::Receptionist)
        .await
        .unwrap();
    let me = crew.token(Role::Receptionist);
    let my_id = crew.id(Role::Receptionist).to_string();
    let id = new_task(&db, Queue::FrontDesk, Priority::Normal, TaskKind::Callback).await;
    let path = |action: &str| format!("/api/v1/tasks/{id}/{action}");

    // The task's shape, with the fields this slice adds.
    let (status, task) = get(&app, &format!("/api/v1/tasks/{id}"), me).await;
    assert_eq!(status, 200, "{task}");
    for field in [
        "patient",
        "attempts",
        "history",
        "due_at",
        "overdue",
        "claimed_by",
    ] {
        assert!(task.get(field).is_some(), "task field {field}: {task}");
    }
    assert_eq!(task["status"], "open");
    assert_eq!(task["attempts"], 0);
    assert_eq!(task["overdue"], false);
    assert_eq!(actions(&task), ["created"]);

    // Claim; a second claimer gets 409 naming the holder.
    let (status, task) = post(&app, &path("claim"), me, json!({})).await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["status"], "claimed");
    assert_eq!(task["claimed_by"], my_id.as_str());
    assert!(task["claimed_at"].is_string());
    let (status, body) = post(&app, &path("claim"), &second_token, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(error_code(&body), "conflict");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("receptionist person") && message.contains(&my_id),
        "{message}"
    );

    // Only the holder releases or completes.
    let (status, body) = post(&app, &path("release"), &second_token, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(&my_id));
    let (status, body) = post(
        &app,
        &path("complete"),
        &second_token,
        json!({"resolution": "resolved"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // Notes: anyone who sees the task; empty or malformed is a 400 naming the field.
    let (status, body) = post(&app, &path("notes"), &second_token, json!({"text": "  "})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("text"));
    let (status, body) = post(&app, &path("notes"), &second_token, json!({"words": "x"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(&body), "bad_request");
    let (status, task) = post(
        &app,
        &path("notes"),
        &second_token,
        json!({"text": "Patient prefers mornings."}),
    )
    .await;
    assert_eq!(status, 200, "{task}");
    let note = task["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(note["action"], "note");
    assert_eq!(note["detail"], "Patient prefers mornings.");
    assert_eq!(note["staff_id"], second.id.as_str());
    assert_eq!(
        task["status"], "claimed",
        "a note does not change the holder"
    );

    // Unknown resolution: 400 naming the field and the choices.
    let (status, body) = post(
        &app,
        &path("complete"),
        me,
        json!({"resolution": "gave_up"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("resolution") && message.contains("left_voicemail"),
        "{message}"
    );

    // no_answer keeps it open, releases it, counts the attempt.
    let (status, task) = post(
        &app,
        &path("complete"),
        me,
        json!({"resolution": "no_answer", "note": "rang 8 times"}),
    )
    .await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["status"], "open");
    assert_eq!(task["claimed_by"], Value::Null);
    assert_eq!(task["attempts"], 1);
    assert_eq!(task["resolution"], Value::Null);
    assert_eq!(
        actions(&task),
        ["created", "claimed", "note", "note", "attempt"]
    );
    // Completing an open task: claim it first.
    let (status, body) = post(
        &app,
        &path("complete"),
        me,
        json!({"resolution": "resolved"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("claim it first")
    );

    // The other receptionist claims it, releases it, claims again and finishes.
    for step in ["claim", "release", "claim"] {
        let (status, body) = post(&app, &path(step), &second_token, json!({})).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let (status, task) = post(
        &app,
        &path("complete"),
        &second_token,
        json!({"resolution": "called_back", "note": "booked nothing, question answered"}),
    )
    .await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["status"], "done");
    assert_eq!(task["resolution"], "called_back");
    assert!(task["completed_at"].is_string());
    assert_eq!(task["overdue"], false, "a done task is never overdue");
    assert_eq!(
        actions(&task),
        [
            "created",
            "claimed",
            "note",
            "note",
            "attempt",
            "claimed",
            "released",
            "claimed",
            "note",
            "completed"
        ]
    );
    let (status, body) = post(&app, &path("claim"), me, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already done")
    );

    // Reassign (managers): to a member whose role works the queue.
    let other = new_task(
        &db,
        Queue::Clinical,
        Priority::High,
        TaskKind::ClinicalQuestion,
    )
    .await;
    let reassign = format!("/api/v1/tasks/{other}/reassign");
    let manager = crew.token(Role::Manager);
    let (status, _) = post(
        &app,
        &reassign,
        crew.token(Role::Clinical),
        json!({"staff_id": crew.id(Role::Clinical)}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = post(
        &app,
        &reassign,
        manager,
        json!({"staff_id": crew.id(Role::Billing)}),
    )
    .await;
    assert_eq!(
        status, 422,
        "billing does not work the clinical queue: {body}"
    );
    let (status, body) = post(&app, &reassign, manager, json!({"staff_id": "nobody"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("staff_id")
    );
    let (status, task) = post(
        &app,
        &reassign,
        manager,
        json!({"staff_id": crew.id(Role::Clinical)}),
    )
    .await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["status"], "claimed");
    assert_eq!(task["claimed_by"], crew.id(Role::Clinical));
    let last = task["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "reassigned");
    assert_eq!(last["staff_id"], crew.id(Role::Manager));
    // The new holder may release it; a revoked member cannot be given work.
    let (status, _) = post(
        &app,
        &format!("/api/v1/tasks/{other}/release"),
        crew.token(Role::Clinical),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let (clin2, _) = staff::add(&db, "Former Nurse", Role::Clinical)
        .await
        .unwrap();
    staff::revoke(&db, &clin2.id).await.unwrap();
    let (status, _) = post(&app, &reassign, manager, json!({"staff_id": clin2.id})).await;
    assert_eq!(status, 422);
    let (status, _) = post(
        &app,
        "/api/v1/tasks/no-such-task/reassign",
        manager,
        json!({"staff_id": crew.id(Role::Clinical)}),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_call_is_readable_by_the_holder_of_its_task_only_while_held() {
    let (app, db) = server(None, None).await;
    let crew = Crew::hire(&db).await;
    db.insert_call(&NewCall {
        id: "call-held".into(),
        provider: "twilio".into(),
        ..NewCall::default()
    })
    .await
    .unwrap();
    let task = new_task_for_call(
        &db,
        Queue::Billing,
        Priority::Normal,
        TaskKind::Billing,
        Some("call-held"),
    )
    .await;
    let billing = crew.token(Role::Billing);
    let (status, _) = get(&app, "/api/v1/calls/call-held", billing).await;
    assert_eq!(status, 403, "seeing the task is not holding it");
    post(
        &app,
        &format!("/api/v1/tasks/{task}/claim"),
        billing,
        json!({}),
    )
    .await;
    let (status, call) = get(&app, "/api/v1/calls/call-held", billing).await;
    assert_eq!(status, 200, "{call}");
    assert!(call["turns"].is_array());
    let (status, _) = get(&app, "/api/v1/calls/call-held", crew.token(Role::Clinical)).await;
    assert_eq!(status, 403);
    post(
        &app,
        &format!("/api/v1/tasks/{task}/complete"),
        billing,
        json!({"resolution": "resolved"}),
    )
    .await;
    let (status, _) = get(&app, "/api/v1/calls/call-held", billing).await;
    assert_eq!(status, 403, "done: no longer held");
    let (status, _) = get(&app, "/api/v1/calls", billing).await;
    assert_eq!(status, 403);
}

// ---------------------------------------------------------------- the claim race

async fn claim_race_over_http(database_url: Option<String>) {
    let (app, db) = server(database_url, None).await;
    let task = new_task(&db, Queue::Clinical, Priority::Urgent, TaskKind::Emergency).await;
    let mut claimers = Vec::new();
    for n in 0..20 {
        claimers.push(
            staff::add(&db, &format!("Nurse {n:02}"), Role::Clinical)
                .await
                .unwrap(),
        );
    }
    let path = format!("/api/v1/tasks/{task}/claim");
    let replies = futures_util::future::join_all(claimers.iter().map(|(_, token)| {
        let (app, path) = (&app, &path);
        async move { post(app, path, token, json!({})).await }
    }))
    .await;
    let winners: Vec<usize> = (0..20).filter(|&i| replies[i].0 == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one claim wins: {:?}",
        replies.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    let winner = &claimers[winners[0]].0;
    assert_eq!(replies[winners[0]].1["claimed_by"], winner.id.as_str());
    for (i, (status, body)) in replies.iter().enumerate() {
        if i == winners[0] {
            continue;
        }
        assert_eq!(*status, 409, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&winner.name) && message.contains(&winner.id),
            "{message}"
        );
    }
    let (_, stored) = get(&app, &format!("/api/v1/tasks/{task}"), &app.admin_token).await;
    assert_eq!(stored["claimed_by"], winner.id.as_str());
    assert_eq!(
        actions(&stored),
        ["created", "claimed"],
        "one claim recorded"
    );
}

#[tokio::test]
async fn twenty_claimers_over_http_one_wins_sqlite() {
    claim_race_over_http(None).await;
}

#[tokio::test]
async fn twenty_claimers_over_http_one_wins_postgres() {
    let Some((url, admin, name)) = scheduling_support::postgres_database().await else {
        return;
    };
    claim_race_over_http(Some(url)).await;
    drop_postgres(admin, &name).await;
}

async fn claim_race_in_store(db: &Db) {
    let task = new_task(
        db,
        Queue::FrontDesk,
        Priority::High,
        TaskKind::FailedUnderstanding,
    )
    .await;
    let now = Utc::now();
    let handles: Vec<_> = (0..20)
        .map(|n| {
            let (db, task) = (db.clone(), task.clone());
            tokio::spawn(
                async move { lifecycle::claim(&db, &task, &format!("staff-{n}"), now).await },
            )
        })
        .collect();
    let mut won = Vec::new();
    let mut held_by = Vec::new();
    for h in handles {
        match h.await.unwrap() {
            Ok(t) => won.push(t.claimed_by.unwrap()),
            Err(LifecycleError::HeldBy(holder)) => held_by.push(holder),
            Err(e) => panic!("unexpected: {e:#}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one claim wins");
    assert_eq!(held_by.len(), 19);
    assert!(
        held_by.iter().all(|h| *h == won[0]),
        "every loser is told the winner"
    );
    let claims: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM task_history WHERE task_id = $1 AND action = 'claimed'",
    )
    .bind(&task)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(claims, 1);
}

// ---------------------------------------------------------------- store level, both backends

/// A claim lapses after the timeout without activity (a note by the holder
/// is activity); the history says `expired` at the moment it lapsed.
async fn claims_lapse(db: &Db) {
    let t0: DateTime<Utc> = "2026-03-16T14:00:00Z".parse().unwrap();
    let timeout = Duration::minutes(30);
    let task = new_task(db, Queue::Billing, Priority::Normal, TaskKind::Billing).await;
    lifecycle::claim(db, &task, "holder-1", t0).await.unwrap();
    assert_eq!(
        lifecycle::expire_stale(db, t0 + Duration::minutes(29), timeout)
            .await
            .unwrap(),
        0
    );
    lifecycle::add_note(
        db,
        &task,
        "holder-1",
        "still on it",
        t0 + Duration::minutes(20),
    )
    .await
    .unwrap();
    assert_eq!(
        lifecycle::expire_stale(db, t0 + Duration::minutes(45), timeout)
            .await
            .unwrap(),
        0
    );
    // A note by someone else is not the holder's activity.
    lifecycle::add_note(
        db,
        &task,
        "someone-else",
        "any news?",
        t0 + Duration::minutes(40),
    )
    .await
    .unwrap();
    assert_eq!(
        lifecycle::expire_stale(db, t0 + Duration::minutes(51), timeout)
            .await
            .unwrap(),
        1
    );
    let after = tasks::get(db, &task).await.unwrap().unwrap();
    assert_eq!(after.status, "open");
    assert_eq!(after.claimed_by, None);
    let history = tasks::history::of_tasks(db, std::slice::from_ref(&task))
        .await
        .unwrap();
    let entries: &Vec<Entry> = &history[&task];
    let last = entries.last().unwrap();
    assert_eq!(last.action, "expired");
    assert_eq!(last.at, "2026-03-16T14:50:00.000Z");
    assert_eq!(last.staff_id, None);
    assert!(last.detail.as_deref().unwrap().contains("holder-1"));
    // Expired once; a second sweep finds nothing; anyone may claim again.
    assert_eq!(
        lifecycle::expire_stale(db, t0 + Duration::minutes(90), timeout)
            .await
            .unwrap(),
        0
    );
    lifecycle::claim(db, &task, "holder-2", t0 + Duration::minutes(91))
        .await
        .unwrap();
}

/// Resolutions, attempts and the append-only history.
async fn lifecycle_in_store(db: &Db) {
    let now = Utc::now();
    let task = new_task(
        db,
        Queue::Records,
        Priority::Normal,
        TaskKind::RecordsRequest,
    )
    .await;
    assert!(matches!(
        lifecycle::complete(db, &task, "a", Resolution::Resolved, None, now).await,
        Err(LifecycleError::NotClaimed)
    ));
    lifecycle::claim(db, &task, "a", now).await.unwrap();
    assert!(matches!(
        lifecycle::release(db, &task, "b", now).await,
        Err(LifecycleError::HeldBy(h)) if h == "a"
    ));
    for n in 1..=2 {
        let t = lifecycle::complete(db, &task, "a", Resolution::NoAnswer, None, now)
            .await
            .unwrap();
        assert_eq!((t.status.as_str(), t.attempts), ("open", n));
        lifecycle::claim(db, &task, "a", now).await.unwrap();
    }
    let done = lifecycle::complete(
        db,
        &task,
        "a",
        Resolution::LeftVoicemail,
        Some("left a message"),
        now,
    )
    .await
    .unwrap();
    assert_eq!(done.status, "done");
    assert_eq!(done.resolution.as_deref(), Some("left_voicemail"));
    assert_eq!(done.attempts, 2);
    assert!(matches!(
        lifecycle::claim(db, &task, "b", now).await,
        Err(LifecycleError::Done)
    ));
    assert!(matches!(
        lifecycle::reassign(db, &task, "m", "b", now).await,
        Err(LifecycleError::Done)
    ));
    assert!(matches!(
        lifecycle::claim(db, "nope", "b", now).await,
        Err(LifecycleError::NotFound)
    ));
    // The history cannot be rewritten.
    let rewrite = sqlx::query("UPDATE task_history SET detail = 'edited' WHERE task_id = $1")
        .bind(&task)
        .execute(&db.pool)
        .await;
    assert!(rewrite.is_err(), "history rows are append-only");
    let delete = sqlx::query("DELETE FROM task_history WHERE task_id = $1")
        .bind(&task)
        .execute(&db.pool)
        .await;
    assert!(delete.is_err(), "history rows are append-only");
    // Staff accounts: tokens found by hash, revoked ones not at all.
    let (member, token) = staff::add(db, "Lee Records", Role::Records).await.unwrap();
    assert_eq!(
        staff::find_by_token(db, &token).await.unwrap().unwrap().id,
        member.id
    );
    assert!(
        staff::find_by_token(db, &format!("{token}x"))
            .await
            .unwrap()
            .is_none()
    );
    staff::revoke(db, &member.id).await.unwrap();
    assert!(staff::find_by_token(db, &token).await.unwrap().is_none());
}

#[tokio::test]
async fn store_lifecycle_sqlite() {
    let (db, _dir) = scheduling_support::sqlite().await;
    claim_race_in_store(&db).await;
    claims_lapse(&db).await;
    lifecycle_in_store(&db).await;
}

#[tokio::test]
async fn store_lifecycle_postgres() {
    let Some((db, guard)) = scheduling_support::postgres().await else {
        return;
    };
    claim_race_in_store(&db).await;
    claims_lapse(&db).await;
    lifecycle_in_store(&db).await;
    guard.drop_now(db).await;
}

// ---------------------------------------------------------------- expiry and service levels over HTTP

#[tokio::test]
async fn the_clinics_claim_timeout_and_service_levels_apply() {
    let toml = format!(
        "{}\n[queue]\nclaim_timeout_minutes = 5\n[queue.service_levels]\nurgent = \"10m\"\nhigh = \"1h\"\n",
        frontdesk::clinic::config::DEMO_CLINIC_TOML
    );
    let (app, db) = server(None, Some(toml)).await;
    let crew = Crew::hire(&db).await;
    let billing = crew.token(Role::Billing);
    let stale = new_task(&db, Queue::Billing, Priority::Normal, TaskKind::Billing).await;
    let fresh = new_task(&db, Queue::Billing, Priority::Normal, TaskKind::Billing).await;
    for id in [&stale, &fresh] {
        let (status, _) = post(
            &app,
            &format!("/api/v1/tasks/{id}/claim"),
            billing,
            json!({}),
        )
        .await;
        assert_eq!(status, 200);
    }
    // The holder of `stale` last acted six minutes ago, of `fresh` four.
    for (id, minutes) in [(&stale, 6), (&fresh, 4)] {
        let at = lifecycle::stamp(Utc::now() - Duration::minutes(minutes));
        sqlx::query("UPDATE tasks SET touched_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    let (_, body) = get(&app, "/api/v1/tasks", billing).await;
    let by_id = |id: &str| {
        body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()
            .clone()
    };
    let lapsed = by_id(&stale);
    assert_eq!(lapsed["status"], "open", "{lapsed}");
    assert_eq!(lapsed["claimed_by"], Value::Null);
    assert_eq!(actions(&lapsed), ["created", "claimed", "expired"]);
    assert_eq!(by_id(&fresh)["status"], "claimed");

    // Service levels: urgent 10 minutes, high one hour (this clinic's).
    let urgent = new_task(&db, Queue::Billing, Priority::Urgent, TaskKind::Billing).await;
    let high = new_task(&db, Queue::Billing, Priority::High, TaskKind::Billing).await;
    let due = |task: &Value| -> i64 {
        let created: DateTime<Utc> = task["created_at"].as_str().unwrap().parse().unwrap();
        let due: DateTime<Utc> = task["due_at"].as_str().unwrap().parse().unwrap();
        (due - created).num_seconds()
    };
    let (_, t) = get(&app, &format!("/api/v1/tasks/{urgent}"), billing).await;
    assert!((599..=600).contains(&due(&t)), "{t}");
    assert_eq!(t["overdue"], false);
    let (_, t) = get(&app, &format!("/api/v1/tasks/{high}"), billing).await;
    assert!((3599..=3600).contains(&due(&t)), "{t}");
    // An urgent task created 11 minutes ago is overdue.
    sqlx::query("UPDATE tasks SET created_at = $1 WHERE id = $2")
        .bind(lifecycle::stamp(Utc::now() - Duration::minutes(11)))
        .bind(&urgent)
        .execute(&db.pool)
        .await
        .unwrap();
    let (_, t) = get(&app, &format!("/api/v1/tasks/{urgent}"), billing).await;
    assert_eq!(t["overdue"], true, "{t}");
}
