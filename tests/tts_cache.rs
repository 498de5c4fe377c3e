//! Cached prompts are spoken without running the voice model (the only test
//! in this binary, so the model-run counter sees nothing else).

use frontdesk::models::ModelPaths;
use frontdesk::tts::Tts;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_prompts_skip_the_model() {
    let paths = ModelPaths::locate();
    if !frontdesk::prerequisites::model_present(&paths.voice()) {
        return;
    }
    let tts = Tts::load(&paths).unwrap();
    let greeting = "Thank you for calling Riverside Family Clinic.";
    let question = "How can I help you today?";
    assert_eq!(
        tts.render_prompts(&[greeting, question, greeting]).unwrap(),
        2
    );
    let cached = tts.cached(greeting).expect("greeting is cached");
    assert!(
        cached.len() > 8_000,
        "rendered greeting is {} samples",
        cached.len()
    );

    let runs_before = tts.model_runs();
    let mut stream = tts.speak(vec![format!("{greeting}  {question}")]);
    let first = stream.next().await.unwrap().unwrap();
    let second = stream.next().await.unwrap().unwrap();
    assert!(stream.next().await.is_none());
    assert!(first.cached && second.cached);
    assert_eq!(
        &first.samples_8k[..],
        &cached[..],
        "the cache returns the rendered audio"
    );
    assert_eq!(&second.samples_8k[..], &tts.cached(question).unwrap()[..]);
    assert_eq!(
        tts.model_runs(),
        runs_before,
        "cached sentences must not run the model"
    );

    // An uncached sentence does run it.
    let mut stream = tts.speak(vec!["Please hold on.".to_string()]);
    let chunk = stream.next().await.unwrap().unwrap();
    assert!(!chunk.cached);
    assert_eq!(tts.model_runs(), runs_before + 1);
}
