//! The engine: one world, one policy and the metrics, stepped together. It hands each policy its
//! observations, delivers each transition (reward, then the viewer's next observation or the end
//! of the session), samples myopic regret and feeds the metrics. The worker thread, the headless
//! runner and the benchmark all step the world through this type.

use crate::agent::{Mode, Next, Policy, RandomPolicy, Rerank, SlateSpec, Transition};
use crate::inspect::Decision;
use crate::metrics::ranking::Grader;
use crate::metrics::{LearnerRow, Metrics, StepFacts};
use crate::scenario::MAX_SLATE_SIZE;
use crate::scenario::Scenario;
use crate::sim::{Observation, OracleView, StepError, World, random};

/// A slate whose consequences are not yet known: kept per viewer until the viewer's next
/// decision or the end of its session. The slate itself is in the engine's per-viewer rows.
#[derive(Debug, Clone, Copy)]
struct Awaiting {
    action: u32,
    reward: f64,
    accepted: bool,
    len: u8,
    position: Option<u8>,
}

impl Awaiting {
    fn transition<'a>(&self, viewer: u32, slate: &'a [u32], next: Next<'a>) -> Transition<'a> {
        Transition {
            viewer,
            action: self.action,
            slate: &slate[..self.len as usize],
            position: self.position.map(usize::from),
            reward: self.reward,
            accepted: self.accepted,
            next,
        }
    }
}

/// Why stepping stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("the policy `{policy}` made an invalid choice: {source}")]
    InvalidChoice { policy: String, source: StepError },
    #[error("no viewer is left in the world (everyone churned and nobody replaces them)")]
    WorldEmpty,
}

/// What one step did, for front ends that show individual decisions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSummary {
    pub viewer: u32,
    pub outcome: crate::sim::Outcome,
}

pub struct Engine {
    world: World,
    policy: Box<dyn Policy>,
    metrics: Metrics,
    awaiting: Vec<Option<Awaiting>>,
    /// The awaiting slates: `slate_size` entries per viewer.
    awaiting_slates: Vec<u32>,
    grader: Grader,
    ends: Vec<crate::sim::SessionEnd>,
    regret_every: u64,
    relevance_threshold: f64,
    /// What the policy is asked for: the scenario's slate size and the re-ranking.
    spec: SlateSpec,
    slate: Vec<u32>,
    /// Capture the next decision for the inspector.
    inspect_next: bool,
    decision: Option<Decision>,
}

impl Engine {
    /// A fresh world of `scenario` seeded with `seed`, driven by `policy`.
    pub fn new(scenario: &Scenario, seed: u64, policy: Box<dyn Policy>) -> Engine {
        let world = World::new(scenario, seed);
        Engine::with_world(world, policy)
    }

    pub fn with_world(world: World, policy: Box<dyn Policy>) -> Engine {
        let p = world.params();
        let metrics = Metrics::new(
            world.num_streamers(),
            world.num_topics(),
            p.metrics.window_steps,
            world.now().minutes(),
        );
        Engine {
            regret_every: p.metrics.regret_every as u64,
            relevance_threshold: p.metrics.relevance_threshold,
            spec: SlateSpec {
                size: p.response.slate_size,
                rerank: p.feed.rerank,
            },
            slate: Vec::with_capacity(p.response.slate_size),
            awaiting: vec![None; world.num_viewers()],
            awaiting_slates: vec![
                0;
                world.num_viewers() * p.response.slate_size.min(MAX_SLATE_SIZE)
            ],
            grader: Grader::default(),
            ends: Vec::with_capacity(16),
            world,
            policy,
            metrics,
            inspect_next: false,
            decision: None,
        }
    }

    /// Runs one recommendation.
    pub fn step(&mut self) -> Result<StepSummary, EngineError> {
        let next = self.world.next_decision();
        // Sessions that ended on the way count, the last ones of an emptied world included.
        self.flush_session_ends();
        let viewer = next.ok_or(EngineError::WorldEmpty)?;
        let step_index = self.metrics.steps();
        let obs = self.world.observe();
        if let Some(a) = self.awaiting[viewer as usize].take() {
            let slate = &self.awaiting_slates[self.slate_row(viewer)];
            self.policy
                .learn(&a.transition(viewer, slate, Next::Decision(&obs)));
        }
        let mut slate = std::mem::take(&mut self.slate);
        slate.clear();
        let first_session = obs.history.sessions <= 1;
        let mut satisfaction = None;
        let (regret, ranking) = if obs.live.is_empty() {
            self.policy.nothing_live(&obs);
            (None, None)
        } else {
            let oracle = OracleView::new(&self.world);
            let decision = self
                .inspect_next
                .then(|| Decision::capture(step_index, &obs, &oracle, self.policy.as_ref()));
            self.policy.rank(
                &obs,
                self.policy.is_oracle().then_some(&oracle),
                &self.spec,
                &mut slate,
            );
            if let Some(mut d) = decision {
                d.choice = slate.first().copied().unwrap_or(u32::MAX);
                d.slate = slate.clone();
                oracle.slate_probabilities(viewer, &slate, &mut d.slate_probabilities);
                let response = &self.world.params().response;
                d.examination = (0..slate.len()).map(|p| response.examination(p)).collect();
                self.decision = Some(d);
                self.inspect_next = false;
            }
            let sampled = step_index.is_multiple_of(self.regret_every)
                && !slate.is_empty()
                && slate.iter().all(|&i| obs.is_live(i));
            if sampled {
                let (ranking, best_single) =
                    self.grader
                        .measure(&oracle, viewer, &slate, self.relevance_threshold);
                // A single recommendation's best is the best single stream: the number
                // `best_slate_value` computes, without a second scan.
                let plain = self.world.params().response.is_single(self.spec.size);
                let best = if plain {
                    best_single
                } else {
                    oracle.best_slate_value(viewer)
                };
                let regret = best - oracle.slate_value(viewer, &slate);
                satisfaction = Some(oracle.viewer(viewer).satisfaction);
                (Some(regret), Some(ranking))
            } else {
                (None, None)
            }
        };
        let result = self.world.respond_slate(&slate);
        let outcome = match result {
            Ok(o) => o,
            Err(source) => {
                self.slate = slate;
                return Err(EngineError::InvalidChoice {
                    policy: self.policy.name().to_string(),
                    source,
                });
            }
        };
        let now = self.world.now().minutes();
        let streams = self.world.streams();
        let facts = StepFacts {
            newcomer: outcome
                .streamer
                .is_some_and(|i| streams[i as usize].is_newcomer(now)),
            first_session,
            satisfaction,
        };
        self.metrics
            .record_step(&outcome, &slate, streams, regret, ranking, &facts);
        if let Some(d) = self.decision.as_mut().filter(|d| d.step == step_index) {
            d.choice = outcome.streamer.unwrap_or(d.choice);
            d.position = outcome.position;
            d.accepted = outcome.accepted;
            d.reward = outcome.reward;
            d.session_ended = outcome.session_ended;
        }
        if let Some(action) = outcome.streamer {
            let awaiting = Awaiting {
                action,
                reward: outcome.reward,
                accepted: outcome.accepted,
                len: slate.len() as u8,
                position: outcome.position,
            };
            let row = self.slate_row(viewer);
            self.awaiting_slates[row][..slate.len()].copy_from_slice(&slate);
            if outcome.session_ended {
                self.deliver_end(viewer, awaiting);
            } else {
                self.awaiting[viewer as usize] = Some(awaiting);
            }
        }
        self.slate = slate;
        self.flush_session_ends();
        if self.metrics.window_full() {
            self.close_window();
        }
        Ok(StepSummary { viewer, outcome })
    }

    /// Runs `n` steps, stopping at the first error.
    pub fn run(&mut self, n: u64) -> Result<(), EngineError> {
        for _ in 0..n {
            self.step()?;
        }
        Ok(())
    }

    /// Where viewer `v`'s awaiting slate is kept in `awaiting_slates`.
    fn slate_row(&self, v: u32) -> std::ops::Range<usize> {
        let k = self.awaiting_slates.len() / self.awaiting.len().max(1);
        v as usize * k..(v as usize + 1) * k
    }

    fn deliver_end(&mut self, viewer: u32, a: Awaiting) {
        let slate = &self.awaiting_slates[self.slate_row(viewer)];
        self.policy
            .learn(&a.transition(viewer, slate, Next::SessionEnd));
    }

    fn flush_session_ends(&mut self) {
        // A reused buffer releases the borrow of the world without allocating.
        let mut ends = std::mem::take(&mut self.ends);
        ends.extend(self.world.take_session_ends());
        for end in ends.drain(..) {
            self.metrics.record_session(&end);
            if let Some(a) = self.awaiting[end.viewer as usize].take() {
                self.deliver_end(end.viewer, a);
            }
        }
        self.ends = ends;
    }

    /// Closes the open metrics window (end of a run or phase).
    pub fn finish(&mut self) {
        self.close_window();
    }

    /// Closes the open metrics window, with the learner's figures at that moment.
    fn close_window(&mut self) {
        if self.metrics.close_window(&self.world).is_some()
            && let Some(s) = self.policy.stats()
        {
            self.metrics.set_learner(LearnerRow {
                epsilon: s.epsilon,
                lr: s.lr,
                td_loss: s.td_loss,
                mean_q: s.mean_q,
            });
        }
    }

    pub fn world(&self) -> &World {
        &self.world
    }
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
    pub fn policy(&self) -> &dyn Policy {
        self.policy.as_ref()
    }
    pub fn policy_mut(&mut self) -> &mut dyn Policy {
        self.policy.as_mut()
    }

    /// Captures the next decision that has live candidates (see [`Engine::take_decision`]).
    pub fn inspect_next(&mut self) {
        self.inspect_next = true;
    }

    /// The last captured decision, if any since the previous call.
    pub fn take_decision(&mut self) -> Option<Decision> {
        self.decision.take()
    }

    /// Replaces the policy (a reset); choices of the old one still awaiting their outcome are
    /// forgotten, so the new policy learns only from its own. Returns the old policy.
    pub fn replace_policy(&mut self, policy: Box<dyn Policy>) -> Box<dyn Policy> {
        self.awaiting.fill(None);
        std::mem::replace(&mut self.policy, policy)
    }

    /// How slates are re-ranked for diversity from now on (`--rerank`, live tuning).
    pub fn set_rerank(&mut self, rerank: Rerank) {
        self.spec.rerank = rerank;
    }

    /// What the policy is asked for at each step.
    pub fn slate_spec(&self) -> SlateSpec {
        self.spec
    }

    /// Changes the reward weights of the world (live tuning).
    pub fn set_reward_weights(&mut self, w: crate::scenario::RewardWeights) {
        self.world.set_reward_weights(w);
    }

    /// Gives the policy back (e.g. to evaluate it on another world).
    pub fn into_policy(self) -> Box<dyn Policy> {
        self.policy
    }

    /// Lends the policy out (to validate it on another world) without forgetting the choices
    /// awaiting their outcome; [`Engine::return_policy`] gives it back. The engine must not
    /// step in between.
    pub fn lend_policy(&mut self) -> Box<dyn Policy> {
        std::mem::replace(&mut self.policy, Box::new(Lent))
    }

    /// Takes back the policy of [`Engine::lend_policy`].
    pub fn return_policy(&mut self, policy: Box<dyn Policy>) {
        self.policy = policy;
    }
}

/// The engine's placeholder while its policy is lent out: ranks the first live streams (it is
/// never asked, the engine does not step while lent).
struct Lent;

impl Policy for Lent {
    fn name(&self) -> &str {
        "lent"
    }

    fn rank(
        &mut self,
        obs: &Observation<'_>,
        _: Option<&OracleView<'_>>,
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        out.extend(obs.live.iter().take(spec.len(obs.live.len())));
    }
}

/// The viewer seed of the evaluation world for a run seeded with `seed`: fixed, different
/// from the training world's, and the same for every policy.
pub fn eval_seed(seed: u64) -> u64 {
    use rand::Rng as _;
    random::stream(seed, 0xE7A1).next_u64()
}

/// Least simulated time, in days, the evaluation world runs under uniformly random
/// recommendations before the evaluated policy takes over: viewers then have a history,
/// streams have audiences and the clock is mid-week, as on a platform that has been running
/// for a while (a newborn world, where nobody has watched anything yet, is a cold-start test,
/// not an evaluation).
pub const EVAL_MIN_WARMUP_DAYS: f64 = 3.0;

/// Switches `policy` to evaluation mode on the training world's platform (same streamers and
/// schedules) with a fresh, fixed stream of viewers seeded by [`eval_seed`], after a warm-up
/// of seeded random recommendations: `train_steps` of them (the length of the training run,
/// so the platform is about as old as the training world was when training ended: the same
/// streamers are on it, and its viewers have as much history), and at least
/// [`EVAL_MIN_WARMUP_DAYS`]. The warm-up depends only on the scenario, seed and
/// `train_steps`, so it is identical for every policy; it is not measured.
pub fn eval_engine(
    scenario: &Scenario,
    seed: u64,
    policy: Box<dyn Policy>,
    train_steps: u64,
) -> Engine {
    eval_engine_with_viewers(scenario, seed, policy, train_steps, eval_seed(seed))
}

/// [`eval_engine`] with the viewers of `viewers` (the validation world's, for sweeps).
pub fn eval_engine_with_viewers(
    scenario: &Scenario,
    seed: u64,
    mut policy: Box<dyn Policy>,
    train_steps: u64,
    viewers: u64,
) -> Engine {
    policy.set_mode(Mode::Eval);
    let world = warmed_world(scenario, seed, viewers, train_steps);
    Engine::with_world(world, policy)
}

/// The platform of `scenario` and `seed` visited by the viewers of `viewers`, after a warm-up
/// of seeded random recommendations: `warm_steps` of them, and at least
/// [`EVAL_MIN_WARMUP_DAYS`] (see [`eval_engine`]; the validation world is made the same way).
pub fn warmed_world(scenario: &Scenario, seed: u64, viewers: u64, warm_steps: u64) -> World {
    let world = World::with_viewer_seed(scenario, seed, viewers);
    let warm_policy = Box::new(RandomPolicy::new(random::stream(viewers, 0x3A4D)));
    let mut warm = Engine::with_world(world, warm_policy);
    let until = EVAL_MIN_WARMUP_DAYS * crate::sim::DAY;
    while warm.world.now().minutes() < until || warm.metrics.steps() < warm_steps {
        if warm.step().is_err() {
            break; // an empty world: evaluation will report it
        }
    }
    warm.flush_session_ends();
    warm.world
}
