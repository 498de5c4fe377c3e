//! Signing requests the way Twilio does (`X-Twilio-Signature`), so the
//! caller can talk to a server that has `TWILIO_AUTH_TOKEN` set.
//!
//! This is the signing half only; validation belongs to `telephony::twilio`.
//! Kept private to the caller so the two sides are written independently.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// The header name Twilio puts the signature in.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// base64(HMAC-SHA1(auth_token, url + every `name + value`, sorted by name
/// then value, duplicates removed)).
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC key of any length");
    mac.update(url.as_bytes());
    for (name, value) in pairs {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    BASE64.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_twilio_reference_vectors() {
        let Some(path) = crate::prerequisites::corpus_file("vectors/twilio_signature_vectors.json")
        else {
            return;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut checked = 0;
        for v in doc["vectors"].as_array().unwrap() {
            let mut params = Vec::new();
            for (name, value) in v["params"].as_object().unwrap() {
                match value {
                    serde_json::Value::Array(values) => {
                        for one in values {
                            params.push((name.clone(), one.as_str().unwrap().to_string()));
                        }
                    }
                    one => params.push((name.clone(), one.as_str().unwrap().to_string())),
                }
            }
            let got = twilio_signature(
                v["auth_token"].as_str().unwrap(),
                v["url"].as_str().unwrap(),
                &params,
            );
            assert_eq!(got, v["expected"].as_str().unwrap(), "vector {}", v["name"]);
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} vectors");
    }
}
