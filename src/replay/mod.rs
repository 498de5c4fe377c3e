//! Scripted calls (`fixtures/calls/*.toml`, `docs/conversation.md`): whole
//! phone calls written down with what they must leave behind, replayed
//! against the real product to check a version before it answers patients.
//!
//! - [`script`]: the format, and loading scripts from files and directories;
//! - [`check`]: the one checker both replays use, on a [`check::Happened`];
//! - [`text`]: each caller line as text through the real NLU, dialogue and
//!   front desk on a fresh database;
//! - [`audio`]: each call placed over the real Twilio-protocol websocket of
//!   an in-process server, in a synthesised caller voice, with its retry
//!   and voice policy; [`twilio_stand_in`] is the carrier's REST side of a
//!   warm transfer.
//!
//! `frontdesk replay FILE…` ([`run`]) and the tests
//! `tests/conversation_calls.rs` and `tests/conversation_audio.rs` are thin
//! callers of these.

pub mod answering;
pub mod audio;
pub mod check;
pub mod script;
pub mod text;
pub mod twilio_stand_in;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use crate::settings::Settings;

/// The replays' front desk: a receptionist available for warm transfers
/// on the clinic's staff line (`transfer_number` in the clinic file), as a
/// clinic has during open hours. Nobody, when the clinic names no line.
pub async fn seed_receptionist(
    db: &crate::store::Db,
    clinic: &crate::clinic::Clinic,
) -> anyhow::Result<()> {
    let Some(line) = &clinic.transfer_number else {
        return Ok(());
    };
    let (member, _token) =
        crate::staff::add(db, "Dana Reyes", crate::staff::Role::Receptionist).await?;
    crate::staff::availability::set(db, &member.id, true, Some(line))
        .await
        .map_err(anyhow::Error::from)
        .context("making the replay's receptionist available")?;
    Ok(())
}

/// `frontdesk replay`'s arguments (its help text is on the subcommand in `main.rs`).
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// Scripted calls: `*.toml` files, or directories of them (e.g. fixtures/calls)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Place each call as synthesised speech over the real websocket instead of replaying text
    #[arg(long)]
    pub audio: bool,
    /// A caller that answers what the agent asks, from the script's lines and facts, instead of
    /// saying the lines in the script's order
    #[arg(long)]
    pub answering: bool,
    /// With --audio: attempts in all for a failed call, each in the next caller voice; a call fails
    /// the command only when every attempt failed
    #[arg(long, default_value_t = 1, requires = "audio", value_parser = clap::value_parser!(u16).range(1..))]
    pub attempts: u16,
    /// With --audio: calls placed at once
    #[arg(long, default_value_t = audio::PARALLEL_CALLS as u16, requires = "audio", value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: u16,
    /// With --audio: noise on the caller's line, this many dB below the caller's speech
    /// (e.g. 15 moderate, 5 hard), in the words and in the silences between them
    #[arg(
        long,
        value_name = "DB",
        requires = "audio",
        allow_negative_numbers = true
    )]
    pub noise_snr: Option<f32>,
    /// With --noise-snr: what is on the line (room: babble of other talkers with hiss under it)
    #[arg(long, value_enum, default_value_t = crate::caller::NoiseKind::Room, requires = "noise_snr")]
    pub noise_kind: crate::caller::NoiseKind,
    /// With --noise-snr: the noise's seed (the same seed, the same noise on each call)
    #[arg(long, default_value_t = 1, requires = "noise_snr")]
    pub noise_seed: u64,
}

/// Runs `frontdesk replay`: prints the outcome table and fails when any
/// call failed.
pub async fn run(settings: Settings, args: ReplayArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let scripts = script::load_paths(&args.files)?;
    let caller = if args.answering {
        answering::CallerKind::Answering
    } else {
        answering::CallerKind::FixedOrder
    };
    let clinic = crate::app::load_clinic(&settings)?;
    if args.audio {
        let engines = tokio::task::spawn_blocking({
            let settings = settings.clone();
            move || crate::app::Engines::load(&settings)
        })
        .await
        .context("model loading panicked")??;
        let mut replay = audio::AudioReplay::start(settings, clinic, engines)
            .await?
            .with_caller(caller);
        if let Some(snr_db) = args.noise_snr {
            anyhow::ensure!(snr_db.is_finite(), "--noise-snr must be a number of dB");
            println!(
                "noise on the line: {} at {snr_db} dB SNR (seed {})",
                args.noise_kind.as_str(),
                args.noise_seed
            );
            replay = replay
                .with_noise(args.noise_kind, snr_db, args.noise_seed)
                .await?;
        }
        let policy = audio::RetryPolicy {
            attempts: usize::from(args.attempts),
            parallel: usize::from(args.parallel),
            must_pass: &|_| true,
        };
        let run = replay.run(&scripts, &policy).await;
        run.print(started);
        let failed: Vec<&str> = run
            .first
            .iter()
            .filter(|r| !run.passed_in_the_end(&r.name))
            .map(|r| r.name.as_str())
            .collect();
        anyhow::ensure!(
            failed.is_empty(),
            "{} of {} scripted calls failed: {}",
            failed.len(),
            run.first.len(),
            failed.join(", ")
        );
    } else {
        let prompts = Arc::new(crate::app::load_prompts(&settings)?);
        let clinic = Arc::new(clinic);
        let nlu = tokio::task::spawn_blocking({
            let (models, clinic) = (settings.models.clone(), clinic.clone());
            move || crate::app::load_nlu(&models, &clinic)
        })
        .await
        .context("model loading panicked")??;
        let run = text::replay_all(clinic, prompts, Arc::new(nlu), &scripts, caller).await?;
        run.print();
        let failed: Vec<&str> = run
            .calls
            .iter()
            .filter(|c| !c.report.passed())
            .map(|c| c.report.name.as_str())
            .collect();
        anyhow::ensure!(
            failed.is_empty(),
            "{} of {} scripted calls failed: {}",
            failed.len(),
            run.calls.len(),
            failed.join(", ")
        );
    }
    Ok(())
}

/// A directory under the system's temporary directory, removed on drop:
/// each replayed call gets a fresh database in one.
pub(crate) struct ScratchDir(PathBuf);

impl ScratchDir {
    pub(crate) fn new(what: &str) -> anyhow::Result<ScratchDir> {
        let dir = std::env::temp_dir().join(format!("frontdesk-{what}-{}", crate::store::new_id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(ScratchDir(dir))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
