//! Latency of the understanding step (intent + entities), one utterance at a
//! time, on the held-out and noised held-out lines.
//!
//!     taskset -c 0 cargo bench --bench nlu
//!
//! Target: p99 ≤ 2 ms per utterance on one core. Prints the machine's load
//! average too: on a busy machine the tail measures preemption, not work.

use std::path::Path;

use frontdesk::models::ModelPaths;
use frontdesk::nlu::eval::{load_labelled, whisper_noise};
use frontdesk::nlu::{Nlu, ProviderRoster, bench_nlu};

fn main() -> anyhow::Result<()> {
    let crate_root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Always time this checkout's committed intent model; ONNX Runtime may
    // sit in another models directory (FRONTDESK_MODELS_DIR): join the two.
    let runtime = ModelPaths::locate();
    let joined = std::env::temp_dir().join(format!("frontdesk-nlu-bench-{}", std::process::id()));
    std::fs::create_dir_all(joined.join("onnxruntime"))?;
    std::os::unix::fs::symlink(
        runtime.onnxruntime(),
        joined.join("onnxruntime/libonnxruntime.so"),
    )?;
    std::os::unix::fs::symlink(crate_root.join("models/intent"), joined.join("intent"))?;
    let paths = ModelPaths::at(joined.clone());
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
    let _ = std::fs::remove_dir_all(&joined);
    // The tail is sensitive to other processes on the machine: say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average (1/5/15 min): {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "nlu understand: {} utterances  p50 {} µs  p99 {} µs  max {} µs  mean {} µs",
        report.utterances, report.p50_us, report.p99_us, report.max_us, report.mean_us
    );
    Ok(())
}
