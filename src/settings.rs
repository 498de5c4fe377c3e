//! Server settings: from flags, else environment (clap reads both: each
//! flag names its variable), else the `[server]` table of the config file,
//! else defaults (`spec/api.md`). A variable set to a blank value counts as
//! not set.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::models::ModelPaths;

/// Flags shared by every command that touches the server's state.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct CommonArgs {
    /// Database URL: `sqlite://PATH` or `postgres://…`
    /// [default: an SQLite file in the data directory]
    // Its value is hidden: a PostgreSQL URL may carry a password.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// Clinic configuration (TOML) [default: the bundled demo clinic]
    #[arg(long, global = true, env = "FRONTDESK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Pin the clinic's clock: an RFC 3339 instant the clock starts at and runs on from
    #[arg(long, global = true, env = "FRONTDESK_NOW")]
    pub now: Option<String>,
    /// Where the SQLite database and call recordings live [default: ./data]
    #[arg(long, global = true, env = "FRONTDESK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where `frontdesk models` puts models [default: ./models]
    #[arg(long, global = true, env = "FRONTDESK_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
    /// A directory of `*.toml` files overriding the agent's wording, key by key
    /// (keys of prompts/en.toml) [default: the bundled wording]
    #[arg(long, global = true, env = "FRONTDESK_PROMPTS_DIR")]
    pub prompts_dir: Option<PathBuf>,
}

/// Flags of `frontdesk serve`. Not `Default`: a command other than `serve`
/// takes these settings from the environment, [`ServeArgs::from_env`].
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "FRONTDESK_LISTEN")]
    pub listen: Option<String>,
    /// The public base URL Twilio reaches us at (e.g. https://clinic.example.org); builds the
    /// wss:// stream URL in TwiML and validates signatures
    #[arg(long, env = "FRONTDESK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Simultaneous calls the agent accepts before answering new ones with a busy
    /// message [default: 8]
    #[arg(long, env = "FRONTDESK_MAX_CALLS")]
    pub max_calls: Option<MaxCalls>,
    /// On SIGTERM or Ctrl-C, how long calls in progress may go on (new calls are answered
    /// busy) before the agent says goodbye and ends them; the process then exits once their
    /// words are saved, at most 30 s later [default: 30]
    #[arg(long, env = "FRONTDESK_DRAIN_SECONDS")]
    pub drain_seconds: Option<Seconds>,
    /// Serve on a non-loopback address without TWILIO_AUTH_TOKEN: anyone who reaches the
    /// address can open a media stream and talk to the agent. Refused without this flag
    // The variable takes 1/true/yes/on (0, false, no, off or blank: off).
    #[arg(long, env = "FRONTDESK_INSECURE_TELEPHONY", value_parser = clap::builder::FalseyValueParser::new())]
    pub insecure_telephony: bool,
    /// Serve on a non-loopback address with no staff token (FRONTDESK_ADMIN_TOKEN or a staff
    /// account): the staff API then refuses every request. Refused without this flag
    // The variable takes 1/true/yes/on (0, false, no, off or blank: off).
    #[arg(long, env = "FRONTDESK_WITHOUT_STAFF_TOKEN", value_parser = clap::builder::FalseyValueParser::new())]
    pub without_staff_token: bool,
    /// A bearer token with role `admin` for the staff API (prefer the variable: flags
    /// show in the process list)
    #[arg(long, env = "FRONTDESK_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Twilio's auth token: when set, webhooks and the media websocket must be signed
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub twilio_auth_token: Option<String>,
    /// Twilio account SID: with the auth token, enables warm transfers to staff
    #[arg(long, env = "TWILIO_ACCOUNT_SID", hide_env_values = true)]
    pub twilio_account_sid: Option<String>,
    /// Base URL of Twilio's REST API, where warm transfers are posted
    /// [default: https://api.twilio.com]
    #[arg(long, env = "TWILIO_API_BASE", hide_env_values = true)]
    pub twilio_api_base: Option<String>,
    /// How often an idle task event stream (GET /api/v1/tasks/events) sends a heartbeat
    /// comment, in milliseconds [default: 15000]
    #[arg(long, env = "FRONTDESK_EVENTS_HEARTBEAT_MS")]
    pub events_heartbeat_ms: Option<Millis>,
    /// How long a warm transfer rings the staff member's phone before the caller is told
    /// nobody could answer and a callback task is made [default: 20]
    #[arg(long, env = "FRONTDESK_TRANSFER_RING_SECONDS")]
    pub transfer_ring_seconds: Option<Seconds>,
}

impl ServeArgs {
    /// The settings of `serve` as a command without its flags sees them
    /// (`call`, `bench`, `migrate`…): each variable's value, or unset.
    pub fn from_env() -> anyhow::Result<ServeArgs> {
        #[derive(clap::Parser)]
        #[command(no_binary_name = true)]
        struct EnvironmentOnly {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let parsed: Result<EnvironmentOnly, _> =
            clap::Parser::try_parse_from(std::iter::empty::<String>());
        parsed.map(|parsed| parsed.serve).map_err(|e| {
            // clap's message names the flag and ends with a usage hint;
            // keep its first line and say where the value came from.
            let message = e.to_string();
            let first = message.lines().next().unwrap_or_default();
            anyhow::anyhow!(
                "{} (from its environment variable, see `frontdesk serve --help`)",
                first.trim_start_matches("error: ")
            )
        })
    }
}

/// `--max-calls` / `FRONTDESK_MAX_CALLS`: a count, or a blank value, which
/// counts as not set like every other setting's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxCalls(pub Option<usize>);

impl std::str::FromStr for MaxCalls {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<MaxCalls, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(MaxCalls(None));
        }
        text.parse().map(|count| MaxCalls(Some(count)))
    }
}

/// `--drain-seconds` / `FRONTDESK_DRAIN_SECONDS`: whole seconds, or a
/// blank value, which counts as not set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seconds(pub Option<u64>);

impl std::str::FromStr for Seconds {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<Seconds, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Seconds(None));
        }
        text.parse().map(|seconds| Seconds(Some(seconds)))
    }
}

/// `--events-heartbeat-ms` / `FRONTDESK_EVENTS_HEARTBEAT_MS`: whole
/// milliseconds (at least 1), or a blank value, which counts as not set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Millis(pub Option<u64>);

impl std::str::FromStr for Millis {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<Millis, Self::Err> {
        text.parse::<Seconds>().map(|Seconds(ms)| Millis(ms))
    }
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
    drain_seconds: Option<u64>,
    /// Believe the last `X-Forwarded-For` entry: a reverse proxy the
    /// operator runs stands in front.
    trust_forwarded_for: Option<bool>,
    /// Failed sign-ins from one address before `429` (default 10) …
    sign_in_max_failures: Option<u32>,
    /// … within this many seconds (default 300).
    sign_in_window_seconds: Option<u64>,
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
    /// How long a warm transfer rings staff before the caller is told
    /// nobody answered (Twilio's `<Dial timeout>`).
    pub transfer_ring_seconds: u64,
    pub max_calls: usize,
    /// How long calls in progress may go on once the server is told to
    /// stop, before the agent ends them.
    pub drain_seconds: u64,
    /// The operator means to serve telephony unsigned on a public address.
    pub insecure_telephony: bool,
    /// The operator means to serve on a public address with no staff token.
    pub without_staff_token: bool,
    /// How often an idle task event stream sends a heartbeat.
    pub events_heartbeat: std::time::Duration,
    /// A trusted reverse proxy in front: the client's address is the last
    /// `X-Forwarded-For` entry (`[server] trust_forwarded_for`).
    pub trust_forwarded_for: bool,
    /// Failed sign-ins allowed per address and window
    /// (`[server] sign_in_max_failures`, `sign_in_window_seconds`).
    pub sign_in: SignInLimits,
}

/// A flag's or variable's value, unless it is blank (`FRONTDESK_LISTEN=`).
fn given<T: Clone + AsRef<OsStr>>(value: &Option<T>) -> Option<T> {
    value
        .clone()
        .filter(|v| !v.as_ref().to_string_lossy().trim().is_empty())
}

/// The `[server]` table of the config file's text; none without a file.
fn file_server(config_text: Option<&str>) -> anyhow::Result<FileServer> {
    let Some(text) = config_text else {
        return Ok(FileServer::default());
    };
    let file = toml::from_str::<toml::Value>(text)
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
        .unwrap_or_default();
    Ok(file.server)
}

impl Settings {
    /// Merges flags and environment (both already in `common` and `serve`,
    /// as clap parsed them) with the config file and the defaults.
    pub fn resolve(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<Settings> {
        let config_path = given(&common.config);
        let config_text =
            match &config_path {
                Some(path) => Some(std::fs::read_to_string(path).with_context(|| {
                    format!("reading the clinic configuration {}", path.display())
                })?),
                None => None,
            };
        let file = file_server(config_text.as_deref())?;
        let data_dir = given(&common.data_dir)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = given(&common.database)
            .or(file.database)
            .unwrap_or_else(|| crate::store::sqlite_url_in(&data_dir));
        let listen = given(&serve.listen)
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let public_url = given(&serve.public_url)
            .or(file.public_url)
            .map(|u| u.trim_end_matches('/').to_string());
        if let Some(url) = &public_url {
            anyhow::ensure!(
                url.starts_with("https://") || url.starts_with("http://"),
                "the public URL must start with https:// (or http:// for local testing), got {url:?}"
            );
        }
        let now = given(&common.now)
            .map(|text| {
                chrono::DateTime::parse_from_rfc3339(&text).with_context(|| {
                    format!("FRONTDESK_NOW / --now must be an RFC 3339 instant, got {text:?}")
                })
            })
            .transpose()?;
        let models = given(&common.models_dir)
            .map(ModelPaths::at)
            .unwrap_or_else(ModelPaths::locate);
        let max_calls = serve
            .max_calls
            .and_then(|MaxCalls(count)| count)
            .or(file.max_calls)
            .unwrap_or(8)
            .max(1);
        let drain_seconds = serve
            .drain_seconds
            .and_then(|Seconds(seconds)| seconds)
            .or(file.drain_seconds)
            .unwrap_or(DEFAULT_DRAIN_SECONDS);
        Ok(Settings {
            listen,
            database_url,
            config_path,
            config_text,
            public_url,
            now,
            data_dir,
            models,
            prompts_dir: given(&common.prompts_dir),
            admin_token: given(&serve.admin_token),
            twilio_auth_token: given(&serve.twilio_auth_token),
            twilio_account_sid: given(&serve.twilio_account_sid),
            twilio_api_base: given(&serve.twilio_api_base),
            transfer_ring_seconds: serve
                .transfer_ring_seconds
                .and_then(|Seconds(seconds)| seconds)
                .unwrap_or(DEFAULT_TRANSFER_RING_SECONDS)
                .clamp(5, 120),
            max_calls,
            drain_seconds,
            insecure_telephony: serve.insecure_telephony,
            without_staff_token: serve.without_staff_token,
            events_heartbeat: std::time::Duration::from_millis(
                serve
                    .events_heartbeat_ms
                    .and_then(|Millis(ms)| ms)
                    .unwrap_or(DEFAULT_EVENTS_HEARTBEAT_MS)
                    .max(1),
            ),
            trust_forwarded_for: file.trust_forwarded_for.unwrap_or(false),
            sign_in: {
                let default = SignInLimits::default();
                SignInLimits {
                    max_failures: file
                        .sign_in_max_failures
                        .unwrap_or(default.max_failures)
                        .max(1),
                    window: file
                        .sign_in_window_seconds
                        .map(std::time::Duration::from_secs)
                        .unwrap_or(default.window),
                }
            },
        })
    }

    /// Whether the listen address is reachable only from this machine.
    pub fn listens_on_loopback(&self) -> anyhow::Result<bool> {
        Ok(self.listen_addr()?.ip().is_loopback())
    }

    /// Refuses to serve Twilio's routes unsigned where others can reach
    /// them: without `TWILIO_AUTH_TOKEN` anyone who reaches the address can
    /// open a media stream (and hear the agent read a patient's
    /// appointments) or post fake call statuses. `--insecure-telephony`
    /// says the operator means it.
    pub fn check_telephony_exposure(&self) -> anyhow::Result<()> {
        if self.twilio_auth_token.is_some()
            || self.insecure_telephony
            || self.listens_on_loopback()?
        {
            return Ok(());
        }
        anyhow::bail!(
            "refusing to serve telephony on {} without TWILIO_AUTH_TOKEN: anyone who reaches              this address could open a media stream and talk to the agent. Set TWILIO_AUTH_TOKEN              (your Twilio account's auth token) so every webhook and stream must carry Twilio's              signature, or listen on 127.0.0.1; pass --insecure-telephony              (FRONTDESK_INSECURE_TELEPHONY=1) only if you mean to serve it unsigned",
            self.listen
        )
    }

    /// Refuses to serve where others can reach the server when no staff
    /// token exists (`staff_accounts`: accounts in the database): the staff
    /// API would refuse everyone, which on a public address is almost
    /// always a forgotten setting. `--without-staff-token` says the
    /// operator means it.
    pub fn check_staff_exposure(&self, staff_accounts: u64) -> anyhow::Result<()> {
        if self.admin_token.is_some()
            || staff_accounts > 0
            || self.without_staff_token
            || self.listens_on_loopback()?
        {
            return Ok(());
        }
        anyhow::bail!(
            "refusing to serve on {} with no staff token: nobody could use the staff API. Set              FRONTDESK_ADMIN_TOKEN (a long random secret) or add a staff account; pass              --without-staff-token (FRONTDESK_WITHOUT_STAFF_TOKEN=1) only if you mean to serve              without one",
            self.listen
        )
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

/// Failed sign-ins allowed from one address: `max_failures` within
/// `window`, then `429` until the oldest leaves the window
/// (`web::sign_in`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInLimits {
    pub max_failures: u32,
    pub window: std::time::Duration,
}

impl Default for SignInLimits {
    /// 10 failures in 5 minutes.
    fn default() -> SignInLimits {
        SignInLimits {
            max_failures: 10,
            window: std::time::Duration::from_secs(300),
        }
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
        transfer_ring_seconds: DEFAULT_TRANSFER_RING_SECONDS,
        max_calls: 8,
        drain_seconds: DEFAULT_DRAIN_SECONDS,
        insecure_telephony: false,
        without_staff_token: false,
        events_heartbeat: std::time::Duration::from_millis(DEFAULT_EVENTS_HEARTBEAT_MS),
        trust_forwarded_for: false,
        sign_in: SignInLimits::default(),
    }
}

/// `--events-heartbeat-ms` when nothing sets it: a comment line every 15 s
/// keeps proxies from closing an idle stream and finds gone clients.
pub const DEFAULT_EVENTS_HEARTBEAT_MS: u64 = 15_000;

/// `--drain-seconds` when nothing sets it.
pub const DEFAULT_DRAIN_SECONDS: u64 = 30;

/// `--transfer-ring-seconds` when nothing sets it: about five rings.
pub const DEFAULT_TRANSFER_RING_SECONDS: u64 = 20;

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// `frontdesk`'s shape: the shared flags on every command, `serve`'s own.
    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        common: CommonArgs,
        #[command(subcommand)]
        command: Command,
    }

    #[derive(clap::Subcommand, Debug)]
    #[allow(clippy::large_enum_variant)] // parsed once, in tests
    enum Command {
        Serve(ServeArgs),
        Migrate,
    }

    /// Every variable a setting reads.
    const VARIABLES: [&str; 18] = [
        "FRONTDESK_LISTEN",
        "DATABASE_URL",
        "FRONTDESK_CONFIG",
        "FRONTDESK_PUBLIC_URL",
        "FRONTDESK_NOW",
        "FRONTDESK_DATA_DIR",
        "FRONTDESK_MODELS_DIR",
        "FRONTDESK_PROMPTS_DIR",
        "FRONTDESK_MAX_CALLS",
        "FRONTDESK_DRAIN_SECONDS",
        "FRONTDESK_INSECURE_TELEPHONY",
        "FRONTDESK_WITHOUT_STAFF_TOKEN",
        "FRONTDESK_ADMIN_TOKEN",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_API_BASE",
        "FRONTDESK_EVENTS_HEARTBEAT_MS",
        "FRONTDESK_TRANSFER_RING_SECONDS",
    ];

    fn no_serve_flags() -> ServeArgs {
        ServeArgs {
            listen: None,
            public_url: None,
            max_calls: None,
            drain_seconds: None,
            insecure_telephony: false,
            without_staff_token: false,
            admin_token: None,
            twilio_auth_token: None,
            twilio_account_sid: None,
            twilio_api_base: None,
            events_heartbeat_ms: None,
            transfer_ring_seconds: None,
        }
    }

    /// A config file whose `[server]` table sets four settings.
    fn config_with_server_table(dir: &Path) -> PathBuf {
        let path = dir.join("clinic.toml");
        std::fs::write(
            &path,
            "[server]\nlisten = \"10.0.0.3:7000\"\nmax_calls = 3\n\
             public_url = \"https://file.example.org/\"\ndata_dir = \"/srv/file-data\"\n",
        )
        .unwrap();
        path
    }

    #[test]
    fn config_file_beats_defaults_and_flags_beat_the_file() {
        let defaults = Settings::resolve(&CommonArgs::default(), &no_serve_flags()).unwrap();
        assert_eq!(defaults.listen, "127.0.0.1:8080");
        assert_eq!(defaults.max_calls, 8);
        assert_eq!(defaults.public_url, None);
        assert_eq!(defaults.data_dir, PathBuf::from("data"));
        assert_eq!(
            defaults.database_url,
            crate::store::sqlite_url_in(Path::new("data"))
        );

        let dir = tempfile::tempdir().unwrap();
        let common = CommonArgs {
            config: Some(config_with_server_table(dir.path())),
            ..CommonArgs::default()
        };
        let from_file = Settings::resolve(&common, &no_serve_flags()).unwrap();
        assert_eq!(from_file.listen, "10.0.0.3:7000");
        assert_eq!(from_file.max_calls, 3);
        assert_eq!(
            from_file.public_url.as_deref(),
            Some("https://file.example.org")
        );
        assert_eq!(from_file.data_dir, PathBuf::from("/srv/file-data"));
        assert_eq!(
            from_file.database_url,
            crate::store::sqlite_url_in(Path::new("/srv/file-data"))
        );

        let flags = ServeArgs {
            listen: Some("0.0.0.0:9000".into()),
            max_calls: Some(MaxCalls(Some(5))),
            ..no_serve_flags()
        };
        let common = CommonArgs {
            data_dir: Some("flag-data".into()),
            ..common
        };
        let from_flags = Settings::resolve(&common, &flags).unwrap();
        assert_eq!(from_flags.listen, "0.0.0.0:9000");
        assert_eq!(from_flags.max_calls, 5);
        assert_eq!(from_flags.data_dir, PathBuf::from("flag-data"));
        assert_eq!(
            from_flags.public_url.as_deref(),
            Some("https://file.example.org")
        );

        // A blank value (`FRONTDESK_LISTEN=`) is no value: the file's applies.
        let blank = ServeArgs {
            listen: Some("  ".into()),
            max_calls: Some(MaxCalls(None)),
            ..no_serve_flags()
        };
        let from_blank = Settings::resolve(&common, &blank).unwrap();
        assert_eq!(from_blank.listen, "10.0.0.3:7000");
        assert_eq!(from_blank.max_calls, 3);
    }

    #[test]
    fn flags_parse_after_the_command_and_beat_any_variable() {
        let cli = Cli::try_parse_from([
            "frontdesk",
            "serve",
            "--listen",
            "0.0.0.0:9000",
            "--max-calls",
            "4",
            "--data-dir",
            "flag-data",
            "--admin-token",
            "flag-token",
        ])
        .unwrap();
        let Command::Serve(serve) = &cli.command else {
            panic!("parsed {:?}", cli.command)
        };
        assert_eq!(serve.listen.as_deref(), Some("0.0.0.0:9000"));
        assert_eq!(serve.max_calls, Some(MaxCalls(Some(4))));
        assert_eq!(serve.admin_token.as_deref(), Some("flag-token"));
        assert_eq!(cli.common.data_dir, Some(PathBuf::from("flag-data")));

        let blank = Cli::try_parse_from(["frontdesk", "serve", "--max-calls", " "]).unwrap();
        let Command::Serve(serve) = &blank.command else {
            panic!("parsed {:?}", blank.command)
        };
        assert_eq!(serve.max_calls, Some(MaxCalls(None)));
        assert!(Cli::try_parse_from(["frontdesk", "serve", "--max-calls", "many"]).is_err());
    }

    #[test]
    fn every_setting_names_its_variable_and_secrets_hide_their_values() {
        let mut cli = Cli::command();
        cli.build();
        let serve = cli.find_subcommand("serve").expect("serve");
        let mut named: Vec<String> = serve
            .get_arguments()
            .filter_map(|arg| arg.get_env())
            .map(|name| name.to_string_lossy().into_owned())
            .collect();
        named.sort();
        let mut expected = VARIABLES.map(String::from).to_vec();
        expected.sort();
        assert_eq!(named, expected);
        let hidden: Vec<&str> = serve
            .get_arguments()
            .filter(|arg| arg.is_hide_env_values_set())
            .map(|arg| arg.get_id().as_str())
            .collect();
        for secret in [
            "admin_token",
            "twilio_auth_token",
            "twilio_account_sid",
            "twilio_api_base",
            "database",
        ] {
            assert!(hidden.contains(&secret), "{secret} shows its value");
        }
    }

    /// clap reads the variables when the command is built, so the
    /// environment layer is tested in a child process given its own
    /// environment: setting variables in this multi-threaded test process
    /// would race with every other test.
    #[test]
    fn environment_sits_between_flags_and_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_with_server_table(dir.path());
        let mut child = std::process::Command::new(std::env::current_exe().unwrap());
        child.args([
            "--exact",
            "settings::tests::environment_layer_in_a_child_process",
            "--ignored",
            "--test-threads=1",
        ]);
        for name in VARIABLES {
            child.env_remove(name);
        }
        child
            .env("FRONTDESK_SETTINGS_TEST_CHILD", "1")
            .env("FRONTDESK_CONFIG", &config)
            .env("FRONTDESK_LISTEN", "10.1.1.1:7001")
            .env("FRONTDESK_MAX_CALLS", "6")
            .env("FRONTDESK_PUBLIC_URL", "")
            .env("DATABASE_URL", "sqlite://env.sqlite3")
            .env("TWILIO_AUTH_TOKEN", "env-secret")
            .env("FRONTDESK_DRAIN_SECONDS", "7")
            .env("FRONTDESK_INSECURE_TELEPHONY", "1")
            .env("FRONTDESK_WITHOUT_STAFF_TOKEN", "0");
        let out = child.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "child test failed:\n{stdout}\n{stderr}"
        );
    }

    #[test]
    #[ignore = "run by environment_sits_between_flags_and_the_config_file, with its own environment"]
    fn environment_layer_in_a_child_process() {
        assert_eq!(
            std::env::var("FRONTDESK_SETTINGS_TEST_CHILD").as_deref(),
            Ok("1"),
            "run by its parent test"
        );
        let cli =
            Cli::try_parse_from(["frontdesk", "serve", "--database", "sqlite://flag.sqlite3"])
                .unwrap();
        let Command::Serve(serve) = &cli.command else {
            panic!("parsed {:?}", cli.command)
        };
        let settings = Settings::resolve(&cli.common, serve).unwrap();
        // flag beats environment
        assert_eq!(settings.database_url, "sqlite://flag.sqlite3");
        // environment beats the config file
        assert_eq!(settings.listen, "10.1.1.1:7001");
        assert_eq!(settings.max_calls, 6);
        assert_eq!(settings.twilio_auth_token.as_deref(), Some("env-secret"));
        assert_eq!(settings.drain_seconds, 7);
        assert!(settings.insecure_telephony);
        assert!(!settings.without_staff_token, "a falsey value is off");
        // a blank variable is unset: the config file's value
        assert_eq!(
            settings.public_url.as_deref(),
            Some("https://file.example.org")
        );
        // the config file beats the default
        assert_eq!(settings.data_dir, PathBuf::from("/srv/file-data"));
        // nothing set: the default
        assert_eq!(settings.now, None);
        assert_eq!(settings.admin_token, None);

        // Commands without serve's flags read the same variables.
        let migrate = Cli::try_parse_from(["frontdesk", "migrate"]).unwrap();
        let settings = Settings::resolve(&migrate.common, &ServeArgs::from_env().unwrap()).unwrap();
        assert_eq!(settings.database_url, "sqlite://env.sqlite3");
        assert_eq!(settings.listen, "10.1.1.1:7001");
        assert_eq!(settings.twilio_auth_token.as_deref(), Some("env-secret"));

        // `--help` names the variables and shows no secret.
        let mut cli = Cli::command();
        cli.build();
        let help = cli
            .find_subcommand_mut("serve")
            .expect("serve")
            .render_long_help()
            .to_string();
        assert!(
            help.contains("[env: FRONTDESK_LISTEN=10.1.1.1:7001]"),
            "{help}"
        );
        assert!(help.contains("[env: TWILIO_AUTH_TOKEN]"), "{help}");
        assert!(!help.contains("env-secret"), "{help}");
    }

    #[test]
    fn drain_seconds_come_from_flag_file_or_default() {
        let defaults = Settings::resolve(&CommonArgs::default(), &no_serve_flags()).unwrap();
        assert_eq!(defaults.drain_seconds, DEFAULT_DRAIN_SECONDS);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clinic.toml");
        std::fs::write(&path, "[server]\ndrain_seconds = 45\n").unwrap();
        let common = CommonArgs {
            config: Some(path),
            ..CommonArgs::default()
        };
        let from_file = Settings::resolve(&common, &no_serve_flags()).unwrap();
        assert_eq!(from_file.drain_seconds, 45);
        let cli = Cli::try_parse_from(["frontdesk", "serve", "--drain-seconds", "5"]).unwrap();
        let Command::Serve(serve) = &cli.command else {
            panic!("parsed {:?}", cli.command)
        };
        assert_eq!(Settings::resolve(&common, serve).unwrap().drain_seconds, 5);
        let blank = ServeArgs {
            drain_seconds: Some(Seconds(None)),
            ..no_serve_flags()
        };
        assert_eq!(
            Settings::resolve(&common, &blank).unwrap().drain_seconds,
            45
        );
        assert!(Cli::try_parse_from(["frontdesk", "serve", "--drain-seconds", "soon"]).is_err());
    }

    fn listening_on(listen: &str) -> Settings {
        Settings {
            listen: listen.into(),
            ..for_data_dir(Path::new("data"))
        }
    }

    #[test]
    fn unsigned_telephony_on_a_public_address_is_refused_unless_meant() {
        for public in ["0.0.0.0:8080", "192.168.1.20:8080", "[::]:8080"] {
            let error = listening_on(public)
                .check_telephony_exposure()
                .unwrap_err()
                .to_string();
            assert!(error.contains(public), "{error}");
            assert!(error.contains("TWILIO_AUTH_TOKEN"), "the fix: {error}");
            assert!(error.contains("--insecure-telephony"), "the flag: {error}");
            assert!(error.contains("FRONTDESK_INSECURE_TELEPHONY"), "{error}");

            let signed = Settings {
                twilio_auth_token: Some("secret".into()),
                ..listening_on(public)
            };
            assert!(signed.check_telephony_exposure().is_ok());
            let meant = Settings {
                insecure_telephony: true,
                ..listening_on(public)
            };
            assert!(meant.check_telephony_exposure().is_ok());
        }
        for local in ["127.0.0.1:8080", "127.0.0.1:0", "[::1]:8080"] {
            assert!(
                listening_on(local).check_telephony_exposure().is_ok(),
                "{local}"
            );
        }
        assert!(
            listening_on("localhost:8080")
                .check_telephony_exposure()
                .is_err()
        );
    }

    #[test]
    fn no_staff_token_on_a_public_address_is_refused_unless_meant() {
        let error = listening_on("0.0.0.0:8080")
            .check_staff_exposure(0)
            .unwrap_err()
            .to_string();
        assert!(error.contains("FRONTDESK_ADMIN_TOKEN"), "the fix: {error}");
        assert!(error.contains("--without-staff-token"), "the flag: {error}");
        assert!(error.contains("FRONTDESK_WITHOUT_STAFF_TOKEN"), "{error}");
        let with_admin = Settings {
            admin_token: Some("a-long-secret".into()),
            ..listening_on("0.0.0.0:8080")
        };
        assert!(with_admin.check_staff_exposure(0).is_ok());
        assert!(listening_on("0.0.0.0:8080").check_staff_exposure(2).is_ok());
        let meant = Settings {
            without_staff_token: true,
            ..listening_on("0.0.0.0:8080")
        };
        assert!(meant.check_staff_exposure(0).is_ok());
        assert!(
            listening_on("127.0.0.1:8080")
                .check_staff_exposure(0)
                .is_ok()
        );
    }

    #[test]
    fn the_exposure_flags_parse_as_switches() {
        let cli = Cli::try_parse_from([
            "frontdesk",
            "serve",
            "--insecure-telephony",
            "--without-staff-token",
        ])
        .unwrap();
        let Command::Serve(serve) = &cli.command else {
            panic!("parsed {:?}", cli.command)
        };
        assert!(serve.insecure_telephony && serve.without_staff_token);
        let cli = Cli::try_parse_from(["frontdesk", "serve"]).unwrap();
        let Command::Serve(serve) = &cli.command else {
            panic!("parsed {:?}", cli.command)
        };
        assert!(!serve.insecure_telephony && !serve.without_staff_token);
    }
}
