//! The understanding step on the fresh, never-tuned set of
//! `fixtures/unseen/` (issue 12): lines written by someone who did not read
//! the NLU's rules or training data, the way real callers phone a clinic.
//! It measures how far the NLU generalises; it must never be used to tune
//! it (`fixtures/unseen/README.md`).
//!
//! Two passes, both through `frontdesk nlu`'s own code path
//! (`nlu::run_nlu_command`, JSON lines in and out, so the `asked` field of
//! the entity lines counts: the command reads each answer in the context of
//! the question, `Nlu::understand_with`):
//! - typed: the lines as written; intent accuracy, emergency recall, false
//!   alarms, entity exact match;
//! - as heard: each intent line spoken by the synthetic caller (the
//!   project's Piper voice, 8 kHz µ-law), transcribed by the call path's
//!   Whisper, then classified.
//!
//! The figures are printed as a table. The misunderstood lines are printed
//! only with `FRONTDESK_UNSEEN_SHOW=1`: whoever improves the NLU should see
//! the figures, not the lines (seeing them invites tuning on them).
//! The floors asserted are entity exact match typed (at the figure
//! measured) and emergency recall typed: the target is every
//! emergency caught; until the NLU gets there, no worse than measured. The as-heard pass checks only that speech
//! and recognition ran (a broken voice or Whisper fails it).
//!
//! Needs ONNX Runtime and the intent model (typed); Whisper and the voice
//! too (as heard): FRONTDESK_MODELS_DIR or `make models`.

#[path = "support/stt_wer.rs"]
mod stt_wer;
mod support;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use chrono::NaiveDate;
use frontdesk::clinic::Clinic;
use frontdesk::models::ModelPaths;
use frontdesk::nlu::{Nlu, run_nlu_command};
use frontdesk::vocabulary::EmergencyKind;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::Value;

fn crate_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Figures print their misunderstood lines only when this is set.
const SHOW_VAR: &str = "FRONTDESK_UNSEEN_SHOW";
/// How many intent lines the as-heard pass speaks: `all` (the default) or
/// a number (an even spread over the file, emergencies first).
const HEARD_VAR: &str = "FRONTDESK_UNSEEN_HEARD";

fn show_lines() -> bool {
    std::env::var_os(SHOW_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// ONNX Runtime from FRONTDESK_MODELS_DIR; the intent model of this
/// repository (as `tests/nlu_eval.rs` does), so the branch's own model is
/// measured. `None` (reported) when ONNX Runtime is missing.
fn model_paths() -> Option<ModelPaths> {
    static PATHS: OnceLock<Option<ModelPaths>> = OnceLock::new();
    PATHS
        .get_or_init(|| {
            let runtime = ModelPaths::locate();
            if !frontdesk::prerequisites::model_present(&runtime.onnxruntime()) {
                return None;
            }
            let dir = std::env::temp_dir()
                .join(format!("frontdesk-unseen-models-{}", std::process::id()));
            std::fs::create_dir_all(dir.join("onnxruntime")).unwrap();
            link(
                &runtime.onnxruntime(),
                &dir.join("onnxruntime/libonnxruntime.so"),
            );
            link(&crate_root().join("models/intent"), &dir.join("intent"));
            Some(ModelPaths::at(dir))
        })
        .clone()
}

fn link(from: &Path, to: &Path) {
    match std::os::unix::fs::symlink(from, to) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => panic!("linking {} → {}: {e}", to.display(), from.display()),
    }
}

/// The NLU as `frontdesk nlu` builds it: the demo clinic's providers.
fn nlu() -> Option<&'static Nlu> {
    static NLU: OnceLock<Option<Nlu>> = OnceLock::new();
    NLU.get_or_init(|| {
        let paths = model_paths()?;
        Some(frontdesk::app::load_nlu(&paths, &Clinic::demo()).expect("the intent model loads"))
    })
    .as_ref()
}

#[derive(Clone, Debug, Deserialize)]
struct IntentLine {
    text: String,
    intent: String,
    #[serde(default)]
    kind: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
struct EntityLine {
    text: String,
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    asked: Option<String>,
    expect: BTreeMap<String, String>,
    kind: String,
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(name: &str) -> (Vec<String>, Vec<T>) {
    let path = crate_root().join("fixtures/unseen").join(name);
    let raw = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let raw_lines: Vec<String> = raw
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let parsed = raw_lines
        .iter()
        .enumerate()
        .map(|(n, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1))
        })
        .collect();
    (raw_lines, parsed)
}

/// Runs JSON request lines through `frontdesk nlu`'s code path; one reply
/// per request, in order.
fn nlu_command(nlu: &Nlu, requests: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    run_nlu_command(nlu, Cursor::new(requests.join("\n")), &mut out).expect("frontdesk nlu runs");
    let replies: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON reply line"))
        .collect();
    assert_eq!(replies.len(), requests.len(), "one reply per request");
    for reply in &replies {
        assert!(reply.get("error").is_none(), "a request failed: {reply}");
    }
    replies
}

/// Intent figures over one pass (typed or as heard).
#[derive(Default)]
struct IntentScore {
    lines: usize,
    correct: usize,
    /// label → (lines, right)
    per_label: BTreeMap<String, (usize, usize)>,
    /// emergency subset (`signs`, `crisis`, `named`, `all`) → (lines, caught)
    emergencies: BTreeMap<&'static str, (usize, usize)>,
    /// Non-emergency lines labelled emergency: (all, of them traps).
    false_alarms: (usize, usize),
    non_emergencies: (usize, usize),
    /// (text said, text understood, truth, predicted)
    errors: Vec<(String, String, String, String)>,
}

impl IntentScore {
    fn add(&mut self, line: &IntentLine, understood_text: &str, predicted: &str) {
        self.lines += 1;
        let right = predicted == line.intent;
        self.correct += right as usize;
        let entry = self.per_label.entry(line.intent.clone()).or_default();
        entry.0 += 1;
        entry.1 += right as usize;
        let trap = line.kind.as_deref() == Some("trap");
        if line.intent == "emergency" {
            let subset = match line.kind.as_deref() {
                Some("signs") => "signs",
                Some("crisis") => "crisis",
                _ => "named",
            };
            for key in ["all", subset] {
                let e = self.emergencies.entry(key).or_default();
                e.0 += 1;
                e.1 += right as usize;
            }
        } else {
            self.non_emergencies.0 += 1;
            self.non_emergencies.1 += trap as usize;
            if predicted == "emergency" {
                self.false_alarms.0 += 1;
                self.false_alarms.1 += trap as usize;
            }
        }
        if !right {
            self.errors.push((
                line.text.clone(),
                understood_text.to_string(),
                line.intent.clone(),
                predicted.to_string(),
            ));
        }
    }

    fn accuracy(&self) -> f64 {
        ratio(self.correct, self.lines)
    }

    fn recall(&self, subset: &str) -> (usize, usize) {
        self.emergencies.get(subset).copied().unwrap_or((0, 0))
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn score_intents(lines: &[IntentLine], heard: &[String], replies: &[Value]) -> IntentScore {
    let mut score = IntentScore::default();
    for ((line, text), reply) in lines.iter().zip(heard).zip(replies) {
        score.add(line, text, reply["intent"].as_str().unwrap_or("?"));
    }
    score
}

/// The headline table, typed and (when run) as heard side by side.
/// The headline figures of one pass: (row name, value).
fn headline(s: &IntentScore) -> Vec<(&'static str, String)> {
    let frac = |(n, k): (usize, usize)| format!("{k}/{n} = {:.3}", ratio(k, n));
    vec![
        ("lines", s.lines.to_string()),
        (
            "intent accuracy",
            format!("{}/{} = {:.3}", s.correct, s.lines, s.accuracy()),
        ),
        ("emergency recall, all", frac(s.recall("all"))),
        ("  described by signs", frac(s.recall("signs"))),
        ("  crisis / self-harm", frac(s.recall("crisis"))),
        ("  named (\"heart attack\")", frac(s.recall("named"))),
        (
            "false alarms (→ emergency)",
            format!("{} of {}", s.false_alarms.0, s.non_emergencies.0),
        ),
        (
            "  of them on traps",
            format!("{} of {}", s.false_alarms.1, s.non_emergencies.1),
        ),
    ]
}

/// The headline table, typed and (when run) as heard side by side.
fn print_intent_table(typed: &IntentScore, heard: Option<&IntentScore>) {
    let heard_rows = heard.map(headline);
    println!("\n| unseen intents ({}) | typed | as heard |", today_note());
    println!("|---|---|---|");
    for (k, (name, value)) in headline(typed).into_iter().enumerate() {
        let other = heard_rows
            .as_ref()
            .map(|rows| rows[k].1.clone())
            .unwrap_or_else(|| "—".into());
        println!("| {name} | {value} | {other} |");
    }
    println!("\n| label | typed right | as heard right |\n|---|---|---|");
    for (label, (n, k)) in &typed.per_label {
        let heard_cell = heard
            .and_then(|h| h.per_label.get(label))
            .map(|&(n, k)| format!("{k}/{n}"))
            .unwrap_or_else(|| "—".into());
        println!("| {label} | {k}/{n} | {heard_cell} |");
    }
}

fn today_note() -> String {
    format!("measured {}", chrono::Utc::now().format("%Y-%m-%d"))
}

fn print_errors(name: &str, score: &IntentScore) {
    let mut confusions: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (_, _, truth, predicted) in &score.errors {
        *confusions
            .entry((truth.clone(), predicted.clone()))
            .or_default() += 1;
    }
    println!("{name} confusions (truth → predicted × count):");
    for ((truth, predicted), count) in &confusions {
        println!("  {truth} → {predicted} × {count}");
    }
    if show_lines() {
        for (said, understood, truth, predicted) in &score.errors {
            if said == understood {
                println!("  {truth} → {predicted}: {said}");
            } else {
                println!("  {truth} → {predicted}: {said}  | heard: {understood}");
            }
        }
    } else {
        println!("  (the lines themselves print with {SHOW_VAR}=1; do not tune on them)");
    }
}

#[test]
fn typed_intents_and_every_emergency_caught() {
    let Some(nlu) = nlu() else { return };
    let (raw, lines) = read_jsonl::<IntentLine>("intents.jsonl");
    assert!(lines.len() >= 400, "the set has {} lines", lines.len());
    let replies = nlu_command(nlu, &raw);
    let texts: Vec<String> = lines.iter().map(|l| l.text.clone()).collect();
    let score = score_intents(&lines, &texts, &replies);
    print_intent_table(&score, None);
    print_errors("typed", &score);

    // Which number the agent would give: a crisis must get 988, never 911.
    let (mut crisis, mut crisis_988) = (0, 0);
    for line in lines.iter().filter(|l| l.kind.as_deref() == Some("crisis")) {
        crisis += 1;
        let u = nlu.understand(&line.text, NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
        crisis_988 += (u.emergency == Some(EmergencyKind::Suicidal)) as usize;
    }
    println!("crisis lines the net names suicidal (988): {crisis_988}/{crisis}");
    // 5 of 17 on 2026-12-06, 10 on 2026-12-07: a crisis must never get
    // fewer 988 answers than it did.
    assert!(
        crisis_988 >= 10,
        "crisis lines answered with 988 fell to {crisis_988}/{crisis} (was 10)"
    );

    let (n, caught) = score.recall("all");
    assert!(n >= 60, "only {n} emergency lines");
    // The product's target is every emergency caught (issue 12), and main
    // does not meet it yet: on 2026-12-07 the NLU caught 58 of the 67 lines
    // (56 before the net learnt signs and crisis wordings, written without
    // reading this set), and 66 once the classifier was retrained on the
    // fourth round of training sentences (`scripts/intent_phrases_round4.py`,
    // also written without reading this set). Until it gets there, this
    // asserts that no change makes recall on unseen words worse; raise the
    // floor as the NLU improves, never by reading these lines.
    const CAUGHT_ON_2026_12_07: usize = 66;
    if caught < n {
        println!(
            "TARGET NOT MET: emergency recall on the unseen set is {caught}/{n} (target: all)"
        );
    }
    assert!(
        caught >= CAUGHT_ON_2026_12_07,
        "emergency recall on the unseen set fell to {caught}/{n} (was {CAUGHT_ON_2026_12_07})"
    );
}

/// The five entities `asked` can name; a value among them the line does
/// not give is a spurious extraction.
const CORE: [&str; 5] = ["person_name", "date_of_birth", "phone", "date", "time"];

#[test]
fn typed_entities_exact_match() {
    let Some(nlu) = nlu() else { return };
    let (raw, lines) = read_jsonl::<EntityLine>("entities.jsonl");
    assert!(lines.len() >= 200, "the set has {} lines", lines.len());
    for line in &lines {
        NaiveDate::parse_from_str(&line.reference, "%Y-%m-%d").expect("ref is a date");
    }
    let replies = nlu_command(nlu, &raw);
    // kind → (lines, expected right, expected right and nothing spurious)
    let mut per_kind: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    // entity → (expected, right, spurious)
    let mut per_entity: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let (mut loose, mut strict) = (0, 0);
    let mut misses = Vec::new();
    for (line, reply) in lines.iter().zip(&replies) {
        let got = &reply["entities"];
        let mut all_right = true;
        for (entity, want) in &line.expect {
            let right = got[entity.as_str()].as_str() == Some(want.as_str());
            all_right &= right;
            let key = CORE
                .iter()
                .find(|c| **c == entity)
                .copied()
                .unwrap_or("other");
            let e = per_entity.entry(key).or_default();
            e.0 += 1;
            e.1 += right as usize;
        }
        let mut spurious = false;
        for entity in CORE {
            if !line.expect.contains_key(entity) && !got[entity].is_null() {
                spurious = true;
                per_entity.entry(entity).or_default().2 += 1;
            }
        }
        let exact = all_right && !spurious;
        loose += all_right as usize;
        strict += exact as usize;
        let context = if line.asked.is_some() {
            "(all answers with `asked`)"
        } else {
            "(all lines without `asked`)"
        };
        for key in [line.kind.as_str(), context] {
            let k = per_kind.entry(key.to_string()).or_default();
            k.0 += 1;
            k.1 += all_right as usize;
            k.2 += exact as usize;
        }
        if !exact {
            misses.push(format!(
                "  [{}] {} → {}",
                line.kind,
                line.text,
                serde_json::to_string(got).unwrap()
            ));
        }
    }
    let n = lines.len();
    println!("\n| unseen entities, typed ({}) | right |", today_note());
    println!("|---|---|");
    println!(
        "| expected entities all right | {loose}/{n} = {:.3} |",
        ratio(loose, n)
    );
    println!(
        "| exact (and no spurious name, DOB, phone, date, time) | {strict}/{n} = {:.3} |",
        ratio(strict, n)
    );
    println!("\n| form | lines | expected right | exact |\n|---|---|---|---|");
    for (kind, (n, l, s)) in &per_kind {
        println!("| {kind} | {n} | {l} | {s} |");
    }
    println!("\n| entity | expected | right | spurious |\n|---|---|---|---|");
    for (entity, (n, r, s)) in &per_entity {
        println!("| {entity} | {n} | {r} | {s} |");
    }
    if show_lines() {
        println!("{}", misses.join("\n"));
    } else {
        println!(
            "(the {} missed lines print with {SHOW_VAR}=1; do not tune on them)",
            misses.len()
        );
    }
    // Sanity: the parsers ran and found something.
    assert!(
        loose > 0,
        "no entity line was right: the parsers did not run"
    );
    // A floor at the figure measured, never a target to tune to: 152 of
    // the 216 lines exact on 2026-12-07 before `frontdesk nlu` read
    // `asked`, 181 once it read the answers in the context of the question
    // (rules written without reading this set). No change may make it worse;
    // raise it as the NLU improves, never by reading these lines.
    const EXACT_ON_2026_12_07: usize = 181;
    assert!(
        strict >= EXACT_ON_2026_12_07,
        "entity exact match on the unseen set fell to {strict}/{n} (was {EXACT_ON_2026_12_07})"
    );
}

/// Where synthesised caller audio is kept between runs: under the target
/// directory, keyed by the text, the voice preset and the voice model.
fn audio_cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("unseen-heard-audio")
}

fn cache_key(text: &str, preset: &str, voice_model: &Path) -> String {
    use sha2::{Digest, Sha256};
    let size = std::fs::metadata(voice_model).map(|m| m.len()).unwrap_or(0);
    let digest = Sha256::digest(format!("{preset}\n{size}\n{text}").as_bytes());
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// The lines to speak: all, or `HEARD_VAR` of them spread evenly, every
/// emergency kept.
fn heard_selection(lines: &[IntentLine]) -> Vec<usize> {
    let all: Vec<usize> = (0..lines.len()).collect();
    let wanted = match std::env::var(HEARD_VAR) {
        Ok(v) if v != "all" && !v.is_empty() => v
            .parse::<usize>()
            .unwrap_or_else(|_| panic!("{HEARD_VAR} must be `all` or a number, got {v:?}")),
        _ => return all,
    };
    let (emergency, other): (Vec<usize>, Vec<usize>) = all
        .into_iter()
        .partition(|&i| lines[i].intent == "emergency");
    let room = wanted.saturating_sub(emergency.len()).min(other.len());
    let mut chosen = emergency;
    if room > 0 {
        let step = other.len() as f64 / room as f64;
        chosen.extend((0..room).map(|k| other[(k as f64 * step) as usize]));
    }
    chosen.sort_unstable();
    chosen
}

/// Synthesises (or reads from the cache) `text` as 8 kHz µ-law in `preset`;
/// with the time synthesis took (`None` when the cache had it).
fn caller_mulaw(
    voice: &frontdesk::tts::caller_voice::CallerVoice,
    text: &str,
    preset: &'static str,
    voice_model: &Path,
) -> (Vec<u8>, Option<u64>) {
    let path = audio_cache_dir().join(format!("{}.ulaw", cache_key(text, preset, voice_model)));
    if let Ok(bytes) = std::fs::read(&path)
        && !bytes.is_empty()
    {
        return (bytes, None);
    }
    let preset_ref = frontdesk::tts::caller_voice::preset(preset).expect("a caller preset");
    let started = Instant::now();
    let bytes = voice.say_mulaw(text, preset_ref).expect("caller speech");
    let synthesis_ms = started.elapsed().as_millis() as u64;
    std::fs::create_dir_all(audio_cache_dir()).unwrap();
    let partial = path.with_extension("part");
    std::fs::write(&partial, &bytes).unwrap();
    std::fs::rename(&partial, &path).unwrap();
    (bytes, Some(synthesis_ms))
}

/// Where the as-heard pass spent its time, for the affordability budget.
#[derive(Default)]
struct HeardCost {
    synthesised: usize,
    synthesis_ms: u64,
    audio_ms: u64,
    whisper_compute_ms: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_heard_intents_through_the_phone_line_and_whisper() {
    let Some(nlu) = nlu() else { return };
    let paths = ModelPaths::locate();
    if !frontdesk::prerequisites::model_present(&paths.whisper())
        || !frontdesk::prerequisites::model_present(&paths.voice())
    {
        return;
    }
    let engines = support::engines();
    let (_, lines) = read_jsonl::<IntentLine>("intents.jsonl");
    let chosen = heard_selection(&lines);
    let voice = frontdesk::tts::caller_voice::CallerVoice::new(engines.tts.clone());
    let voice_model = Arc::new(paths.voice());
    let presets = ["mid", "low-slow", "high-fast"];
    let started = Instant::now();
    // Speak the next line while Whisper hears the one before.
    let heard: Vec<(usize, String, Option<u64>, u64, u64)> =
        futures_util::stream::iter(chosen.iter().copied())
            .map(|i| {
                let text = lines[i].text.clone();
                let preset = presets[i % presets.len()];
                let (voice, voice_model, stt) =
                    (voice.clone(), voice_model.clone(), engines.stt.clone());
                async move {
                    let (samples, synthesis_ms) = tokio::task::spawn_blocking(move || {
                        let (mulaw, synthesis_ms) =
                            caller_mulaw(&voice, &text, preset, &voice_model);
                        let pcm = frontdesk::audio::mulaw::decode_frame(&mulaw);
                        let samples = frontdesk::stt::phone_to_recognition(
                            &frontdesk::audio::resample::i16_to_f32(&pcm),
                        )
                        .expect("8 kHz → 16 kHz");
                        (samples, synthesis_ms)
                    })
                    .await
                    .expect("synthesis thread");
                    let transcript = stt.transcribe(samples).await.expect("Whisper transcribes");
                    (
                        i,
                        transcript.text,
                        synthesis_ms,
                        transcript.audio_ms,
                        transcript.compute_ms,
                    )
                }
            })
            .buffered(3)
            .collect()
            .await;
    let elapsed = started.elapsed();
    let mut cost = HeardCost::default();
    for (_, _, synthesis_ms, audio_ms, compute_ms) in &heard {
        if let Some(ms) = synthesis_ms {
            cost.synthesised += 1;
            cost.synthesis_ms += ms;
        }
        cost.audio_ms += audio_ms;
        cost.whisper_compute_ms += compute_ms;
    }
    let selected: Vec<IntentLine> = heard.iter().map(|(i, ..)| lines[*i].clone()).collect();
    let texts: Vec<String> = heard.iter().map(|(_, t, ..)| t.clone()).collect();
    let wer = selected
        .iter()
        .zip(&texts)
        .map(|(l, t)| stt_wer::word_error_rate(&l.text, t))
        .sum::<f64>()
        / texts.len().max(1) as f64;
    let requests: Vec<String> = texts
        .iter()
        .map(|t| serde_json::json!({ "text": t }).to_string())
        .collect();
    let replies = nlu_command(nlu, &requests);
    let heard_score = score_intents(&selected, &texts, &replies);
    let typed_texts: Vec<String> = selected.iter().map(|l| l.text.clone()).collect();
    let typed_requests: Vec<String> = typed_texts
        .iter()
        .map(|t| serde_json::json!({ "text": t }).to_string())
        .collect();
    let typed_score = score_intents(&selected, &typed_texts, &nlu_command(nlu, &typed_requests));
    print_intent_table(&typed_score, Some(&heard_score));
    print_errors("as heard", &heard_score);
    println!(
        "as heard: {} of {} lines ({HEARD_VAR}), voices {}, mean word error rate {wer:.3}",
        heard.len(),
        lines.len(),
        presets.join(", "),
    );
    println!(
        "  wall {:.1} s; {} synthesised ({:.1} s), the rest from {}; {:.1} s of speech, Whisper compute {:.1} s",
        elapsed.as_secs_f64(),
        cost.synthesised,
        cost.synthesis_ms as f64 / 1000.0,
        audio_cache_dir().display(),
        cost.audio_ms as f64 / 1000.0,
        cost.whisper_compute_ms as f64 / 1000.0,
    );
    let empty = texts.iter().filter(|t| t.trim().is_empty()).count();
    // Sanity, not a floor: the voice and Whisper ran.
    assert!(
        empty * 10 <= texts.len(),
        "{empty} of {} transcripts empty: the caller voice or Whisper is broken",
        texts.len()
    );
}
