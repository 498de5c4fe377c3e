//! Carriers. Only this module knows a carrier's wire format: its webhooks,
//! signatures, media stream messages and REST API.
//!
//! The call loop speaks to every carrier through one interface,
//! [`crate::call::carrier::Carrier`]: events in (stream started with the
//! call's facts, caller audio, marks echoed, keypad digits, stop, malformed
//! messages), agent audio, marks, clears, transfer and hang-up out. Each
//! carrier is a folder here that implements it and serves its own routes;
//! `twilio/` is the one there is. Adding a carrier means adding a folder
//! beside `twilio/` (and merging its router in `app.rs`), without touching
//! `call/`.

pub mod twilio;
