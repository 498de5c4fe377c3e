//! Targets for what arrives from the carrier: Media Streams text frames
//! (alone and through [`TwilioCarrier`]), base64 µ-law payloads and the
//! µ-law codec, and the webhook form body with its signature and the TwiML
//! built from it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::FutureExt as _;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::driver::Features;
use crate::audio::mulaw;
use crate::call::carrier::{Carrier, CarrierEvent};
use crate::telephony::twilio::carrier::{TwilioCarrier, WireIn};
use crate::telephony::twilio::messages::{
    Inbound, MAX_MEDIA_PAYLOAD_BYTES, StreamError, Track, decode_payload, parse_inbound,
};
use crate::telephony::twilio::routes::form_params;
use crate::telephony::twilio::signature::SignatureValidator;
use crate::telephony::twilio::twiml::{DialSpec, connect_stream_twiml, dial_twiml};

/// Every string value anywhere in a JSON document.
fn json_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| json_strings(v, out)),
        _ => {}
    }
}

fn is_sid(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// One frame through `parse_inbound`: what parses is what the call may
/// rely on, and an error never repeats the frame's values.
fn check_frame(text: &str, f: &mut Features) -> Option<Inbound> {
    match parse_inbound(text) {
        Ok(message) => {
            match &message {
                Inbound::Connected { .. } => f.add("connected"),
                Inbound::Start(start) => {
                    assert!(is_sid(&start.stream_sid) && is_sid(&start.call_sid));
                    assert!(is_sid(&start.account_sid));
                    f.add(("start", start.tracks.len().min(3)));
                }
                Inbound::Media(frame) => {
                    let n = frame.payload_mulaw.len();
                    assert!(
                        (1..=MAX_MEDIA_PAYLOAD_BYTES).contains(&n),
                        "payload {n} bytes"
                    );
                    assert!(is_sid(&frame.stream_sid));
                    assert_eq!(
                        decode_payload(&BASE64.encode(&frame.payload_mulaw)).unwrap(),
                        frame.payload_mulaw
                    );
                    f.add(("media", n.min(200) / 20, frame.track == Track::Inbound));
                }
                Inbound::Dtmf { digit, .. } => {
                    assert!(digit.is_ascii_digit() || "*#ABCD".contains(*digit));
                    f.add("dtmf");
                }
                Inbound::Mark { .. } => f.add("mark"),
                Inbound::Stop { call_sid, .. } => {
                    assert!(is_sid(call_sid));
                    f.add("stop");
                }
            }
            Some(message)
        }
        Err(error) => {
            let shown = error.to_string();
            let kind = match &error {
                StreamError::MessageTooLarge { .. } => "too large".to_string(),
                StreamError::NotJson(_) => "not json".into(),
                StreamError::NotAnObject => "not an object".into(),
                StreamError::UnknownEvent(_) => "unknown event".into(),
                StreamError::MissingField { event, field } => format!("missing {event} {field}"),
                StreamError::InvalidField { event, field, .. } => {
                    format!("invalid {event} {field}")
                }
                StreamError::InvalidBase64(_) => "base64".into(),
                StreamError::PayloadSize { .. } => "payload size".into(),
            };
            f.add(kind);
            // The event name is echoed on purpose (cut to 32 characters);
            // nothing else the caller's side sent may appear in a log line.
            if !matches!(error, StreamError::UnknownEvent(_))
                && let Ok(value) = serde_json::from_str::<serde_json::Value>(text)
            {
                let mut strings = Vec::new();
                json_strings(&value, &mut strings);
                // Our own words may of course show ("inbound" in "expected
                // inbound or outbound").
                let ours = "expected inbound or outbound | not a non-negative integer | \
                    not a Twilio SID | out of range | not one of 0-9 * # A-D | \
                    expected struct RawMessage RawStart RawMedia RawMediaFormat RawDtmf \
                    RawMark RawStop | a string | a sequence | a map | u64 | u16 | \
                    a field has the wrong type";
                for s in strings
                    .iter()
                    .filter(|s| s.chars().count() >= 6 && !ours.contains(s.as_str()))
                {
                    assert!(
                        !shown.contains(s.as_str()),
                        "the error {shown:?} repeats a value of the frame"
                    );
                }
            }
            None
        }
    }
}

/// Media Streams frames, one per line: each through the parser, then all
/// of them in order through the Twilio carrier, which must turn them into
/// call events and only send once the stream has started.
pub fn media_stream(data: &[u8], f: &mut Features) {
    let text = String::from_utf8_lossy(data);
    // The whole input as one frame (large frames, embedded newlines).
    let _ = check_frame(&text, f);
    let lines: Vec<&str> = text.split('\n').take(64).collect();
    let mut parsed = Vec::new();
    for line in &lines {
        parsed.push(check_frame(line, f));
    }

    let frames: Vec<WireIn> = lines
        .iter()
        .map(|l| {
            if l.starts_with("BINARY") {
                WireIn::Binary(l.len())
            } else {
                WireIn::Text(l.to_string())
            }
        })
        .collect();
    let (tx, mut rx) = mpsc::channel::<String>(4 * frames.len() + 8);
    let mut carrier = TwilioCarrier::new(futures_util::stream::iter(frames), tx, None);
    let mut started = false;
    let mut events = 0;
    while let Some(event) = carrier
        .next_event()
        .now_or_never()
        .expect("a ready stream gives its events at once")
    {
        events += 1;
        assert!(events <= lines.len(), "more events than frames");
        f.add(("event", event.name()));
        match event {
            CarrierEvent::Started(s) => {
                assert_eq!(s.carrier, "twilio");
                assert!(is_sid(&s.stream_id) && is_sid(&s.carrier_call_id));
                started = true;
            }
            CarrierEvent::Audio(bytes) => {
                assert!((1..=MAX_MEDIA_PAYLOAD_BYTES).contains(&bytes.len()));
            }
            CarrierEvent::Dtmf(c) => assert!(c.is_ascii_digit() || "*#ABCD".contains(c)),
            CarrierEvent::Mark(_) | CarrierEvent::Stopped | CarrierEvent::Malformed(_) => {}
        }
        // The agent answers with a frame of audio and a mark, as a call does.
        let frame = [0xFFu8, 0x7F, 0x00];
        let sent = carrier
            .send_audio(&frame)
            .now_or_never()
            .expect("queue has room");
        assert_eq!(
            sent.is_ok(),
            started,
            "audio sent only once the stream started"
        );
        let marked = carrier
            .send_mark("turn-1")
            .now_or_never()
            .expect("queue has room");
        assert_eq!(marked.is_ok(), started);
        if started {
            let out = rx.try_recv().expect("the audio frame was queued");
            let json: serde_json::Value = serde_json::from_str(&out).expect("we send JSON");
            assert_eq!(json["event"], "media");
            let payload = json["media"]["payload"].as_str().expect("a payload");
            assert_eq!(decode_payload(payload).unwrap(), frame);
            let out = rx.try_recv().expect("the mark was queued");
            let json: serde_json::Value = serde_json::from_str(&out).expect("we send JSON");
            assert_eq!(json["mark"]["name"], "turn-1");
        }
    }
    assert_eq!(
        events,
        parsed
            .iter()
            .filter(|p| !matches!(p, Some(Inbound::Connected { .. })))
            .count(),
        "one event for every frame but `connected`"
    );
}

/// Base64 payloads and the µ-law codec: any text either decodes to a
/// payload of allowed size or is refused; any payload survives base64; any
/// µ-law survives a trip through PCM; any PCM comes back within µ-law's
/// step.
pub fn mulaw_payload(data: &[u8], f: &mut Features) {
    let text = String::from_utf8_lossy(data);
    match decode_payload(&text) {
        Ok(bytes) => {
            assert!((1..=MAX_MEDIA_PAYLOAD_BYTES).contains(&bytes.len()));
            assert_eq!(BASE64.decode(text.trim()).unwrap(), bytes);
            f.add(("decoded", bytes.len().min(64)));
        }
        Err(e) => f.add(("refused", std::mem::discriminant(&e))),
    }
    let encoded = BASE64.encode(data);
    match decode_payload(&encoded) {
        Ok(bytes) => assert_eq!(bytes, data),
        Err(StreamError::PayloadSize { .. }) => {
            assert!(data.is_empty() || data.len() > MAX_MEDIA_PAYLOAD_BYTES)
        }
        Err(e) => panic!("our own base64 refused: {e}"),
    }

    let pcm = mulaw::decode_frame(data);
    assert_eq!(pcm.len(), data.len());
    let back = mulaw::encode_frame(&pcm);
    for (code, again) in data.iter().zip(&back) {
        assert_eq!(
            mulaw::decode(*again),
            mulaw::decode(*code),
            "µ-law {code:#04x} → PCM → {again:#04x} changed the sample"
        );
    }
    let samples: Vec<i16> = data
        .chunks_exact(2)
        .map(|p| i16::from_le_bytes([p[0], p[1]]))
        .collect();
    let codes = mulaw::encode_frame(&samples);
    for (s, c) in samples.iter().zip(&codes) {
        assert_eq!(*c, mulaw::encode(*s));
        let err = (i32::from(mulaw::decode(*c)) - i32::from(*s)).abs();
        assert!(
            err <= i32::from(*s).abs() / 16 + 8,
            "{s} → {c:#04x} is off by {err}"
        );
    }
    f.add(("pcm", samples.len().min(8)));
}

/// XML 1.0 cannot carry these; the TwiML writer drops them.
fn xml_char(c: char) -> bool {
    ((c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r')) && c != '\u{FFFE}' && c != '\u{FFFF}'
}

/// The webhook: a form body, the signature over it, and the TwiML answer.
/// Input lines: auth token, URL, the request's signature, then the body.
pub fn webhook_form(data: &[u8], f: &mut Features) {
    let mut parts = data.splitn(4, |&b| b == b'\n');
    let token = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let url = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let given = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default();

    let params = form_params(body);
    f.add(("params", params.len().min(16)));
    let validator = match SignatureValidator::new(&token) {
        Ok(v) => v,
        Err(_) => {
            assert!(token.is_empty(), "only an empty token is refused");
            f.add("no token");
            SignatureValidator::new("12345").expect("a token")
        }
    };
    let signature = validator.sign(&url, &params);
    assert!(validator.validate(&url, &params, &signature));
    // Order and repeats do not change what is signed.
    let mut shuffled: Vec<(String, String)> = params.iter().rev().cloned().collect();
    if let Some(first) = params.first() {
        shuffled.push(first.clone());
    }
    assert_eq!(validator.sign(&url, &shuffled), signature);
    let accepted = validator.validate(&url, &params, &given);
    if accepted {
        // Only a real HMAC-SHA1 can pass: 20 bytes in base64.
        assert_eq!(
            BASE64.decode(given.as_bytes()).ok().map(|b| b.len()),
            Some(20)
        );
    }
    f.add(("given accepted", accepted));
    let _ = validator.validate_websocket(&url, &given);
    if !url.contains(['#', '\u{0}']) && !url.contains("bodySHA256") {
        let sep = if url.contains('?') { '&' } else { '?' };
        let signed_url = format!("{url}{sep}bodySHA256={}", hex::encode(Sha256::digest(body)));
        let json_signature = validator.sign(&signed_url, &[]);
        assert!(validator.validate_json_body(&signed_url, body, &json_signature));
        let mut other = body.to_vec();
        other.push(b'x');
        assert!(!validator.validate_json_body(&signed_url, &other, &json_signature));
    }

    // The voice webhook's answer carries From and To back as parameters.
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let from = get("From");
    let mut extra = Vec::new();
    if let Some(to) = get("To") {
        extra.push(("to", to));
    }
    let xml = connect_stream_twiml("https://frontdesk.example.org", from, &extra, &given)
        .expect("a valid public URL");
    let doc = roxmltree::Document::parse(&xml).expect("our TwiML is XML");
    let values: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("Parameter"))
        .filter_map(|n| n.attribute("value"))
        .collect();
    let expected: Vec<String> = from
        .into_iter()
        .chain(extra.iter().map(|(_, v)| *v))
        .map(|v| v.chars().filter(|c| xml_char(*c)).collect())
        .collect();
    assert_eq!(values, expected, "parameters come back as sent");
    // The fuzzed URL as the configured public URL: refused, or valid TwiML.
    match connect_stream_twiml(&url, from, &extra, "Goodbye.") {
        Ok(xml) => {
            roxmltree::Document::parse(&xml).expect("our TwiML is XML");
            f.add("url accepted");
        }
        Err(e) => f.add(("url refused", std::mem::discriminant(&e))),
    }
    let dial = dial_twiml(&DialSpec {
        number: from.unwrap_or(""),
        action_url: &url,
        ring_seconds: 20,
        fallback: &given,
    });
    roxmltree::Document::parse(&dial).expect("our dial TwiML is XML");
}
