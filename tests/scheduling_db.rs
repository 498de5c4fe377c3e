//! Slots, booking, cancelling and the double-booking guard on a real
//! database: SQLite always, PostgreSQL when the server is reachable.

mod scheduling_support;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use frontdesk::clinic::Clinic;
use frontdesk::scheduling::{
    BookError, BookRequest, NewPatient, SlotQuery, Source, appointments, patients,
};
use frontdesk::store::Db;

fn now() -> DateTime<Utc> {
    // Monday 2026-03-16 09:00 in New York.
    "2026-03-16T13:00:00Z".parse().unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

async fn patient(db: &Db, name: &str) -> String {
    let new = NewPatient {
        name: name.into(),
        date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 4).unwrap(),
        phone: Some("555-123-4567".into()),
    };
    patients::create(db, &new, NaiveDate::from_ymd_opt(2026, 3, 16).unwrap())
        .await
        .unwrap()
        .id
}

fn req(patient_id: &str, provider: &str, type_id: &str, start: &str) -> BookRequest {
    BookRequest {
        patient_id: patient_id.into(),
        provider_id: provider.into(),
        type_id: type_id.into(),
        start: at(start),
        source: Source::Staff,
        call_id: None,
        one_per_day: false,
    }
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

/// Booking, overlap, cancel, reschedule, same-day rule and "nothing half-written".
async fn booking_rules(db: &Db) {
    let clinic = Clinic::demo();
    let maria = patient(db, "Maria Gonzalez").await;
    let tom = patient(db, "Tom Lee").await;

    // Tuesday 2026-03-17 09:00 EDT = 13:00Z, Dr. Patel, 30-minute physical.
    let booked = appointments::book(
        db,
        &clinic,
        &req(&maria, "patel", "physical", "2026-03-17T13:00:00Z"),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(booked.status, "booked");
    assert_eq!(booked.end, at("2026-03-17T13:30:00Z"));

    // The same start, and an overlapping shorter visit, are both refused.
    let again = appointments::book(
        db,
        &clinic,
        &req(&tom, "patel", "physical", "2026-03-17T13:00:00Z"),
        now(),
    )
    .await;
    assert!(matches!(again, Err(BookError::SlotTaken)), "{again:?}");
    let overlap = appointments::book(
        db,
        &clinic,
        &req(&tom, "patel", "follow_up", "2026-03-17T13:15:00Z"),
        now(),
    )
    .await;
    assert!(matches!(overlap, Err(BookError::SlotTaken)), "{overlap:?}");
    // Dr. Kim does not work Tuesdays, and 9:07 is off the grid: not slots at all.
    let no_kim = appointments::book(
        db,
        &clinic,
        &req(&tom, "kim", "follow_up", "2026-03-17T13:15:00Z"),
        now(),
    )
    .await;
    assert!(matches!(no_kim, Err(BookError::NotASlot)), "{no_kim:?}");
    let not_slot = appointments::book(
        db,
        &clinic,
        &req(&tom, "chen", "follow_up", "2026-03-17T13:07:00Z"),
        now(),
    )
    .await;
    assert!(matches!(not_slot, Err(BookError::NotASlot)), "{not_slot:?}");
    // Another provider at the same time is fine.
    appointments::book(
        db,
        &clinic,
        &req(&tom, "chen", "follow_up", "2026-03-17T13:15:00Z"),
        now(),
    )
    .await
    .unwrap();

    // The slot search no longer offers 9:00 or 9:15 with Dr. Patel.
    let q = SlotQuery {
        type_id: "follow_up".into(),
        provider_id: Some("patel".into()),
        from: NaiveDate::from_ymd_opt(2026, 3, 17).unwrap(),
        to: NaiveDate::from_ymd_opt(2026, 3, 17).unwrap(),
        part_of_day: None,
        limit: 100,
    };
    let slots = appointments::find_slots(db, &clinic, &q, now())
        .await
        .unwrap();
    let starts: Vec<_> = slots.iter().map(|s| s.start).collect();
    assert!(!starts.contains(&at("2026-03-17T13:00:00Z")));
    assert!(!starts.contains(&at("2026-03-17T13:15:00Z")));
    assert!(starts.contains(&at("2026-03-17T13:30:00Z")));

    // In the past / unknown patient: refused, and nothing written.
    let before = count(db, "SELECT COUNT(*) FROM appointments").await;
    let past = appointments::book(
        db,
        &clinic,
        &req(&maria, "patel", "physical", "2026-03-16T12:00:00Z"),
        now(),
    )
    .await;
    assert!(matches!(past, Err(BookError::InPast)), "{past:?}");
    let ghost = appointments::book(
        db,
        &clinic,
        &req(
            "no-such-patient",
            "patel",
            "physical",
            "2026-03-18T18:00:00Z",
        ),
        now(),
    )
    .await;
    assert!(matches!(ghost, Err(BookError::UnknownPatient)), "{ghost:?}");
    // Same-day rule (phone bookings): Maria already has Tuesday 9:00.
    let mut same = req(&maria, "chen", "sick_visit", "2026-03-17T18:00:00Z");
    same.one_per_day = true;
    match appointments::book(db, &clinic, &same, now()).await {
        Err(BookError::SameDay { existing }) => assert_eq!(existing.id, booked.id),
        other => panic!("expected SameDay, got {other:?}"),
    }
    assert_eq!(count(db, "SELECT COUNT(*) FROM appointments").await, before);
    assert_eq!(count(db, "SELECT COUNT(*) FROM slot_claims WHERE appointment_id NOT IN (SELECT id FROM appointments)").await, 0);

    // Reschedule into a taken slot fails as a whole: the old booking stands.
    let blocked = appointments::reschedule(
        db,
        &clinic,
        &booked.id,
        &req(&maria, "chen", "follow_up", "2026-03-17T13:15:00Z"),
        now(),
    )
    .await;
    assert!(blocked.is_err());
    assert_eq!(
        appointments::get(db, &booked.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        "booked"
    );
    // Reschedule to a free slot moves it and frees the old time.
    let moved = appointments::reschedule(
        db,
        &clinic,
        &booked.id,
        &req(&maria, "patel", "physical", "2026-03-18T18:00:00Z"),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(
        appointments::get(db, &booked.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        "cancelled"
    );
    assert_eq!(moved.start, at("2026-03-18T18:00:00Z"));
    appointments::book(
        db,
        &clinic,
        &req(&tom, "patel", "physical", "2026-03-17T13:00:00Z"),
        now(),
    )
    .await
    .unwrap();

    // Cancel frees the cells; cancelling twice is refused.
    appointments::cancel(db, &moved.id).await.unwrap();
    assert!(matches!(
        appointments::cancel(db, &moved.id).await,
        Err(BookError::NotBooked)
    ));
    appointments::book(
        db,
        &clinic,
        &req(&tom, "patel", "physical", "2026-03-18T18:00:00Z"),
        now(),
    )
    .await
    .unwrap();
}

/// 100 simultaneous attempts at one slot: exactly one booking.
async fn hundred_concurrent_attempts(db: &Db) {
    let clinic = Arc::new(Clinic::demo());
    let mut ids = Vec::new();
    for i in 0..100 {
        ids.push(patient(db, &format!("Caller Number{i}")).await);
    }
    let mut handles = Vec::new();
    for (i, id) in ids.into_iter().enumerate() {
        let db = db.clone();
        let clinic = clinic.clone();
        // Alternate lengths so overlapping (not only identical) requests race.
        let (type_id, start) = if i % 2 == 0 {
            ("physical", "2026-03-19T13:00:00Z")
        } else {
            ("follow_up", "2026-03-19T13:15:00Z")
        };
        handles.push(tokio::spawn(async move {
            appointments::book(&db, &clinic, &req(&id, "patel", type_id, start), now()).await
        }));
    }
    let mut ok = 0;
    let mut taken = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => ok += 1,
            Err(BookError::SlotTaken) => taken += 1,
            Err(other) => panic!("unexpected booking error under contention: {other:?}"),
        }
    }
    assert_eq!(ok, 1, "exactly one of 100 simultaneous bookings wins");
    assert_eq!(taken, 99);
    let booked = count(db, "SELECT COUNT(*) FROM appointments WHERE provider_id = 'patel' AND status = 'booked' AND start_at >= '2026-03-19T13:00:00Z' AND start_at < '2026-03-19T13:30:00Z'").await;
    assert_eq!(booked, 1);
    let orphans = count(db, "SELECT COUNT(*) FROM appointments a WHERE NOT EXISTS (SELECT 1 FROM slot_claims c WHERE c.appointment_id = a.id)").await;
    assert_eq!(orphans, 0, "no appointment without its claims");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_booking_rules() {
    let (db, _dir) = scheduling_support::sqlite().await;
    booking_rules(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_hundred_concurrent_attempts_one_booking() {
    let (db, _dir) = scheduling_support::sqlite().await;
    hundred_concurrent_attempts(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_booking_rules() {
    let Some((db, guard)) = scheduling_support::postgres().await else {
        return;
    };
    booking_rules(&db).await;
    guard.drop_now(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_hundred_concurrent_attempts_one_booking() {
    let Some((db, guard)) = scheduling_support::postgres().await else {
        return;
    };
    hundred_concurrent_attempts(&db).await;
    guard.drop_now(db).await;
}
