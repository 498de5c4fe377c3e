//! Carriers. Only this module knows a carrier's wire format.

pub mod twilio;
