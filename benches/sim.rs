//! Simulator throughput: steps per second of the random policy, world alone and a full headless
//! run (engine + metrics), on the default scenario and on a 100,000-viewer, 1,000-streamer one;
//! the default world showing slates of six (a feed) against single recommendations; the default
//! world with every platform family on (demographic taste prior, follows, friends, notifications,
//! friend appeal, content vectors) against the default with them off; the time to
//! choose a slate of ten among 200 live streams (top K, MMR, DPP); plus the peak memory of the
//! large one. Run with `cargo bench --bench sim`.

use std::time::Instant;

use liveq::agent::make_policy;
use liveq::agent::slate::{SlateSpec, random_slate, select};
use liveq::engine::Engine;
use liveq::scenario::Rerank;
use liveq::scenario::Scenario;
use liveq::sim::{Observation, SimTime, StreamPublic, ViewerHistory};
use liveq::sim::{World, random};

/// Steps/s of the world alone: next decision, observation, a random slate of live streams (one
/// for single recommendations), response.
fn world_only(scenario: &Scenario, steps: u64) -> f64 {
    let mut world = World::new(scenario, 1);
    let mut rng = random::stream(1, 99);
    let k = scenario.params.response.slate_size;
    let mut slate = Vec::with_capacity(64);
    let mut step = |world: &mut World| {
        world.next_decision();
        random_slate(&mut rng, world.observe().live, k, &mut slate);
        world.respond_slate(&slate).unwrap();
    };
    // Warm up past the first simulated hours.
    for _ in 0..steps / 10 {
        step(&mut world);
    }
    let t = Instant::now();
    for _ in 0..steps {
        step(&mut world);
    }
    steps as f64 / t.elapsed().as_secs_f64()
}

/// The default world with every optional platform family on, at the strengths of
/// `examples/scenarios/demographics.toml` and the bundled `multimodal` scenario: a demographic
/// taste prior, follow edges, twelve friends a viewer, notifications, friend appeal, and three
/// 16-dimensional content modalities.
fn every_family(default: &Scenario) -> Scenario {
    let mut s = default.clone();
    let v = &mut s.params.viewers;
    v.demographic_taste_strength = 0.7;
    v.friends_mean = 12.0;
    v.friend_homophily = 0.8;
    v.notification_pick = 0.5;
    v.max_follows = 30;
    s.params.response.friend_weight = 1.0;
    s.params.response.follow_probability = 0.12;
    s.params.streamers.content_dim = 16;
    s
}

/// Mean microseconds to choose a slate of 10 among 200 live streams from their scores.
fn slate_choice_us(rerank: Rerank) -> f64 {
    let streams: Vec<StreamPublic> = (0..200)
        .map(|i| StreamPublic {
            live: true,
            topic: (i % 8) as u16,
            ..StreamPublic::default()
        })
        .collect();
    let live: Vec<u32> = (0..200).collect();
    let history = ViewerHistory::EMPTY;
    let obs = Observation {
        viewer: 0,
        time: SimTime(0.0),
        history,
        live: &live,
        streams: &streams,
        num_topics: 8,
        content: &[],
        content_len: 0,
    };
    let mut rng = random::stream(3, 4);
    let scores: Vec<Vec<f64>> = (0..64)
        .map(|_| (0..200).map(|_| random::uniform(&mut rng)).collect())
        .collect();
    let spec = SlateSpec { size: 10, rerank };
    let mut out = Vec::with_capacity(10);
    let n = 20_000;
    let t = Instant::now();
    for i in 0..n {
        select(&obs, &scores[i % scores.len()], &spec, &mut out);
        std::hint::black_box(&out);
    }
    t.elapsed().as_secs_f64() * 1e6 / n as f64
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
    let mut feed = default.clone();
    feed.params.response.slate_size = 6;
    feed.params.response.position_decay = 0.8;
    let feed_world = best_of(3, || world_only(&feed, steps));
    let feed_engine = best_of(3, || engine_run(&feed, steps));

    let families = every_family(&default);
    let families_world = best_of(3, || world_only(&families, steps));
    let families_engine = best_of(3, || engine_run(&families, steps));

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
    println!(
        "{:<44} {:>14.0} {:>14.0}",
        "default with slates of 6 (position decay 0.8)", feed_world, feed_engine
    );
    println!(
        "slates of 6 / single: world {:.2}, run {:.2}",
        feed_world / default_world,
        feed_engine / default_engine
    );
    println!(
        "{:<44} {:>14.0} {:>14.0}",
        "default with every family on", families_world, families_engine
    );
    println!(
        "every family / default: world {:.2}, run {:.2}",
        families_world / default_world,
        families_engine / default_engine
    );
    println!("choosing a slate of 10 among 200 live streams from their scores:");
    for (name, r) in [
        ("top 10", Rerank::None),
        ("MMR λ = 0.3", Rerank::Mmr(0.3)),
        ("DPP θ = 0.5", Rerank::Dpp(0.5)),
    ] {
        let fastest = (0..3)
            .map(|_| slate_choice_us(r))
            .fold(f64::INFINITY, f64::min);
        println!("  {name:<14} {fastest:>8.2} µs");
    }
    match rss {
        Some(mb) => println!("peak memory with the huge world: {mb:.0} MB"),
        None => println!("peak memory: /proc/self/status not available"),
    }
}
