//! Too many failed sign-ins from one address: `429` with `Retry-After`.
//! A failed sign-in is a bearer token (or a dashboard session's token) that
//! is unknown or revoked; after `max_failures` of them from one address
//! within `window`, every sign-in from that address is refused until the
//! oldest failure leaves the window. Guessing a 256-bit token is hopeless
//! anyway; this stops a script from hammering the database and makes the
//! attempt visible.
//!
//! The counts live in memory, per instance: several instances behind one
//! address each allow `max_failures`, and a restart forgets them. The
//! dashboard's sign-in (`POST /session`) uses the same limiter:
//! [`SignInLimiter::check`] before looking at the token,
//! [`SignInLimiter::failed`] when it is refused.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use crate::settings::SignInLimits;

/// Addresses tracked at most; past this, addresses whose failures have all
/// left the window are forgotten first, then the stalest.
const MAX_ADDRESSES: usize = 10_000;

/// Failed sign-ins per client address, in a sliding window.
#[derive(Debug, Default)]
pub struct SignInLimiter {
    limits: SignInLimits,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

/// Refused: try again after this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyFailures {
    pub retry_after: Duration,
}

impl SignInLimiter {
    pub fn new(limits: SignInLimits) -> SignInLimiter {
        SignInLimiter {
            limits,
            failures: Mutex::default(),
        }
    }

    pub fn limits(&self) -> SignInLimits {
        self.limits
    }

    /// Whether `client` may try to sign in now. An unknown address (no
    /// connection info) is never limited.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), TooManyFailures> {
        self.check_at(client, Instant::now())
    }

    /// Counts a failed sign-in from `client`.
    pub fn failed(&self, client: Option<IpAddr>) {
        self.failed_at(client, Instant::now());
    }

    fn check_at(&self, client: Option<IpAddr>, now: Instant) -> Result<(), TooManyFailures> {
        let Some(client) = client else {
            return Ok(());
        };
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = failures.get_mut(&client) else {
            return Ok(());
        };
        self.forget_old(times, now);
        if times.len() < self.limits.max_failures as usize {
            return Ok(());
        }
        // The oldest failure that still counts leaves the window first.
        let oldest = times[times.len() - self.limits.max_failures as usize];
        let retry_after = (oldest + self.limits.window).saturating_duration_since(now);
        Err(TooManyFailures {
            retry_after: retry_after.max(Duration::from_secs(1)),
        })
    }

    fn failed_at(&self, client: Option<IpAddr>, now: Instant) {
        let Some(client) = client else {
            return;
        };
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_ADDRESSES && !failures.contains_key(&client) {
            self.make_room(&mut failures, now);
        }
        let times = failures.entry(client).or_default();
        self.forget_old(times, now);
        times.push_back(now);
        // Only the last `max_failures` matter.
        while times.len() > self.limits.max_failures.max(1) as usize {
            times.pop_front();
        }
    }

    fn forget_old(&self, times: &mut VecDeque<Instant>, now: Instant) {
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.limits.window)
        {
            times.pop_front();
        }
    }

    fn make_room(&self, failures: &mut HashMap<IpAddr, VecDeque<Instant>>, now: Instant) {
        failures.retain(|_, times| {
            times
                .back()
                .is_some_and(|t| now.saturating_duration_since(*t) < self.limits.window)
        });
        if failures.len() >= MAX_ADDRESSES
            && let Some(stalest) = failures
                .iter()
                .min_by_key(|(_, times)| times.back().copied())
                .map(|(addr, _)| *addr)
        {
            failures.remove(&stalest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_trips_at_max_failures_and_lifts_as_the_window_slides() {
        let limiter = SignInLimiter::new(SignInLimits {
            max_failures: 3,
            window: Duration::from_secs(60),
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let start = Instant::now();
        for i in 0..3 {
            assert_eq!(limiter.check_at(Some(a), start), Ok(()));
            limiter.failed_at(Some(a), start + Duration::from_secs(i * 10));
        }
        let refused = limiter.check_at(Some(a), start + Duration::from_secs(25));
        assert_eq!(
            refused,
            Err(TooManyFailures {
                retry_after: Duration::from_secs(35)
            })
        );
        assert_eq!(limiter.check_at(Some(b), start), Ok(()), "per address");
        assert_eq!(limiter.check_at(None, start), Ok(()));
        // The first failure leaves the window at 60 s.
        assert_eq!(
            limiter.check_at(Some(a), start + Duration::from_secs(60)),
            Ok(())
        );
    }

    #[test]
    fn addresses_are_bounded() {
        let limiter = SignInLimiter::new(SignInLimits {
            max_failures: 2,
            window: Duration::from_secs(60),
        });
        let now = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 50) {
            limiter.failed_at(Some(IpAddr::from(i.to_be_bytes())), now);
        }
        assert!(limiter.failures.lock().unwrap().len() <= MAX_ADDRESSES);
    }
}
