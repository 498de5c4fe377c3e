//! The server's counters, and their Prometheus text for `GET /metrics`
//! (served by `web`). Plain atomics: a handful of numbers does not need a
//! metrics framework. Depends on nothing else in the crate, so any module
//! (the telephony routes, the web API) can count without importing another.

use std::sync::atomic::{AtomicI64, Ordering};

/// A number that goes up (and, for gauges, down).
#[derive(Debug, Default)]
pub struct Counter(AtomicI64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Every counter the server keeps, shared by the routes that count.
#[derive(Debug, Default)]
pub struct Metrics {
    pub calls_started: Counter,
    pub calls_active: Counter,
    pub calls_rejected_busy: Counter,
}

impl Metrics {
    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let rows: [(&str, &str, &str, i64); 3] = [
            (
                "frontdesk_calls_started_total",
                "counter",
                "Media streams started.",
                self.calls_started.get(),
            ),
            (
                "frontdesk_calls_active",
                "gauge",
                "Calls in progress.",
                self.calls_active.get(),
            ),
            (
                "frontdesk_calls_rejected_busy_total",
                "counter",
                "Calls refused because every call slot was busy.",
                self.calls_rejected_busy.get(),
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in rows {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        }
        out
    }
}
