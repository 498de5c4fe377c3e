//! Logs carry ids only. The real server at `RUST_LOG=trace`, in both log
//! formats, hears a caller say a seeded patient's name, date of birth and
//! phone number and a drug's name, and staff search with those values in
//! query strings; none of them, nor distinctive words of the transcript,
//! may appear in what it logs.

mod server_process;

use frontdesk::caller::{ScriptStep, place_call};
use frontdesk::scheduling::{NewPatient, PatientError, patients};
use server_process::{Server, caller_voice, models_present, turns_text};

const NAME: &str = "Maria Gonzalez";
const DOB: &str = "1985-03-04";
const PHONE: &str = "5551234567";

/// The seeded values in the forms a log could show them, lowercased.
fn forbidden_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "maria",
        "gonzalez",
        DOB,
        "03/04/1985",
        "3/4/1985",
        PHONE,
        "555-123-4567",
        "(555) 123-4567",
        "555 123 4567",
        "lisinopril",
    ]
    .iter()
    .map(|s| s.to_lowercase())
    .collect();
    // A log of raw bytes (a frame, a body) shows them in hex.
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    values.extend(["Gonzalez", PHONE, DOB].map(hex));
    values
}

/// Long words of the transcript that a log could also use for itself.
const LOG_WORDS: &[&str] = &[
    "refill",
    "number",
    "listen",
    "thanks",
    "street",
    "march",
    "prescription",
    "pharmacy",
];

/// Words of what the caller was heard to say that only the transcript has:
/// six letters or more, not a word of the logs' own.
fn distinctive_words(heard: &str) -> Vec<String> {
    let mut words: Vec<String> = heard
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 6 && w.chars().all(char::is_alphabetic))
        .filter(|w| !LOG_WORDS.contains(w))
        .map(String::from)
        .collect();
    words.sort();
    words.dedup();
    words
}

async fn a_call_and_searches_leave_no_patient_data_in(format: &str) {
    let data = tempfile::tempdir().unwrap();
    let mut env = vec![
        ("RUST_LOG", "trace"),
        ("FRONTDESK_NOW", "2026-03-16T22:30:00Z"),
    ];
    if format == "json" {
        env.push(("FRONTDESK_LOG_FORMAT", "json"));
    }
    let server = Server::start(data.path(), &env).await;

    let (status, created) = server
        .post_json(
            "/api/v1/patients",
            &serde_json::json!({"name": NAME, "date_of_birth": DOB, "phone": PHONE}),
        )
        .await;
    assert_eq!(status, 201, "{created}");

    let mut opts = server.caller(4.0);
    opts.from = format!("+1{PHONE}");
    let script = vec![
        ScriptStep::say("I need a refill of my lisinopril."),
        ScriptStep::say("This is Maria Gonzalez."),
        ScriptStep::say("March fourth, nineteen eighty five."),
        ScriptStep::say("The Walgreens on Elm Street."),
        ScriptStep::say("My number is five five five, one two three, four five six seven."),
        ScriptStep::say("No, that's all, thanks."),
    ];
    place_call(&opts, script, Some(caller_voice("mid")))
        .await
        .expect("the call runs");

    // The call is stored (else the logs would prove nothing).
    let mut call = serde_json::Value::Null;
    for _ in 0..300 {
        let (_, list) = server.get_json("/api/v1/calls").await;
        if let Some(id) = list["calls"][0]["id"].as_str()
            && !list["calls"][0]["ended_at"].is_null()
        {
            call = server.get_json(&format!("/api/v1/calls/{id}")).await.1;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let heard = turns_text(&call, "caller");
    let said_words = distinctive_words(&heard);
    assert!(
        !said_words.is_empty(),
        "no distinctive words were recognised to test with: {heard:?}"
    );

    // Staff search with patient data and transcript words in query strings.
    for path in [
        "/api/v1/patients?name=Maria%20Gonzalez&date_of_birth=1985-03-04&phone=5551234567"
            .to_string(),
        "/api/v1/patients?phone=555-123-4567".to_string(),
        "/api/v1/patients?date_of_birth=03%2F04%2F1985".to_string(),
        format!("/api/v1/calls?q={}", said_words[0]),
        "/api/v1/calls?q=lisinopril&outcome=nonsense-gonzalez".to_string(),
    ] {
        let (status, _) = server.get_json(&path).await;
        assert!(status < 500, "{path}: {status}");
    }
    let (status, _) = server
        .post_json(
            "/api/v1/patients",
            &serde_json::json!({"name": NAME, "date_of_birth": "2985-03-04", "phone": "555-123-456"}),
        )
        .await;
    assert_eq!(status, 422);

    let logs = server.logs().to_lowercase();
    drop(server);
    assert!(
        logs.contains("caller utterance") && logs.contains("trace"),
        "the server logged the call at trace level"
    );
    if format == "json" {
        assert!(
            logs.lines().filter(|l| l.starts_with('{')).count() > 10,
            "JSON log lines"
        );
    }
    let mut leaks = Vec::new();
    for value in forbidden_values()
        .into_iter()
        .chain(said_words.iter().cloned())
    {
        for line in logs.lines().filter(|l| l.contains(&value)) {
            leaks.push(format!("{value:?} in: {}", &line[..line.len().min(400)]));
        }
    }
    assert!(
        leaks.is_empty(),
        "patient data in the {format} logs:\n{}",
        leaks[..leaks.len().min(20)].join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_logs_carry_no_patient_data() {
    if models_present() {
        a_call_and_searches_leave_no_patient_data_in("plain").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_no_patient_data() {
    if models_present() {
        a_call_and_searches_leave_no_patient_data_in("json").await;
    }
}

/// What a patient record refuses says what is wrong, never the value: the
/// front desk logs these messages.
#[tokio::test]
async fn patient_errors_name_no_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = frontdesk::store::Db::open(&frontdesk::store::sqlite_url_in(dir.path()))
        .await
        .unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 16).unwrap();
    let cases = [
        ("2985-03-04", None, "future"),
        ("1885-03-04", None, "1900"),
        (DOB, Some("555-123-456"), "10 digits"),
    ];
    for (dob, phone, says) in cases {
        let new = NewPatient {
            name: NAME.into(),
            date_of_birth: dob.parse().unwrap(),
            phone: phone.map(String::from),
        };
        let error: PatientError = patients::create(&db, &new, today).await.unwrap_err();
        let message = format!("{error} {error:?}").to_lowercase();
        assert!(message.contains(says), "{message}");
        let display = error.to_string();
        for value in [dob, "2985", "1885", "555-123-456", "555123456", "gonzalez"] {
            assert!(!display.contains(value), "{display:?} shows {value:?}");
        }
    }
}
