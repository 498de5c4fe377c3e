//! TwiML we answer Twilio's webhooks with: connect the call to our media
//! stream, or dial a number to hand the call to staff.
//!
//! A caller is never left in dead air: what follows a `<Connect><Stream>`
//! or a `<Dial>` (run when the stream or the dialled call ends) is a
//! spoken message and `<Hangup/>`.
//!
//! Every value placed in the XML is escaped; values such as the caller's
//! number come from the webhook and are attacker-controlled.

/// Path of our Media Streams websocket, below the public URL.
pub const STREAM_PATH: &str = "/telephony/twilio/stream";
/// Path Twilio reports stream status to, below the public URL.
pub const STATUS_PATH: &str = "/telephony/twilio/status";
/// Path Twilio asks what to do once a transfer's `<Dial>` has ended
/// (`DialCallStatus`: answered and done, or nobody answered).
pub const TRANSFER_PATH: &str = "/telephony/twilio/transfer";

#[derive(Debug, thiserror::Error)]
pub enum TwimlError {
    #[error("public URL {url:?} must start with https:// (or http:// for local testing)")]
    Scheme { url: String },
    #[error("public URL {url:?} has no host")]
    NoHost { url: String },
    #[error("public URL {url:?} must not carry a query or fragment")]
    QueryOrFragment { url: String },
}

/// `<Response><Connect><Stream …>` pointing Twilio at our websocket, with
/// `from` and `extra_params` passed as `<Parameter>`s (they come back in
/// `start.customParameters`; the stream URL itself takes no query string).
///
/// `public_base_url` is the server's public URL, e.g. `https://frontdesk.example.org`
/// (a path prefix is kept); `https` becomes `wss` and `http` becomes `ws`.
///
/// `goodbye` is said, then the call hung up, if the stream ends without the
/// call having been moved elsewhere: the agent let go of the line, or the
/// server went away mid-call.
pub fn connect_stream_twiml(
    public_base_url: &str,
    from: Option<&str>,
    extra_params: &[(&str, &str)],
    goodbye: &str,
) -> Result<String, TwimlError> {
    let (secure, host_and_prefix) = split_public_url(public_base_url)?;
    let (ws_scheme, http_scheme) = if secure {
        ("wss", "https")
    } else {
        ("ws", "http")
    };
    let stream_url = format!("{ws_scheme}://{host_and_prefix}{STREAM_PATH}");
    let status_url = format!("{http_scheme}://{host_and_prefix}{STATUS_PATH}");

    let mut xml = String::with_capacity(256);
    xml.push_str("<Response><Connect><Stream url=\"");
    push_escaped(&mut xml, &stream_url);
    xml.push_str("\" statusCallback=\"");
    push_escaped(&mut xml, &status_url);
    xml.push_str("\">");
    let params = from
        .map(|f| ("from", f))
        .into_iter()
        .chain(extra_params.iter().copied());
    for (name, value) in params {
        xml.push_str("<Parameter name=\"");
        push_escaped(&mut xml, name);
        xml.push_str("\" value=\"");
        push_escaped(&mut xml, value);
        xml.push_str("\"/>");
    }
    xml.push_str("</Stream></Connect>");
    push_say_and_hang_up(&mut xml, goodbye);
    xml.push_str("</Response>");
    Ok(xml)
}

/// `https://host/prefix{path}`: one of our webhook URLs, for Twilio to
/// call back (`http` kept for local testing).
pub fn callback_url(public_base_url: &str, path: &str) -> Result<String, TwimlError> {
    let (secure, host_and_prefix) = split_public_url(public_base_url)?;
    let scheme = if secure { "https" } else { "http" };
    Ok(format!("{scheme}://{host_and_prefix}{path}"))
}

/// `<Say>text</Say><Hangup/>`.
fn push_say_and_hang_up(xml: &mut String, text: &str) {
    xml.push_str("<Say>");
    push_escaped(xml, text);
    xml.push_str("</Say><Hangup/>");
}

/// `<Response><Say>text</Say><Hangup/></Response>`: the last words of a
/// call the agent no longer holds.
pub fn say_and_hang_up_twiml(text: &str) -> String {
    let mut xml = String::from("<Response>");
    push_say_and_hang_up(&mut xml, text);
    xml.push_str("</Response>");
    xml
}

/// `<Reject reason="busy"/>`: Twilio plays a busy tone and the caller can
/// try again. The answer when every call slot is taken and while the
/// server is stopping.
pub fn reject_busy_twiml() -> &'static str {
    r#"<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>"#
}

/// How a transfer's `<Dial>` rings staff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialSpec<'a> {
    /// The staff member's phone.
    pub number: &'a str,
    /// Where Twilio asks what next once the dialled call ends
    /// ([`TRANSFER_PATH`] below the public URL).
    pub action_url: &'a str,
    /// How long it rings before `DialCallStatus=no-answer`.
    pub ring_seconds: u64,
    /// Said if the action URL cannot be reached (our server gone).
    pub fallback: &'a str,
}

/// `<Response><Dial action timeout><Number>…</Number></Dial>…`: moves the
/// call to ring staff. The caller hears ringing until they answer
/// (`answerOnBridge`); when the dialled call ends Twilio posts its status
/// to `action_url`, whose answer speaks to the caller.
pub fn dial_twiml(dial: &DialSpec<'_>) -> String {
    let mut xml = String::from("<Response><Dial action=\"");
    push_escaped(&mut xml, dial.action_url);
    xml.push_str("\" method=\"POST\" timeout=\"");
    xml.push_str(&dial.ring_seconds.to_string());
    xml.push_str("\" answerOnBridge=\"true\"><Number>");
    push_escaped(&mut xml, dial.number);
    xml.push_str("</Number></Dial>");
    push_say_and_hang_up(&mut xml, dial.fallback);
    xml.push_str("</Response>");
    xml
}

/// Returns whether the URL is https, and `host[:port][/prefix]` without a trailing slash.
fn split_public_url(url: &str) -> Result<(bool, &str), TwimlError> {
    let trimmed = url.trim();
    let (secure, rest) = if let Some(rest) = strip_prefix_ignore_case(trimmed, "https://") {
        (true, rest)
    } else if let Some(rest) = strip_prefix_ignore_case(trimmed, "http://") {
        (false, rest)
    } else {
        return Err(TwimlError::Scheme {
            url: url.to_string(),
        });
    };
    if rest.contains(['?', '#']) {
        return Err(TwimlError::QueryOrFragment {
            url: url.to_string(),
        });
    }
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.starts_with('/') {
        return Err(TwimlError::NoHost {
            url: url.to_string(),
        });
    }
    Ok((secure, rest))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Escapes for both attribute values and text. Characters XML 1.0 cannot
/// carry at all (most control characters) are dropped; tab and newlines are
/// written as character references so attribute normalisation keeps them.
fn push_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BYE: &str = "Thank you for calling. Goodbye.";

    #[test]
    fn connect_stream_matches_the_spec_shape() {
        let xml = connect_stream_twiml(
            "https://frontdesk.example.org",
            Some("+15551234567"),
            &[],
            BYE,
        )
        .unwrap();
        assert_eq!(
            xml,
            "<Response><Connect><Stream url=\"wss://frontdesk.example.org/telephony/twilio/stream\" \
             statusCallback=\"https://frontdesk.example.org/telephony/twilio/status\">\
             <Parameter name=\"from\" value=\"+15551234567\"/></Stream></Connect>\
             <Say>Thank you for calling. Goodbye.</Say><Hangup/></Response>"
        );
    }

    #[test]
    fn http_becomes_ws_and_prefixes_and_ports_are_kept() {
        let xml = connect_stream_twiml(
            "http://localhost:8080/clinic-a/",
            None,
            &[("clinicId", "a")],
            BYE,
        )
        .unwrap();
        assert!(
            xml.contains("url=\"ws://localhost:8080/clinic-a/telephony/twilio/stream\""),
            "{xml}"
        );
        assert!(
            xml.contains(
                "statusCallback=\"http://localhost:8080/clinic-a/telephony/twilio/status\""
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<Parameter name=\"clinicId\" value=\"a\"/>"),
            "{xml}"
        );
        assert!(!xml.contains("name=\"from\""));
        let upper = connect_stream_twiml("HTTPS://Example.org", None, &[], BYE).unwrap();
        assert!(
            upper.contains("url=\"wss://Example.org/telephony"),
            "{upper}"
        );
        assert_eq!(
            callback_url("http://localhost:8080/clinic-a/", TRANSFER_PATH).unwrap(),
            "http://localhost:8080/clinic-a/telephony/twilio/transfer"
        );
    }

    #[test]
    fn hostile_values_are_escaped() {
        let hostile = "\"/><Dial>+19005550000</Dial><Parameter name=\"x' & <y>\u{0}\u{7}\n";
        let xml = connect_stream_twiml("https://h.example", Some(hostile), &[(hostile, "ok")], BYE)
            .unwrap();
        assert!(!xml.contains("<Dial>"), "{xml}");
        assert_eq!(xml.matches("<Parameter ").count(), 2);
        assert_eq!(xml.matches('<').count(), 11, "only our own tags: {xml}");
        assert!(xml.contains(
            "value=\"&quot;/&gt;&lt;Dial&gt;+19005550000&lt;/Dial&gt;&lt;Parameter name=&quot;x&apos; &amp; &lt;y&gt;&#10;\""
        ));
        assert!(!xml.contains('\u{0}') && !xml.contains('\u{7}'));
        let dial = dial_twiml(&DialSpec {
            number: "+1555<Hangup/>&",
            action_url: "https://h.example/t?a=1&b=\"",
            ring_seconds: 20,
            fallback: "<Play>x</Play>",
        });
        assert_eq!(
            dial,
            "<Response><Dial action=\"https://h.example/t?a=1&amp;b=&quot;\" method=\"POST\" \
             timeout=\"20\" answerOnBridge=\"true\"><Number>+1555&lt;Hangup/&gt;&amp;</Number></Dial>\
             <Say>&lt;Play&gt;x&lt;/Play&gt;</Say><Hangup/></Response>"
        );
        assert_eq!(
            say_and_hang_up_twiml("a < b"),
            "<Response><Say>a &lt; b</Say><Hangup/></Response>"
        );
    }

    #[test]
    fn bad_public_urls_are_refused() {
        for (url, check) in [
            ("ftp://h", "scheme"),
            ("frontdesk.example.org", "scheme"),
            ("https://", "host"),
            ("https:///x", "host"),
            ("https://h.example/?a=1", "query"),
        ] {
            let got = connect_stream_twiml(url, None, &[], BYE);
            let ok = match check {
                "scheme" => matches!(got, Err(TwimlError::Scheme { .. })),
                "host" => matches!(got, Err(TwimlError::NoHost { .. })),
                _ => matches!(got, Err(TwimlError::QueryOrFragment { .. })),
            };
            assert!(ok, "{url}: {got:?}");
            assert!(callback_url(url, TRANSFER_PATH).is_err(), "{url}");
        }
    }

    #[test]
    fn a_transfer_rings_staff_then_speaks_and_hangs_up() {
        let xml = dial_twiml(&DialSpec {
            number: "+15551230000",
            action_url: "https://h.example/telephony/twilio/transfer",
            ring_seconds: 25,
            fallback: "Goodbye.",
        });
        assert_eq!(
            xml,
            "<Response><Dial action=\"https://h.example/telephony/twilio/transfer\" method=\"POST\" \
             timeout=\"25\" answerOnBridge=\"true\"><Number>+15551230000</Number></Dial>\
             <Say>Goodbye.</Say><Hangup/></Response>"
        );
    }
}
