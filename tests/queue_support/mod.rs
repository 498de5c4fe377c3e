//! Shared by the queue tests (and `benches/queue.rs`): a Server-Sent
//! Events reader over a real HTTP response, and the staff API served on
//! loopback by the real router with its real state (no models: the queue
//! needs none), so a test can look at the event feed's subscribers.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use frontdesk::clinic::{Clinic, Clock};
use frontdesk::store::Db;
use frontdesk::tasks::events::TaskEvents;
use frontdesk::web::{self, AppState, auth::Tokens};

pub const ADMIN_TOKEN: &str = "queue-test-admin-token";

/// One block of an event stream: an event (`event`, `id`, `data`) or a
/// heartbeat (only `comment`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    pub event: Option<String>,
    pub id: Option<String>,
    pub data: String,
    pub comment: Option<String>,
}

impl Frame {
    pub fn is_heartbeat(&self) -> bool {
        self.event.is_none() && self.id.is_none() && self.data.is_empty()
    }

    pub fn id(&self) -> i64 {
        self.id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("an event with a numeric id: {self:?}"))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("JSON data ({e}): {self:?}"))
    }
}

/// An open `text/event-stream` response, read frame by frame.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// `GET path` with a bearer token and, when given, `Last-Event-ID`.
    /// Panics unless the answer is a 200 event stream.
    pub async fn open(
        client: &reqwest::Client,
        url: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> EventStream {
        let mut request = client.get(url).bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if status != 200 || !content_type.starts_with("text/event-stream") {
            let body = response.text().await.unwrap_or_default();
            panic!("expected an event stream, got {status} {content_type}: {body}");
        }
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next frame, or `None` when none comes within `wait` (or the
    /// stream ended).
    pub async fn next_frame(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(parse_block(&block));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .expect("the stream reads")?;
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8 stream"));
        }
    }

    /// The next event (heartbeats skipped), or `None` within `wait`.
    pub async fn next_event(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_frame(left).await?;
            if !frame.is_heartbeat() {
                return Some(frame);
            }
        }
    }

    /// Every event that arrives until none has come for `quiet`.
    pub async fn events_until_quiet(&mut self, quiet: Duration) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some(frame) = self.next_event(quiet).await {
            out.push(frame);
        }
        out
    }
}

fn parse_block(block: &str) -> Frame {
    let mut frame = Frame::default();
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if let Some(comment) = line.strip_prefix(':') {
            frame.comment = Some(comment.trim().to_string());
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => frame.event = Some(value.to_string()),
            "id" => frame.id = Some(value.to_string()),
            "data" => data.push(value),
            _ => {}
        }
    }
    frame.data = data.join("\n");
    frame
}

/// The staff API of one instance, served on a loopback port.
pub struct StaffApi {
    pub base_url: String,
    pub state: AppState,
    pub client: reqwest::Client,
}

impl StaffApi {
    /// Opens (and migrates) `database_url` with the demo clinic, and serves
    /// the real router on it.
    pub async fn start(database_url: &str, heartbeat: Duration) -> StaffApi {
        let db = Db::open(database_url).await.expect("the database opens");
        frontdesk::scheduling::sync_catalog(&db, &Clinic::demo())
            .await
            .expect("the clinic's catalogue");
        let state = AppState {
            events: TaskEvents::start(db.clone(), database_url, heartbeat),
            db,
            clinic: Arc::new(Clinic::demo()),
            clock: Clock::system(),
            auth: Arc::new(Tokens::new().with_admin(Some(ADMIN_TOKEN.into()))),
            metrics: Arc::default(),
        };
        let router = web::router(state.clone()).layer(web::trace_layer());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, router).await });
        StaffApi {
            base_url: format!("http://127.0.0.1:{port}"),
            state,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(
        &self,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// The event stream as `token` sees it.
    pub async fn events(&self, token: &str, last_event_id: Option<&str>) -> EventStream {
        EventStream::open(
            &self.client,
            &self.url("/api/v1/tasks/events"),
            token,
            last_event_id,
        )
        .await
    }
}

/// A task in `queue`, as the agent writes one.
pub async fn new_task(
    db: &Db,
    queue: frontdesk::vocabulary::Queue,
    priority: frontdesk::vocabulary::Priority,
    kind: frontdesk::vocabulary::TaskKind,
) -> String {
    frontdesk::tasks::create(
        db,
        &frontdesk::tasks::NewTask {
            queue,
            priority,
            kind,
            summary: format!("{} task for the test", kind.as_str()),
            call_id: None,
            patient_id: None,
            callback_number: Some("5551234567".into()),
        },
    )
    .await
    .expect("task created")
    .id
}

/// Every history id in the database after `after`, in order.
pub async fn history_ids_after(db: &Db, after: i64) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM task_history WHERE id > $1 ORDER BY id")
        .bind(after)
        .fetch_all(&db.pool)
        .await
        .unwrap()
}
