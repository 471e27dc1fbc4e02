//! Recommendation policies behind one trait: baselines (`random`, `popular`, `bandit`), reference
//! oracles that read the hidden state (`myopic-oracle`, `quality-oracle`), and the learner.
//!
//! A policy acts on an [`Observation`] (only live streams may be chosen) and later learns from a
//! [`Transition`]: the reward of its choice and what came next for that viewer — the viewer's
//! next observation, or the end of the session. Policies never see the hidden state unless they
//! say they are oracles, and then only through [`OracleView`]. No terminal code here.

mod bandit;
mod baselines;
mod click;
mod content;
pub mod dqn;
mod dqn_policy;
mod encoder;
mod mf;
mod oracle;
pub mod slate;
mod slateq;

use crate::scenario::Scenario;
use crate::sim::{Observation, OracleView, random};

pub use bandit::Bandit;
pub use baselines::{Popular, RandomPolicy};
pub use content::ContentKnn;
pub use dqn_policy::DqnPolicy;
pub use encoder::StateEncoder;
pub use mf::Mf;
pub use oracle::{MyopicOracle, QualityOracle};
pub use slate::{Rerank, SlateSpec};

/// What came after a recommendation, for the same viewer.
#[derive(Debug, Clone, Copy)]
pub enum Next<'a> {
    /// The viewer asks for another recommendation in the same session.
    Decision(&'a Observation<'a>),
    /// The session ended (the viewer left, ran out of time, or nothing was live).
    SessionEnd,
}

/// One slate and its consequences, handed to the policy that made it.
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    pub viewer: u32,
    /// The chosen stream; the slate's first when the viewer chose none (`accepted` false).
    pub action: u32,
    /// The slate as shown, best first (one stream for a single recommendation).
    pub slate: &'a [u32],
    /// Position of the chosen stream in `slate`; None when none was chosen.
    pub position: Option<usize>,
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

    /// Ranks `spec.size` distinct streams of `obs.live` (all of them when fewer are live) into
    /// `out`, best first. `obs.live` is never empty when this is called.
    fn rank(
        &mut self,
        obs: &Observation<'_>,
        oracle: Option<&OracleView<'_>>,
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    );

    /// Chooses one of `obs.live`: the first of a slate of one.
    fn act(&mut self, obs: &Observation<'_>, oracle: Option<&OracleView<'_>>) -> u32 {
        let mut out = Vec::with_capacity(1);
        self.rank(obs, oracle, &SlateSpec::SINGLE, &mut out);
        out[0]
    }

    /// Told that nothing is live for this viewer: there is nothing to recommend and the
    /// session ends. The previous transition of the viewer, if any, ends with it.
    fn nothing_live(&mut self, _obs: &Observation<'_>) {}

    /// Learns from what happened after one of its choices.
    fn learn(&mut self, _t: &Transition<'_>) {}

    /// Switches between training and evaluation.
    fn set_mode(&mut self, _mode: Mode) {}

    /// Where the policy computes (`cpu`, or the learner's accelerator), for the dashboard.
    fn device(&self) -> String {
        "cpu".into()
    }

    /// Why the learner computes where it does (with the probe's figures when `auto`
    /// measured); None for policies that do not train.
    fn device_reason(&self) -> Option<String> {
        None
    }

    /// Training statistics of a learner (ε, TD loss, Q of chosen actions); None for policies that
    /// do not learn values. The dashboard's learner panels show these.
    fn stats(&self) -> Option<AgentStats> {
        None
    }

    /// Writes the Q-value of every candidate in `obs.live` (same order) into `out` and returns
    /// true; false for policies without Q-values. Used by the inspector, never while acting.
    fn q_values(&self, _obs: &Observation<'_>, _out: &mut Vec<f64>) -> bool {
        false
    }

    /// The policy's own ranking score of every candidate in `obs.live` (same order) written into
    /// `out`, with what the score means (e.g. `mean reward`); None when it has none. The
    /// inspector shows it when there are no Q-values.
    fn scores(&self, _obs: &Observation<'_>, _out: &mut Vec<f64>) -> Option<&'static str> {
        None
    }

    /// The hyperparameters that may be changed while running, with their current values.
    fn hypers(&self) -> Vec<HyperInfo> {
        Vec::new()
    }

    /// Changes one hyperparameter (named as in [`Policy::hypers`]); an Err says why not.
    fn set_hyper(&mut self, name: &str, _value: f64) -> Result<(), String> {
        Err(format!(
            "policy `{}` has no hyperparameter `{name}`",
            self.name()
        ))
    }

    /// Messages for the user since the last call (e.g. a learner that rolled back after a NaN).
    fn take_messages(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// Loads a checkpoint written by [`Policy::save_checkpoint`]; an Err says why not.
    fn load_checkpoint(&mut self, _path: &std::path::Path) -> Result<(), String> {
        Err(format!(
            "policy `{}` cannot load a checkpoint (only the learner can)",
            self.name()
        ))
    }

    /// Saves a checkpoint to `path`; an Err says why not (baselines cannot).
    fn save_checkpoint(&self, _path: &std::path::Path) -> Result<(), String> {
        Err(format!(
            "policy `{}` has nothing to save (only the learner writes checkpoints)",
            self.name()
        ))
    }
}

/// Training statistics of a learning policy, as the dashboard charts them. Fields a learner does
/// not have stay None.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentStats {
    /// Exploration rate of ε-greedy.
    pub epsilon: Option<f64>,
    /// The learning rate of the next update.
    pub lr: Option<f64>,
    /// Mean temporal-difference loss since the previous call.
    pub td_loss: Option<f64>,
    /// Mean and max Q-value of the actions chosen since the previous call.
    pub mean_q: Option<f64>,
    pub max_q: Option<f64>,
    /// Gradient updates so far.
    pub updates: u64,
    /// Transitions in the replay buffer.
    pub replay_len: u64,
    /// SlateQ: the click model's log-loss on the slates it fitted (moving average).
    pub click_log_loss: Option<f64>,
}

/// One tunable hyperparameter: its current value, range and step for the dashboard's ←/→.
#[derive(Debug, Clone, PartialEq)]
pub struct HyperInfo {
    pub name: String,
    pub value: f64,
    pub min: f64,
    pub max: f64,
    /// Added or subtracted per key press; a factor instead when `log` is set.
    pub step: f64,
    /// Multiplicative steps (for rates spanning orders of magnitude).
    pub log: bool,
    /// One line on what it does.
    pub help: String,
}

impl HyperInfo {
    /// The value one step up (`up`) or down, kept in range.
    pub fn stepped(&self, up: bool) -> f64 {
        let v = match (self.log, up) {
            (true, true) => self.value * self.step,
            (true, false) => self.value / self.step,
            (false, true) => self.value + self.step,
            (false, false) => self.value - self.step,
        };
        // Round to the step's precision so repeated steps do not drift (0.30000000000000004).
        let v = if self.log {
            v
        } else {
            (v / self.step).round() * self.step
        };
        v.clamp(self.min, self.max)
    }
}

/// The policies `make_policy` knows, with a line about each.
pub const POLICIES: &[(&str, &str)] = &[
    (
        "dqn",
        "Deep Q-Network: learns long-run value per streamer slot from what it observes",
    ),
    ("random", "uniformly random among live streams"),
    ("popular", "the live stream with the most viewers right now"),
    (
        "bandit",
        "UCB1 or epsilon-greedy over streamers, by mean reward per recommendation",
    ),
    (
        "content-knn",
        "the live streams whose content most resembles what the viewer watched lately",
    ),
    (
        "mf",
        "matrix factorisation of viewers × streamers from the recommendation log, trained online",
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

/// Whether the policy of that name learns from its training steps (and so costs far more per
/// step than a baseline).
pub fn learns(name: &str) -> bool {
    name == LEARNER
}

/// The name of the learning policy.
pub const LEARNER: &str = "dqn";

/// Share of `mf`'s training slates drawn at random.
pub const MF_EXPLORATION: f64 = 0.1;

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
        "content-knn" => Box::new(ContentKnn::new()),
        "mf" => Box::new(Mf::new(scenario.num_streamers(), MF_EXPLORATION, rng)),
        "myopic-oracle" => Box::new(MyopicOracle::default()),
        "quality-oracle" => Box::new(QualityOracle::default()),
        _ => return None,
    })
}

/// How to build the learner: the device it trains on and an optional checkpoint to start from.
#[derive(Debug, Clone, Default)]
pub struct LearnerOptions {
    /// None: resolve `choice` when the learner is built.
    pub device: Option<dqn::ResolvedDevice>,
    /// The device asked for, resolved when a learner is built without `device`.
    pub choice: dqn::DeviceChoice,
    pub load: Option<std::path::PathBuf>,
    /// Checkpoints hold the replay buffer's transitions too.
    pub save_replay: bool,
    /// Threads the learner's update may use (0: its default, two on `cpu`); 1 when other
    /// runs share the cores.
    pub kernel_threads: usize,
}

/// Builds any policy by name: the baselines of [`make_policy`], and `dqn` with `options`.
pub fn build_policy(
    name: &str,
    scenario: &Scenario,
    seed: u64,
    options: &LearnerOptions,
) -> Result<Box<dyn Policy>, String> {
    if name == LEARNER {
        let device = match &options.device {
            Some(d) => d.clone(),
            None => options.choice.resolve().map_err(|e| e.to_string())?,
        };
        let mut policy = DqnPolicy::new(scenario, seed, device)?;
        if options.kernel_threads > 0 {
            policy
                .learner_mut()
                .set_kernel_threads(options.kernel_threads);
        }
        policy.set_save_replay(options.save_replay)?;
        if let Some(path) = &options.load {
            policy.load(path)?;
        }
        return Ok(Box::new(policy));
    }
    if options.load.is_some() {
        return Err(format!(
            "policy `{name}` cannot load a checkpoint (only `dqn` can)"
        ));
    }
    make_policy(name, scenario, seed).ok_or_else(|| {
        let known: Vec<_> = POLICIES.iter().map(|(n, _)| *n).collect();
        format!("unknown policy `{name}` (known: {})", known.join(", "))
    })
}
