//! How a call ends: the line is let go first, then the last words are
//! transcribed and every write is flushed, so the caller never waits on the
//! bookkeeping.

use super::*;

/// How long (caller audio) the words a caller is saying as the agent's
/// goodbye ends are heard out before the line is let go.
const HEAR_OUT_MS: u64 = 8000;

impl Call {
    /// The server is stopping and this call's drain deadline has passed:
    /// the agent says a short goodbye after what it is saying now and
    /// hangs up. Words the caller says meanwhile are transcribed and kept
    /// but get no reply. An ending the conversation already asked for (a
    /// goodbye, a transfer) goes ahead instead.
    pub(super) fn wind_down(&mut self) {
        tracing::info!("the server is stopping; ending the call");
        self.winding_down = Some(tokio::time::Instant::now() + GOODBYE_LIMIT);
        self.pending_event = None;
        if self.after_speech.is_none() {
            self.speaker.say(vec![
                crate::call::prompts::call_prompts().shutting_down.clone(),
            ]);
            self.after_speech = Some(AfterSpeech::Hangup);
            self.goodbye_ours = true;
        }
    }

    /// The agent has said goodbye, but the caller is speaking, or their
    /// words are being transcribed: the line stays open for them (up to
    /// [`HEAR_OUT_MS`]), so an emergency said now still gets its answer
    /// and its task before the call closes. Not when the server stops the
    /// call: then words get no reply.
    pub(super) fn hearing_out_last_words(&mut self) -> bool {
        let closing = matches!(self.after_speech, Some(AfterSpeech::Hangup))
            && !self.goodbye_ours
            && self.winding_down.is_none();
        let busy = self.caller_talking
            || self.utterances_pending > 0
            || self.held.is_some()
            || self.pending_event.is_some();
        if !closing || !busy {
            return false;
        }
        let until = *self
            .hear_out_until
            .get_or_insert(self.caller_samples + HEAR_OUT_MS * SAMPLE_RATE_HZ / 1000);
        self.caller_samples < until
    }

    pub(super) async fn finish(mut self, end: StreamEnd) -> (StreamEnd, u64) {
        // The server's stop said goodbye before the conversation reached an
        // outcome: the caller's business is unfinished (see below).
        let cut_off = self.goodbye_ours && self.outcome.is_none();
        if let Some(spoken) = self.speaker.hang_up(self.caller_samples) {
            self.on_spoken(spoken);
        }
        // The caller first: let go of the line now (a transfer was made
        // before), then keep the books (late transcripts, the journal),
        // however long they take.
        self.carrier.hang_up();
        // Flush what the caller was saying when the line went: it is
        // transcribed and saved like any other utterance.
        self.listener.finish();
        // The heard queue is bounded and the thread waits while it is full:
        // it is read while the thread flushes, or the flush could wait on it.
        let listener = std::mem::replace(&mut self.listener, Listener::closed());
        let joined = listener.join();
        tokio::pin!(joined);
        let limit = tokio::time::sleep(LISTENER_FLUSH_LIMIT);
        tokio::pin!(limit);
        let mut last_words = Vec::new();
        loop {
            tokio::select! {
                () = &mut joined => break,
                Some(heard) = self.heard.recv() => last_words.push(heard),
                () = &mut limit => {
                    tracing::error!(
                        "the listener thread did not finish in time; the caller's last words are only in the recording"
                    );
                    break;
                }
            }
        }
        while let Ok(heard) = self.heard.try_recv() {
            last_words.push(heard);
        }
        for heard in last_words {
            if let Heard::Utterance { .. } = heard {
                self.on_heard(heard).await;
            }
        }
        while self.utterances_pending > self.reordered.len() {
            match self.transcripts.recv().await {
                Some(done) => {
                    self.reordered.insert(done.seq, done);
                }
                None => break,
            }
        }
        for (_, done) in std::mem::take(&mut self.reordered) {
            self.record_late_transcript(done).await;
        }
        if matches!(
            end,
            StreamEnd::Stopped | StreamEnd::Dropped | StreamEnd::ShutDown
        ) {
            let answer = match self.after_speech.take() {
                // Gone while hearing "please hold": nobody is rung, and the
                // transfer's task becomes a callback (`escalated`).
                Some(AfterSpeech::Transfer { .. }) => {
                    self.conversation
                        .transfer_failed(super::transfer::CALLER_LEFT.into())
                        .await
                }
                _ => self.conversation.handle(CallEvent::Hangup).await,
            };
            match answer {
                Ok(turn) => {
                    if let Some(outcome) = turn.outcome {
                        self.outcome = Some(outcome);
                        self.journal.record(Entry::Outcome(outcome));
                    }
                }
                Err(e) => tracing::error!(
                    error = format!("{e:#}"),
                    "the conversation failed at hang-up"
                ),
            }
        }
        // Nobody may be left waiting for an answer they were never given:
        // the conversation leaves staff a task (the desk: a front-desk
        // callback) and that outcome stands.
        if cut_off {
            match self.conversation.ended_by_server().await {
                Ok(Some(outcome)) => {
                    self.outcome = Some(outcome);
                    self.journal.record(Entry::Outcome(outcome));
                }
                Ok(None) => {}
                Err(e) => tracing::error!(
                    error = format!("{e:#}"),
                    "the conversation failed to leave a task for a call the server ended"
                ),
            }
        }
        // A transfer is `transferred` only once staff answer, which the
        // carrier reports later; until then the caller is escalated (the
        // transfer's task). The stream's end is no hang-up by the caller.
        let fallback = match &end {
            StreamEnd::Transferred { .. } => Outcome::Escalated,
            _ => Outcome::Abandoned,
        };
        self.journal.record(Entry::End(fallback));
        if let Some(recording) = self.recording.take()
            && let Err(e) = recording.finish()
        {
            tracing::error!(error = format!("{e:#}"), "could not finalise the recording");
        }
        let bad_messages = self.bad_messages;
        let Call {
            journal,
            journal_writer,
            ..
        } = self;
        drop(journal);
        let _ = journal_writer.await;
        tracing::info!(end = ?end, bad_messages, "call ended");
        (end, bad_messages)
    }

    /// After hang-up nobody can hear a reply, but the words are kept.
    pub(super) async fn record_late_transcript(&mut self, done: Transcribed) {
        self.utterances_pending -= 1;
        if let Ok(text) = done.recognition.result {
            let text = text.trim().to_string();
            if !text.is_empty() {
                self.journal.record(Entry::Turn(NewTurn {
                    speaker: Who::Caller,
                    text,
                    started_at_ms: (done.start_sample * 1000 / SAMPLE_RATE_HZ) as i64,
                    ended_at_ms: (done.end_sample * 1000 / SAMPLE_RATE_HZ) as i64,
                    intent: None,
                    confidence: None,
                    interrupted: false,
                }));
            }
        }
    }
}
