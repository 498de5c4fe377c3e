//! The dashboard's server side over loopback HTTP (no browser): every page
//! × every role against `policy`, the sign-in form and its cookie flags
//! (`Secure` behind HTTPS), sign-out, sessions in the database (they
//! outlive the server instance), the idle timeout from the clinic TOML,
//! the session cookie on the staff API with its CSRF header, HTML in
//! notes and transcripts escaped, every page's read of patient data in
//! the access audit, the access audit's own page (managers and admins),
//! and the availability form for warm transfers on the queue.

mod support;

use axum::http::Method;
use chrono::Utc;
use frontdesk::staff::{self, Role, sessions};
use frontdesk::store::Db;
use frontdesk::store::calls::{NewCall, NewTurn, Speaker};
use frontdesk::tasks::{self, NewTask, lifecycle};
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use support::{TestApp, spawn_app_with};

const ROLES: [Role; 6] = [
    Role::Receptionist,
    Role::Billing,
    Role::Clinical,
    Role::Records,
    Role::Manager,
    Role::Admin,
];

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn app_with(tweak: impl FnOnce(&mut frontdesk::settings::Settings)) -> (TestApp, Db) {
    let mut url = String::new();
    let app = spawn_app_with(|s| {
        tweak(s);
        url = s.database_url.clone();
    })
    .await;
    let db = Db::connect(&url).await.unwrap();
    (app, db)
}

/// A fresh session of `staff_id`: the cookie header and the CSRF token.
async fn session_of(db: &Db, staff_id: &str) -> (String, String) {
    let (value, session) = sessions::create(db, staff_id, Utc::now()).await.unwrap();
    (format!("frontdesk_session={value}"), session.csrf_token)
}

async fn new_task(db: &Db, queue: Queue, kind: TaskKind, call_id: Option<&str>) -> String {
    tasks::create(
        db,
        &NewTask {
            queue,
            priority: Priority::Normal,
            kind,
            summary: "A question <script>alert(1)</script>".into(),
            call_id: call_id.map(String::from),
            patient_id: None,
            callback_number: Some("5551230000".into()),
        },
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn every_dashboard_page_answers_every_role_as_the_policy_says() {
    let (app, db) = app_with(|_| {}).await;
    let mut crew = Vec::new();
    for role in ROLES {
        let (member, _) = staff::add(&db, &format!("{role} person"), role)
            .await
            .unwrap();
        crew.push(member.id);
    }
    let call_id = "call-dashboard-table";
    db.insert_call(&NewCall {
        id: call_id.into(),
        provider: "twilio".into(),
        ..NewCall::default()
    })
    .await
    .unwrap();
    let clinical = new_task(&db, Queue::Clinical, TaskKind::TestResults, Some(call_id)).await;
    const MANAGERS: [u16; 6] = [403, 403, 403, 403, 200, 200];
    let client = no_redirects();
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    for rule in frontdesk::dashboard::rules() {
        let (path, form, expected): (String, Option<&str>, [u16; 6]) =
            match (rule.method.as_str(), rule.path) {
                ("GET", "/") => ("/".into(), None, [303; 6]),
                // Without the sign-in form's own token: refused.
                ("POST", "/session") => ("/session".into(), Some("token=x"), [403; 6]),
                ("POST", "/session/end") => ("/session/end".into(), Some("csrf="), [303; 6]),
                ("GET", "/assets/{name}") => ("/assets/app.js".into(), None, [200; 6]),
                ("GET", "/queue") => ("/queue".into(), None, [200; 6]),
                ("GET", "/queue/list") => ("/queue/list?page=2".into(), None, [200; 6]),
                ("GET", "/queue/tasks/{id}") => (
                    format!("/queue/tasks/{clinical}"),
                    None,
                    [403, 403, 200, 403, 200, 200],
                ),
                ("GET", "/calls") => ("/calls?q=hello".into(), None, MANAGERS),
                ("GET", "/calls/{id}") => (format!("/calls/{call_id}"), None, MANAGERS),
                ("GET", "/calls/audit") => ("/calls/audit?resource=Task".into(), None, MANAGERS),
                ("GET", "/schedule") => ("/schedule".into(), None, [200, 403, 403, 403, 200, 200]),
                _ => {
                    missing.push(format!("{} {}", rule.method, rule.path));
                    continue;
                }
            };
        for (i, role) in ROLES.iter().enumerate() {
            let (cookie, csrf) = session_of(&db, &crew[i]).await;
            let mut request = client
                .request(rule.method.clone(), app.url(&path))
                .header("cookie", cookie);
            if let Some(form) = form {
                let body = if form == "csrf=" {
                    format!("csrf={csrf}")
                } else {
                    form.to_string()
                };
                request = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            if status != expected[i] {
                wrong.push(format!(
                    "{} {path} as {role}: {status}, expected {}",
                    rule.method, expected[i]
                ));
            }
            if status == 403 {
                assert!(
                    text.contains("Not available to you"),
                    "a clear page: {text}"
                );
            }
            if status == 200 && rule.method == Method::GET && path.starts_with("/queue") {
                assert!(!text.contains("<script>alert"), "escaped: {path}");
            }
        }
        // Without a session every page but sign-in and assets goes to sign-in.
        let response = client
            .request(rule.method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        let public = ["/", "/session", "/assets/{name}"].contains(&rule.path);
        if !public {
            assert_eq!(response.status().as_u16(), 303, "{} {path}", rule.method);
            assert_eq!(
                response.headers()["location"],
                "/",
                "{} {path}",
                rule.method
            );
        }
    }
    assert!(
        missing.is_empty(),
        "pages with no row in this table: {missing:?}"
    );
    assert!(
        wrong.is_empty(),
        "pages that broke the policy:\n{}",
        wrong.join("\n")
    );
}

/// Signs in through the form as a browser does: the form's token from the
/// page and its cookie, then the token. Returns the response.
async fn sign_in(app: &TestApp, token: &str) -> reqwest::Response {
    let client = no_redirects();
    let page = client.get(app.url("/")).send().await.unwrap();
    let form_cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(form_cookie.contains("HttpOnly") && form_cookie.contains("SameSite=Strict"));
    let cookie = form_cookie.split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    let form_token = html
        .split("name=\"form_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    client
        .post(app.url("/session"))
        .header("cookie", cookie)
        .form(&[("token", token), ("form_token", &form_token)])
        .send()
        .await
        .unwrap()
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("frontdesk_session=") && !c.starts_with("frontdesk_session=;"))
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_signing_out_ends_the_session() {
    let (app, db) = app_with(|_| {}).await;
    let (_, token) = staff::add(&db, "Rita Reception", Role::Receptionist)
        .await
        .unwrap();

    let refused = sign_in(&app, "not-a-token").await;
    assert_eq!(refused.status(), 303);
    assert_eq!(refused.headers()["location"], "/?failed=1");
    assert!(session_cookie(&refused).is_none());

    let signed = sign_in(&app, &token).await;
    assert_eq!(signed.status(), 303);
    assert_eq!(signed.headers()["location"], "/queue");
    let cookie = session_cookie(&signed).expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    let value = pair.trim_start_matches("frontdesk_session=");
    let stored: String = sqlx::query_scalar("SELECT id_hash FROM dashboard_sessions")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored, staff::token_hash(value), "only the hash is kept");

    let client = no_redirects();
    let queue = client
        .get(app.url("/queue"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), 200);
    let html = queue.text().await.unwrap();
    assert!(html.contains("Rita Reception"));
    let csrf = html
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();

    let out = client
        .post(app.url("/session/end"))
        .header("cookie", &pair)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = client
        .get(app.url("/queue"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 303, "signed out");
    assert_eq!(after.headers()["location"], "/");
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure() {
    let (app, db) = app_with(|s| s.public_url = Some("https://clinic.example.org".into())).await;
    let (_, token) = staff::add(&db, "Mo Manager", Role::Manager).await.unwrap();
    let signed = sign_in(&app, &token).await;
    let cookie = session_cookie(&signed).expect("a session cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn a_session_outlives_its_server_and_ends_after_the_clinics_idle_timeout() {
    let clinic = format!(
        "{}\n[dashboard]\nidle_timeout_minutes = 5\n",
        frontdesk::clinic::config::DEMO_CLINIC_TOML
    );
    let shared = tempfile::tempdir().unwrap();
    let url = frontdesk::store::sqlite_url_in(shared.path());
    let (first, db) = app_with(|s| {
        s.database_url = url.clone();
        s.config_text = Some(clinic.clone());
    })
    .await;
    let (member, _) = staff::add(&db, "Rita Reception", Role::Receptionist)
        .await
        .unwrap();
    let (cookie, _) = session_of(&db, &member.id).await;
    let client = no_redirects();
    let on_first = client
        .get(first.url("/queue"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(on_first.status(), 200);

    // Another instance on the same database knows the session.
    let (second, _) = app_with(|s| {
        s.database_url = url.clone();
        s.config_text = Some(clinic.clone());
    })
    .await;
    let on_second = client
        .get(second.url("/queue"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(on_second.status(), 200);

    // Four idle minutes: still signed in. Six: back to sign-in, saying why.
    let idle = |minutes: i64| {
        (Utc::now() - chrono::Duration::minutes(minutes))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    sqlx::query("UPDATE dashboard_sessions SET last_seen_at = $1")
        .bind(idle(4))
        .execute(&db.pool)
        .await
        .unwrap();
    let still = client
        .get(second.url("/queue"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200);
    sqlx::query("UPDATE dashboard_sessions SET last_seen_at = $1")
        .bind(idle(6))
        .execute(&db.pool)
        .await
        .unwrap();
    let expired = client
        .get(second.url("/queue"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 303);
    assert_eq!(expired.headers()["location"], "/?expired=1");
    let page = client
        .get(second.url("/?expired=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("session ended"), "{page}");
    let api = client
        .get(second.url("/api/v1/tasks"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);
}

#[tokio::test]
async fn the_api_takes_the_session_cookie_and_a_change_needs_its_csrf_token() {
    let (app, db) = app_with(|_| {}).await;
    let (member, _) = staff::add(&db, "Rita Reception", Role::Receptionist)
        .await
        .unwrap();
    let task = new_task(&db, Queue::FrontDesk, TaskKind::Callback, None).await;
    let (cookie, csrf) = session_of(&db, &member.id).await;
    let client = no_redirects();
    let listed = client
        .get(app.url("/api/v1/tasks"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let claim = app.url(&format!("/api/v1/tasks/{task}/claim"));
    for header in [None, Some("forged"), Some("")] {
        let mut request = client
            .post(&claim)
            .header("cookie", &cookie)
            .json(&serde_json::json!({}));
        if let Some(h) = header {
            request = request.header("x-csrf-token", h);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "CSRF header {header:?}");
    }
    // Another session's token is not this one's.
    let (_, other_csrf) = session_of(&db, &member.id).await;
    let response = client
        .post(&claim)
        .header("cookie", &cookie)
        .header("x-csrf-token", other_csrf)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = client
        .post(&claim)
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let held = tasks::get(&db, &task).await.unwrap().unwrap();
    assert_eq!(held.claimed_by.as_deref(), Some(member.id.as_str()));
}

#[tokio::test]
async fn notes_and_transcripts_with_markup_are_escaped_on_the_card() {
    let (app, db) = app_with(|_| {}).await;
    let (member, _) = staff::add(&db, "Rita Reception", Role::Receptionist)
        .await
        .unwrap();
    let call_id = "call-with-markup";
    db.insert_call(&NewCall {
        id: call_id.into(),
        provider: "twilio".into(),
        ..NewCall::default()
    })
    .await
    .unwrap();
    db.append_turn(
        call_id,
        &NewTurn {
            speaker: Speaker::Caller,
            text: "my name is <img src=x onerror=alert(1)>".into(),
            started_at_ms: 1200,
            ended_at_ms: 2400,
            intent: None,
            confidence: None,
            interrupted: false,
        },
    )
    .await
    .unwrap();
    let task = new_task(&db, Queue::FrontDesk, TaskKind::Callback, Some(call_id)).await;
    lifecycle::claim(&db, &task, &member.id, Utc::now())
        .await
        .unwrap();
    lifecycle::add_note(
        &db,
        &task,
        &member.id,
        "<script>alert(2)</script>",
        Utc::now(),
    )
    .await
    .unwrap();
    let (cookie, _) = session_of(&db, &member.id).await;
    let html = no_redirects()
        .get(app.url(&format!("/queue/tasks/{task}")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("No recording was saved"), "{html}");
}

// ---------------------------------------------------------------- the access audit

/// The audit events a filter selects (the API, as the break-glass admin).
async fn audit_events(app: &TestApp, query: &str) -> Vec<serde_json::Value> {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/audit?{query}")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page: serde_json::Value = response.json().await.unwrap();
    page["events"].as_array().unwrap().clone()
}

/// An event as `(action, resource, patient or "", outcome, client)`.
fn described(event: &serde_json::Value) -> (String, String, String, String, String) {
    let entity = event["entity"].as_array().unwrap();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    (
        text(&event["subtype"][1]["code"]),
        text(&entity[0]["what"]["reference"]),
        entity
            .get(1)
            .map(|e| text(&e["what"]["reference"]))
            .unwrap_or_default(),
        text(&event["outcomeDesc"]),
        text(&event["agent"][0]["network"]["address"]),
    )
}

async fn get_page(app: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let response = no_redirects()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn every_page_read_of_patient_data_and_every_sign_in_is_in_the_access_audit() {
    let (app, db) = app_with(|_| {}).await;
    let (rita, rita_token) = staff::add(&db, "Rita Reception", Role::Receptionist)
        .await
        .unwrap();
    let (mo, _) = staff::add(&db, "Mo Manager", Role::Manager).await.unwrap();
    let (bea, _) = staff::add(&db, "Bea Billing", Role::Billing).await.unwrap();
    let created = app
        .client
        .post(app.url("/api/v1/patients"))
        .bearer_auth(&app.admin_token)
        .json(&serde_json::json!({"name": "Audra Audit", "date_of_birth": "1975-05-06", "phone": "5550102030"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let patient: serde_json::Value = created.json().await.unwrap();
    let patient_id = patient["id"].as_str().unwrap().to_string();
    let call_id = "call-dashboard-audit";
    db.insert_call(&NewCall {
        id: call_id.into(),
        provider: "twilio".into(),
        ..NewCall::default()
    })
    .await
    .unwrap();
    db.set_call_patient(call_id, &patient_id).await.unwrap();
    let task = tasks::create(
        &db,
        &NewTask {
            queue: Queue::FrontDesk,
            priority: Priority::Normal,
            kind: TaskKind::Callback,
            summary: "Wants to move an appointment".into(),
            call_id: Some(call_id.into()),
            patient_id: Some(patient_id.clone()),
            callback_number: Some("5550102030".into()),
        },
    )
    .await
    .unwrap();
    lifecycle::claim(&db, &task.id, &rita.id, Utc::now())
        .await
        .unwrap();

    // The receptionist signs in through the form and opens the card: the
    // task (naming the patient) and the call's transcript are read.
    let signed = sign_in(&app, &rita_token).await;
    let rita_cookie = session_cookie(&signed)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (status, card) = get_page(&app, &format!("/queue/tasks/{}", task.id), &rita_cookie).await;
    assert_eq!(status, 200);
    assert!(card.contains("Audra Audit"), "the card names the patient");
    let (status, _) = get_page(&app, "/schedule", &rita_cookie).await;
    assert_eq!(status, 200);
    let rita_seen: Vec<_> = audit_events(&app, &format!("staff_id={}", rita.id))
        .await
        .iter()
        .map(described)
        .collect();
    let own = |action: &str, resource: &str, patient: &str| {
        (
            action.to_string(),
            resource.to_string(),
            patient.to_string(),
            "success".to_string(),
            "127.0.0.1".to_string(),
        )
    };
    let about = format!("Patient/{patient_id}");
    assert_eq!(
        rita_seen,
        [
            own("search", "Appointment", ""),
            own("read", &format!("Call/{call_id}"), &about),
            own("read", &format!("Task/{}", task.id), &about),
            own("sign_in", "Session", ""),
        ],
        "newest first"
    );
    let events = audit_events(&app, &format!("staff_id={}", rita.id)).await;
    assert_eq!(events[1]["agent"][0]["role"][0]["text"], "receptionist");

    // The manager opens the calls, the call, and the access audit.
    let (mo_cookie, _) = session_of(&db, &mo.id).await;
    for path in [
        "/calls".to_string(),
        format!("/calls/{call_id}"),
        format!("/queue?task={}", task.id),
        "/calls/audit".to_string(),
    ] {
        let (status, _) = get_page(&app, &path, &mo_cookie).await;
        assert_eq!(status, 200, "{path}");
    }
    let mo_seen: Vec<_> = audit_events(&app, &format!("staff_id={}", mo.id))
        .await
        .iter()
        .map(described)
        .collect();
    assert_eq!(
        mo_seen,
        [
            own("search", "AuditEvent", ""),
            own("read", &format!("Call/{call_id}"), &about),
            own("read", &format!("Task/{}", task.id), &about),
            own("search", "Task", ""),
            own("read", &format!("Call/{call_id}"), &about),
            own("search", "Call", ""),
        ]
    );

    // Billing asks for the card and the calls: refused, and the refusals
    // are entries.
    let (bea_cookie, _) = session_of(&db, &bea.id).await;
    let (status, _) = get_page(&app, &format!("/queue/tasks/{}", task.id), &bea_cookie).await;
    assert_eq!(status, 403);
    let (status, _) = get_page(&app, "/calls", &bea_cookie).await;
    assert_eq!(status, 403);
    let bea_seen: Vec<_> = audit_events(&app, &format!("staff_id={}", bea.id))
        .await
        .iter()
        .map(described)
        .collect();
    assert_eq!(
        bea_seen,
        [
            (
                "read".to_string(),
                "Route//calls".to_string(),
                String::new(),
                "denied".to_string(),
                "127.0.0.1".to_string()
            ),
            (
                "read".to_string(),
                format!("Task/{}", task.id),
                about.clone(),
                "denied".to_string(),
                "127.0.0.1".to_string()
            ),
        ]
    );
    assert!(frontdesk::audit::verify(&db).await.unwrap().is_ok());
}

#[tokio::test]
async fn the_access_audit_page_filters_pages_and_escapes_for_managers_only() {
    let (app, db) = app_with(|_| {}).await;
    let (rita, _) = staff::add(&db, "Rita Reception", Role::Receptionist)
        .await
        .unwrap();
    let (bea, _) = staff::add(&db, "Bea Billing", Role::Billing).await.unwrap();
    let (mo, _) = staff::add(&db, "Mo Manager", Role::Manager).await.unwrap();
    let (ada, _) = staff::add(&db, "Ada Admin", Role::Admin).await.unwrap();
    // Sixty entries by the receptionist, one of them with markup in its id.
    for i in 0..60 {
        frontdesk::audit::record(
            &db,
            &frontdesk::audit::NewEntry {
                staff_id: rita.id.clone(),
                role: "receptionist".into(),
                action: frontdesk::audit::Action::Read,
                resource_type: "Task".into(),
                resource_id: Some(if i == 59 {
                    "<script>alert(1)</script>".into()
                } else {
                    format!("task-{i:02}")
                }),
                patient_id: (i % 2 == 0).then(|| "patient-even".to_string()),
                outcome: frontdesk::audit::Outcome::Success,
                client: Some("10.0.0.7".into()),
            },
        )
        .await
        .unwrap();
    }
    for member in [&rita, &bea] {
        let (cookie, _) = session_of(&db, &member.id).await;
        let (status, html) = get_page(&app, "/calls/audit", &cookie).await;
        assert_eq!(status, 403, "{}", member.role);
        assert!(html.contains("Not available to you"), "a clear page");
        assert!(!html.contains("task-01"), "nothing of the audit");
    }
    for member in [&mo, &ada] {
        let (cookie, _) = session_of(&db, &member.id).await;
        let (status, html) = get_page(&app, "/calls/audit", &cookie).await;
        assert_eq!(status, 200, "{}", member.role);
        assert!(html.contains("Access audit"));
    }

    let (cookie, _) = session_of(&db, &mo.id).await;
    let rows = |html: &str| html.matches("<tr class=\"entry").count();
    let (_, html) = get_page(
        &app,
        &format!("/calls/audit?staff={}&resource=Task", rita.id),
        &cookie,
    )
    .await;
    assert_eq!(rows(&html), 50, "one page");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped"
    );
    assert!(!html.contains("<script>alert"), "never markup");
    assert!(html.contains("Rita Reception (receptionist)"));
    assert!(html.contains("10.0.0.7"));
    let next = html
        .split("rel=\"next\"")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .and_then(|rest| rest.split('"').next())
        .expect("a link to the next page")
        .replace("&amp;", "&");
    assert!(next.contains(&format!("staff={}", rita.id)), "{next}");
    let (_, older) = get_page(&app, &next, &cookie).await;
    assert_eq!(rows(&older), 10, "the rest");
    assert!(older.contains("task-00<") && !older.contains("task-10<"));
    assert!(!older.contains("rel=\"next\""));

    // By patient, by one resource, by day.
    let (_, html) = get_page(
        &app,
        "/calls/audit?patient=patient-even&resource=Task",
        &cookie,
    )
    .await;
    assert_eq!(rows(&html), 30);
    let (_, html) = get_page(&app, "/calls/audit?resource=Task/task-07", &cookie).await;
    assert_eq!(rows(&html), 1);
    let (_, html) = get_page(&app, "/calls/audit?to=2000-01-01", &cookie).await;
    assert_eq!(rows(&html), 0);
    assert!(html.contains("No entries match."));
    let (status, _) = get_page(&app, "/calls/audit?from=someday", &cookie).await;
    assert_eq!(status, 400);
}

// ---------------------------------------------------------------- availability

#[tokio::test]
async fn a_receptionist_marks_themselves_available_on_the_queue_page() {
    let (app, db) = app_with(|_| {}).await;
    let (rita, _) = staff::add(&db, "Rita Reception", Role::Receptionist)
        .await
        .unwrap();
    let (bea, _) = staff::add(&db, "Bea Billing", Role::Billing).await.unwrap();
    let (cookie, csrf) = session_of(&db, &rita.id).await;
    let (status, html) = get_page(&app, "/queue", &cookie).await;
    assert_eq!(status, 200);
    // A labelled form: a checkbox and a phone field, each with its label.
    assert!(html.contains("form id=\"availability\""), "{html}");
    assert!(html.contains("<label for=\"avail-on\">"), "{html}");
    assert!(html.contains("<label for=\"avail-phone\">"), "{html}");
    assert!(html.contains("data-method=\"PUT\""), "{html}");
    assert!(html.contains("Not taking transfers."), "{html}");
    assert!(!html.contains("type=\"checkbox\" checked"), "{html}");
    // Billing takes no transfers: no form.
    let (bea_cookie, _) = session_of(&db, &bea.id).await;
    let (_, billing_page) = get_page(&app, "/queue", &bea_cookie).await;
    assert!(!billing_page.contains("id=\"availability\""));

    // What the form's script sends: refused without the CSRF token.
    let put = |token: Option<&str>| {
        let mut request = no_redirects()
            .put(app.url("/api/v1/staff/me/availability"))
            .header("cookie", &cookie)
            .json(&serde_json::json!({"available": true, "phone": "+1 (555) 555-0142"}));
        if let Some(t) = token {
            request = request.header("x-csrf-token", t);
        }
        request.send()
    };
    assert_eq!(put(None).await.unwrap().status(), 403);
    assert_eq!(put(Some("forged")).await.unwrap().status(), 403);
    let saved = put(Some(csrf.as_str())).await.unwrap();
    assert_eq!(saved.status(), 200);
    let now = frontdesk::staff::availability::get(&db, &rita.id)
        .await
        .unwrap();
    assert!(now.available);
    assert_eq!(now.phone.as_deref(), Some("+15555550142"));
    let (_, html) = get_page(&app, "/queue", &cookie).await;
    assert!(
        html.contains("Taking transfers on (555) 555-0142."),
        "{html}"
    );
    assert!(
        html.contains("type=\"checkbox\" checked"),
        "the box shows the setting"
    );
    let update = audit_events(&app, &format!("staff_id={}&resource=Practitioner", rita.id)).await;
    assert_eq!(update.len(), 1, "{update:?}");
    assert_eq!(update[0]["action"], "U");
}
