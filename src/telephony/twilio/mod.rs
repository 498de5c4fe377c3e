//! Twilio: voice webhook, Media Streams websocket, X-Twilio-Signature.
