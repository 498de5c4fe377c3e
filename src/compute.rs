//! The machine's cores, shared by the inference stages.
//!
//! Whisper (ggml) and Piper (ONNX Runtime) both compute with threads that
//! spin-wait for each other; when together they run more threads than the
//! machine has cores, a descheduled thread stalls its siblings at every
//! step and an utterance that takes 0.2 s idle takes seconds. So every
//! heavy inference takes its threads from one [`ThreadBudget`] sized to the
//! cores, and never computes with more than it was given.

use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// Compute threads handed out to inference jobs, at most `total` at once.
#[derive(Debug)]
pub struct ThreadBudget {
    total: usize,
    free: Mutex<usize>,
    returned: Condvar,
}

/// Threads taken from a budget, given back when dropped.
#[derive(Debug)]
pub struct Threads {
    budget: Arc<ThreadBudget>,
    n: usize,
}

impl Threads {
    pub fn count(&self) -> usize {
        self.n
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        *self.budget.free.lock().unwrap_or_else(|p| p.into_inner()) += self.n;
        self.budget.returned.notify_all();
    }
}

impl ThreadBudget {
    pub fn new(total: usize) -> Arc<ThreadBudget> {
        let total = total.max(1);
        Arc::new(ThreadBudget {
            total,
            free: Mutex::new(total),
            returned: Condvar::new(),
        })
    }

    /// The process-wide budget: one thread per core.
    pub fn machine() -> Arc<ThreadBudget> {
        static MACHINE: OnceLock<Arc<ThreadBudget>> = OnceLock::new();
        MACHINE
            .get_or_init(|| {
                ThreadBudget::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
            })
            .clone()
    }

    pub fn total(&self) -> usize {
        self.total
    }

    /// Blocks until a thread is free, then takes up to `most` of the free
    /// ones (one when `crowded`: others are waiting for their turn).
    pub fn take(self: &Arc<Self>, most: usize, crowded: bool) -> Threads {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.returned.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        let n = if crowded { 1 } else { most.clamp(1, *free) };
        *free -= n;
        Threads {
            budget: Arc::clone(self),
            n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_never_hands_out_more_than_it_has() {
        let budget = ThreadBudget::new(2);
        // A lone job takes both; a crowded one only one.
        let both = budget.take(2, false);
        assert_eq!(both.count(), 2);
        drop(both);
        let a = budget.take(2, true);
        let b = budget.take(2, false);
        assert_eq!((a.count(), b.count()), (1, 1));
        // Nothing left: the next job waits until threads come back.
        let waiter = {
            let budget = Arc::clone(&budget);
            std::thread::spawn(move || budget.take(2, false).count())
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!waiter.is_finished());
        drop(a);
        assert_eq!(waiter.join().unwrap(), 1);
        drop(b);
        assert_eq!(budget.take(4, false).count(), 2);
    }
}
