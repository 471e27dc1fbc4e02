//! The DQN learner ([`DqnLearner`]): the orchestration around a [`Trainer`] — ε-greedy
//! acting on an [`ActingNet`], n-step replay (uniform or prioritized), the training cadence,
//! target-update timing, live hyper-parameter control ([`Hyper`]), statistics
//! ([`DqnStats`]), snapshots and NaN/inf rollback. How an update is computed (Double-DQN
//! targets, Huber loss, the reward head's loss, Adam with global-norm clipping) belongs to
//! the trainer: liveq's CPU kernels (`cpu::CpuTrainer`) or burn (`burn_trainer::BurnTrainer`).
//!
//! # Training cadence
//! [`DqnLearner::observe`] stores a transition and, every `train_freq` env steps once
//! `learning_starts` transitions were observed, runs `gradient_steps` updates (so it is
//! `observe` + `train_if_due` in one call; [`DqnLearner::observe_only`] and
//! [`DqnLearner::train_if_due`] split them).
//!
//! # Acting
//! Acting uses the trainer's f32 copy of the online network ([`CpuPolicy`]), refreshed every
//! `policy_sync_period` gradient updates (default 10), so acting never synchronises a GPU.
//!
//! # Read-back and numerical safety
//! The burn trainer on a GPU reads TD errors and Q-values back every update for prioritized
//! replay and every [`READBACK_PERIOD`] updates otherwise; the CPU trainer has them every
//! update. A non-finite loss, TD error, Q-value or gradient norm rolls the learner back to the
//! last snapshot (taken every [`SNAPSHOT_PERIOD`] updates after a finite check) and returns
//! [`DqnError::NonFinite`]; a panic inside the backend during an update is caught the same way.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::acting::{ActingNet, masked_argmax};
use super::config::DqnConfig;
use super::device::{BackendKind, ResolvedDevice};
use super::error::DqnError;
use super::heads::ActionMaps;
use super::nstep::NStep;
use super::replay::{Batch, ReplayBuffer, UNKNOWN_TAG};
use super::shape::{NetShape, ParamLayout};
use super::trainer::{Inspection, TargetUpdate, TdSpec, Trainer, TrainerState, UpdateSpec};

mod build;
mod control;
mod stats;

pub use self::control::Hyper;
pub use self::stats::{DqnEvent, DqnStats};

/// Uniform replay on a GPU reads the loss back every this many updates.
pub const READBACK_PERIOD: u64 = 8;
/// A rollback snapshot is taken every this many updates (after a finite check).
pub const SNAPSHOT_PERIOD: u64 = 200;
/// Exponential-moving-average factor of the reported mean Q / TD loss.
const EMA: f64 = 0.05;

/// How a learner's actions are described beyond their index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionLayout {
    /// Number of action groups for the group (topic) head; used when the config asks for it.
    pub groups: usize,
    /// Features per action at the end of each state vector (0 = none).
    pub features: usize,
    /// Content values per action for the content head (0 = none): each action's content
    /// vector, set with [`DqnLearner::set_action_content`].
    pub content: usize,
    /// Modalities the content is made of (for `fusion = "gated"`; 0 or 1: one).
    pub modalities: usize,
    /// Entries of the next slate stored with each transition, whose bootstrap value is then
    /// `Σ weight · Q_target(s', action)` over them (SlateQ); 0 = the greedy next action's.
    pub slate: usize,
}

/// Deep Q-Network learner on plain f32 state vectors and boolean action masks.
pub struct DqnLearner {
    layout: ParamLayout,
    /// Action groups the learner was built for (the group head uses them when configured).
    groups_available: usize,
    /// Each action's group and content (all 0 until [`DqnLearner::set_action_groups`] and
    /// [`DqnLearner::set_action_content`]).
    maps: ActionMaps,
    /// Each action's occupant tag (see [`DqnLearner::set_action_tags`]) that stored
    /// transitions are checked against; empty when replay keeps no tags.
    action_tags: Vec<u32>,
    config: DqnConfig,
    resolved: ResolvedDevice,
    trainer: Box<dyn Trainer>,
    /// Threads the CPU kernels may use.
    kernel_threads: usize,
    replay: ReplayBuffer,
    nstep: NStep,
    policy: Box<dyn ActingNet>,
    rng: Xoshiro256PlusPlus,
    batch: Batch,
    env_steps: u64,
    updates: u64,
    steps_since_train: usize,
    epsilon_override: Option<f64>,
    td_loss: Option<f64>,
    mean_q: Option<f64>,
    max_q: Option<f64>,
    grad_norm: Option<f64>,
    train_seconds: f64,
    rollbacks: u64,
    /// Update counter of the trainer's last snapshot.
    snapshot_updates: u64,
    events: Vec<DqnEvent>,
    inject_nan: bool,
    seed: u64,
}

fn config_err(errs: Vec<(String, String)>) -> DqnError {
    let (key, reason) = errs.into_iter().next().unwrap_or_default();
    DqnError::InvalidConfig { key, reason }
}

fn backend_panic(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

impl DqnLearner {
    /// State length.
    pub fn input_dim(&self) -> usize {
        self.layout.shape.input_dim
    }

    /// Number of actions.
    pub fn num_actions(&self) -> usize {
        self.layout.shape.num_actions
    }

    /// Current configuration (with live changes applied).
    pub fn config(&self) -> &DqnConfig {
        &self.config
    }

    /// The network shape.
    pub fn shape(&self) -> &NetShape {
        &self.layout.shape
    }

    /// The trainer (for inspection: gradients, state).
    pub fn trainer(&self) -> &dyn Trainer {
        self.trainer.as_ref()
    }

    /// Where the network's parameters live.
    pub fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    /// Let the `cpu` kernels use a second thread for each update (the default), or keep
    /// them on the calling thread: faster overall when other runs already keep every core
    /// busy (the benchmark's parallel runs), since the second thread would only contend.
    pub fn set_kernel_threads(&mut self, threads: usize) {
        self.kernel_threads = threads;
        self.trainer.set_threads(threads);
    }

    /// Number of action groups of the group head (0 = none).
    pub fn groups(&self) -> usize {
        self.layout.shape.groups()
    }

    /// The group of each action.
    pub fn action_groups(&self) -> &[u16] {
        &self.maps.groups
    }

    /// Content values per action of the content head (0 = none).
    pub fn content_len(&self) -> usize {
        self.layout.shape.content_len()
    }

    /// The content vector of each action, one after another.
    pub fn action_content(&self) -> &[f32] {
        &self.maps.content
    }

    /// Each action's occupant tag that replay checks stored transitions against; empty when
    /// replay keeps no tags.
    pub fn action_tags(&self) -> &[u32] {
        &self.action_tags
    }

    /// Set each action's occupant tag ([`occupant_tag`](super::replay::occupant_tag) of who
    /// stands behind it: for a stream slot, its streamer). Replay then skips the transitions
    /// stored while an action had another occupant: what they say of the action is about
    /// someone else (and, with a content head, their content is not kept, so they would be
    /// scored with the new one). Replay keeps tags with a content head or
    /// `restart_new_streamers`; otherwise this does nothing. All actions start with one tag.
    pub fn set_action_tags(&mut self, tags: &[u32]) -> Result<(), DqnError> {
        if self.action_tags.is_empty() {
            return Ok(());
        }
        self.check_len("action_tags", tags.len(), self.num_actions())?;
        self.action_tags.copy_from_slice(tags);
        Ok(())
    }

    /// Set each action's content vector (`content_len` values per action, every modality; a
    /// stream's changes when a new streamer takes its slot). Acting uses them at once;
    /// replayed transitions are scored with the current content (theirs is not kept: set the
    /// new occupant's tag with [`DqnLearner::set_action_tags`] so that replay skips them).
    /// Without a content head there is nothing to set.
    pub fn set_action_content(&mut self, content: &[f32]) -> Result<(), DqnError> {
        let len = self.content_len();
        self.check_len("action_content", content.len(), self.num_actions() * len)?;
        if len == 0 || self.maps.content == content {
            return Ok(());
        }
        if let Some(x) = content.iter().find(|x| !x.is_finite()) {
            return Err(DqnError::Shape(format!("action content holds {x}")));
        }
        self.maps.content.copy_from_slice(content);
        self.trainer.set_action_maps(&self.maps);
        self.sync_policy()
    }

    /// Set the group of each action (a stream's topic; it changes when a new streamer takes
    /// a slot). Acting uses the new map at once; replayed transitions are scored with the
    /// current map. Without a group head this only records the map.
    pub fn set_action_groups(&mut self, action_groups: &[u16]) -> Result<(), DqnError> {
        self.check_len("action_groups", action_groups.len(), self.num_actions())?;
        if self.maps.groups == action_groups {
            return Ok(());
        }
        let groups = self.groups();
        if groups > 0
            && let Some(&g) = action_groups.iter().find(|&&g| g as usize >= groups)
        {
            return Err(DqnError::Shape(format!(
                "action group {g} out of range ({groups} groups)"
            )));
        }
        self.maps.groups.copy_from_slice(action_groups);
        if groups > 0 {
            self.trainer.set_action_maps(&self.maps);
            self.sync_policy()?;
        }
        Ok(())
    }

    /// The resolved device.
    pub fn device(&self) -> &ResolvedDevice {
        &self.resolved
    }

    /// Current ε.
    pub fn epsilon(&self) -> f64 {
        self.epsilon_override
            .unwrap_or_else(|| self.config.epsilon_at(self.env_steps))
    }

    fn check_len(&self, what: &str, got: usize, want: usize) -> Result<(), DqnError> {
        if got == want {
            Ok(())
        } else {
            Err(DqnError::Shape(format!(
                "{what}: length {got}, expected {want}"
            )))
        }
    }

    /// ε-greedy action among the valid ones (`explore = false`: greedy); `None` when no
    /// action is valid. Wrong slice lengths also give `None`.
    pub fn act(&mut self, state: &[f32], mask: &[bool], explore: bool) -> Option<usize> {
        if state.len() != self.input_dim() || mask.len() != self.num_actions() {
            return None;
        }
        let n_valid = mask.iter().filter(|&&m| m).count();
        if n_valid == 0 {
            return None;
        }
        if explore && self.rng.random::<f64>() < self.epsilon() {
            let k = self.rng.random_range(0..n_valid);
            return mask
                .iter()
                .enumerate()
                .filter(|(_, m)| **m)
                .nth(k)
                .map(|(i, _)| i);
        }
        let mut q = vec![0.0f32; self.num_actions()];
        self.policy.q_values(state, &mut q);
        masked_argmax(&q, mask)
    }

    /// ε-greedy exploration of a slate: each position, with probability ε, shows a uniformly
    /// random valid action that the slate does not already hold (when there is one).
    pub fn explore_slate(&mut self, mask: &[bool], slate: &mut [u32]) {
        let eps = self.epsilon();
        for pos in 0..slate.len() {
            if self.rng.random::<f64>() >= eps {
                continue;
            }
            let free = mask
                .iter()
                .enumerate()
                .filter(|&(i, &m)| m && !slate.contains(&(i as u32)))
                .count();
            if free == 0 {
                return;
            }
            let k = self.rng.random_range(0..free);
            if let Some((i, _)) = mask
                .iter()
                .enumerate()
                .filter(|&(i, &m)| m && !slate.contains(&(i as u32)))
                .nth(k)
            {
                slate[pos] = i as u32;
            }
        }
    }

    /// Q-values of `state` from the acting copy; invalid actions get `-inf`.
    pub fn q_values(&self, state: &[f32], mask: &[bool], out: &mut [f32]) -> Result<(), DqnError> {
        self.check_len("state", state.len(), self.input_dim())?;
        self.check_len("mask", mask.len(), self.num_actions())?;
        self.check_len("out", out.len(), self.num_actions())?;
        self.policy.q_values(state, out);
        for (o, &m) in out.iter_mut().zip(mask) {
            if !m {
                *o = f32::NEG_INFINITY;
            }
        }
        Ok(())
    }

    /// The `k` best valid actions of `state` by the acting copy, best first.
    pub fn top_k(
        &self,
        state: &[f32],
        mask: &[bool],
        k: usize,
        out: &mut Vec<usize>,
    ) -> Result<(), DqnError> {
        self.check_len("state", state.len(), self.input_dim())?;
        self.check_len("mask", mask.len(), self.num_actions())?;
        self.policy.top_k(state, mask, k, out);
        Ok(())
    }

    /// Store one step of episode `key` and train when due (see the module docs).
    /// Returns the number of gradient updates run.
    #[allow(clippy::too_many_arguments)]
    pub fn observe(
        &mut self,
        key: u64,
        state: &[f32],
        mask: &[bool],
        action: usize,
        reward: f32,
        next_state: &[f32],
        next_mask: &[bool],
        done: bool,
    ) -> Result<usize, DqnError> {
        self.observe_only(
            key, state, mask, action, reward, next_state, next_mask, done,
        )?;
        self.train_if_due()
    }

    /// [`DqnLearner::observe`] for a learner whose targets average over the next slate
    /// ([`ActionLayout::slate`]): `next_slate` holds the (action, weight) pairs of the slate
    /// shown in `next_state` — each action's chance of being chosen from it — and the target
    /// bootstraps from `Σ weight · Q_target(next_state, action)`.
    #[allow(clippy::too_many_arguments)]
    pub fn observe_slate(
        &mut self,
        key: u64,
        state: &[f32],
        mask: &[bool],
        action: usize,
        reward: f32,
        next_state: &[f32],
        next_mask: &[bool],
        next_slate: &[(u32, f32)],
        done: bool,
    ) -> Result<usize, DqnError> {
        self.store(
            key, state, mask, action, reward, next_state, next_mask, next_slate, done,
        )?;
        self.train_if_due()
    }

    /// Store one step of episode `key` without training.
    #[allow(clippy::too_many_arguments)]
    pub fn observe_only(
        &mut self,
        key: u64,
        state: &[f32],
        mask: &[bool],
        action: usize,
        reward: f32,
        next_state: &[f32],
        next_mask: &[bool],
        done: bool,
    ) -> Result<(), DqnError> {
        self.store(
            key,
            state,
            mask,
            action,
            reward,
            next_state,
            next_mask,
            &[],
            done,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn store(
        &mut self,
        key: u64,
        state: &[f32],
        mask: &[bool],
        action: usize,
        reward: f32,
        next_state: &[f32],
        next_mask: &[bool],
        next_slate: &[(u32, f32)],
        done: bool,
    ) -> Result<(), DqnError> {
        self.check_len("state", state.len(), self.input_dim())?;
        self.check_len("mask", mask.len(), self.num_actions())?;
        self.check_len("next_state", next_state.len(), self.input_dim())?;
        self.check_len("next_mask", next_mask.len(), self.num_actions())?;
        if action >= self.num_actions() {
            return Err(DqnError::Shape(format!(
                "action {action} out of range (num_actions {})",
                self.num_actions()
            )));
        }
        let reward = if reward.is_finite() { reward } else { 0.0 };
        let gamma = self.config.gamma;
        let replay = &mut self.replay;
        let tag = self.action_tags.get(action).copied().unwrap_or(UNKNOWN_TAG);
        self.nstep.push(
            key,
            state,
            (action, tag),
            reward,
            next_state,
            next_mask,
            next_slate,
            done,
            gamma,
            |t| replay.push_transition(&t),
        );
        self.env_steps += 1;
        self.steps_since_train += 1;
        Ok(())
    }

    /// Run `gradient_steps` updates if `train_freq` env steps passed since the last round and
    /// `learning_starts` was reached. Returns the number of updates run.
    pub fn train_if_due(&mut self) -> Result<usize, DqnError> {
        if self.env_steps < self.config.learning_starts as u64
            || self.steps_since_train < self.config.train_freq
            || self.replay.len() < self.config.batch_size.min(self.replay.capacity())
            || self.replay.is_empty()
        {
            return Ok(0);
        }
        self.steps_since_train = 0;
        let n = self.config.gradient_steps;
        for _ in 0..n {
            self.update()?;
        }
        Ok(n)
    }

    /// One gradient update on a batch sampled from replay.
    pub fn update(&mut self) -> Result<(), DqnError> {
        if self.replay.is_empty() {
            return Ok(());
        }
        let beta = self.config.beta_at(self.updates);
        let mut batch = std::mem::take(&mut self.batch);
        // Without kept tags this is plain sampling.
        self.replay.sample_fresh_into(
            self.config.batch_size,
            beta,
            &mut self.rng,
            &mut batch,
            &self.action_tags,
        );
        self.draw_dropout(&mut batch);
        let r = self.update_on_batch(&batch);
        self.batch = batch;
        r
    }

    /// Draws the batch's dropout masks (none when `dropout` is 0).
    fn draw_dropout(&mut self, batch: &mut Batch) {
        let p = self.config.dropout;
        let widths = &self.layout.shape.hidden;
        if p <= 0.0 {
            batch.dropout.clear();
            return;
        }
        let keep = (1.0 / (1.0 - p)) as f32;
        batch.dropout.resize_with(widths.len(), Vec::new);
        for (mask, &w) in batch.dropout.iter_mut().zip(widths) {
            mask.clear();
            mask.extend((0..batch.size * w).map(|_| {
                if self.rng.random::<f64>() < p {
                    0.0
                } else {
                    keep
                }
            }));
        }
    }

    /// One gradient update on a given batch (also used by tests and the benchmark).
    pub fn update_on_batch(&mut self, batch: &Batch) -> Result<(), DqnError> {
        let t0 = std::time::Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| self.update_inner(batch)));
        self.train_seconds += t0.elapsed().as_secs_f64();
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(DqnError::NonFinite { what, .. })) => Err(self.rollback(what)),
            Ok(Err(e)) => Err(e),
            Err(p) => Err(self.rollback(format!("backend panic ({})", backend_panic(p)))),
        }
    }

    fn rollback(&mut self, what: String) -> DqnError {
        let update = self.updates;
        self.trainer.restore_snapshot();
        self.updates = self.snapshot_updates;
        self.rollbacks += 1;
        let _ = self.sync_policy();
        self.events.push(DqnEvent::RolledBack {
            what: what.clone(),
            update,
            restored_update: self.snapshot_updates,
        });
        DqnError::NonFinite {
            what,
            update,
            restored_update: self.snapshot_updates,
        }
    }

    fn td_spec(&self) -> TdSpec {
        TdSpec {
            double_dqn: self.config.double_dqn,
            huber_delta: self.config.huber_delta as f32,
            reward_weight: self.config.reward_head_weight as f32,
        }
    }

    /// The online network's targets and errors on `batch` (no training).
    pub fn inspect(&self, batch: &Batch) -> Result<Inspection, DqnError> {
        self.trainer.inspect(batch, self.td_spec())
    }

    /// TD targets `y` for `batch` (no training).
    pub fn td_targets(&self, batch: &Batch) -> Result<Vec<f32>, DqnError> {
        Ok(self.inspect(batch)?.targets)
    }

    /// TD errors `Q(s,a) − y` of the online network on `batch` (no training).
    pub fn td_errors(&self, batch: &Batch) -> Result<Vec<f32>, DqnError> {
        Ok(self.inspect(batch)?.td_errors)
    }

    /// The reward head's errors `R(s, a) − r` on the immediate rewards of `batch` (no
    /// training); `None` when the network has no reward head.
    pub fn reward_errors(&self, batch: &Batch) -> Result<Option<Vec<f32>>, DqnError> {
        Ok(self.inspect(batch)?.reward_errors)
    }

    fn update_inner(&mut self, batch: &Batch) -> Result<(), DqnError> {
        let next_update = self.updates + 1;
        let spec = UpdateSpec {
            td: self.td_spec(),
            max_norm: self.config.grad_clip_norm,
            lr: self.config.lr_at(self.updates),
            eps: self.config.adam_eps,
            weight_decay: self.config.weight_decay,
            slot_shrinkage: self.config.slot_shrinkage,
            poison: std::mem::take(&mut self.inject_nan),
            // On a GPU, reading back synchronises: only for priorities, and every few updates.
            readback: self.replay.is_prioritized()
                || self.resolved.kind != BackendKind::Wgpu
                || next_update.is_multiple_of(READBACK_PERIOD),
        };
        let out = self.trainer.update(batch, &spec)?;
        if let Some(norm) = out.grad_norm {
            self.grad_norm = Some(norm);
        }
        if let Some(rb) = &out.readback {
            self.record_readback(batch, &rb.delta, &rb.q_sa, next_update)?;
        }
        self.finish_update(next_update, out.readback.is_some())
    }

    /// Counters, target update, acting-copy refresh and snapshot after a weight change.
    fn finish_update(&mut self, next_update: u64, read_back: bool) -> Result<(), DqnError> {
        self.updates = next_update;
        let period = self.config.target_update_period as u64;
        if period > 0 {
            if self.updates.is_multiple_of(period) {
                self.trainer.update_target(TargetUpdate::Hard);
            }
        } else {
            self.trainer
                .update_target(TargetUpdate::Soft(self.config.tau));
        }
        if self
            .updates
            .is_multiple_of(self.config.policy_sync_period as u64)
        {
            self.sync_policy()?;
        }
        if read_back && self.updates >= self.snapshot_updates + SNAPSHOT_PERIOD {
            self.take_snapshot();
        }
        Ok(())
    }

    /// Copy the online weights into the target network.
    pub fn hard_update_target(&mut self) {
        self.trainer.update_target(TargetUpdate::Hard);
    }

    /// Polyak update: target ← τ·online + (1−τ)·target.
    pub fn soft_update_target(&mut self, tau: f64) {
        self.trainer.update_target(TargetUpdate::Soft(tau));
    }

    fn take_snapshot(&mut self) {
        self.trainer.take_snapshot();
        self.snapshot_updates = self.updates;
    }

    /// Start the given actions afresh from the average of the others: their columns of the
    /// output layer (and of the reward head, with one), online and target, and the Adam
    /// moments of those columns, become the mean over every other action. For a slot that
    /// has passed to a new streamer: what the network learnt of the previous streamer says
    /// nothing of the new one, so it starts as an average stream (its other inputs — topic,
    /// content, public counts — then tell it apart). Nothing happens when every action is
    /// named (there is nothing to average).
    pub fn restart_actions(&mut self, actions: &[usize]) -> Result<(), DqnError> {
        let n = self.num_actions();
        if let Some(&a) = actions.iter().find(|&&a| a >= n) {
            return Err(DqnError::Shape(format!(
                "action {a} out of range ({n} actions)"
            )));
        }
        let mut restarted = vec![false; n];
        for &a in actions {
            restarted[a] = true;
        }
        if actions.is_empty() || restarted.iter().all(|&r| r) {
            return Ok(());
        }
        let per_action: Vec<_> = self.trainer.layout().per_action().collect();
        let mut state = self.trainer.state()?;
        for d in per_action {
            for params in [
                &mut state.online,
                &mut state.target,
                &mut state.m,
                &mut state.v,
            ] {
                average_columns(&mut params[d.w], &restarted);
                average_columns(&mut params[d.b()], &restarted);
            }
        }
        self.trainer.restore(state)?;
        self.sync_policy()
    }

    /// Refresh the acting copy from the trained network now.
    pub fn sync_policy(&mut self) -> Result<(), DqnError> {
        self.policy = Box::new(self.trainer.acting_net()?);
        Ok(())
    }

    /// Online network parameters (layout order).
    pub fn online_params(&self) -> Result<Vec<Vec<f32>>, DqnError> {
        self.trainer.online_params()
    }

    /// Target network parameters (layout order).
    pub fn target_params(&self) -> Result<Vec<Vec<f32>>, DqnError> {
        self.trainer.target_params()
    }

    /// Test hook: the next update adds NaN to its loss.
    pub fn inject_nan_once(&mut self) {
        self.inject_nan = true;
    }

    /// Forget the pending n-step steps of an episode that vanished without a terminal step.
    pub fn drop_episode(&mut self, key: u64) {
        self.nstep.drop_key(key);
    }

    /// Read-only access to the replay buffer.
    pub fn replay(&self) -> &ReplayBuffer {
        &self.replay
    }

    /// The replay buffer, to restore (checkpoints).
    pub(super) fn replay_mut(&mut self) -> &mut ReplayBuffer {
        &mut self.replay
    }

    /// Parameters and optimizer state (checkpoints).
    pub(super) fn trainer_state(&self) -> Result<TrainerState, DqnError> {
        self.trainer.state()
    }

    pub(super) fn counters(&self) -> (u64, u64, Option<f64>) {
        (self.env_steps, self.updates, self.epsilon_override)
    }

    /// Replace weights, optimizer state and counters (checkpoint load; the state was checked
    /// against the layout).
    pub(super) fn restore_state(
        &mut self,
        state: TrainerState,
        env_steps: u64,
        updates: u64,
        epsilon_override: Option<f64>,
    ) -> Result<(), DqnError> {
        self.trainer.restore(state)?;
        self.env_steps = env_steps;
        self.updates = updates;
        self.epsilon_override = epsilon_override;
        self.steps_since_train = 0;
        self.sync_policy()?;
        self.take_snapshot();
        Ok(())
    }

    /// Test hook: replace the trainer's state as is (no checks).
    #[cfg(test)]
    pub(super) fn restore_for_test(&mut self, state: TrainerState) {
        self.trainer.restore(state).expect("restore");
    }

    /// Replace the configuration wholesale (checkpoint load; shape keys must match).
    pub(super) fn set_config(&mut self, c: DqnConfig) {
        self.config = c;
    }
}

/// Sets the `restarted` columns of each row of `x` (rows of `restarted.len()` values) to the
/// mean of the row's other columns.
fn average_columns(x: &mut [f32], restarted: &[bool]) {
    let kept = restarted.iter().filter(|&&r| !r).count() as f64;
    for row in x.chunks_exact_mut(restarted.len()) {
        let sum: f64 = row
            .iter()
            .zip(restarted)
            .filter(|&(_, &r)| !r)
            .map(|(&v, _)| v as f64)
            .sum();
        let mean = (sum / kept) as f32;
        for (v, _) in row.iter_mut().zip(restarted).filter(|&(_, &r)| r) {
            *v = mean;
        }
    }
}
