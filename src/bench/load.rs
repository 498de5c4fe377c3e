//! `frontdesk bench load`: the knee. Simultaneous calls are stepped up
//! (`--from`, `--step`, `--max`) on one server until reply p95 passes the
//! target; the knee is the most calls whose every reply came within it.
//! Then a server with `max_calls` at the knee takes that many calls and one
//! more: the extra caller is answered busy (a busy tone, try again) while
//! the calls in progress go on, measured again. Each step prints the
//! machine's load average: the figures are only as steady as the machine.

use std::sync::Arc;

use crate::app::{Application, Engines};
use crate::caller::{CallerOptions, ScriptStep, place_call};
use crate::settings::Settings;

use super::{caller_voices, percentile, place_calls, scratch_settings};

/// The sweep `bench load` makes.
#[derive(Clone, Copy, Debug)]
pub struct Steps {
    pub from: usize,
    pub step: usize,
    pub max: usize,
    pub rounds: usize,
    pub target_ms: u64,
    pub stagger_ms: u64,
}

/// One step's replies.
#[derive(Clone, Debug, Default)]
pub struct StepResult {
    pub calls: usize,
    /// Reply latencies (caller side), sorted.
    pub replies: Vec<u64>,
    /// Caller lines the agent never answered.
    pub unanswered: usize,
    /// Calls that failed (not connected, or the connection lost).
    pub failed: usize,
}

impl StepResult {
    /// Within the target: every line answered, every call connected, and
    /// reply p95 at most `target_ms`.
    pub fn holds(&self, target_ms: u64) -> bool {
        self.unanswered == 0
            && self.failed == 0
            && percentile(&self.replies, 95.0).is_some_and(|p95| p95 <= target_ms)
    }
}

/// The knee: the largest step within the target, counting only steps
/// before the first that missed it (a step past the knee that happens to
/// pass again is noise, not capacity).
pub fn knee(results: &[StepResult], target_ms: u64) -> Option<usize> {
    results
        .iter()
        .take_while(|r| r.holds(target_ms))
        .map(|r| r.calls)
        .last()
}

/// The machine's 1-, 5- and 15-minute load averages, as `uptime` prints.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

async fn start_server(
    settings: &Settings,
    engines: &Engines,
    max_calls: usize,
) -> anyhow::Result<(u16, std::path::PathBuf)> {
    let mut settings = settings.clone();
    let scratch = scratch_settings(&mut settings)?;
    settings.max_calls = max_calls;
    let app = Application::build_with(settings, engines.clone()).await?;
    let port = app.port();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Ok((port, scratch))
}

async fn measure(
    port: u16,
    voices: &[Arc<dyn crate::caller::CallerSpeech>],
    calls: usize,
    steps: Steps,
) -> StepResult {
    let mut result = StepResult {
        calls,
        ..Default::default()
    };
    for round in 1..=steps.rounds {
        for report in place_calls(port, voices, calls, 1.0, steps.stagger_ms, round).await {
            match report {
                Ok(report)
                    if matches!(
                        report.end,
                        crate::caller::CallEnd::CallerHungUp | crate::caller::CallEnd::AgentHungUp
                    ) =>
                {
                    for turn in &report.turns {
                        match turn.latency_ms {
                            Some(ms) => result.replies.push(ms),
                            None => result.unanswered += 1,
                        }
                    }
                }
                Ok(report) => {
                    tracing::warn!(end = ?report.end, "a bench call did not end as scripted");
                    result.failed += 1;
                }
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "a bench call failed");
                    result.failed += 1;
                }
            }
        }
    }
    result.replies.sort_unstable();
    result
}

fn print_row(r: &StepResult) {
    let show = |v: Option<u64>| v.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "–".into());
    println!(
        "{:>5} calls  reply p50 {:>8}  p95 {:>8}  max {:>8}  (n={}, unanswered {}, failed {})  load average {}",
        r.calls,
        show(percentile(&r.replies, 50.0)),
        show(percentile(&r.replies, 95.0)),
        show(r.replies.last().copied()),
        r.replies.len(),
        r.unanswered,
        r.failed,
        load_average()
    );
}

pub async fn bench_load(settings: Settings, steps: Steps) -> anyhow::Result<()> {
    anyhow::ensure!(steps.from >= 1, "--from must be at least 1");
    anyhow::ensure!(steps.step >= 1, "--step must be at least 1");
    anyhow::ensure!(steps.max >= steps.from, "--max must be at least --from");
    anyhow::ensure!(steps.rounds >= 1, "--rounds must be at least 1");
    let engines = tokio::task::spawn_blocking({
        let settings = settings.clone();
        move || Engines::load(&settings)
    })
    .await??;
    let voices = caller_voices(&engines)?;
    println!(
        "load average at the start {} ({} cores)",
        load_average(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // The sweep, on a server that refuses nobody.
    let (port, scratch) = start_server(&settings, &engines, steps.max).await?;
    let mut results = Vec::new();
    for calls in (steps.from..=steps.max).step_by(steps.step) {
        println!(
            "placing {calls} simultaneous call(s) in real time, {} round(s)…",
            steps.rounds
        );
        let result = measure(port, &voices, calls, steps).await;
        print_row(&result);
        let holds = result.holds(steps.target_ms);
        results.push(result);
        if !holds {
            break;
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let Some(knee) = knee(&results, steps.target_ms) else {
        println!(
            "knee: none — {} simultaneous call(s) already miss reply p95 ≤ {} ms here",
            steps.from, steps.target_ms
        );
        return Ok(());
    };
    println!(
        "knee: {knee} simultaneous calls with reply p95 ≤ {} ms{}",
        steps.target_ms,
        if results.last().is_some_and(|r| r.holds(steps.target_ms)) {
            " (the sweep's last step; the machine may hold more)"
        } else {
            ""
        }
    );

    // Over the limit: `max_calls` at the knee, and one caller more.
    let (port, scratch) = start_server(&settings, &engines, knee).await?;
    let calls = {
        let voices = voices.clone();
        tokio::spawn(async move { measure(port, &voices, knee, steps).await })
    };
    // Once every call has had time to start, the extra caller rings.
    tokio::time::sleep(std::time::Duration::from_millis(
        steps.stagger_ms * knee as u64 + 3000,
    ))
    .await;
    let server = url::Url::parse(&format!("http://127.0.0.1:{port}"))?;
    let extra = place_call(
        &CallerOptions::new(server),
        vec![ScriptStep::say(super::LINES[0])],
        Some(voices[0].clone()),
    )
    .await;
    let refused = match &extra {
        Err(e) if format!("{e:#}").contains("Reject") => {
            "answered busy (<Reject reason=\"busy\"/>): a busy tone, the caller may try again"
                .to_string()
        }
        Err(e) => format!("failed otherwise: {e:#}"),
        Ok(report) => format!("was connected ({:?}): the limit did not hold", report.end),
    };
    let during = calls.await?;
    println!(
        "over the limit (max_calls = {knee}): call {} {refused}",
        knee + 1
    );
    print_row(&during);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(calls: usize, replies: &[u64], unanswered: usize) -> StepResult {
        let mut replies = replies.to_vec();
        replies.sort_unstable();
        StepResult {
            calls,
            replies,
            unanswered,
            failed: 0,
        }
    }

    #[test]
    fn the_knee_is_the_last_step_within_the_target_before_the_first_miss() {
        let results = [
            step(4, &[400, 600, 700], 0),
            step(6, &[500, 800, 950], 0),
            step(8, &[600, 900, 1400], 0),
            // Passing again after a miss is noise.
            step(10, &[500, 600, 700], 0),
        ];
        assert_eq!(knee(&results, 1000), Some(6));
        assert_eq!(knee(&results, 500), None);
        assert_eq!(knee(&results, 2000), Some(10));
    }

    #[test]
    fn an_unanswered_line_or_a_failed_call_is_a_miss_whatever_the_latency() {
        assert!(!step(4, &[100, 200], 1).holds(1000));
        let mut failed = step(4, &[100, 200], 0);
        assert!(failed.holds(1000));
        failed.failed = 1;
        assert!(!failed.holds(1000));
        assert!(!step(4, &[], 0).holds(1000), "no reply measured");
    }
}
