//! Early stopping on a validation world (`liveq run --validate-every N`). The validation world
//! is the training world's platform (same streamers and schedules) visited by its own viewers
//! ([`validation_seed`]), warmed up by seeded random recommendations exactly as the test world
//! of `--eval-steps` is, and never the test world. Every N training steps the learner acts
//! greedily on a fresh copy of that warmed world for M steps; the best validation reward per
//! step (by more than `min_delta`) keeps a copy of the learner's weights, and after `patience`
//! validations without improvement training stops. At the end the best weights are restored.

use crate::agent::Mode;
use crate::engine::{self, Engine};
use crate::scenario::Scenario;
use crate::sim::World;
use crate::sim::random;

/// When and how long to validate, and when to stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidationPlan {
    /// Validate every this many training steps.
    pub every: u64,
    /// Steps of each validation.
    pub steps: u64,
    /// Stop after this many validations without improvement.
    pub patience: u32,
    /// An improvement must beat the best by more than this (reward per step).
    pub min_delta: f64,
}

/// One validation: the training step it followed and what the learner earned.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ValidationPoint {
    pub step: u64,
    pub reward_per_step: f64,
    pub reward_per_session: f64,
}

/// The viewer seed of the validation world for a run seeded with `seed`: fixed, and different
/// from the training world's and the test world's ([`engine::eval_seed`]).
pub fn validation_seed(seed: u64) -> u64 {
    use rand::Rng as _;
    random::stream(seed, 0x7A1D).next_u64()
}

/// Validates a learner during training and keeps its best weights.
pub struct Validator {
    plan: ValidationPlan,
    /// The warmed validation world; each validation runs on a copy.
    world: World,
    /// The best weights so far, as a checkpoint file (made at the first validation).
    best_file: Option<tempfile::TempPath>,
    best: Option<(u64, f64)>,
    since_best: u32,
    /// Validation steps run (for the wall time they cost).
    pub points: Vec<ValidationPoint>,
    /// Training stopped because patience ran out.
    pub stopped_early: bool,
    /// Keep a copy of the best weights (off for the dashboard's curve).
    keep_best: bool,
}

impl Validator {
    /// The validation world of `scenario` and `seed`, warmed up for `warm_steps` random
    /// recommendations (and at least [`engine::EVAL_MIN_WARMUP_DAYS`]), as the test world is.
    pub fn new(scenario: &Scenario, seed: u64, plan: ValidationPlan, warm_steps: u64) -> Self {
        let world = engine::warmed_world(scenario, seed, validation_seed(seed), warm_steps);
        Self {
            plan,
            world,
            best_file: None,
            best: None,
            since_best: 0,
            points: Vec::new(),
            stopped_early: false,
            keep_best: true,
        }
    }

    /// The same validator drawing the curve only: no copy of the best weights is kept (a
    /// policy without checkpoints can be validated).
    pub fn curve_only(mut self) -> Self {
        self.keep_best = false;
        self
    }

    /// Validate every this many training steps.
    pub fn every(&self) -> u64 {
        self.plan.every
    }

    /// The training step of the best validation.
    pub fn best_step(&self) -> Option<u64> {
        self.best.map(|(s, _)| s)
    }

    /// Validates the policy of the training `engine` after `step` training steps: greedy, on
    /// a copy of the validation world; keeps its weights when they are the best so far.
    /// Returns whether training should stop (patience ran out). The transitions the policy was
    /// still waiting to complete when it left for validation are not learnt from.
    pub fn validate(&mut self, engine: &mut Engine, step: u64) -> Result<bool, String> {
        let mut policy = engine.lend_policy();
        policy.set_mode(Mode::Eval);
        let mut v = Engine::with_world(self.world.clone(), policy);
        for _ in 0..self.plan.steps {
            if v.step().is_err() {
                break; // a world that empties: what was run counts
            }
        }
        v.finish();
        let rates = v.metrics().totals(v.world()).rates;
        let mut policy = v.into_policy();
        policy.set_mode(Mode::Train);
        let improved = self.record(ValidationPoint {
            step,
            reward_per_step: rates.reward_per_step,
            reward_per_session: rates.mean_session_reward,
        });
        let saved = if improved && self.keep_best {
            self.save_best(policy.as_ref())
        } else {
            Ok(())
        };
        engine.return_policy(policy);
        saved.map_err(|e| format!("keeping the best weights: {e}"))?;
        Ok(self.stopped_early)
    }

    /// Records a validation; returns whether it is the new best (by more than `min_delta`),
    /// and sets [`Validator::stopped_early`] once `patience` validations in a row were not.
    fn record(&mut self, point: ValidationPoint) -> bool {
        self.points.push(point);
        let value = point.reward_per_step;
        let improved = self
            .best
            .is_none_or(|(_, best)| value > best + self.plan.min_delta);
        if improved {
            self.best = Some((point.step, value));
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        self.stopped_early = self.since_best >= self.plan.patience;
        improved
    }

    fn save_best(&mut self, policy: &dyn crate::agent::Policy) -> Result<(), String> {
        if self.best_file.is_none() {
            let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
            self.best_file = Some(file.into_temp_path());
        }
        let path = self.best_file.as_ref().expect("made above");
        policy.save_checkpoint(path)
    }

    /// Puts the best weights back into the training engine's policy (when a later validation
    /// was worse).
    pub fn restore_best(&self, engine: &mut Engine) -> Result<(), String> {
        let Some(last) = self.points.last() else {
            return Ok(());
        };
        let Some(path) = &self.best_file else {
            return Ok(());
        };
        if self.best_step() == Some(last.step) {
            return Ok(()); // the weights in use are the best
        }
        engine
            .policy_mut()
            .load_checkpoint(path)
            .map_err(|e| format!("restoring the best weights: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted sequence of validation results: improvements count only beyond `min_delta`,
    /// training stops after `patience` validations without one, and the best is the last
    /// improvement's step.
    #[test]
    fn patience_and_min_delta_on_a_scripted_sequence() {
        let scenario = Scenario::load("default").unwrap();
        let plan = ValidationPlan {
            every: 100,
            steps: 10,
            patience: 2,
            min_delta: 0.02,
        };
        let mut v = Validator::new(&scenario, 1, plan, 0);
        let mut go = |step: u64, value: f64| {
            let improved = v.record(ValidationPoint {
                step,
                reward_per_step: value,
                reward_per_session: 0.0,
            });
            (improved, v.stopped_early, v.best_step())
        };
        assert_eq!(go(100, 1.0), (true, false, Some(100)));
        assert_eq!(go(200, 1.01), (false, false, Some(100))); // within min_delta
        assert_eq!(go(300, 1.2), (true, false, Some(300))); // patience starts again
        assert_eq!(go(400, 1.19), (false, false, Some(300)));
        assert_eq!(go(500, 1.25), (true, false, Some(500)));
        assert_eq!(go(600, 1.26), (false, false, Some(500)));
        assert_eq!(go(700, 1.24), (false, true, Some(500))); // two without: stop
        assert_eq!(v.points.len(), 7);
    }
}
