//! The endpointing rules, one table row per rule, on synthetic windows: a
//! script of speech probabilities and levels goes in, and every event
//! comes out with the sample count at which it was returned. No model, no
//! corpus. (The same rules on real speech through Silero:
//! `silero_tests.rs`.)
//!
//! Positions are written in windows of 32 ms: `w(n)` is the start of
//! window `n`. With the default configuration `min_speech_ms` is 5
//! windows, `speculate_after_ms` and `tail_ms` 2, `end_silence_ms` 10
//! (300 ms rounded up to whole windows) and `pre_roll_ms` 1,600 samples.

use super::*;

const W: u64 = WINDOW_SAMPLES as u64;
const PRE_ROLL: u64 = 1_600;

const fn w(n: u64) -> u64 {
    n * W
}

/// What Silero would say: clearly speech, between the thresholds, silent.
const SPEECH: f32 = 0.9;
const BAND: f32 = 0.42;
const SILENT: f32 = 0.05;
/// A voice on the line, and one faded below `DEFAULT_QUIET_DBFS`.
const LOUD_DBFS: f32 = -20.0;
const FAINT_DBFS: f32 = -70.0;
/// People talking behind the caller.
const BABBLE_DBFS: f32 = -40.0;

#[derive(Clone, Copy, Debug)]
enum Step {
    /// `n` windows of this speech probability at this level.
    Windows { n: u64, p: f32, dbfs: f32 },
    /// The call asks to end at the last pause offered (`end_at_pause`).
    EndAtPause,
    /// ... with positions that are not that pause's.
    EndAtOtherPause,
    /// Hang-up, `partial` loud samples after the last whole window.
    Finish { partial: usize },
}

/// Speech: Silero sure, the voice loud.
fn speech(n: u64) -> Step {
    Step::Windows {
        n,
        p: SPEECH,
        dbfs: LOUD_DBFS,
    }
}

/// Silence: the voice gone and Silero agreeing.
fn silence(n: u64) -> Step {
    Step::Windows {
        n,
        p: SILENT,
        dbfs: FAINT_DBFS,
    }
}

/// The voice below the quiet level while Silero still hears speech (its
/// probability lags the voice by 100–230 ms).
fn fading(n: u64) -> Step {
    Step::Windows {
        n,
        p: SPEECH,
        dbfs: FAINT_DBFS,
    }
}

/// Loud, with a probability between the silence and speech thresholds.
fn band(n: u64) -> Step {
    Step::Windows {
        n,
        p: BAND,
        dbfs: LOUD_DBFS,
    }
}

/// Voices behind the caller: Silero hears speech, 20 dB under `LOUD_DBFS`.
fn babble(n: u64) -> Step {
    Step::Windows {
        n,
        p: SPEECH,
        dbfs: BABBLE_DBFS,
    }
}

/// An event without its audio (checked against the input by [`run`]).
#[derive(Clone, Debug, PartialEq)]
enum Ev {
    Started {
        at: u64,
    },
    Paused {
        start: u64,
        end: u64,
    },
    Resumed,
    Ended {
        start: u64,
        end: u64,
        speech: (u64, u64),
        reason: EndReason,
    },
}

fn ended(start: u64, end: u64, speech: (u64, u64), reason: EndReason) -> Ev {
    Ev::Ended {
        start,
        end,
        speech,
        reason,
    }
}

/// Samples at `dbfs` (RMS), alternating in sign and varying with their
/// position, so that audio taken from the wrong place would not match.
fn synthesise(first_sample: usize, n: usize, dbfs: f32) -> Vec<i16> {
    let amplitude = 32768.0 * 10f32.powf(dbfs / 20.0);
    (first_sample..first_sample + n)
        .map(|i| {
            let wobble = 1.0 + (i % 5) as f32 * 0.02;
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            (sign * amplitude * wobble) as i16
        })
        .collect()
}

/// Runs a script; returns each event with the samples processed when it
/// was returned. Checks on the way that every offered and ended
/// utterance's samples are the input at its positions.
fn run(config: EndpointConfig, script: &[Step]) -> Vec<(u64, Ev)> {
    let mut rules = EndpointRules::new(config);
    let mut audio: Vec<i16> = Vec::new();
    let mut last_pause = (0, 0);
    let mut out = Vec::new();
    for step in script {
        let mut events = Vec::new();
        let mut emitted_at = Vec::new();
        match *step {
            Step::Windows { n, p, dbfs } => {
                for _ in 0..n {
                    let window = synthesise(audio.len(), WINDOW_SAMPLES, dbfs);
                    audio.extend_from_slice(&window);
                    rules.on_window(&window, p, &mut events);
                    emitted_at.resize(events.len(), rules.processed_samples());
                }
            }
            Step::EndAtPause => events = rules.end_at_pause(last_pause.0, last_pause.1),
            Step::EndAtOtherPause => {
                events = rules.end_at_pause(last_pause.0, last_pause.1 + 1);
            }
            Step::Finish { partial } => {
                let partial = synthesise(audio.len(), partial, LOUD_DBFS);
                audio.extend_from_slice(&partial);
                events = rules.finish(&partial);
            }
        }
        emitted_at.resize(events.len(), rules.processed_samples());
        for (event, at) in events.into_iter().zip(emitted_at) {
            let audio_at = |start: u64, end: u64| &audio[start as usize..end as usize];
            let event = match event {
                VadEvent::SpeechStarted { at_sample } => Ev::Started { at: at_sample },
                VadEvent::Paused {
                    samples,
                    start_sample,
                    end_sample,
                } => {
                    assert!(
                        samples == audio_at(start_sample, end_sample),
                        "paused audio"
                    );
                    last_pause = (start_sample, end_sample);
                    Ev::Paused {
                        start: start_sample,
                        end: end_sample,
                    }
                }
                VadEvent::Resumed => Ev::Resumed,
                VadEvent::UtteranceEnded {
                    samples,
                    start_sample,
                    end_sample,
                    speech_start_sample,
                    speech_end_sample,
                    reason,
                } => {
                    assert!(samples == audio_at(start_sample, end_sample), "ended audio");
                    ended(
                        start_sample,
                        end_sample,
                        (speech_start_sample, speech_end_sample),
                        reason,
                    )
                }
            };
            out.push((at, event));
        }
    }
    out
}

/// The configuration the table is written for, spelled out.
fn table_config() -> EndpointConfig {
    EndpointConfig {
        speech_threshold: 0.5,
        silence_threshold: 0.35,
        min_speech_ms: 160,
        end_silence_ms: 300,
        pre_roll_ms: 200,
        tail_ms: 64,
        max_utterance_ms: 25_000,
        speculate_after_ms: 64,
        end_on_finished_sentence: true,
        quiet_dbfs: Some(DEFAULT_QUIET_DBFS),
        background_margin_db: Some(DEFAULT_BACKGROUND_MARGIN_DB),
    }
}

/// The table describes the endpointer calls run with.
#[test]
fn the_table_is_written_for_the_default_config() {
    assert_eq!(table_config(), EndpointConfig::default());
    assert_eq!(ms_to_samples(200), PRE_ROLL);
}

struct Row {
    rule: &'static str,
    config: EndpointConfig,
    script: Vec<Step>,
    expect: Vec<(u64, Ev)>,
}

fn rows() -> Vec<Row> {
    use EndReason::{Finished, MaxLength, Sentence, Silence};
    use Ev::{Paused, Resumed, Started};
    // The rules on a quiet line without the background gate, so rows can
    // start at the first sample; the gate's own rows use the defaults.
    let config = || EndpointConfig {
        background_margin_db: None,
        ..table_config()
    };
    vec![
        Row {
            rule: "speech starts at its first window once min_speech_ms confirms it, \
                   with pre_roll_ms of audio before it, and ends after end_silence_ms \
                   of Silero's silence, keeping tail_ms of it",
            config: config(),
            script: vec![silence(10), speech(5), silence(10)],
            expect: vec![
                (w(15), Started { at: w(10) }),
                (
                    w(17),
                    Paused {
                        start: w(10) - PRE_ROLL,
                        end: w(17),
                    },
                ),
                (
                    w(25),
                    ended(w(10) - PRE_ROLL, w(17), (w(10), w(15)), Silence),
                ),
            ],
        },
        Row {
            rule: "at the start of the stream the pre-roll is what was heard",
            config: config(),
            script: vec![silence(2), speech(5), silence(10)],
            expect: vec![
                (w(7), Started { at: w(2) }),
                (
                    w(9),
                    Paused {
                        start: 0,
                        end: w(9),
                    },
                ),
                (w(17), ended(0, w(9), (w(2), w(7)), Silence)),
            ],
        },
        Row {
            rule: "the next utterance's pre-roll is the silence trimmed from the last",
            config: config(),
            script: vec![speech(6), silence(10), speech(5), silence(10)],
            expect: vec![
                (w(5), Started { at: 0 }),
                (
                    w(8),
                    Paused {
                        start: 0,
                        end: w(8),
                    },
                ),
                (w(16), ended(0, w(8), (0, w(6)), Silence)),
                (w(21), Started { at: w(16) }),
                (
                    w(23),
                    Paused {
                        start: w(16) - PRE_ROLL,
                        end: w(23),
                    },
                ),
                (
                    w(31),
                    ended(w(16) - PRE_ROLL, w(23), (w(16), w(21)), Silence),
                ),
            ],
        },
        Row {
            rule: "a blip shorter than min_speech_ms is dropped",
            config: config(),
            script: vec![silence(3), speech(4), silence(12)],
            expect: vec![],
        },
        Row {
            rule: "windows between the thresholds never start speech",
            config: config(),
            script: vec![band(20)],
            expect: vec![],
        },
        Row {
            rule: "windows between the thresholds count toward min_speech_ms",
            config: config(),
            script: vec![speech(1), band(4), silence(12)],
            expect: vec![
                (w(5), Started { at: 0 }),
                (
                    w(7),
                    Paused {
                        start: 0,
                        end: w(7),
                    },
                ),
                (w(15), ended(0, w(7), (0, w(5)), Silence)),
            ],
        },
        Row {
            rule: "a window between the thresholds does not cancel Silero's silence",
            config: config(),
            script: vec![speech(6), silence(4), band(1), silence(5)],
            expect: vec![
                (w(5), Started { at: 0 }),
                (
                    w(8),
                    Paused {
                        start: 0,
                        end: w(8),
                    },
                ),
                (w(16), ended(0, w(8), (0, w(6)), Silence)),
            ],
        },
        Row {
            rule: "a pause is offered once after speculate_after_ms; nine silent \
                   windows end nothing, speech takes the offer back (Resumed) and \
                   the next pause is offered afresh",
            config: config(),
            script: vec![speech(6), silence(9), speech(1), silence(10)],
            expect: vec![
                (w(5), Started { at: 0 }),
                (
                    w(8),
                    Paused {
                        start: 0,
                        end: w(8),
                    },
                ),
                (w(16), Resumed),
                (
                    w(18),
                    Paused {
                        start: 0,
                        end: w(18),
                    },
                ),
                (w(26), ended(0, w(18), (w(0), w(16)), Silence)),
            ],
        },
        Row {
            rule: "speculate_after_ms 0 offers no pause",
            config: EndpointConfig {
                speculate_after_ms: 0,
                ..config()
            },
            script: vec![speech(6), silence(10)],
            expect: vec![
                (w(5), Started { at: 0 }),
                (w(16), ended(0, w(8), (0, w(6)), Silence)),
            ],
        },
        Row {
            rule: "a pause is offered no sooner than tail_ms, so it holds the \
                   audio the utterance would end with",
            config: EndpointConfig {
                speculate_after_ms: 32,
                ..config()
            },
            script: vec![speech(6), silence(10)],
            expect: vec![
                (w(5), Started { at: 0 }),
                (
                    w(8),
                    Paused {
                        start: 0,
                        end: w(8),
                    },
                ),
                (w(16), ended(0, w(8), (0, w(6)), Silence)),
            ],
        },
        Row {
            rule: "the pause begins at the first window below quiet_dbfs while \
                   Silero still hears speech, and is offered one window later",
            config: config(),
            script: vec![speech(6), fading(3), silence(10)],
            expect: vec![
                (w(5), Started { at: 0 }),
                (
                    w(9),
                    Paused {
                        start: 0,
                        end: w(8),
                    },
                ),
                (w(19), ended(0, w(8), (0, w(6)), Silence)),
            ],
        },
        Row {
            rule: "quiet_dbfs None: Silero alone says where the pause begins",
            config: EndpointConfig {
                quiet_dbfs: None,
                ..config()
            },
            script: vec![speech(6), fading(3), silence(10)],
            expect: vec![
                (w(5), Started { at: 0 }),
                (
                    w(11),
                    Paused {
                        start: 0,
                        end: w(11),
                    },
                ),
                (w(19), ended(0, w(11), (0, w(9)), Silence)),
            ],
        },
        Row {
            rule: "quiet without Silero's silence never ends the utterance",
            config: config(),
            script: vec![speech(6), fading(20), speech(2)],
            expect: vec![
                (w(5), Started { at: 0 }),
                (
                    w(9),
                    Paused {
                        start: 0,
                        end: w(8),
                    },
                ),
                (w(27), Resumed),
            ],
        },
        Row {
            rule: "an early end at a pause Silero hears as silence ends the \
                   utterance at once with the paused audio; asking again ends nothing",
            config: config(),
            script: vec![
                speech(6),
                silence(2),
                Step::EndAtPause,
                Step::EndAtPause,
                silence(10),
            ],
            expect: vec![
                (w(5), Started { at: 0 }),
                (
                    w(8),
                    Paused {
                        start: 0,
                        end: w(8),
                    },
                ),
                (w(8), ended(0, w(8), (0, w(6)), Sentence)),
            ],
        },
        Row {
            rule: "an early end asked in a pause only the quiet has seen waits \
                   for Silero's silence",
            config: config(),
            script: vec![
                speech(6),
                fading(3),
                Step::EndAtPause,
                fading(2),
                silence(11),
            ],
            expect: vec![
                (w(5), Started { at: 0 }),
                (
                    w(9),
                    Paused {
                        start: 0,
                        end: w(8),
                    },
                ),
                (w(12), ended(0, w(8), (0, w(6)), Sentence)),
            ],
        },
        Row {
            rule: "an early end still waiting for Silero is dropped when speech resumes",
            config: config(),
            script: vec![
                speech(6),
                fading(3),
                Step::EndAtPause,
                speech(2),
                silence(12),
            ],
            expect: vec![
                (w(5), Started { at: 0 }),
                (
                    w(9),
                    Paused {
                        start: 0,
                        end: w(8),
                    },
                ),
                (w(10), Resumed),
                (
                    w(13),
                    Paused {
                        start: 0,
                        end: w(13),
                    },
                ),
                (w(21), ended(0, w(13), (0, w(11)), Silence)),
            ],
        },
        Row {
            rule: "an early end for another pause's positions, or for a pause \
                   speech has resumed after, changes nothing",
            config: config(),
            script: vec![
                speech(6),
                silence(2),
                Step::EndAtOtherPause,
                speech(1),
                Step::EndAtPause,
                silence(10),
            ],
            expect: vec![
                (w(5), Started { at: 0 }),
                (
                    w(8),
                    Paused {
                        start: 0,
                        end: w(8),
                    },
                ),
                (w(9), Resumed),
                (
                    w(11),
                    Paused {
                        start: 0,
                        end: w(11),
                    },
                ),
                (w(19), ended(0, w(11), (0, w(9)), Silence)),
            ],
        },
        Row {
            rule: "max_utterance_ms cuts the utterance, and speech going on starts \
                   the next one at once",
            config: EndpointConfig {
                max_utterance_ms: 640,
                ..config()
            },
            script: vec![speech(22), silence(10)],
            expect: vec![
                (w(5), Started { at: 0 }),
                (w(20), ended(0, w(20), (0, w(20)), MaxLength)),
                (w(20), Started { at: w(20) }),
                (
                    w(24),
                    Paused {
                        start: w(20),
                        end: w(24),
                    },
                ),
                (w(32), ended(w(20), w(24), (w(20), w(22)), Silence)),
            ],
        },
        Row {
            rule: "a hang-up flushes speech in progress with its partial window",
            config: config(),
            script: vec![speech(6), Step::Finish { partial: 100 }],
            expect: vec![
                (w(5), Started { at: 0 }),
                (w(6) + 100, ended(0, w(6) + 100, (0, w(6) + 100), Finished)),
            ],
        },
        Row {
            rule: "a hang-up in a pause: the speech ended where the pause began",
            config: config(),
            script: vec![speech(6), silence(1), Step::Finish { partial: 0 }],
            expect: vec![
                (w(5), Started { at: 0 }),
                (w(7), ended(0, w(7), (0, w(6)), Finished)),
            ],
        },
        Row {
            rule: "on a line with voices behind the caller (Silero hears speech \
                   throughout, 20 dB under the caller) the caller's words start an \
                   utterance and the background after them ends it",
            config: table_config(),
            // The level is smoothed over six windows: the pause begins when
            // the caller's last loud window has left it, at w(65).
            script: vec![babble(40), speech(20), babble(20)],
            expect: vec![
                (w(45), Started { at: w(40) }),
                (
                    w(67),
                    Paused {
                        start: w(40) - PRE_ROLL,
                        end: w(67),
                    },
                ),
                (
                    w(75),
                    ended(w(40) - PRE_ROLL, w(67), (w(40), w(65)), Silence),
                ),
            ],
        },
        Row {
            rule: "on a noisy line a voice only 10 dB over the background does not \
                   start an utterance (12 dB does)",
            config: table_config(),
            script: vec![
                babble(40),
                Step::Windows {
                    n: 20,
                    p: SPEECH,
                    dbfs: BABBLE_DBFS + 10.0,
                },
                babble(20),
            ],
            expect: vec![],
        },
        Row {
            rule: "the background alone starts nothing",
            config: table_config(),
            script: vec![babble(400)],
            expect: vec![],
        },
        Row {
            rule: "nothing starts before the line's level is known (MIN_WINDOWS): \
                   speech there starts when it is, with its pre-roll",
            config: table_config(),
            script: vec![silence(20), speech(12), silence(12)],
            expect: vec![
                (w(30), Started { at: w(25) }),
                (
                    w(34),
                    Paused {
                        start: w(25) - PRE_ROLL,
                        end: w(34),
                    },
                ),
                (
                    w(42),
                    ended(w(25) - PRE_ROLL, w(34), (w(25), w(32)), Silence),
                ),
            ],
        },
        Row {
            rule: "a hang-up drops a blip not yet confirmed",
            config: config(),
            script: vec![speech(3), Step::Finish { partial: 100 }],
            expect: vec![],
        },
    ]
}

#[test]
fn each_rule_on_synthetic_windows() {
    let mut failed = Vec::new();
    for row in rows() {
        let got = run(row.config, &row.script);
        if got != row.expect {
            failed.push(format!(
                "{}\n  script   {:?}\n  expected {:?}\n  got      {:?}",
                row.rule, row.script, row.expect, got
            ));
        }
    }
    assert!(failed.is_empty(), "\n{}", failed.join("\n\n"));
}
