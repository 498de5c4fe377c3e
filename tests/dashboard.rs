//! The dashboard's server side over loopback HTTP (no browser): every page
//! × every role against `policy`, the sign-in form and its cookie flags
//! (`Secure` behind HTTPS), sign-out, sessions in the database (they
//! outlive the server instance), the idle timeout from the clinic TOML,
//! the session cookie on the staff API with its CSRF header, and HTML in
//! notes and transcripts escaped.

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
