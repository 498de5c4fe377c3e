//! Twilio: voice webhook, Media Streams websocket (as a
//! [`crate::call::carrier::Carrier`]), X-Twilio-Signature, TwiML, the
//! REST API for transfers, and the end of a transfer's dial (`transfer`).

pub mod carrier;
pub mod messages;
pub mod rest;
pub mod routes;
pub mod signature;
pub mod transfer;
pub mod twiml;
