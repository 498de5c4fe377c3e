//! The line's background level, so that speech behind the caller (a
//! waiting room, a television) is not taken for the caller.
//!
//! Silero hears any voice as speech, near or far: on a line with people
//! talking behind the caller it says "speech" without a break, so an
//! utterance never ends and the babble is transcribed as the caller's
//! words. The caller is the voice next to the microphone, well above
//! everything else on the line. [`BackgroundFloor`] follows the line's
//! level smoothed over [`SMOOTH_WINDOWS`] (a single 32 ms window of six
//! people talking swings over 12 dB; 192 ms of them, about 6), and tracks
//! the level it seldom goes below (a low percentile of the last 12 s:
//! between the caller's words that is the background, however much the
//! caller talks). On a line with audible background, a level less than a
//! margin above that floor is background, not the caller.
//!
//! On a quiet line the floor is far below any voice and nothing changes:
//! the gate is on only while the floor is at or above [`NOISY_LINE_DBFS`].
//! The smoothing costs a noisy line's pauses up to 192 ms: the level falls
//! to the floor that long after the caller's last loud window.

use std::collections::VecDeque;

/// How much of the line's recent past the floor is taken from: 12 s of
/// 32 ms windows, long enough that a caller talking without a pause still
/// leaves gaps in it.
const HISTORY_WINDOWS: usize = 375;
/// The floor is this percentile of the recent smoothed levels.
const FLOOR_PERCENTILE: f32 = 0.10;
/// Windows (32 ms) the level is averaged over, in power.
pub const SMOOTH_WINDOWS: usize = 6;
/// Levels before this many windows (0.8 s) give no floor yet: a floor
/// from fewer is the quietest moment of six people talking, well under
/// their usual level. The agent is greeting the caller then.
pub const MIN_WINDOWS: usize = 25;
/// A floor below this is a quiet line (µ-law hiss, a mobile's comfort
/// noise): no window there is mistaken for a caller, so no gate.
pub const NOISY_LINE_DBFS: f32 = -55.0;
/// Window levels are kept in 1 dB steps from this level up to 0 dBFS.
const LOWEST_DBFS: f32 = -100.0;
const BINS: usize = 101;

/// A window's RMS level in dBFS from its sum of squares over `samples`
/// 16-bit samples; digital silence is [`LOWEST_DBFS`].
pub fn window_dbfs(sum_of_squares: f64, samples: usize) -> f32 {
    let mean = sum_of_squares / (samples.max(1) as f64 * 32768.0 * 32768.0);
    if mean <= 0.0 {
        return LOWEST_DBFS;
    }
    ((10.0 * mean.log10()) as f32).max(LOWEST_DBFS)
}

/// The line's smoothed level and the low percentile of its recent past,
/// kept as a histogram so each window costs a constant few operations.
#[derive(Clone, Debug)]
pub struct BackgroundFloor {
    /// The last [`SMOOTH_WINDOWS`] windows' mean squares and their sum.
    window_power: VecDeque<f64>,
    power_sum: f64,
    recent: VecDeque<u8>,
    counts: [u16; BINS],
}

impl Default for BackgroundFloor {
    fn default() -> Self {
        BackgroundFloor {
            window_power: VecDeque::with_capacity(SMOOTH_WINDOWS + 1),
            power_sum: 0.0,
            recent: VecDeque::with_capacity(HISTORY_WINDOWS + 1),
            counts: [0; BINS],
        }
    }
}

impl BackgroundFloor {
    /// The line's level (dBFS) over the last [`SMOOTH_WINDOWS`], this
    /// window's sum of squares over `samples` samples included.
    pub fn smoothed_dbfs(&mut self, sum_of_squares: f64, samples: usize) -> f32 {
        let power = sum_of_squares / samples.max(1) as f64;
        self.window_power.push_back(power);
        self.power_sum += power;
        if self.window_power.len() > SMOOTH_WINDOWS
            && let Some(old) = self.window_power.pop_front()
        {
            self.power_sum -= old;
        }
        let n = self.window_power.len();
        window_dbfs(self.power_sum.max(0.0), n)
    }

    /// Adds one (smoothed) level to the history, forgetting the oldest.
    pub fn push(&mut self, dbfs: f32) {
        let bin = (dbfs.clamp(LOWEST_DBFS, 0.0) - LOWEST_DBFS).round() as usize;
        let bin = bin.min(BINS - 1);
        self.recent.push_back(bin as u8);
        self.counts[bin] += 1;
        if self.recent.len() > HISTORY_WINDOWS
            && let Some(old) = self.recent.pop_front()
        {
            self.counts[usize::from(old)] -= 1;
        }
    }

    /// The floor in dBFS, once [`MIN_WINDOWS`] have been heard.
    pub fn floor_dbfs(&self) -> Option<f32> {
        let n = self.recent.len();
        if n < MIN_WINDOWS {
            return None;
        }
        let rank = ((n as f32 * FLOOR_PERCENTILE).floor() as usize).min(n - 1);
        let mut seen = 0usize;
        for (bin, &count) in self.counts.iter().enumerate() {
            seen += usize::from(count);
            if seen > rank {
                return Some(LOWEST_DBFS + bin as f32);
            }
        }
        None
    }

    /// Whether a window at `dbfs` is the background rather than a caller:
    /// the line is noisy and the window is less than `margin_db` above its
    /// floor.
    pub fn is_background(&self, dbfs: f32, margin_db: f32) -> bool {
        self.floor_dbfs()
            .is_some_and(|floor| floor >= NOISY_LINE_DBFS && dbfs < floor + margin_db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_measured_in_dbfs() {
        let full_scale = 32768.0f64 * 32768.0 * 256.0;
        assert!((window_dbfs(full_scale, 256) - 0.0).abs() < 1e-3);
        assert!((window_dbfs(full_scale / 100.0, 256) + 20.0).abs() < 1e-3);
        assert_eq!(window_dbfs(0.0, 256), LOWEST_DBFS);
    }

    #[test]
    fn the_level_is_smoothed_in_power_over_six_windows() {
        let mut floor = BackgroundFloor::default();
        let at = |db: f32| 10f64.powf(f64::from(db) / 10.0) * 32768.0 * 32768.0 * 256.0;
        for _ in 0..SMOOTH_WINDOWS {
            assert!((floor.smoothed_dbfs(at(-40.0), 256) + 40.0).abs() < 1e-3);
        }
        // One window 20 dB louder among six: +20 dB in power over six.
        let one_loud = 10.0 * ((100.0 + 5.0) / 6.0f64).log10() as f32 - 40.0;
        assert!((floor.smoothed_dbfs(at(-20.0), 256) - one_loud).abs() < 1e-3);
        // Six windows later it is forgotten.
        for _ in 0..SMOOTH_WINDOWS {
            floor.smoothed_dbfs(at(-40.0), 256);
        }
        assert!((floor.smoothed_dbfs(at(-40.0), 256) + 40.0).abs() < 1e-3);
    }

    #[test]
    fn no_floor_before_min_windows() {
        let mut floor = BackgroundFloor::default();
        for _ in 0..MIN_WINDOWS - 1 {
            floor.push(-30.0);
        }
        assert_eq!(floor.floor_dbfs(), None);
        assert!(!floor.is_background(-40.0, 10.0));
        floor.push(-30.0);
        assert_eq!(floor.floor_dbfs(), Some(-30.0));
    }

    #[test]
    fn the_floor_is_the_background_between_the_callers_words() {
        // Babble at −40 dBFS (±3 dB), a caller at −20 talking four windows
        // in five: the floor stays on the babble, not the caller.
        let mut floor = BackgroundFloor::default();
        for i in 0..HISTORY_WINDOWS * 2 {
            let babble = -40.0 + (i % 7) as f32 - 3.0;
            floor.push(if i % 5 == 0 { babble } else { -20.0 });
        }
        let level = floor.floor_dbfs().expect("a floor");
        assert!((-43.0..=-39.0).contains(&level), "floor {level}");
        assert!(floor.is_background(-37.0, 10.0), "babble");
        assert!(!floor.is_background(-22.0, 10.0), "the caller");
    }

    #[test]
    fn a_quiet_line_has_no_gate() {
        let mut floor = BackgroundFloor::default();
        for i in 0..HISTORY_WINDOWS {
            floor.push(if i % 3 == 0 { -75.0 } else { -25.0 });
        }
        assert!(floor.floor_dbfs().expect("a floor") < NOISY_LINE_DBFS);
        assert!(!floor.is_background(-62.0, 10.0), "a fading word");
    }

    #[test]
    fn the_floor_forgets_noise_that_stopped() {
        let mut floor = BackgroundFloor::default();
        for _ in 0..HISTORY_WINDOWS {
            floor.push(-35.0);
        }
        assert!(floor.is_background(-30.0, 10.0));
        for _ in 0..HISTORY_WINDOWS {
            floor.push(-80.0);
        }
        assert_eq!(floor.floor_dbfs(), Some(-80.0));
        assert!(!floor.is_background(-30.0, 10.0));
    }
}
