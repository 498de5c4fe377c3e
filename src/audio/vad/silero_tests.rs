//! The endpointer driven by the real Silero model over recorded speech
//! (the Harvard sentences of the shared corpus). Each test skips when the
//! model or the corpus is missing; the rules alone are table-tested in
//! `endpointer_tests.rs`.

use std::sync::Arc;
use std::time::Instant;

use super::VadModel;
use crate::audio::vad::{
    EndReason, EndpointConfig, Vad, VadEvent, WINDOW_SAMPLES, ms_to_samples, samples_to_ms,
};
use crate::models::ModelPaths;

fn model() -> Option<Arc<VadModel>> {
    let paths = ModelPaths::locate();
    if !crate::prerequisites::model_present(&paths.vad())
        || !crate::prerequisites::model_present(&paths.onnxruntime())
    {
        return None;
    }
    static MODEL: std::sync::OnceLock<Arc<VadModel>> = std::sync::OnceLock::new();
    Some(
        MODEL
            .get_or_init(|| Vad::load(&paths).expect("loading Silero VAD"))
            .clone(),
    )
}

fn corpus_wav(name: &str) -> Option<Vec<i16>> {
    let path = crate::prerequisites::corpus_file(&format!("audio/{name}"))?;
    let mut reader = hound::WavReader::open(&path).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16)
    );
    Some(reader.samples::<i16>().map(Result::unwrap).collect())
}

struct Run {
    events: Vec<VadEvent>,
    /// Sample count pushed when each event was returned.
    emitted_at: Vec<u64>,
}

fn run(model: &Arc<VadModel>, config: EndpointConfig, audio: &[i16], frame: usize) -> Run {
    let mut endpointer = model.new_stream(config);
    let mut run = Run {
        events: Vec::new(),
        emitted_at: Vec::new(),
    };
    for chunk in audio.chunks(frame) {
        for event in endpointer.push(chunk).unwrap() {
            run.emitted_at.push(endpointer.samples_received());
            run.events.push(event);
        }
    }
    for event in endpointer.finish() {
        run.emitted_at.push(endpointer.samples_received());
        run.events.push(event);
    }
    run
}

fn utterances(events: &[VadEvent]) -> Vec<&VadEvent> {
    events
        .iter()
        .filter(|e| matches!(e, VadEvent::UtteranceEnded { .. }))
        .collect()
}

#[test]
fn model_inputs_are_as_expected() {
    let Some(model) = model() else { return };
    let session = model.session.lock().unwrap();
    let inputs: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
    let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
    eprintln!("silero inputs {inputs:?} outputs {outputs:?}");
    assert_eq!(inputs, ["input", "state", "sr"]);
    assert_eq!(outputs, ["output", "stateN"]);
}

#[test]
fn harvard_sentences_give_one_utterance_each() {
    let Some(model) = model() else { return };
    let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
        return;
    };
    let config = EndpointConfig::default();
    let started = Instant::now();
    let run = run(&model, config.clone(), &audio, 160);
    let elapsed = started.elapsed();
    let windows = audio.len() / WINDOW_SAMPLES;
    eprintln!(
        "VAD: {windows} windows in {elapsed:?} = {:.1} µs/window (unoptimised test build of our crate)",
        elapsed.as_secs_f64() * 1e6 / windows as f64
    );
    let ends = utterances(&run.events);
    for e in &ends {
        if let VadEvent::UtteranceEnded {
            start_sample,
            end_sample,
            speech_start_sample,
            speech_end_sample,
            ..
        } = e
        {
            eprintln!(
                "utterance {:>6}..{:>6} ms, speech {:>6}..{:>6} ms",
                samples_to_ms(*start_sample),
                samples_to_ms(*end_sample),
                samples_to_ms(*speech_start_sample),
                samples_to_ms(*speech_end_sample)
            );
        }
    }
    // Ten Harvard sentences with pauses between them; the last one ("When
    // you hear the bell, come quickly.") has a ~340 ms pause at its comma,
    // longer than the 300 ms end-of-utterance silence, so it may split.
    assert!(
        (10..=11).contains(&ends.len()),
        "expected ~10 utterances, got {}",
        ends.len()
    );
    // Every utterance is announced first, in order, and ends by silence.
    let mut expecting_start = true;
    let mut previous_end = 0;
    for event in &run.events {
        match event {
            VadEvent::SpeechStarted { .. } => {
                assert!(expecting_start);
                expecting_start = false
            }
            VadEvent::UtteranceEnded {
                samples,
                start_sample,
                end_sample,
                speech_start_sample,
                speech_end_sample,
                reason,
            } => {
                assert!(!expecting_start);
                expecting_start = true;
                assert_eq!(*reason, EndReason::Silence);
                assert_eq!(samples.len() as u64, end_sample - start_sample);
                // The samples are the audio at those positions.
                assert_eq!(
                    &samples[..],
                    &audio[*start_sample as usize..*end_sample as usize]
                );
                // Pre-roll before speech, a short tail after it.
                let pre_roll = speech_start_sample - start_sample;
                assert!(pre_roll <= ms_to_samples(config.pre_roll_ms));
                assert!(pre_roll >= ms_to_samples(config.pre_roll_ms) / 2 || *start_sample == 0);
                assert!(end_sample - speech_end_sample <= ms_to_samples(config.tail_ms));
                let speech_ms = samples_to_ms(speech_end_sample - speech_start_sample);
                assert!(
                    (500..=4_000).contains(&speech_ms),
                    "a sentence (or clause) lasts 0.5-4 s, got {speech_ms} ms"
                );
                assert!(
                    *start_sample >= previous_end,
                    "utterances are in order and disjoint"
                );
                previous_end = *end_sample;
            }
            // Checked by each_pause_that_ends_an_utterance_was_offered_with_the_same_audio.
            VadEvent::Paused { .. } | VadEvent::Resumed => {}
        }
    }
    // End of speech is reported within end_silence of Silero's silence,
    // which may start a few windows after the voice's (`quiet_dbfs`).
    for (event, &at) in run.events.iter().zip(&run.emitted_at) {
        if let VadEvent::UtteranceEnded {
            speech_end_sample, ..
        } = event
        {
            let delay = at - speech_end_sample;
            assert!(
                delay <= ms_to_samples(config.end_silence_ms) + 6 * WINDOW_SAMPLES as u64,
                "utterance reported {} ms after speech ended",
                samples_to_ms(delay)
            );
        }
    }
}

/// Every offered pause is settled: speech resumes (`Resumed`) or the
/// utterance ends, before anything else is offered.
#[test]
fn every_pause_is_followed_by_resumed_speech_or_an_end() {
    let Some(model) = model() else { return };
    let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
        return;
    };
    let events = run(&model, EndpointConfig::default(), &audio, 160).events;
    let (mut open, mut resumed) = (false, 0);
    for event in &events {
        match event {
            VadEvent::Paused { .. } => {
                assert!(!open, "a pause offered before the last one was settled");
                open = true;
            }
            VadEvent::Resumed => {
                assert!(open, "resumed without a pause");
                open = false;
                resumed += 1;
            }
            VadEvent::UtteranceEnded { .. } => open = false,
            VadEvent::SpeechStarted { .. } => assert!(!open),
        }
    }
    assert!(resumed >= 1, "the Harvard sentences pause inside sentences");
}

/// Ending at a pause gives the paused audio, at once or as soon as
/// Silero also hears silence; a stale request (speech resumed, or
/// positions of another pause) changes nothing.
#[test]
fn a_pause_can_end_the_utterance_early_with_the_paused_audio() {
    let Some(model) = model() else { return };
    let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
        return;
    };
    let mut endpointer = model.new_stream(EndpointConfig::default());
    let (mut ended_early, mut waited_for_silero, mut stale_ignored) = (0, 0, 0);
    // The pause whose early end was asked for.
    let mut asked: Option<(Vec<i16>, u64, u64)> = None;
    for chunk in audio.chunks(160) {
        let mut events = endpointer.push(chunk).unwrap();
        while !events.is_empty() {
            let mut more = Vec::new();
            for event in events {
                match event {
                    VadEvent::Paused {
                        samples,
                        start_sample,
                        end_sample,
                    } => {
                        // A request for a pause that is not this one is ignored.
                        assert!(
                            endpointer
                                .end_at_pause(start_sample, end_sample + 1)
                                .is_empty()
                        );
                        stale_ignored += 1;
                        // End the first few pauses early; later ones end by silence.
                        if ended_early <= 3 {
                            more = endpointer.end_at_pause(start_sample, end_sample);
                            waited_for_silero += usize::from(more.is_empty());
                            asked = Some((samples, start_sample, end_sample));
                        }
                    }
                    VadEvent::Resumed => asked = None,
                    VadEvent::UtteranceEnded {
                        samples,
                        start_sample,
                        end_sample,
                        reason,
                        ..
                    } => {
                        let wanted = asked.take();
                        if reason != EndReason::Sentence {
                            continue;
                        }
                        let (paused, s, e) = wanted.expect("an early end nobody asked for");
                        assert_eq!((s, e), (start_sample, end_sample));
                        assert!(paused == samples, "the early end has the paused audio");
                        // Asking twice ends nothing more.
                        assert!(endpointer.end_at_pause(s, e).is_empty());
                        ended_early += 1;
                    }
                    VadEvent::SpeechStarted { .. } => {}
                }
            }
            events = more;
        }
    }
    assert!(ended_early >= 4, "only {ended_early} early ends");
    assert!(stale_ignored >= ended_early);
    // (Waiting for Silero: `tests/vad_caller_speech.rs`.)
    println!("{waited_for_silero} of {ended_early} early ends waited for Silero");
}

/// The pause is offered as soon as the voice stops, with the same audio
/// the utterance then ends with; a short quiet gap inside speech ends
/// nothing. (How much sooner than Silero alone, on a caller's faint
/// tail: `tests/vad_caller_speech.rs`.)
#[test]
fn a_pause_is_offered_from_the_first_quiet_window() {
    let Some(model) = model() else { return };
    let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
        return;
    };
    // The first sentence, cut where its voice ends, then digital silence.
    let config = EndpointConfig::default();
    let first = run(&model, config.clone(), &audio, 160);
    let Some(VadEvent::UtteranceEnded {
        start_sample,
        speech_start_sample,
        speech_end_sample,
        ..
    }) = utterances(&first.events).first().copied().cloned()
    else {
        panic!("no utterance");
    };
    let voiced_end = (start_sample as usize..speech_end_sample as usize + 4000)
        .rev()
        .find(|&i| audio[i].unsigned_abs() >= 300)
        .expect("voice in the first sentence")
        + 1;
    let mut cut = audio[..voiced_end].to_vec();
    cut.extend(std::iter::repeat_n(0i16, 8000));
    let paused_at = |config: EndpointConfig| {
        let run = run(&model, config, &cut, 160);
        let ended = run
            .events
            .iter()
            .position(|e| matches!(e, VadEvent::UtteranceEnded { .. }))
            .expect("an utterance");
        let (i, end) = run.events[..ended]
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, e)| match e {
                VadEvent::Paused { end_sample, .. } => Some((i, *end_sample)),
                _ => None,
            })
            .expect("a pause before the end");
        let VadEvent::UtteranceEnded { end_sample, .. } = &run.events[ended] else {
            unreachable!()
        };
        assert_eq!(
            *end_sample, end,
            "the utterance ends as the pause was offered"
        );
        run.emitted_at[i]
    };
    let with_quiet = paused_at(config.clone());
    let silero_alone = paused_at(EndpointConfig {
        quiet_dbfs: None,
        ..config.clone()
    });
    let after_voice_ms = samples_to_ms(with_quiet - voiced_end as u64);
    assert!(
        after_voice_ms <= u64::from(config.speculate_after_ms) + 64,
        "offered {after_voice_ms} ms after the voice stopped"
    );
    assert!(
        silero_alone >= with_quiet,
        "Silero alone offered the pause sooner"
    );

    // 160 ms of digital silence inside a sentence: a pause is offered
    // and resumed, and the sentence stays one utterance.
    let mut gapped = audio[..voiced_end].to_vec();
    gapped.extend(std::iter::repeat_n(0i16, 1280));
    gapped.extend_from_slice(&audio[speech_start_sample as usize..voiced_end]);
    gapped.extend(std::iter::repeat_n(0i16, 8000));
    let run = run(&model, config, &gapped, 160);
    assert!(run.events.iter().any(|e| matches!(e, VadEvent::Resumed)));
    assert_eq!(utterances(&run.events).len(), 1, "{:?}", run.events.len());
}

#[test]
fn each_pause_that_ends_an_utterance_was_offered_with_the_same_audio() {
    let Some(model) = model() else { return };
    let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
        return;
    };
    let config = EndpointConfig::default();
    let offered = run(&model, config.clone(), &audio, 160);
    let mut last_pause: Option<(&Vec<i16>, u64, u64, u64)> = None;
    let mut matched = 0;
    for (event, &at) in offered.events.iter().zip(&offered.emitted_at) {
        match event {
            VadEvent::Paused {
                samples,
                start_sample,
                end_sample,
            } => {
                assert_eq!(samples.len() as u64, end_sample - start_sample);
                last_pause = Some((samples, *start_sample, *end_sample, at));
            }
            VadEvent::UtteranceEnded {
                samples,
                start_sample,
                end_sample,
                reason: EndReason::Silence,
                ..
            } => {
                let (p_samples, p_start, p_end, p_at) =
                    last_pause.take().expect("a pause before every silence end");
                assert_eq!((p_start, p_end), (*start_sample, *end_sample));
                assert!(p_samples == samples, "paused audio differs");
                // Offered once the pause had lasted long enough.
                let pause_start = p_end - ms_to_samples(config.tail_ms);
                let waited_ms = samples_to_ms(p_at - pause_start);
                assert!(
                    waited_ms >= u64::from(config.speculate_after_ms.max(config.tail_ms)),
                    "the pause was offered {waited_ms} ms after it began"
                );
                assert!(at > p_at);
                matched += 1;
            }
            VadEvent::SpeechStarted { .. } | VadEvent::Resumed => last_pause = None,
            VadEvent::UtteranceEnded { .. } => {}
        }
    }
    assert!(matched >= 5, "only {matched} utterances");
    // Without speculation no pause is offered.
    let off = EndpointConfig {
        speculate_after_ms: 0,
        ..config
    };
    let quiet = run(&model, off, &audio, 160);
    assert!(
        !quiet
            .events
            .iter()
            .any(|e| matches!(e, VadEvent::Paused { .. }))
    );
    assert_eq!(utterances(&quiet.events), utterances(&offered.events));
}

#[test]
fn frame_size_does_not_change_events() {
    let Some(model) = model() else { return };
    let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
        return;
    };
    let audio = &audio[..8000 * 10];
    let reference = run(&model, EndpointConfig::default(), audio, 160).events;
    assert!(!utterances(&reference).is_empty());
    for frame in [1, 37, 256, 1000, audio.len()] {
        assert_eq!(
            run(&model, EndpointConfig::default(), audio, frame).events,
            reference,
            "frame {frame}"
        );
    }
}

#[test]
fn streams_sharing_a_model_keep_their_own_state() {
    let Some(model) = model() else { return };
    let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
        return;
    };
    let audio = &audio[..8000 * 8];
    let alone = run(&model, EndpointConfig::default(), audio, 160).events;
    // Interleave a speech stream with a silence stream on the same model.
    let mut speech = model.new_stream(EndpointConfig::default());
    let mut silence = model.new_stream(EndpointConfig::default());
    let mut events = Vec::new();
    for chunk in audio.chunks(160) {
        events.extend(speech.push(chunk).unwrap());
        assert!(silence.push(&[0; 160]).unwrap().is_empty());
    }
    events.extend(speech.finish());
    assert_eq!(events, alone);
    // And from several threads at once.
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let model = Arc::clone(&model);
            let audio = audio.to_vec();
            std::thread::spawn(move || run(&model, EndpointConfig::default(), &audio, 160).events)
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), alone);
    }
}

#[test]
fn silence_and_noise_give_no_utterance() {
    let Some(model) = model() else { return };
    let silence = vec![0i16; 8000 * 10];
    assert!(
        run(&model, EndpointConfig::default(), &silence, 160)
            .events
            .is_empty()
    );
    // Deterministic white noise at about -30 dBFS, and line hiss at -50 dBFS.
    let mut seed: u32 = 0x1234_5678;
    let mut noise = |amplitude: f32| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        ((seed >> 16) as f32 / 65_535.0 * 2.0 - 1.0) * amplitude
    };
    let loud: Vec<i16> = (0..8000 * 10).map(|_| noise(1_700.0) as i16).collect();
    let hiss: Vec<i16> = (0..8000 * 10).map(|_| noise(170.0) as i16).collect();
    for (name, audio) in [("noise", loud), ("hiss", hiss)] {
        let events = run(&model, EndpointConfig::default(), &audio, 160).events;
        assert!(
            utterances(&events).is_empty(),
            "{name} produced {} events",
            events.len()
        );
    }
}

#[test]
fn long_speech_is_cut_at_max_length() {
    let Some(model) = model() else { return };
    let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
        return;
    };
    let config = EndpointConfig {
        max_utterance_ms: 1_000,
        ..EndpointConfig::default()
    };
    let events = run(&model, config.clone(), &audio, 160).events;
    let mut cuts = 0;
    for event in utterances(&events) {
        let VadEvent::UtteranceEnded {
            samples, reason, ..
        } = event
        else {
            unreachable!()
        };
        assert!(samples.len() as u64 <= ms_to_samples(1_000) + WINDOW_SAMPLES as u64);
        cuts += usize::from(*reason == EndReason::MaxLength);
    }
    assert!(
        cuts >= 10,
        "every 1.5-3 s sentence is cut at least once, got {cuts}"
    );
}

#[test]
fn finish_flushes_speech_in_progress() {
    let Some(model) = model() else { return };
    let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
        return;
    };
    let full = run(&model, EndpointConfig::default(), &audio, 160).events;
    let VadEvent::UtteranceEnded {
        speech_start_sample,
        speech_end_sample,
        ..
    } = utterances(&full)[0]
    else {
        unreachable!()
    };
    // Hang up in the middle of the first sentence.
    let cut = ((speech_start_sample + speech_end_sample) / 2) as usize + 77;
    let mut endpointer = model.new_stream(EndpointConfig::default());
    let mut events = endpointer.push(&audio[..cut]).unwrap();
    assert_eq!(
        events,
        vec![VadEvent::SpeechStarted {
            at_sample: *speech_start_sample
        }]
    );
    events = endpointer.finish();
    let [
        VadEvent::UtteranceEnded {
            samples,
            end_sample,
            reason,
            ..
        },
    ] = &events[..]
    else {
        panic!("expected one utterance, got {events:?}")
    };
    assert_eq!(*reason, EndReason::Finished);
    assert_eq!(*end_sample, cut as u64, "the partial window is included");
    assert_eq!(samples.last(), audio.get(cut - 1));
    assert!(endpointer.finish().is_empty(), "nothing is emitted twice");
}

/// Per-window cost. `cargo test --release --lib audio::vad::silero::tests::bench -- --ignored --nocapture`
#[test]
#[ignore]
fn bench_window_cost() {
    let Some(model) = model() else { return };
    let Some(audio) = corpus_wav("osr_us_000_0034_8k.wav") else {
        return;
    };
    let mut detector = model.new_detector();
    let windows: Vec<&[i16]> = audio.chunks_exact(WINDOW_SAMPLES).collect();
    for window in windows.iter().take(20) {
        detector.probability(window).unwrap();
    }
    let mut per_window_us: Vec<f64> = Vec::new();
    for _ in 0..3 {
        detector.reset();
        for window in &windows {
            let started = Instant::now();
            detector.probability(window).unwrap();
            per_window_us.push(started.elapsed().as_secs_f64() * 1e6);
        }
    }
    per_window_us.sort_by(f64::total_cmp);
    let mean = per_window_us.iter().sum::<f64>() / per_window_us.len() as f64;
    let p = |q: f64| per_window_us[((per_window_us.len() - 1) as f64 * q) as usize];
    eprintln!(
        "silero window (256 samples = 32 ms): mean {mean:.1} µs, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs over {} windows; real-time factor {:.4}",
        p(0.5),
        p(0.99),
        p(1.0),
        per_window_us.len(),
        mean / 32_000.0
    );
}
