//! Twilio: voice webhook, Media Streams websocket (as a
//! [`crate::call::carrier::Carrier`]), X-Twilio-Signature, TwiML, and the
//! REST API for transfers.

pub mod carrier;
pub mod messages;
pub mod rest;
pub mod routes;
pub mod signature;
pub mod twiml;
