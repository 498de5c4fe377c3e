//! X-Twilio-Signature validation: base64(HMAC-SHA1(auth token, URL + sorted
//! params)), compared in constant time.
//!
//! Twilio is not consistent about default ports, so every check also tries
//! the URL with the default port added or removed. Callers must rebuild the
//! URL from the configured public URL, never from the Host header, or an
//! attacker chooses what is signed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha1 = hmac::Hmac<Sha1>;

/// The header Twilio signs every webhook and websocket upgrade with.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// An empty key is public knowledge: anyone could sign with it.
    #[error("the Twilio auth token is empty")]
    EmptyAuthToken,
}

/// Checks Twilio request signatures with one account's auth token.
#[derive(Clone)]
pub struct SignatureValidator {
    auth_token: Vec<u8>,
}

impl std::fmt::Debug for SignatureValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureValidator")
            .field("auth_token", &"<redacted>")
            .finish()
    }
}

impl SignatureValidator {
    pub fn new(auth_token: impl AsRef<str>) -> Result<SignatureValidator, SignatureError> {
        let auth_token = auth_token.as_ref();
        if auth_token.is_empty() {
            return Err(SignatureError::EmptyAuthToken);
        }
        Ok(SignatureValidator {
            auth_token: auth_token.as_bytes().to_vec(),
        })
    }

    /// The signature Twilio would send for `url` and form `params`. Used to
    /// validate, and by tests and the call simulator to sign requests.
    pub fn sign(&self, url: &str, params: &[(String, String)]) -> String {
        let mut sorted: Vec<(&str, &str)> = params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        sorted.sort_unstable();
        sorted.dedup();
        // `new_from_slice` accepts keys of any length for HMAC.
        let mut mac =
            HmacSha1::new_from_slice(&self.auth_token).expect("HMAC takes keys of any length");
        mac.update(url.as_bytes());
        for (name, value) in sorted {
            mac.update(name.as_bytes());
            mac.update(value.as_bytes());
        }
        BASE64.encode(mac.finalize().into_bytes())
    }

    /// A form-encoded webhook: `url` as Twilio requested it (with query),
    /// `params` the decoded POST body (repeated names allowed).
    pub fn validate(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        let mut valid = false;
        for candidate in port_variants(url) {
            // No early exit: every candidate costs the same.
            valid |= constant_time_eq(&self.sign(&candidate, params), signature);
        }
        valid
    }

    /// A JSON webhook: Twilio puts `bodySHA256=<hex>` in the URL's query and
    /// signs the URL alone. Both the hash and the signature must match.
    pub fn validate_json_body(&self, url: &str, body: &[u8], signature: &str) -> bool {
        let Some(claimed_hex) = query_param(url, "bodySHA256") else {
            return false;
        };
        let actual_hex = hex::encode(Sha256::digest(body));
        let body_matches = constant_time_eq(&actual_hex, &claimed_hex.to_ascii_lowercase());
        let signature_matches = self.validate(url, &[], signature);
        body_matches & signature_matches
    }

    /// The websocket upgrade: signed over the exact `wss://…` URL with no
    /// params. A TLS-terminating proxy may show it to us as `https://`, so an
    /// `https`/`http` URL is rewritten to `wss`/`ws` before checking; only the
    /// websocket form is ever accepted as signed.
    pub fn validate_websocket(&self, url: &str, signature: &str) -> bool {
        self.validate(&websocket_form(url), &[], signature)
    }
}

fn constant_time_eq(expected: &str, given: &str) -> bool {
    bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

fn default_port(scheme: &str) -> Option<&'static str> {
    match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => Some("443"),
        "http" | "ws" => Some("80"),
        _ => None,
    }
}

/// A URL split where ports live: `scheme://[userinfo@]host[:port]rest`.
struct UrlParts<'a> {
    scheme: &'a str,
    userinfo_host: &'a str,
    port: Option<&'a str>,
    rest: &'a str,
}

fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, after) = url.split_once("://")?;
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(authority_end);
    // The port follows the last ':' that is not inside an IPv6 literal or userinfo.
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host = &authority[host_start..];
    let port_colon = match host.rfind(']') {
        Some(bracket) => host[bracket..].find(':').map(|i| bracket + i),
        None => host.rfind(':'),
    };
    let (userinfo_host, port) = match port_colon {
        Some(i) => (&authority[..host_start + i], Some(&host[i + 1..])),
        None => (authority, None),
    };
    Some(UrlParts {
        scheme,
        userinfo_host,
        port,
        rest,
    })
}

/// The URL as given, plus the same URL with its default port removed or added.
fn port_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_string()];
    let Some(parts) = split_url(url) else {
        return variants;
    };
    let Some(default) = default_port(parts.scheme) else {
        return variants;
    };
    match parts.port {
        Some(port) if port == default => {
            variants.push(format!(
                "{}://{}{}",
                parts.scheme, parts.userinfo_host, parts.rest
            ));
        }
        Some(_) => {}
        None => variants.push(format!(
            "{}://{}:{default}{}",
            parts.scheme, parts.userinfo_host, parts.rest
        )),
    }
    variants
}

/// `url` with `https`/`http` rewritten to `wss`/`ws`; other schemes unchanged.
fn websocket_form(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => format!("wss://{rest}"),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => format!("ws://{rest}"),
        _ => url.to_string(),
    }
}

/// The first value of `name` in the URL's query, percent-decoding not needed
/// for the hex digest it is used for.
fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query
        .split('&')
        .find_map(|pair| match pair.split_once('=') {
            Some((key, value)) if key == name => Some(value),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Vector {
        name: String,
        auth_token: String,
        url: String,
        params: Vec<(String, String)>,
        body: Option<String>,
        expected: String,
    }

    fn vectors() -> Option<Vec<Vector>> {
        let path = crate::prerequisites::corpus_file("vectors/twilio_signature_vectors.json")?;
        let text = std::fs::read_to_string(&path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let vectors = json["vectors"].as_array().unwrap();
        assert!(!vectors.is_empty());
        Some(
            vectors
                .iter()
                .map(|v| {
                    let mut params = Vec::new();
                    for (name, value) in v["params"].as_object().unwrap() {
                        match value {
                            serde_json::Value::Array(values) => {
                                for value in values {
                                    params
                                        .push((name.clone(), value.as_str().unwrap().to_string()));
                                }
                            }
                            other => {
                                params.push((name.clone(), other.as_str().unwrap().to_string()))
                            }
                        }
                    }
                    Vector {
                        name: v["name"].as_str().unwrap().to_string(),
                        auth_token: v["auth_token"].as_str().unwrap().to_string(),
                        url: v["url"].as_str().unwrap().to_string(),
                        params,
                        body: v.get("body").and_then(|b| b.as_str()).map(str::to_string),
                        expected: v["expected"].as_str().unwrap().to_string(),
                    }
                })
                .collect(),
        )
    }

    fn without_default_port(url: &str) -> String {
        url.replacen(":443/", "/", 1).replacen(":80/", "/", 1)
    }

    #[test]
    fn every_corpus_vector_validates() {
        let Some(vectors) = vectors() else { return };
        for v in &vectors {
            let validator = SignatureValidator::new(&v.auth_token).unwrap();
            match &v.body {
                None => {
                    assert_eq!(validator.sign(&v.url, &v.params), v.expected, "{}", v.name);
                    assert!(
                        validator.validate(&v.url, &v.params, &v.expected),
                        "{}",
                        v.name
                    );
                    // Signed with a default port, presented without one.
                    let portless = without_default_port(&v.url);
                    assert!(
                        validator.validate(&portless, &v.params, &v.expected),
                        "{} portless",
                        v.name
                    );
                }
                Some(body) => {
                    assert!(
                        validator.validate_json_body(&v.url, body.as_bytes(), &v.expected),
                        "{}",
                        v.name
                    );
                    let portless = without_default_port(&v.url);
                    assert!(
                        validator.validate_json_body(&portless, body.as_bytes(), &v.expected),
                        "{} portless",
                        v.name
                    );
                }
            }
        }
    }

    #[test]
    fn tampered_vectors_fail() {
        let Some(vectors) = vectors() else { return };
        for v in &vectors {
            let validator = SignatureValidator::new(&v.auth_token).unwrap();
            let wrong_token = SignatureValidator::new(format!("{}x", v.auth_token)).unwrap();
            let mut bad_signature = v.expected.clone().into_bytes();
            bad_signature[3] = if bad_signature[3] == b'A' { b'B' } else { b'A' };
            let bad_signature = String::from_utf8(bad_signature).unwrap();
            let other_url = v.url.replace("myapp.php", "myapp2.php");
            match &v.body {
                None => {
                    assert!(
                        !validator.validate(&v.url, &v.params, &bad_signature),
                        "{}",
                        v.name
                    );
                    assert!(
                        !wrong_token.validate(&v.url, &v.params, &v.expected),
                        "{}",
                        v.name
                    );
                    assert!(
                        !validator.validate(&other_url, &v.params, &v.expected),
                        "{}",
                        v.name
                    );
                    assert!(!validator.validate(&v.url, &v.params, ""), "{}", v.name);
                    if let Some((name, value)) = v.params.first() {
                        let mut changed = v.params.clone();
                        changed[0] = (name.clone(), format!("{value}0"));
                        assert!(
                            !validator.validate(&v.url, &changed, &v.expected),
                            "{}",
                            v.name
                        );
                        let mut added = v.params.clone();
                        added.push(("Extra".into(), "1".into()));
                        assert!(
                            !validator.validate(&v.url, &added, &v.expected),
                            "{}",
                            v.name
                        );
                    }
                    // A non-default port is not interchangeable.
                    let moved = v.url.replacen("mycompany.com", "mycompany.com:8443", 1);
                    assert!(
                        !validator.validate(&moved, &v.params, &v.expected),
                        "{}",
                        v.name
                    );
                }
                Some(body) => {
                    let body = body.as_bytes();
                    assert!(
                        !validator.validate_json_body(&v.url, body, &bad_signature),
                        "{}",
                        v.name
                    );
                    assert!(
                        !wrong_token.validate_json_body(&v.url, body, &v.expected),
                        "{}",
                        v.name
                    );
                    let mut other_body = body.to_vec();
                    other_body.push(b' ');
                    assert!(
                        !validator.validate_json_body(&v.url, &other_body, &v.expected),
                        "{}",
                        v.name
                    );
                    let no_hash = v.url.split("bodySHA256").next().unwrap();
                    assert!(
                        !validator.validate_json_body(no_hash, body, &v.expected),
                        "{}",
                        v.name
                    );
                }
            }
        }
    }

    #[test]
    fn multivalued_params_are_sorted_and_deduplicated() {
        let validator = SignatureValidator::new("12345").unwrap();
        let url = "https://mycompany.com/myapp.php";
        let p = |n: &str, v: &str| (n.to_string(), v.to_string());
        let a = validator.sign(
            url,
            &[
                p("Digits", "5678"),
                p("Sid", "CA1"),
                p("Digits", "1234"),
                p("Digits", "1234"),
            ],
        );
        let b = validator.sign(
            url,
            &[p("Sid", "CA1"), p("Digits", "1234"), p("Digits", "5678")],
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            validator.sign(url, &[p("Sid", "CA1"), p("Digits", "1234")])
        );
    }

    // Expected values computed independently with Python's hmac module:
    // base64(hmac.new(b"12345", url, sha1)).
    const WSS_URL: &str = "wss://frontdesk.example.org/telephony/twilio/stream";
    const WSS_SIGNATURE: &str = "zy+K/T4wJuVcL4PqCcirtjwrkic=";

    #[test]
    fn websocket_upgrade_accepts_wss_and_https_forms() {
        let validator = SignatureValidator::new("12345").unwrap();
        assert!(validator.validate_websocket(WSS_URL, WSS_SIGNATURE));
        let https = WSS_URL.replacen("wss://", "https://", 1);
        assert!(validator.validate_websocket(&https, WSS_SIGNATURE));
        let with_port = WSS_URL.replacen(".org/", ".org:443/", 1);
        assert!(validator.validate_websocket(&with_port, WSS_SIGNATURE));
        assert!(!validator.validate_websocket(&format!("{WSS_URL}x"), WSS_SIGNATURE));
        // A signature over the https form is not what Twilio signs for the upgrade.
        assert!(!validator.validate_websocket(WSS_URL, "i1KjhbK2RsxOsdCNVoB+o5QGQDE="));
        assert!(!validator.validate_websocket(&https, "i1KjhbK2RsxOsdCNVoB+o5QGQDE="));
        // The plain form validator does not swap schemes.
        assert!(!validator.validate(&https, &[], WSS_SIGNATURE));
    }

    #[test]
    fn empty_token_is_refused_and_never_printed() {
        assert!(matches!(
            SignatureValidator::new(""),
            Err(SignatureError::EmptyAuthToken)
        ));
        let validator = SignatureValidator::new("s3cret-token").unwrap();
        assert!(!format!("{validator:?}").contains("s3cret"));
    }

    #[test]
    fn port_variants_handle_userinfo_ipv6_and_odd_urls() {
        assert_eq!(
            port_variants("https://user:pw@host.example/a?b=1"),
            vec![
                "https://user:pw@host.example/a?b=1",
                "https://user:pw@host.example:443/a?b=1"
            ]
        );
        assert_eq!(
            port_variants("http://[::1]:80/x"),
            vec!["http://[::1]:80/x", "http://[::1]/x"]
        );
        assert_eq!(port_variants("https://h:8443/x"), vec!["https://h:8443/x"]);
        assert_eq!(port_variants("not a url"), vec!["not a url"]);
        assert_eq!(
            port_variants("https://h?x=1"),
            vec!["https://h?x=1", "https://h:443?x=1"]
        );
    }
}
