//! The `frontdesk` command: thin; each subcommand calls into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use frontdesk::settings::{CommonArgs, ServeArgs, Settings};

/// frontdesk: a self-hosted AI receptionist for medical clinics.
///
/// Answers the clinic's phone (Twilio Media Streams), hears callers with a local
/// Whisper model, understands what they need, and answers with a local voice.
/// Nothing leaves the clinic's machine.
#[derive(Parser, Debug)]
#[command(name = "frontdesk", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the agent: telephony webhooks, media websocket, staff API
    Serve(ServeArgs),
    /// Place a local call to a running server over the Twilio protocol
    Call(frontdesk::caller::CallArgs),
    /// Fetch, convert and verify every model the agent needs (idempotent)
    Models(frontdesk::models::fetch::ModelsArgs),
    /// Apply database migrations to the configured database
    Migrate,
    /// Print the transcript of audio files as the call path hears them
    Transcribe {
        /// WAV files (any rate) or raw 8 kHz µ-law `.ulaw` files
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Label JSON lines {"text", "ref"?} from stdin with intent and entities
    Nlu(frontdesk::nlu::cli::NluArgs),
    /// Measure latency: simultaneous calls, understanding, dialogue
    Bench(frontdesk::bench::BenchArgs),
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,ort=warn,whisper_rs=warn"));
    let json = std::env::var("FRONTDESK_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(serve) => {
            let settings = Settings::resolve(&cli.common, &serve)?;
            let app = frontdesk::app::Application::build(settings).await?;
            app.run_until_stopped(frontdesk::app::shutdown_signal()).await
        }
        Command::Call(args) => frontdesk::caller::run_call_command(args).await,
        Command::Models(args) => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::default())?;
            tokio::task::spawn_blocking(move || frontdesk::models::fetch::run_models_command(&settings.models, &args)).await?
        }
        Command::Migrate => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::default())?;
            let db = frontdesk::store::Db::open(&settings.database_url).await?;
            println!("migrations applied ({:?} database)", db.backend);
            Ok(())
        }
        Command::Transcribe { files } => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::default())?;
            frontdesk::stt::transcribe_files(&settings.models, &files).await
        }
        Command::Nlu(args) => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::default())?;
            frontdesk::nlu::cli::run(&settings, args).await
        }
        Command::Bench(args) => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::default())?;
            frontdesk::bench::run(settings, args).await
        }
    }
}
