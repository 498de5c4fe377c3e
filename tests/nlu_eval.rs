//! The understanding step end to end with the real committed model: feature
//! parity with the training script, held-out accuracy, emergency safety,
//! robustness to Whisper-style noise, bad input, and load failures.
//!
//! Needs ONNX Runtime: FRONTDESK_MODELS_DIR=/work/main/models (or `make models`).

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::NaiveDate;
use frontdesk::models::ModelPaths;
use frontdesk::nlu::eval::{load_labelled, whisper_noise};
use frontdesk::nlu::{Nlu, ProviderRoster, Screen, emergency, evaluate, run_nlu_command};
use frontdesk::vocabulary::{EmergencyKind, Hotline, Intent};

fn crate_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// ONNX Runtime from FRONTDESK_MODELS_DIR; the intent model from this
/// repository. Made once per process: tests run in parallel threads.
fn model_paths() -> ModelPaths {
    static PATHS: OnceLock<ModelPaths> = OnceLock::new();
    PATHS.get_or_init(make_model_paths).clone()
}

fn make_model_paths() -> ModelPaths {
    let runtime = ModelPaths::locate();
    let dir = std::env::temp_dir().join(format!("frontdesk-nlu-models-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("onnxruntime")).unwrap();
    link(
        &runtime.onnxruntime(),
        &dir.join("onnxruntime/libonnxruntime.so"),
    );
    link(&crate_root().join("models/intent"), &dir.join("intent"));
    ModelPaths::at(dir)
}

fn link(from: &Path, to: &Path) {
    match std::os::unix::fs::symlink(from, to) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => panic!("linking {} → {}: {e}", to.display(), from.display()),
    }
}

fn nlu() -> &'static Nlu {
    static NLU: OnceLock<Nlu> = OnceLock::new();
    NLU.get_or_init(|| {
        Nlu::load(&model_paths(), ProviderRoster::default()).expect("the intent model loads")
    })
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 14).unwrap()
}

fn heldout() -> Vec<frontdesk::nlu::LabelledLine> {
    load_labelled(&crate_root().join("fixtures/intents/heldout.jsonl")).unwrap()
}

#[test]
fn rust_features_and_probabilities_match_the_training_script() {
    #[derive(serde::Deserialize)]
    struct Check {
        text: String,
        indices: Vec<u32>,
        values: Vec<f32>,
        probabilities: Vec<f32>,
        crisis: f32,
    }
    let nlu = nlu();
    let raw =
        std::fs::read_to_string(crate_root().join("models/intent/features_check.jsonl")).unwrap();
    let mut checked = 0;
    for line in raw.lines() {
        let check: Check = serde_json::from_str(line).unwrap();
        let sparse = nlu.classifier().features().sparse(&check.text);
        let indices: Vec<u32> = sparse.iter().map(|p| p.0).collect();
        assert_eq!(
            indices, check.indices,
            "feature indices differ for {:?}",
            check.text
        );
        for ((_, rust), python) in sparse.iter().zip(&check.values) {
            assert!(
                (rust - python).abs() < 1e-4,
                "feature value {rust} vs {python} for {:?}",
                check.text
            );
        }
        let prediction = nlu.classifier().classify(&check.text).unwrap();
        for (rust, python) in prediction.probabilities.iter().zip(&check.probabilities) {
            assert!(
                (rust - python).abs() < 1e-3,
                "probability {rust} vs {python} for {:?}",
                check.text
            );
        }
        assert!(
            (prediction.crisis - check.crisis).abs() < 1e-3,
            "crisis probability {} vs {} for {:?}",
            prediction.crisis,
            check.crisis,
            check.text
        );
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} check lines");
}

#[test]
fn heldout_meets_accuracy_f1_and_emergency_targets() {
    let report = evaluate(nlu(), &heldout());
    println!("{}", report.render());
    for (text, truth, predicted) in &report.errors {
        println!("  {truth} → {predicted}: {text}");
    }
    assert!(
        report.per_label.iter().all(|s| s.support >= 25),
        "≥ 25 held-out lines per label"
    );
    assert!(
        report.accuracy >= 0.95,
        "accuracy {:.3} < 0.95",
        report.accuracy
    );
    assert!(
        report.macro_f1 >= 0.95,
        "macro-F1 {:.3} < 0.95",
        report.macro_f1
    );
    assert_eq!(
        report.emergency_recall, 1.0,
        "every emergency must be caught"
    );
    assert!(
        report.clinical_false_alarm_rate < 0.02,
        "clinical false alarms {:.3}",
        report.clinical_false_alarm_rate
    );
}

#[test]
fn whisper_noise_costs_at_most_three_points() {
    let lines = heldout();
    let clean = evaluate(nlu(), &lines);
    let noisy_lines: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| frontdesk::nlu::LabelledLine {
            text: whisper_noise(&l.text, 1000 + i as u64),
            intent: l.intent,
        })
        .collect();
    let noisy = evaluate(nlu(), &noisy_lines);
    println!("clean {:.3}  noisy {:.3}", clean.accuracy, noisy.accuracy);
    for (text, truth, predicted) in &noisy.errors {
        println!("  noisy {truth} → {predicted}: {text}");
    }
    assert!(
        noisy.accuracy >= clean.accuracy - 0.03,
        "noise cost {:.3} → {:.3}",
        clean.accuracy,
        noisy.accuracy
    );
    assert_eq!(
        noisy.emergency_recall, 1.0,
        "noise must not hide an emergency"
    );
}

#[test]
fn safety_net_fires_on_emergencies_and_not_on_contained_symptoms_in_fixtures() {
    #[derive(serde::Deserialize)]
    struct Case {
        text: String,
        /// An `EmergencyKind` name, or null when the net must stay quiet.
        kind: Option<String>,
    }
    let raw = std::fs::read_to_string(crate_root().join("fixtures/intents/emergency_cases.jsonl"))
        .unwrap();
    let (mut fired_ok, mut live, mut quiet_ok, mut quiet) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for line in raw.lines().filter(|l| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(line).unwrap();
        let understanding = nlu().understand(&case.text, today());
        let kind = understanding.emergency;
        match &case.kind {
            Some(expected) => {
                live += 1;
                let got = kind.map(|k| k.as_str().to_string());
                if understanding.intent == Intent::Emergency
                    && got.as_deref() == Some(expected.as_str())
                {
                    fired_ok += 1;
                } else {
                    failures.push(format!(
                        "missed {expected}: {} (got {:?}/{:?})",
                        case.text, understanding.intent, got
                    ));
                }
            }
            None => {
                quiet += 1;
                if understanding.intent != Intent::Emergency {
                    quiet_ok += 1;
                } else {
                    failures.push(format!("false alarm: {}", case.text));
                }
            }
        }
    }
    println!("emergencies caught {fired_ok}/{live}, contained cases left alone {quiet_ok}/{quiet}");
    assert!(live >= 30 && quiet >= 30, "enough cases both ways");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_net_overrides_the_model_and_names_988_for_suicidal_crisis() {
    // Mid-booking, the emergency still wins.
    let u = nlu().understand(
        "yes tuesday works and um I can't breathe right now",
        today(),
    );
    assert_eq!(u.intent, Intent::Emergency);
    assert_eq!(u.emergency, Some(EmergencyKind::Breathing));
    let u = nlu().understand("I don't want to be alive anymore", today());
    let kind = u.emergency;
    assert_eq!(
        (u.intent, kind),
        (Intent::Emergency, Some(EmergencyKind::Suicidal))
    );
    assert_eq!(kind.unwrap().hotline(), Hotline::Crisis988);
    assert!(matches!(
        emergency::screen("I had chest pain last year"),
        Screen::Contained(_)
    ));
    assert_ne!(
        nlu()
            .understand(
                "I had chest pain last year and want to ask the nurse",
                today()
            )
            .intent,
        Intent::Emergency
    );
}

/// Crisis wordings written for this test (in no training file), the way
/// callers and Whisper say them; most are beyond the net's phrases.
const CRISIS_DEV: [&str; 12] = [
    "honestly I don't think I can keep going like this much longer",
    "I've been putting away my pills for weeks and tonight I'm taking every one",
    "I don't want to be around anymore",
    "I'm tired of everything, I just want to stop existing",
    "I keep thinking my family would be fine without me",
    "I've got a bottle of pills in front of me right now and I'm ready",
    "nothing matters anymore and I want it to stop for good",
    "I keep thinking about driving off a bridge",
    "my husband said he's done living and he has his gun out",
    "I want to go to sleep and not wake up",
    "I've been hurting my self a lot lately",
    "uh I've been feeding up my tools and I'm going to take them tonight",
];

/// Ordinary requests in a crisis's words (also in no training file).
const CRISIS_LOOK_ALIKES: [&str; 12] = [
    "I'm dying to know if my blood work came back",
    "this wait is killing me",
    "I can't do Tuesdays anymore",
    "my pills ran out, I need a refill",
    "I want to cancel",
    "my neck is killing me, can I get in today",
    "I can't keep coming in at 8 in the morning, do you have later times",
    "I'm done with my antibiotics, do I need a follow up",
    "I'm so over this insurance runaround",
    "sorry the line went dead for a second",
    "I need my sleeping pills refilled before tonight",
    "the doctor said take them at night, so I'll start tonight",
];

#[test]
fn a_crisis_the_net_does_not_name_still_gets_988_and_look_alikes_do_not() {
    let unnamed = CRISIS_DEV
        .iter()
        .filter(|t| emergency::detect(t) != Some(EmergencyKind::Suicidal))
        .count();
    // The crisis model, not the net's phrases, carries this test.
    assert!(
        unnamed >= 9,
        "only {unnamed} crisis lines are beyond the net"
    );
    let mut failures = Vec::new();
    for text in CRISIS_DEV {
        let u = nlu().understand(text, today());
        if (u.intent, u.emergency) != (Intent::Emergency, Some(EmergencyKind::Suicidal)) {
            failures.push(format!(
                "crisis missed: {text} → {:?} {:?}",
                u.intent, u.emergency
            ));
        }
    }
    for text in CRISIS_LOOK_ALIKES {
        let u = nlu().understand(text, today());
        if u.intent == Intent::Emergency || u.emergency.is_some() {
            failures.push(format!(
                "false crisis: {text} → {:?} {:?}",
                u.intent, u.emergency
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bad_input_is_out_of_scope_and_bad_lines_get_errors() {
    let long = "word ".repeat(10_000);
    let input = [
        r#"{"text": ""}"#.to_string(),
        serde_json::json!({ "text": long }).to_string(),
        r#"{"text": "Je voudrais prendre un rendez-vous avec le médecin demain matin s'il vous plaît"}"#.to_string(),
        r#"{"text": "我想预约明天看医生"}"#.to_string(),
        serde_json::json!({ "text": "i need to \u{0007}\u{001b}[2J book" }).to_string(),
        "this is not json".to_string(),
        r#"{"text": "can I get a refill on my lisinopril", "ref": "2025-02-30"}"#.to_string(),
        r#"{"txt": "hello"}"#.to_string(),
        r#"{"text": "can I get a refill on my lisinopril", "ref": "2025-03-14"}"#.to_string(),
    ]
    .join("\n");
    let mut out = Vec::new();
    run_nlu_command(nlu(), Cursor::new(input), &mut out).unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 9, "one output line per input line");
    for (i, line) in lines[..5].iter().enumerate() {
        assert_eq!(line["intent"], "out_of_scope", "line {i}: {line}");
        assert!(line["entities"].is_object());
    }
    for line in &lines[5..8] {
        assert!(
            line["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{line}"
        );
    }
    assert_eq!(lines[8]["intent"], "prescription_refill");
    let confidence = lines[8]["confidence"].as_f64().unwrap();
    assert!(confidence > 0.0 && confidence <= 1.0);
}

#[test]
fn a_missing_or_corrupt_model_fails_at_load_naming_the_fix() {
    let good = model_paths();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("onnxruntime")).unwrap();
    link(
        &good.onnxruntime().canonicalize().unwrap(),
        &dir.path().join("onnxruntime/libonnxruntime.so"),
    );
    let broken = ModelPaths::at(dir.path());
    let err = Nlu::load(&broken, ProviderRoster::default())
        .err()
        .expect("missing model fails");
    assert!(format!("{err:#}").contains("train_intent.py"), "{err:#}");

    let intent_dir: PathBuf = dir.path().join("intent");
    std::fs::create_dir_all(&intent_dir).unwrap();
    std::fs::copy(
        crate_root().join("models/intent/features.json"),
        intent_dir.join("features.json"),
    )
    .unwrap();
    std::fs::write(intent_dir.join("intent.onnx"), b"not an onnx model").unwrap();
    // Without the crisis model beside it, the intent model does not load.
    let err = Nlu::load(&broken, ProviderRoster::default())
        .err()
        .expect("a missing crisis model fails");
    let message = format!("{err:#}");
    assert!(
        message.contains("crisis.onnx") && message.contains("train_intent.py"),
        "{message}"
    );
    std::fs::copy(
        crate_root().join("models/intent/crisis.onnx"),
        intent_dir.join("crisis.onnx"),
    )
    .unwrap();
    let err = Nlu::load(&broken, ProviderRoster::default())
        .err()
        .expect("corrupt model fails");
    let message = format!("{err:#}");
    assert!(
        message.contains("corrupt") && message.contains("train_intent.py"),
        "{message}"
    );
}
