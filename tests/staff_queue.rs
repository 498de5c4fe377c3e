//! The task lifecycle, on the real server over loopback HTTP (SQLite and
//! PostgreSQL) and on the store itself (both backends): the 20-way claim
//! race, claim, release, notes, complete, `no_answer`, reassign, lapsed
//! claims, history and service levels. Who may use which route is
//! `staff_roles.rs`.

mod scheduling_support;
#[path = "queue_support/staff_api.rs"]
mod staff_api;
mod support;

use chrono::{DateTime, Duration, Utc};
use frontdesk::staff::{self, Role};
use frontdesk::store::Db;
use frontdesk::tasks;
use frontdesk::tasks::history::Entry;
use frontdesk::tasks::lifecycle::{self, LifecycleError, Resolution};
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use serde_json::{Value, json};
use staff_api::{Crew, actions, drop_postgres, error_code, get, new_task, post, server};

// ---------------------------------------------------------------- lifecycle

#[tokio::test]
async fn claim_release_notes_complete_no_answer_and_reassign() {
    let (app, db) = server(None, None).await;
    let crew = Crew::hire(&db).await;
    let (second, second_token) = staff::add(&db, "Robin Front", Role::Receptionist)
        .await
        .unwrap();
    let me = crew.token(Role::Receptionist);
    let my_id = crew.id(Role::Receptionist).to_string();
    let id = new_task(&db, Queue::FrontDesk, Priority::Normal, TaskKind::Callback).await;
    let path = |action: &str| format!("/api/v1/tasks/{id}/{action}");

    // The task's shape, with the fields this slice adds.
    let (status, task) = get(&app, &format!("/api/v1/tasks/{id}"), me).await;
    assert_eq!(status, 200, "{task}");
    for field in [
        "patient",
        "attempts",
        "history",
        "due_at",
        "overdue",
        "claimed_by",
    ] {
        assert!(task.get(field).is_some(), "task field {field}: {task}");
    }
    assert_eq!(task["status"], "open");
    assert_eq!(task["attempts"], 0);
    assert_eq!(task["overdue"], false);
    assert_eq!(actions(&task), ["created"]);

    // Claim; a second claimer gets 409 naming the holder.
    let (status, task) = post(&app, &path("claim"), me, json!({})).await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["status"], "claimed");
    assert_eq!(task["claimed_by"], my_id.as_str());
    assert!(task["claimed_at"].is_string());
    let (status, body) = post(&app, &path("claim"), &second_token, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(error_code(&body), "conflict");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("receptionist person") && message.contains(&my_id),
        "{message}"
    );

    // Only the holder releases or completes.
    let (status, body) = post(&app, &path("release"), &second_token, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(&my_id));
    let (status, body) = post(
        &app,
        &path("complete"),
        &second_token,
        json!({"resolution": "resolved"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // Notes: anyone who sees the task; empty or malformed is a 400 naming the field.
    let (status, body) = post(&app, &path("notes"), &second_token, json!({"text": "  "})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("text"));
    let (status, body) = post(&app, &path("notes"), &second_token, json!({"words": "x"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(&body), "bad_request");
    let (status, task) = post(
        &app,
        &path("notes"),
        &second_token,
        json!({"text": "Patient prefers mornings."}),
    )
    .await;
    assert_eq!(status, 200, "{task}");
    let note = task["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(note["action"], "note");
    assert_eq!(note["detail"], "Patient prefers mornings.");
    assert_eq!(note["staff_id"], second.id.as_str());
    assert_eq!(
        task["status"], "claimed",
        "a note does not change the holder"
    );

    // Unknown resolution: 400 naming the field and the choices.
    let (status, body) = post(
        &app,
        &path("complete"),
        me,
        json!({"resolution": "gave_up"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("resolution") && message.contains("left_voicemail"),
        "{message}"
    );

    // no_answer keeps it open, releases it, counts the attempt.
    let (status, task) = post(
        &app,
        &path("complete"),
        me,
        json!({"resolution": "no_answer", "note": "rang 8 times"}),
    )
    .await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["status"], "open");
    assert_eq!(task["claimed_by"], Value::Null);
    assert_eq!(task["attempts"], 1);
    assert_eq!(task["resolution"], Value::Null);
    assert_eq!(
        actions(&task),
        ["created", "claimed", "note", "note", "attempt"]
    );
    // Completing an open task: claim it first.
    let (status, body) = post(
        &app,
        &path("complete"),
        me,
        json!({"resolution": "resolved"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("claim it first")
    );

    // The other receptionist claims it, releases it, claims again and finishes.
    for step in ["claim", "release", "claim"] {
        let (status, body) = post(&app, &path(step), &second_token, json!({})).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let (status, task) = post(
        &app,
        &path("complete"),
        &second_token,
        json!({"resolution": "called_back", "note": "booked nothing, question answered"}),
    )
    .await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["status"], "done");
    assert_eq!(task["resolution"], "called_back");
    assert!(task["completed_at"].is_string());
    assert_eq!(task["overdue"], false, "a done task is never overdue");
    assert_eq!(
        actions(&task),
        [
            "created",
            "claimed",
            "note",
            "note",
            "attempt",
            "claimed",
            "released",
            "claimed",
            "note",
            "completed"
        ]
    );
    let (status, body) = post(&app, &path("claim"), me, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already done")
    );

    // Reassign (managers): to a member whose role works the queue.
    let other = new_task(
        &db,
        Queue::Clinical,
        Priority::High,
        TaskKind::ClinicalQuestion,
    )
    .await;
    let reassign = format!("/api/v1/tasks/{other}/reassign");
    let manager = crew.token(Role::Manager);
    let (status, _) = post(
        &app,
        &reassign,
        crew.token(Role::Clinical),
        json!({"staff_id": crew.id(Role::Clinical)}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = post(
        &app,
        &reassign,
        manager,
        json!({"staff_id": crew.id(Role::Billing)}),
    )
    .await;
    assert_eq!(
        status, 422,
        "billing does not work the clinical queue: {body}"
    );
    let (status, body) = post(&app, &reassign, manager, json!({"staff_id": "nobody"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("staff_id")
    );
    let (status, task) = post(
        &app,
        &reassign,
        manager,
        json!({"staff_id": crew.id(Role::Clinical)}),
    )
    .await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["status"], "claimed");
    assert_eq!(task["claimed_by"], crew.id(Role::Clinical));
    let last = task["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "reassigned");
    assert_eq!(last["staff_id"], crew.id(Role::Manager));
    // The new holder may release it; a revoked member cannot be given work.
    let (status, _) = post(
        &app,
        &format!("/api/v1/tasks/{other}/release"),
        crew.token(Role::Clinical),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let (clin2, _) = staff::add(&db, "Former Nurse", Role::Clinical)
        .await
        .unwrap();
    staff::revoke(&db, &clin2.id).await.unwrap();
    let (status, _) = post(&app, &reassign, manager, json!({"staff_id": clin2.id})).await;
    assert_eq!(status, 422);
    let (status, _) = post(
        &app,
        "/api/v1/tasks/no-such-task/reassign",
        manager,
        json!({"staff_id": crew.id(Role::Clinical)}),
    )
    .await;
    assert_eq!(status, 404);
}

// ---------------------------------------------------------------- the claim race

async fn claim_race_over_http(database_url: Option<String>) {
    let (app, db) = server(database_url, None).await;
    let task = new_task(&db, Queue::Clinical, Priority::Urgent, TaskKind::Emergency).await;
    let mut claimers = Vec::new();
    for n in 0..20 {
        claimers.push(
            staff::add(&db, &format!("Nurse {n:02}"), Role::Clinical)
                .await
                .unwrap(),
        );
    }
    let path = format!("/api/v1/tasks/{task}/claim");
    let replies = futures_util::future::join_all(claimers.iter().map(|(_, token)| {
        let (app, path) = (&app, &path);
        async move { post(app, path, token, json!({})).await }
    }))
    .await;
    let winners: Vec<usize> = (0..20).filter(|&i| replies[i].0 == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one claim wins: {:?}",
        replies.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    let winner = &claimers[winners[0]].0;
    assert_eq!(replies[winners[0]].1["claimed_by"], winner.id.as_str());
    for (i, (status, body)) in replies.iter().enumerate() {
        if i == winners[0] {
            continue;
        }
        assert_eq!(*status, 409, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&winner.name) && message.contains(&winner.id),
            "{message}"
        );
    }
    let (_, stored) = get(&app, &format!("/api/v1/tasks/{task}"), &app.admin_token).await;
    assert_eq!(stored["claimed_by"], winner.id.as_str());
    assert_eq!(
        actions(&stored),
        ["created", "claimed"],
        "one claim recorded"
    );
}

#[tokio::test]
async fn twenty_claimers_over_http_one_wins_sqlite() {
    claim_race_over_http(None).await;
}

#[tokio::test]
async fn twenty_claimers_over_http_one_wins_postgres() {
    let Some((url, admin, name)) = scheduling_support::postgres_database().await else {
        return;
    };
    claim_race_over_http(Some(url)).await;
    drop_postgres(admin, &name).await;
}

async fn claim_race_in_store(db: &Db) {
    let task = new_task(
        db,
        Queue::FrontDesk,
        Priority::High,
        TaskKind::FailedUnderstanding,
    )
    .await;
    let now = Utc::now();
    let handles: Vec<_> = (0..20)
        .map(|n| {
            let (db, task) = (db.clone(), task.clone());
            tokio::spawn(
                async move { lifecycle::claim(&db, &task, &format!("staff-{n}"), now).await },
            )
        })
        .collect();
    let mut won = Vec::new();
    let mut held_by = Vec::new();
    for h in handles {
        match h.await.unwrap() {
            Ok(t) => won.push(t.claimed_by.unwrap()),
            Err(LifecycleError::HeldBy(holder)) => held_by.push(holder),
            Err(e) => panic!("unexpected: {e:#}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one claim wins");
    assert_eq!(held_by.len(), 19);
    assert!(
        held_by.iter().all(|h| *h == won[0]),
        "every loser is told the winner"
    );
    let claims: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM task_history WHERE task_id = $1 AND action = 'claimed'",
    )
    .bind(&task)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(claims, 1);
}

// ---------------------------------------------------------------- store level, both backends

/// A claim lapses after the timeout without activity (a note by the holder
/// is activity); the history says `expired` at the moment it lapsed.
async fn claims_lapse(db: &Db) {
    let t0: DateTime<Utc> = "2026-03-16T14:00:00Z".parse().unwrap();
    let timeout = Duration::minutes(30);
    let task = new_task(db, Queue::Billing, Priority::Normal, TaskKind::Billing).await;
    lifecycle::claim(db, &task, "holder-1", t0).await.unwrap();
    assert_eq!(
        lifecycle::expire_stale(db, t0 + Duration::minutes(29), timeout)
            .await
            .unwrap(),
        0
    );
    lifecycle::add_note(
        db,
        &task,
        "holder-1",
        "still on it",
        t0 + Duration::minutes(20),
    )
    .await
    .unwrap();
    assert_eq!(
        lifecycle::expire_stale(db, t0 + Duration::minutes(45), timeout)
            .await
            .unwrap(),
        0
    );
    // A note by someone else is not the holder's activity.
    lifecycle::add_note(
        db,
        &task,
        "someone-else",
        "any news?",
        t0 + Duration::minutes(40),
    )
    .await
    .unwrap();
    assert_eq!(
        lifecycle::expire_stale(db, t0 + Duration::minutes(51), timeout)
            .await
            .unwrap(),
        1
    );
    let after = tasks::get(db, &task).await.unwrap().unwrap();
    assert_eq!(after.status, "open");
    assert_eq!(after.claimed_by, None);
    let history = tasks::history::of_tasks(db, std::slice::from_ref(&task))
        .await
        .unwrap();
    let entries: &Vec<Entry> = &history[&task];
    let last = entries.last().unwrap();
    assert_eq!(last.action, "expired");
    assert_eq!(last.at, "2026-03-16T14:50:00.000Z");
    assert_eq!(last.staff_id, None);
    assert!(last.detail.as_deref().unwrap().contains("holder-1"));
    // Expired once; a second sweep finds nothing; anyone may claim again.
    assert_eq!(
        lifecycle::expire_stale(db, t0 + Duration::minutes(90), timeout)
            .await
            .unwrap(),
        0
    );
    lifecycle::claim(db, &task, "holder-2", t0 + Duration::minutes(91))
        .await
        .unwrap();
}

/// Resolutions, attempts and the append-only history.
async fn lifecycle_in_store(db: &Db) {
    let now = Utc::now();
    let task = new_task(
        db,
        Queue::Records,
        Priority::Normal,
        TaskKind::RecordsRequest,
    )
    .await;
    assert!(matches!(
        lifecycle::complete(db, &task, "a", Resolution::Resolved, None, now).await,
        Err(LifecycleError::NotClaimed)
    ));
    lifecycle::claim(db, &task, "a", now).await.unwrap();
    assert!(matches!(
        lifecycle::release(db, &task, "b", now).await,
        Err(LifecycleError::HeldBy(h)) if h == "a"
    ));
    for n in 1..=2 {
        let t = lifecycle::complete(db, &task, "a", Resolution::NoAnswer, None, now)
            .await
            .unwrap();
        assert_eq!((t.status.as_str(), t.attempts), ("open", n));
        lifecycle::claim(db, &task, "a", now).await.unwrap();
    }
    let done = lifecycle::complete(
        db,
        &task,
        "a",
        Resolution::LeftVoicemail,
        Some("left a message"),
        now,
    )
    .await
    .unwrap();
    assert_eq!(done.status, "done");
    assert_eq!(done.resolution.as_deref(), Some("left_voicemail"));
    assert_eq!(done.attempts, 2);
    assert!(matches!(
        lifecycle::claim(db, &task, "b", now).await,
        Err(LifecycleError::Done)
    ));
    assert!(matches!(
        lifecycle::reassign(db, &task, "m", "b", now).await,
        Err(LifecycleError::Done)
    ));
    assert!(matches!(
        lifecycle::claim(db, "nope", "b", now).await,
        Err(LifecycleError::NotFound)
    ));
    // The history cannot be rewritten.
    let rewrite = sqlx::query("UPDATE task_history SET detail = 'edited' WHERE task_id = $1")
        .bind(&task)
        .execute(&db.pool)
        .await;
    assert!(rewrite.is_err(), "history rows are append-only");
    let delete = sqlx::query("DELETE FROM task_history WHERE task_id = $1")
        .bind(&task)
        .execute(&db.pool)
        .await;
    assert!(delete.is_err(), "history rows are append-only");
    // Staff accounts: tokens found by hash, revoked ones not at all.
    let (member, token) = staff::add(db, "Lee Records", Role::Records).await.unwrap();
    assert_eq!(
        staff::find_by_token(db, &token).await.unwrap().unwrap().id,
        member.id
    );
    assert!(
        staff::find_by_token(db, &format!("{token}x"))
            .await
            .unwrap()
            .is_none()
    );
    staff::revoke(db, &member.id).await.unwrap();
    assert!(staff::find_by_token(db, &token).await.unwrap().is_none());
}

#[tokio::test]
async fn store_lifecycle_sqlite() {
    let (db, _dir) = scheduling_support::sqlite().await;
    claim_race_in_store(&db).await;
    claims_lapse(&db).await;
    lifecycle_in_store(&db).await;
}

#[tokio::test]
async fn store_lifecycle_postgres() {
    let Some((db, guard)) = scheduling_support::postgres().await else {
        return;
    };
    claim_race_in_store(&db).await;
    claims_lapse(&db).await;
    lifecycle_in_store(&db).await;
    guard.drop_now(db).await;
}

// ---------------------------------------------------------------- expiry and service levels over HTTP

#[tokio::test]
async fn the_clinics_claim_timeout_and_service_levels_apply() {
    let toml = format!(
        "{}\n[queue]\nclaim_timeout_minutes = 5\n[queue.service_levels]\nurgent = \"10m\"\nhigh = \"1h\"\n",
        frontdesk::clinic::config::DEMO_CLINIC_TOML
    );
    let (app, db) = server(None, Some(toml)).await;
    let crew = Crew::hire(&db).await;
    let billing = crew.token(Role::Billing);
    let stale = new_task(&db, Queue::Billing, Priority::Normal, TaskKind::Billing).await;
    let fresh = new_task(&db, Queue::Billing, Priority::Normal, TaskKind::Billing).await;
    for id in [&stale, &fresh] {
        let (status, _) = post(
            &app,
            &format!("/api/v1/tasks/{id}/claim"),
            billing,
            json!({}),
        )
        .await;
        assert_eq!(status, 200);
    }
    // The holder of `stale` last acted six minutes ago, of `fresh` four.
    for (id, minutes) in [(&stale, 6), (&fresh, 4)] {
        let at = lifecycle::stamp(Utc::now() - Duration::minutes(minutes));
        sqlx::query("UPDATE tasks SET touched_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    let (_, body) = get(&app, "/api/v1/tasks", billing).await;
    let by_id = |id: &str| {
        body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()
            .clone()
    };
    let lapsed = by_id(&stale);
    assert_eq!(lapsed["status"], "open", "{lapsed}");
    assert_eq!(lapsed["claimed_by"], Value::Null);
    assert_eq!(actions(&lapsed), ["created", "claimed", "expired"]);
    assert_eq!(by_id(&fresh)["status"], "claimed");

    // Service levels: urgent 10 minutes, high one hour (this clinic's).
    let urgent = new_task(&db, Queue::Billing, Priority::Urgent, TaskKind::Billing).await;
    let high = new_task(&db, Queue::Billing, Priority::High, TaskKind::Billing).await;
    let due = |task: &Value| -> i64 {
        let created: DateTime<Utc> = task["created_at"].as_str().unwrap().parse().unwrap();
        let due: DateTime<Utc> = task["due_at"].as_str().unwrap().parse().unwrap();
        (due - created).num_seconds()
    };
    let (_, t) = get(&app, &format!("/api/v1/tasks/{urgent}"), billing).await;
    assert!((599..=600).contains(&due(&t)), "{t}");
    assert_eq!(t["overdue"], false);
    let (_, t) = get(&app, &format!("/api/v1/tasks/{high}"), billing).await;
    assert!((3599..=3600).contains(&due(&t)), "{t}");
    // An urgent task created 11 minutes ago is overdue.
    sqlx::query("UPDATE tasks SET created_at = $1 WHERE id = $2")
        .bind(lifecycle::stamp(Utc::now() - Duration::minutes(11)))
        .bind(&urgent)
        .execute(&db.pool)
        .await
        .unwrap();
    let (_, t) = get(&app, &format!("/api/v1/tasks/{urgent}"), billing).await;
    assert_eq!(t["overdue"], true, "{t}");
}
