//! Test helpers: the real application on port 0 with a fresh SQLite
//! database, models loaded once per test binary, and the shared corpus.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use frontdesk::app::{Application, Engines};
use frontdesk::settings::{self, Settings};

/// The real models, loaded once per test binary (they take seconds).
pub fn engines() -> Engines {
    static ENGINES: OnceLock<Engines> = OnceLock::new();
    ENGINES
        .get_or_init(|| {
            let settings = settings::for_data_dir(std::env::temp_dir().as_path());
            Engines::load(&settings).expect("models load (run `frontdesk models` / `make models` first)")
        })
        .clone()
}

/// A running server.
pub struct TestApp {
    pub port: u16,
    pub base_url: String,
    pub admin_token: String,
    pub data_dir: tempfile::TempDir,
    pub client: reqwest::Client,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// GET with the admin token, parsed as JSON.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.client.get(self.url(path)).bearer_auth(&self.admin_token).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }
}

/// Starts the application with settings adjusted by `tweak`.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = settings::for_data_dir(data_dir.path());
    settings.admin_token = Some("test-admin-token".into());
    tweak(&mut settings);
    let app = Application::build_with(settings.clone(), engines()).await.expect("application builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        port,
        base_url: format!("http://127.0.0.1:{port}"),
        admin_token: settings.admin_token.clone().unwrap_or_default(),
        data_dir,
        client: reqwest::Client::new(),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The shared test corpus (`../shared/corpus`), or `None` with a note.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var("FRONTDESK_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("corpus not found at {}, skipping the parts of this test that need it", dir.display());
        None
    }
}
