//! The staff API routes for clinic, slots, appointments, patients and tasks,
//! driven through the real router and a real SQLite database.

mod scheduling_support;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use frontdesk::clinic::{Clinic, Clock};
use frontdesk::tasks::{self, NewTask};
use frontdesk::vocabulary::{Priority, Queue, TaskKind};
use frontdesk::web::{self, AppState, auth::Tokens};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const TOKEN: &str = "test-admin-token";

async fn app() -> (Router, AppState, tempfile::TempDir) {
    let (db, dir) = scheduling_support::sqlite().await;
    let state = AppState {
        events: frontdesk::tasks::events::TaskEvents::start(
            db.clone(),
            "",
            frontdesk::tasks::events::DEFAULT_HEARTBEAT,
        ),
        db,
        clinic: Arc::new(Clinic::demo()),
        clock: Clock::frozen_at("2026-03-16T13:00:00Z".parse().unwrap()),
        auth: Arc::new(Tokens::new().with_admin(Some(TOKEN.into()))),
        metrics: Arc::default(),
        sign_in: Arc::default(),
        client: Default::default(),
    };
    let router = Router::new()
        .merge(web::clinic::router())
        .merge(web::scheduling::router())
        .merge(web::patients::router())
        .merge(web::tasks::router())
        .with_state(state.clone());
    (router, state, dir)
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, value)
}

#[tokio::test]
async fn clinic_route_needs_a_token_and_has_the_documented_shape() {
    let (app, _state, _dir) = app().await;
    let (status, body) = call(&app, "GET", "/api/v1/clinic", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, body) = call(&app, "GET", "/api/v1/clinic", None, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "Riverside Family Medicine");
    assert_eq!(body["timezone"], "America/New_York");
    assert_eq!(
        body["hours"][0],
        json!({"day": "monday", "open": "08:00", "close": "17:00"})
    );
    assert_eq!(
        body["providers"][0],
        json!({"id": "patel", "name": "Priya Patel", "title": "MD"})
    );
    assert_eq!(body["appointment_types"][0]["minutes"], 30);
    assert!(
        body["insurance_accepted"]
            .as_array()
            .unwrap()
            .contains(&json!("Aetna"))
    );
    assert_eq!(body["accepting_new_patients"], true);
}

#[tokio::test]
async fn patients_slots_booking_and_cancelling() {
    let (app, _state, _dir) = app().await;
    // Patients: create, validate, search.
    let (status, maria) = call(&app, "POST", "/api/v1/patients",
        Some(json!({"name": "Maria Gonzalez", "date_of_birth": "1985-03-04", "phone": "(555) 123-4567"})), Some(TOKEN)).await;
    assert_eq!(status, StatusCode::CREATED, "{maria}");
    assert_eq!(maria["phone"], "5551234567");
    // The same person again, spelt as speech recognition writes her: the
    // one record, 200, no second one.
    let (status, again) = call(
        &app,
        "POST",
        "/api/v1/patients",
        Some(json!({"name": "maria gonzales", "date_of_birth": "1985-03-04", "phone": null})),
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], maria["id"]);
    assert_eq!(again["name"], "Maria Gonzalez");
    let (status, err) = call(
        &app,
        "POST",
        "/api/v1/patients",
        Some(json!({"name": "Baby Future", "date_of_birth": "2030-01-01", "phone": null})),
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (_, found) = call(
        &app,
        "GET",
        "/api/v1/patients?name=gonz&date_of_birth=1985-03-04",
        None,
        Some(TOKEN),
    )
    .await;
    assert_eq!(found["patients"].as_array().unwrap().len(), 1);
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/patients?date_of_birth=1985-02-30",
        None,
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Slots for Tuesday with Dr. Patel, physicals.
    let (status, slots) = call(
        &app,
        "GET",
        "/api/v1/slots?date=2026-03-17&provider_id=patel&type=physical",
        None,
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let first = &slots["slots"][0];
    assert_eq!(first["start"], "2026-03-17T08:00:00-04:00");
    assert_eq!(first["end"], "2026-03-17T08:30:00-04:00");
    assert_eq!(first["provider_name"], "Priya Patel");
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/slots?date=2026-03-17&provider_id=nobody",
        None,
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Book it; the same slot again is a 409; off-grid is a 422.
    let booking = json!({"patient_id": maria["id"], "provider_id": "patel", "type": "physical", "start": "2026-03-17T08:00:00-04:00"});
    let (status, appt) = call(
        &app,
        "POST",
        "/api/v1/appointments",
        Some(booking.clone()),
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{appt}");
    assert_eq!(appt["status"], "booked");
    assert_eq!(appt["source"], "staff");
    assert_eq!(appt["patient"]["name"], "Maria Gonzalez");
    let (status, err) = call(
        &app,
        "POST",
        "/api/v1/appointments",
        Some(booking.clone()),
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    let mut odd = booking.clone();
    odd["start"] = json!("2026-03-17T08:07:00-04:00");
    let (status, _) = call(&app, "POST", "/api/v1/appointments", Some(odd), Some(TOKEN)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The slot disappears from availability; the appointment is listed.
    let (_, slots) = call(
        &app,
        "GET",
        "/api/v1/slots?date=2026-03-17&provider_id=patel&type=physical",
        None,
        Some(TOKEN),
    )
    .await;
    assert_ne!(slots["slots"][0]["start"], "2026-03-17T08:00:00-04:00");
    let (_, list) = call(
        &app,
        "GET",
        "/api/v1/appointments?date=2026-03-17&status=booked",
        None,
        Some(TOKEN),
    )
    .await;
    assert_eq!(list["appointments"].as_array().unwrap().len(), 1);

    // Cancel, cancel again (409), unknown id (404).
    let uri = format!(
        "/api/v1/appointments/{}/cancel",
        appt["id"].as_str().unwrap()
    );
    let (status, cancelled) = call(&app, "POST", &uri, None, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["status"], "cancelled");
    let (status, _) = call(&app, "POST", &uri, None, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/appointments/nope/cancel",
        None,
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The freed slot can be booked again.
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/appointments",
        Some(booking),
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn tasks_are_listed_with_filters() {
    let (app, state, _dir) = app().await;
    for (kind, call_id) in [
        (TaskKind::Emergency, "call-1"),
        (TaskKind::Billing, "call-2"),
        (TaskKind::Callback, "call-2"),
    ] {
        let (queue, priority) = kind.routing();
        tasks::create(
            &state.db,
            &NewTask {
                queue,
                priority,
                kind,
                summary: format!("{} summary", kind.as_str()),
                call_id: Some(call_id.into()),
                patient_id: None,
                callback_number: Some("5551234567".into()),
            },
        )
        .await
        .unwrap();
    }
    let (status, all) = call(&app, "GET", "/api/v1/tasks", None, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    let all = all["tasks"].as_array().unwrap().clone();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0]["priority"], "urgent", "urgent first");
    for field in [
        "id",
        "queue",
        "priority",
        "kind",
        "summary",
        "status",
        "call_id",
        "patient",
        "callback_number",
        "created_at",
        "claimed_by",
        "claimed_at",
        "completed_at",
        "resolution",
    ] {
        assert!(all[0].get(field).is_some(), "task field {field}");
    }
    let (_, billing) = call(
        &app,
        "GET",
        "/api/v1/tasks?queue=billing&status=open",
        None,
        Some(TOKEN),
    )
    .await;
    assert_eq!(billing["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(billing["tasks"][0]["kind"], "billing");
    let (_, by_call) = call(
        &app,
        "GET",
        "/api/v1/tasks?call_id=call-2",
        None,
        Some(TOKEN),
    )
    .await;
    assert_eq!(by_call["tasks"].as_array().unwrap().len(), 2);
    let (_, urgent) = call(
        &app,
        "GET",
        &format!("/api/v1/tasks?priority={}", Priority::Urgent.as_str()),
        None,
        Some(TOKEN),
    )
    .await;
    assert_eq!(urgent["tasks"][0]["queue"], Queue::Clinical.as_str());
    let (status, _) = call(
        &app,
        "GET",
        "/api/v1/tasks?queue=kitchen",
        None,
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
