//! Where a reply's latency goes: the wall-clock stages between the caller's
//! last word arriving and the agent's first audio leaving, per answered
//! utterance. Each reply logs its stages (numbers only, at debug) and keeps
//! them in a small process-wide ring that `frontdesk bench` reads, so a slow
//! figure comes with the stage to blame.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

/// Stage times of one reply, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplyTiming {
    /// Last caller speech arrived → recognition of the utterance started
    /// (the pause the VAD waits before offering it).
    pub endpoint_ms: u64,
    /// Recognition: waiting for a worker, then Whisper.
    pub stt_ms: u64,
    /// Transcript ready → the call loop took it as a finished turn (the
    /// rest of the end silence, when the words did not sound finished).
    pub turn_end_ms: u64,
    /// Intent and entities.
    pub understand_ms: u64,
    /// The conversation's decision (state machine, database).
    pub dialogue_ms: u64,
    /// Decision → the first audio frame handed to the carrier (synthesis of
    /// the first sentence, none when it is cached).
    pub voice_ms: u64,
    /// Last caller speech arrived → first audio frame sent.
    pub total_ms: u64,
}

/// Wall-clock marks of one utterance on its way to a reply.
#[derive(Clone, Copy, Debug)]
pub struct ReplyClock {
    pub speech_end: Instant,
    pub stt_started: Instant,
    pub stt_done: Instant,
    pub heard: Instant,
    pub understood: Instant,
    pub decided: Instant,
}

impl ReplyClock {
    /// The stages, once the first audio frame was sent at `first_audio`.
    pub fn finish(&self, first_audio: Instant) -> ReplyTiming {
        let ms = |from: Instant, to: Instant| to.saturating_duration_since(from).as_millis() as u64;
        ReplyTiming {
            endpoint_ms: ms(self.speech_end, self.stt_started),
            stt_ms: ms(self.stt_started, self.stt_done),
            turn_end_ms: ms(self.stt_done, self.heard),
            understand_ms: ms(self.heard, self.understood),
            dialogue_ms: ms(self.understood, self.decided),
            voice_ms: ms(self.decided, first_audio),
            total_ms: ms(self.speech_end, first_audio),
        }
    }
}

/// Replies kept for `frontdesk bench`.
const KEEP: usize = 4096;

static RECENT: Mutex<VecDeque<ReplyTiming>> = Mutex::new(VecDeque::new());

/// Logs a reply's stages and keeps them.
pub fn record(timing: ReplyTiming) {
    tracing::debug!(
        endpoint_ms = timing.endpoint_ms,
        stt_ms = timing.stt_ms,
        turn_end_ms = timing.turn_end_ms,
        understand_ms = timing.understand_ms,
        dialogue_ms = timing.dialogue_ms,
        voice_ms = timing.voice_ms,
        total_ms = timing.total_ms,
        "reply timing"
    );
    crate::metrics::engines()
        .reply_seconds
        .observe(timing.total_ms as f64 / 1000.0);
    let mut recent = RECENT.lock().unwrap_or_else(|p| p.into_inner());
    if recent.len() == KEEP {
        recent.pop_front();
    }
    recent.push_back(timing);
}

/// Every reply's stages recorded in this process since the last call, oldest first.
pub fn take_recorded() -> Vec<ReplyTiming> {
    RECENT
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .drain(..)
        .collect()
}

/// When each recent caller frame arrived, to put a wall-clock time on a
/// position in the call's audio.
#[derive(Debug, Default)]
pub struct FrameArrivals {
    /// (caller samples received after the frame, when it arrived), oldest first.
    frames: VecDeque<(u64, Instant)>,
}

impl FrameArrivals {
    /// About three seconds of 20 ms frames: utterances are offered to
    /// recognition within a second of their last speech.
    const KEEP: usize = 150;

    pub fn push(&mut self, samples_after: u64, at: Instant) {
        if self.frames.len() == Self::KEEP {
            self.frames.pop_front();
        }
        self.frames.push_back((samples_after, at));
    }

    /// When the frame holding sample `sample` arrived (`None`: too old).
    pub fn arrival_of(&self, sample: u64) -> Option<Instant> {
        let i = self.frames.partition_point(|&(end, _)| end <= sample);
        match self.frames.get(i) {
            Some(&(_, at)) if i > 0 || sample >= self.first_start() => Some(at),
            _ => None,
        }
    }

    fn first_start(&self) -> u64 {
        // Unknown frame size for the oldest frame: take it to be 20 ms.
        self.frames
            .front()
            .map_or(0, |&(end, _)| end.saturating_sub(160))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stages_add_up_to_the_total() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let clock = ReplyClock {
            speech_end: at(0),
            stt_started: at(64),
            stt_done: at(300),
            heard: at(310),
            understood: at(320),
            decided: at(330),
        };
        let t = clock.finish(at(400));
        assert_eq!(
            (
                t.endpoint_ms,
                t.stt_ms,
                t.turn_end_ms,
                t.understand_ms,
                t.dialogue_ms,
                t.voice_ms
            ),
            (64, 236, 10, 10, 10, 70)
        );
        assert_eq!(t.total_ms, 400);
    }

    #[test]
    fn a_sample_is_dated_by_the_frame_that_carried_it() {
        let t0 = Instant::now();
        let mut arrivals = FrameArrivals::default();
        for i in 1..=200u64 {
            arrivals.push(i * 160, t0 + Duration::from_millis(i * 20));
        }
        // Frame 200 carried samples 31840..32000.
        assert_eq!(
            arrivals.arrival_of(31_900),
            Some(t0 + Duration::from_millis(4000))
        );
        assert_eq!(
            arrivals.arrival_of(31_840),
            Some(t0 + Duration::from_millis(4000))
        );
        assert_eq!(
            arrivals.arrival_of(31_839),
            Some(t0 + Duration::from_millis(3980))
        );
        // Only the last 150 frames are kept; later samples are not yet here.
        assert_eq!(arrivals.arrival_of(100), None);
        assert_eq!(arrivals.arrival_of(32_000), None);
    }
}
