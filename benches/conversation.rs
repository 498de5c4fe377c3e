//! `cargo bench --bench conversation`: dialogue step (< 1 ms) and slot
//! search over a 10-provider, 90-day schedule (< 5 ms).

use chrono::{Duration, NaiveDate};
use frontdesk::clinic::{Clinic, Prompts};
use frontdesk::dialogue::{ActionResult, Dialogue, Env, Input, PatientRef};
use frontdesk::scheduling::Slot;
use frontdesk::vocabulary::{CallEvent, Entities, Intent, PartOfDay, Understanding};

fn main() {
    // Warm up, then measure.
    let _ = bench_step(50);
    let step = bench_step(2000);
    let _ = frontdesk::scheduling::bench::slot_search(3);
    let (search, found) = frontdesk::scheduling::bench::slot_search(101);
    println!(
        "dialogue step: {:.1} µs mean (target < 1000 µs)",
        step.as_secs_f64() * 1e6
    );
    println!(
        "slot search, 10 providers x 90 days ({found} open slots): {:.3} ms median (target < 5 ms)",
        search.as_secs_f64() * 1e3
    );
}

/// Mean time of one step over a scripted booking call (no I/O; results are
/// synthesised), for the `< 1 ms` target.
fn bench_step(iterations: u32) -> std::time::Duration {
    let clinic = Clinic::demo();
    let prompts = Prompts::builtin();
    let now = NaiveDate::from_ymd_opt(2026, 3, 16)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .unwrap_or_default();
    let env = Env {
        clinic: &clinic,
        prompts: &prompts,
        now,
        on_duty: None,
    };
    let u = |intent: Intent, entities: Entities| Understanding {
        intent,
        confidence: 0.95,
        entities,
        emergency: None,
        possible_emergency: None,
    };
    let slot = |h: u32| {
        let local = now
            .date()
            .succ_opt()
            .unwrap_or(now.date())
            .and_hms_opt(h, 0, 0)
            .unwrap_or(now);
        Slot {
            provider_id: "patel".into(),
            type_id: "physical".into(),
            start: local.and_utc(),
            end: local.and_utc() + Duration::minutes(30),
            start_local: local,
        }
    };
    let mut steps = 0u32;
    let started = std::time::Instant::now();
    for _ in 0..iterations.max(1) {
        let mut d = Dialogue::new(Some("+15551234567"));
        let utter = |text: &str, u: Understanding| {
            Input::Call(CallEvent::Utterance {
                text: text.into(),
                understanding: u,
            })
        };
        let inputs = vec![
            Input::Call(CallEvent::Started),
            utter(
                "I need a physical",
                u(Intent::BookAppointment, Entities::default()),
            ),
            utter(
                "Maria Gonzalez",
                u(
                    Intent::Inform,
                    Entities {
                        person_name: Some("Maria Gonzalez".into()),
                        ..Default::default()
                    },
                ),
            ),
            utter(
                "March 4 1985",
                u(
                    Intent::Inform,
                    Entities {
                        date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 4),
                        ..Default::default()
                    },
                ),
            ),
            utter("yes", u(Intent::Affirm, Entities::default())),
            Input::Result(ActionResult::Registered(Some(PatientRef {
                id: "p1".into(),
            }))),
            utter(
                "tomorrow morning",
                u(
                    Intent::Inform,
                    Entities {
                        part_of_day: Some(PartOfDay::Morning),
                        ..Default::default()
                    },
                ),
            ),
            Input::Result(ActionResult::Slots(Some(vec![slot(8), slot(9), slot(11)]))),
            utter("the first one", u(Intent::Inform, Entities::default())),
            utter("yes", u(Intent::Affirm, Entities::default())),
        ];
        for input in inputs {
            std::hint::black_box(d.step(&env, input));
            steps += 1;
        }
    }
    started.elapsed() / steps.max(1)
}
