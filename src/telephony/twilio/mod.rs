//! Twilio: voice webhook, Media Streams websocket, X-Twilio-Signature.

pub mod messages;
pub mod rest;
pub mod routes;
pub mod signature;
pub mod twiml;
