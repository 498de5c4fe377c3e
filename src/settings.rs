//! Server settings: from flags, else environment, else the `[server]` table
//! of the config file, else defaults (`spec/api.md`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::models::ModelPaths;

/// Flags shared by every command that touches the server's state.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct CommonArgs {
    /// Database URL: `sqlite://PATH` or `postgres://…` [env: DATABASE_URL]
    /// [default: an SQLite file in the data directory]
    #[arg(long, global = true)]
    pub database: Option<String>,
    /// Clinic configuration (TOML) [env: FRONTDESK_CONFIG] [default: the bundled demo clinic]
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Pin the clinic's clock: an RFC 3339 instant the clock starts at and runs on from
    /// [env: FRONTDESK_NOW]
    #[arg(long, global = true)]
    pub now: Option<String>,
    /// Where the SQLite database and call recordings live [env: FRONTDESK_DATA_DIR] [default: ./data]
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Where `frontdesk models` puts models [env: FRONTDESK_MODELS_DIR] [default: ./models]
    #[arg(long, global = true)]
    pub models_dir: Option<PathBuf>,
    /// A directory of `*.toml` files overriding the agent's wording, key by key
    /// (keys of prompts/en.toml) [env: FRONTDESK_PROMPTS_DIR] [default: the bundled wording]
    #[arg(long, global = true)]
    pub prompts_dir: Option<PathBuf>,
}

/// Flags of `frontdesk serve`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ServeArgs {
    /// Address to listen on [env: FRONTDESK_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long)]
    pub listen: Option<String>,
    /// The public base URL Twilio reaches us at (e.g. https://clinic.example.org); builds the
    /// wss:// stream URL in TwiML and validates signatures [env: FRONTDESK_PUBLIC_URL]
    #[arg(long)]
    pub public_url: Option<String>,
    /// Simultaneous calls the agent accepts before answering new ones with a busy
    /// message [env: FRONTDESK_MAX_CALLS] [default: 8]
    #[arg(long)]
    pub max_calls: Option<usize>,
}

/// The `[server]` table a config file may carry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileServer {
    listen: Option<String>,
    database: Option<String>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    max_calls: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
struct FileTop {
    #[serde(default)]
    server: FileServer,
}

/// Everything the server needs to start, resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: String,
    pub database_url: String,
    /// The clinic configuration file; `None` means the bundled demo clinic.
    pub config_path: Option<PathBuf>,
    /// Text of the config file (read once).
    pub config_text: Option<String>,
    pub public_url: Option<String>,
    pub now: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub data_dir: PathBuf,
    pub models: ModelPaths,
    /// Wording overrides (`FRONTDESK_PROMPTS_DIR`); `None`: the bundled prompts.
    pub prompts_dir: Option<PathBuf>,
    pub admin_token: Option<String>,
    pub twilio_auth_token: Option<String>,
    pub twilio_account_sid: Option<String>,
    /// Base URL of Twilio's REST API (`TWILIO_API_BASE`, default
    /// `https://api.twilio.com`); tests point it at a local stand-in.
    pub twilio_api_base: Option<String>,
    pub max_calls: usize,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    pub fn resolve(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<Settings> {
        let config_path = common
            .config
            .clone()
            .or_else(|| env("FRONTDESK_CONFIG").map(PathBuf::from));
        let config_text =
            match &config_path {
                Some(path) => Some(std::fs::read_to_string(path).with_context(|| {
                    format!("reading the clinic configuration {}", path.display())
                })?),
                None => None,
            };
        let file: FileTop = match &config_text {
            Some(text) => toml::from_str::<toml::Value>(text)
                .ok()
                .and_then(|v| v.get("server").cloned())
                .map(|server| -> anyhow::Result<FileTop> {
                    Ok(FileTop {
                        server: server
                            .try_into()
                            .context("the [server] table of the config file")?,
                    })
                })
                .transpose()?
                .unwrap_or_default(),
            None => FileTop::default(),
        };
        let data_dir = common
            .data_dir
            .clone()
            .or_else(|| env("FRONTDESK_DATA_DIR").map(PathBuf::from))
            .or(file.server.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = common
            .database
            .clone()
            .or_else(|| env("DATABASE_URL"))
            .or(file.server.database)
            .unwrap_or_else(|| crate::store::sqlite_url_in(&data_dir));
        let listen = serve
            .listen
            .clone()
            .or_else(|| env("FRONTDESK_LISTEN"))
            .or(file.server.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let public_url = serve
            .public_url
            .clone()
            .or_else(|| env("FRONTDESK_PUBLIC_URL"))
            .or(file.server.public_url)
            .map(|u| u.trim_end_matches('/').to_string());
        if let Some(url) = &public_url {
            anyhow::ensure!(
                url.starts_with("https://") || url.starts_with("http://"),
                "the public URL must start with https:// (or http:// for local testing), got {url:?}"
            );
        }
        let now = common
            .now
            .clone()
            .or_else(|| env("FRONTDESK_NOW"))
            .map(|text| {
                chrono::DateTime::parse_from_rfc3339(&text).with_context(|| {
                    format!("FRONTDESK_NOW / --now must be an RFC 3339 instant, got {text:?}")
                })
            })
            .transpose()?;
        let models = common
            .models_dir
            .clone()
            .map(ModelPaths::at)
            .unwrap_or_else(ModelPaths::locate);
        let max_calls = serve
            .max_calls
            .or_else(|| env("FRONTDESK_MAX_CALLS").and_then(|v| v.parse().ok()))
            .or(file.server.max_calls)
            .unwrap_or(8)
            .max(1);
        let prompts_dir = common
            .prompts_dir
            .clone()
            .or_else(|| env("FRONTDESK_PROMPTS_DIR").map(PathBuf::from));
        Ok(Settings {
            listen,
            database_url,
            config_path,
            config_text,
            public_url,
            now,
            data_dir,
            models,
            prompts_dir,
            admin_token: env("FRONTDESK_ADMIN_TOKEN"),
            twilio_auth_token: env("TWILIO_AUTH_TOKEN"),
            twilio_account_sid: env("TWILIO_ACCOUNT_SID"),
            twilio_api_base: env("TWILIO_API_BASE"),
            max_calls,
        })
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().with_context(|| {
            format!(
                "--listen / FRONTDESK_LISTEN must be HOST:PORT, got {:?}",
                self.listen
            )
        })
    }

    pub fn recordings_dir(&self) -> PathBuf {
        self.data_dir.join("recordings")
    }

    pub fn spool_dir(&self) -> PathBuf {
        self.data_dir.join("spool")
    }
}

/// Used by tests and tools: settings rooted in a scratch directory.
pub fn for_data_dir(data_dir: &Path) -> Settings {
    Settings {
        listen: "127.0.0.1:0".into(),
        database_url: crate::store::sqlite_url_in(data_dir),
        config_path: None,
        config_text: None,
        public_url: None,
        now: None,
        prompts_dir: None,
        data_dir: data_dir.to_path_buf(),
        models: ModelPaths::locate(),
        admin_token: None,
        twilio_auth_token: None,
        twilio_account_sid: None,
        twilio_api_base: None,
        max_calls: 8,
    }
}
