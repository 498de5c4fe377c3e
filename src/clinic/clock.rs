//! The clinic's clock: real time, or pinned by `FRONTDESK_NOW` to start at a
//! given instant and run on from there (demos, tests, replays).

use std::time::Instant;

use chrono::{DateTime, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `(pinned instant, when it was pinned, frozen)`; `None` is the real clock.
    anchor: Option<(DateTime<Utc>, Instant, bool)>,
}

#[derive(Debug, thiserror::Error)]
#[error("FRONTDESK_NOW={0:?} is not an RFC 3339 instant (e.g. 2026-03-16T13:00:00Z)")]
pub struct ClockError(pub String);

impl Clock {
    pub fn system() -> Clock {
        Clock { anchor: None }
    }

    /// Starts at `at` and runs on in real time.
    pub fn starting_at(at: DateTime<Utc>) -> Clock {
        Clock {
            anchor: Some((at, Instant::now(), false)),
        }
    }

    /// Always reads `at` (unit tests and scripted calls).
    pub fn frozen_at(at: DateTime<Utc>) -> Clock {
        Clock {
            anchor: Some((at, Instant::now(), true)),
        }
    }

    /// Parses an RFC 3339 instant (the `--now` / `FRONTDESK_NOW` setting).
    pub fn parse_start(text: &str) -> Result<Clock, ClockError> {
        DateTime::parse_from_rfc3339(text.trim())
            .map(|t| Clock::starting_at(t.with_timezone(&Utc)))
            .map_err(|_| ClockError(text.to_string()))
    }

    /// The real clock unless `FRONTDESK_NOW` is set.
    pub fn from_env() -> Result<Clock, ClockError> {
        match std::env::var("FRONTDESK_NOW") {
            Ok(v) if !v.trim().is_empty() => Clock::parse_start(&v),
            _ => Ok(Clock::system()),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.anchor {
            None => Utc::now(),
            Some((at, _, true)) => at,
            Some((at, since, false)) => {
                at + chrono::Duration::from_std(since.elapsed()).unwrap_or_default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_clock_starts_there_and_runs_on() {
        let c = Clock::parse_start("2026-03-16T13:00:00Z").unwrap();
        let t = c.now();
        assert!(t >= "2026-03-16T13:00:00Z".parse::<DateTime<Utc>>().unwrap());
        assert!(t < "2026-03-16T13:01:00Z".parse::<DateTime<Utc>>().unwrap());
        assert!(Clock::parse_start("next tuesday").is_err());
        let f = Clock::frozen_at(t);
        assert_eq!(f.now(), t);
    }
}
