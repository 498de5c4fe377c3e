//! The real `frontdesk serve` binary as a child process (a temporary data
//! directory, a free loopback port, its logs in a file), for tests that
//! kill it or read what it logs; and the synthetic caller's voice.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use frontdesk::caller::voice::PiperCaller;
use frontdesk::caller::{CallerOptions, CallerSpeech};
use frontdesk::models::ModelPaths;
use frontdesk::tts::Tts;

pub const ADMIN_TOKEN: &str = "process-test-admin-token";

/// Whether the models `serve` loads are there (reported through
/// `prerequisites::missing` when not).
pub fn models_present() -> bool {
    let paths = ModelPaths::locate();
    frontdesk::prerequisites::model_present(&paths.voice())
        && frontdesk::prerequisites::model_present(&paths.vad())
}

/// A caller voice unlike the agent's; loads only the Piper voice.
pub fn caller_voice(preset: &str) -> Arc<dyn CallerSpeech> {
    static TTS: OnceLock<Arc<Tts>> = OnceLock::new();
    let tts = TTS
        .get_or_init(|| {
            let paths = ModelPaths::locate();
            frontdesk::models::init_onnx_runtime(&paths).expect("the ONNX runtime");
            Tts::load(&paths).expect("loading the voice")
        })
        .clone();
    Arc::new(PiperCaller::new(tts, preset).expect("caller voice preset"))
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// One run of `frontdesk serve`.
pub struct Server {
    child: Child,
    pub port: u16,
    pub base_url: String,
    /// Its standard error and output (the logs), appended run after run.
    pub log_path: PathBuf,
    pub client: reqwest::Client,
}

impl Server {
    /// Starts the server on `data_dir` with the extra environment `env`,
    /// and waits until it is ready (models loaded, listening).
    pub async fn start(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_on(data_dir, env, free_port()).await
    }

    /// [`Server::start`] on a given port: a restart where the clients
    /// (a browser's event stream) look for it again.
    pub async fn start_on(data_dir: &Path, env: &[(&str, &str)], port: u16) -> Server {
        let log_path = data_dir.join("server.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env_remove("DATABASE_URL")
            .env_remove("FRONTDESK_CONFIG")
            .env_remove("FRONTDESK_PROMPTS_DIR")
            .env_remove("FRONTDESK_LOG_FORMAT")
            .env_remove("TWILIO_AUTH_TOKEN")
            .env_remove("TWILIO_ACCOUNT_SID")
            .env("FRONTDESK_MODELS_DIR", ModelPaths::locate().root)
            .env("FRONTDESK_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("frontdesk serve starts");
        let mut server = Server {
            child,
            port,
            base_url: format!("http://127.0.0.1:{port}"),
            log_path,
            client: reqwest::Client::new(),
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "frontdesk serve exited ({status}) before it was ready:\n{}",
                    self.logs()
                );
            }
            if let Ok(response) = self.client.get(self.url("/readyz")).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "frontdesk serve not ready after 300 s:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// SIGKILL: no shutdown, no flush, nothing finished.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().unwrap();
    }

    /// Caller options for this server, sped up.
    pub fn caller(&self, speed: f32) -> CallerOptions {
        let mut opts = CallerOptions::new(url::Url::parse(&self.base_url).unwrap());
        opts.speed = speed;
        opts.reply_timeout_ms = 600_000;
        opts.max_call_ms = 30 * 60_000;
        opts
    }

    /// GET with the admin token: the status and the JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A call's turns of one speaker, lowercased and joined.
pub fn turns_text(call: &serde_json::Value, speaker: &str) -> String {
    call["turns"]
        .as_array()
        .map(|turns| {
            turns
                .iter()
                .filter(|t| t["speaker"] == speaker)
                .filter_map(|t| t["text"].as_str())
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}
