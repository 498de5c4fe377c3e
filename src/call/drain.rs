//! Stopping the server without cutting anyone off. On SIGTERM (or Ctrl-C)
//! the server stops taking calls (carriers answer new ones busy), lets the
//! calls in progress run on until a drain deadline, then tells the ones
//! still running to end: each says a short goodbye, hangs up and keeps its
//! books (late transcripts, outcome, journal) before it counts as ended.
//! Only then does the process exit.
//!
//! One [`Drain`] is shared by the server's run loop, the carriers' routes
//! (which [`Drain::admit`] each call) and every call (which watches
//! [`Drain::ending`]). It knows no carrier and no clinic.

use std::time::Duration;

use tokio::sync::watch;

/// Where the stop stands, and how many calls are in progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct State {
    /// No new call is admitted.
    draining: bool,
    /// The drain deadline passed: calls still running end now.
    ending: bool,
    /// Calls admitted and not yet fully ended (books kept).
    active: usize,
}

/// The server's stop as calls and carriers see it; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Drain {
    state: watch::Sender<State>,
}

/// A call in progress; it counts until dropped, which the carrier does once
/// the call loop has returned (journal flushed).
#[derive(Debug)]
pub struct InProgress {
    state: watch::Sender<State>,
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.state.send_modify(|s| s.active -= 1);
    }
}

/// How the stop went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Every call finished on its own before the deadline (`calls` were in
    /// progress when the stop began).
    Drained { calls: usize },
    /// `ended` calls were still running at the deadline and were ended.
    Ended { calls: usize, ended: usize },
}

impl Drain {
    pub fn new() -> Drain {
        Drain::default()
    }

    /// Admits a new call, counted until the returned guard drops; `None`
    /// once the server is stopping. Checked and counted in one step, so a
    /// call is either refused or waited for, never neither.
    pub fn admit(&self) -> Option<InProgress> {
        let mut admitted = false;
        self.state.send_if_modified(|s| {
            if s.draining {
                return false;
            }
            s.active += 1;
            admitted = true;
            true
        });
        admitted.then(|| InProgress {
            state: self.state.clone(),
        })
    }

    /// Whether the server is stopping (new calls are answered busy).
    pub fn is_draining(&self) -> bool {
        self.state.borrow().draining
    }

    /// Calls in progress.
    pub fn active(&self) -> usize {
        self.state.borrow().active
    }

    /// What a call watches to learn that it must end now.
    pub fn ending(&self) -> CallsEnding {
        CallsEnding {
            state: self.state.subscribe(),
        }
    }

    /// Stops admitting calls.
    pub fn begin(&self) {
        self.state.send_modify(|s| s.draining = true);
    }

    /// Tells every call still running to end now.
    pub fn end_calls(&self) {
        self.state.send_modify(|s| {
            s.draining = true;
            s.ending = true;
        });
    }

    /// Resolves once no call is in progress.
    pub async fn idle(&self) {
        let mut state = self.state.subscribe();
        // The sender lives in `self`, so this only returns once idle.
        let _ = state.wait_for(|s| s.active == 0).await.map(|_| ());
    }

    /// The whole stop: no new calls; calls in progress run on for up to
    /// `deadline`; those still running are then ended and given up to
    /// `wind_down` to say goodbye and keep their books. An error names the
    /// calls that did not finish (what they had not written is lost unless
    /// their journal spooled it).
    pub async fn stop(&self, deadline: Duration, wind_down: Duration) -> anyhow::Result<Stopped> {
        self.begin();
        let calls = self.active();
        tracing::info!(
            calls,
            drain_seconds = deadline.as_secs(),
            "stopping: new calls are answered busy; calls in progress may finish"
        );
        if tokio::time::timeout(deadline, self.idle()).await.is_ok() {
            tracing::info!(calls, "every call finished; stopping");
            return Ok(Stopped::Drained { calls });
        }
        let ended = self.active();
        tracing::warn!(
            calls = ended,
            "drain deadline passed; the agent says goodbye and ends the calls still in progress"
        );
        self.end_calls();
        if tokio::time::timeout(wind_down, self.idle()).await.is_ok() {
            tracing::info!(calls = ended, "the last calls ended; stopping");
            return Ok(Stopped::Ended { calls, ended });
        }
        let stuck = self.active();
        tracing::error!(calls = stuck, "calls did not finish ending in time");
        anyhow::bail!(
            "{stuck} call(s) did not finish ending within {} s of the drain deadline; \
             their last writes may be missing (check the spool directory)",
            wind_down.as_secs()
        )
    }
}

/// A call's view of the stop.
pub struct CallsEnding {
    state: watch::Receiver<State>,
}

impl CallsEnding {
    /// Resolves once calls must end (at once if they already must).
    /// Cancel-safe, for the call loop's `select!`.
    pub async fn now(&mut self) {
        if self.state.wait_for(|s| s.ending).await.is_err() {
            // The server is gone without a stop: nothing to wait for.
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Duration = Duration::from_millis(100);
    const LONG: Duration = Duration::from_secs(10);

    #[test]
    fn no_call_is_admitted_once_stopping_and_admitted_calls_count_until_dropped() {
        let drain = Drain::new();
        let first = drain.admit().expect("admitted before the stop");
        let second = drain.admit().expect("admitted before the stop");
        assert_eq!(drain.active(), 2);
        drain.begin();
        assert!(drain.is_draining());
        assert!(drain.admit().is_none(), "a call admitted while stopping");
        assert_eq!(drain.active(), 2);
        drop(first);
        drop(second);
        assert_eq!(drain.active(), 0);
    }

    #[tokio::test]
    async fn with_no_call_the_stop_is_immediate() {
        let drain = Drain::new();
        let started = std::time::Instant::now();
        let stopped = drain.stop(LONG, LONG).await.unwrap();
        assert_eq!(stopped, Stopped::Drained { calls: 0 });
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_call_that_finishes_before_the_deadline_is_never_told_to_end() {
        let drain = Drain::new();
        let call = drain.admit().unwrap();
        let mut ending = drain.ending();
        let told = tokio::spawn(async move {
            tokio::select! {
                () = ending.now() => true,
                () = tokio::time::sleep(Duration::from_millis(300)) => false,
            }
        });
        let finisher = tokio::spawn(async move {
            tokio::time::sleep(SHORT).await;
            drop(call);
        });
        let stopped = drain.stop(LONG, LONG).await.unwrap();
        assert_eq!(stopped, Stopped::Drained { calls: 1 });
        finisher.await.unwrap();
        assert!(!told.await.unwrap(), "the call was told to end");
    }

    #[tokio::test]
    async fn at_the_deadline_calls_are_told_to_end_and_waited_for() {
        let drain = Drain::new();
        let call = drain.admit().unwrap();
        let mut ending = drain.ending();
        // Like a call: runs until told to end, then keeps its books.
        let running = tokio::spawn(async move {
            ending.now().await;
            tokio::time::sleep(SHORT).await;
            drop(call);
        });
        let started = std::time::Instant::now();
        let stopped = drain.stop(SHORT, LONG).await.unwrap();
        assert_eq!(stopped, Stopped::Ended { calls: 1, ended: 1 });
        assert!(started.elapsed() >= 2 * SHORT, "did not wait for the books");
        running.await.unwrap();
        // A call that starts watching after the deadline ends at once.
        tokio::time::timeout(SHORT, drain.ending().now())
            .await
            .expect("told at once");
    }

    #[tokio::test]
    async fn a_call_that_never_ends_fails_the_stop_naming_it() {
        let drain = Drain::new();
        let stuck = drain.admit().unwrap();
        let error = drain.stop(SHORT, SHORT).await.unwrap_err();
        assert!(
            error.to_string().contains("1 call(s) did not finish"),
            "{error}"
        );
        drop(stuck);
    }
}
