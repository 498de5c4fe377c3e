//! Any clinic: the scripted calls of a second clinic configuration
//! (`fixtures/clinics/foothills.toml`: Mountain time, Saturday hours, a
//! 20-minute grid, other providers, visit types, insurers and holidays)
//! replayed as text through the real understanding and front desk, as
//! `frontdesk --config fixtures/clinics/foothills.toml replay
//! fixtures/calls-foothills` does. Every call must reach its outcome:
//! nothing in the agent may assume the demo clinic.
//!
//! Needs the intent model and ONNX Runtime (FRONTDESK_MODELS_DIR or `make
//! models`), like `tests/conversation_calls.rs`; it fails without them.

use std::path::Path;
use std::sync::Arc;

use frontdesk::clinic::{Clinic, Prompts};
use frontdesk::models::ModelPaths;
use frontdesk::replay::answering::CallerKind;
use frontdesk::replay::script::load_dir;
use frontdesk::replay::text::replay_all;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_clinics_scripted_calls_succeed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let clinic = Clinic::load(Some(&root.join("fixtures/clinics/foothills.toml")))
        .expect("the second clinic's configuration parses");
    assert_ne!(clinic.timezone, Clinic::demo().timezone);
    let scripts = load_dir(&root.join("fixtures/calls-foothills")).expect("scripts parse");
    assert!(scripts.len() >= 10, "found {}", scripts.len());
    let clinic = Arc::new(clinic);
    let nlu = Arc::new(
        frontdesk::app::load_nlu(&ModelPaths::locate(), &clinic)
            .expect("the intent model loads (FRONTDESK_MODELS_DIR or `make models`)"),
    );
    // Both callers: the script's order, and one that answers what it is asked.
    for caller in [CallerKind::FixedOrder, CallerKind::Answering] {
        let run = replay_all(
            clinic.clone(),
            Arc::new(Prompts::builtin()),
            nlu.clone(),
            &scripts,
            caller,
        )
        .await
        .expect("replay runs");
        run.print();
        let failed = run.failed();
        assert!(
            failed.is_empty(),
            "{caller:?}: {} of {} calls failed:\n{}",
            failed.len(),
            scripts.len(),
            failed.join("\n\n")
        );
    }
}
