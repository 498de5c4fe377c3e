//! The queue between calls and the Whisper workers: jobs, the guesses made
//! in a caller's pause, and who holds which slot. A guess takes only free
//! room and gives it back to words a caller is waiting for; a worker takes
//! those first.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, oneshot};

use super::transcript::{Hint, SttError, Transcript};

/// Where a job's transcript goes; closed when its caller stopped waiting.
pub(super) type Reply = oneshot::Sender<Result<Transcript, SttError>>;

/// An utterance on its way to a worker. Its slot is not in here but with
/// whoever waits for the answer, so a job given up while queued frees its
/// slot at once rather than when a worker gets to it.
pub(super) struct Job {
    pub(super) samples: Vec<f32>,
    pub(super) hint: Option<Hint>,
    pub(super) reply: Reply,
    pub(super) enqueued: Instant,
    /// Set for a guess: it may give way while queued or running.
    pub(super) guess: Option<Weak<GuessState>>,
}

impl Job {
    /// Words a caller waits for: an utterance, or a guess that turned out
    /// to be one.
    pub(super) fn needed(&self) -> bool {
        self.guess
            .as_ref()
            .is_none_or(|g| g.upgrade().is_some_and(|g| g.kept()))
    }

    /// Nobody waits for the answer any more.
    pub(super) fn abandoned(&self) -> bool {
        self.reply.is_closed()
            || self
                .guess
                .as_ref()
                .is_some_and(|g| g.upgrade().is_none_or(|g| g.gave_way()))
    }
}

/// A guess's hold on its job slot. When the engine is full, words a caller
/// is waiting on take the slot
/// ([`try_transcribe_hinted`](super::SpeechToText::try_transcribe_hinted)),
/// unless the guesser kept it ([`GuessClaim::keep`]) once the guess turned
/// out to be the utterance. Dropping every handle frees the slot.
pub(super) struct GuessState {
    hold: Mutex<GuessHold>,
}

enum GuessHold {
    /// Holds its slot; may give it up.
    Open {
        slot: OwnedSemaphorePermit,
        gave_way: oneshot::Sender<()>,
    },
    /// Holds its slot for good.
    Kept(#[allow(dead_code)] OwnedSemaphorePermit),
    /// Gave its slot to a needed utterance.
    GaveWay,
}

impl GuessState {
    /// A guess holding `slot`, and the signal that it gave way.
    pub(super) fn open(slot: OwnedSemaphorePermit) -> (Arc<GuessState>, oneshot::Receiver<()>) {
        let (gave_way, signal) = oneshot::channel();
        let state = GuessState {
            hold: Mutex::new(GuessHold::Open { slot, gave_way }),
        };
        (Arc::new(state), signal)
    }

    fn lock(&self) -> MutexGuard<'_, GuessHold> {
        self.hold.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn gave_way(&self) -> bool {
        matches!(*self.lock(), GuessHold::GaveWay)
    }

    fn kept(&self) -> bool {
        matches!(*self.lock(), GuessHold::Kept(_))
    }

    /// The slot, if this guess may still give it up.
    pub(super) fn give_way(&self) -> Option<OwnedSemaphorePermit> {
        let mut hold = self.lock();
        match std::mem::replace(&mut *hold, GuessHold::GaveWay) {
            GuessHold::Open { slot, gave_way } => {
                let _ = gave_way.send(());
                Some(slot)
            }
            other => {
                *hold = other;
                None
            }
        }
    }
}

/// The guesser's handle on a guess ([`SpeechToText::guess`](super::SpeechToText::guess)).
#[derive(Clone)]
pub struct GuessClaim(Arc<GuessState>);

impl GuessClaim {
    /// The guess is needed after all (the pause it was made in ended the
    /// utterance): it no longer gives way. False when it already has, and
    /// the utterance must be transcribed anew.
    pub fn keep(&self) -> bool {
        let mut hold = self.0.lock();
        match std::mem::replace(&mut *hold, GuessHold::GaveWay) {
            GuessHold::Open { slot, .. } | GuessHold::Kept(slot) => {
                *hold = GuessHold::Kept(slot);
                true
            }
            GuessHold::GaveWay => false,
        }
    }
}

/// Jobs waiting for a worker. A worker takes needed work first (an
/// utterance, or a guess kept as one), then guesses, oldest first within
/// each: under load, a caller whose turn has ended does not wait behind
/// other calls' guesses, many of which their callers' next words make
/// stale.
pub(super) struct JobQueue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    waiting: VecDeque<Job>,
    closed: bool,
}

impl JobQueue {
    pub(super) fn new() -> JobQueue {
        JobQueue {
            state: Mutex::new(QueueState::default()),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn push(&self, job: Job) -> Result<(), SttError> {
        let mut state = self.lock();
        if state.closed {
            return Err(SttError::Stopped);
        }
        state.waiting.push_back(job);
        drop(state);
        self.ready.notify_one();
        Ok(())
    }

    /// The next job to run, waiting for one; `None` once closed.
    pub(super) fn pop(&self) -> Option<Job> {
        let mut state = self.lock();
        loop {
            state.waiting.retain(|job| !job.abandoned());
            let next = state
                .waiting
                .iter()
                .position(Job::needed)
                .or((!state.waiting.is_empty()).then_some(0));
            if let Some(i) = next {
                return state.waiting.remove(i);
            }
            if state.closed {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The job to run now instead of `job` (taken before waiting for
    /// threads): `job` itself, unless it was abandoned (then `None`) or is a
    /// guess while needed work waits (then that, and `job` goes back first
    /// in line).
    pub(super) fn rather_than(&self, job: Job) -> Option<Job> {
        if job.abandoned() {
            return None;
        }
        if job.needed() {
            return Some(job);
        }
        let mut state = self.lock();
        match state.waiting.iter().position(Job::needed) {
            Some(i) => {
                let needed = state.waiting.remove(i);
                state.waiting.push_front(job);
                drop(state);
                self.ready.notify_one();
                needed
            }
            None => Some(job),
        }
    }

    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

/// A queued guess: its claim, and its transcript to come.
pub struct PendingGuess {
    claim: GuessClaim,
    answer: oneshot::Receiver<Result<Transcript, SttError>>,
    gave_way: oneshot::Receiver<()>,
}

impl PendingGuess {
    pub(super) fn new(
        state: Arc<GuessState>,
        answer: oneshot::Receiver<Result<Transcript, SttError>>,
        gave_way: oneshot::Receiver<()>,
    ) -> PendingGuess {
        PendingGuess {
            claim: GuessClaim(state),
            answer,
            gave_way,
        }
    }

    pub fn claim(&self) -> GuessClaim {
        self.claim.clone()
    }

    /// The transcript, or [`SttError::GaveWay`] as soon as the guess gives
    /// its slot to a needed utterance.
    pub async fn transcript(self) -> Result<Transcript, SttError> {
        let PendingGuess {
            claim,
            answer,
            gave_way,
        } = self;
        let result = tokio::select! {
            answer = answer => match answer {
                Ok(result) => result,
                // A worker drops the reply of a guess that gave way.
                Err(_) if claim.0.gave_way() => Err(SttError::GaveWay),
                Err(_) => Err(SttError::Stopped),
            },
            Ok(()) = gave_way => Err(SttError::GaveWay),
        };
        drop(claim);
        result
    }
}
