//! `frontdesk replay`, the built binary as a clinic runs it: scripted calls
//! from `fixtures/calls/` replayed as text through the real NLU and front
//! desk print the outcome table and exit 0; a script whose expectation the
//! call does not meet is printed as failed and makes the command fail.
//!
//! Needs the intent model and ONNX Runtime: FRONTDESK_MODELS_DIR (or
//! `make models`).

use std::path::Path;
use std::process::{Command, Output};

const CALLS: &[(&str, &str, &str)] = &[
    // (file, name, outcome)
    (
        "01_book_physical_tomorrow_morning.toml",
        "book_physical_tomorrow_morning",
        "booked",
    ),
    ("18_hours_question.toml", "hours_question", "answered"),
    (
        "30_emergency_suicidal.toml",
        "emergency_suicidal",
        "emergency",
    ),
];

fn frontdesk_replay<A: AsRef<std::ffi::OsStr>>(args: &[A]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("replay")
        .args(args)
        .output()
        .expect("frontdesk runs")
}

fn lines(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn scripted_calls_that_succeed_print_the_table_and_exit_zero() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/calls");
    let files: Vec<_> = CALLS.iter().map(|(file, _, _)| dir.join(file)).collect();
    let args: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
    let output = frontdesk_replay(&args);
    let (stdout, stderr) = lines(&output);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["call", "expected", "got", "result"]),
        "no table header:\n{stdout}"
    );
    for (_, name, outcome) in CALLS {
        let row = format!("{name:<40} {outcome:<12} {outcome:<12} pass");
        assert!(
            stdout.lines().any(|l| l == row),
            "no row {row:?}:\n{stdout}"
        );
    }
    assert!(
        stdout.contains(
            "scripted calls (text through the NLU, fixed-order caller): 3/3 succeeded (100.0%); emergencies 1/1"
        ),
        "{stdout}"
    );

    // The same calls placed by the caller that answers what it is asked.
    let mut answering: Vec<&std::ffi::OsStr> = vec!["--answering".as_ref()];
    answering.extend(args.iter().map(|a| a.as_os_str()));
    let output = frontdesk_replay(&answering);
    let (stdout, stderr) = lines(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "scripted calls (text through the NLU, answering caller): 3/3 succeeded (100.0%); emergencies 1/1"
        ),
        "{stdout}"
    );
}

#[test]
fn a_call_that_misses_its_expectation_is_printed_failed_and_exits_non_zero() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/calls/18_hours_question.toml");
    let text = std::fs::read_to_string(fixture).expect("fixture reads");
    // The caller only asks the hours: the call is answered, not booked.
    let wrong = text
        .replace(
            "name = \"hours_question\"",
            "name = \"hours_question_expecting_a_booking\"",
        )
        .replace("outcome = \"answered\"", "outcome = \"booked\"");
    assert_ne!(wrong, text);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("wrong.toml"), wrong).expect("script written");

    let output = frontdesk_replay(&[dir.path()]);
    let (stdout, stderr) = lines(&output);
    assert!(
        !output.status.success(),
        "a failed call must fail the command:\n{stdout}\n{stderr}"
    );
    let row = format!(
        "{:<40} {:<12} {:<12} FAIL: outcome answered, expected booked",
        "hours_question_expecting_a_booking", "booked", "answered"
    );
    assert!(
        stdout.lines().any(|l| l == row),
        "no row {row:?}:\n{stdout}"
    );
    assert!(
        stdout.contains(
            "scripted calls (text through the NLU, fixed-order caller): 0/1 succeeded (0.0%)"
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains("1 of 1 scripted calls failed: hours_question_expecting_a_booking"),
        "{stderr}"
    );
}
