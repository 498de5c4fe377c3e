//! The staff API's filtered listings (calls, appointments, patients,
//! tasks) are built from their filters at run time: every filter, their
//! combinations, the ordering and the paging, on SQLite always and on
//! PostgreSQL when the server is reachable.

mod scheduling_support;

use chrono::{DateTime, NaiveDate, Utc};
use frontdesk::clinic::Clinic;
use frontdesk::scheduling::patients::PhoneNumber;
use frontdesk::scheduling::{
    AppointmentFilter, BookRequest, NewPatient, SlotQuery, Source, appointments, patients,
};
use frontdesk::store::Db;
use frontdesk::store::calls::{CallFilter, NewCall, NewTurn, Speaker};
use frontdesk::tasks::{self, NewTask, TaskFilter};
use frontdesk::vocabulary::Outcome;
use frontdesk::vocabulary::{Priority, Queue, TaskKind};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|item| id(item).to_string()).collect()
}

async fn calls(db: &Db) {
    let mut made = Vec::new();
    for i in 0..5 {
        let id = frontdesk::store::new_id();
        db.insert_call(&NewCall {
            id: id.clone(),
            provider: "twilio".into(),
            ..Default::default()
        })
        .await
        .unwrap();
        let text = if i == 2 || i == 4 {
            "My BILL is wrong"
        } else {
            "hello"
        };
        db.append_turn(
            &id,
            &NewTurn {
                speaker: Speaker::Caller,
                text: text.into(),
                started_at_ms: 0,
                ended_at_ms: 1,
                intent: None,
                confidence: None,
                interrupted: false,
            },
        )
        .await
        .unwrap();
        if i % 2 == 0 {
            db.set_call_outcome(&id, Outcome::Escalated).await.unwrap();
        }
        made.push(db.get_call(&id).await.unwrap().unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let list = |filter: CallFilter| async move {
        let found = db.list_calls(&filter).await.unwrap();
        ids(&found, |c| &c.id)
    };
    let newest_first = |picked: &[usize]| -> Vec<String> {
        picked.iter().rev().map(|&i| made[i].id.clone()).collect()
    };
    let all = CallFilter {
        limit: 50,
        ..Default::default()
    };
    assert_eq!(list(all.clone()).await, newest_first(&[0, 1, 2, 3, 4]));
    assert_eq!(
        list(CallFilter {
            since: Some(made[1].started_at.clone()),
            until: Some(made[4].started_at.clone()),
            ..all.clone()
        })
        .await,
        newest_first(&[1, 2, 3])
    );
    assert_eq!(
        list(CallFilter {
            outcome: Some("escalated".into()),
            ..all.clone()
        })
        .await,
        newest_first(&[0, 2, 4])
    );
    // `%` and `_` in the text are dropped, not wildcards.
    assert_eq!(
        list(CallFilter {
            q: Some("b%il_l".into()),
            ..all.clone()
        })
        .await,
        newest_first(&[2, 4])
    );
    assert_eq!(
        list(CallFilter {
            q: Some("bill".into()),
            until: Some(made[4].started_at.clone()),
            outcome: Some("escalated".into()),
            ..all.clone()
        })
        .await,
        newest_first(&[2])
    );
    // Pages of two, each after the previous page's last row: every call once.
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = db
            .list_calls(&CallFilter {
                limit: 2,
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some((last.started_at.clone(), last.id.clone()));
        paged.extend(ids(&page, |c| &c.id));
    }
    assert_eq!(paged, newest_first(&[0, 1, 2, 3, 4]));
}

async fn tasks(db: &Db) {
    let call_id = frontdesk::store::new_id();
    let mut made = Vec::new();
    for (kind, call) in [
        (TaskKind::Billing, None),
        (TaskKind::Emergency, Some(call_id.clone())),
        (TaskKind::Billing, Some(call_id.clone())),
        (TaskKind::FailedUnderstanding, None),
        (TaskKind::Callback, None),
    ] {
        let (queue, priority) = kind.routing();
        let task = tasks::create(
            db,
            &NewTask {
                queue,
                priority,
                kind,
                summary: "a task".into(),
                call_id: call,
                patient_id: None,
                callback_number: None,
            },
        )
        .await
        .unwrap();
        made.push(task.id);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let list = |filter: TaskFilter| async move {
        let found = tasks::list(db, &filter).await.unwrap();
        ids(&found, |t| &t.id)
    };
    let picked =
        |order: &[usize]| -> Vec<String> { order.iter().map(|&i| made[i].clone()).collect() };
    // Urgent, then high, then normal; newest first within a priority.
    assert_eq!(list(TaskFilter::default()).await, picked(&[1, 3, 4, 2, 0]));
    assert_eq!(
        list(TaskFilter {
            queue: Some(Queue::Billing.as_str().into()),
            status: Some("open".into()),
            ..Default::default()
        })
        .await,
        picked(&[2, 0])
    );
    assert_eq!(
        list(TaskFilter {
            call_id: Some(call_id.clone()),
            ..Default::default()
        })
        .await,
        picked(&[1, 2])
    );
    assert_eq!(
        list(TaskFilter {
            priority: Some(Priority::High.as_str().into()),
            ..Default::default()
        })
        .await,
        picked(&[3])
    );
    assert_eq!(
        list(TaskFilter {
            status: Some("done".into()),
            ..Default::default()
        })
        .await,
        picked(&[])
    );
    assert_eq!(
        list(TaskFilter {
            limit: Some(2),
            ..Default::default()
        })
        .await,
        picked(&[1, 3])
    );
}

async fn patients_and_appointments(db: &Db) {
    let today = NaiveDate::from_ymd_opt(2026, 3, 16).unwrap();
    let mut made = Vec::new();
    for (name, dob, phone) in [
        ("Maria Gonzalez", (1985, 3, 4), "555-123-4567"),
        ("Mario Gonzales", (1990, 7, 1), "555-987-6543"),
        ("Tom Lee", (1985, 3, 4), "555-123-4567"),
    ] {
        let new = NewPatient {
            name: name.into(),
            date_of_birth: NaiveDate::from_ymd_opt(dob.0, dob.1, dob.2).unwrap(),
            phone: Some(phone.into()),
        };
        made.push(patients::create(db, &new, today).await.unwrap().id);
    }
    let search =
        |name: Option<&'static str>, dob: Option<(i32, u32, u32)>, phone: Option<&str>, limit| {
            let phone = phone.map(|p| PhoneNumber::parse(p).unwrap());
            async move {
                let dob = dob.map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap());
                let found = patients::search(db, name, dob, phone.as_ref(), limit)
                    .await
                    .unwrap();
                ids(&found, |p| &p.id)
            }
        };
    let picked =
        |order: &[usize]| -> Vec<String> { order.iter().map(|&i| made[i].clone()).collect() };
    // Ordered by name, then date of birth.
    assert_eq!(search(None, None, None, 50).await, picked(&[0, 1, 2]));
    assert_eq!(search(Some("gonz"), None, None, 50).await, picked(&[0, 1]));
    assert_eq!(
        search(Some("GONZ"), Some((1985, 3, 4)), None, 50).await,
        picked(&[0])
    );
    assert_eq!(
        search(None, Some((1985, 3, 4)), Some("5551234567"), 50).await,
        picked(&[0, 2])
    );
    assert_eq!(
        search(Some("g_o%nz"), None, Some("555-987-6543"), 50).await,
        picked(&[1])
    );
    assert_eq!(search(None, None, None, 2).await, picked(&[0, 1]));

    let clinic = Clinic::demo();
    let now = at("2026-03-16T13:00:00Z");
    let book = |patient: &str,
                provider: &str,
                type_id: &str,
                start: DateTime<Utc>,
                call_id: Option<&str>| {
        let req = BookRequest {
            patient_id: patient.into(),
            provider_id: provider.into(),
            type_id: type_id.into(),
            start,
            source: Source::Staff,
            call_id: call_id.map(String::from),
            one_per_day: false,
        };
        let clinic = &clinic;
        async move { appointments::book(db, clinic, &req, now).await.unwrap().id }
    };
    let wednesday = NaiveDate::from_ymd_opt(2026, 3, 18).unwrap();
    let later = appointments::find_slots(
        db,
        &clinic,
        &SlotQuery {
            type_id: "follow_up".into(),
            provider_id: None,
            from: wednesday,
            to: wednesday,
            part_of_day: None,
            limit: 1,
        },
        now,
    )
    .await
    .unwrap()
    .remove(0);
    let booked = [
        book(
            &made[0],
            "patel",
            "physical",
            at("2026-03-17T13:00:00Z"),
            None,
        )
        .await,
        book(
            &made[2],
            "chen",
            "follow_up",
            at("2026-03-17T13:15:00Z"),
            Some("call-7"),
        )
        .await,
        book(
            &made[2],
            "patel",
            "follow_up",
            at("2026-03-17T13:30:00Z"),
            None,
        )
        .await,
        book(
            &made[1],
            &later.provider_id,
            "follow_up",
            later.start,
            Some("call-7"),
        )
        .await,
        // Same start as the first, another provider: ordered by provider.
        book(
            &made[1],
            "chen",
            "follow_up",
            at("2026-03-17T13:00:00Z"),
            None,
        )
        .await,
    ];
    appointments::cancel(db, &booked[2]).await.unwrap();
    let list = |filter: AppointmentFilter| {
        let clinic = &clinic;
        async move {
            let found = appointments::list(db, clinic, &filter).await.unwrap();
            ids(&found, |a| &a.id)
        }
    };
    let picked =
        |order: &[usize]| -> Vec<String> { order.iter().map(|&i| booked[i].clone()).collect() };
    let tuesday = NaiveDate::from_ymd_opt(2026, 3, 17).unwrap();
    assert_eq!(
        list(AppointmentFilter::default()).await,
        picked(&[4, 0, 1, 2, 3])
    );
    assert_eq!(
        list(AppointmentFilter {
            date: Some(tuesday),
            status: Some("booked".into()),
            ..Default::default()
        })
        .await,
        picked(&[4, 0, 1])
    );
    assert_eq!(
        list(AppointmentFilter {
            provider_id: Some("patel".into()),
            ..Default::default()
        })
        .await,
        picked(&[0, 2])
    );
    assert_eq!(
        list(AppointmentFilter {
            patient_id: Some(made[2].clone()),
            status: Some("cancelled".into()),
            ..Default::default()
        })
        .await,
        picked(&[2])
    );
    assert_eq!(
        list(AppointmentFilter {
            call_id: Some("call-7".into()),
            ..Default::default()
        })
        .await,
        picked(&[1, 3])
    );
    assert_eq!(
        list(AppointmentFilter {
            starting_after: Some(at("2026-03-17T13:15:00Z")),
            ..Default::default()
        })
        .await,
        picked(&[1, 2, 3])
    );
    assert_eq!(
        list(AppointmentFilter {
            limit: Some(2),
            ..Default::default()
        })
        .await,
        picked(&[4, 0])
    );
}

async fn every_listing(db: &Db) {
    calls(db).await;
    tasks(db).await;
    patients_and_appointments(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_listings_filter_order_and_page() {
    let (db, _dir) = scheduling_support::sqlite().await;
    every_listing(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_listings_filter_order_and_page() {
    let Some((db, guard)) = scheduling_support::postgres().await else {
        return;
    };
    every_listing(&db).await;
    guard.drop_now(db).await;
}
