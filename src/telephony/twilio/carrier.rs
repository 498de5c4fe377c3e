//! A Twilio Media Streams websocket as the call's [`Carrier`]: inbound
//! JSON text frames become [`CarrierEvent`]s, the call's audio, marks and
//! clears become Twilio's `media`, `mark` and `clear` messages on the
//! outbound queue, and a transfer goes through Twilio's REST API.

use futures_util::future::BoxFuture;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

use super::messages::{
    Inbound, StreamError, clear_message, mark_message, media_message, parse_inbound,
};
use super::rest::TwilioRest;
use super::twiml::{DialSpec, dial_twiml};
use crate::call::carrier::{Carrier, CarrierEvent, StreamStarted};

/// What a transfer needs besides the number: Twilio's REST API and how
/// the `<Dial>` rings.
#[derive(Clone, Debug)]
pub struct Transfers {
    pub rest: TwilioRest,
    /// Our [`super::twiml::TRANSFER_PATH`] URL, asked once the dial ends.
    pub action_url: String,
    pub ring_seconds: u64,
    /// Said if that URL cannot be reached.
    pub fallback: String,
}

/// One inbound websocket frame, as the transport saw it.
#[derive(Debug)]
pub enum WireIn {
    Text(String),
    /// Twilio never sends binary frames; counted and ignored.
    Binary(usize),
}

/// One media stream's websocket, seen by the call through [`Carrier`].
pub struct TwilioCarrier<S> {
    inbound: S,
    /// The queue a writer task drains into the socket; `None` once the call
    /// has let go of the line, which closes the socket.
    out: Option<mpsc::Sender<String>>,
    /// Twilio's REST API for transfers; `None` without credentials.
    transfers: Option<Transfers>,
    /// From the stream's first `start`: every message we send names the
    /// stream, a transfer names the call.
    stream_sid: Option<String>,
    call_sid: Option<String>,
}

impl<S> TwilioCarrier<S>
where
    S: Stream<Item = WireIn> + Unpin + Send,
{
    pub fn new(inbound: S, out: mpsc::Sender<String>, transfers: Option<Transfers>) -> Self {
        TwilioCarrier {
            inbound,
            out: Some(out),
            transfers,
            stream_sid: None,
            call_sid: None,
        }
    }

    /// Queues one text frame for the socket.
    async fn send(&mut self, build: impl FnOnce(&str) -> String) -> anyhow::Result<()> {
        let Some(stream_sid) = &self.stream_sid else {
            anyhow::bail!("nothing can be sent before the stream's start");
        };
        let text = build(stream_sid);
        let Some(out) = &self.out else {
            anyhow::bail!("the line was let go");
        };
        out.send(text).await?;
        Ok(())
    }

    fn event(&mut self, message: Inbound) -> Option<CarrierEvent> {
        Some(match message {
            // Twilio's greeting before `start`; nothing to act on.
            Inbound::Connected { .. } => return None,
            Inbound::Start(start) => {
                if self.stream_sid.is_none() {
                    self.stream_sid = Some(start.stream_sid.clone());
                    self.call_sid = Some(start.call_sid.clone());
                }
                // Our `<Parameter>`s in the TwiML (`twiml::connect_stream_twiml`).
                let parameter = |name: &str| start.custom_parameters.get(name).cloned();
                CarrierEvent::Started(StreamStarted {
                    carrier: "twilio",
                    from: parameter("from"),
                    to: parameter("to"),
                    carrier_call_id: start.call_sid,
                    stream_id: start.stream_sid,
                })
            }
            Inbound::Media(frame) => CarrierEvent::Audio(frame.payload_mulaw),
            Inbound::Mark { name, .. } => CarrierEvent::Mark(name),
            Inbound::Dtmf { digit, .. } => CarrierEvent::Dtmf(digit),
            Inbound::Stop { .. } => CarrierEvent::Stopped,
        })
    }
}

fn decode(frame: WireIn) -> Result<Inbound, StreamError> {
    match frame {
        WireIn::Text(text) => parse_inbound(&text),
        WireIn::Binary(bytes) => Err(StreamError::UnknownEvent(format!(
            "binary frame of {bytes} bytes"
        ))),
    }
}

impl<S> Carrier for TwilioCarrier<S>
where
    S: Stream<Item = WireIn> + Unpin + Send,
{
    fn next_event(&mut self) -> BoxFuture<'_, Option<CarrierEvent>> {
        Box::pin(async move {
            loop {
                // The only await: dropping this future loses no frame.
                let frame = self.inbound.next().await?;
                match decode(frame) {
                    Ok(message) => match self.event(message) {
                        Some(event) => return Some(event),
                        None => continue,
                    },
                    Err(e) => return Some(CarrierEvent::Malformed(e.into())),
                }
            }
        })
    }

    fn send_audio<'a>(&'a mut self, frame_mulaw: &'a [u8]) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(self.send(move |sid| media_message(sid, frame_mulaw)))
    }

    fn send_mark<'a>(&'a mut self, name: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(self.send(move |sid| mark_message(sid, name)))
    }

    fn clear(&mut self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(self.send(clear_message))
    }

    /// Replaces the call's TwiML with a `<Dial>` ringing `number`; Twilio
    /// then stops the stream.
    fn transfer<'a>(&'a mut self, number: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let Some(transfers) = &self.transfers else {
                anyhow::bail!(
                    "no Twilio credentials to transfer with (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)"
                );
            };
            let Some(call_sid) = &self.call_sid else {
                anyhow::bail!("a transfer before the stream's start");
            };
            let twiml = dial_twiml(&DialSpec {
                number,
                action_url: &transfers.action_url,
                ring_seconds: transfers.ring_seconds,
                fallback: &transfers.fallback,
            });
            transfers.rest.redirect(call_sid, &twiml).await
        })
    }

    /// Drops the outbound queue: the writer task then closes the socket,
    /// which ends a call whose TwiML has nothing after `<Connect>`.
    fn hang_up(&mut self) {
        self.out = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALL: &str = "CA00000000000000000000000000000001";
    const STREAM: &str = "MZ00000000000000000000000000000001";

    fn start() -> String {
        format!(
            r#"{{"event":"start","sequenceNumber":"1","streamSid":"{STREAM}","start":{{"streamSid":"{STREAM}","accountSid":"AC1","callSid":"{CALL}","tracks":["inbound"],"customParameters":{{"from":"+15555550123","to":"+15555550100"}},"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}}}}"#
        )
    }

    fn carrier(
        frames: Vec<WireIn>,
    ) -> (
        TwilioCarrier<futures_util::stream::Iter<std::vec::IntoIter<WireIn>>>,
        mpsc::Receiver<String>,
    ) {
        let (out, sent) = mpsc::channel(16);
        (
            TwilioCarrier::new(futures_util::stream::iter(frames), out, None),
            sent,
        )
    }

    #[tokio::test]
    async fn twilio_messages_become_carrier_events() {
        let (mut carrier, _sent) = carrier(vec![
            WireIn::Text(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.into()),
            WireIn::Binary(12),
            WireIn::Text("not json".into()),
            WireIn::Text(start()),
            WireIn::Text(format!(
                r#"{{"event":"media","streamSid":"{STREAM}","media":{{"track":"inbound","chunk":"1","timestamp":"0","payload":"/38A"}}}}"#
            )),
            WireIn::Text(format!(
                r#"{{"event":"mark","streamSid":"{STREAM}","mark":{{"name":"s1"}}}}"#
            )),
            WireIn::Text(format!(
                r##"{{"event":"dtmf","streamSid":"{STREAM}","dtmf":{{"digit":"#"}}}}"##
            )),
            WireIn::Text(format!(
                r#"{{"event":"stop","streamSid":"{STREAM}","stop":{{"accountSid":"AC1","callSid":"{CALL}"}}}}"#
            )),
        ]);
        // `connected` is skipped; a binary frame is malformed, as before.
        match carrier.next_event().await {
            Some(CarrierEvent::Malformed(e)) => {
                assert_eq!(e.to_string(), r#"unknown event "binary frame of 12 bytes""#)
            }
            other => panic!("expected a malformed binary frame, got {other:?}"),
        }
        assert!(matches!(
            carrier.next_event().await,
            Some(CarrierEvent::Malformed(_))
        ));
        let Some(CarrierEvent::Started(started)) = carrier.next_event().await else {
            panic!("expected the start")
        };
        assert_eq!(
            started,
            StreamStarted {
                carrier: "twilio",
                carrier_call_id: CALL.into(),
                stream_id: STREAM.into(),
                from: Some("+15555550123".into()),
                to: Some("+15555550100".into()),
            }
        );
        assert!(
            matches!(carrier.next_event().await, Some(CarrierEvent::Audio(a)) if a == [0xFF, 0x7F, 0x00])
        );
        assert!(matches!(carrier.next_event().await, Some(CarrierEvent::Mark(m)) if m == "s1"));
        assert!(matches!(
            carrier.next_event().await,
            Some(CarrierEvent::Dtmf('#'))
        ));
        assert!(matches!(
            carrier.next_event().await,
            Some(CarrierEvent::Stopped)
        ));
        assert!(
            carrier.next_event().await.is_none(),
            "then the socket closed"
        );
    }

    #[tokio::test]
    async fn what_the_call_sends_becomes_twilio_messages_on_the_stream() {
        let (mut carrier, mut sent) = carrier(vec![WireIn::Text(start())]);
        assert!(
            carrier.send_audio(&[0xFF]).await.is_err(),
            "no stream to name before the start"
        );
        assert!(matches!(
            carrier.next_event().await,
            Some(CarrierEvent::Started(_))
        ));
        carrier.send_audio(&[0xFF, 0x7F, 0x00]).await.unwrap();
        carrier.send_mark("s1").await.unwrap();
        carrier.clear().await.unwrap();
        // No credentials: an error, the caller still on the stream.
        assert!(carrier.transfer("+15555550100").await.is_err());
        carrier.hang_up();
        assert!(carrier.send_mark("s2").await.is_err());
        let mut texts = Vec::new();
        while let Some(text) = sent.recv().await {
            texts.push(text);
        }
        assert_eq!(
            texts,
            [
                media_message(STREAM, &[0xFF, 0x7F, 0x00]),
                mark_message(STREAM, "s1"),
                clear_message(STREAM),
            ],
            "and the queue closed at hang-up"
        );
    }

    /// Each call update Twilio's REST API received: `{CallSid}.json` and its form.
    type Updates = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>)>>>;

    /// Twilio's REST API, as far as a transfer needs it: records each call
    /// update and answers with `status`.
    async fn rest_stand_in(status: axum::http::StatusCode) -> (TwilioRest, Updates) {
        use axum::extract::{Path, State};
        let record = move |State(updates): State<Updates>,
                           Path((_account, call)): Path<(String, String)>,
                           body: String| async move {
            let form = url::form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect();
            updates.lock().unwrap().push((call, form));
            status
        };
        let updates = Updates::default();
        let router = axum::Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Calls/{call}",
                axum::routing::post(record),
            )
            .with_state(updates.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (TwilioRest::new(base, "AC1".into(), "token".into()), updates)
    }

    #[tokio::test]
    async fn a_transfer_redirects_the_started_call_through_the_rest_api() {
        for (status, accepted) in [
            (axum::http::StatusCode::OK, true),
            // Refused: an error, and the line is still up.
            (axum::http::StatusCode::INTERNAL_SERVER_ERROR, false),
        ] {
            let (rest, updates) = rest_stand_in(status).await;
            let (out, mut sent) = mpsc::channel(16);
            let transfers = Transfers {
                rest,
                action_url: "https://h.example/telephony/twilio/transfer".into(),
                ring_seconds: 20,
                fallback: "Goodbye.".into(),
            };
            let mut carrier = TwilioCarrier::new(
                futures_util::stream::iter(vec![WireIn::Text(start())]),
                out,
                Some(transfers.clone()),
            );
            assert!(matches!(
                carrier.next_event().await,
                Some(CarrierEvent::Started(_))
            ));
            let done = carrier.transfer("+15555550100").await;
            assert_eq!(done.is_ok(), accepted, "{done:?}");
            assert_eq!(
                *updates.lock().unwrap(),
                [(
                    format!("{CALL}.json"),
                    vec![(
                        "Twiml".to_string(),
                        dial_twiml(&DialSpec {
                            number: "+15555550100",
                            action_url: &transfers.action_url,
                            ring_seconds: 20,
                            fallback: "Goodbye.",
                        })
                    )]
                )]
            );
            if !accepted {
                carrier.send_mark("still-here").await.unwrap();
                assert_eq!(sent.recv().await, Some(mark_message(STREAM, "still-here")));
            }
            carrier.hang_up();
            assert!(sent.recv().await.is_none(), "the line closed at hang-up");
        }
    }
}
