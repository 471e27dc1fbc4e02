//! What does a policy recommend, in terms only the simulator knows?
//!
//! Runs a policy greedily on the evaluation world `liveq run --eval-steps` uses and reports, over
//! its recommendations, the share of clickbait streams, the mean hidden quality of the streams
//! and how well they match the viewer's hidden taste (1 = the viewer's favourite topics), the
//! expected acceptance and immediate reward, and the best expected immediate reward on offer;
//! then the mean quality by position in the session.
//!
//! ```sh
//! cargo run --release --example choices -- SCENARIO SEED POLICY [CHECKPOINT] [TRAIN_STEPS]
//! ```
//!
//! POLICY is any `liveq run --policy` name (`dqn` needs CHECKPOINT, from `liveq run --policy dqn
//! --save`; give `-` for others), or `myopic-quality:W`: the myopic oracle with each stream's
//! expected reward weighed by (quality + W)², or `logs-quality:W`: the same, but blind to the
//! viewer's taste and fatigue: taste is guessed from the week's hours per topic and the share
//! of each topic's recommendations accepted (as `oracle_information` does), fatigue taken as 0.
//! It still knows each stream's quality, appeal and end, which a learner must learn per slot.
//! TRAIN_STEPS sets the evaluation warm-up as `liveq run --steps` would (default 300000).
//! 50,000 evaluation steps.

use liveq::agent::slate::select;
use liveq::agent::{LearnerOptions, Mode, Policy, SlateSpec, Transition, build_policy};
use liveq::engine::eval_engine;
use liveq::scenario::{RawScenario, Scenario};
use liveq::sim::{Observation, OracleView, StreamerKind, response};
use std::sync::{Arc, Mutex};

#[path = "common/taste.rs"]
mod taste;
use taste::guess_taste;

/// Positions in the session reported separately (the last one gathers the rest).
const POSITIONS: usize = 10;

/// Sums over the recommendations a policy made, in hidden terms.
#[derive(Default)]
struct Tally {
    n: f64,
    clickbait: f64,
    quality: f64,
    matching: f64,
    accept: f64,
    expected: f64,
    best: f64,
    /// Sum of quality and count, by position in the session.
    by_position: [(f64, f64); POSITIONS],
}

impl Tally {
    fn print(&self) {
        let n = self.n.max(1.0);
        println!(
            "  clickbait {:.3}, quality {:.3}, match {:.3}, P(accept) {:.3}, \
             expected reward {:.3} (best on offer {:.3})",
            self.clickbait / n,
            self.quality / n,
            self.matching / n,
            self.accept / n,
            self.expected / n,
            self.best / n
        );
        let q: Vec<String> = self
            .by_position
            .iter()
            .map(|(q, c)| format!("{:.2}", q / c.max(1.0)))
            .collect();
        println!(
            "  quality by position in the session (1st … {POSITIONS}th and later): {}",
            q.join(" ")
        );
    }
}

/// Wraps a policy and tallies the hidden side of each of its choices.
struct Recorder {
    inner: Box<dyn Policy>,
    tally: Arc<Mutex<Tally>>,
}

impl Policy for Recorder {
    fn name(&self) -> &str {
        self.inner.name()
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
        let o = oracle.expect("the recorder is given the hidden state");
        self.inner
            .rank(obs, self.inner.is_oracle().then_some(o), spec, out);
        let a = out[0];
        let h = o.streamer(a);
        let mut t = self.tally.lock().expect("one thread");
        t.n += 1.0;
        t.clickbait += (h.kind == StreamerKind::Clickbait) as u8 as f64;
        t.quality += h.quality;
        t.matching += o.pair(obs.viewer, a).matching;
        t.accept += o.accept_probability(obs.viewer, a);
        t.expected += o.expected_reward(obs.viewer, a);
        t.best += o.best_expected_reward(obs.viewer);
        let at = (obs.history.session_steps as usize).min(POSITIONS - 1);
        t.by_position[at].0 += h.quality;
        t.by_position[at].1 += 1.0;
    }
    fn learn(&mut self, t: &Transition<'_>) {
        self.inner.learn(t)
    }
    fn set_mode(&mut self, mode: Mode) {
        self.inner.set_mode(mode)
    }
}

/// The myopic oracle, with expected rewards weighed by (quality + w)².
struct MyopicQuality(f64);

impl Policy for MyopicQuality {
    fn name(&self) -> &str {
        "myopic-quality"
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
        let o = oracle.expect("an oracle policy gets the hidden state");
        let scores: Vec<f64> = obs
            .live
            .iter()
            .map(|&i| o.expected_reward(obs.viewer, i) * (o.streamer(i).quality + self.0).powi(2))
            .collect();
        select(obs, &scores, spec, out);
    }
}

/// [`MyopicQuality`] with the viewer's taste guessed from the logs and fatigue unknown.
struct LogsQuality {
    w: f64,
    params: RawScenario,
    taste: Vec<f64>,
}

impl Policy for LogsQuality {
    fn name(&self) -> &str {
        "logs-quality"
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
        let o = oracle.expect("an oracle policy gets the hidden state");
        guess_taste(obs, &self.params, true, &mut self.taste);
        let scores: Vec<f64> = obs
            .live
            .iter()
            .map(|&i| {
                let mut x = o.pair(obs.viewer, i);
                x.matching = self.taste[obs.streams[i as usize].topic as usize];
                x.fatigue = 0.0;
                response::expected_reward(&self.params.response, &self.params.reward, &x)
                    * (o.streamer(i).quality + self.w).powi(2)
            })
            .collect();
        select(obs, &scores, spec, out);
    }
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        fail("usage: choices SCENARIO SEED POLICY [CHECKPOINT|-] [TRAIN_STEPS]");
    }
    let scenario = Scenario::load(&args[0]).unwrap_or_else(|e| fail(e));
    let seed: u64 = args[1]
        .parse()
        .unwrap_or_else(|e| fail(format!("SEED: {e}")));
    let name = args[2].as_str();
    if name == "dqn" && args.get(3).is_none_or(|p| p == "-") {
        fail("dqn: give the CHECKPOINT of a trained network (liveq run --policy dqn --save PATH)");
    }
    let mut options = LearnerOptions::default();
    if let Some(path) = args.get(3).filter(|p| *p != "-") {
        options.load = Some(path.into());
    }
    let train_steps: u64 = match args.get(4) {
        None => 300_000,
        Some(s) => s
            .parse()
            .unwrap_or_else(|e| fail(format!("TRAIN_STEPS: {e}"))),
    };
    let weight = |w: &str| -> f64 {
        w.parse()
            .unwrap_or_else(|e| fail(format!("POLICY weight: {e}")))
    };
    let inner: Box<dyn Policy> = if let Some(w) = name.strip_prefix("myopic-quality:") {
        Box::new(MyopicQuality(weight(w)))
    } else if let Some(w) = name.strip_prefix("logs-quality:") {
        Box::new(LogsQuality {
            w: weight(w),
            params: scenario.params.clone(),
            taste: Vec::new(),
        })
    } else {
        build_policy(name, &scenario, seed, &options).unwrap_or_else(|e| fail(e))
    };
    let tally = Arc::new(Mutex::new(Tally::default()));
    let recorder = Recorder {
        inner,
        tally: tally.clone(),
    };
    let mut engine = eval_engine(&scenario, seed, Box::new(recorder), train_steps);
    if let Err(e) = engine.run(50_000) {
        eprintln!("{name}: {e}");
        std::process::exit(1);
    }
    engine.finish();
    let t = engine.metrics().totals(engine.world());
    println!(
        "{name} on {} (seed {seed}): {:.3} reward per step, {:.2} per session, {:.2} recommendations per session",
        scenario.name(),
        t.rates.reward_per_step,
        t.rates.mean_session_reward,
        t.rates.mean_session_length
    );
    tally.lock().expect("one thread").print();
}
