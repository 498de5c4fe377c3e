//! The seam between a call and the telephone carrier that carries it.
//!
//! The call loop knows nothing of a carrier's wire format, signatures or
//! REST API: it reads [`CarrierEvent`]s and asks for the few things a call
//! needs done through a [`Carrier`]. Audio crosses the seam as the loop
//! uses it: G.711 µ-law bytes at 8 kHz, one byte a sample (20 ms is 160
//! bytes), in both directions; a carrier with another codec converts in its
//! adapter. Each carrier's adapter implements [`Carrier`] (Twilio's is the
//! server's media stream websocket); the call never names one.

use futures_util::future::BoxFuture;

/// Facts about the call, known when the carrier's stream starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamStarted {
    /// Which carrier (stored as `calls.provider`), e.g. `"twilio"`.
    pub carrier: &'static str,
    /// The carrier's id of the call (Twilio's CallSid): logged, stored as
    /// `calls.provider_call_id`.
    pub carrier_call_id: String,
    /// The carrier's id of this media stream (Twilio's stream SID).
    pub stream_id: String,
    /// The caller's number, if the carrier reported it.
    pub from: Option<String>,
    /// The number the caller dialled, if the carrier reported it.
    pub to: Option<String>,
}

/// What the carrier tells the call, in the order it happened. When the
/// events end (`next_event` gives `None`) without [`CarrierEvent::Stopped`],
/// the connection dropped.
#[derive(Debug)]
pub enum CarrierEvent {
    /// The stream started: the call can begin.
    Started(StreamStarted),
    /// Caller audio: µ-law bytes at 8 kHz, normally one 20 ms frame.
    Audio(Vec<u8>),
    /// A mark sent with [`Carrier::send_mark`] came back: the caller has
    /// heard the audio sent before it.
    Mark(String),
    /// A keypad digit (`0-9`, `*`, `#`, `A-D`).
    Dtmf(char),
    /// The carrier ended the stream (the caller hung up).
    Stopped,
    /// A message that could not be read; the call counts it and goes on.
    /// The error names what was wrong, never the message's content.
    Malformed(anyhow::Error),
}

impl CarrierEvent {
    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            CarrierEvent::Started(_) => "start",
            CarrierEvent::Audio(_) => "media",
            CarrierEvent::Mark(_) => "mark",
            CarrierEvent::Dtmf(_) => "dtmf",
            CarrierEvent::Stopped => "stop",
            CarrierEvent::Malformed(_) => "malformed",
        }
    }
}

/// One call's connection to its carrier: events in, agent audio and call
/// control out. A send fails only when it cannot reach the caller (the
/// connection is gone, or the stream has not started).
pub trait Carrier: Send {
    /// The next event; `None` once the connection has closed. Must be
    /// cancel-safe: the loop drops it when something else happens first.
    fn next_event(&mut self) -> BoxFuture<'_, Option<CarrierEvent>>;

    /// Queues agent audio (µ-law bytes at 8 kHz, one 20 ms frame) to be
    /// played after what is already queued.
    fn send_audio<'a>(&'a mut self, frame_mulaw: &'a [u8]) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Queues a mark after the audio sent so far; the carrier echoes it as
    /// [`CarrierEvent::Mark`] once that audio has played.
    fn send_mark<'a>(&'a mut self, name: &'a str) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Drops every queued, unplayed piece of agent audio (barge-in). Marks
    /// queued before it may still come back.
    fn clear(&mut self) -> BoxFuture<'_, anyhow::Result<()>>;

    /// Hands the call to staff at `number`, through the carrier's own API:
    /// ringing them, and telling the caller if nobody answers. `Ok` once
    /// the carrier has taken the call (the stream then ends; the loop lets
    /// go of the line). An error (refused, no credentials, unreachable)
    /// leaves the caller on the stream, so the call can tell them.
    fn transfer<'a>(&'a mut self, number: &'a str) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Lets go of the line: the connection closes, which ends the call
    /// unless a transfer took it. Nothing can be sent afterwards.
    fn hang_up(&mut self);
}
