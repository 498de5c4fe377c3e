//! The access audit and the sign-in limiter, on the real server over
//! loopback HTTP and on the store (SQLite and PostgreSQL): reads of tasks,
//! transcripts, recordings and patients and every staff action (setting
//! one's transfer availability too) write an entry; a 403 writes a `denied` one; `GET /api/v1/audit` filters them and
//! renders FHIR AuditEvents; the hash chain holds under concurrent writers
//! (two pools on one PostgreSQL database, as two instances) and `frontdesk
//! audit verify` (the built binary) names the first edited, deleted or
//! reordered entry; too many failed sign-ins from one address get `429`.

mod scheduling_support;
mod support;

use std::path::Path;
use std::process::Command;

use chrono::Utc;
use frontdesk::audit::{self, Action, NewEntry, Outcome};
use frontdesk::staff::{self, Role};
use frontdesk::store::Db;
use frontdesk::store::calls::NewCall;
use frontdesk::tasks::{self, NewTask};
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use serde_json::{Value, json};
use support::{TestApp, spawn_app_with};

async fn server(tweak: impl FnOnce(&mut frontdesk::settings::Settings)) -> (TestApp, Db) {
    let mut url = String::new();
    let app = spawn_app_with(|s| {
        tweak(s);
        url = s.database_url.clone();
    })
    .await;
    let db = Db::connect(&url).await.expect("the app's database");
    (app, db)
}

async fn request(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = app
        .client
        .request(method.parse().unwrap(), app.url(path))
        .bearer_auth(token);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("the server answers");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body, headers)
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let (status, body, _) = request(app, "GET", path, token, None, &[]).await;
    (status, body)
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let (status, body, _) = request(app, "POST", path, token, Some(body), &[]).await;
    (status, body)
}

/// The audit events a filter selects, newest first.
async fn events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let (status, page) = get(app, &format!("/api/v1/audit?{query}"), token).await;
    assert_eq!(status, 200, "{page}");
    page["events"].as_array().expect("events").clone()
}

fn subtype(event: &Value) -> &str {
    event["subtype"][1]["code"].as_str().unwrap()
}

fn references(event: &Value) -> Vec<String> {
    event["entity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"]["reference"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn reads_and_actions_are_audited_and_a_403_is_audited_as_denied() {
    let (app, db) = server(|_| {}).await;
    let (manager, manager_token) = staff::add(&db, "Mia Manager", Role::Manager).await.unwrap();
    let (clinical, clinical_token) = staff::add(&db, "Cal Clinical", Role::Clinical)
        .await
        .unwrap();
    let (billing, billing_token) = staff::add(&db, "Bill Billing", Role::Billing)
        .await
        .unwrap();
    let (receptionist, reception_token) = staff::add(&db, "Rae Reception", Role::Receptionist)
        .await
        .unwrap();

    let (status, patient) = post(
        &app,
        "/api/v1/patients",
        &reception_token,
        json!({"name": "Audra Audit", "date_of_birth": "1975-05-06", "phone": "5550102030"}),
    )
    .await;
    assert_eq!(status, 201, "{patient}");
    let patient_id = patient["id"].as_str().unwrap().to_string();

    // A call with a recording, about that patient, and a clinical task for it.
    let recording = app.data_dir.path().join("audit.wav");
    let mut wav = hound::WavWriter::create(
        &recording,
        hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        },
    )
    .unwrap();
    for _ in 0..800 {
        wav.write_sample(0i16).unwrap();
    }
    wav.finalize().unwrap();
    db.insert_call(&NewCall {
        id: "call-audit".into(),
        provider: "twilio".into(),
        recording_path: Some(recording.display().to_string()),
        ..NewCall::default()
    })
    .await
    .unwrap();
    db.set_call_patient("call-audit", &patient_id)
        .await
        .unwrap();
    let task = tasks::create(
        &db,
        &NewTask {
            queue: Queue::Clinical,
            priority: Priority::High,
            kind: TaskKind::ClinicalQuestion,
            summary: "a question for the nurse".into(),
            call_id: Some("call-audit".into()),
            patient_id: Some(patient_id.clone()),
            callback_number: None,
        },
    )
    .await
    .unwrap();

    // The clinical member claims the task, then reads it, its transcript
    // and its recording; billing tries the same and is refused.
    let (status, _) = post(
        &app,
        &format!("/api/v1/tasks/{}/claim", task.id),
        &clinical_token,
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        get(&app, &format!("/api/v1/tasks/{}", task.id), &clinical_token)
            .await
            .0,
        200
    );
    assert_eq!(
        get(&app, "/api/v1/calls/call-audit", &clinical_token)
            .await
            .0,
        200
    );
    let recording = app
        .client
        .get(app.url("/api/v1/calls/call-audit/recording"))
        .bearer_auth(&clinical_token)
        .send()
        .await
        .unwrap();
    assert_eq!(recording.status(), 200);
    assert_eq!(
        get(&app, &format!("/api/v1/tasks/{}", task.id), &billing_token)
            .await
            .0,
        403
    );
    assert_eq!(
        get(&app, "/api/v1/calls/call-audit", &billing_token)
            .await
            .0,
        403
    );
    assert_eq!(
        get(&app, "/api/v1/calls/call-audit/recording", &billing_token)
            .await
            .0,
        403
    );
    // A role the route does not admit at all.
    assert_eq!(get(&app, "/api/v1/audit", &reception_token).await.0, 403);
    // A note, then completion.
    let (status, _) = post(
        &app,
        &format!("/api/v1/tasks/{}/notes", task.id),
        &clinical_token,
        json!({"text": "left a message"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &app,
        &format!("/api/v1/tasks/{}/complete", task.id),
        &clinical_token,
        json!({"resolution": "called_back"}),
    )
    .await;
    assert_eq!(status, 200);
    // Clinic details are not patient data: no entry.
    assert_eq!(get(&app, "/api/v1/clinic", &clinical_token).await.0, 200);
    // Warm-transfer availability: reading one's own reads no patient data
    // (no entry); setting it is a staff action (an entry).
    assert_eq!(
        get(&app, "/api/v1/staff/me/availability", &reception_token)
            .await
            .0,
        200
    );
    let (status, _, _) = request(
        &app,
        "PUT",
        "/api/v1/staff/me/availability",
        &reception_token,
        Some(json!({"available": true, "phone": "+15555550142"})),
        &[],
    )
    .await;
    assert_eq!(status, 200);

    // The clinical member's entries, newest first.
    let mine = events(&app, &manager_token, &format!("staff_id={}", clinical.id)).await;
    let actions: Vec<(&str, &str)> = mine
        .iter()
        .map(|e| (subtype(e), e["outcomeDesc"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("complete", "success"),
            ("note", "success"),
            ("read", "success"),
            ("read", "success"),
            ("read", "success"),
            ("claim", "success"),
        ]
    );
    let recording_read = &mine[2];
    assert_eq!(
        references(recording_read),
        [
            "Recording/call-audit".to_string(),
            format!("Patient/{patient_id}")
        ]
    );
    assert_eq!(references(&mine[3])[0], "Call/call-audit");
    assert_eq!(references(&mine[4])[0], format!("Task/{}", task.id));
    // The FHIR AuditEvent shape.
    let claim = &mine[5];
    assert_eq!(claim["resourceType"], "AuditEvent");
    assert_eq!(claim["type"]["code"], "rest");
    assert_eq!(claim["action"], "U");
    assert_eq!(claim["outcome"], "0");
    assert_eq!(
        claim["agent"][0]["who"]["reference"],
        format!("Practitioner/{}", clinical.id)
    );
    assert_eq!(claim["agent"][0]["role"][0]["text"], "clinical");
    assert_eq!(claim["agent"][0]["network"]["address"], "127.0.0.1");
    assert_eq!(claim["source"]["observer"]["display"], "frontdesk");
    assert!(claim["recorded"].as_str().unwrap().ends_with('Z'));
    assert_eq!(mine[4]["action"], "R");

    // Billing's refusals: denied, with the patient where the server knew it.
    let denied = events(&app, &manager_token, &format!("staff_id={}", billing.id)).await;
    assert_eq!(denied.len(), 3, "{denied:?}");
    for event in &denied {
        assert_eq!(event["outcomeDesc"], "denied");
        assert_eq!(event["outcome"], "4");
        assert!(
            references(event).contains(&format!("Patient/{patient_id}")),
            "{event}"
        );
    }
    let refused = events(
        &app,
        &manager_token,
        &format!("staff_id={}", receptionist.id),
    )
    .await;
    assert_eq!(
        refused
            .iter()
            .map(|e| (subtype(e), e["outcomeDesc"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [
            ("update", "success"),
            ("search", "denied"),
            ("create", "success")
        ]
    );
    let availability = &refused[0];
    assert_eq!(availability["action"], "U");
    assert_eq!(
        references(availability),
        [format!("Practitioner/{}", receptionist.id)]
    );
    assert_eq!(availability["agent"][0]["role"][0]["text"], "receptionist");
    assert_eq!(availability["agent"][0]["network"]["address"], "127.0.0.1");

    // Filters: by patient, by resource, by time, and paging.
    let about_patient = events(&app, &manager_token, &format!("patient_id={patient_id}")).await;
    assert_eq!(about_patient.len(), 10, "{about_patient:?}");
    let task_events = events(&app, &manager_token, &format!("resource=Task/{}", task.id)).await;
    assert_eq!(task_events.len(), 5);
    let recordings = events(&app, &manager_token, "resource=Recording").await;
    assert_eq!(recordings.len(), 2);
    let future = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let future = future.replace('+', "%2B");
    assert!(
        events(&app, &manager_token, &format!("since={future}"))
            .await
            .is_empty()
    );
    assert!(
        !events(&app, &manager_token, &format!("until={future}"))
            .await
            .is_empty()
    );
    let (status, first) = get(&app, "/api/v1/audit?limit=4", &manager_token).await;
    assert_eq!(status, 200);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (_, second) = get(
        &app,
        &format!("/api/v1/audit?limit=4&cursor={cursor}"),
        &manager_token,
    )
    .await;
    let first_ids: Vec<i64> = first["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let second_ids: Vec<i64> = second["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(first_ids.len(), 4);
    assert!(first_ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert!(
        second_ids[0] < *first_ids.last().unwrap(),
        "the next page goes on"
    );
    let (status, body) = get(&app, "/api/v1/audit?since=yesterday", &manager_token).await;
    assert_eq!(status, 400, "{body}");

    // Reading the audit is audited too; the chain holds.
    let own = events(&app, &manager_token, &format!("staff_id={}", manager.id)).await;
    assert!(own.iter().all(|e| subtype(e) == "search"));
    assert!(audit::verify(&db).await.unwrap().is_ok());
}

#[tokio::test]
async fn forwarded_for_is_believed_only_behind_a_trusted_proxy() {
    for trusted in [false, true] {
        let (app, db) = server(|s| s.trust_forwarded_for = trusted).await;
        let (member, token) = staff::add(&db, "Rae Reception", Role::Receptionist)
            .await
            .unwrap();
        let (status, _, _) = request(
            &app,
            "GET",
            "/api/v1/patients?name=x",
            &token,
            None,
            &[("x-forwarded-for", "198.51.100.1, 203.0.113.7")],
        )
        .await;
        assert_eq!(status, 200);
        let entries = audit::list(
            &db,
            &audit::AuditFilter {
                staff_id: Some(member.id),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let expected = if trusted { "203.0.113.7" } else { "127.0.0.1" };
        assert_eq!(
            entries[0].client.as_deref(),
            Some(expected),
            "trusted: {trusted}"
        );
    }
}

#[tokio::test]
async fn too_many_failed_sign_ins_from_one_address_get_429_with_retry_after() {
    let (app, db) = server(|s| {
        s.sign_in.max_failures = 3;
        s.sign_in.window = std::time::Duration::from_secs(120);
        s.trust_forwarded_for = true;
    })
    .await;
    let (_, good) = staff::add(&db, "Mia Manager", Role::Manager).await.unwrap();
    let (gone, gone_token) = staff::add(&db, "Gone", Role::Manager).await.unwrap();
    staff::revoke(&db, &gone.id).await.unwrap();
    let attacker = [("x-forwarded-for", "192.0.2.66")];
    for token in ["guess-1", gone_token.as_str(), "guess-3"] {
        let (status, body, _) = request(&app, "GET", "/api/v1/tasks", token, None, &attacker).await;
        assert_eq!(status, 401, "{body}");
    }
    let (status, body, headers) =
        request(&app, "GET", "/api/v1/tasks", "guess-4", None, &attacker).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "too_many_requests");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=120).contains(&retry), "{retry}");
    // The address is held off whatever it presents, for the window.
    let (status, _, _) = request(&app, "GET", "/api/v1/tasks", &good, None, &attacker).await;
    assert_eq!(status, 429);
    // Another address is not.
    let (status, _, _) = request(
        &app,
        "GET",
        "/api/v1/tasks",
        &good,
        None,
        &[("x-forwarded-for", "192.0.2.10")],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = request(
        &app,
        "GET",
        "/api/v1/tasks",
        "guess-5",
        None,
        &[("x-forwarded-for", "192.0.2.10")],
    )
    .await;
    assert_eq!(status, 401);
    // Health and metrics need no token and are never limited.
    let (status, _, _) = request(&app, "GET", "/healthz", "guess-6", None, &attacker).await;
    assert_eq!(status, 200);
}

// ------------------------------------------------------------ the chain

fn entry(staff_id: &str, n: usize) -> NewEntry {
    NewEntry {
        staff_id: staff_id.into(),
        role: "manager".into(),
        action: Action::Read,
        resource_type: "Task".into(),
        resource_id: Some(format!("task-{n}")),
        patient_id: Some(format!("patient-{}", n % 3)),
        outcome: Outcome::Success,
        client: Some("127.0.0.1".into()),
    }
}

/// 2 × 25 writers at once through two pools (two instances' worth) on one
/// database: one unbroken chain, numbered 1 to 50.
async fn concurrent_appends(first: &Db, second: &Db) {
    let mut writers = Vec::new();
    for n in 0..50 {
        let db = if n % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        writers.push(tokio::spawn(async move {
            audit::record(&db, &entry(&format!("staff-{n}"), n)).await
        }));
    }
    let mut seqs = Vec::new();
    for w in writers {
        seqs.push(w.await.unwrap().expect("the entry is written").seq);
    }
    seqs.sort();
    assert_eq!(seqs, (1..=50).collect::<Vec<i64>>());
    let verified = audit::verify(first)
        .await
        .unwrap()
        .expect("the chain holds");
    assert_eq!(verified.entries, 50);
}

/// Edits, deletes and reorders rows in SQL and checks `verify` names the entry.
async fn tampering_is_named(db: &Db, verify: impl AsyncFn(&Db) -> Result<(), String>) {
    assert_eq!(verify(db).await, Ok(()));
    // Edited: entry 7 says someone else read it.
    let original: String = sqlx::query_scalar("SELECT staff_id FROM audit_log WHERE seq = 7")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET staff_id = 'someone-else' WHERE seq = 7")
        .execute(&db.pool)
        .await
        .unwrap();
    let broken = verify(db).await.unwrap_err();
    assert!(
        broken.contains("entry 7 ") && broken.contains("edited"),
        "{broken}"
    );
    sqlx::query("UPDATE audit_log SET staff_id = $1 WHERE seq = 7")
        .bind(&original)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(verify(db).await, Ok(()), "restored");

    // Reordered: entries 10 and 11 trade places.
    sqlx::query("UPDATE audit_log SET seq = -1 WHERE seq = 10")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET seq = 10 WHERE seq = 11")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET seq = 11 WHERE seq = -1")
        .execute(&db.pool)
        .await
        .unwrap();
    let broken = verify(db).await.unwrap_err();
    assert!(broken.contains("entry 10 "), "{broken}");
    sqlx::query("UPDATE audit_log SET seq = -1 WHERE seq = 10")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET seq = 10 WHERE seq = 11")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET seq = 11 WHERE seq = -1")
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(verify(db).await, Ok(()), "restored");

    // Deleted from the middle, then the last entry.
    sqlx::query("DELETE FROM audit_log WHERE seq = 30")
        .execute(&db.pool)
        .await
        .unwrap();
    let broken = verify(db).await.unwrap_err();
    assert!(broken.contains("entry 30 is missing"), "{broken}");
    sqlx::query("DELETE FROM audit_log WHERE seq > 29")
        .execute(&db.pool)
        .await
        .unwrap();
    let broken = verify(db).await.unwrap_err();
    assert!(broken.contains("entries 30 to 50 are missing"), "{broken}");
}

async fn verify_in_library(db: &Db) -> Result<(), String> {
    match audit::verify(db).await.expect("the chain is readable") {
        Ok(_) => Ok(()),
        Err(broken) => Err(broken.to_string()),
    }
}

fn frontdesk_audit_verify(database_url: &str, data_dir: &Path) -> Result<(), String> {
    let out = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--database", database_url, "audit", "verify"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("the frontdesk binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if out.status.success() {
        assert!(stdout.contains("audit chain intact: "), "{stdout}");
        Ok(())
    } else {
        assert!(stderr.contains("audit chain broken"), "{stderr}");
        Err(stderr)
    }
}

#[tokio::test]
async fn the_chain_holds_under_concurrent_writers_and_verify_names_tampering_sqlite() {
    let (db, dir) = scheduling_support::sqlite().await;
    let url = frontdesk::store::sqlite_url_in(dir.path());
    let second = Db::connect(&url).await.unwrap();
    concurrent_appends(&db, &second).await;
    let data_dir = dir.path().to_path_buf();
    tampering_is_named(&db, async |db: &Db| {
        let _ = db;
        frontdesk_audit_verify(&url, &data_dir)
    })
    .await;
}

#[tokio::test]
async fn the_chain_holds_under_concurrent_writers_and_verify_names_tampering_postgres() {
    let Some((url, admin, name)) = scheduling_support::postgres_database().await else {
        return;
    };
    let first = Db::open(&url).await.unwrap();
    let second = Db::connect(&url).await.unwrap();
    concurrent_appends(&first, &second).await;
    let dir = tempfile::tempdir().unwrap();
    let cli_url = url.clone();
    let data_dir = dir.path().to_path_buf();
    // The library's walk and the command's, on the same tampering.
    tampering_is_named(&first, async |db: &Db| {
        let library = verify_in_library(db).await;
        let command = frontdesk_audit_verify(&cli_url, &data_dir);
        assert_eq!(library.is_ok(), command.is_ok(), "{library:?} {command:?}");
        library
    })
    .await;
    first.pool.close().await;
    second.pool.close().await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin.pool)
    .await;
}

#[tokio::test]
async fn a_forbidden_claim_leaves_the_task_alone_and_a_denied_entry() {
    let (app, db) = server(|_| {}).await;
    let (billing, token) = staff::add(&db, "Bill", Role::Billing).await.unwrap();
    let task = tasks::create(
        &db,
        &NewTask {
            queue: Queue::Records,
            priority: Priority::Normal,
            kind: TaskKind::RecordsRequest,
            summary: "records".into(),
            call_id: None,
            patient_id: None,
            callback_number: None,
        },
    )
    .await
    .unwrap();
    let (status, _) = post(
        &app,
        &format!("/api/v1/tasks/{}/claim", task.id),
        &token,
        json!({}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        tasks::get(&db, &task.id).await.unwrap().unwrap().status,
        "open"
    );
    let entries = audit::list(
        &db,
        &audit::AuditFilter {
            staff_id: Some(billing.id),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].action.as_str(), entries[0].outcome),
        ("claim", Outcome::Denied)
    );
    assert_eq!(entries[0].resource_id.as_deref(), Some(task.id.as_str()));
}
