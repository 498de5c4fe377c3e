//! Start-up: `Application::build(settings)` loads every model, opens and
//! migrates the database, renders the fixed prompts, and binds the
//! listener; `run_until_stopped` serves until the shutdown signal, then
//! drains the calls in progress (`call::drain`). Tests build the same
//! application on port 0.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::audio::end_of_turn::EndOfTurnModel;
use crate::audio::vad::{EndpointConfig, VadModel};
use crate::call::ConversationFactory;
use crate::call::drain::Drain;
use crate::call::journal::{close_interrupted_calls, replay_spool};
use crate::call::session::CallServices;
use crate::clinic::{Clinic, Clock, Prompts};
use crate::dashboard::{self, CookiePolicy};
use crate::desk::Desk;
use crate::metrics::Metrics;
use crate::nlu::Nlu;
use crate::nlu::entities::{ProviderRoster, RosterEntry};
use crate::settings::Settings;
use crate::store::Db;
use crate::stt::{SpeechToText, SttOptions};
use crate::telephony::twilio::rest::TwilioRest;
use crate::telephony::twilio::routes::{self as twilio_routes, CarrierWords, TelephonyState};
use crate::telephony::twilio::signature::SignatureValidator;
use crate::tts::Tts;
use crate::web::{self, AppState};

/// The loaded models, shared by every call. Loading takes seconds, so tests
/// load them once and build many applications from them.
#[derive(Clone)]
pub struct Engines {
    pub stt: Arc<SpeechToText>,
    pub vad: Arc<VadModel>,
    pub end_of_turn: Arc<EndOfTurnModel>,
    pub tts: Arc<Tts>,
    pub nlu: Arc<Nlu>,
}

impl Engines {
    pub fn load(settings: &Settings) -> anyhow::Result<Engines> {
        let paths = &settings.models;
        let started = Instant::now();
        crate::models::init_onnx_runtime(paths)?;
        let vad = VadModel::load(paths).context("loading the voice activity detector")?;
        let end_of_turn = EndOfTurnModel::load(paths).context("loading the end-of-turn model")?;
        let stt = SpeechToText::load(paths, SttOptions::default())
            .context("loading speech recognition")?;
        let tts = Tts::load(paths).context("loading the agent's voice")?;
        let clinic = load_clinic(settings)?;
        let nlu = Arc::new(load_nlu(paths, &clinic)?);
        tracing::info!(
            load_ms = started.elapsed().as_millis() as u64,
            "models loaded"
        );
        Ok(Engines {
            stt,
            vad,
            end_of_turn,
            tts,
            nlu,
        })
    }
}

/// The clinic of `--config`, else the bundled demo clinic.
pub fn load_clinic(settings: &Settings) -> anyhow::Result<Clinic> {
    match &settings.config_text {
        Some(text) => Clinic::from_toml_str(text).with_context(|| {
            format!(
                "the clinic configuration {}",
                settings
                    .config_path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )
        }),
        None => Ok(Clinic::demo()),
    }
}

/// The agent's wording: `--prompts-dir` over the bundled templates.
pub fn load_prompts(settings: &Settings) -> anyhow::Result<Prompts> {
    match &settings.prompts_dir {
        Some(dir) => Prompts::with_overrides_from(dir)
            .with_context(|| format!("the prompt overrides in {}", dir.display())),
        None => Ok(Prompts::builtin()),
    }
}

/// The understanding step as calls use it: the intent classifier, the
/// emergency net and the entity parsers with the clinic's providers. The
/// scripted-call replay builds its NLU here too.
pub fn load_nlu(paths: &crate::models::ModelPaths, clinic: &Clinic) -> anyhow::Result<Nlu> {
    Nlu::load(paths, roster_of(clinic)).context("loading the intent classifier")
}

/// [`load_nlu`] for the clinic of `settings` (`frontdesk nlu`).
pub fn load_nlu_for(settings: &Settings) -> anyhow::Result<Nlu> {
    load_nlu(&settings.models, &load_clinic(settings)?)
}

/// The clinic's providers, for "doctor patel" → a provider id.
fn roster_of(clinic: &Clinic) -> ProviderRoster {
    ProviderRoster::new(
        clinic
            .providers
            .iter()
            .map(|p| RosterEntry {
                id: p.id.clone(),
                name: p.name.clone(),
                title: p.title.clone(),
            })
            .collect(),
    )
}

/// Once the drain deadline has passed and the last calls are told to end,
/// how long they have to say goodbye and keep their books (the goodbye
/// itself is cut at 20 s, `call::session`). `--drain-seconds`' help and the
/// README promise this bound.
const WIND_DOWN: Duration = Duration::from_secs(30);
/// How long the HTTP server has to close its last connections after the
/// calls are over.
const HTTP_CLOSE: Duration = Duration::from_secs(5);

/// Libraries that log what passes through them at `trace`: the websocket
/// library logs every message of a call, the caller's number in `start`
/// among them, as text and as bytes.
const PAYLOAD_LOGGERS: &[&str] = &["tungstenite", "tokio_tungstenite"];

/// The log filter: `RUST_LOG`, else `info` with the model runtimes quiet.
/// Logs carry ids only, so even at `RUST_LOG=trace` the libraries of
/// [`PAYLOAD_LOGGERS`] stop at `debug`.
pub fn log_filter() -> tracing_subscriber::EnvFilter {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,ort=warn,whisper_rs=warn"));
    if filter.max_level_hint() != Some(tracing::level_filters::LevelFilter::TRACE) {
        return filter;
    }
    PAYLOAD_LOGGERS.iter().fold(filter, |filter, target| {
        filter.add_directive(
            format!("{target}=debug")
                .parse()
                .expect("a valid directive"),
        )
    })
}

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    port: u16,
    drain: Drain,
    drain_deadline: Duration,
}

/// How many staff accounts could sign in to the staff API (revoked ones
/// cannot). An unreadable table counts as none: the admin token decides.
async fn staff_accounts(db: &Db) -> u64 {
    match crate::staff::list(db).await {
        Ok(staff) => staff.iter().filter(|m| m.is_active()).count() as u64,
        Err(error) => {
            tracing::warn!(error = %format!("{error:#}"), "could not count staff accounts");
            0
        }
    }
}

impl Application {
    /// Loads the models and builds the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        // Before the models load: a refused start should be quick.
        settings.check_telephony_exposure()?;
        let engines = tokio::task::spawn_blocking({
            let settings = settings.clone();
            move || Engines::load(&settings)
        })
        .await
        .context("model loading panicked")??;
        Application::build_with(settings, engines).await
    }

    /// Builds the server around models already loaded.
    pub async fn build_with(settings: Settings, engines: Engines) -> anyhow::Result<Application> {
        settings.check_telephony_exposure()?;
        let instance = crate::store::instance_id_in(&settings.data_dir)?;
        let db = Db::open(&settings.database_url).await?.owned_by(&instance);
        settings.check_staff_exposure(staff_accounts(&db).await)?;
        let replayed = replay_spool(&db, &settings.spool_dir())
            .await
            .context("replaying spooled call writes")?;
        if replayed > 0 {
            tracing::info!(replayed, "spooled calls written to the database");
        }
        // After the replay (a spooled call may end there), before listening
        // (no call of this instance is live yet).
        let closed = close_interrupted_calls(&db, &instance)
            .await
            .context("closing calls a crash left open")?;
        if !closed.is_empty() {
            tracing::warn!(
                closed = closed.len(),
                "calls left open by a crash closed as interrupted_by_restart"
            );
        }
        std::fs::create_dir_all(settings.recordings_dir())
            .with_context(|| format!("creating {}", settings.recordings_dir().display()))?;

        let mut clinic = load_clinic(&settings)?;
        let twilio_rest = match (&settings.twilio_account_sid, &settings.twilio_auth_token) {
            (Some(sid), Some(token)) => Some(TwilioRest::new(
                settings
                    .twilio_api_base
                    .clone()
                    .unwrap_or_else(|| "https://api.twilio.com".into()),
                sid.clone(),
                token.clone(),
            )),
            _ => None,
        };
        if clinic.transfer_number.take().is_some() {
            // Transfers ring whoever is available now, not a fixed line.
            tracing::info!(
                "the clinic's transfer_number is no longer used: staff mark themselves available for transfers (PUT /api/v1/staff/me/availability)"
            );
        }
        if twilio_rest.is_none() {
            // A warm transfer needs Twilio's REST API; without it the agent
            // takes a callback task instead of promising a transfer it cannot make.
            tracing::info!(
                "TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN not set: no warm transfers, callers who ask for a person get callback tasks"
            );
        }
        crate::scheduling::sync_catalog(&db, &clinic)
            .await
            .context("writing the clinic's providers and appointment types")?;
        let clinic = Arc::new(clinic);
        let clock = match settings.now {
            Some(start) => Clock::starting_at(start.with_timezone(&chrono::Utc)),
            None => Clock::system(),
        };
        let prompts = Arc::new(load_prompts(&settings)?);
        let carrier_words = CarrierWords {
            stream_ended: prompts.render("stream_ended", &[("clinic", &clinic.name)]),
            transfer_not_answered: prompts.render("transfer_not_answered", &[]),
            transfer_ended: prompts.render("transfer_ended", &[("clinic", &clinic.name)]),
        };
        let desk = Desk::new(db.clone(), clinic.clone(), prompts, clock.clone());
        let conversations: Arc<dyn ConversationFactory> = Arc::new(if twilio_rest.is_some() {
            desk
        } else {
            desk.without_transfers()
        });

        let mut fixed = conversations.fixed_sentences();
        fixed.extend(crate::call::prompts::call_prompts().all());
        let render_started = Instant::now();
        let tts = engines.tts.clone();
        let rendered = tokio::task::spawn_blocking(move || tts.render_prompts(&fixed))
            .await
            .context("prompt rendering panicked")?
            .context("rendering the fixed prompts")?;
        tracing::info!(
            sentences = rendered,
            render_ms = render_started.elapsed().as_millis() as u64,
            "fixed prompts rendered"
        );

        let metrics = Arc::new(Metrics::default());
        let drain = Drain::new();
        let services = Arc::new(CallServices {
            db: db.clone(),
            spool_dir: settings.spool_dir(),
            recordings_dir: settings.recordings_dir(),
            stt: engines.stt.clone(),
            vad: engines.vad.clone(),
            end_of_turn: engines.end_of_turn.clone(),
            tts: engines.tts.clone(),
            nlu: engines.nlu.clone(),
            conversations,
            local_now: {
                let (clock, tz) = (clock.clone(), clinic.timezone);
                Arc::new(move || clock.now().with_timezone(&tz).naive_local())
            },
            endpoint: EndpointConfig::default(),
            silence_prompt_ms: crate::call::session::SILENCE_PROMPT_MS,
            drain: drain.clone(),
        });
        let telephony = Arc::new(TelephonyState {
            services,
            public_url: settings.public_url.clone(),
            validator: settings
                .twilio_auth_token
                .as_deref()
                .map(SignatureValidator::new)
                .transpose()
                .context("TWILIO_AUTH_TOKEN")?,
            rest: twilio_rest,
            ring_seconds: settings.transfer_ring_seconds,
            words: carrier_words,
            clock: clock.clone(),
            call_slots: Arc::new(Semaphore::new(settings.max_calls)),
            metrics: metrics.clone(),
        });
        let events = crate::tasks::events::TaskEvents::start(
            db.clone(),
            &settings.database_url,
            settings.events_heartbeat,
        );
        let state = AppState {
            events,
            db,
            clinic,
            clock,
            auth: Arc::new(web::auth::Tokens::new().with_admin(settings.admin_token.clone())),
            metrics,
            sign_in: Arc::new(web::sign_in::SignInLimiter::new(settings.sign_in)),
            client: web::client::ClientAddressing {
                trust_forwarded_for: settings.trust_forwarded_for,
            },
        };
        let cookies = CookiePolicy::for_public_url(settings.public_url.as_deref());
        let router = web::router(state.clone())
            .merge(dashboard::router(state, cookies))
            .merge(twilio_routes::router(telephony))
            .layer(web::trace_layer());

        let addr = settings.listen_addr()?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let port = listener.local_addr()?.port();
        Ok(Application {
            listener,
            router,
            port,
            drain,
            drain_deadline: Duration::from_secs(settings.drain_seconds),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` resolves, then stops without cutting anyone
    /// off: HTTP goes on answering (new calls busy, the staff API as
    /// usual) while calls in progress run on for `--drain-seconds`; the
    /// calls still running are then ended with a goodbye, and once every
    /// call has saved its words the server closes. An error when a call
    /// could not finish ending in time.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener,
            router,
            port,
            drain,
            drain_deadline,
        } = self;
        tracing::info!(port, "frontdesk is listening");
        let (close_http, http_closing) = tokio::sync::oneshot::channel::<()>();
        let mut server = tokio::spawn(async move {
            // Connection addresses for the access audit and the sign-in limiter.
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, service)
                .with_graceful_shutdown(async {
                    let _ = http_closing.await;
                })
                .await
        });
        tokio::select! {
            served = &mut server => {
                return served.context("the HTTP server panicked")?.context("serving HTTP");
            }
            () = shutdown => {}
        }
        let stopped = drain.stop(drain_deadline, WIND_DOWN).await;
        let _ = close_http.send(());
        match tokio::time::timeout(HTTP_CLOSE, &mut server).await {
            Ok(served) => served
                .context("the HTTP server panicked")?
                .context("serving HTTP")?,
            Err(_) => {
                tracing::warn!("HTTP connections still open after the calls ended; closing them");
                server.abort();
            }
        }
        let stopped = stopped?;
        tracing::info!(?stopped, "frontdesk stopped");
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
