//! The machine's cores, shared by the inference stages.
//!
//! Whisper (ggml) and Piper (ONNX Runtime) both compute with threads that
//! spin-wait for each other; when together they run more threads than the
//! machine has cores, a descheduled thread stalls its siblings at every
//! step and an utterance that takes 0.2 s idle takes seconds. So every
//! heavy inference takes its threads from one [`ThreadBudget`] sized to the
//! cores, and never computes with more than it was given. Other processes
//! count too: while they keep a core busy (a build, a backup), a job gets
//! one thread, however many are free here ([`OtherLoad`]).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

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
    /// ones: one when `crowded` (others are waiting for their turn) or when
    /// other processes keep a core busy.
    pub fn take(self: &Arc<Self>, most: usize, crowded: bool) -> Threads {
        self.take_when_free(most, || crowded)
    }

    /// [`take`](Self::take), asking whether it is crowded only once a
    /// thread is free: the job that kept this one waiting may be gone by
    /// then, and the waiter should not run on one thread for nothing.
    pub fn take_when_free(self: &Arc<Self>, most: usize, crowded: impl Fn() -> bool) -> Threads {
        let mut free = self.wait_for_free();
        let busy_elsewhere = most > 1 && OtherLoad::machine().cores() >= BUSY_ELSEWHERE_CORES;
        let most = if busy_elsewhere || crowded() { 1 } else { most };
        let n = most.clamp(1, *free);
        *free -= n;
        Threads {
            budget: Arc::clone(self),
            n,
        }
    }

    fn wait_for_free(&self) -> std::sync::MutexGuard<'_, usize> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.returned.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        free
    }

    /// Up to `most` threads whatever the load (tests of the accounting).
    #[cfg(test)]
    fn take_up_to(self: &Arc<Self>, most: usize) -> Threads {
        let mut free = self.wait_for_free();
        let n = most.clamp(1, *free);
        *free -= n;
        Threads {
            budget: Arc::clone(self),
            n,
        }
    }
}

/// Work elsewhere on the machine, in cores, above which jobs take one thread.
const BUSY_ELSEWHERE_CORES: f32 = 0.4;

/// How many cores other processes kept busy lately (Linux `/proc`; 0
/// elsewhere), sampled every 100 ms over the last 300 ms by a background
/// thread.
pub struct OtherLoad {
    /// `f32` bits, in cores.
    cores: AtomicU32,
}

impl OtherLoad {
    pub fn machine() -> &'static OtherLoad {
        static LOAD: OnceLock<&'static OtherLoad> = OnceLock::new();
        LOAD.get_or_init(|| {
            let load: &'static OtherLoad = Box::leak(Box::new(OtherLoad {
                cores: AtomicU32::new(0f32.to_bits()),
            }));
            if read_cpu_ticks().is_some() {
                let _ = std::thread::Builder::new()
                    .name("cpu-load".into())
                    .spawn(move || load.sample_forever());
            }
            load
        })
    }

    pub fn cores(&self) -> f32 {
        f32::from_bits(self.cores.load(Ordering::Relaxed))
    }

    fn sample_forever(&self) {
        let mut window = std::collections::VecDeque::from([read_cpu_ticks()]);
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let now = read_cpu_ticks();
            window.push_back(now);
            if window.len() > 4 {
                window.pop_front();
            }
            if let (Some(Some(old)), Some(new)) = (window.front(), now) {
                self.cores
                    .store(others_busy_cores(old, &new).to_bits(), Ordering::Relaxed);
            }
        }
    }
}

/// CPU time counters, in clock ticks.
#[derive(Clone, Copy, Debug, PartialEq)]
struct CpuTicks {
    /// Over all cores: all time, and time spent idle or waiting for I/O.
    all: u64,
    idle: u64,
    /// This process's user + system time.
    own: u64,
    cores: u32,
}

fn read_cpu_ticks() -> Option<CpuTicks> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let own = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_cpu_ticks(&stat, &own)
}

fn parse_cpu_ticks(stat: &str, self_stat: &str) -> Option<CpuTicks> {
    let mut lines = stat.lines();
    let total: Vec<u64> = lines
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let cores = lines.filter(|l| l.starts_with("cpu")).count() as u32;
    // user nice system idle iowait irq softirq steal (guest time is in user).
    let all = total.iter().take(8).sum();
    let idle = total.get(3)? + total.get(4).copied().unwrap_or(0);
    // The command may hold spaces and parentheses: fields count from the last ')'.
    let after = &self_stat[self_stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command: state is field 3, utime field 14, stime field 15.
    let own = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(CpuTicks {
        all,
        idle,
        own,
        cores: cores.max(1),
    })
}

/// Cores kept busy by other processes between two readings.
fn others_busy_cores(old: &CpuTicks, new: &CpuTicks) -> f32 {
    let all = new.all.saturating_sub(old.all);
    if all == 0 {
        return 0.0;
    }
    let busy = all.saturating_sub(new.idle.saturating_sub(old.idle));
    let others = busy.saturating_sub(new.own.saturating_sub(old.own));
    let ticks_per_core = all as f32 / new.cores as f32;
    others as f32 / ticks_per_core
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_never_hands_out_more_than_it_has() {
        let budget = ThreadBudget::new(2);
        // A lone job takes both; a crowded one only one.
        let both = budget.take_up_to(2);
        assert_eq!(both.count(), 2);
        drop(both);
        let a = budget.take(2, true);
        let b = budget.take_up_to(2);
        assert_eq!((a.count(), b.count()), (1, 1));
        // Nothing left: the next job waits until threads come back.
        let waiter = {
            let budget = Arc::clone(&budget);
            std::thread::spawn(move || budget.take_up_to(2).count())
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!waiter.is_finished());
        drop(a);
        assert_eq!(waiter.join().unwrap(), 1);
        drop(b);
        assert_eq!(budget.take_up_to(4).count(), 2);
    }

    #[test]
    fn other_processes_load_is_read_from_proc() {
        let stat = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\ncpu1 50 0 25 400 25 0 0 0 0 0\nintr 1\n";
        let own = "1234 (frontdesk (x)) S 1 2 3 4 5 6 7 8 9 10 30 10 0 0 20 0 8 0";
        let old = parse_cpu_ticks(stat, own).unwrap();
        assert_eq!(
            old,
            CpuTicks {
                all: 1000,
                idle: 850,
                own: 40,
                cores: 2
            }
        );
        // 100 ticks later on 2 cores: 80 busy, 20 of them ours: 60 others'.
        let new = CpuTicks {
            all: 1100,
            idle: 870,
            own: 60,
            cores: 2,
        };
        assert!((others_busy_cores(&old, &new) - 1.2).abs() < 1e-6);
        assert!(read_cpu_ticks().is_none_or(|t| t.cores >= 1));
    }
}
