//! `frontdesk call`: the command-line face of the caller.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use url::Url;

use super::script::{ScriptStep, load_wav_8k, parse_script};
use super::{CallReport, CallerOptions, CallerSpeech, place_call};

/// Place a call to a running frontdesk server, like Twilio would.
#[derive(clap::Args, Clone, Debug)]
pub struct CallArgs {
    /// Where the server listens.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: Url,
    /// The server's public URL, which Twilio signatures cover (default: --server).
    #[arg(long, env = "FRONTDESK_PUBLIC_URL")]
    pub public_url: Option<Url>,
    /// Sign requests with this Twilio auth token.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,
    #[arg(long, default_value = "+15555550123")]
    pub from: String,
    #[arg(long, default_value = "+15555550100")]
    pub to: String,
    /// Caller audio: a WAV file (any rate, any channels), said after the greeting. Repeatable.
    #[arg(long)]
    pub wav: Vec<PathBuf>,
    /// A caller line to synthesise. Repeatable; said after the WAVs.
    #[arg(long)]
    pub say: Vec<String>,
    /// A script: one caller line per line; `#dtmf 0`, `#wait 2000`, `#wav FILE`,
    /// and `#pause MS`, `#barge MS`, `#at MS` before a line. Played after --wav and --say.
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// Call time per wall time: 1 is real time, 10 sends ten times faster.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f32,
    /// Agent silence (ms of call time) after which it has finished speaking.
    #[arg(long, default_value_t = 400)]
    pub agent_quiet_ms: u64,
    /// Give up waiting for the agent's answer after this long (ms of call time).
    #[arg(long, default_value_t = 30_000)]
    pub reply_timeout_ms: u64,
    /// Hang up after this much call time.
    #[arg(long, default_value_t = 900_000)]
    pub max_call_ms: u64,
    /// Connect the websocket to the host in the TwiML instead of --server.
    #[arg(long)]
    pub follow_twiml_host: bool,
    /// Do not post the `completed` call status at the end.
    #[arg(long)]
    pub no_status_callback: bool,
    /// Save what the caller heard (8 kHz mono WAV).
    #[arg(long)]
    pub save_agent: Option<PathBuf>,
    /// Save the whole call (8 kHz stereo WAV, caller left, agent right).
    #[arg(long)]
    pub save_call: Option<PathBuf>,
    /// Print the report as JSON at the end instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl CallArgs {
    pub fn options(&self) -> CallerOptions {
        CallerOptions {
            public_url: self.public_url.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            speed: self.speed,
            auth_token: self.auth_token.clone().filter(|t| !t.is_empty()),
            agent_quiet_ms: self.agent_quiet_ms,
            reply_timeout_ms: self.reply_timeout_ms,
            max_call_ms: self.max_call_ms,
            follow_twiml_host: self.follow_twiml_host,
            status_callback: !self.no_status_callback,
            print_live: !self.json,
            ..CallerOptions::new(self.server.clone())
        }
    }

    /// The steps of `--wav`, then `--say`, then `--script`.
    pub fn script(&self) -> anyhow::Result<Vec<ScriptStep>> {
        let mut steps = Vec::new();
        for path in &self.wav {
            let samples = load_wav_8k(path)?;
            let label = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            steps.push(ScriptStep::audio(label, samples));
        }
        steps.extend(self.say.iter().map(ScriptStep::say));
        if let Some(path) = &self.script {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let base = path.parent().unwrap_or(std::path::Path::new("."));
            steps.extend(
                parse_script(&text, base).with_context(|| format!("in {}", path.display()))?,
            );
        }
        Ok(steps)
    }
}

/// `frontdesk call` without a caller voice: WAV input only.
pub async fn run_call_command(args: CallArgs) -> anyhow::Result<()> {
    run_call_command_with(args, None).await
}

/// `frontdesk call` with a caller voice for `--say` and scripts.
pub async fn run_call_command_with(
    args: CallArgs,
    speech: Option<Arc<dyn CallerSpeech>>,
) -> anyhow::Result<()> {
    let opts = args.options();
    let steps = args.script()?;
    let report = place_call(&opts, steps, speech).await?;
    if let Some(path) = &args.save_agent {
        report.save_agent_wav(path)?;
    }
    if let Some(path) = &args.save_call {
        report.save_call_wav(path)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&report);
    }
    Ok(())
}

fn ms(v: Option<u64>) -> String {
    v.map(|v| format!("{v} ms")).unwrap_or_else(|| "—".into())
}

fn print_summary(report: &CallReport) {
    println!();
    println!(
        "call {}  stream {}  {:.1} s of call audio",
        report.call_sid,
        report.stream_sid,
        report.duration_ms as f64 / 1000.0
    );
    println!("greeting latency: {}", ms(report.greeting_latency_ms));
    println!(
        "{:>4}  {:>9}  {:>10}  {:>10}  caller",
        "turn", "ended", "latency", "wall"
    );
    for (i, turn) in report.turns.iter().enumerate() {
        println!(
            "{:>4}  {:>7.3} s  {:>10}  {:>10}  {}{}",
            i + 1,
            turn.caller_end_ms as f64 / 1000.0,
            ms(turn.latency_ms),
            ms(turn.wall_latency_ms),
            turn.label,
            if turn.reply_timed_out {
                "  (no answer)"
            } else {
                ""
            }
        );
    }
    println!(
        "marks echoed: {}  clears received: {}  ended: {:?}",
        report.marks_echoed.len(),
        report.clears_received,
        report.end
    );
    if report.steps_not_run > 0 {
        println!("script steps not finished: {}", report.steps_not_run);
    }
    for e in &report.protocol_errors {
        println!("protocol error: {e}");
    }
}
