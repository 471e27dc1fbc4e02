//! Simulator throughput: steps per second of the random policy, world alone and a full headless
//! run (engine + metrics), on the default scenario and on a 100,000-viewer, 1,000-streamer one;
//! plus the peak memory of the large one. Run with `cargo bench --bench sim`.

use std::time::Instant;

use liveq::agent::make_policy;
use liveq::engine::Engine;
use liveq::scenario::Scenario;
use liveq::sim::{World, random};

/// Steps/s of the world alone: next decision, observation, random live choice, response.
fn world_only(scenario: &Scenario, steps: u64) -> f64 {
    let mut world = World::new(scenario, 1);
    let mut rng = random::stream(1, 99);
    // Warm up past the first simulated hours.
    for _ in 0..steps / 10 {
        world.next_decision();
        let live = world.observe().live;
        let c = (!live.is_empty()).then(|| live[random::below(&mut rng, live.len())]);
        world.respond(c).unwrap();
    }
    let t = Instant::now();
    for _ in 0..steps {
        world.next_decision();
        let live = world.observe().live;
        let c = (!live.is_empty()).then(|| live[random::below(&mut rng, live.len())]);
        world.respond(c).unwrap();
    }
    steps as f64 / t.elapsed().as_secs_f64()
}

/// Steps/s of a full run through the engine (regret sampling and metrics included).
fn engine_run(scenario: &Scenario, steps: u64) -> f64 {
    let mut e = Engine::new(scenario, 1, make_policy("random", scenario, 1).unwrap());
    e.run(steps / 10).unwrap();
    let t = Instant::now();
    e.run(steps).unwrap();
    steps as f64 / t.elapsed().as_secs_f64()
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn best_of(n: usize, f: impl Fn() -> f64) -> f64 {
    (0..n).map(|_| f()).fold(0.0, f64::max)
}

fn main() {
    let steps: u64 = std::env::var("LIVEQ_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5_000_000);
    let huge_path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/huge.toml");
    let huge = Scenario::load_file(std::path::Path::new(huge_path)).expect("benches/huge.toml");
    let default = Scenario::builtin_default();

    // The large world first, so that the peak memory is its own.
    let huge_world = best_of(3, || world_only(&huge, steps));
    let huge_engine = best_of(3, || engine_run(&huge, steps));
    let rss = peak_rss_mb();
    let default_world = best_of(3, || world_only(&default, steps));
    let default_engine = best_of(3, || engine_run(&default, steps));

    println!("simulator throughput, random policy, best of 3 runs of {steps} steps, one thread");
    println!(
        "{:<44} {:>14} {:>14}",
        "scenario", "world steps/s", "run steps/s"
    );
    println!(
        "{:<44} {:>14.0} {:>14.0}",
        "default (5,000 viewers, 200 streamers)", default_world, default_engine
    );
    println!(
        "{:<44} {:>14.0} {:>14.0}",
        "huge (100,000 viewers, 1,000 streamers)", huge_world, huge_engine
    );
    println!(
        "huge / default: world {:.2}, run {:.2}",
        huge_world / default_world,
        huge_engine / default_engine
    );
    match rss {
        Some(mb) => println!("peak memory with the huge world: {mb:.0} MB"),
        None => println!("peak memory: /proc/self/status not available"),
    }
}
