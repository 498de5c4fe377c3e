//! Twilio Media Streams wire format: the JSON text frames Twilio sends us
//! (`connected`, `start`, `media`, `dtmf`, `mark`, `stop`) and the ones we
//! send back (`media`, `mark`, `clear`).
//!
//! Parsing is strict about what we rely on (stream and call ids, payload
//! size) and lenient about what Twilio is inconsistent about: numbers arrive
//! as strings but are accepted as JSON numbers too, and unknown extra fields
//! are ignored. Errors never echo the payload, only field names.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

/// Largest µ-law payload accepted in one `media` frame: 4 s at 8 kHz. Twilio
/// sends 20 ms (160 bytes); anything near this cap is already suspicious.
pub const MAX_MEDIA_PAYLOAD_BYTES: usize = 32_000;

/// Largest text frame parsed at all, so an absurd frame is rejected before
/// JSON parsing or base64 decoding allocates for it.
pub const MAX_MESSAGE_BYTES: usize = MAX_MEDIA_PAYLOAD_BYTES / 3 * 4 + 4_096;

/// Why an inbound text frame could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("message of {bytes} bytes exceeds the {max_bytes}-byte limit")]
    MessageTooLarge { bytes: usize, max_bytes: usize },
    #[error("message is not valid JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("message is JSON but not an object")]
    NotAnObject,
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    #[error("{event} message is missing field `{field}`")]
    MissingField {
        event: &'static str,
        field: &'static str,
    },
    #[error("{event} message has an invalid `{field}`: {reason}")]
    InvalidField {
        event: &'static str,
        field: &'static str,
        reason: String,
    },
    #[error("media payload is not valid base64: {0}")]
    InvalidBase64(#[source] base64::DecodeError),
    #[error("media payload of {bytes} bytes is outside 1..={max_bytes}")]
    PayloadSize { bytes: usize, max_bytes: usize },
}

/// Which side of the call a media or DTMF frame belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Track {
    /// The caller (what Twilio hears from the phone).
    Inbound,
    /// What we (or the far end) play to the caller.
    Outbound,
}

/// The audio encoding announced in `start.mediaFormat`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaFormat {
    /// `audio/x-mulaw` for every Twilio stream today.
    pub encoding: String,
    pub sample_rate_hz: u32,
    pub channels: u16,
}

/// The `start` message: ids of the stream and call, and our `<Parameter>`s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamStart {
    pub sequence_number: Option<u64>,
    pub stream_sid: String,
    pub account_sid: String,
    pub call_sid: String,
    pub tracks: Vec<Track>,
    /// `<Parameter name=… value=…>` values from the TwiML, returned verbatim.
    pub custom_parameters: BTreeMap<String, String>,
    pub media_format: MediaFormat,
}

/// One `media` frame, its payload already decoded from base64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaFrame {
    pub sequence_number: Option<u64>,
    pub stream_sid: String,
    pub track: Track,
    /// Twilio's per-track frame counter, from 1.
    pub chunk: u64,
    /// Milliseconds since the stream started, by Twilio's clock.
    pub timestamp_ms: u64,
    /// G.711 µ-law bytes, one per sample at 8 kHz; duration is `len() / 8` ms.
    pub payload_mulaw: Vec<u8>,
}

/// Every message Twilio sends on a Media Streams websocket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    Connected {
        protocol: String,
        version: String,
    },
    Start(StreamStart),
    Media(MediaFrame),
    Dtmf {
        sequence_number: Option<u64>,
        stream_sid: String,
        track: Track,
        digit: char,
    },
    /// Echo of a mark we sent: the audio before it has finished playing.
    Mark {
        sequence_number: Option<u64>,
        stream_sid: String,
        name: String,
    },
    Stop {
        sequence_number: Option<u64>,
        stream_sid: String,
        account_sid: String,
        call_sid: String,
    },
}

/// A JSON value Twilio sends as a string but that means a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    Number(serde_json::Number),
    String(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    event: Option<String>,
    sequence_number: Option<NumberOrString>,
    stream_sid: Option<String>,
    protocol: Option<String>,
    version: Option<String>,
    start: Option<RawStart>,
    media: Option<RawMedia>,
    dtmf: Option<RawDtmf>,
    mark: Option<RawMark>,
    stop: Option<RawStop>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStart {
    stream_sid: Option<String>,
    account_sid: Option<String>,
    call_sid: Option<String>,
    tracks: Option<Vec<String>>,
    #[serde(default)]
    custom_parameters: BTreeMap<String, serde_json::Value>,
    media_format: Option<RawMediaFormat>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMediaFormat {
    encoding: Option<String>,
    sample_rate: Option<NumberOrString>,
    channels: Option<NumberOrString>,
}

#[derive(Deserialize)]
struct RawMedia {
    track: Option<String>,
    chunk: Option<NumberOrString>,
    timestamp: Option<NumberOrString>,
    payload: Option<String>,
}

#[derive(Deserialize)]
struct RawDtmf {
    track: Option<String>,
    digit: Option<String>,
}

#[derive(Deserialize)]
struct RawMark {
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStop {
    account_sid: Option<String>,
    call_sid: Option<String>,
}

fn required<T>(
    value: Option<T>,
    event: &'static str,
    field: &'static str,
) -> Result<T, StreamError> {
    value.ok_or(StreamError::MissingField { event, field })
}

fn invalid(event: &'static str, field: &'static str, reason: impl Into<String>) -> StreamError {
    StreamError::InvalidField {
        event,
        field,
        reason: reason.into(),
    }
}

fn parse_u64(
    value: Option<NumberOrString>,
    event: &'static str,
    field: &'static str,
) -> Result<Option<u64>, StreamError> {
    let Some(value) = value else { return Ok(None) };
    let parsed = match &value {
        NumberOrString::Number(n) => n.as_u64(),
        NumberOrString::String(s) => s.trim().parse::<u64>().ok(),
    };
    parsed
        .map(Some)
        .ok_or_else(|| invalid(event, field, "not a non-negative integer"))
}

fn parse_track(
    value: &str,
    event: &'static str,
    field: &'static str,
) -> Result<Track, StreamError> {
    match value {
        "inbound" | "inbound_track" => Ok(Track::Inbound),
        "outbound" | "outbound_track" => Ok(Track::Outbound),
        _ => Err(invalid(event, field, "expected inbound or outbound")),
    }
}

/// Rejects empty ids and ids too long to be a Twilio SID, so they are safe to log.
fn parse_sid(
    value: Option<String>,
    event: &'static str,
    field: &'static str,
) -> Result<String, StreamError> {
    let sid = required(value, event, field)?;
    if sid.is_empty() || sid.len() > 64 || !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid(event, field, "not a Twilio SID"));
    }
    Ok(sid)
}

/// Decodes a base64 µ-law payload, checking its size before allocating.
pub fn decode_payload(payload_base64: &str) -> Result<Vec<u8>, StreamError> {
    let estimated_bytes = payload_base64.len() / 4 * 3;
    if estimated_bytes > MAX_MEDIA_PAYLOAD_BYTES + 3 {
        return Err(StreamError::PayloadSize {
            bytes: estimated_bytes,
            max_bytes: MAX_MEDIA_PAYLOAD_BYTES,
        });
    }
    let bytes = BASE64
        .decode(payload_base64.trim())
        .map_err(StreamError::InvalidBase64)?;
    if bytes.is_empty() || bytes.len() > MAX_MEDIA_PAYLOAD_BYTES {
        return Err(StreamError::PayloadSize {
            bytes: bytes.len(),
            max_bytes: MAX_MEDIA_PAYLOAD_BYTES,
        });
    }
    Ok(bytes)
}

/// What serde says of a field of the wrong type, without the value: its
/// message quotes it ("invalid type: string \"…\", expected …"), and an
/// error may be logged. Found by the `media_stream` fuzz target.
fn type_error_reason(error: &serde_json::Error) -> String {
    match error.to_string().rsplit_once(", expected ") {
        Some((_, expected)) => format!("expected {expected}"),
        None => "a field has the wrong type".to_string(),
    }
}

/// Parses one text frame from Twilio's Media Streams websocket.
pub fn parse_inbound(text: &str) -> Result<Inbound, StreamError> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(StreamError::MessageTooLarge {
            bytes: text.len(),
            max_bytes: MAX_MESSAGE_BYTES,
        });
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(StreamError::NotJson)?;
    if !value.is_object() {
        return Err(StreamError::NotAnObject);
    }
    // Field types that do not match (a number where an object belongs) are
    // reported against the message as a whole; Twilio never sends those.
    let raw: RawMessage = serde_json::from_value(value)
        .map_err(|e| invalid("message", "structure", type_error_reason(&e)))?;
    let event = required(raw.event, "message", "event")?;
    let sequence_number = parse_u64(raw.sequence_number, "message", "sequenceNumber")?;
    match event.as_str() {
        "connected" => Ok(Inbound::Connected {
            protocol: raw.protocol.unwrap_or_default(),
            version: raw.version.unwrap_or_default(),
        }),
        "start" => {
            const EV: &str = "start";
            let start = required(raw.start, EV, "start")?;
            let stream_sid = parse_sid(start.stream_sid.or(raw.stream_sid), EV, "start.streamSid")?;
            let account_sid = parse_sid(start.account_sid, EV, "start.accountSid")?;
            let call_sid = parse_sid(start.call_sid, EV, "start.callSid")?;
            let tracks = start
                .tracks
                .unwrap_or_else(|| vec!["inbound".to_string()])
                .iter()
                .map(|t| parse_track(t, EV, "start.tracks"))
                .collect::<Result<Vec<_>, _>>()?;
            let custom_parameters = start
                .custom_parameters
                .into_iter()
                .map(|(name, value)| match value {
                    serde_json::Value::String(s) => (name, s),
                    other => (name, other.to_string()),
                })
                .collect();
            let format = required(start.media_format, EV, "start.mediaFormat")?;
            let media_format = MediaFormat {
                encoding: required(format.encoding, EV, "start.mediaFormat.encoding")?,
                sample_rate_hz: parse_u64(format.sample_rate, EV, "start.mediaFormat.sampleRate")?
                    .ok_or(StreamError::MissingField {
                        event: EV,
                        field: "start.mediaFormat.sampleRate",
                    })
                    .and_then(|hz| {
                        u32::try_from(hz).map_err(|_| {
                            invalid(EV, "start.mediaFormat.sampleRate", "out of range")
                        })
                    })?,
                channels: parse_u64(format.channels, EV, "start.mediaFormat.channels")?
                    .unwrap_or(1)
                    .try_into()
                    .map_err(|_| invalid(EV, "start.mediaFormat.channels", "out of range"))?,
            };
            Ok(Inbound::Start(StreamStart {
                sequence_number,
                stream_sid,
                account_sid,
                call_sid,
                tracks,
                custom_parameters,
                media_format,
            }))
        }
        "media" => {
            const EV: &str = "media";
            let stream_sid = parse_sid(raw.stream_sid, EV, "streamSid")?;
            let media = required(raw.media, EV, "media")?;
            // Twilio omits the track on single-track streams in some versions.
            let track = match media.track {
                Some(t) => parse_track(&t, EV, "media.track")?,
                None => Track::Inbound,
            };
            let chunk = parse_u64(media.chunk, EV, "media.chunk")?.unwrap_or(0);
            let timestamp_ms = required(
                parse_u64(media.timestamp, EV, "media.timestamp")?,
                EV,
                "media.timestamp",
            )?;
            let payload = required(media.payload, EV, "media.payload")?;
            let payload_mulaw = decode_payload(&payload)?;
            Ok(Inbound::Media(MediaFrame {
                sequence_number,
                stream_sid,
                track,
                chunk,
                timestamp_ms,
                payload_mulaw,
            }))
        }
        "dtmf" => {
            const EV: &str = "dtmf";
            let stream_sid = parse_sid(raw.stream_sid, EV, "streamSid")?;
            let dtmf = required(raw.dtmf, EV, "dtmf")?;
            let track = match dtmf.track {
                Some(t) => parse_track(&t, EV, "dtmf.track")?,
                None => Track::Inbound,
            };
            let digit_text = required(dtmf.digit, EV, "dtmf.digit")?;
            let mut chars = digit_text.chars();
            let digit = match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D') => c,
                _ => return Err(invalid(EV, "dtmf.digit", "not one of 0-9 * # A-D")),
            };
            Ok(Inbound::Dtmf {
                sequence_number,
                stream_sid,
                track,
                digit,
            })
        }
        "mark" => {
            const EV: &str = "mark";
            let stream_sid = parse_sid(raw.stream_sid, EV, "streamSid")?;
            let mark = required(raw.mark, EV, "mark")?;
            let name = required(mark.name, EV, "mark.name")?;
            Ok(Inbound::Mark {
                sequence_number,
                stream_sid,
                name,
            })
        }
        "stop" => {
            const EV: &str = "stop";
            let stream_sid = parse_sid(raw.stream_sid, EV, "streamSid")?;
            let stop = required(raw.stop, EV, "stop")?;
            let account_sid = parse_sid(stop.account_sid, EV, "stop.accountSid")?;
            let call_sid = parse_sid(stop.call_sid, EV, "stop.callSid")?;
            Ok(Inbound::Stop {
                sequence_number,
                stream_sid,
                account_sid,
                call_sid,
            })
        }
        other => {
            // The name is caller-controlled: keep at most a short prefix.
            Err(StreamError::UnknownEvent(other.chars().take(32).collect()))
        }
    }
}

/// A message we send to Twilio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outbound {
    /// Audio to play: raw µ-law 8 kHz bytes, no header.
    Media {
        stream_sid: String,
        payload_mulaw: Vec<u8>,
    },
    /// Asks Twilio to echo `name` once the audio before it has played.
    Mark { stream_sid: String, name: String },
    /// Drops all buffered, unplayed audio (barge-in).
    Clear { stream_sid: String },
}

#[derive(Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
enum WireOutbound<'a> {
    Media {
        #[serde(rename = "streamSid")]
        stream_sid: &'a str,
        media: WirePayload,
    },
    Mark {
        #[serde(rename = "streamSid")]
        stream_sid: &'a str,
        mark: WireMark<'a>,
    },
    Clear {
        #[serde(rename = "streamSid")]
        stream_sid: &'a str,
    },
}

#[derive(Serialize)]
struct WirePayload {
    payload: String,
}

#[derive(Serialize)]
struct WireMark<'a> {
    name: &'a str,
}

impl Outbound {
    /// The JSON text frame, exactly as Twilio expects it.
    pub fn to_json(&self) -> String {
        let wire = match self {
            Outbound::Media {
                stream_sid,
                payload_mulaw,
            } => WireOutbound::Media {
                stream_sid,
                media: WirePayload {
                    payload: BASE64.encode(payload_mulaw),
                },
            },
            Outbound::Mark { stream_sid, name } => WireOutbound::Mark {
                stream_sid,
                mark: WireMark { name },
            },
            Outbound::Clear { stream_sid } => WireOutbound::Clear { stream_sid },
        };
        // Serialising these plain string structs cannot fail.
        serde_json::to_string(&wire).unwrap_or_default()
    }
}

/// `{"event":"media","streamSid":…,"media":{"payload":…}}` for µ-law bytes.
pub fn media_message(stream_sid: &str, payload_mulaw: &[u8]) -> String {
    Outbound::Media {
        stream_sid: stream_sid.to_string(),
        payload_mulaw: payload_mulaw.to_vec(),
    }
    .to_json()
}

/// `{"event":"mark","streamSid":…,"mark":{"name":…}}`.
pub fn mark_message(stream_sid: &str, name: &str) -> String {
    Outbound::Mark {
        stream_sid: stream_sid.to_string(),
        name: name.to_string(),
    }
    .to_json()
}

/// `{"event":"clear","streamSid":…}`.
pub fn clear_message(stream_sid: &str) -> String {
    Outbound::Clear {
        stream_sid: stream_sid.to_string(),
    }
    .to_json()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn corpus_dir() -> Option<PathBuf> {
        crate::prerequisites::corpus_dir()
    }

    const SID_MZ: &str = "MZ00000000000000000000000000000000";

    #[test]
    fn every_line_of_the_recorded_stream_parses() {
        let Some(dir) = corpus_dir() else { return };
        let text =
            std::fs::read_to_string(dir.join("derived/jfk_twilio_inbound_stream.jsonl")).unwrap();
        let mut counts = BTreeMap::<&str, usize>::new();
        let mut media_bytes = Vec::new();
        let mut last_timestamp_ms = None;
        for (line_no, line) in text.lines().enumerate() {
            let message =
                parse_inbound(line).unwrap_or_else(|e| panic!("line {}: {e}", line_no + 1));
            let kind = match &message {
                Inbound::Connected { protocol, .. } => {
                    assert_eq!(protocol, "Call");
                    "connected"
                }
                Inbound::Start(start) => {
                    assert_eq!(start.stream_sid, SID_MZ);
                    assert!(start.call_sid.starts_with("CA"));
                    assert_eq!(start.tracks, vec![Track::Inbound]);
                    assert_eq!(
                        start.custom_parameters.get("clinicId").map(String::as_str),
                        Some("demo")
                    );
                    assert_eq!(start.media_format.encoding, "audio/x-mulaw");
                    assert_eq!(start.media_format.sample_rate_hz, 8000);
                    assert_eq!(start.media_format.channels, 1);
                    "start"
                }
                Inbound::Media(frame) => {
                    assert_eq!(frame.track, Track::Inbound);
                    media_bytes.push(frame.payload_mulaw.len());
                    if let Some(prev) = last_timestamp_ms {
                        assert_eq!(frame.timestamp_ms, prev + 20, "timestamps advance by 20 ms");
                    }
                    last_timestamp_ms = Some(frame.timestamp_ms);
                    "media"
                }
                Inbound::Stop { call_sid, .. } => {
                    assert!(call_sid.starts_with("CA"));
                    "stop"
                }
                Inbound::Dtmf { .. } => "dtmf",
                Inbound::Mark { .. } => "mark",
            };
            *counts.entry(kind).or_default() += 1;
        }
        assert_eq!(counts.get("connected"), Some(&1));
        assert_eq!(counts.get("start"), Some(&1));
        assert_eq!(counts.get("stop"), Some(&1));
        assert_eq!(media_bytes.len(), 550);
        assert!(
            media_bytes.iter().all(|&n| n == 160),
            "every frame is 20 ms"
        );
    }

    #[test]
    fn media_payload_decodes_to_the_ulaw_file() {
        let Some(dir) = corpus_dir() else { return };
        let text =
            std::fs::read_to_string(dir.join("derived/jfk_twilio_inbound_stream.jsonl")).unwrap();
        let mut all = Vec::new();
        for line in text.lines() {
            if let Inbound::Media(frame) = parse_inbound(line).unwrap() {
                all.extend_from_slice(&frame.payload_mulaw);
            }
        }
        let reference = std::fs::read(dir.join("derived/jfk_8k.ulaw")).unwrap();
        let n = reference.len().min(all.len());
        assert!(n > 80_000);
        assert_eq!(all[..n], reference[..n]);
    }

    #[test]
    fn dtmf_mark_and_numbers_as_numbers() {
        let dtmf = parse_inbound(&format!(
            r#"{{"event":"dtmf","streamSid":"{SID_MZ}","sequenceNumber":"5","dtmf":{{"track":"inbound_track","digit":"5"}}}}"#
        ))
        .unwrap();
        assert_eq!(
            dtmf,
            Inbound::Dtmf {
                sequence_number: Some(5),
                stream_sid: SID_MZ.into(),
                track: Track::Inbound,
                digit: '5'
            }
        );
        let mark = parse_inbound(&format!(
            r#"{{"event":"mark","sequenceNumber":4,"streamSid":"{SID_MZ}","mark":{{"name":"turn-3"}}}}"#
        ))
        .unwrap();
        assert_eq!(
            mark,
            Inbound::Mark {
                sequence_number: Some(4),
                stream_sid: SID_MZ.into(),
                name: "turn-3".into()
            }
        );
        let media = parse_inbound(&format!(
            r#"{{"event":"media","streamSid":"{SID_MZ}","media":{{"track":"inbound","chunk":7,"timestamp":140,"payload":"/38A"}}}}"#
        ))
        .unwrap();
        let Inbound::Media(frame) = media else {
            panic!("not media")
        };
        assert_eq!((frame.chunk, frame.timestamp_ms), (7, 140));
        assert_eq!(frame.payload_mulaw, vec![0xFF, 0x7F, 0x00]);
    }

    #[test]
    fn malformed_messages_get_precise_errors() {
        let media = |payload: &str| {
            format!(
                r#"{{"event":"media","streamSid":"{SID_MZ}","media":{{"track":"inbound","chunk":"1","timestamp":"0","payload":"{payload}"}}}}"#
            )
        };
        assert!(matches!(
            parse_inbound("not json"),
            Err(StreamError::NotJson(_))
        ));
        assert!(matches!(parse_inbound(""), Err(StreamError::NotJson(_))));
        assert!(matches!(
            parse_inbound("[1,2]"),
            Err(StreamError::NotAnObject)
        ));
        assert!(
            matches!(parse_inbound(r#"{"event":"dance"}"#), Err(StreamError::UnknownEvent(e)) if e == "dance")
        );
        assert!(matches!(
            parse_inbound(r#"{"protocol":"Call"}"#),
            Err(StreamError::MissingField { field: "event", .. })
        ));
        assert!(matches!(
            parse_inbound(r#"{"event":"media","streamSid":"MZ1"}"#),
            Err(StreamError::MissingField {
                event: "media",
                field: "media"
            })
        ));
        assert!(matches!(
            parse_inbound(r#"{"event":"media","media":{"payload":"AAAA","timestamp":"0"}}"#),
            Err(StreamError::MissingField {
                event: "media",
                field: "streamSid"
            })
        ));
        assert!(matches!(
            parse_inbound(r#"{"event":"stop","streamSid":"MZ1","stop":{"accountSid":"AC1"}}"#),
            Err(StreamError::MissingField {
                field: "stop.callSid",
                ..
            })
        ));
        assert!(matches!(
            parse_inbound(&media("%%%%")),
            Err(StreamError::InvalidBase64(_))
        ));
        assert!(matches!(
            parse_inbound(&media("")),
            Err(StreamError::PayloadSize { bytes: 0, .. })
        ));
        let big = BASE64.encode(vec![0xFFu8; MAX_MEDIA_PAYLOAD_BYTES + 3]);
        assert!(matches!(
            parse_inbound(&media(&big)),
            Err(StreamError::PayloadSize { .. })
        ));
        let at_cap = BASE64.encode(vec![0xFFu8; MAX_MEDIA_PAYLOAD_BYTES]);
        assert!(
            parse_inbound(&media(&at_cap)).is_ok(),
            "4 s is still accepted"
        );
        let huge = "x".repeat(MAX_MESSAGE_BYTES + 1);
        assert!(matches!(
            parse_inbound(&huge),
            Err(StreamError::MessageTooLarge { .. })
        ));
        assert!(matches!(
            parse_inbound(&media("AAAA").replace(r#""chunk":"1""#, r#""chunk":"-3""#)),
            Err(StreamError::InvalidField {
                field: "media.chunk",
                ..
            })
        ));
        assert!(matches!(
            parse_inbound(&media("AAAA").replace("inbound", "sideways")),
            Err(StreamError::InvalidField {
                field: "media.track",
                ..
            })
        ));
        assert!(matches!(
            parse_inbound(&media("AAAA").replace(SID_MZ, "MZ\\n<script>")),
            Err(StreamError::InvalidField {
                field: "streamSid",
                ..
            })
        ));
        assert!(matches!(
            parse_inbound(&format!(
                r#"{{"event":"dtmf","streamSid":"{SID_MZ}","dtmf":{{"digit":"55"}}}}"#
            )),
            Err(StreamError::InvalidField {
                field: "dtmf.digit",
                ..
            })
        ));
        assert!(matches!(
            parse_inbound(r#"{"event":"media","streamSid":"MZ1","media":"oops"}"#),
            Err(StreamError::InvalidField { .. })
        ));
    }

    /// Found by the `media_stream` fuzz target: the error for a field of
    /// the wrong type repeated the field's value.
    #[test]
    fn a_wrongly_typed_field_is_not_repeated_in_the_error() {
        let frame =
            r#"{"event":"media","streamSid":"MZ1","media":"a string where an object belongs"}"#;
        let error = parse_inbound(frame).unwrap_err();
        let shown = error.to_string();
        assert!(
            matches!(
                error,
                StreamError::InvalidField {
                    field: "structure",
                    ..
                }
            ),
            "{shown}"
        );
        assert!(!shown.contains("a string where"), "{shown}");
        assert!(shown.contains("expected struct RawMedia"), "{shown}");
        let frame =
            r#"{"event":"stop","streamSid":"MZ1","stop":{"callSid":["555-123-4567, expected x"]}}"#;
        let shown = parse_inbound(frame).unwrap_err().to_string();
        assert!(!shown.contains("555"), "{shown}");
    }

    #[test]
    fn unknown_event_names_are_truncated() {
        let name = "a".repeat(500);
        let Err(StreamError::UnknownEvent(kept)) =
            parse_inbound(&format!(r#"{{"event":"{name}"}}"#))
        else {
            panic!("expected UnknownEvent")
        };
        assert_eq!(kept.len(), 32);
    }

    #[test]
    fn outbound_messages_serialise_exactly() {
        assert_eq!(
            media_message("MZ1", &[0xFF, 0x7F, 0x00]),
            r#"{"event":"media","streamSid":"MZ1","media":{"payload":"/38A"}}"#
        );
        assert_eq!(
            mark_message("MZ1", "turn-1"),
            r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"turn-1"}}"#
        );
        assert_eq!(
            clear_message("MZ1"),
            r#"{"event":"clear","streamSid":"MZ1"}"#
        );
        assert_eq!(
            mark_message("MZ1", "quote\"back\\slash"),
            r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"quote\"back\\slash"}}"#
        );
    }

    #[test]
    fn our_media_message_round_trips_through_the_parser_shape() {
        // Twilio echoes nothing for media, but our payload must be the same
        // base64 Twilio would decode: check by decoding it ourselves.
        let audio: Vec<u8> = (0..=255u8).collect();
        let json: serde_json::Value = serde_json::from_str(&media_message(SID_MZ, &audio)).unwrap();
        let payload = json["media"]["payload"].as_str().unwrap();
        assert_eq!(decode_payload(payload).unwrap(), audio);
    }
}
