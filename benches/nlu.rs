//! Latency of the understanding step (intent + entities), one utterance at a
//! time, on the held-out and noised held-out lines.
//!
//!     taskset -c 0 cargo bench --bench nlu
//!
//! Target: p99 ≤ 2 ms per utterance on one core.

use std::path::Path;

use frontdesk::models::ModelPaths;
use frontdesk::nlu::eval::{load_labelled, whisper_noise};
use frontdesk::nlu::{Nlu, ProviderRoster, bench_nlu};

fn main() -> anyhow::Result<()> {
    let crate_root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = ModelPaths::locate();
    // The intent model is committed in this repository; ONNX Runtime may sit
    // in another models directory (FRONTDESK_MODELS_DIR): join the two.
    if !paths.intent_dir().join("intent.onnx").is_file() {
        let joined =
            std::env::temp_dir().join(format!("frontdesk-nlu-bench-{}", std::process::id()));
        std::fs::create_dir_all(joined.join("onnxruntime"))?;
        std::os::unix::fs::symlink(
            paths.onnxruntime(),
            joined.join("onnxruntime/libonnxruntime.so"),
        )?;
        std::os::unix::fs::symlink(crate_root.join("models/intent"), joined.join("intent"))?;
        paths = ModelPaths::at(joined);
    }
    let nlu = Nlu::load(&paths, ProviderRoster::default())?;
    let lines = load_labelled(&crate_root.join("fixtures/intents/heldout.jsonl"))?;
    let mut texts: Vec<String> = lines.iter().map(|l| l.text.clone()).collect();
    texts.extend(
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| whisper_noise(&l.text, i as u64)),
    );
    let today = chrono::NaiveDate::from_ymd_opt(2025, 3, 14).expect("valid date");
    let report = bench_nlu(&nlu, &texts, today, 20);
    println!(
        "nlu understand: {} utterances  p50 {} µs  p99 {} µs  max {} µs  mean {} µs",
        report.utterances, report.p50_us, report.p99_us, report.max_us, report.mean_us
    );
    Ok(())
}
