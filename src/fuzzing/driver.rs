//! The time-boxed run of one target: replay the kept corpus, then mutate
//! inputs picked from it until the time is up. There is no compiler
//! coverage on the stable toolchain; what steers the run instead is each
//! target's own *features* (which result, which error, which entities,
//! which dialogue phase followed which): an input showing a feature never
//! seen before joins the pool of inputs to mutate, and, when asked, the
//! corpus on disk.
//!
//! A panic in the target (a crash, or a property the target asserts) is a
//! finding: its input is written to the crash directory and the run goes on
//! looking for others, one per panic location.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use super::mutate::{Rng, mutate};

/// One fuzz target: a function of arbitrary bytes that must never panic.
pub struct Target {
    pub name: &'static str,
    /// Runs one input. Panics, including failed property assertions, are
    /// findings; `features` collects what the input exercised.
    pub run: fn(&[u8], &mut Features),
    /// Tokens of the input format, inserted by mutations.
    pub dictionary: &'static [&'static [u8]],
    /// Inputs are cut to this length.
    pub max_len: usize,
}

/// What one input exercised, as hashes; new ones make an input interesting.
#[derive(Default)]
pub struct Features(Vec<u64>);

impl Features {
    pub fn add(&mut self, feature: impl Hash) {
        let mut h = Fnv::default();
        feature.hash(&mut h);
        self.0.push(h.finish());
    }
}

/// FNV-1a: stable across runs and platforms, for corpus file names.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    let mut h = Fnv::default();
    h.write(bytes);
    h.finish()
}

/// How one run goes.
#[derive(Clone, Debug)]
pub struct Options {
    /// Mutation time after the corpus replay.
    pub budget: Duration,
    pub seed: u64,
    /// Write inputs with new features into the corpus directory.
    pub save_new: bool,
    /// At most this many new corpus files per run.
    pub max_saved: usize,
    /// Where crashing inputs are written.
    pub crash_dir: PathBuf,
    /// Write each input to `<crash_dir>/<target>-running` before running
    /// it: a stack overflow aborts the process before any report, and this
    /// file then holds the input that did it.
    pub keep_running_input: bool,
}

/// One distinct panic found.
#[derive(Clone, Debug)]
pub struct Crash {
    /// The panic's location and message.
    pub message: String,
    /// The input that caused it, as written to the crash directory.
    pub input: PathBuf,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct Report {
    pub target: &'static str,
    pub seed: u64,
    pub executions: u64,
    pub elapsed: Duration,
    /// Corpus files replayed at the start.
    pub corpus_files: usize,
    /// Inputs mutated from at the end (corpus plus new finds).
    pub pool: usize,
    /// New corpus files written.
    pub saved: usize,
    /// Distinct features seen.
    pub features: usize,
    pub slowest: Duration,
    pub crashes: Vec<Crash>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fuzz {}: {} executions in {:.1} s ({:.0}/s), seed {}, corpus {} files, pool {}, \
             {} new corpus files, {} features, slowest input {} ms, {} crashes",
            self.target,
            self.executions,
            self.elapsed.as_secs_f64(),
            self.executions as f64 / self.elapsed.as_secs_f64().max(1e-9),
            self.seed,
            self.corpus_files,
            self.pool,
            self.saved,
            self.features,
            self.slowest.as_millis(),
            self.crashes.len()
        )?;
        for c in &self.crashes {
            write!(f, "\n  crash ({}): {}", c.input.display(), c.message)?;
        }
        Ok(())
    }
}

thread_local! {
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A panic hook that keeps fuzzed panics quiet (recorded for the report)
/// and leaves every other thread's panics to the default hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) {
                CAUGHT.with(|c| *c.borrow_mut() = Some(info.to_string()));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `target` on `data`; the panic message if it panicked.
pub fn execute(target: &Target, data: &[u8], features: &mut Features) -> Option<String> {
    install_hook();
    CATCHING.with(|c| c.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(data, features)));
    CATCHING.with(|c| c.set(false));
    match result {
        Ok(()) => None,
        Err(_) => Some(
            CAUGHT
                .with(|c| c.borrow_mut().take())
                .unwrap_or_else(|| "panic without a message".into()),
        ),
    }
}

/// The corpus files of a directory, sorted by name (missing: none).
pub fn read_corpus(dir: &Path) -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| std::fs::read(&p).map(|bytes| (p, bytes)))
        .collect()
}

/// Largest pool of inputs kept in memory, in bytes.
const MAX_POOL_BYTES: usize = 64 << 20;
/// Distinct crashes after which a run stops: the target needs fixing first.
const MAX_CRASHES: usize = 20;
/// New corpus files are kept small, so the corpus stays reviewable.
const MAX_SAVED_LEN: usize = 4_096;

/// Replays `corpus_dir`, then mutates for `options.budget`.
pub fn run(target: &Target, corpus_dir: &Path, options: &Options) -> std::io::Result<Report> {
    let started = Instant::now();
    let corpus = read_corpus(corpus_dir)?;
    let mut rng = Rng::new(options.seed);
    let mut seen: HashSet<u64> = HashSet::new();
    let mut crashes: BTreeMap<String, Crash> = BTreeMap::new();
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let mut pool_bytes = 0;
    let mut executions = 0u64;
    let mut saved = 0;
    let mut slowest = Duration::ZERO;

    let mut running = if options.keep_running_input {
        std::fs::create_dir_all(&options.crash_dir)?;
        Some(std::fs::File::create(
            options.crash_dir.join(format!("{}-running", target.name)),
        )?)
    } else {
        None
    };

    let mut one = |data: &[u8],
                   from_corpus: bool,
                   pool: &mut Vec<Vec<u8>>,
                   crashes: &mut BTreeMap<String, Crash>|
     -> std::io::Result<()> {
        if let Some(file) = &mut running {
            use std::io::{Seek, Write};
            file.seek(std::io::SeekFrom::Start(0))?;
            file.write_all(data)?;
            file.set_len(data.len() as u64)?;
        }
        let mut features = Features::default();
        let t = Instant::now();
        let panic = execute(target, data, &mut features);
        slowest = slowest.max(t.elapsed());
        executions += 1;
        if let Some(message) = panic {
            // One finding per panic location ("panicked at file:line:col").
            let location = message.lines().next().unwrap_or_default().to_string();
            if let std::collections::btree_map::Entry::Vacant(entry) = crashes.entry(location) {
                std::fs::create_dir_all(&options.crash_dir)?;
                let input = options
                    .crash_dir
                    .join(format!("{}-{:016x}", target.name, fnv(data)));
                std::fs::write(&input, data)?;
                entry.insert(Crash { message, input });
            }
            return Ok(());
        }
        let mut novel = false;
        for f in features.0 {
            novel |= seen.insert(f);
        }
        if from_corpus || (novel && pool_bytes + data.len() <= MAX_POOL_BYTES) {
            pool_bytes += data.len();
            pool.push(data.to_vec());
            if novel
                && !from_corpus
                && options.save_new
                && saved < options.max_saved
                && data.len() <= MAX_SAVED_LEN
            {
                std::fs::create_dir_all(corpus_dir)?;
                std::fs::write(corpus_dir.join(format!("{:016x}", fnv(data))), data)?;
                saved += 1;
            }
        }
        Ok(())
    };

    for (_, data) in &corpus {
        one(data, true, &mut pool, &mut crashes)?;
    }
    if pool.is_empty() {
        pool.push(Vec::new());
    }
    let fuzz_start = Instant::now();
    while fuzz_start.elapsed() < options.budget && crashes.len() < MAX_CRASHES {
        let mut data = rng.pick(&pool).clone();
        mutate(
            &mut rng,
            &mut data,
            target.max_len,
            target.dictionary,
            &pool,
        );
        one(&data, false, &mut pool, &mut crashes)?;
    }
    Ok(Report {
        target: target.name,
        seed: options.seed,
        executions,
        elapsed: started.elapsed(),
        corpus_files: corpus.len(),
        pool: pool.len(),
        saved,
        features: seen.len(),
        slowest,
        crashes: crashes.into_values().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Panics on "boom" anywhere: two mutations from the seed "bo".
    fn bomb(data: &[u8], features: &mut Features) {
        features.add(data.len().min(8));
        if data.windows(4).any(|w| w == b"boom") {
            panic!("found the bomb");
        }
    }

    const BOMB: Target = Target {
        name: "bomb",
        run: bomb,
        dictionary: &[b"oo", b"m"],
        max_len: 32,
    };

    #[test]
    fn a_run_finds_a_planted_crash_and_saves_its_input() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        std::fs::create_dir_all(&corpus).unwrap();
        std::fs::write(corpus.join("seed"), b"bo").unwrap();
        let options = Options {
            budget: Duration::from_secs(3),
            seed: 1,
            save_new: true,
            max_saved: 5,
            crash_dir: dir.path().join("crashes"),
            keep_running_input: true,
        };
        let report = run(&BOMB, &corpus, &options).unwrap();
        assert_eq!(report.corpus_files, 1);
        assert!(report.executions > 100, "{report}");
        assert_eq!(report.crashes.len(), 1, "{report}");
        let crash = &report.crashes[0];
        assert!(
            crash.message.contains("found the bomb"),
            "{}",
            crash.message
        );
        let input = std::fs::read(&crash.input).unwrap();
        assert!(input.windows(4).any(|w| w == b"boom"));
        // Inputs of new lengths were kept, up to the limit.
        assert!(report.saved >= 1 && report.saved <= 5, "{report}");
        // The last input run is kept, for a crash that aborts the process.
        assert!(dir.path().join("crashes").join("bomb-running").is_file());
        assert_eq!(
            read_corpus(&corpus).unwrap().len(),
            1 + report.saved,
            "saved files are in the corpus"
        );
    }

    #[test]
    fn a_clean_target_reports_no_crash() {
        fn calm(_: &[u8], f: &mut Features) {
            f.add(0u8);
        }
        let target = Target {
            name: "calm",
            run: calm,
            dictionary: &[],
            max_len: 16,
        };
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            budget: Duration::from_millis(200),
            seed: 2,
            save_new: false,
            max_saved: 0,
            crash_dir: dir.path().join("crashes"),
            keep_running_input: false,
        };
        let report = run(&target, &dir.path().join("none"), &options).unwrap();
        assert!(report.crashes.is_empty());
        assert!(report.executions > 10);
        assert!(!dir.path().join("crashes").exists());
    }
}
