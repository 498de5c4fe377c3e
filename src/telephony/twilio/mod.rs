//! Twilio: voice webhook, Media Streams websocket, X-Twilio-Signature.

pub mod messages;
pub mod signature;
pub mod twiml;
