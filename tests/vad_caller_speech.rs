//! Endpointing on caller speech synthesised with the project's own voice
//! (no corpus needed): where a pause begins once the caller stops.

use std::sync::Arc;

use frontdesk::audio::mulaw;
use frontdesk::audio::vad::{EndReason, EndpointConfig, Vad, VadEvent, VadModel};
use frontdesk::caller::voice::PiperCaller;
use frontdesk::caller::{CallerSpeech, is_voiced};
use frontdesk::models::ModelPaths;
use frontdesk::tts::Tts;

fn models() -> Option<(Arc<VadModel>, Arc<Tts>)> {
    let paths = ModelPaths::locate();
    if !frontdesk::prerequisites::model_present(&paths.voice())
        || !frontdesk::prerequisites::model_present(&paths.vad())
    {
        return None;
    }
    frontdesk::models::init_onnx_runtime(&paths).expect("ONNX Runtime");
    Some((
        Vad::load(&paths).expect("loading Silero VAD"),
        Tts::load(&paths).expect("loading the voice"),
    ))
}

/// Samples received when the pause that ended the line's one utterance
/// was offered for recognition, and that pause's positions.
fn pause_offered_at(
    vad: &Arc<VadModel>,
    config: EndpointConfig,
    audio: &[i16],
) -> (u64, (u64, u64)) {
    let mut endpointer = vad.new_stream(config);
    let mut offered = None;
    let mut utterances = 0;
    for frame in audio.chunks(160) {
        for event in endpointer.push(frame).unwrap() {
            match event {
                VadEvent::Paused {
                    start_sample,
                    end_sample,
                    ..
                } => offered = Some((endpointer.samples_received(), (start_sample, end_sample))),
                VadEvent::Resumed => offered = None,
                VadEvent::UtteranceEnded { .. } => utterances += 1,
                VadEvent::SpeechStarted { .. } => {}
            }
        }
    }
    assert_eq!(utterances, 1, "the line was cut");
    offered.expect("a pause before the end")
}

/// Asks for an early end as soon as the pause at `pause` is offered (as
/// the call does once its words read as a finished sentence): whether
/// Silero already heard silence then, and the line's one utterance.
fn end_early_at(vad: &Arc<VadModel>, audio: &[i16], pause: (u64, u64)) -> (bool, VadEvent) {
    let mut endpointer = vad.new_stream(EndpointConfig::default());
    let mut waited = None;
    let mut ended = Vec::new();
    for frame in audio.chunks(160) {
        for event in endpointer.push(frame).unwrap() {
            match event {
                VadEvent::Paused {
                    start_sample,
                    end_sample,
                    ..
                } if (start_sample, end_sample) == pause => {
                    let now = endpointer.end_at_pause(start_sample, end_sample);
                    waited = Some(now.is_empty());
                    ended.extend(now);
                }
                e @ VadEvent::UtteranceEnded { .. } => ended.push(e),
                _ => {}
            }
        }
    }
    assert_eq!(
        ended.len(),
        1,
        "the line was cut: {} utterances",
        ended.len()
    );
    (waited.expect("the pause was offered"), ended.remove(0))
}

/// Silero's probability stays high while a Piper caller's voice fades
/// out (above 0.35 for 100–230 ms after the last sample above −36 dBFS); counting the pause from the quiet offers it sooner, and
/// still keeps each line whole, and an early end asked for in it comes.
#[test]
fn a_pause_begins_when_the_callers_voice_fades_not_when_silero_lets_go() {
    let Some((vad, tts)) = models() else { return };
    let lines = [
        "Hi, I'd like to make an appointment please.",
        "No, that's everything. Thank you.",
        "Can someone call me back this afternoon?",
    ];
    let (mut gains_ms, mut after_voice_ms) = (Vec::new(), Vec::new());
    let mut waited_for_silero = 0;
    for preset in ["mid", "high-fast", "low-slow"] {
        let voice = PiperCaller::new(tts.clone(), preset).unwrap();
        for line in lines {
            let speech = voice.synthesize(line).unwrap();
            let mut audio = mulaw::decode_frame(&mulaw::encode_frame(&speech));
            let voiced_end = audio.iter().rposition(|&s| is_voiced(s)).unwrap() + 1;
            audio.extend(std::iter::repeat_n(0i16, 8000));
            let (quiet, pause) = pause_offered_at(&vad, EndpointConfig::default(), &audio);
            let (silero, _) = pause_offered_at(
                &vad,
                EndpointConfig {
                    quiet_dbfs: None,
                    ..EndpointConfig::default()
                },
                &audio,
            );
            assert!(quiet <= silero, "{preset}: {line}: the quiet came later");
            gains_ms.push((silero - quiet) / 8);
            after_voice_ms.push((quiet - voiced_end as u64) / 8);
            // Asked for at once, the early end comes with the paused audio,
            // after waiting for Silero to hear silence when it had not yet.
            let (waited, ended) = end_early_at(&vad, &audio, pause);
            waited_for_silero += usize::from(waited);
            let VadEvent::UtteranceEnded {
                start_sample,
                end_sample,
                reason,
                ..
            } = ended
            else {
                unreachable!()
            };
            assert_eq!(
                reason,
                EndReason::Sentence,
                "{preset}: {line}: no early end"
            );
            assert_eq!((start_sample, end_sample), pause);
        }
    }
    let mean = |v: &[u64]| v.iter().sum::<u64>() / v.len() as u64;
    println!(
        "pause offered {} ms after the voice (mean), {} ms sooner than by Silero alone; \
         {waited_for_silero} of {} early ends waited for Silero",
        mean(&after_voice_ms),
        mean(&gains_ms),
        gains_ms.len()
    );
    // 35–53 ms measured (Piper's rendering varies from run to run).
    assert!(
        mean(&gains_ms) >= 15,
        "only {} ms sooner: {gains_ms:?}",
        mean(&gains_ms)
    );
}
