//! Twilio's side of the agent's audio: what the server sends is queued and
//! played to the caller at the pace of the call, marks come back when the
//! audio queued before them has been heard, and `clear` drops what is left.
//!
//! Positions are absolute sample counts at 8 kHz since the stream started,
//! so the playout knows nothing of wall-clock time.

use std::collections::VecDeque;

/// A sample louder than this counts as the agent (or caller) talking;
/// about −36 dBFS, above µ-law idle noise and dither.
pub const VOICED_ABS: u16 = 500;

pub fn is_voiced(sample: i16) -> bool {
    sample.unsigned_abs() >= VOICED_ABS
}

/// One `media` message from the server, with when it arrived (call time).
struct Segment {
    arrival_ms: u64,
    samples: Vec<i16>,
    /// Samples of this segment already played.
    played: usize,
}

/// Audio that played during one drain, with the call time it arrived at.
#[derive(Debug, PartialEq, Eq)]
pub struct PlayedRun {
    pub arrival_ms: u64,
    pub samples: Vec<i16>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// In play order; together at most the requested number of samples.
    pub runs: Vec<PlayedRun>,
    /// Marks whose preceding audio has now all been played, in order.
    pub marks: Vec<String>,
}

#[derive(Default)]
pub struct Playout {
    queue: VecDeque<Segment>,
    /// Samples ever played.
    played_total: u64,
    /// `played_total` + samples waiting.
    queued_total: u64,
    /// Voiced samples waiting, kept as a count so "is the agent still
    /// talking?" costs nothing per frame.
    voiced_pending: u64,
    /// Pending marks and the queue position they wait for.
    marks: VecDeque<(String, u64)>,
}

impl Playout {
    pub fn push(&mut self, arrival_ms: u64, samples: Vec<i16>) {
        if samples.is_empty() {
            return;
        }
        self.queued_total += samples.len() as u64;
        self.voiced_pending += samples.iter().filter(|&&s| is_voiced(s)).count() as u64;
        self.queue.push_back(Segment {
            arrival_ms,
            samples,
            played: 0,
        });
    }

    /// A mark is due once everything queued so far has played.
    pub fn mark(&mut self, name: String) {
        self.marks.push_back((name, self.queued_total));
    }

    /// Drops every unplayed sample; returns every pending mark, in order.
    pub fn clear(&mut self) -> Vec<String> {
        self.queue.clear();
        self.queued_total = self.played_total;
        self.voiced_pending = 0;
        self.marks.drain(..).map(|(name, _)| name).collect()
    }

    /// Plays up to `max_samples` (one frame of call time).
    pub fn drain(&mut self, max_samples: usize) -> Drained {
        let mut out = Drained::default();
        let mut left = max_samples;
        while left > 0 {
            let Some(seg) = self.queue.front_mut() else {
                break;
            };
            let take = left.min(seg.samples.len() - seg.played);
            let samples = seg.samples[seg.played..seg.played + take].to_vec();
            seg.played += take;
            left -= take;
            self.played_total += take as u64;
            self.voiced_pending -= samples.iter().filter(|&&s| is_voiced(s)).count() as u64;
            out.runs.push(PlayedRun {
                arrival_ms: seg.arrival_ms,
                samples,
            });
            if seg.played == seg.samples.len() {
                self.queue.pop_front();
            }
        }
        while self
            .marks
            .front()
            .is_some_and(|(_, at)| *at <= self.played_total)
        {
            let (name, _) = self.marks.pop_front().expect("front exists");
            out.marks.push(name);
        }
        out
    }

    pub fn pending_samples(&self) -> u64 {
        self.queued_total - self.played_total
    }

    pub fn voiced_pending(&self) -> bool {
        self.voiced_pending > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn played(d: &Drained) -> usize {
        d.runs.iter().map(|r| r.samples.len()).sum()
    }

    #[test]
    fn marks_wait_for_the_audio_before_them() {
        let mut p = Playout::default();
        p.push(0, vec![1000; 400]);
        p.mark("a".into());
        p.push(0, vec![0; 100]);
        p.mark("b".into());
        let d = p.drain(160);
        assert_eq!(played(&d), 160);
        assert!(d.marks.is_empty());
        let d = p.drain(160);
        assert!(d.marks.is_empty());
        let d = p.drain(160);
        assert_eq!(played(&d), 160);
        assert_eq!(d.marks, vec!["a".to_string()], "400 samples played by now");
        assert!(!p.voiced_pending());
        let d = p.drain(160);
        assert_eq!(played(&d), 20);
        assert_eq!(d.marks, vec!["b".to_string()]);
    }

    #[test]
    fn a_mark_on_an_empty_queue_comes_back_at_once() {
        let mut p = Playout::default();
        p.mark("now".into());
        assert_eq!(p.drain(160).marks, vec!["now".to_string()]);
    }

    #[test]
    fn clear_drops_audio_and_returns_all_pending_marks() {
        let mut p = Playout::default();
        p.push(0, vec![2000; 800]);
        p.mark("x".into());
        p.push(20, vec![2000; 800]);
        p.mark("y".into());
        p.drain(160);
        assert_eq!(p.clear(), vec!["x".to_string(), "y".to_string()]);
        assert_eq!(p.pending_samples(), 0);
        assert!(!p.voiced_pending());
        assert_eq!(p.drain(160), Drained::default());
        // Marks after the clear count from the new position.
        p.push(40, vec![0; 10]);
        p.mark("z".into());
        assert_eq!(p.drain(160).marks, vec!["z".to_string()]);
    }

    #[test]
    fn runs_keep_their_arrival_time_across_segments() {
        let mut p = Playout::default();
        p.push(0, vec![0; 100]);
        p.push(20, vec![3000; 100]);
        let d = p.drain(160);
        assert_eq!(d.runs.len(), 2);
        assert_eq!((d.runs[0].arrival_ms, d.runs[0].samples.len()), (0, 100));
        assert_eq!((d.runs[1].arrival_ms, d.runs[1].samples.len()), (20, 60));
        assert!(p.voiced_pending());
    }
}
