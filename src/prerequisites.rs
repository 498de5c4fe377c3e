//! What a test does when something it needs from outside the repository is
//! missing (the models, the shared corpus, PostgreSQL): outside CI it says
//! so and skips that part; with `FRONTDESK_REQUIRE_ALL` set (`.ci/run` sets
//! it) it fails, naming what is missing, so a green CI never hides a half
//! that did not run.

use std::path::{Path, PathBuf};

/// The variable `.ci/run` sets.
pub const REQUIRE_ALL_VAR: &str = "FRONTDESK_REQUIRE_ALL";

/// Whether a missing prerequisite must fail the run.
pub fn required() -> bool {
    std::env::var_os(REQUIRE_ALL_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Reports a missing prerequisite: panics under [`required`], otherwise
/// prints `skipping: …` to standard error. `what` names the thing and where
/// it was looked for; `fix` says how to provide it.
pub fn missing(what: &str, fix: &str) {
    if required() {
        panic!("{what} is missing and {REQUIRE_ALL_VAR} is set (CI): {fix}");
    }
    eprintln!("skipping: {what} is missing ({fix})");
}

/// The shared test corpus: `FRONTDESK_CORPUS_DIR`, else `../shared/corpus`
/// beside the repository; `None` (reported through [`missing`]) when absent.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FRONTDESK_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        missing(
            &format!("the shared corpus at {}", dir.display()),
            "set FRONTDESK_CORPUS_DIR or place shared/ beside the repository",
        );
        None
    }
}

/// One file of the shared corpus (`relative` inside it), if present.
pub fn corpus_file(relative: &str) -> Option<PathBuf> {
    let path = corpus_dir()?.join(relative);
    if path.is_file() {
        Some(path)
    } else {
        missing(
            &format!("the corpus file {}", path.display()),
            "use a complete copy of shared/corpus",
        );
        None
    }
}

/// Whether a model file is there; reported through [`missing`] when not.
pub fn model_present(path: &Path) -> bool {
    if path.is_file() {
        return true;
    }
    missing(
        &format!("the model {}", path.display()),
        "run `frontdesk models` (or `make models`) with the same FRONTDESK_MODELS_DIR",
    );
    false
}

/// A program on the `PATH` (or at the path in `variable`), if present.
fn program(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(given) = std::env::var_os(variable).map(PathBuf::from) {
        return given.is_file().then_some(given);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|candidate| candidate.is_file())
}

/// Headless Chromium and its WebDriver (`chromium`, `chromedriver`; or
/// `FRONTDESK_CHROMIUM` / `FRONTDESK_CHROMEDRIVER`), for the dashboard's
/// browser tests; reported through [`missing`] when either is absent.
pub fn chromium() -> Option<(PathBuf, PathBuf)> {
    let browser = program("FRONTDESK_CHROMIUM", &["chromium", "chromium-browser"]);
    let driver = program("FRONTDESK_CHROMEDRIVER", &["chromedriver"]);
    match (browser, driver) {
        (Some(b), Some(d)) => Some((b, d)),
        (b, d) => {
            let what = match (b.is_none(), d.is_none()) {
                (true, true) => "chromium and chromedriver",
                (true, false) => "chromium",
                _ => "chromedriver",
            };
            missing(
                &format!("{what} (on the PATH, or FRONTDESK_CHROMIUM / FRONTDESK_CHROMEDRIVER)"),
                "run scripts/install-deps.sh (Debian packages chromium and chromium-driver)",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_prerequisite_fails_only_when_required() {
        // Both branches, without touching the process environment (tests
        // run in parallel threads): the decision is `required()`.
        let outcome = std::panic::catch_unwind(|| missing("a thing at /nowhere", "make it"));
        assert_eq!(outcome.is_err(), required());
    }
}
