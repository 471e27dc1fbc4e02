//! Recommendation policies behind one trait: baselines (`random`, `popular`, `bandit`), reference
//! oracles that read the hidden state (`myopic-oracle`, `quality-oracle`), and the learner.
//!
//! A policy acts on an [`Observation`] (only live streams may be chosen) and later learns from a
//! [`Transition`]: the reward of its choice and what came next for that viewer — the viewer's
//! next observation, or the end of the session. Policies never see the hidden state unless they
//! say they are oracles, and then only through [`OracleView`]. No terminal code here.

mod bandit;
mod encoder;
mod baselines;
mod oracle;

use crate::scenario::Scenario;
use crate::sim::{Observation, OracleView, random};

pub use bandit::Bandit;
pub use encoder::StateEncoder;
pub use baselines::{Popular, RandomPolicy};
pub use oracle::{MyopicOracle, QualityOracle};

/// What came after a recommendation, for the same viewer.
#[derive(Debug, Clone, Copy)]
pub enum Next<'a> {
    /// The viewer asks for another recommendation in the same session.
    Decision(&'a Observation<'a>),
    /// The session ended (the viewer left, ran out of time, or nothing was live).
    SessionEnd,
}

/// One choice and its consequences, handed to the policy that made it.
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    pub viewer: u32,
    pub action: u32,
    pub reward: f64,
    pub accepted: bool,
    pub next: Next<'a>,
}

/// Training (explore and learn) or evaluation (greedy, frozen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Train,
    Eval,
}

/// A recommender.
pub trait Policy: Send {
    /// The name used on the command line.
    fn name(&self) -> &str;

    /// Whether the policy reads the hidden state; only then is `oracle` passed to `act`.
    fn is_oracle(&self) -> bool {
        false
    }

    /// Chooses one of `obs.live` (never empty when this is called).
    fn act(&mut self, obs: &Observation<'_>, oracle: Option<&OracleView<'_>>) -> u32;

    /// Told that nothing is live for this viewer: there is nothing to recommend and the
    /// session ends. The previous transition of the viewer, if any, ends with it.
    fn nothing_live(&mut self, _obs: &Observation<'_>) {}

    /// Learns from what happened after one of its choices.
    fn learn(&mut self, _t: &Transition<'_>) {}

    /// Switches between training and evaluation.
    fn set_mode(&mut self, _mode: Mode) {}
}

/// The policies `make_policy` knows, with a line about each.
pub const POLICIES: &[(&str, &str)] = &[
    ("random", "uniformly random among live streams"),
    ("popular", "the live stream with the most viewers right now"),
    (
        "bandit",
        "UCB1 or epsilon-greedy over streamers, by mean reward per recommendation",
    ),
    (
        "myopic-oracle",
        "reads the hidden state; maximises expected immediate reward",
    ),
    (
        "quality-oracle",
        "reads the hidden state; ranks by interest × true quality, ignores appeal",
    ),
];

/// Builds a baseline policy by name.
pub fn make_policy(name: &str, scenario: &Scenario, seed: u64) -> Option<Box<dyn Policy>> {
    let rng = random::stream(seed, 10);
    Some(match name {
        "random" => Box::new(RandomPolicy::new(rng)),
        "popular" => Box::new(Popular::new(rng)),
        "bandit" => Box::new(Bandit::new(
            &scenario.params.bandit,
            scenario.num_streamers(),
            rng,
        )),
        "myopic-oracle" => Box::new(MyopicOracle),
        "quality-oracle" => Box::new(QualityOracle),
        _ => return None,
    })
}

/// Index of the best score among `candidates` (ties go to the first).
pub(crate) fn argmax_by(candidates: &[u32], mut score: impl FnMut(u32) -> f64) -> u32 {
    let mut best = candidates[0];
    let mut best_score = f64::NEG_INFINITY;
    for &c in candidates {
        let s = score(c);
        if s > best_score {
            best = c;
            best_score = s;
        }
    }
    best
}
