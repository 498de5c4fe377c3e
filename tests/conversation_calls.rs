//! Replays every scripted call in `fixtures/calls/` through the real front
//! desk on a fresh SQLite database and reports the success rate.

mod scheduling_support;

use std::path::Path;
use std::sync::Arc;

use frontdesk::clinic::script::{load_dir, replay};
use frontdesk::clinic::{Clinic, Prompts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_calls_all_succeed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/calls");
    let scripts = load_dir(&dir).expect("fixtures/calls parse");
    assert!(
        scripts.len() >= 30,
        "at least 30 scripted calls, found {}",
        scripts.len()
    );
    let clinic = Arc::new(Clinic::demo());
    let prompts = Arc::new(Prompts::builtin());
    let mut passed = 0;
    let mut failed = Vec::new();
    for script in &scripts {
        let (db, _dir) = scheduling_support::sqlite().await;
        let report = replay(&db, clinic.clone(), prompts.clone(), script)
            .await
            .expect("replay runs");
        if report.passed() {
            passed += 1;
        } else {
            let transcript: Vec<String> = report
                .transcript
                .iter()
                .map(|(who, text)| format!("  {who}: {text}"))
                .collect();
            failed.push(format!(
                "{}:\n  - {}\n{}",
                report.name,
                report.failures.join("\n  - "),
                transcript.join("\n")
            ));
        }
    }
    let rate = 100.0 * passed as f64 / scripts.len() as f64;
    println!(
        "scripted calls: {passed}/{} succeeded ({rate:.1}%)",
        scripts.len()
    );
    assert!(
        failed.is_empty(),
        "failed scripted calls:\n{}",
        failed.join("\n\n")
    );
}
