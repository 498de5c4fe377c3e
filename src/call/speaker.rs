//! The agent's mouth: turns a reply into 20 ms µ-law frames for the
//! carrier as each sentence's audio becomes ready, follows each sentence
//! with a mark, and uses the marks the carrier echoes to know what the
//! caller actually heard. Barge-in clears the carrier's queued audio, stops
//! synthesis, and keeps only the sentences whose marks came back before
//! the clear.

use std::collections::VecDeque;
use std::sync::Arc;

use super::carrier::Carrier;
use crate::audio::mulaw;
use crate::tts::{SpeechChunk, SpeechStream, Tts, text::split_sentences};

/// 20 ms at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// A reply the caller has finished hearing (or cut short).
#[derive(Debug, Clone, PartialEq)]
pub struct SpokenReply {
    /// The sentences the caller heard in full.
    pub heard: Vec<String>,
    /// The caller talked over the agent.
    pub interrupted: bool,
    /// Call time (caller samples) when the first audio was sent.
    pub started_sample: u64,
    /// Call time (caller samples) when the last mark came back.
    pub ended_sample: u64,
}

struct PendingMark {
    name: String,
    sentence: String,
}

/// One reply in flight.
struct Reply {
    sentences: Vec<String>,
    stream: Option<SpeechStream>,
    marks: VecDeque<PendingMark>,
    heard: Vec<String>,
    started_sample: Option<u64>,
    interrupted: bool,
    /// Sentences asked for while this reply was still being synthesised.
    backlog: Vec<String>,
}

/// What the agent is saying and what the caller has heard of it. It sends
/// through the call's [`Carrier`], lent to each call that sends.
pub struct Speaker {
    tts: Arc<Tts>,
    reply: Option<Reply>,
    /// Marks sent before a `clear`; their echoes say nothing about hearing.
    discarded_marks: Vec<String>,
    mark_counter: u64,
}

/// Where agent audio goes besides the carrier (the call recording).
pub trait AgentAudioSink {
    fn agent_audio(&mut self, samples_8k: &[i16]);
}

impl Speaker {
    pub fn new(tts: Arc<Tts>) -> Speaker {
        Speaker {
            tts,
            reply: None,
            discarded_marks: Vec::new(),
            mark_counter: 0,
        }
    }

    /// Whether the agent is talking: synthesising, or audio not yet heard.
    pub fn is_speaking(&self) -> bool {
        self.reply.is_some()
    }

    /// Starts speaking `sentences`; a reply already in flight is extended.
    pub fn say(&mut self, sentences: Vec<String>) {
        let sentences: Vec<String> = sentences.iter().flat_map(|s| split_sentences(s)).collect();
        if sentences.is_empty() {
            return;
        }
        match &mut self.reply {
            Some(reply) if reply.stream.is_none() => {
                reply.stream = Some(self.tts.speak(sentences.clone()));
                reply.sentences = sentences;
            }
            Some(reply) => {
                // Rare (a prompt racing a reply): spoken after the current one.
                reply.backlog.extend(sentences);
            }
            None => {
                self.reply = Some(Reply {
                    stream: Some(self.tts.speak(sentences.clone())),
                    sentences,
                    marks: VecDeque::new(),
                    heard: Vec::new(),
                    started_sample: None,
                    interrupted: false,
                    backlog: Vec::new(),
                })
            }
        }
    }

    /// The next sentence's audio, for the call loop's `select!`. Pending
    /// forever when nothing is being synthesised.
    pub async fn next_audio(&mut self) -> Option<anyhow::Result<SpeechChunk>> {
        match self.reply.as_mut().and_then(|r| r.stream.as_mut()) {
            Some(stream) => stream.next().await,
            None => std::future::pending().await,
        }
    }

    /// Sends one sentence's audio followed by its mark.
    pub async fn send_sentence(
        &mut self,
        chunk: SpeechChunk,
        now_sample: u64,
        recording: &mut (dyn AgentAudioSink + Send),
        carrier: &mut dyn Carrier,
    ) -> anyhow::Result<()> {
        let Some(reply) = self.reply.as_mut() else {
            return Ok(());
        };
        let sentence = reply
            .sentences
            .get(chunk.index)
            .cloned()
            .unwrap_or_default();
        reply.started_sample.get_or_insert(now_sample);
        for frame in chunk.samples_8k.chunks(FRAME_SAMPLES) {
            let payload = mulaw::encode_frame(frame);
            carrier.send_audio(&payload).await?;
            recording.agent_audio(frame);
        }
        self.mark_counter += 1;
        let name = format!("s{}", self.mark_counter);
        carrier.send_mark(&name).await?;
        reply.marks.push_back(PendingMark { name, sentence });
        Ok(())
    }

    /// The synthesis stream ended (all sentences sent, or it failed).
    pub fn synthesis_done(&mut self) {
        if let Some(reply) = &mut self.reply {
            reply.stream = None;
            if !reply.backlog.is_empty() {
                reply.sentences = std::mem::take(&mut reply.backlog);
                reply.stream = Some(self.tts.speak(reply.sentences.clone()));
            }
        }
    }

    /// A mark came back: that sentence has been played. Returns the reply
    /// when it is now complete.
    pub fn on_mark(&mut self, name: &str, now_sample: u64) -> Option<SpokenReply> {
        if let Some(i) = self.discarded_marks.iter().position(|m| m == name) {
            self.discarded_marks.swap_remove(i);
            return None;
        }
        let reply = self.reply.as_mut()?;
        while let Some(mark) = reply.marks.pop_front() {
            let matched = mark.name == name;
            reply.heard.push(mark.sentence);
            if matched {
                break;
            }
        }
        self.take_if_finished(now_sample)
    }

    /// The caller started talking over the agent: drop unplayed audio and
    /// stop synthesis. Returns the cut-short reply.
    pub async fn barge_in(
        &mut self,
        now_sample: u64,
        carrier: &mut dyn Carrier,
    ) -> anyhow::Result<Option<SpokenReply>> {
        let Some(mut reply) = self.reply.take() else {
            return Ok(None);
        };
        carrier.clear().await?;
        if let Some(mut stream) = reply.stream.take() {
            stream.cancel();
        }
        self.discarded_marks
            .extend(reply.marks.drain(..).map(|m| m.name));
        reply.interrupted = true;
        Ok(Some(finish(reply, now_sample)))
    }

    /// The call is over: whatever was not confirmed heard is not counted.
    pub fn hang_up(&mut self, now_sample: u64) -> Option<SpokenReply> {
        let mut reply = self.reply.take()?;
        if let Some(mut stream) = reply.stream.take() {
            stream.cancel();
        }
        reply.interrupted = !reply.marks.is_empty();
        Some(finish(reply, now_sample))
    }

    fn take_if_finished(&mut self, now_sample: u64) -> Option<SpokenReply> {
        let done = self
            .reply
            .as_ref()
            .is_some_and(|r| r.stream.is_none() && r.marks.is_empty());
        if done {
            self.reply.take().map(|r| finish(r, now_sample))
        } else {
            None
        }
    }

    /// After `synthesis_done`, a reply whose marks are all back is complete.
    pub fn poll_finished(&mut self, now_sample: u64) -> Option<SpokenReply> {
        self.take_if_finished(now_sample)
    }
}

fn finish(reply: Reply, now_sample: u64) -> SpokenReply {
    SpokenReply {
        heard: reply.heard,
        interrupted: reply.interrupted,
        started_sample: reply.started_sample.unwrap_or(now_sample),
        ended_sample: now_sample,
    }
}
