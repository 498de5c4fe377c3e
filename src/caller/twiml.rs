//! Reading the TwiML the voice webhook answers with: the one thing the
//! caller needs is `<Connect><Stream url=…>` and its `<Parameter>`s.

use thiserror::Error;

/// The media stream a `<Connect><Stream>` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamTwiml {
    /// Exactly as written in the TwiML; the upgrade is signed over it.
    pub url: String,
    /// `<Parameter name value>`s, in document order; they come back in
    /// `start.customParameters`.
    pub parameters: Vec<(String, String)>,
    pub status_callback: Option<String>,
}

#[derive(Debug, Error)]
pub enum TwimlError {
    #[error("the webhook answer is not XML: {0}")]
    Xml(#[from] roxmltree::Error),
    #[error("the webhook answer's root element is <{0}>, not <Response>")]
    NotResponse(String),
    #[error("the TwiML has no <Connect><Stream> (verbs: {verbs})")]
    NoStream { verbs: String },
    #[error("<Stream> has no url attribute")]
    MissingUrl,
    #[error("<Stream url=\"{url}\"> is not usable: {why}")]
    BadStreamUrl { url: String, why: &'static str },
    #[error("<Parameter> without a name")]
    ParameterWithoutName,
}

/// Parses a TwiML `<Response>` and returns its `<Connect><Stream>`.
pub fn parse_connect_stream(xml: &str) -> Result<StreamTwiml, TwimlError> {
    let doc = roxmltree::Document::parse(xml)?;
    let root = doc.root_element();
    if root.tag_name().name() != "Response" {
        return Err(TwimlError::NotResponse(root.tag_name().name().to_string()));
    }
    let stream = root
        .children()
        .filter(|n| n.has_tag_name("Connect"))
        .flat_map(|connect| connect.children())
        .find(|n| n.has_tag_name("Stream"));
    let Some(stream) = stream else {
        let verbs: Vec<&str> = root
            .children()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect();
        return Err(TwimlError::NoStream {
            verbs: verbs.join(", "),
        });
    };
    let url = stream
        .attribute("url")
        .ok_or(TwimlError::MissingUrl)?
        .to_string();
    let parsed = url::Url::parse(&url).map_err(|_| TwimlError::BadStreamUrl {
        url: url.clone(),
        why: "not a URL",
    })?;
    if !matches!(parsed.scheme(), "ws" | "wss") {
        return Err(TwimlError::BadStreamUrl {
            url,
            why: "the scheme must be wss (or ws locally)",
        });
    }
    if parsed.query().is_some() {
        return Err(TwimlError::BadStreamUrl {
            url,
            why: "Twilio stream URLs take no query string; use <Parameter>",
        });
    }
    let mut parameters = Vec::new();
    for p in stream.children().filter(|n| n.has_tag_name("Parameter")) {
        let name = p
            .attribute("name")
            .ok_or(TwimlError::ParameterWithoutName)?;
        parameters.push((
            name.to_string(),
            p.attribute("value").unwrap_or("").to_string(),
        ));
    }
    Ok(StreamTwiml {
        url,
        parameters,
        status_callback: stream.attribute("statusCallback").map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stream_url_and_parameters() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Response><Connect><Stream url="wss://clinic.example/telephony/twilio/stream" statusCallback="https://clinic.example/telephony/twilio/status">
  <Parameter name="from" value="+15555550123"/><Parameter name="note" value="a &amp; b"/></Stream></Connect></Response>"#;
        let s = parse_connect_stream(xml).unwrap();
        assert_eq!(s.url, "wss://clinic.example/telephony/twilio/stream");
        assert_eq!(
            s.parameters,
            vec![
                ("from".to_string(), "+15555550123".to_string()),
                ("note".to_string(), "a & b".to_string())
            ]
        );
        assert_eq!(
            s.status_callback.as_deref(),
            Some("https://clinic.example/telephony/twilio/status")
        );
    }

    #[test]
    fn rejects_answers_without_a_stream_or_with_a_query() {
        let err =
            parse_connect_stream("<Response><Say>Closed</Say><Hangup/></Response>").unwrap_err();
        assert!(
            matches!(&err, TwimlError::NoStream { verbs } if verbs == "Say, Hangup"),
            "{err}"
        );
        let err = parse_connect_stream(
            r#"<Response><Connect><Stream url="wss://h/s?x=1"/></Connect></Response>"#,
        )
        .unwrap_err();
        assert!(matches!(err, TwimlError::BadStreamUrl { .. }));
        let err = parse_connect_stream(
            r#"<Response><Connect><Stream url="https://h/s"/></Connect></Response>"#,
        )
        .unwrap_err();
        assert!(matches!(err, TwimlError::BadStreamUrl { .. }));
        assert!(matches!(
            parse_connect_stream("not xml"),
            Err(TwimlError::Xml(_))
        ));
        assert!(matches!(
            parse_connect_stream("<Foo/>"),
            Err(TwimlError::NotResponse(_))
        ));
    }
}
