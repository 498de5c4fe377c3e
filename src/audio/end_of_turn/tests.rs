//! The real model on a real recording over a phone line: the JFK clip of
//! the shared corpus, µ-law at 8 kHz, cut at its own pauses. Skips (fails
//! in CI) when the model or the corpus is missing.

use std::sync::Arc;

use super::EndOfTurnModel;
use crate::audio::{mulaw, resample};
use crate::models::ModelPaths;

fn model() -> Option<Arc<EndOfTurnModel>> {
    let paths = ModelPaths::locate();
    if !crate::prerequisites::model_present(&paths.end_of_turn())
        || !crate::prerequisites::model_present(&paths.onnxruntime())
    {
        return None;
    }
    Some(EndOfTurnModel::load(&paths).expect("loading Smart Turn"))
}

/// "And so, my fellow Americans: ask not what your country can do for
/// you; ask what you can do for your country", as a phone line carries it,
/// at 16 kHz.
fn jfk_over_the_phone() -> Option<Vec<f32>> {
    let path = crate::prerequisites::corpus_file("derived/jfk_8k.ulaw")?;
    let bytes = std::fs::read(path).unwrap();
    let pcm: Vec<i16> = bytes.iter().map(|b| mulaw::decode(*b)).collect();
    Some(resample::resample(&resample::i16_to_f32(&pcm), 8000, 16000).unwrap())
}

/// 200 ms into each of the clip's pauses, as the call asks at a pause.
#[test]
fn pauses_inside_the_sentence_are_not_the_end_of_the_turn() {
    let (Some(model), Some(audio)) = (model(), jfk_over_the_phone()) else {
        return;
    };
    let at = |seconds: f64| &audio[..(seconds * 16_000.0) as usize];
    // After "ask not", "… can do for you" and "ask what": mid-sentence.
    for pause_s in [3.70, 4.30, 7.56] {
        let p = model.probability_complete(at(pause_s + 0.2)).unwrap();
        assert!(p < 0.2, "the pause at {pause_s} s heard as the end ({p})");
    }
    // The end of the sentence.
    let p = model.probability_complete(at(10.58)).unwrap();
    assert!(p > 0.8, "the end of the speech heard as unfinished ({p})");
}
