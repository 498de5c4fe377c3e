//! The caller's ear: a dedicated thread per call that runs voice activity
//! detection on the caller's audio and cuts it into utterances, so ONNX
//! inference never runs on the async runtime. Time is counted in samples
//! received, so endpointing behaves the same at real time and in fast
//! replays.

use std::sync::Arc;
use std::sync::mpsc as std_mpsc;

use tokio::sync::mpsc;

use crate::audio::resample;
use crate::audio::vad::{EndpointConfig, VadEvent, VadModel};

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
    /// End the utterance at the pause of this `Paused` event, if the caller
    /// is still silent in it ([`crate::audio::vad::Endpointer::end_at_pause`]).
    EndAtPause { start_sample: u64, end_sample: u64 },
}

/// Feeds caller audio (8 kHz PCM16) to the listener thread.
pub struct Listener {
    audio: Option<std_mpsc::Sender<ToListener>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Listener {
    pub fn start(
        vad: Arc<VadModel>,
        config: EndpointConfig,
        call_id: &str,
    ) -> (Listener, mpsc::UnboundedReceiver<Heard>) {
        let (audio_tx, audio_rx) = std_mpsc::channel::<ToListener>();
        let (heard_tx, heard_rx) = mpsc::unbounded_channel();
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

    pub fn push(&self, samples_8k: Vec<i16>) {
        if let Some(tx) = &self.audio {
            // The thread only stops after a VAD failure, already reported.
            let _ = tx.send(ToListener::Audio(samples_8k));
        }
    }

    /// Ends the current utterance at the pause `Heard::Paused` reported
    /// (same positions), unless the caller has spoken again since.
    pub fn end_at_pause(&self, start_sample: u64, end_sample: u64) {
        if let Some(tx) = &self.audio {
            let _ = tx.send(ToListener::EndAtPause {
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
    heard: mpsc::UnboundedSender<Heard>,
    call_id: String,
) {
    let mut endpointer = vad.new_stream(config);
    let send = |events: Vec<VadEvent>| {
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
            if heard.send(message).is_err() {
                return false;
            }
        }
        true
    };
    while let Ok(input) = audio.recv() {
        let pushed = match input {
            ToListener::Audio(frame) => endpointer.push(&frame),
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
                let _ = heard.send(Heard::Failed(format!("{e:#}")));
                return;
            }
        }
    }
    send(endpointer.finish());
}

/// Whisper's input: the same samples always give the same output, so a
/// paused utterance and the utterance it becomes resample identically.
fn to_16k(samples_8k: &[i16]) -> anyhow::Result<Vec<f32>> {
    resample::resample(&resample::i16_to_f32(samples_8k), 8000, 16000)
}
