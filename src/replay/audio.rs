//! The audio replay: scripted calls placed as real phone calls. Each call
//! gets its own server, built in this process by the same
//! [`Application::build_with`] as `frontdesk serve` on a loopback port
//! (fresh SQLite in a temporary directory, the clinic clock pinned to the
//! script's `now` and running on from there). The script's patients and
//! appointments are seeded through the staff API; the caller's lines are
//! synthesised in a voice unlike the agent's (the Piper voice shifted in
//! pitch and pace, through an 8 kHz phone band) and sent over the Twilio
//! Media Streams websocket with its keys and silences, at 6× call speed.
//! Then the outcome, tasks, appointments and the agent's stored words are
//! read back through the staff API and checked with [`check`], the text
//! replay's checker.
//!
//! Warm transfers go to [`twilio_stand_in`], the carrier's side of a
//! transfer. Synthesis is sampled, so no two runs sound the same, and
//! Whisper mishears some lines in some voices: a [`RetryPolicy`] says which
//! failed calls are placed again, each time in the next voice, so that a
//! broken feature fails every time while a single mishearing does not.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::ScratchDir;
use super::answering::{AnsweringCaller, CallerKind, Next};
use super::check::{BookingSeen, FALSE_911, Happened, TaskSeen, check, verdict};
use super::script::{CallScript, Then, TurnAction, format_local, parse_local};
use super::twilio_stand_in::{self, TwilioApi};
use crate::app::{Application, Engines};
use crate::caller::voice::{PiperCaller, babble_talkers};
use crate::caller::{
    CallEnd, CallReport, CallerOptions, CallerSpeech, Director, LineNoise, NoiseBed, NoiseKind,
    ScriptStep, place_call, place_directed_call,
};
use crate::clinic::Clinic;
use crate::settings::Settings;
use crate::tts::caller_voice::PRESETS;
use crate::vocabulary::Outcome;

/// Calls placed at once.
pub const PARALLEL_CALLS: usize = 2;
/// Attempts a call that must pass gets in the test suite (the success rate
/// counts the first only): each voice, then the first again. With three,
/// one CI run lost the new-patient booking to three different mishearings
/// (a "yes" too short for the detector, a phone number, a date of birth).
pub const ATTEMPTS: usize = 4;
/// A `silence` turn: long enough for the call loop's 8 s silence prompt.
pub const SILENCE_WAIT_MS: u64 = 9_000;
/// Call time per wall time.
const CALL_SPEED: f32 = 6.0;

// The voices rotate over the presets; keep at least two so that calls differ.
const _: () = assert!(PRESETS.len() >= 2);

/// Which failed calls are placed again, and how many at once.
pub struct RetryPolicy<'a> {
    /// Attempts in all for a call that `must_pass` (at least 1).
    pub attempts: usize,
    /// Calls placed at once.
    pub parallel: usize,
    /// The calls worth placing again when they fail.
    pub must_pass: &'a (dyn Fn(&CallScript) -> bool + Sync),
}

/// One placed call and what came of it.
#[derive(Clone, Debug)]
pub struct AudioResult {
    pub name: String,
    pub voice: &'static str,
    pub expected: Outcome,
    /// The stored call's outcome.
    pub got: Option<String>,
    pub emergency: bool,
    pub failures: Vec<String>,
    /// The stored conversation, one line per turn.
    pub transcript: Vec<String>,
    pub wall_s: f64,
}

/// Every call placed, first attempts and the attempts after.
#[derive(Clone, Debug, Default)]
pub struct AudioRun {
    /// One per script, in script order.
    pub first: Vec<AudioResult>,
    /// Calls placed again, by round.
    pub retries: Vec<AudioResult>,
}

/// Places scripted calls, each on a server of its own.
pub struct AudioReplay {
    template: Settings,
    clinic: Arc<Clinic>,
    engines: Engines,
    twilio: TwilioApi,
    caller: CallerKind,
    noise: Option<LineNoise>,
}

impl AudioReplay {
    /// Starts the Twilio REST stand-in. `template` gives the servers their
    /// models, clinic configuration (`clinic` is that clinic, parsed) and
    /// wording; each server gets its own data directory, database, admin
    /// token and clock.
    pub async fn start(
        template: Settings,
        clinic: Clinic,
        engines: Engines,
    ) -> anyhow::Result<AudioReplay> {
        Ok(AudioReplay {
            template,
            clinic: Arc::new(clinic),
            engines,
            twilio: twilio_stand_in::start().await?,
            caller: CallerKind::FixedOrder,
            noise: None,
        })
    }

    /// Puts noise on every call's line: `kind` at `snr_db` against the
    /// caller's speech level, each call with its own stretch of it (from
    /// `seed`, the script's name and the voice). Synthesises the babble's
    /// talkers first (a minute or so of speech).
    pub async fn with_noise(
        mut self,
        kind: NoiseKind,
        snr_db: f32,
        seed: u64,
    ) -> anyhow::Result<AudioReplay> {
        let tts = self.engines.tts.clone();
        let bed = tokio::task::spawn_blocking(move || {
            let talkers = if kind.needs_talkers() {
                babble_talkers(&tts)?
            } else {
                Vec::new()
            };
            NoiseBed::new(kind, &talkers, seed)
        })
        .await
        .context("the noise thread failed")??;
        self.noise = Some(LineNoise {
            seed,
            ..LineNoise::new(Arc::new(bed), snr_db)
        });
        Ok(self)
    }

    /// Who places the calls (the fixed-order caller by default).
    pub fn with_caller(mut self, caller: CallerKind) -> AudioReplay {
        self.caller = caller;
        self
    }

    /// Places every script (the voices rotating over the presets), then
    /// the failed calls the policy names again, in the next voice each time.
    pub async fn run(&self, scripts: &[CallScript], policy: &RetryPolicy<'_>) -> AudioRun {
        let parallel = policy.parallel.max(1);
        let mut first: Vec<AudioResult> = futures_util::stream::iter(scripts.iter().enumerate())
            .map(|(i, script)| self.place(script, PRESETS[i % PRESETS.len()].name))
            .buffer_unordered(parallel)
            .collect()
            .await;
        let order = |name: &str| scripts.iter().position(|s| s.name == name);
        first.sort_by_key(|r| order(&r.name));
        let must_pass = |name: &str| {
            scripts
                .iter()
                .any(|s| s.name == name && (policy.must_pass)(s))
        };
        let mut retries: Vec<AudioResult> = Vec::new();
        for attempt in 1..policy.attempts {
            let again: Vec<(&CallScript, &'static str)> = first
                .iter()
                .filter(|r| !r.failures.is_empty() && must_pass(&r.name))
                .filter(|r| {
                    !retries
                        .iter()
                        .any(|t| t.name == r.name && t.failures.is_empty())
                })
                .filter_map(|r| {
                    let script = scripts.iter().find(|s| s.name == r.name)?;
                    Some((script, next_voice(r.voice, attempt)))
                })
                .collect();
            let round: Vec<AudioResult> = futures_util::stream::iter(again)
                .map(|(script, voice)| self.place(script, voice))
                .buffer_unordered(parallel)
                .collect()
                .await;
            retries.extend(round);
        }
        AudioRun { first, retries }
    }

    /// Places one scripted call on its own server and checks it.
    pub async fn place(&self, script: &CallScript, voice: &'static str) -> AudioResult {
        let wall = Instant::now();
        let mut result = AudioResult {
            name: script.name.clone(),
            voice,
            expected: script.expect.outcome,
            got: None,
            emergency: script.is_emergency(),
            failures: Vec::new(),
            transcript: Vec::new(),
            wall_s: 0.0,
        };
        if let Err(e) = self.run_call(script, voice, &mut result).await {
            result
                .failures
                .push(format!("the call could not run: {e:#}"));
        }
        result.wall_s = wall.elapsed().as_secs_f64();
        result
    }

    async fn run_call(
        &self,
        script: &CallScript,
        voice: &'static str,
        result: &mut AudioResult,
    ) -> anyhow::Result<()> {
        let now = script.now()?;
        let app = self.spawn_server(now).await?;
        let clinic = &*self.clinic;
        let seeded = seed(&app, clinic, script).await?;

        let mut opts = CallerOptions::new(url::Url::parse(&app.base_url)?);
        opts.speed = CALL_SPEED;
        opts.auth_token = Some(twilio_stand_in::AUTH_TOKEN.into());
        // No caller id: what Twilio reports for a withheld number.
        opts.from = script.from.clone().unwrap_or_else(|| "anonymous".into());
        // The agent's reply is streamed sentence by sentence; at 6× call speed
        // the synthesis of its next sentence leaves gaps six times longer than
        // on a real call. The caller waits them out before answering.
        opts.agent_quiet_ms = 6_000;
        opts.reply_timeout_ms = 60_000;
        opts.max_call_ms = 6 * 60_000;
        opts.noise = self
            .noise
            .as_ref()
            .map(|noise| noise.for_call(&format!("{}/{voice}", script.name)));
        let speech: Arc<dyn CallerSpeech> =
            Arc::new(PiperCaller::new(self.engines.tts.clone(), voice)?);
        // Per step played, the script turn it was.
        let (report, played) = match self.caller {
            CallerKind::FixedOrder => {
                let mut steps = Vec::new();
                let mut played = Vec::new();
                for (i, turn) in script.turns.iter().enumerate() {
                    // The caller hangs up when the script runs out.
                    if let Some(step) = step_of(turn.action()?) {
                        steps.push(step);
                        played.push(Some(i));
                    }
                }
                (place_call(&opts, steps, Some(speech)).await?, played)
            }
            CallerKind::Answering => {
                let director = Arc::new(AnsweringDirector {
                    caller: std::sync::Mutex::new(Answering {
                        caller: AnsweringCaller::new(script),
                        played: Vec::new(),
                    }),
                    api: app.api.clone(),
                });
                let report = place_directed_call(&opts, director.clone(), Some(speech)).await?;
                let played = std::mem::take(
                    &mut director
                        .caller
                        .lock()
                        .expect("the answering caller is not poisoned")
                        .played,
                );
                (report, played)
            }
        };

        let mut call = app.ended_call(60).await?;
        // A transfer rings the receptionist on duty; as Twilio, the
        // stand-in reports that they answered and the call is theirs.
        let transfer = self.twilio.update_now(&report.call_sid);
        if let Some(update) = &transfer {
            let staff_line = clinic.transfer_number.as_deref().unwrap_or_default();
            anyhow::ensure!(
                update.dialled_number().as_deref() == Some(staff_line),
                "the transfer did not dial the receptionist's line: {}",
                update.twiml
            );
            update.end_dial("completed").await?;
            call = app.only_call().await?;
        }
        result.got = call["outcome"].as_str().map(String::from);
        let caller = CallerSide {
            report: &report,
            played: &played,
            transferred: transfer.is_some(),
        };
        let happened = observe(&app, clinic, script, &caller, &call, &seeded).await?;
        result.transcript = transcript(&call);
        result.failures = check(script, &happened);
        if !matches!(report.end, CallEnd::AgentHungUp | CallEnd::CallerHungUp) {
            result
                .failures
                .push(format!("the call ended badly: {:?}", report.end));
        }
        if !report.protocol_errors.is_empty() {
            result.failures.push(format!(
                "protocol errors: {}",
                report.protocol_errors.join("; ")
            ));
        }
        Ok(())
    }

    /// A server of the template's clinic on a loopback port, with a fresh
    /// database, its clock starting at `now`, and transfers going to the
    /// stand-in.
    async fn spawn_server(&self, now: DateTime<Utc>) -> anyhow::Result<ReplayServer> {
        let data_dir = ScratchDir::new("replay-call")?;
        let mut settings = crate::settings::for_data_dir(data_dir.path());
        settings.config_path = self.template.config_path.clone();
        settings.config_text = self.template.config_text.clone();
        settings.prompts_dir = self.template.prompts_dir.clone();
        settings.models = self.template.models.clone();
        settings.admin_token = Some(crate::store::new_id());
        settings.now = Some(now.fixed_offset());
        settings.twilio_account_sid = Some(twilio_stand_in::ACCOUNT_SID.into());
        settings.twilio_auth_token = Some(twilio_stand_in::AUTH_TOKEN.into());
        settings.twilio_api_base = Some(self.twilio.base_url.clone());
        let app = Application::build_with(settings.clone(), self.engines.clone())
            .await
            .context("building the server")?;
        let db = crate::store::Db::open(&settings.database_url).await?;
        super::seed_receptionist(&db, &self.clinic).await?;
        let port = app.port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        Ok(ReplayServer {
            api: StaffApi {
                base_url: format!("http://127.0.0.1:{port}"),
                admin_token: settings.admin_token.unwrap_or_default(),
                client: reqwest::Client::new(),
            },
            _stop: stop,
            _data_dir: data_dir,
        })
    }
}

/// The answering caller over the phone: before each line it reads what
/// the agent has said since its last one from the live call's transcript
/// (the staff API), and answers that ([`AnsweringCaller`]).
struct AnsweringDirector {
    caller: std::sync::Mutex<Answering>,
    api: StaffApi,
}

/// The caller and what it has played: per step, the script turn it was
/// (`None`: a line it made up).
struct Answering {
    caller: AnsweringCaller,
    played: Vec<Option<usize>>,
}

impl Director for AnsweringDirector {
    fn next_step(self: Arc<Self>) -> BoxFuture<'static, anyhow::Result<Option<ScriptStep>>> {
        Box::pin(async move {
            let said = self.api.agent_words_since_caller().await?;
            let mut answering = self
                .caller
                .lock()
                .expect("the answering caller is not poisoned");
            let (turn, step) = match answering.caller.next(&said) {
                Next::Done => return Ok(None),
                Next::Improvised(line) => (None, Some(ScriptStep::say(line))),
                Next::Keys(keys) => (None, Some(ScriptStep::dtmf(keys))),
                Next::Turn(i) => (
                    Some(i),
                    step_of(answering.caller.script().turns[i].action()?),
                ),
            };
            if step.is_some() {
                answering.played.push(turn);
            }
            Ok(step)
        })
    }

    fn lines(&self) -> Vec<String> {
        self.caller
            .lock()
            .expect("the answering caller is not poisoned")
            .caller
            .lines()
    }
}

/// A script turn as the caller plays it (`None`: it hangs up).
fn step_of(action: TurnAction<'_>) -> Option<ScriptStep> {
    match action {
        TurnAction::Say(line) => Some(ScriptStep::say(line)),
        TurnAction::Dtmf(keys) => Some(ScriptStep::dtmf(keys)),
        TurnAction::Silence => Some(ScriptStep::wait(SILENCE_WAIT_MS)),
        TurnAction::Hangup => None,
    }
}

/// Each attempt in the next voice: a line one voice cannot carry through
/// Whisper ("Sarah Chen" as "their chin" in low-slow) is a recognition
/// limit, while a broken feature fails in every voice.
fn next_voice(voice: &str, attempt: usize) -> &'static str {
    let at = PRESETS.iter().position(|p| p.name == voice).unwrap_or(0);
    PRESETS[(at + attempt) % PRESETS.len()].name
}

impl AudioRun {
    /// Calls that succeeded at the first attempt.
    pub fn passed(&self) -> usize {
        self.first.iter().filter(|r| r.failures.is_empty()).count()
    }

    /// Whether the call succeeded at some attempt.
    pub fn passed_in_the_end(&self, name: &str) -> bool {
        self.first
            .iter()
            .chain(&self.retries)
            .any(|r| r.name == name && r.failures.is_empty())
    }

    pub fn emergencies(&self) -> usize {
        self.first.iter().filter(|r| r.emergency).count()
    }

    /// Emergency calls that succeeded at some attempt.
    pub fn emergencies_passed(&self) -> usize {
        self.first
            .iter()
            .filter(|r| r.emergency && self.passed_in_the_end(&r.name))
            .count()
    }

    /// Emergency calls whose first attempt ended as an emergency.
    pub fn emergencies_caught_first(&self) -> usize {
        self.first
            .iter()
            .filter(|r| r.emergency && r.got.as_deref() == Some(Outcome::Emergency.as_str()))
            .count()
    }

    /// First attempts that told a caller who was not having an emergency
    /// to dial 911.
    pub fn false_911(&self) -> usize {
        self.first
            .iter()
            .filter(|r| r.failures.iter().any(|f| f == FALSE_911))
            .count()
    }

    /// First attempts that succeeded, as a fraction of all calls.
    pub fn rate(&self) -> f64 {
        self.passed() as f64 / self.first.len() as f64
    }

    /// Each failed attempt: its misses and the stored conversation.
    pub fn failed(&self) -> Vec<String> {
        self.first
            .iter()
            .chain(&self.retries)
            .filter(|r| !r.failures.is_empty())
            .map(|r| {
                format!(
                    "{} ({}):\n  - {}\n{}",
                    r.name,
                    r.voice,
                    r.failures.join("\n  - "),
                    r.transcript.join("\n")
                )
            })
            .collect()
    }

    /// Prints the outcome table (per attempt: name, voice, expected and
    /// actual outcome, wall time, pass or the first miss), the success
    /// rate at the first attempt, and each failed attempt in full.
    pub fn print(&self, started: Instant) {
        println!(
            "\n{:<34} {:<9} {:<12} {:<12} {:>5}  result",
            "call", "voice", "expected", "got", "wall"
        );
        let rows = self
            .first
            .iter()
            .map(|r| (r, ""))
            .chain(self.retries.iter().map(|r| (r, "placed again: ")));
        for (r, attempt) in rows {
            println!(
                "{:<34} {:<9} {:<12} {:<12} {:>4.0}s  {attempt}{}",
                r.name,
                r.voice,
                r.expected.as_str(),
                r.got.as_deref().unwrap_or("none"),
                r.wall_s,
                verdict(&r.failures)
            );
        }
        println!(
            "\nscripted calls over the phone: {}/{} succeeded at the first attempt ({:.1}%); emergencies {}/{}; {} placed again; {:.0} s",
            self.passed(),
            self.first.len(),
            100.0 * self.rate(),
            self.emergencies_passed(),
            self.emergencies(),
            self.retries.len(),
            started.elapsed().as_secs_f64()
        );
        println!(
            "first attempts: emergencies caught {}/{}; 911 told to {} callers with no emergency",
            self.emergencies_caught_first(),
            self.emergencies(),
            self.false_911()
        );
        let failed = self.failed();
        if !failed.is_empty() {
            println!("\nfailed calls:\n{}", failed.join("\n\n"));
        }
    }
}

/// A running server for one call; stopped, and its data removed, on drop.
struct ReplayServer {
    api: StaffApi,
    _stop: tokio::sync::oneshot::Sender<()>,
    _data_dir: ScratchDir,
}

impl std::ops::Deref for ReplayServer {
    type Target = StaffApi;

    fn deref(&self) -> &StaffApi {
        &self.api
    }
}

/// The staff API of a replay's server, as an admin.
#[derive(Clone)]
struct StaffApi {
    base_url: String,
    admin_token: String,
    client: reqwest::Client,
}

impl StaffApi {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// GET with the admin token; the status and the parsed body (`null`
    /// when the body is not JSON).
    async fn get_json(&self, path: &str) -> anyhow::Result<(u16, Value)> {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        Ok(json_reply(response).await)
    }

    /// POST JSON with the admin token; the status and the parsed body.
    async fn post_json(&self, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(&self.admin_token)
            .json(body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        Ok(json_reply(response).await)
    }

    /// The only call stored, with its turns.
    async fn only_call(&self) -> anyhow::Result<Value> {
        let (status, list) = self.get_json("/api/v1/calls").await?;
        anyhow::ensure!(status == 200, "listing calls: {status} {list}");
        let calls = list["calls"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        anyhow::ensure!(calls.len() == 1, "expected one stored call: {list}");
        let id = calls[0]["id"].as_str().unwrap_or_default();
        let (status, call) = self.get_json(&format!("/api/v1/calls/{id}")).await?;
        anyhow::ensure!(status == 200, "reading the call: {status} {call}");
        Ok(call)
    }

    /// What the agent has said since the caller's last stored line (the
    /// greeting, before the first), from the live call's transcript.
    async fn agent_words_since_caller(&self) -> anyhow::Result<String> {
        let call = self.only_call().await?;
        let turns = call["turns"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let after = turns
            .iter()
            .rposition(|t| t["speaker"] == "caller")
            .map_or(0, |i| i + 1);
        Ok(turns[after..]
            .iter()
            .filter(|t| t["speaker"] == "agent")
            .filter_map(|t| t["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "))
    }

    /// Waits (up to `secs`) until the stored call has ended.
    async fn ended_call(&self, secs: u64) -> anyhow::Result<Value> {
        for _ in 0..secs * 10 {
            let (_, list) = self.get_json("/api/v1/calls").await?;
            if let Some(call) = list["calls"].as_array().and_then(|c| c.first())
                && !call["ended_at"].is_null()
            {
                return self.only_call().await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        anyhow::bail!("no call ended within {secs} s")
    }
}

async fn json_reply(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Seeds the script's patients and appointments through the staff API;
/// returns the seeded appointments' ids.
async fn seed(
    app: &ReplayServer,
    clinic: &Clinic,
    script: &CallScript,
) -> anyhow::Result<Vec<String>> {
    let mut ids = std::collections::BTreeMap::new();
    for p in &script.seed.patients {
        let (status, body) = app
            .post_json(
                "/api/v1/patients",
                &json!({"name": p.name, "date_of_birth": p.date_of_birth, "phone": p.phone}),
            )
            .await?;
        anyhow::ensure!(status == 201, "seeding patient: {status} {body}");
        ids.insert(
            p.name.clone(),
            body["id"].as_str().unwrap_or_default().to_string(),
        );
    }
    let mut seeded = Vec::new();
    for a in &script.seed.appointments {
        let start: DateTime<Utc> = parse_local(clinic, &a.start)?;
        let (status, body) = app
            .post_json(
                "/api/v1/appointments",
                &json!({
                    "patient_id": ids.get(&a.patient),
                    "provider_id": a.provider,
                    "type": a.type_id,
                    "start": start.to_rfc3339(),
                }),
            )
            .await?;
        anyhow::ensure!(status == 201, "seeding appointment: {status} {body}");
        seeded.push(body["id"].as_str().unwrap_or_default().to_string());
    }
    Ok(seeded)
}

/// The call as the caller's side saw it.
struct CallerSide<'a> {
    report: &'a CallReport,
    /// Per step the caller started, the script turn it was (`None`: a
    /// line the answering caller made up).
    played: &'a [Option<usize>],
    /// The stand-in for Twilio's REST API was asked to transfer the call.
    transferred: bool,
}

/// What happened, read back from the staff API and the caller's report.
async fn observe(
    app: &ReplayServer,
    clinic: &Clinic,
    script: &CallScript,
    caller: &CallerSide<'_>,
    call: &Value,
    seeded: &[String],
) -> anyhow::Result<Happened> {
    let CallerSide {
        report,
        played,
        transferred,
    } = *caller;
    let id = call["id"].as_str().unwrap_or_default();
    let agent: Vec<(u64, String)> = call["turns"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|t| t["speaker"] == "agent")
        .map(|t| {
            (
                t["started_at_ms"].as_u64().unwrap_or_default(),
                t["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    // The agent's words in answer to a step: those it started saying from
    // the step's start until the next step's.
    let said_between = |from: u64, to: u64| -> String {
        agent
            .iter()
            .filter(|(at, _)| *at >= from && *at < to)
            .map(|(_, text)| text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let starts: Vec<u64> = report.turns.iter().map(|t| t.caller_start_ms).collect();
    let mut happened = Happened {
        greeting: said_between(0, starts.first().copied().unwrap_or(u64::MAX)),
        replies: vec![None; script.turns.len()],
        ..Default::default()
    };
    // Each step the caller started answers the script turn it played.
    for (j, &from) in starts.iter().enumerate() {
        let to = starts.get(j + 1).copied().unwrap_or(u64::MAX);
        match played.get(j) {
            Some(Some(k)) => happened.replies[*k] = Some(said_between(from, to)),
            _ => happened.unscripted.push(said_between(from, to)),
        }
    }
    // A hang-up is no step: it ran if the caller had nothing left to say.
    let all_run = report.steps_not_run == 0 && starts.len() == played.len();
    for (k, turn) in script.turns.iter().enumerate() {
        if turn.action()? == TurnAction::Hangup {
            happened.replies[k] =
                (all_run && report.end == CallEnd::CallerHungUp).then(String::new);
        }
    }
    happened.outcome = call["outcome"]
        .as_str()
        .and_then(|o| serde_json::from_value(json!(o)).ok());
    let ends_with_hangup = script
        .turns
        .last()
        .is_some_and(|t| matches!(t.action(), Ok(TurnAction::Hangup)));
    happened.then = match report.end {
        _ if transferred => Some(Then::Transfer),
        CallEnd::AgentHungUp => Some(Then::Hangup),
        CallEnd::CallerHungUp if ends_with_hangup => Some(Then::Hangup),
        CallEnd::CallerHungUp => Some(Then::Listen),
        _ => None,
    };
    happened.patient_identified = !call["patient_id"].is_null();

    let (_, booked) = app
        .get_json(&format!("/api/v1/appointments?call_id={id}&status=booked"))
        .await?;
    for a in booked["appointments"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let start: DateTime<Utc> = a["start"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .map_err(|e| anyhow::anyhow!("appointment start: {e}"))?;
        happened.booked.push(BookingSeen {
            start: format_local(clinic, start),
            provider_id: a["provider"]["id"].as_str().unwrap_or_default().to_string(),
        });
    }
    let (_, cancelled) = app
        .get_json("/api/v1/appointments?status=cancelled")
        .await?;
    happened.seeded_cancelled = cancelled["appointments"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|a| seeded.iter().any(|s| a["id"] == s.as_str()))
        .count();
    let (_, tasks) = app.get_json(&format!("/api/v1/tasks?call_id={id}")).await?;
    happened.tasks = tasks["tasks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|t| TaskSeen {
            queue: t["queue"].as_str().unwrap_or_default().to_string(),
            kind: t["kind"].as_str().unwrap_or_default().to_string(),
            priority: t["priority"].as_str().unwrap_or_default().to_string(),
            linked_to_patient: !t["patient"].is_null(),
            callback_number: t["callback_number"].as_str().map(String::from),
        })
        .collect();
    let (_, patients) = app.get_json("/api/v1/patients").await?;
    happened.patients = patients["patients"].as_array().map_or(0, Vec::len);
    Ok(happened)
}

/// The stored conversation, as heard on each side.
fn transcript(call: &Value) -> Vec<String> {
    call["turns"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|t| {
            format!(
                "    {:>6} ms {}: {}{}",
                t["started_at_ms"],
                t["speaker"].as_str().unwrap_or_default(),
                t["text"].as_str().unwrap_or_default(),
                t["intent"]
                    .as_str()
                    .map(|i| format!("  [{i}]"))
                    .unwrap_or_default()
            )
        })
        .collect()
}
