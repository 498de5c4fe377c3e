//! Staff accounts and minimum-necessary access, on the real server over
//! loopback HTTP: `frontdesk staff` (the built binary) adds, lists and
//! revokes; every route × every role answers as `web::policy` says (a new
//! route without a row here fails); each role sees its own part of the
//! queue; a call is readable by the holder of its task only while held.

#[path = "queue_support/staff_api.rs"]
mod staff_api;
mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use axum::http::Method;
use chrono::{DateTime, Duration, Utc};
use frontdesk::staff::{self, Role};
use frontdesk::store::Db;
use frontdesk::store::calls::NewCall;
use frontdesk::tasks::lifecycle;
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use frontdesk::web::routes;
use serde_json::{Value, json};
use staff_api::{Crew, error_code, get, new_task, new_task_for_call, post, send, server};
use support::TestApp;

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
    // Closed before the files are read: closing any descriptor of a
    // database file drops every POSIX lock this process holds on it, so a
    // later `frontdesk` process believed itself the last user, checkpointed
    // and reset the WAL under the server's connections, and the server
    // read the old pages for ever (a revoked token kept working).
    db.pool.close().await;
    drop(db);
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
