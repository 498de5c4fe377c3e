//! The call loop driven through [`Carrier`] by a scripted, in-memory
//! carrier: the events it reads, and what it sends back, in order.

use super::*;
use futures_util::future::BoxFuture;

/// What the loop asked the carrier to do.
#[derive(Debug, Clone, PartialEq)]
enum Sent {
    /// One frame of agent audio, its length in µ-law bytes.
    Audio(usize),
    Mark(String),
    Clear,
    Transfer(String),
    HangUp,
}

/// Events come from a channel the test writes; every send is reported on
/// another channel the test reads.
struct ScriptedCarrier {
    events: mpsc::UnboundedReceiver<CarrierEvent>,
    sent: mpsc::UnboundedSender<Sent>,
    /// A transfer is refused, as when Twilio's API answers an error.
    refuse_transfer: bool,
}

impl ScriptedCarrier {
    fn new() -> (
        ScriptedCarrier,
        mpsc::UnboundedSender<CarrierEvent>,
        mpsc::UnboundedReceiver<Sent>,
    ) {
        let (events_tx, events) = mpsc::unbounded_channel();
        let (sent, sent_rx) = mpsc::unbounded_channel();
        (
            ScriptedCarrier {
                events,
                sent,
                refuse_transfer: false,
            },
            events_tx,
            sent_rx,
        )
    }

    fn report(&self, sent: Sent) -> BoxFuture<'static, anyhow::Result<()>> {
        let _ = self.sent.send(sent);
        Box::pin(async { Ok(()) })
    }
}

impl Carrier for ScriptedCarrier {
    fn next_event(&mut self) -> BoxFuture<'_, Option<CarrierEvent>> {
        Box::pin(self.events.recv())
    }

    fn send_audio<'a>(&'a mut self, frame_mulaw: &'a [u8]) -> BoxFuture<'a, anyhow::Result<()>> {
        self.report(Sent::Audio(frame_mulaw.len()))
    }

    fn send_mark<'a>(&'a mut self, name: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        self.report(Sent::Mark(name.to_string()))
    }

    fn clear(&mut self) -> BoxFuture<'_, anyhow::Result<()>> {
        self.report(Sent::Clear)
    }

    fn transfer<'a>(&'a mut self, number: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        let _ = self.sent.send(Sent::Transfer(number.to_string()));
        let refused = self.refuse_transfer;
        Box::pin(async move {
            anyhow::ensure!(!refused, "the carrier refused the transfer: HTTP 500");
            Ok(())
        })
    }

    fn hang_up(&mut self) {
        let _ = self.sent.send(Sent::HangUp);
    }
}

fn started() -> StreamStarted {
    StreamStarted {
        carrier: "scripted",
        carrier_call_id: "CALL1".into(),
        stream_id: "STREAM1".into(),
        from: Some("+15555550123".into()),
        to: Some("+15555550100".into()),
    }
}

#[tokio::test]
async fn events_before_the_start_are_counted_and_the_start_begins_the_call() {
    let (mut carrier, events, _sent) = ScriptedCarrier::new();
    for event in [
        CarrierEvent::Malformed(anyhow::anyhow!("message is not valid JSON")),
        CarrierEvent::Audio(vec![0xFF; 160]),
        CarrierEvent::Mark("s1".into()),
        CarrierEvent::Dtmf('5'),
        CarrierEvent::Started(started()),
        CarrierEvent::Stopped,
    ] {
        events.send(event).unwrap();
    }
    let mut bad = 0;
    let start = wait_for_start(&mut carrier, &mut bad).await;
    assert_eq!(start, Some(started()));
    assert_eq!(bad, 4);
    assert!(
        matches!(carrier.next_event().await, Some(CarrierEvent::Stopped)),
        "nothing after the start is read"
    );
}

#[tokio::test]
async fn a_stream_that_never_starts_ends_without_a_call() {
    // Stopped before the start.
    let (mut carrier, events, _sent) = ScriptedCarrier::new();
    events.send(CarrierEvent::Audio(vec![0xFF; 160])).unwrap();
    events.send(CarrierEvent::Stopped).unwrap();
    let mut bad = 0;
    assert_eq!(wait_for_start(&mut carrier, &mut bad).await, None);
    assert_eq!(bad, 1);

    // Dropped before the start.
    let (mut carrier, events, _sent) = ScriptedCarrier::new();
    drop(events);
    let mut bad = 0;
    assert_eq!(wait_for_start(&mut carrier, &mut bad).await, None);
    assert_eq!(bad, 0);

    // Flooded with garbage: closed after the limit, the rest unread.
    let (mut carrier, events, _sent) = ScriptedCarrier::new();
    for _ in 0..MAX_BAD_MESSAGES + 10 {
        events
            .send(CarrierEvent::Malformed(anyhow::anyhow!("garbage")))
            .unwrap();
    }
    events.send(CarrierEvent::Started(started())).unwrap();
    let mut bad = 0;
    assert_eq!(wait_for_start(&mut carrier, &mut bad).await, None);
    assert_eq!(bad, MAX_BAD_MESSAGES + 1);
}

/// Greets with one sentence, then hands the call to staff.
struct GreetAndTransfer;

const STAFF: &str = "+15555550199";

impl crate::call::Conversation for GreetAndTransfer {
    fn handle(&mut self, event: CallEvent) -> BoxFuture<'_, anyhow::Result<AgentTurn>> {
        Box::pin(async move {
            Ok(match event {
                CallEvent::Started => AgentTurn {
                    say: vec!["Let me put you through to the front desk.".into()],
                    then: AfterSpeech::Transfer {
                        number: STAFF.into(),
                    },
                    outcome: Some(Outcome::Transferred),
                    ..Default::default()
                },
                _ => AgentTurn::default(),
            })
        })
    }

    fn transfer_failed(&mut self, why: String) -> BoxFuture<'_, anyhow::Result<AgentTurn>> {
        assert!(!why.contains("500"), "staff get a plain reason: {why}");
        Box::pin(async move {
            Ok(AgentTurn {
                say: vec!["Sorry, I could not put you through.".into()],
                then: AfterSpeech::Hangup,
                outcome: Some(Outcome::Escalated),
                ..Default::default()
            })
        })
    }
}

impl ConversationFactory for GreetAndTransfer {
    fn start(&self, _call: &CallInfo) -> Box<dyn crate::call::Conversation> {
        Box::new(GreetAndTransfer)
    }

    fn fixed_sentences(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The real engines, or `None` (the test is skipped) without the models.
fn services(data_dir: &std::path::Path, db: Db) -> Option<Arc<CallServices>> {
    services_with(data_dir, db, Arc::new(GreetAndTransfer))
}

fn services_with(
    data_dir: &std::path::Path,
    db: Db,
    conversations: Arc<dyn ConversationFactory>,
) -> Option<Arc<CallServices>> {
    let paths = crate::models::ModelPaths::locate();
    let needed = [
        paths.whisper(),
        paths.vad(),
        paths.end_of_turn(),
        paths.voice(),
        paths.onnxruntime(),
    ];
    if !needed
        .iter()
        .all(|p| crate::prerequisites::model_present(p))
        || !crate::prerequisites::model_present(&paths.intent_dir().join("intent.onnx"))
    {
        return None;
    }
    crate::models::init_onnx_runtime(&paths).unwrap();
    let stt = SpeechToText::load(
        &paths,
        crate::stt::SttOptions {
            workers: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let nlu = Nlu::load(&paths, Default::default()).unwrap();
    Some(Arc::new(CallServices {
        db,
        spool_dir: data_dir.join("spool"),
        recordings_dir: data_dir.to_path_buf(),
        stt,
        vad: VadModel::load(&paths).unwrap(),
        end_of_turn: crate::audio::end_of_turn::EndOfTurnModel::load(&paths).unwrap(),
        tts: Tts::load(&paths).unwrap(),
        nlu: Arc::new(nlu),
        conversations,
        local_now: Arc::new(|| chrono::Local::now().naive_local()),
        endpoint: EndpointConfig::default(),
        silence_prompt_ms: 8000,
        drain: Drain::new(),
    }))
}

/// Waits (at most a minute) for the loop's next request to the carrier.
async fn next_sent(sent: &mut mpsc::UnboundedReceiver<Sent>) -> Option<Sent> {
    tokio::time::timeout(std::time::Duration::from_secs(60), sent.recv())
        .await
        .expect("the call loop stalled")
}

/// Sends a second of line silence and echoes the mark of what the agent
/// said; returns how many audio frames came before the mark.
async fn hear_one_reply(
    events: &mpsc::UnboundedSender<CarrierEvent>,
    sent: &mut mpsc::UnboundedReceiver<Sent>,
) -> usize {
    let mut frames = 0;
    let mark = loop {
        match next_sent(sent).await {
            Some(Sent::Audio(bytes)) => {
                assert!((1..=160).contains(&bytes), "a frame of {bytes} bytes");
                frames += 1;
            }
            Some(Sent::Mark(name)) => break name,
            other => panic!("expected audio then a mark, got {other:?}"),
        }
    };
    for _ in 0..50 {
        events.send(CarrierEvent::Audio(vec![0xFF; 160])).unwrap();
    }
    events
        .send(CarrierEvent::Malformed(anyhow::anyhow!("garbage")))
        .unwrap();
    events.send(CarrierEvent::Mark(mark)).unwrap();
    frames
}

#[tokio::test]
async fn a_greeting_heard_in_full_then_a_transfer_through_the_carrier() {
    let data_dir = tempfile::tempdir().unwrap();
    let db = Db::open(&crate::store::sqlite_url_in(data_dir.path()))
        .await
        .unwrap();
    let Some(services) = services(data_dir.path(), db.clone()) else {
        return;
    };
    let (carrier, events, mut sent) = ScriptedCarrier::new();
    events
        .send(CarrierEvent::Malformed(anyhow::anyhow!("garbage")))
        .unwrap();
    events.send(CarrierEvent::Started(started())).unwrap();
    let call = tokio::spawn(run_stream(services, Box::new(carrier)));

    // The greeting: 20 ms frames of audio, then its mark; the caller hears it.
    let frames = hear_one_reply(&events, &mut sent).await;
    assert!(frames >= 25, "half a second of greeting at least: {frames}");

    // The agent's words heard: the transfer, then the line let go.
    let summary = tokio::time::timeout(std::time::Duration::from_secs(60), call)
        .await
        .expect("the call did not end")
        .unwrap();
    assert_eq!(
        summary.end,
        StreamEnd::Transferred {
            number: STAFF.into()
        }
    );
    assert_eq!(summary.bad_messages, 2);
    assert_eq!(summary.carrier_call_id.as_deref(), Some("CALL1"));
    let mut after = Vec::new();
    while let Some(s) = sent.recv().await {
        after.push(s);
    }
    assert_eq!(after, [Sent::Transfer(STAFF.into()), Sent::HangUp]);

    let stored = db
        .get_call(summary.call_id.as_deref().unwrap())
        .await
        .unwrap()
        .expect("the call is stored");
    assert_eq!(stored.provider, "scripted");
    assert_eq!(stored.provider_call_id.as_deref(), Some("CALL1"));
    assert_eq!(stored.from.as_deref(), Some("+15555550123"));
    // Not `transferred` until the carrier reports that staff answered;
    // the stream's end is not a caller hanging up either.
    assert_eq!(stored.outcome, "escalated");
}

#[tokio::test]
async fn a_refused_transfer_leaves_the_caller_on_the_line_and_they_are_told() {
    let data_dir = tempfile::tempdir().unwrap();
    let db = Db::open(&crate::store::sqlite_url_in(data_dir.path()))
        .await
        .unwrap();
    let Some(services) = services(data_dir.path(), db.clone()) else {
        return;
    };
    let (mut carrier, events, mut sent) = ScriptedCarrier::new();
    carrier.refuse_transfer = true;
    events.send(CarrierEvent::Started(started())).unwrap();
    let call = tokio::spawn(run_stream(services, Box::new(carrier)));

    hear_one_reply(&events, &mut sent).await;
    // The carrier refuses; the line stays up and the apology is played.
    assert_eq!(
        next_sent(&mut sent).await,
        Some(Sent::Transfer(STAFF.into()))
    );
    let frames = hear_one_reply(&events, &mut sent).await;
    assert!(frames >= 25, "the apology is spoken: {frames} frames");
    let summary = tokio::time::timeout(std::time::Duration::from_secs(60), call)
        .await
        .expect("the call did not end")
        .unwrap();
    assert_eq!(summary.end, StreamEnd::AgentHungUp);
    assert_eq!(next_sent(&mut sent).await, Some(Sent::HangUp));
    let stored = db
        .get_call(summary.call_id.as_deref().unwrap())
        .await
        .unwrap()
        .expect("the call is stored");
    assert_eq!(stored.outcome, "escalated");
    let turns = db.list_turns(&stored.id).await.unwrap();
    assert!(
        turns
            .iter()
            .any(|t| t.text.contains("could not put you through")),
        "{turns:?}"
    );
}

#[tokio::test]
async fn a_caller_gone_before_the_transfer_is_not_counted_transferred() {
    let data_dir = tempfile::tempdir().unwrap();
    let db = Db::open(&crate::store::sqlite_url_in(data_dir.path()))
        .await
        .unwrap();
    let Some(services) = services(data_dir.path(), db.clone()) else {
        return;
    };
    let (carrier, events, mut sent) = ScriptedCarrier::new();
    events.send(CarrierEvent::Started(started())).unwrap();
    let call = tokio::spawn(run_stream(services, Box::new(carrier)));
    // "Please hold" is playing when the caller hangs up.
    while !matches!(next_sent(&mut sent).await, Some(Sent::Mark(_))) {}
    events.send(CarrierEvent::Stopped).unwrap();
    let summary = tokio::time::timeout(std::time::Duration::from_secs(60), call)
        .await
        .expect("the call did not end")
        .unwrap();
    assert_eq!(summary.end, StreamEnd::Stopped);
    let mut after = Vec::new();
    while let Some(s) = sent.recv().await {
        after.push(s);
    }
    assert_eq!(after, [Sent::HangUp], "nobody was rung");
    let stored = db
        .get_call(summary.call_id.as_deref().unwrap())
        .await
        .unwrap()
        .expect("the call is stored");
    assert_eq!(stored.outcome, "escalated");
}

/// The transcript queue with a stalled call loop: recognition tasks that
/// find it full wait with their transcripts; none is dropped, and the loop
/// gets every one once it reads again.
#[tokio::test]
async fn a_full_transcript_queue_makes_recognition_wait_and_loses_nothing() {
    let (tx, mut stalled) = mpsc::channel::<Transcribed>(TRANSCRIPT_QUEUE);
    let extra = 4;
    let total = TRANSCRIPT_QUEUE as u64 + extra;
    let mut senders = Vec::new();
    for seq in 0..total {
        let tx = tx.clone();
        senders.push(tokio::spawn(async move {
            let now = std::time::Instant::now();
            let _ = tx
                .send(Transcribed {
                    seq,
                    start_sample: seq * 8000,
                    end_sample: seq * 8000 + 4000,
                    recognition: Recognition {
                        result: Ok(format!("utterance {seq}")),
                        started: now,
                        done: now,
                        turn_complete: None,
                    },
                    turn_audio: Vec::new(),
                })
                .await;
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let waiting = senders.iter().filter(|s| !s.is_finished()).count();
    assert_eq!(
        waiting as u64, extra,
        "the queue is bounded at {TRANSCRIPT_QUEUE}"
    );

    let mut seen = Vec::new();
    for _ in 0..total {
        let done = tokio::time::timeout(std::time::Duration::from_secs(5), stalled.recv())
            .await
            .expect("a waiting transcript was delivered")
            .unwrap();
        assert_eq!(
            done.recognition.result.unwrap(),
            format!("utterance {}", done.seq)
        );
        seen.push(done.seq);
    }
    seen.sort();
    assert_eq!(seen, (0..total).collect::<Vec<_>>());
    for sender in senders {
        sender.await.unwrap();
    }
}

/// Greets and listens; `outcome` is what the greeting already decided.
/// Counts the times it is told the server ended the call unfinished.
struct GreetAndListen {
    outcome: Option<Outcome>,
    cut_off: Arc<std::sync::atomic::AtomicUsize>,
}

impl crate::call::Conversation for GreetAndListen {
    fn handle(&mut self, event: CallEvent) -> BoxFuture<'_, anyhow::Result<AgentTurn>> {
        let outcome = self.outcome;
        Box::pin(async move {
            Ok(match event {
                CallEvent::Started => AgentTurn {
                    say: vec!["Hello, how can I help?".into()],
                    outcome,
                    ..Default::default()
                },
                _ => AgentTurn::default(),
            })
        })
    }

    fn ended_by_server(&mut self) -> BoxFuture<'_, anyhow::Result<Option<Outcome>>> {
        self.cut_off
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async { Ok(Some(Outcome::Escalated)) })
    }
}

impl ConversationFactory for GreetAndListen {
    fn start(&self, _call: &CallInfo) -> Box<dyn crate::call::Conversation> {
        Box::new(GreetAndListen {
            outcome: self.outcome,
            cut_off: self.cut_off.clone(),
        })
    }

    fn fixed_sentences(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Runs a call that is greeted, then ended by the server's stop; returns
/// how many times the conversation was told it was cut off, and the
/// stored outcome.
async fn ended_by_the_stop(outcome: Option<Outcome>) -> Option<(usize, String)> {
    let data_dir = tempfile::tempdir().unwrap();
    let db = Db::open(&crate::store::sqlite_url_in(data_dir.path()))
        .await
        .unwrap();
    let cut_off = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let factory = Arc::new(GreetAndListen {
        outcome,
        cut_off: cut_off.clone(),
    });
    let services = services_with(data_dir.path(), db.clone(), factory)?;
    let drain = services.drain.clone();
    let (carrier, events, mut sent) = ScriptedCarrier::new();
    events.send(CarrierEvent::Started(started())).unwrap();
    let call = tokio::spawn(run_stream(services, Box::new(carrier)));
    hear_one_reply(&events, &mut sent).await;
    // The drain deadline passes: the stop's goodbye, heard, then the end.
    drain.end_calls();
    let frames = hear_one_reply(&events, &mut sent).await;
    assert!(frames >= 25, "the goodbye is spoken: {frames} frames");
    let summary = tokio::time::timeout(std::time::Duration::from_secs(60), call)
        .await
        .expect("the call did not end")
        .unwrap();
    assert_eq!(summary.end, StreamEnd::ShutDown);
    let stored = db
        .get_call(summary.call_id.as_deref().unwrap())
        .await
        .unwrap()
        .expect("the call is stored");
    Some((
        cut_off.load(std::sync::atomic::Ordering::SeqCst),
        stored.outcome,
    ))
}

#[tokio::test]
async fn a_call_the_stop_ends_before_any_outcome_leaves_its_business_to_staff() {
    let Some((told, outcome)) = ended_by_the_stop(None).await else {
        return;
    };
    assert_eq!(told, 1, "the conversation was told once");
    assert_eq!(outcome, "escalated", "the task's outcome stands");
}

#[tokio::test]
async fn a_call_the_stop_ends_after_its_outcome_leaves_nothing_more() {
    let Some((told, outcome)) = ended_by_the_stop(Some(Outcome::Booked)).await else {
        return;
    };
    assert_eq!(told, 0, "a finished call was treated as cut off");
    assert_eq!(outcome, "booked");
}
