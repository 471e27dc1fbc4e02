//! Reference levels for the dashboard's reward chart: short headless runs of `popular` and
//! `myopic-oracle` on the same scenario and seed, on a background thread started at launch, so
//! the learner's curve can be read against "what a naive platform gets" and "the best
//! short-sighted policy gets".

use std::thread;

use crossbeam_channel::{Receiver, bounded};

use crate::agent;
use crate::engine::Engine;
use crate::scenario::Scenario;

/// The policies measured, in order.
pub const REFERENCE_POLICIES: [&str; 2] = ["popular", "myopic-oracle"];

/// Steps of each reference run.
pub const REFERENCE_STEPS: u64 = 100_000;

/// The mean reward per step of one reference policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub policy: String,
    pub steps: u64,
    pub reward_per_step: f64,
}

/// Runs `policy` for `steps` on `scenario` seeded with `seed`.
pub fn run_reference(
    policy: &str,
    scenario: &Scenario,
    seed: u64,
    steps: u64,
) -> Result<Reference, String> {
    let p = agent::make_policy(policy, scenario, seed)
        .ok_or_else(|| format!("unknown policy `{policy}`"))?;
    let mut engine = Engine::new(scenario, seed, p);
    engine.run(steps).map_err(|e| e.to_string())?;
    Ok(Reference {
        policy: policy.to_string(),
        steps,
        reward_per_step: engine
            .metrics()
            .totals(engine.world())
            .rates
            .reward_per_step,
    })
}

/// Runs every reference policy on a background thread; results arrive one by one.
pub fn spawn_references(
    scenario: Scenario,
    seed: u64,
    steps: u64,
) -> Receiver<Result<Reference, String>> {
    let (tx, rx) = bounded(REFERENCE_POLICIES.len());
    thread::Builder::new()
        .name("liveq-reference".into())
        .spawn(move || {
            for p in REFERENCE_POLICIES {
                if tx.send(run_reference(p, &scenario, seed, steps)).is_err() {
                    return;
                }
            }
        })
        .expect("spawning a thread");
    rx
}
