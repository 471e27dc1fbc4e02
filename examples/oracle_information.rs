//! How much of the myopic oracle's lead comes from information no platform has?
//!
//! The myopic oracle ranks live streams by their expected immediate reward, computed from the
//! hidden state. This example runs it again with parts of that state replaced by what a
//! platform could observe, on the same evaluation world `liveq run --eval-steps` uses, and
//! prints the evaluation reward per step of each variant. Every variant still knows each
//! stream's quality and appeal (a learner can estimate them from what a slot has earned) and
//! the viewer's taste for crowds, so the last lines are a rough ceiling for a learner that
//! sees only the logs, not a bound.
//!
//! ```sh
//! cargo run --release --example oracle_information -- [SCENARIO] [TRAIN_STEPS]
//! ```
//!
//! SCENARIO is a bundled name or a file (default `default`); TRAIN_STEPS sets the evaluation
//! warm-up as `liveq run --steps` would (default 300000). 50,000 evaluation steps.

use liveq::agent::slate::select;
use liveq::agent::{Policy, SlateSpec};
use liveq::engine::eval_engine;
use liveq::scenario::{RawScenario, Scenario};
use liveq::sim::{Observation, OracleView, response};

#[path = "common/taste.rs"]
mod taste;
use taste::guess_taste;

/// Which hidden inputs of the response model the oracle is denied.
#[derive(Clone, Copy)]
struct Blind {
    /// When the stream ends: unknown (as if never), or guessed from minutes live.
    end: End,
    /// The viewer's fatigue per topic: taken as 0.
    fatigue: bool,
    /// The viewer's interest in the stream's topics: guessed from recent hours watched
    /// per topic (share of the viewer's most-watched topic).
    taste: bool,
    /// Guess it from the week's hours watched instead, averaged with a guess from the share of
    /// each topic's recommendations the viewer accepted (the acceptance model inverted at a
    /// stream of average quality and appeal).
    longer_logs: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum End {
    Known,
    Unknown,
    FromMinutesLive,
}

struct PartialOracle {
    name: String,
    params: RawScenario,
    blind: Blind,
    taste: Vec<f64>,
}

impl Policy for PartialOracle {
    fn name(&self) -> &str {
        &self.name
    }
    fn is_oracle(&self) -> bool {
        true
    }
    fn rank(
        &mut self,
        obs: &Observation<'_>,
        oracle: Option<&OracleView<'_>>,
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    ) {
        let oracle = oracle.expect("an oracle policy gets the hidden state");
        guess_taste(obs, &self.params, self.blind.longer_logs, &mut self.taste);
        let usual_minutes = self.params.streamers.stream_hours * 60.0;
        let mut scores = Vec::with_capacity(obs.live.len());
        for &i in obs.live {
            let s = &obs.streams[i as usize];
            let mut x = oracle.pair(obs.viewer, i);
            match self.blind.end {
                End::Known => {}
                End::Unknown => x.remaining = f64::INFINITY,
                // Streams last 0.7–1.3 times the usual length: expect the middle of what is left.
                End::FromMinutesLive => {
                    x.remaining = (usual_minutes - (obs.time.minutes() - s.live_since)).max(10.0)
                }
            }
            if self.blind.fatigue {
                x.fatigue = 0.0;
            }
            if self.blind.taste {
                x.matching = self.taste[s.topic as usize];
            }
            scores.push(response::expected_reward(
                &self.params.response,
                &self.params.reward,
                &x,
            ));
        }
        select(obs, &scores, spec, out);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let spec = args.get(1).map_or("default", String::as_str);
    let scenario = match Scenario::load(spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let train_steps: u64 = match args.get(2).map(|s| s.parse()) {
        None => 300_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("TRAIN_STEPS: {e}");
            std::process::exit(2);
        }
    };
    let variants = [
        (
            "everything (the myopic oracle)",
            End::Known,
            false,
            false,
            false,
        ),
        (
            "all but when the stream ends",
            End::Unknown,
            false,
            false,
            false,
        ),
        (
            "all but the end: guessed from minutes live",
            End::FromMinutesLive,
            false,
            false,
            false,
        ),
        ("all but fatigue", End::Known, true, false, false),
        (
            "all but taste: guessed from recent watching",
            End::Known,
            false,
            true,
            false,
        ),
        (
            "all but taste: from the week's watching and accepts",
            End::Known,
            false,
            true,
            true,
        ),
        ("taste guessed, no fatigue", End::Known, true, true, false),
        (
            "taste guessed, no fatigue, end guessed",
            End::FromMinutesLive,
            true,
            true,
            false,
        ),
        (
            "taste from week+accepts, no fatigue, end guessed",
            End::FromMinutesLive,
            true,
            true,
            true,
        ),
        (
            "taste guessed, no fatigue, end unknown",
            End::Unknown,
            true,
            true,
            false,
        ),
    ];
    println!(
        "{}: evaluation reward per step of the myopic oracle knowing…",
        scenario.name()
    );
    for (name, end, fatigue, taste, longer_logs) in variants {
        let policy = PartialOracle {
            name: name.into(),
            params: scenario.params.clone(),
            blind: Blind {
                end,
                fatigue,
                taste,
                longer_logs,
            },
            taste: Vec::new(),
        };
        let mut engine = eval_engine(&scenario, scenario.seed(), Box::new(policy), train_steps);
        if let Err(e) = engine.run(50_000) {
            eprintln!("{name}: {e}");
            std::process::exit(1);
        }
        engine.finish();
        let t = engine.metrics().totals(engine.world());
        println!(
            "  {name:<53} {:.3} per step, {:.2} per session",
            t.rates.reward_per_step, t.rates.mean_session_reward
        );
    }
}
