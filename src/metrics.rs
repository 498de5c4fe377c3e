//! The server's metrics, kept with `prometheus-client` and served as
//! Prometheus text (version 0.0.4) at `GET /metrics` (by `web`). Depends on
//! nothing else in the crate, so any module can count without importing
//! another.
//!
//! Two kinds: per server ([`Metrics`]: calls, tasks, claims, live-event
//! clients), and per process ([`engines`]: reply latency, Whisper and Piper
//! time), because the models are loaded once and shared by every server a
//! process builds (the tests build many).

use std::sync::OnceLock;

use prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// `Content-Type` of [`Metrics::render`].
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// A call's outcome label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

/// A task's queue and priority labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub queue: String,
    pub priority: String,
}

/// A claim's result label: `won`, or `conflict` (someone else holds it,
/// or it is done).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClaimLabels {
    pub result: String,
}

/// Time spent by the engines, in seconds, for every server of the process.
#[derive(Debug)]
pub struct EngineTimings {
    /// The caller's last word arriving → the agent's first audio leaving.
    pub reply_seconds: Histogram,
    /// One Whisper decode of an utterance (not the wait for a worker).
    pub whisper_seconds: Histogram,
    /// One Piper model run (a sentence).
    pub piper_seconds: Histogram,
}

/// The process's engine timings.
pub fn engines() -> &'static EngineTimings {
    static TIMINGS: OnceLock<EngineTimings> = OnceLock::new();
    TIMINGS.get_or_init(|| EngineTimings {
        // 0.1 s to about 19 s.
        reply_seconds: Histogram::new(exponential_buckets(0.1, 1.5, 14)),
        // 20 ms to about 20 s.
        whisper_seconds: Histogram::new(exponential_buckets(0.02, 1.7, 14)),
        // 5 ms to about 10 s.
        piper_seconds: Histogram::new(exponential_buckets(0.005, 1.8, 14)),
    })
}

/// Every metric one server keeps, shared by the routes that count.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub calls_started: Counter,
    pub calls_active: Gauge,
    pub calls_rejected_busy: Counter,
    /// Ended calls by outcome (`booked`, `escalated`, …).
    pub calls_ended: Family<OutcomeLabel, Counter>,
    /// Tasks not yet done, by queue and priority; set at each scrape.
    pub tasks_open: Family<QueueLabels, Gauge>,
    /// Tasks past their service level and not done; set at each scrape.
    pub tasks_overdue: Gauge,
    /// Claim attempts by result.
    pub task_claims: Family<ClaimLabels, Counter>,
    /// Clients following the live task events now ([`Metrics::sse_client`]).
    pub sse_clients: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let metrics = Metrics {
            calls_started: Counter::default(),
            calls_active: Gauge::default(),
            calls_rejected_busy: Counter::default(),
            calls_ended: Family::default(),
            tasks_open: Family::default(),
            tasks_overdue: Gauge::default(),
            task_claims: Family::default(),
            sse_clients: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "frontdesk_calls_started",
            "Media streams started",
            metrics.calls_started.clone(),
        );
        registry.register(
            "frontdesk_calls_active",
            "Calls in progress",
            metrics.calls_active.clone(),
        );
        registry.register(
            "frontdesk_calls_rejected_busy",
            "Calls refused because every call slot was busy",
            metrics.calls_rejected_busy.clone(),
        );
        registry.register(
            "frontdesk_calls_ended",
            "Calls ended, by outcome",
            metrics.calls_ended.clone(),
        );
        let engines = engines();
        registry.register(
            "frontdesk_reply_latency_seconds",
            "From the caller's last word arriving to the agent's first audio leaving",
            engines.reply_seconds.clone(),
        );
        registry.register(
            "frontdesk_whisper_seconds",
            "Whisper decoding time per utterance",
            engines.whisper_seconds.clone(),
        );
        registry.register(
            "frontdesk_piper_seconds",
            "Piper synthesis time per model run (a sentence)",
            engines.piper_seconds.clone(),
        );
        registry.register(
            "frontdesk_tasks_open",
            "Staff tasks not yet done (open or claimed), by queue and priority",
            metrics.tasks_open.clone(),
        );
        registry.register(
            "frontdesk_tasks_overdue",
            "Staff tasks past their service level and not done",
            metrics.tasks_overdue.clone(),
        );
        registry.register(
            "frontdesk_task_claims",
            "Task claim attempts, by result (won, conflict)",
            metrics.task_claims.clone(),
        );
        registry.register(
            "frontdesk_sse_clients",
            "Clients following the live task events",
            metrics.sse_clients.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// Counts a call that ended with `outcome`.
    pub fn call_ended(&self, outcome: &str) {
        self.calls_ended
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// Counts a claim attempt.
    pub fn claim(&self, won: bool) {
        let result = if won { "won" } else { "conflict" };
        self.task_claims
            .get_or_create(&ClaimLabels {
                result: result.into(),
            })
            .inc();
    }

    /// Replaces the task gauges: `(queue, priority, count)` of tasks not
    /// done, and how many are overdue.
    pub fn set_tasks(&self, open: &[(String, String, i64)], overdue: i64) {
        self.tasks_open.clear();
        for (queue, priority, count) in open {
            self.tasks_open
                .get_or_create(&QueueLabels {
                    queue: queue.clone(),
                    priority: priority.clone(),
                })
                .set(*count);
        }
        self.tasks_overdue.set(overdue);
    }

    /// One more client following the live task events, until the returned
    /// guard is dropped (when its stream ends, however it ends).
    pub fn sse_client(&self) -> SseClient {
        self.sse_clients.inc();
        SseClient(self.sse_clients.clone())
    }

    /// The Prometheus text exposition (version 0.0.4) of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_text::encode(&mut out, &self.registry)
            .expect("writing to a String does not fail");
        out
    }
}

/// A live-event client, counted in `frontdesk_sse_clients` while it lives.
#[derive(Debug)]
pub struct SseClient(Gauge);

impl Drop for SseClient {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_keeps_the_old_names_and_adds_the_new() {
        let m = Metrics::new();
        m.calls_started.inc();
        m.calls_active.inc();
        m.call_ended("booked");
        m.claim(true);
        m.claim(false);
        m.set_tasks(&[("clinical".into(), "urgent".into(), 2)], 1);
        let sse = m.sse_client();
        let text = m.render();
        for line in [
            "frontdesk_calls_started_total 1",
            "frontdesk_calls_active 1",
            "frontdesk_calls_rejected_busy_total 0",
            "frontdesk_calls_ended_total{outcome=\"booked\"} 1",
            "frontdesk_task_claims_total{result=\"won\"} 1",
            "frontdesk_task_claims_total{result=\"conflict\"} 1",
            "frontdesk_tasks_open{queue=\"clinical\",priority=\"urgent\"} 2",
            "frontdesk_tasks_overdue 1",
            "frontdesk_sse_clients 1",
            "# TYPE frontdesk_whisper_seconds histogram",
            "# TYPE frontdesk_piper_seconds histogram",
            "# TYPE frontdesk_reply_latency_seconds histogram",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        drop(sse);
        assert!(m.render().lines().any(|l| l == "frontdesk_sse_clients 0"));
        m.set_tasks(&[], 0);
        assert!(
            !m.render().contains("queue=\"clinical\""),
            "stale series go"
        );
    }
}
