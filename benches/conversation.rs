//! `cargo bench --bench conversation`: dialogue step (< 1 ms) and slot
//! search over a 10-provider, 90-day schedule (< 5 ms).

fn main() {
    // Warm up, then measure.
    let _ = frontdesk::dialogue::bench_step(50);
    let step = frontdesk::dialogue::bench_step(2000);
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
