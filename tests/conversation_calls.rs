//! Replays every scripted call in `fixtures/calls/` as text through the
//! product's understanding (the real intent model, emergency net and entity
//! parsers, as the call loop builds them) and the real front desk on a fresh
//! SQLite database. Prints the outcome of each call, the success rate and
//! how often the NLU agreed with the scripts' hand labels.
//!
//! Needs the intent model and ONNX Runtime: FRONTDESK_MODELS_DIR (or
//! `make models`). Not the corpus.

mod scheduling_support;

use std::path::Path;
use std::sync::Arc;

use frontdesk::clinic::script::{NluAgreement, ScriptReport, load_dir, replay};
use frontdesk::clinic::{Clinic, Prompts};
use frontdesk::models::ModelPaths;

/// Success rate the suite must reach (emergencies: every one).
const TARGET: f64 = 0.90;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_calls_succeed_through_the_real_understanding() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/calls");
    let scripts = load_dir(&dir).expect("fixtures/calls parse");
    assert!(
        scripts.len() >= 30,
        "at least 30 scripted calls, found {}",
        scripts.len()
    );
    let clinic = Arc::new(Clinic::demo());
    let prompts = Arc::new(Prompts::builtin());
    let nlu = Arc::new(
        frontdesk::app::load_nlu(&ModelPaths::locate(), &clinic)
            .expect("the intent model loads (FRONTDESK_MODELS_DIR or `make models`)"),
    );

    let mut reports: Vec<(ScriptReport, bool)> = Vec::new();
    for script in &scripts {
        let (db, _dir) = scheduling_support::sqlite().await;
        let report = replay(&db, clinic.clone(), prompts.clone(), nlu.clone(), script)
            .await
            .expect("replay runs");
        reports.push((report, script.is_emergency()));
    }

    println!("\n{:<40} {:<12} {:<12} result", "call", "expected", "got");
    let mut nlu_total = NluAgreement::default();
    for ((r, _), script) in reports.iter().zip(&scripts) {
        println!(
            "{:<40} {:<12} {:<12} {}",
            r.name,
            script.expect.outcome.as_str(),
            r.happened.outcome.map(|o| o.as_str()).unwrap_or("none"),
            if r.passed() {
                "pass".to_string()
            } else {
                format!("FAIL: {}", r.failures[0])
            }
        );
        nlu_total.add(&r.nlu);
    }
    let passed = reports.iter().filter(|(r, _)| r.passed()).count();
    let emergencies = reports.iter().filter(|(_, e)| *e).count();
    let emergencies_passed = reports.iter().filter(|(r, e)| *e && r.passed()).count();
    let rate = passed as f64 / reports.len() as f64;
    println!(
        "\nscripted calls (text through the NLU): {passed}/{} succeeded ({:.1}%); emergencies {emergencies_passed}/{emergencies}",
        reports.len(),
        100.0 * rate
    );
    println!(
        "NLU agreement with the scripts' labels: {}/{} ({:.1}%)",
        nlu_total.agreed,
        nlu_total.checked,
        100.0 * nlu_total.agreed as f64 / nlu_total.checked.max(1) as f64
    );
    for d in &nlu_total.disagreements {
        println!("  NLU: {d}");
    }

    let failed: Vec<String> = reports
        .iter()
        .filter(|(r, _)| !r.passed())
        .map(|(r, _)| {
            let transcript: Vec<String> = r
                .transcript
                .iter()
                .map(|(who, text)| format!("    {who}: {text}"))
                .collect();
            format!(
                "{}:\n  - {}\n{}",
                r.name,
                r.failures.join("\n  - "),
                transcript.join("\n")
            )
        })
        .collect();
    if !failed.is_empty() {
        println!("\nfailed calls:\n{}", failed.join("\n\n"));
    }
    assert!(emergencies > 0, "the suite has emergency calls");
    assert_eq!(
        emergencies_passed,
        emergencies,
        "every emergency call must succeed:\n{}",
        failed.join("\n\n")
    );
    assert!(
        rate >= TARGET,
        "success rate {:.1}% is below {:.0}%:\n{}",
        100.0 * rate,
        100.0 * TARGET,
        failed.join("\n\n")
    );
}
