//! Replays every scripted call in `fixtures/calls/` as text through the
//! product's understanding (the real intent model, emergency net and entity
//! parsers, as the call loop builds them) and the real front desk on a fresh
//! SQLite database (`frontdesk::replay::text`, as `frontdesk replay` does).
//! Prints the outcome of each call, the success rate and how often the NLU
//! agreed with the scripts' hand labels.
//!
//! Needs the intent model and ONNX Runtime: FRONTDESK_MODELS_DIR (or
//! `make models`). Not the corpus.

use std::path::Path;
use std::sync::Arc;

use frontdesk::clinic::{Clinic, Prompts};
use frontdesk::models::ModelPaths;
use frontdesk::replay::answering::CallerKind;
use frontdesk::replay::script::load_dir;
use frontdesk::replay::text::replay_all;

/// Success rate the suite must reach (emergencies: every one).
const TARGET: f64 = 0.90;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_calls_succeed_through_the_real_understanding() {
    replay_every_script(CallerKind::FixedOrder).await;
}

/// The same calls placed by a caller that answers what the agent asks
/// (`frontdesk::replay::answering`), so no call passes or fails on the
/// order of the agent's questions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_calls_succeed_with_a_caller_that_answers_what_it_is_asked() {
    replay_every_script(CallerKind::Answering).await;
}

async fn replay_every_script(caller: CallerKind) {
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

    let run = replay_all(clinic, prompts, nlu, &scripts, caller)
        .await
        .expect("replay runs");
    run.print();

    let failed = run.failed();
    let emergencies = run.emergencies();
    let emergencies_passed = run.emergencies_passed();
    let rate = run.rate();
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
