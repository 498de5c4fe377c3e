//! One patient record per person, on real databases (SQLite always,
//! PostgreSQL through `scheduling_support`): simultaneous registrations of
//! one new patient leave one row; the strict identity match and its second
//! factor on stored records; migration 0006 merges duplicates stored before
//! the unique key existed.

mod scheduling_support;

use chrono::NaiveDate;
use frontdesk::scheduling::{Match, NewPatient, Registration, SecondFactor, patients};
use frontdesk::store::Db;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 16).unwrap()
}

fn dob() -> NaiveDate {
    NaiveDate::from_ymd_opt(1985, 3, 4).unwrap()
}

fn new(name: &str, phone: Option<&str>) -> NewPatient {
    NewPatient {
        name: name.into(),
        date_of_birth: dob(),
        phone: phone.map(str::to_string),
    }
}

async fn count(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM patients")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// Twenty phone registrations of one new person at once, spelt the ways
/// recognition writes the name: one row, every caller gets it, one "new".
async fn simultaneous_registrations(db: &Db) {
    let spellings = ["Maria Gonzalez", "maria  gonzales", "María González"];
    let mut handles = Vec::new();
    for i in 0..20 {
        let db = db.clone();
        let name = spellings[i % spellings.len()];
        handles.push(tokio::spawn(async move {
            patients::find_or_register(&db, &new(name, Some("5551234567")), today()).await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    let mut created = 0;
    for h in handles {
        match h.await.unwrap().expect("a registration") {
            Registration::Created(p) => {
                created += 1;
                ids.insert(p.id);
            }
            Registration::Existing(p) => {
                ids.insert(p.id);
            }
            Registration::NeedsSecondFactor => panic!("an exact name needs no second factor"),
        }
    }
    assert_eq!(count(db).await, 1, "one person, one record");
    assert_eq!(ids.len(), 1, "every caller got the same record: {ids:?}");
    assert_eq!(created, 1);

    // The staff API's path is idempotent too, simultaneous or not.
    let mut handles = Vec::new();
    for _ in 0..10 {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            patients::register(&db, &new("Tom Lee", None), today()).await
        }));
    }
    let mut new_ones = 0;
    for h in handles {
        if h.await.unwrap().expect("registered").1 {
            new_ones += 1;
        }
    }
    assert_eq!(new_ones, 1);
    assert_eq!(count(db).await, 2);
}

/// Twins, a mishearing, and the second factor that settles it.
async fn strict_match_and_second_factor(db: &Db) {
    let maria = patients::create(db, &new("Maria Gonzalez", Some("5551234567")), today())
        .await
        .unwrap();
    patients::set_zip(db, &maria.id, Some("62704"))
        .await
        .unwrap();
    let mario = patients::create(db, &new("Mario Gonzalez", Some("5559990000")), today())
        .await
        .unwrap();
    assert_ne!(maria.id, mario.id, "twins are two records");

    let found = |name: &'static str| async move {
        match patients::match_identity(db, name, dob()).await.unwrap() {
            Match::Exact(c) => Some(c.patient.id),
            Match::NeedsSecondFactor(_) => Some("second factor".to_string()),
            Match::None => None,
        }
    };
    assert_eq!(found("Mario Gonzalez").await, Some(mario.id.clone()));
    assert_eq!(found("Maria Gonzales").await, Some(maria.id.clone()));
    assert_eq!(found("Marie Gonzalez").await, Some("second factor".into()));
    assert_eq!(found("Mark Gonzalez").await, None);
    assert_eq!(
        patients::find_by_identity(db, "Marie Gonzalez", dob())
            .await
            .unwrap(),
        None,
        "a weak match is never taken alone"
    );

    let check = |factor: SecondFactor| async move {
        patients::verify_second_factor(db, "Marie Gonzalez", dob(), &factor)
            .await
            .unwrap()
            .map(|p| p.id)
    };
    assert_eq!(
        check(SecondFactor::Phone("5551234567".into())).await,
        Some(maria.id.clone())
    );
    assert_eq!(
        check(SecondFactor::Zip("62704".into())).await,
        Some(maria.id)
    );
    assert_eq!(check(SecondFactor::Phone("5559990000".into())).await, None);
    assert_eq!(check(SecondFactor::Zip("10001".into())).await, None);

    // A phone registration that is only close to a record writes nothing.
    let before = count(db).await;
    let r = patients::find_or_register(db, &new("Marie Gonzalez", None), today())
        .await
        .unwrap();
    assert_eq!(r, Registration::NeedsSecondFactor);
    assert_eq!(count(db).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_simultaneous_registrations_leave_one_patient() {
    let (db, _dir) = scheduling_support::sqlite().await;
    simultaneous_registrations(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_simultaneous_registrations_leave_one_patient() {
    let Some((db, guard)) = scheduling_support::postgres().await else {
        return;
    };
    simultaneous_registrations(&db).await;
    guard.drop_now(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_strict_match_and_second_factor() {
    let (db, _dir) = scheduling_support::sqlite().await;
    strict_match_and_second_factor(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_strict_match_and_second_factor() {
    let Some((db, guard)) = scheduling_support::postgres().await else {
        return;
    };
    strict_match_and_second_factor(&db).await;
    guard.drop_now(db).await;
}

/// Two records of one person (and a third of someone else) stored before
/// 0006, each with an appointment and a task: after it, one record (the
/// oldest, with the phone number one of them had) holds both.
async fn migration_merges_duplicates(db: &Db, all: &sqlx::migrate::Migrator) {
    all.run_to(5, &db.pool)
        .await
        .expect("the migrations before 0006");
    for (id, name, phone, at) in [
        ("p-old", "Maria Gonzalez", None, "2026-01-01T00:00:00.000Z"),
        (
            "p-new",
            "maria  gonzalez",
            Some("5551234567"),
            "2026-02-01T00:00:00.000Z",
        ),
        ("p-tom", "Tom Lee", None, "2026-01-15T00:00:00.000Z"),
    ] {
        sqlx::query(
            "INSERT INTO patients (id, name, name_key, date_of_birth, phone, created_at) \
             VALUES ($1, $2, $3, '1985-03-04', $4, $5)",
        )
        .bind(id)
        .bind(name)
        .bind(patients::name_key(name))
        .bind(phone)
        .bind(at)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    sqlx::query("INSERT INTO providers (id, name, title) VALUES ('patel', 'Dr. Patel', 'MD')")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO appointment_types (id, name, minutes) VALUES ('physical', 'physical', 30)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    for (id, patient, start) in [
        ("a1", "p-old", "2026-03-17T13:00:00Z"),
        ("a2", "p-new", "2026-03-18T13:00:00Z"),
    ] {
        sqlx::query(
            "INSERT INTO appointments (id, patient_id, provider_id, type_id, start_at, end_at, \
             status, source, created_at) VALUES ($1, $2, 'patel', 'physical', $3, $3, 'booked', \
             'staff', '2026-03-01T00:00:00Z')",
        )
        .bind(id)
        .bind(patient)
        .bind(start)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO tasks (id, queue, priority, kind, summary, patient_id, created_at) \
         VALUES ('t1', 'front_desk', 'normal', 'callback', 'call back', 'p-new', '2026-03-01T00:00:00Z')",
    )
    .execute(&db.pool)
    .await
    .unwrap();

    db.migrate()
        .await
        .expect("0006 and later on a database with duplicates");

    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM patients ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(ids, ["p-old", "p-tom"]);
    let holders: Vec<String> =
        sqlx::query_scalar("SELECT patient_id FROM appointments ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(holders, ["p-old", "p-old"]);
    let task: Option<String> = sqlx::query_scalar("SELECT patient_id FROM tasks WHERE id = 't1'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(task.as_deref(), Some("p-old"));
    let kept = patients::get(db, "p-old").await.unwrap().unwrap();
    assert_eq!(kept.phone.as_deref(), Some("5551234567"));
    // The key the migration wrote is the one the application computes.
    let (p, created) = patients::register(db, &new("Maria Gonzalez", None), today())
        .await
        .unwrap();
    assert_eq!((p.id.as_str(), created), ("p-old", false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_migration_merges_duplicate_patients() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&frontdesk::store::sqlite_url_in(dir.path()))
        .await
        .unwrap();
    migration_merges_duplicates(&db, &sqlx::migrate!("migrations/sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_migration_merges_duplicate_patients() {
    let Some((url, admin, name)) = scheduling_support::postgres_database().await else {
        return;
    };
    let db = Db::connect(&url).await.unwrap();
    migration_merges_duplicates(&db, &sqlx::migrate!("migrations/postgres")).await;
    db.pool.close().await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin.pool)
    .await;
}
