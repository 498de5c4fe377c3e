//! The real `frontdesk serve` binary as an operator runs it: stopped with
//! SIGTERM in the middle of a call, and refused when it would serve
//! unsigned telephony on a public address.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use frontdesk::caller::{CallEnd, CallerOptions, ScriptStep, place_call};

/// Settings the child must not inherit from the developer's shell.
const CLEARED: [&str; 15] = [
    "FRONTDESK_LISTEN",
    "DATABASE_URL",
    "FRONTDESK_CONFIG",
    "FRONTDESK_PUBLIC_URL",
    "FRONTDESK_NOW",
    "FRONTDESK_DATA_DIR",
    "FRONTDESK_PROMPTS_DIR",
    "FRONTDESK_MAX_CALLS",
    "FRONTDESK_DRAIN_SECONDS",
    "FRONTDESK_INSECURE_TELEPHONY",
    "FRONTDESK_WITHOUT_STAFF_TOKEN",
    "FRONTDESK_ADMIN_TOKEN",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_API_BASE",
];

const ADMIN_TOKEN: &str = "shutdown-test-admin-token";
/// The drain deadline the server under test is given.
const DRAIN_SECONDS: u64 = 3;
/// The agent's goodbye when the server ends a call (`prompts/call.toml`).
const GOODBYE_WORDS: &str = "call us back in a few minutes";

fn serve(data_dir: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
    command
        .arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .env("FRONTDESK_LOG_FORMAT", "json")
        // The port is read from the "frontdesk is listening" line.
        .env("RUST_LOG", "info,ort=warn,whisper_rs=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for name in CLEARED {
        command.env_remove(name);
    }
    command
}

/// The server's log lines, as they come, and all of them for messages.
struct Log {
    lines: mpsc::Receiver<String>,
    all: Arc<Mutex<Vec<String>>>,
}

impl Log {
    fn of(child: &mut Child) -> Log {
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, lines) = mpsc::channel();
        let all = Arc::new(Mutex::new(Vec::new()));
        let kept = all.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        Log { lines, all }
    }

    fn text(&self) -> String {
        self.all.lock().unwrap().join("\n")
    }

    /// The port from "frontdesk is listening" (JSON logs).
    fn port(&self, within: Duration) -> u16 {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(line) = self.lines.recv_timeout(left) else {
                break;
            };
            if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
                && event["fields"]["message"] == "frontdesk is listening"
            {
                return event["fields"]["port"].as_u64().expect("a port") as u16;
            }
        }
        panic!("the server did not start listening:\n{}", self.text());
    }
}

/// Waits for the child to exit, at most `within`.
fn exit_within(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Kills the child if a test fails before it exits.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn models_present() -> bool {
    let paths = frontdesk::models::ModelPaths::locate();
    [
        paths.whisper(),
        paths.vad(),
        paths.voice(),
        paths.onnxruntime(),
        paths.intent_dir().join("intent.onnx"),
    ]
    .iter()
    .all(|p| frontdesk::prerequisites::model_present(p))
}

#[test]
fn unsigned_telephony_on_a_public_address_refuses_to_start() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = serve(data_dir.path(), &["--listen", "0.0.0.0:0"])
        .spawn()
        .expect("the binary starts");
    let log = Log::of(&mut child);
    let mut child = Reaper(child);
    // Refused before any model loads: quick.
    let status = exit_within(&mut child.0, Duration::from_secs(60)).expect("it exits");
    assert!(!status.success(), "it served:\n{}", log.text());
    std::thread::sleep(Duration::from_millis(200));
    let text = log.text();
    assert!(
        text.contains("refusing to serve telephony on 0.0.0.0:0"),
        "{text}"
    );
    assert!(text.contains("--insecure-telephony"), "the flag: {text}");
    assert!(text.contains("TWILIO_AUTH_TOKEN"), "the fix: {text}");
}

/// SIGTERM mid-call: new calls are answered busy and the media stream is
/// refused while the call in progress runs on; at the drain deadline the
/// agent says goodbye and hangs up; the call's turns and outcome are in
/// the database and the process exits 0 in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_call_drains_ends_the_call_cleanly_and_exits_zero() {
    if !models_present() {
        return;
    }
    let data_dir = tempfile::tempdir().unwrap();
    let drain = DRAIN_SECONDS.to_string();
    let mut child = serve(
        data_dir.path(),
        &["--listen", "127.0.0.1:0", "--drain-seconds", &drain],
    )
    .env("FRONTDESK_ADMIN_TOKEN", ADMIN_TOKEN)
    .spawn()
    .expect("the binary starts");
    let log = Log::of(&mut child);
    let pid = child.id();
    let mut child = Reaper(child);
    let port = tokio::task::block_in_place(|| log.port(Duration::from_secs(300)));
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    // A caller who asks for something, then stays on the line.
    let paths = frontdesk::models::ModelPaths::locate();
    frontdesk::models::init_onnx_runtime(&paths).unwrap();
    let voice = frontdesk::caller::voice::PiperCaller::new(
        frontdesk::tts::Tts::load(&paths).unwrap(),
        "low-slow",
    )
    .unwrap();
    let mut opts = CallerOptions::new(url::Url::parse(&base).unwrap());
    // Real time: the drain deadline is wall-clock.
    opts.speed = 1.0;
    opts.reply_timeout_ms = 300_000;
    opts.max_call_ms = 600_000;
    let caller = tokio::spawn(async move {
        place_call(
            &opts,
            vec![
                ScriptStep::say("Hello, I would like to book an appointment for next week."),
                ScriptStep::wait(300_000),
            ],
            Some(Arc::new(voice)),
        )
        .await
    });

    // Once the caller's words are stored, the server is told to stop.
    let call_id = wait_for_caller_turn(&http, &base).await;
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let signalled = Instant::now();

    // During the drain: a new call is answered busy…
    let mut busy = None;
    while signalled.elapsed() < Duration::from_secs(DRAIN_SECONDS) {
        let response = http
            .post(format!("{base}/telephony/twilio/voice"))
            .form(&[("CallSid", "CA00000000000000000000000000000099")])
            .send()
            .await
            .expect("the webhook answers during the drain");
        assert_eq!(response.status(), 200);
        let body = response.text().await.unwrap();
        if body.contains("<Reject reason=\"busy\"/>") {
            busy = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        busy.is_some(),
        "the webhook never answered busy:\n{}",
        log.text()
    );
    // …its media stream is refused…
    let refused =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/telephony/twilio/stream"))
            .await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("a media stream opened during the drain: {other:?}"),
    }
    // …and the call in progress is still on.
    assert!(!caller.is_finished(), "the call was cut at the signal");

    // At the deadline the agent ends the call: the server lets the line go.
    let report = tokio::time::timeout(Duration::from_secs(60), caller)
        .await
        .expect("the call ended")
        .unwrap()
        .expect("the call ran");
    assert_eq!(report.end, CallEnd::AgentHungUp, "{report:?}");
    assert!(
        signalled.elapsed() >= Duration::from_secs(DRAIN_SECONDS),
        "the call ended before the drain deadline"
    );

    let status = tokio::task::block_in_place(|| {
        exit_within(&mut child.0, Duration::from_secs(DRAIN_SECONDS + 30))
    });
    let stopped_after = signalled.elapsed();
    let status = status.unwrap_or_else(|| panic!("still running:\n{}", log.text()));
    assert!(status.success(), "exit {status}:\n{}", log.text());
    eprintln!(
        "stopped {:.1} s after SIGTERM (drain deadline {DRAIN_SECONDS} s)",
        stopped_after.as_secs_f64()
    );

    // Everything said is in the database.
    let db = frontdesk::store::Db::open(&frontdesk::store::sqlite_url_in(data_dir.path()))
        .await
        .unwrap();
    let call = db.get_call(&call_id).await.unwrap().expect("the call row");
    assert!(call.ended_at.is_some(), "the call never ended: {call:?}");
    assert_ne!(call.outcome, "in_progress", "{call:?}");
    let turns = db.list_turns(&call_id).await.unwrap();
    let said = |speaker: &str| {
        turns
            .iter()
            .filter(|t| t.speaker == speaker)
            .map(|t| t.text.to_lowercase())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(said("caller").contains("appointment"), "{turns:?}");
    assert!(
        said("agent").contains(GOODBYE_WORDS),
        "no goodbye: {turns:?}"
    );
    let spool = data_dir.path().join("spool");
    assert!(
        !spool.exists() || std::fs::read_dir(&spool).unwrap().next().is_none(),
        "writes were left in the spool"
    );
    // The caller's booking was unfinished when the server ended the call:
    // the front desk has one callback task for it, and the call says so.
    let tasks = frontdesk::tasks::list(
        &db,
        &frontdesk::tasks::TaskFilter {
            call_id: Some(call_id.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0].kind, "callback", "{tasks:?}");
    assert_eq!(tasks[0].queue, "front_desk", "{tasks:?}");
    assert!(
        tasks[0].summary.contains("Call ended by server shutdown")
            && tasks[0].summary.contains("booking an appointment"),
        "{tasks:?}"
    );
    assert_eq!(call.outcome, "escalated", "{call:?}");
}

/// The id of the only call, once a caller turn of it is stored.
async fn wait_for_caller_turn(http: &reqwest::Client, base: &str) -> String {
    let get = |path: String| {
        let request = http.get(format!("{base}{path}")).bearer_auth(ADMIN_TOKEN);
        async move {
            request
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    for _ in 0..1200 {
        let list = get("/api/v1/calls".into()).await;
        if let Some(id) = list["calls"][0]["id"].as_str() {
            let call = get(format!("/api/v1/calls/{id}")).await;
            let heard = call["turns"]
                .as_array()
                .is_some_and(|turns| turns.iter().any(|t| t["speaker"] == "caller"));
            if heard {
                return id.to_string();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the caller's words were never stored");
}
