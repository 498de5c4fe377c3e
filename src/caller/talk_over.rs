//! Talk-over: the agent starting to speak while the caller's line is not
//! finished. Counted from what the caller heard, on the call's timeline:
//! an onset is a voiced agent sample after at least the quiet window
//! (`CallerOptions::agent_quiet_ms`) without one, the same window after
//! which the caller takes the agent as having finished. An onset counts
//! against a caller step when it falls from the step's start up to the end
//! of its voiced audio (`Turn::caller_end_ms`), so a reply that starts in
//! a pause the caller makes mid-sentence is one talk-over, however long
//! it goes on.

use super::SAMPLE_RATE_HZ;
use super::playout::is_voiced;

const SAMPLES_PER_MS: u64 = SAMPLE_RATE_HZ as u64 / 1000;

/// Call times (ms) at which the agent started to speak: each voiced sample
/// of `timeline` (8 kHz, sample 0 at call time 0) that follows at least
/// `quiet_ms` without a voiced sample, or is the first voiced sample.
pub fn agent_onsets(timeline: &[i16], quiet_ms: u64) -> Vec<u64> {
    let quiet_samples = quiet_ms * SAMPLES_PER_MS;
    let mut onsets = Vec::new();
    let mut last_voiced: Option<u64> = None;
    for (i, &sample) in timeline.iter().enumerate() {
        if !is_voiced(sample) {
            continue;
        }
        let i = i as u64;
        // `i - last - 1` silent samples lie between the two voiced ones.
        if last_voiced.is_none_or(|last| i - last > quiet_samples) {
            onsets.push(i / SAMPLES_PER_MS);
        }
        last_voiced = Some(i);
    }
    onsets
}

/// The onsets (sorted call times, ms) that fall while a caller's step was
/// unfinished: at or after `start_ms` and before `end_ms`.
pub fn onsets_within(onsets: &[u64], start_ms: u64, end_ms: u64) -> Vec<u64> {
    onsets
        .iter()
        .copied()
        .filter(|&at| at >= start_ms && at < end_ms)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A timeline of `(voiced, ms)` runs.
    fn timeline(runs: &[(bool, u64)]) -> Vec<i16> {
        runs.iter()
            .flat_map(|&(voiced, ms)| {
                let sample = if voiced { 4000 } else { 0 };
                std::iter::repeat_n(sample, (ms * SAMPLES_PER_MS) as usize)
            })
            .collect()
    }

    #[test]
    fn a_reply_is_one_onset_however_many_short_gaps_it_has() {
        // Greeting at 100 ms with a 300 ms gap inside, quiet, reply at 3000 ms.
        let t = timeline(&[
            (false, 100),
            (true, 500),
            (false, 300),
            (true, 500),
            (false, 1600),
            (true, 700),
        ]);
        assert_eq!(agent_onsets(&t, 400), vec![100, 3000]);
        // A shorter quiet window splits the greeting at its gap.
        assert_eq!(agent_onsets(&t, 200), vec![100, 900, 3000]);
    }

    #[test]
    fn a_gap_of_the_quiet_window_starts_a_new_onset_a_shorter_one_does_not() {
        // As the caller takes the agent as finished after `agent_quiet_ms`.
        let t = timeline(&[(true, 100), (false, 399), (true, 100), (false, 401)]);
        assert_eq!(agent_onsets(&t, 400), vec![0]);
        let t = timeline(&[(true, 100), (false, 400), (true, 100)]);
        assert_eq!(agent_onsets(&t, 400), vec![0, 500]);
    }

    #[test]
    fn silence_and_low_noise_have_no_onset() {
        assert!(agent_onsets(&[], 400).is_empty());
        assert!(agent_onsets(&vec![100i16; 8000], 400).is_empty());
    }

    #[test]
    fn only_onsets_while_the_line_is_unfinished_count() {
        let onsets = [500, 2000, 3400, 5000];
        // The line played from 1000 ms, its voice ended at 3400 ms: the
        // reply starting at 3400 ms is an answer, not a talk-over.
        assert_eq!(onsets_within(&onsets, 1000, 3400), vec![2000]);
        assert_eq!(
            onsets_within(&onsets, 500, 5001),
            vec![500, 2000, 3400, 5000]
        );
        assert!(onsets_within(&onsets, 2001, 3400).is_empty());
    }
}
