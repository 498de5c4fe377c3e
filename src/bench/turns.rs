//! `frontdesk bench turns`: talk-over. Does the agent start speaking in a
//! pause the caller makes mid-sentence, and how soon does it answer a
//! finished one?
//!
//! Caller lines are synthesised at run time in the caller voices, piece by
//! piece, and joined with a silence of 600–1200 ms where the sentence is
//! plainly unfinished ("I'd like to book … a physical with … Dr. Patel
//! next week."); the same lines are also said whole. Each line is played
//! first after the greeting and second, after another line of its kind,
//! one call at a time in real time on the real server (scratch SQLite)
//! over the real websocket. `--clip` adds a recording (e.g. one with
//! natural pauses) as a line of its own. Per line it prints the talk-over
//! onsets (`caller::talk_over`: the agent starting to speak before the
//! line's voice ended) and at which pause they came, then the onsets per
//! material and the reply latency p50/p95 after finished and after paused
//! lines. It measures; it does not judge: the exit status is 0 whatever
//! the figures.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::app::{Application, Engines};
use crate::caller::voice::PiperCaller;
use crate::caller::{CallEnd, CallReport, CallerOptions, CallerSpeech, ScriptStep, is_voiced};
use crate::settings::Settings;

use super::{VOICES, percentile, print_stages, scratch_settings};

/// A caller line in pieces, with the silence to put after each piece but
/// the last. Every piece but the last ends where the sentence cannot.
pub struct PausedLine {
    pub pieces: &'static [&'static str],
    pub pauses_ms: &'static [u64],
}

/// The lines: one or two pauses each, at word boundaries where the
/// sentence is plainly unfinished, 600–1200 ms long.
pub const PAUSED_LINES: &[PausedLine] = &[
    PausedLine {
        pieces: &[
            "I'd like to book",
            "a physical with",
            "Dr. Patel next week.",
        ],
        pauses_ms: &[800, 1000],
    },
    PausedLine {
        pieces: &[
            "My date of birth is",
            "March fourth",
            "nineteen eighty five.",
        ],
        pauses_ms: &[900, 700],
    },
    PausedLine {
        pieces: &["Can you tell me if", "you take Aetna?"],
        pauses_ms: &[1000],
    },
    PausedLine {
        pieces: &["I need to cancel my appointment on", "Thursday afternoon."],
        pauses_ms: &[1100],
    },
    PausedLine {
        pieces: &[
            "My phone number is",
            "five five five, two one two,",
            "four three four three.",
        ],
        pauses_ms: &[800, 900],
    },
    PausedLine {
        pieces: &[
            "I'm calling because",
            "I've had a bad cough for",
            "about two weeks.",
        ],
        pauses_ms: &[1200, 700],
    },
    PausedLine {
        pieces: &[
            "Could I move my appointment with",
            "Dr. Nguyen to",
            "a later time on Friday?",
        ],
        pauses_ms: &[900, 1100],
    },
    PausedLine {
        pieces: &["My name is", "Maria Gonzalez."],
        pauses_ms: &[1000],
    },
    PausedLine {
        pieces: &[
            "I was wondering whether",
            "the clinic is open on",
            "Saturday mornings.",
        ],
        pauses_ms: &[800, 1000],
    },
    PausedLine {
        pieces: &[
            "I'd like to get a refill of my",
            "blood pressure medication.",
        ],
        pauses_ms: &[1100],
    },
    PausedLine {
        pieces: &[
            "Do you have anything open on",
            "Tuesday or",
            "Wednesday morning?",
        ],
        pauses_ms: &[700, 1200],
    },
    PausedLine {
        pieces: &[
            "I got a bill for",
            "a visit in",
            "October that I already paid.",
        ],
        pauses_ms: &[900, 600],
    },
];

/// A silence inside a caller line, relative to the line's first sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pause {
    /// What was said before it, or where it is.
    pub after: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    /// Pieces synthesised one by one and joined with silences: each piece
    /// ends as a sentence does.
    Paused,
    /// The line synthesised whole, silences cut into it near the same
    /// word boundaries: the voice is left mid-sentence, as a caller's is.
    Cut,
    Finished,
    Clip,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Paused => "paused lines",
            Kind::Cut => "lines cut mid-sentence",
            Kind::Finished => "finished lines",
            Kind::Clip => "clip",
        }
    }
}

/// A caller line ready to play.
struct Material {
    kind: Kind,
    label: String,
    samples: Vec<i16>,
    pauses: Vec<Pause>,
}

/// The voiced span of `samples` (first to last voiced sample), or empty.
fn voiced_span(samples: &[i16]) -> std::ops::Range<usize> {
    match (
        samples.iter().position(|&s| is_voiced(s)),
        samples.iter().rposition(|&s| is_voiced(s)),
    ) {
        (Some(first), Some(last)) => first..last + 1,
        _ => 0..0,
    }
}

/// Joins synthesised pieces with exactly `pauses_ms` of silence between
/// the last voiced sample of one and the first voiced sample of the next
/// (the first piece keeps its lead-in, the last its tail). Returns the
/// line and its pauses.
pub fn join_with_pauses(pieces: &[(&str, Vec<i16>)], pauses_ms: &[u64]) -> (Vec<i16>, Vec<Pause>) {
    let mut line = Vec::new();
    let mut pauses = Vec::new();
    let last = pieces.len().saturating_sub(1);
    for (i, (text, samples)) in pieces.iter().enumerate() {
        let span = voiced_span(samples);
        let from = if i == 0 { 0 } else { span.start };
        let to = if i == last { samples.len() } else { span.end };
        line.extend_from_slice(&samples[from.min(to)..to]);
        if i < last {
            let ms = pauses_ms.get(i).copied().unwrap_or(0);
            let start_ms = line.len() as u64 / 8;
            line.resize(line.len() + (ms * 8) as usize, 0);
            pauses.push(Pause {
                after: (*text).to_string(),
                start_ms,
                end_ms: start_ms + ms,
            });
        }
    }
    (line, pauses)
}

/// How far from its estimated place a cut may move to find a gap
/// between words.
const CUT_SEARCH_MS: usize = 200;

/// Cuts a line synthesised whole at the quietest 20 ms near each piece
/// boundary (placed by the share of characters before it, within
/// [`CUT_SEARCH_MS`]) and puts `pauses_ms` of silence there. Returns the
/// line and its pauses.
pub fn cut_with_pauses(
    whole: &[i16],
    pieces: &[&str],
    pauses_ms: &[u64],
) -> (Vec<i16>, Vec<Pause>) {
    const FRAME: usize = 160;
    const STEP: usize = 40;
    let span = voiced_span(whole);
    let total_chars = pieces.iter().map(|p| p.len() + 1).sum::<usize>().max(1);
    let energy = |at: usize| -> f64 {
        whole[at..(at + FRAME).min(whole.len())]
            .iter()
            .map(|&s| f64::from(s).powi(2))
            .sum()
    };
    let mut cuts = Vec::new();
    let mut chars = 0;
    for piece in &pieces[..pieces.len().saturating_sub(1)] {
        chars += piece.len() + 1;
        let estimate = span.start + span.len() * chars / total_chars;
        let reach = CUT_SEARCH_MS * 8;
        let from = estimate.saturating_sub(reach).max(span.start);
        let to = (estimate + reach).min(span.end.saturating_sub(FRAME));
        let best = (from..=to.max(from))
            .step_by(STEP)
            .min_by(|&a, &b| energy(a).total_cmp(&energy(b)))
            .unwrap_or(estimate);
        cuts.push((best + FRAME / 2).min(whole.len()));
    }
    let mut line = Vec::new();
    let mut pauses = Vec::new();
    let mut at = 0;
    for (k, &cut) in cuts.iter().enumerate() {
        let cut = cut.max(at);
        line.extend_from_slice(&whole[at..cut]);
        let ms = pauses_ms.get(k).copied().unwrap_or(0);
        let start_ms = line.len() as u64 / 8;
        line.resize(line.len() + (ms * 8) as usize, 0);
        pauses.push(Pause {
            after: pieces[k].to_string(),
            start_ms,
            end_ms: start_ms + ms,
        });
        at = cut;
    }
    line.extend_from_slice(&whole[at..]);
    (line, pauses)
}

/// The shortest silence in a `--clip` counted as a pause.
pub const CLIP_PAUSE_MIN_MS: u64 = 400;

/// Silences of at least `min_ms` inside the speech of `samples` (8 kHz):
/// the pauses of a recording. A 20 ms frame is silent when its RMS is under
/// 1/20 (−26 dB) of the loudest frame's, so a recording's background noise
/// (the JFK clip's crowd peaks well above `VOICED_ABS`) is not speech.
pub fn silences(samples: &[i16], min_ms: u64) -> Vec<Pause> {
    const FRAME: usize = 160;
    let rms: Vec<f64> = samples
        .chunks(FRAME)
        .map(|f| (f.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / f.len() as f64).sqrt())
        .collect();
    let loudest = rms.iter().copied().fold(0.0, f64::max);
    let loud: Vec<bool> = rms
        .iter()
        .map(|&r| r > 0.0 && r >= loudest / 20.0)
        .collect();
    let (Some(first), Some(last)) = (loud.iter().position(|&l| l), loud.iter().rposition(|&l| l))
    else {
        return Vec::new();
    };
    let mut pauses = Vec::new();
    let mut quiet_from: Option<usize> = None;
    for (i, &is_loud) in loud.iter().enumerate().take(last + 1).skip(first) {
        if !is_loud {
            quiet_from.get_or_insert(i);
            continue;
        }
        if let Some(from) = quiet_from.take()
            && (i - from) as u64 * 20 >= min_ms
        {
            let (start_ms, end_ms) = (from as u64 * 20, i as u64 * 20);
            pauses.push(Pause {
                after: format!("{:.1} s into the clip", start_ms as f64 / 1000.0),
                start_ms,
                end_ms,
            });
        }
    }
    pauses
}

/// Where an onset `at_ms` (relative to the line's start) came: the last
/// pause that had begun by then, if any.
pub fn pause_at(at_ms: u64, pauses: &[Pause]) -> Option<usize> {
    pauses.iter().rposition(|p| p.start_ms <= at_ms)
}

/// Says where an onset came, for the table.
fn describe_onset(at_ms: u64, pauses: &[Pause]) -> String {
    match pause_at(at_ms, pauses) {
        None => format!("{at_ms} ms into the line, before any pause"),
        Some(k) => {
            let p = &pauses[k];
            let into = at_ms - p.start_ms;
            let where_ = if at_ms < p.end_ms {
                format!("{into} ms into it")
            } else {
                format!(
                    "{} ms after it ended, the caller speaking again",
                    at_ms - p.end_ms
                )
            };
            format!(
                "pause {} (after {:?}, {} ms): {where_}",
                k + 1,
                p.after,
                p.end_ms - p.start_ms
            )
        }
    }
}

/// One line as played in a call, and what the agent did.
struct LineResult {
    material: usize,
    position: &'static str,
    voice: &'static str,
    /// Talk-over onsets, relative to the line's start.
    talk_over_ms: Vec<u64>,
    latency_ms: Option<u64>,
}

/// The materials, synthesised as needed, one per (line, voice, kind).
struct Library {
    tts: Arc<crate::tts::Tts>,
    materials: Vec<Material>,
    index: HashMap<(usize, &'static str, Kind), usize>,
}

impl Library {
    /// The material for line `line` said by `voice`, paused or whole.
    async fn line(
        &mut self,
        line: usize,
        voice: &'static str,
        kind: Kind,
    ) -> anyhow::Result<usize> {
        if let Some(&i) = self.index.get(&(line, voice, kind)) {
            return Ok(i);
        }
        let caller = PiperCaller::new(self.tts.clone(), voice)?;
        let spec = &PAUSED_LINES[line];
        let material = tokio::task::spawn_blocking(move || -> anyhow::Result<Material> {
            if kind == Kind::Finished {
                let text = spec.pieces.join(" ");
                let samples = caller.synthesize(&text)?;
                return Ok(Material {
                    kind,
                    label: text,
                    samples,
                    pauses: Vec::new(),
                });
            }
            if kind == Kind::Cut {
                let whole = caller.synthesize(&spec.pieces.join(" "))?;
                let (samples, pauses) = cut_with_pauses(&whole, spec.pieces, spec.pauses_ms);
                return Ok(Material {
                    kind,
                    label: spec.pieces.join(" ‖ "),
                    samples,
                    pauses,
                });
            }
            let mut pieces = Vec::new();
            for piece in spec.pieces {
                pieces.push((*piece, caller.synthesize(piece)?));
            }
            let (samples, pauses) = join_with_pauses(&pieces, spec.pauses_ms);
            Ok(Material {
                kind,
                label: spec.pieces.join(" … "),
                samples,
                pauses,
            })
        })
        .await??;
        self.materials.push(material);
        let i = self.materials.len() - 1;
        self.index.insert((line, voice, kind), i);
        Ok(i)
    }
}

/// What `bench turns` plays.
#[derive(Clone, Debug)]
pub struct Plan {
    pub clip: Option<PathBuf>,
    pub rounds: usize,
    pub lines: usize,
}

pub async fn bench_turns(mut settings: Settings, plan: Plan) -> anyhow::Result<()> {
    anyhow::ensure!(plan.rounds >= 1, "--rounds must be at least 1");
    anyhow::ensure!(
        (1..=PAUSED_LINES.len()).contains(&plan.lines),
        "--lines must be between 1 and {}",
        PAUSED_LINES.len()
    );
    let clip = match &plan.clip {
        Some(path) => {
            let samples = crate::caller::load_wav_8k(path)?;
            let label = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            Some(Material {
                kind: Kind::Clip,
                pauses: silences(&samples, CLIP_PAUSE_MIN_MS),
                label,
                samples,
            })
        }
        None => None,
    };
    let scratch = scratch_settings(&mut settings)?;
    let engines = tokio::task::spawn_blocking({
        let settings = settings.clone();
        move || Engines::load(&settings)
    })
    .await??;
    let app = Application::build_with(settings, engines.clone()).await?;
    let port = app.port();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let mut library = Library {
        tts: engines.tts.clone(),
        materials: Vec::new(),
        index: HashMap::new(),
    };
    let clip = clip.map(|m| {
        library.materials.push(m);
        library.materials.len() - 1
    });
    println!(
        "{} lines, paused and whole, each first after the greeting and second; one call at a time, real time ({} build)",
        plan.lines,
        if cfg!(debug_assertions) {
            "dev"
        } else {
            "release"
        }
    );
    crate::call::timing::take_recorded();
    let mut results = Vec::new();
    let mut failed = 0;
    for round in 0..plan.rounds {
        let mut calls: Vec<(&'static str, Vec<usize>)> = Vec::new();
        for i in 0..plan.lines {
            let voice = VOICES[(i + round) % VOICES.len()];
            let next = (i + 1) % plan.lines;
            for kind in [Kind::Paused, Kind::Cut, Kind::Finished] {
                let mut steps = vec![library.line(i, voice, kind).await?];
                if plan.lines > 1 {
                    steps.push(library.line(next, voice, kind).await?);
                }
                calls.push((voice, steps));
            }
        }
        if let Some(clip) = clip {
            let voice = VOICES[round % VOICES.len()];
            calls.push((voice, vec![clip]));
            calls.push((
                voice,
                vec![library.line(0, voice, Kind::Finished).await?, clip],
            ));
        }
        for (n, (voice, steps)) in calls.iter().enumerate() {
            println!(
                "round {}/{}, call {}/{}: {}",
                round + 1,
                plan.rounds,
                n + 1,
                calls.len(),
                steps
                    .iter()
                    .map(|&m| library.materials[m].label.as_str())
                    .collect::<Vec<_>>()
                    .join(" / ")
            );
            match place(port, &library.materials, steps).await {
                Ok(report) => {
                    if !matches!(report.end, CallEnd::CallerHungUp | CallEnd::AgentHungUp) {
                        tracing::warn!(end = ?report.end, "a bench call did not end as scripted");
                        failed += 1;
                    }
                    for (k, turn) in report.turns.iter().enumerate() {
                        let Some(&material) = steps.get(k) else {
                            continue;
                        };
                        results.push(LineResult {
                            material,
                            position: if k == 0 { "first" } else { "second" },
                            voice,
                            talk_over_ms: turn
                                .talk_over_ms
                                .iter()
                                .map(|at| at - turn.caller_start_ms)
                                .collect(),
                            latency_ms: turn.latency_ms,
                        });
                    }
                }
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "a bench call failed");
                    failed += 1;
                }
            }
        }
    }
    print_table(&library.materials, &results, failed);
    print_stages(&crate::call::timing::take_recorded());
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

async fn place(port: u16, materials: &[Material], steps: &[usize]) -> anyhow::Result<CallReport> {
    let server = url::Url::parse(&format!("http://127.0.0.1:{port}"))?;
    let opts = CallerOptions::new(server);
    let script = steps
        .iter()
        .map(|&m| ScriptStep::audio(materials[m].label.clone(), materials[m].samples.clone()))
        .collect();
    crate::caller::place_call(&opts, script, None).await
}

fn print_table(materials: &[Material], results: &[LineResult], failed: usize) {
    let show = |v: Option<u64>| v.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "–".into());
    for kind in [Kind::Paused, Kind::Cut, Kind::Finished, Kind::Clip] {
        let rows: Vec<&LineResult> = results
            .iter()
            .filter(|r| materials[r.material].kind == kind)
            .collect();
        if rows.is_empty() {
            continue;
        }
        println!();
        println!("{}", kind.name());
        if kind == Kind::Clip
            && let Some(m) = rows.first().map(|r| &materials[r.material])
        {
            let pauses: Vec<String> = m
                .pauses
                .iter()
                .map(|p| {
                    format!(
                        "{:.2}–{:.2} s",
                        p.start_ms as f64 / 1000.0,
                        p.end_ms as f64 / 1000.0
                    )
                })
                .collect();
            println!(
                "  {} ms long, pauses at {}",
                m.samples.len() / 8,
                if pauses.is_empty() {
                    "none".to_string()
                } else {
                    pauses.join(", ")
                }
            );
        }
        println!("  position  voice      talk-over  reply     line");
        for r in &rows {
            let m = &materials[r.material];
            println!(
                "  {:<8}  {:<9}  {:>9}  {:>8}  {}",
                r.position,
                r.voice,
                r.talk_over_ms.len(),
                show(r.latency_ms),
                m.label
            );
            for &at in &r.talk_over_ms {
                println!("      talk-over at {}", describe_onset(at, &m.pauses));
            }
        }
    }
    println!();
    println!("summary");
    for kind in [Kind::Paused, Kind::Cut, Kind::Finished, Kind::Clip] {
        let rows: Vec<&LineResult> = results
            .iter()
            .filter(|r| materials[r.material].kind == kind)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let onsets: usize = rows.iter().map(|r| r.talk_over_ms.len()).sum();
        let over = rows.iter().filter(|r| !r.talk_over_ms.is_empty()).count();
        let mut replies: Vec<u64> = rows.iter().filter_map(|r| r.latency_ms).collect();
        replies.sort_unstable();
        println!(
            "  {:<15} talk-over onsets {onsets:>3} in {over} of {} lines   reply after the line's end p50 {:>7}  p95 {:>7}  (n={}, unanswered {})",
            kind.name(),
            rows.len(),
            show(percentile(&replies, 50.0)),
            show(percentile(&replies, 95.0)),
            replies.len(),
            rows.len() - replies.len()
        );
    }
    println!(
        "  targets: no talk-over; reply p50 ≤ 500 ms after a finished line{}",
        if failed > 0 {
            format!(" ({failed} call(s) failed or did not end as scripted)")
        } else {
            String::new()
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voiced(ms: u64) -> Vec<i16> {
        vec![3000; (ms * 8) as usize]
    }

    fn quiet(ms: u64) -> Vec<i16> {
        vec![0; (ms * 8) as usize]
    }

    fn piece(lead_ms: u64, voice_ms: u64, tail_ms: u64) -> Vec<i16> {
        [quiet(lead_ms), voiced(voice_ms), quiet(tail_ms)].concat()
    }

    #[test]
    fn pieces_are_joined_with_exactly_the_pause_between_their_voices() {
        let pieces = [
            ("I'd like to book", piece(100, 500, 200)),
            ("a physical with", piece(150, 400, 250)),
            ("Dr. Patel next week.", piece(50, 600, 300)),
        ];
        let (line, pauses) = join_with_pauses(&pieces, &[800, 1000]);
        // Lead-in of the first, tails cut inside, the last tail kept.
        assert_eq!(
            line.len() as u64,
            (100 + 500 + 800 + 400 + 1000 + 600 + 300) * 8
        );
        assert_eq!(
            pauses,
            vec![
                Pause {
                    after: "I'd like to book".into(),
                    start_ms: 600,
                    end_ms: 1400
                },
                Pause {
                    after: "a physical with".into(),
                    start_ms: 1800,
                    end_ms: 2800
                },
            ]
        );
        // The pauses are the line's silences.
        let found: Vec<(u64, u64)> = silences(&line, 300)
            .iter()
            .map(|p| (p.start_ms, p.end_ms))
            .collect();
        assert_eq!(found, vec![(600, 1400), (1800, 2800)]);
    }

    #[test]
    fn a_whole_line_is_cut_in_the_gap_between_words_nearest_the_boundary() {
        // Three "words" of 300 ms with 60 ms gaps; the boundary after the
        // first piece is estimated just inside the second word, and the
        // cut moves back into the gap before it.
        let mut whole = quiet(100);
        for _ in 0..3 {
            whole.extend(voiced(300));
            whole.extend(quiet(60));
        }
        let (line, pauses) = cut_with_pauses(&whole, &["aaaa", "bbbbbbbb"], &[800]);
        assert_eq!(line.len(), whole.len() + 800 * 8);
        assert_eq!(pauses.len(), 1);
        let gap_start_ms = 100 + 300;
        let p = &pauses[0];
        assert!(
            (gap_start_ms..gap_start_ms + 60).contains(&p.start_ms),
            "cut at {} ms, not in the gap",
            p.start_ms
        );
        assert_eq!(p.end_ms - p.start_ms, 800);
        let (start, end) = ((p.start_ms * 8) as usize, (p.end_ms * 8) as usize);
        assert!(line[start..end].iter().all(|&s| s == 0));
        // Nothing of the line is lost or repeated.
        let mut rejoined = line[..start].to_vec();
        rejoined.extend_from_slice(&line[end..]);
        assert_eq!(rejoined, whole);
    }

    #[test]
    fn a_recordings_pauses_are_its_long_silences_inside_the_speech() {
        let clip = [
            quiet(500),
            voiced(1000),
            quiet(200),
            voiced(300),
            quiet(700),
            voiced(400),
            quiet(900),
        ]
        .concat();
        let found: Vec<(u64, u64)> = silences(&clip, CLIP_PAUSE_MIN_MS)
            .iter()
            .map(|p| (p.start_ms, p.end_ms))
            .collect();
        assert_eq!(found, vec![(2000, 2700)]);
    }

    #[test]
    fn an_onset_is_placed_in_the_last_pause_begun() {
        let pauses = vec![
            Pause {
                after: "I'd like to book".into(),
                start_ms: 600,
                end_ms: 1400,
            },
            Pause {
                after: "a physical with".into(),
                start_ms: 1800,
                end_ms: 2800,
            },
        ];
        assert_eq!(pause_at(300, &pauses), None);
        assert_eq!(pause_at(600, &pauses), Some(0));
        assert_eq!(pause_at(1500, &pauses), Some(0));
        assert_eq!(pause_at(2300, &pauses), Some(1));
        assert!(describe_onset(1100, &pauses).contains("pause 1"));
        assert!(describe_onset(1100, &pauses).contains("500 ms into it"));
        assert!(describe_onset(1500, &pauses).contains("100 ms after it ended"));
    }

    #[test]
    fn every_line_pauses_600_to_1200_ms_where_it_is_unfinished() {
        assert!(PAUSED_LINES.len() >= 10);
        for line in PAUSED_LINES {
            assert_eq!(line.pauses_ms.len() + 1, line.pieces.len());
            assert!((1..=2).contains(&line.pauses_ms.len()));
            assert!(line.pauses_ms.iter().all(|ms| (600..=1200).contains(ms)));
        }
    }
}
