//! What the staff API tests share (`staff_queue.rs`, `staff_roles.rs`):
//! the server on a fresh database, requests with a bearer token, one
//! account per role, tasks as the agent writes them.
#![allow(dead_code)]

use std::collections::HashMap;

use axum::http::Method;
use frontdesk::staff::{self, Role, StaffMember};
use frontdesk::store::Db;
use frontdesk::tasks::{self, NewTask};
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use serde_json::Value;

use crate::support::{TestApp, spawn_app_with};

/// The server with a fresh SQLite database (or `database_url`), and a
/// handle on that database.
pub async fn server(database_url: Option<String>, clinic_toml: Option<String>) -> (TestApp, Db) {
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

pub async fn send(
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

pub async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    send(app, &Method::GET, path, Some(token), None).await
}

pub async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    send(app, &Method::POST, path, Some(token), Some(&body)).await
}

/// One account per role, with its token.
pub struct Crew(pub HashMap<Role, (StaffMember, String)>);

impl Crew {
    pub async fn hire(db: &Db) -> Crew {
        let mut members = HashMap::new();
        for role in Role::ALL {
            let (member, token) = staff::add(db, &format!("{role} person"), role)
                .await
                .expect("staff member added");
            members.insert(role, (member, token));
        }
        Crew(members)
    }
    pub fn token(&self, role: Role) -> &str {
        &self.0[&role].1
    }
    pub fn id(&self, role: Role) -> &str {
        &self.0[&role].0.id
    }
}

pub async fn new_task(db: &Db, queue: Queue, priority: Priority, kind: TaskKind) -> String {
    new_task_for_call(db, queue, priority, kind, None).await
}

pub async fn new_task_for_call(
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

pub fn actions(task: &Value) -> Vec<String> {
    task["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["action"].as_str().unwrap().to_string())
        .collect()
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or("(not the API's error shape)")
}

pub async fn drop_postgres(admin: Db, name: &str) {
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin.pool)
    .await;
}
