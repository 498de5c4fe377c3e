//! The caller's ear: a dedicated thread per call that runs voice activity
//! detection on the caller's audio and cuts it into utterances, so ONNX
//! inference never runs on the async runtime. Time is counted in samples
//! received, so endpointing behaves the same at real time and in fast
//! replays.
//!
//! Caller audio reaches the thread through a bounded queue
//! ([`AUDIO_QUEUE_FRAMES`]); see [`AudioQueue`] for what happens when the
//! thread falls behind. What it hears goes back to the call loop through
//! another bounded queue ([`HEARD_QUEUE`]); when the loop falls behind, the
//! thread waits, so no utterance is ever dropped there, and the wait backs
//! up into the audio queue, whose rule then applies.

use std::sync::Arc;
use std::sync::mpsc as std_mpsc;

use tokio::sync::mpsc;

use crate::audio::resample;
use crate::audio::vad::{EndpointConfig, Endpointer, VadError, VadEvent, VadModel};

/// What the listener tells the call loop.
#[derive(Debug)]
pub enum Heard {
    /// The caller started talking (used for barge-in and silence timing).
    SpeechStarted { at_sample: u64 },
    /// A whole utterance, ready for recognition: 16 kHz mono f32.
    Utterance {
        samples_16k: Vec<f32>,
        start_sample: u64,
        end_sample: u64,
    },
    /// The caller paused: if the pause ends the utterance, the `Utterance`
    /// that follows has exactly these samples and positions, so recognition
    /// may start now (speculatively).
    Paused {
        samples_16k: Vec<f32>,
        start_sample: u64,
        end_sample: u64,
    },
    /// Speech went on after a `Paused`: its speculative recognition is stale.
    Resumed,
    /// VAD failed; the call goes on without hearing more.
    Failed(String),
}

/// What the call loop sends the listener thread, in order.
enum ToListener {
    /// Caller audio, 8 kHz PCM16.
    Audio(Vec<i16>),
    /// This many samples of caller audio were dropped (the queue was
    /// full): heard as silence, so positions stay on the call's clock.
    Gap(usize),
    /// End the utterance at the pause of this `Paused` event, if the caller
    /// is still silent in it ([`crate::audio::vad::Endpointer::end_at_pause`]).
    EndAtPause { start_sample: u64, end_sample: u64 },
}

/// Caller audio waiting for the listener thread, in 20 ms frames: 10 s.
/// Voice activity detection takes well under a millisecond a frame, so the
/// queue only fills when the thread has stalled (a starved machine, a hung
/// model); bounded, a stalled thread cannot take the server's memory with it.
pub const AUDIO_QUEUE_FRAMES: usize = 500;

/// Events heard and not yet taken by the call loop. An utterance, a pause
/// and a speech start are a handful of events a sentence, so 64 is many
/// sentences: the queue only fills when the call loop has stalled (a
/// database write that hangs). Then the thread waits with its event
/// (nothing heard is dropped) and stops taking audio, so the audio queue
/// fills and drops new frames as silence (the recording keeps them).
pub const HEARD_QUEUE: usize = 64;

/// What became of a frame handed to the listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queued {
    /// On its way to voice activity detection.
    Sent,
    /// The queue was full: dropped, and counted.
    Dropped,
    /// The thread has stopped (after a reported VAD failure).
    Closed,
}

/// The sending side of the listener's queue. When the queue is full the
/// *newest* frame is dropped, with a warning and a count: the frames
/// already queued are older words, not yet heard. When the thread takes
/// audio again, the missed stretch goes first as silence of the same
/// length, so utterance positions stay on the call's clock and the
/// endpointer treats the gap as a pause rather than splicing words across
/// it. The call's recording is written before this queue and keeps every
/// frame, so nothing the caller said is lost from the record.
struct AudioQueue {
    tx: std_mpsc::SyncSender<ToListener>,
    /// Samples dropped since the queue last had room.
    missed_samples: usize,
    /// Frames dropped over the call.
    dropped_frames: u64,
    call_id: String,
}

impl AudioQueue {
    fn new(capacity: usize, call_id: &str) -> (AudioQueue, std_mpsc::Receiver<ToListener>) {
        let (tx, rx) = std_mpsc::sync_channel(capacity);
        let queue = AudioQueue {
            tx,
            missed_samples: 0,
            dropped_frames: 0,
            call_id: call_id.to_string(),
        };
        (queue, rx)
    }

    fn push(&mut self, samples_8k: Vec<i16>) -> Queued {
        if self.missed_samples > 0 {
            match self.tx.try_send(ToListener::Gap(self.missed_samples)) {
                Ok(()) => {
                    tracing::warn!(
                        call_id = %self.call_id,
                        gap_ms = self.missed_samples as u64 / 8,
                        dropped_frames = self.dropped_frames,
                        "the listener caught up; the audio it missed is heard as silence (the recording has it)"
                    );
                    self.missed_samples = 0;
                }
                Err(std_mpsc::TrySendError::Full(_)) => return self.dropped(samples_8k.len()),
                Err(std_mpsc::TrySendError::Disconnected(_)) => return Queued::Closed,
            }
        }
        match self.tx.try_send(ToListener::Audio(samples_8k)) {
            Ok(()) => Queued::Sent,
            Err(std_mpsc::TrySendError::Full(ToListener::Audio(frame))) => {
                self.dropped(frame.len())
            }
            Err(std_mpsc::TrySendError::Full(_)) => Queued::Dropped,
            Err(std_mpsc::TrySendError::Disconnected(_)) => Queued::Closed,
        }
    }

    fn dropped(&mut self, samples: usize) -> Queued {
        if self.missed_samples == 0 {
            tracing::warn!(
                call_id = %self.call_id,
                queued_frames = AUDIO_QUEUE_FRAMES,
                "the listener thread has stalled; dropping new caller audio until it catches up (the recording keeps it)"
            );
        }
        self.missed_samples += samples;
        self.dropped_frames += 1;
        Queued::Dropped
    }
}

/// Feeds caller audio (8 kHz PCM16) to the listener thread.
pub struct Listener {
    audio: Option<AudioQueue>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Listener {
    pub fn start(
        vad: Arc<VadModel>,
        config: EndpointConfig,
        call_id: &str,
    ) -> (Listener, mpsc::Receiver<Heard>) {
        let (audio_tx, audio_rx) = AudioQueue::new(AUDIO_QUEUE_FRAMES, call_id);
        let (heard_tx, heard_rx) = mpsc::channel(HEARD_QUEUE);
        let call_id = call_id.to_string();
        let thread = std::thread::Builder::new()
            .name(format!("listener-{}", &call_id[..8.min(call_id.len())]))
            .spawn(move || listen(vad, config, audio_rx, heard_tx, call_id))
            .expect("spawning a listener thread");
        (
            Listener {
                audio: Some(audio_tx),
                thread: Some(thread),
            },
            heard_rx,
        )
    }

    /// A listener that hears nothing (after `join`).
    pub fn closed() -> Listener {
        Listener {
            audio: None,
            thread: None,
        }
    }

    /// Queues caller audio; a full queue drops it (see [`AudioQueue`]).
    pub fn push(&mut self, samples_8k: Vec<i16>) -> Queued {
        match &mut self.audio {
            // The thread only stops after a VAD failure, already reported.
            Some(queue) => queue.push(samples_8k),
            None => Queued::Closed,
        }
    }

    /// Ends the current utterance at the pause `Heard::Paused` reported
    /// (same positions), unless the caller has spoken again since.
    pub fn end_at_pause(&self, start_sample: u64, end_sample: u64) {
        if let Some(queue) = &self.audio {
            // A full queue drops the request: the pause then ends the
            // utterance at its usual length instead.
            let _ = queue.tx.try_send(ToListener::EndAtPause {
                start_sample,
                end_sample,
            });
        }
    }

    /// Ends the audio: a pending utterance is flushed as a final `Utterance`.
    pub fn finish(&mut self) {
        self.audio.take();
    }

    /// Waits for the thread to flush (off the async runtime).
    pub async fn join(mut self) {
        self.audio.take();
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn listen(
    vad: Arc<VadModel>,
    config: EndpointConfig,
    audio: std_mpsc::Receiver<ToListener>,
    heard: mpsc::Sender<Heard>,
    call_id: String,
) {
    let mut endpointer = vad.new_stream(config);
    let send = |events: Vec<VadEvent>| deliver(&heard, events);
    while let Ok(input) = audio.recv() {
        let pushed = match input {
            ToListener::Audio(frame) => endpointer.push(&frame),
            ToListener::Gap(samples) => push_silence(&mut endpointer, samples),
            ToListener::EndAtPause {
                start_sample,
                end_sample,
            } => Ok(endpointer.end_at_pause(start_sample, end_sample)),
        };
        match pushed {
            Ok(events) => {
                if !send(events) {
                    return;
                }
            }
            Err(e) => {
                tracing::error!(call_id = %call_id, error = format!("{e:#}"), "voice activity detection failed");
                let _ = heard.blocking_send(Heard::Failed(format!("{e:#}")));
                return;
            }
        }
    }
    send(endpointer.finish());
}

/// Hands VAD events to the call loop, in order; waits while its queue is
/// full (see [`HEARD_QUEUE`]). `false` once the call loop is gone.
fn deliver(heard: &mpsc::Sender<Heard>, events: Vec<VadEvent>) -> bool {
    for event in events {
        let message = match event {
            VadEvent::SpeechStarted { at_sample } => Heard::SpeechStarted { at_sample },
            VadEvent::UtteranceEnded {
                samples,
                start_sample,
                end_sample,
                ..
            } => match to_16k(&samples) {
                Ok(samples_16k) => Heard::Utterance {
                    samples_16k,
                    start_sample,
                    end_sample,
                },
                Err(e) => Heard::Failed(format!("resampling an utterance: {e:#}")),
            },
            VadEvent::Resumed => Heard::Resumed,
            VadEvent::Paused {
                samples,
                start_sample,
                end_sample,
            } => match to_16k(&samples) {
                Ok(samples_16k) => Heard::Paused {
                    samples_16k,
                    start_sample,
                    end_sample,
                },
                Err(e) => Heard::Failed(format!("resampling an utterance: {e:#}")),
            },
        };
        // Waits while the call loop's queue is full (see [`HEARD_QUEUE`]).
        if heard.blocking_send(message).is_err() {
            return false;
        }
    }
    true
}

/// Audio the queue dropped, as silence in 20 ms frames.
fn push_silence(endpointer: &mut Endpointer, samples: usize) -> Result<Vec<VadEvent>, VadError> {
    const SILENT_FRAME: [i16; 160] = [0; 160];
    let mut events = Vec::new();
    let mut left = samples;
    while left > 0 {
        let n = left.min(SILENT_FRAME.len());
        events.extend(endpointer.push(&SILENT_FRAME[..n])?);
        left -= n;
    }
    Ok(events)
}

/// Whisper's input: the same samples always give the same output, so a
/// paused utterance and the utterance it becomes resample identically.
fn to_16k(samples_8k: &[i16]) -> anyhow::Result<Vec<f32>> {
    resample::resample(&resample::i16_to_f32(samples_8k), 8000, 16000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: usize = 160;

    fn frame(value: i16) -> Vec<i16> {
        vec![value; FRAME]
    }

    /// The samples a message carries; a gap as the silence it stands for.
    fn audio_of(message: ToListener) -> Vec<i16> {
        match message {
            ToListener::Audio(samples) => samples,
            ToListener::Gap(samples) => vec![0; samples],
            ToListener::EndAtPause { .. } => panic!("expected audio"),
        }
    }

    #[test]
    fn a_stalled_listener_drops_new_audio_then_hears_the_gap_as_silence() {
        let (mut queue, stalled) = AudioQueue::new(3, "call-1");
        // The thread takes nothing: three frames fit, the next are dropped.
        for value in 1..=3 {
            assert_eq!(queue.push(frame(value)), Queued::Sent);
        }
        assert_eq!(queue.push(frame(4)), Queued::Dropped);
        assert_eq!(queue.push(frame(5)), Queued::Dropped);
        assert_eq!(queue.dropped_frames, 2);

        // It takes the queued frames: the oldest words, in order, untouched.
        let first: Vec<i16> = (0..3)
            .flat_map(|_| audio_of(stalled.recv().unwrap()))
            .collect();
        let expected: Vec<i16> = (1..=3).flat_map(frame).collect();
        assert_eq!(first, expected);

        // Room again: the missed 40 ms arrive as silence, then the new frame,
        // so the thread has counted every sample the call received.
        assert_eq!(queue.push(frame(6)), Queued::Sent);
        assert_eq!(audio_of(stalled.recv().unwrap()), vec![0i16; 2 * FRAME]);
        assert_eq!(audio_of(stalled.recv().unwrap()), frame(6));
        assert_eq!(queue.missed_samples, 0);
        assert!(stalled.try_recv().is_err());
    }

    #[test]
    fn a_listener_that_keeps_lagging_still_counts_every_sample() {
        // Room for one message, and the thread takes one per frame pushed:
        // the owed silence keeps taking the slot, so frames keep dropping,
        // but every sample the call received reaches the thread as a frame
        // or as silence, in order.
        let (mut queue, lagging) = AudioQueue::new(1, "call-2");
        let mut received = Vec::new();
        let mut pushed = 0;
        for value in 1..=20 {
            queue.push(frame(value));
            pushed += FRAME;
            if value % 2 == 0 {
                received.extend(audio_of(lagging.recv().unwrap()));
            }
        }
        assert!(queue.dropped_frames > 0);
        while let Ok(message) = lagging.try_recv() {
            received.extend(audio_of(message));
        }
        assert_eq!(received.len() + queue.missed_samples, pushed);
        let voiced: Vec<i16> = received
            .chunks(FRAME)
            .filter(|f| f[0] != 0)
            .map(|f| f[0])
            .collect();
        assert!(voiced.windows(2).all(|w| w[0] < w[1]), "{voiced:?}");
    }

    /// The listener thread's side of a full heard queue: it waits with its
    /// event, loses none, and goes on in order once the loop reads again.
    #[test]
    fn a_full_heard_queue_makes_the_listener_wait_and_loses_nothing() {
        let (tx, mut rx) = mpsc::channel::<Heard>(2);
        let thread = std::thread::spawn(move || {
            let events = (0..5u64)
                .map(|at_sample| VadEvent::SpeechStarted { at_sample })
                .collect();
            assert!(deliver(&tx, events));
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(
            !thread.is_finished(),
            "the queue is bounded: the thread waits"
        );
        let mut seen = Vec::new();
        while let Some(heard) = rx.blocking_recv() {
            match heard {
                Heard::SpeechStarted { at_sample } => seen.push(at_sample),
                other => panic!("unexpected {other:?}"),
            }
        }
        thread.join().unwrap();
        assert_eq!(seen, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_stopped_listener_reports_closed() {
        let (mut queue, stopped) = AudioQueue::new(4, "call-3");
        drop(stopped);
        assert_eq!(queue.push(frame(1)), Queued::Closed);
    }
}
