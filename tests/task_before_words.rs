//! A task is written before the agent says it was: when the front desk
//! hands the call loop the words "I've sent your request…", the task is
//! already in the database, so a crash while they play loses no promise.

mod scheduling_support;

use std::sync::Arc;

use frontdesk::call::{CallInfo, ConversationFactory};
use frontdesk::clinic::{Clinic, Clock, Prompts};
use frontdesk::desk::Desk;
use frontdesk::store::calls::NewCall;
use frontdesk::tasks::{self, TaskFilter};
use frontdesk::vocabulary::{CallEvent, Entities, Intent, Understanding};

fn heard(text: &str, intent: Intent, entities: Entities) -> CallEvent {
    CallEvent::Utterance {
        text: text.into(),
        understanding: Understanding {
            intent,
            confidence: 0.95,
            entities,
            emergency: None,
            possible_emergency: None,
        },
    }
}

#[tokio::test]
async fn the_task_is_stored_before_the_agent_says_it_was_sent() {
    let (db, _dir) = scheduling_support::sqlite().await;
    let clinic = Clinic::demo();
    // After hours: a billing question becomes a callback task.
    let clock = Clock::starting_at("2026-03-16T22:30:00Z".parse().unwrap());
    let started_local = clinic.local(clock.now());
    let desk = Desk::new(
        db.clone(),
        Arc::new(clinic),
        Arc::new(Prompts::builtin()),
        clock,
    );
    let call_id = frontdesk::store::new_id();
    db.insert_call(&NewCall {
        id: call_id.clone(),
        provider: "twilio".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut conversation = desk.start(&CallInfo {
        call_id: call_id.clone(),
        from: Some("+15551234567".into()),
        started_local,
    });
    let tasks_now = || {
        let db = db.clone();
        let call_id = call_id.clone();
        async move {
            tasks::list(
                &db,
                &TaskFilter {
                    call_id: Some(call_id),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
        }
    };

    let events = [
        CallEvent::Started,
        heard(
            "I have a question about a charge on my bill",
            Intent::Billing,
            Entities::default(),
        ),
        heard(
            "My name is Maria Gonzalez",
            Intent::Inform,
            Entities {
                person_name: Some("Maria Gonzalez".into()),
                ..Default::default()
            },
        ),
        heard("yes", Intent::Affirm, Entities::default()),
    ];
    let mut promised = false;
    for event in events {
        let before = tasks_now().await.len();
        let turn = conversation.handle(event).await.unwrap();
        let says = turn.say.join(" ").to_lowercase();
        if says.contains("i've sent your request") {
            // The call loop has not played a word of it yet.
            let tasks = tasks_now().await;
            assert_eq!(tasks.len(), before + 1, "{says:?}");
            assert_eq!(tasks[0].queue, "billing");
            promised = true;
        }
    }
    assert!(promised, "the agent never promised a call back");
}
