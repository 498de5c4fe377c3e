//! Every fuzz target of `frontdesk::fuzzing`, briefly: the kept corpus of
//! `fuzz/corpus/<target>/` replayed (every past crash is in it), then
//! `FRONTDESK_FUZZ_SECONDS` (default 10) of mutated inputs. Any panic or
//! broken property fails the test, naming the file its input was written to.
//!
//! The long runs are the ignored `long_*` tests (`make fuzz`): ten minutes
//! each by default, new inputs saved into the corpus. See `docs/fuzzing.md`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use frontdesk::fuzzing::{self, Options};

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, got {value:?}")),
    )
}

fn crash_dir() -> PathBuf {
    std::env::var_os("FRONTDESK_FUZZ_CRASH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("frontdesk-fuzz-crashes"))
}

fn fuzz(name: &str, default_seconds: u64, save_by_default: bool) {
    let target = fuzzing::target(name).expect("a target of that name");
    let corpus = fuzzing::corpus_dir(Path::new(env!("CARGO_MANIFEST_DIR")), name);
    let kept = fuzzing::read_corpus(&corpus).expect("the corpus reads");
    assert!(
        !kept.is_empty(),
        "{} holds no seed inputs: the corpus is kept in the repository",
        corpus.display()
    );
    let seed = env_u64("FRONTDESK_FUZZ_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("a clock after 1970")
            .as_nanos() as u64
    });
    let save_new = match std::env::var("FRONTDESK_FUZZ_SAVE") {
        Ok(v) => v == "1",
        Err(_) => save_by_default,
    };
    let options = Options {
        budget: Duration::from_secs(env_u64("FRONTDESK_FUZZ_SECONDS").unwrap_or(default_seconds)),
        seed,
        save_new,
        max_saved: 100,
        crash_dir: crash_dir(),
        // Long runs keep the input being run: a stack overflow aborts
        // before any report.
        keep_running_input: save_by_default,
    };
    let report = fuzzing::run(target, &corpus, &options).expect("the fuzz run reads and writes");
    println!("{report}");
    assert!(report.crashes.is_empty(), "{report}");
    assert_eq!(report.corpus_files, kept.len());
    assert!(
        report.executions > report.corpus_files as u64,
        "no mutated input ran: {report}"
    );
}

/// Seconds each target runs in `make test`.
const SHORT: u64 = 10;
/// Seconds each target runs in `make fuzz`.
const LONG: u64 = 600;

#[test]
fn media_stream() {
    fuzz("media_stream", SHORT, false);
}

#[test]
fn mulaw_payload() {
    fuzz("mulaw_payload", SHORT, false);
}

#[test]
fn webhook_form() {
    fuzz("webhook_form", SHORT, false);
}

#[test]
fn entities() {
    fuzz("entities", SHORT, false);
}

#[test]
fn dialogue() {
    fuzz("dialogue", SHORT, false);
}

#[test]
#[ignore = "ten minutes: make fuzz"]
fn long_media_stream() {
    fuzz("media_stream", LONG, true);
}

#[test]
#[ignore = "ten minutes: make fuzz"]
fn long_mulaw_payload() {
    fuzz("mulaw_payload", LONG, true);
}

#[test]
#[ignore = "ten minutes: make fuzz"]
fn long_webhook_form() {
    fuzz("webhook_form", LONG, true);
}

#[test]
#[ignore = "ten minutes: make fuzz"]
fn long_entities() {
    fuzz("entities", LONG, true);
}

#[test]
#[ignore = "ten minutes: make fuzz"]
fn long_dialogue() {
    fuzz("dialogue", LONG, true);
}

#[test]
fn every_target_has_a_test_here() {
    let here = include_str!("fuzz_short.rs");
    for t in fuzzing::TARGETS {
        assert!(
            here.contains(&format!("fn {}()", t.name))
                && here.contains(&format!("fn long_{}()", t.name)),
            "target {} has no short or long test in tests/fuzz_short.rs",
            t.name
        );
    }
}
