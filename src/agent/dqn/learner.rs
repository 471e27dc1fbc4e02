//! The DQN learner ([`DqnLearner`]): ε-greedy acting on a CPU copy of the policy, n-step
//! replay (uniform or prioritized), Double-DQN updates with a masked target, Huber loss,
//! Adam with global-norm clipping, hard or soft target updates, live hyper-parameter
//! control ([`Hyper`]), statistics ([`DqnStats`]) and NaN/inf detection with rollback.
//! With a reward head (`reward_head`), the loss adds `reward_head_weight · ½(R(s, a) − r)²`
//! on the immediate reward `r` of each transition (replay keeps it beside the n-step return),
//! and the TD loss treats `R` as a constant, so `C = Q − R` learns the discounted rest.
//!
//! # Training cadence
//! [`DqnLearner::observe`] stores a transition and, every `train_freq` env steps once
//! `learning_starts` transitions were observed, runs `gradient_steps` updates (so it is
//! `observe` + `train_if_due` in one call; [`DqnLearner::observe_only`] and
//! [`DqnLearner::train_if_due`] split them).
//!
//! # Three update paths
//! On `cpu` ([`BackendKind::Native`]) the master weights and the target live in host vectors
//! and the gradient is computed by liveq's own kernels ([`super::native`]), then a fused host
//! Adam step ([`HostAdam`]) applies it; burn is not involved. On Flex the master weights also
//! live in host vectors: each update reads the burn-autodiff gradients, TD errors and
//! chosen-action Q-values back in **one** transaction, applies the host Adam step, and
//! uploads the weights. On wgpu the update stays on the device
//! ([`DeviceAdam`]) and reads back only the TD errors and Q-values (every update for
//! prioritized replay, every [`READBACK_PERIOD`] updates for uniform replay).
//!
//! # Acting
//! Acting uses a plain-Rust copy of the online network ([`CpuPolicy`]), refreshed every
//! `policy_sync_period` gradient updates (default 10), so acting never synchronises a GPU.
//!
//! # Numerical safety
//! A non-finite loss, TD error, Q-value or gradient norm rolls the learner back to the last
//! snapshot (taken every [`SNAPSHOT_PERIOD`] updates after a finite check) and returns
//! [`DqnError::NonFinite`]; a panic inside the backend during an update is caught the same way.

use std::panic::{AssertUnwindSafe, catch_unwind};

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData, Transaction};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::config::DqnConfig;
use super::device::{BackendKind, DeviceChoice, ResolvedDevice};
use super::error::DqnError;
use super::native::{self, NativeScratch, StepSpec, TdSpec};
use super::network::{NetShape, QNetwork, group_onehot};
use super::optim::{DeviceAdam, HostAdam, clip_global_norm, clip_global_norm_tensors};
use super::policy::{CpuPolicy, masked_argmax};
use super::replay::{Batch, NStep, ReplayBuffer};

/// Host weights: one vector per parameter, in `param_shapes` order.
type Weights = [Vec<f32>];

/// Uniform replay on the device path reads the loss back every this many updates.
pub const READBACK_PERIOD: u64 = 8;
/// A rollback snapshot is taken every this many updates (after a finite check).
pub const SNAPSHOT_PERIOD: u64 = 200;
/// Exponential-moving-average factor of the reported mean Q / TD loss.
const EMA: f64 = 0.05;

/// A live hyper-parameter change, validated and applied from the next step on.
#[derive(Debug, Clone, PartialEq)]
pub enum Hyper {
    /// Adam learning rate.
    LearningRate(f64),
    /// Discount (new n-step transitions and all future targets).
    Gamma(f64),
    /// ε schedule start.
    EpsilonStart(f64),
    /// ε schedule end.
    EpsilonEnd(f64),
    /// ε schedule length in env steps.
    EpsilonDecaySteps(usize),
    /// Fixed ε overriding the schedule (`None` returns to the schedule).
    Epsilon(Option<f64>),
    /// Minibatch size.
    BatchSize(usize),
    /// Hard target period (0 = soft).
    TargetUpdatePeriod(usize),
    /// Polyak τ.
    Tau(f64),
    /// Env steps per training round.
    TrainFreq(usize),
    /// Gradient updates per training round.
    GradientSteps(usize),
    /// Global gradient-norm clip (0 = off).
    GradClipNorm(f64),
    /// Huber δ.
    HuberDelta(f64),
    /// PER α (for new priorities).
    PriorityAlpha(f64),
}

/// Something noteworthy that happened during training.
#[derive(Debug, Clone, PartialEq)]
pub enum DqnEvent {
    /// Non-finite values (or a backend panic) were detected and the weights rolled back.
    RolledBack {
        /// What was non-finite.
        what: String,
        /// Update counter at detection.
        update: u64,
        /// Update counter of the restored snapshot.
        restored_update: u64,
    },
}

/// A snapshot of the learner's counters and recent training figures.
#[derive(Debug, Clone, PartialEq)]
pub struct DqnStats {
    /// Transitions observed.
    pub env_steps: u64,
    /// Gradient updates done.
    pub updates: u64,
    /// Current exploration ε.
    pub epsilon: f64,
    /// Last TD (Huber) loss read back, if any.
    pub td_loss: Option<f64>,
    /// Moving average of the Q-value of the sampled actions.
    pub mean_q: Option<f64>,
    /// Largest Q-value of a sampled action in the last read-back batch.
    pub max_q: Option<f64>,
    /// Global gradient norm (before clipping) at the last read-back (host path only).
    pub grad_norm: Option<f64>,
    /// Transitions in the replay buffer.
    pub replay_len: usize,
    /// Episodes with pending n-step transitions.
    pub open_episodes: usize,
    /// Seconds spent inside gradient updates (for updates/s).
    pub train_seconds: f64,
    /// Rollbacks so far.
    pub rollbacks: u64,
    /// Device name.
    pub device: String,
    /// Why the device was chosen.
    pub device_reason: String,
}

#[derive(Clone)]
enum Optim {
    Host(HostAdam),
    Device(DeviceAdam),
}

#[derive(Clone)]
struct Snapshot {
    online: QNetwork,
    target: QNetwork,
    target_host: Option<Vec<Vec<f32>>>,
    optim: Optim,
    updates: u64,
}

/// How a learner's actions are described beyond their index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionLayout {
    /// Number of action groups for the group (topic) head; used when the config asks for it.
    pub groups: usize,
    /// Features per action at the end of each state vector (0 = none).
    pub features: usize,
}

/// Deep Q-Network learner on plain f32 state vectors and boolean action masks.
pub struct DqnLearner {
    input_dim: usize,
    num_actions: usize,
    /// Action groups of the group head (0 = no group head).
    groups: usize,
    /// Features per action at the end of the state (0 = none; see [`NetShape`]).
    action_features: usize,
    /// The group of each action (all 0 until [`DqnLearner::set_action_groups`]).
    action_groups: Vec<u16>,
    /// `[groups, num_actions]` one-hot of `action_groups` on the inner device (burn paths).
    group_map: Option<Tensor<2>>,
    config: DqnConfig,
    resolved: ResolvedDevice,
    train_device: Device,
    online: QNetwork,
    target: QNetwork,
    /// Host copy of the target (always on the native path; Flex with soft updates).
    target_host: Option<Vec<Vec<f32>>>,
    /// Buffers of the native update.
    native: NativeScratch,
    optim: Optim,
    replay: ReplayBuffer,
    nstep: NStep,
    policy: CpuPolicy,
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
    snapshot: Snapshot,
    events: Vec<DqnEvent>,
    inject_nan: bool,
    seed: u64,
    /// Run one forward of `[states; next_states]` through the online network instead of two
    /// (a speed experiment; see the report). Off by default.
    pub concat_forward: bool,
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

/// Double-DQN (or plain max) bootstrap target `r + discount · Q_target(s', a*)` where
/// `a* = argmax_a (Q_online(s', a) + mask_bias)` — invalid next actions carry a large
/// negative `mask_bias` and are never chosen. A row whose discount is 0 (terminal or no valid
/// next action) gets just `r`. All inputs are non-autodiff tensors; shapes `[B, A]`/`[B, 1]`.
pub fn masked_td_target(
    q_next_online: Option<Tensor<2>>,
    q_next_target: Tensor<2>,
    mask_bias: Tensor<2>,
    rewards: Tensor<2>,
    discounts: Tensor<2>,
) -> Tensor<2> {
    let v = match q_next_online {
        Some(qo) => {
            let a_star = (qo + mask_bias).argmax(1);
            q_next_target.gather(1, a_star)
        }
        None => (q_next_target + mask_bias).max_dim(1),
    };
    // Rows with discount 0 must not see the -1e9 of an all-invalid row: zero `v` there.
    let keep = discounts.clone().greater_elem(0.0);
    let v = v.mask_fill(keep.bool_not(), 0.0);
    rewards + discounts * v
}

impl DqnLearner {
    /// A learner for `input_dim`-long states and `num_actions` actions.
    pub fn new(
        input_dim: usize,
        num_actions: usize,
        config: DqnConfig,
        device_choice: DeviceChoice,
        seed: u64,
    ) -> Result<Self, DqnError> {
        let resolved = device_choice.resolve()?;
        Self::with_device(input_dim, num_actions, config, resolved, seed)
    }

    /// A learner on an already resolved device.
    pub fn with_device(
        input_dim: usize,
        num_actions: usize,
        config: DqnConfig,
        resolved: ResolvedDevice,
        seed: u64,
    ) -> Result<Self, DqnError> {
        Self::with_groups(input_dim, num_actions, 0, config, resolved, seed)
    }

    /// A learner whose actions fall into `groups` groups (streams into topics): with
    /// `topic_head` in the config the network gets a group head, a term of `Q(s, a)` shared
    /// by every action of `a`'s group, so what is learnt about one stream of a topic carries
    /// to the others. Set the group of each action with [`Self::set_action_groups`].
    pub fn with_groups(
        input_dim: usize,
        num_actions: usize,
        groups: usize,
        config: DqnConfig,
        resolved: ResolvedDevice,
        seed: u64,
    ) -> Result<Self, DqnError> {
        let layout = ActionLayout {
            groups,
            features: 0,
        };
        Self::with_layout(input_dim, num_actions, layout, config, resolved, seed)
    }

    /// A learner with action groups (see [`Self::with_groups`]) and, when
    /// `layout.features > 0`, states that end with that many features per action (a
    /// stream's minutes live, its audience…): `input_dim` counts them, the hidden stack
    /// reads what comes before, and each action's features enter its Q-value through
    /// weights computed from the hidden state and shared by every action.
    pub fn with_layout(
        input_dim: usize,
        num_actions: usize,
        layout: ActionLayout,
        config: DqnConfig,
        resolved: ResolvedDevice,
        seed: u64,
    ) -> Result<Self, DqnError> {
        let ActionLayout {
            groups,
            features: action_features,
        } = layout;
        config.validate().map_err(config_err)?;
        if num_actions.saturating_mul(action_features) >= input_dim {
            return Err(DqnError::InvalidConfig {
                key: "input_dim".into(),
                reason: format!(
                    "{input_dim} leaves no room for the state before {action_features} \
                     features of each of {num_actions} actions"
                ),
            });
        }
        if groups > u16::MAX as usize {
            return Err(DqnError::InvalidConfig {
                key: "groups".into(),
                reason: format!("at most {} (got {groups})", u16::MAX),
            });
        }
        let groups = if config.topic_head { groups } else { 0 };
        let action_groups = vec![0u16; num_actions];
        if input_dim == 0 || input_dim > 1 << 20 {
            return Err(DqnError::InvalidConfig {
                key: "input_dim".into(),
                reason: format!("must be in 1..=1048576 (got {input_dim})"),
            });
        }
        if num_actions == 0 || num_actions > 1 << 16 {
            return Err(DqnError::InvalidConfig {
                key: "num_actions".into(),
                reason: format!("must be in 1..=65536 (got {num_actions})"),
            });
        }
        let train_device = resolved.device.clone().autodiff();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let shape = NetShape {
            input_dim,
            num_actions,
            hidden: config.hidden.clone(),
            dueling: config.dueling,
            groups,
            action_features,
            reward_head: config.reward_head,
        };
        let group_map =
            (groups > 0).then(|| group_onehot(groups, &action_groups, &resolved.device));
        let built = catch_unwind(AssertUnwindSafe(|| -> Result<_, DqnError> {
            let online = QNetwork::new(&shape, &mut rng, &train_device);
            Self::build_state(&resolved, &config, online, &action_groups)
        }))
        .map_err(|p| DqnError::Backend(backend_panic(p)))??;
        let (online, target, target_host, optim, policy) = built;
        let replay = ReplayBuffer::new(
            input_dim,
            num_actions,
            config.buffer_capacity,
            config.prioritized,
            config.priority_alpha,
        )
        .with_compact_tail(num_actions * action_features);
        let snapshot = Snapshot {
            online: online.clone(),
            target: target.clone(),
            target_host: target_host.clone(),
            optim: optim.clone(),
            updates: 0,
        };
        Ok(Self {
            input_dim,
            num_actions,
            groups,
            action_features,
            action_groups,
            group_map,
            nstep: NStep::new(config.n_step),
            config,
            resolved,
            train_device,
            online,
            target,
            target_host,
            native: NativeScratch::default(),
            optim,
            replay,
            policy,
            rng,
            batch: Batch::default(),
            env_steps: 0,
            updates: 0,
            steps_since_train: 0,
            epsilon_override: None,
            td_loss: None,
            mean_q: None,
            max_q: None,
            grad_norm: None,
            train_seconds: 0.0,
            rollbacks: 0,
            snapshot,
            events: Vec::new(),
            inject_nan: false,
            seed,
            concat_forward: false,
        })
    }

    #[allow(clippy::type_complexity)]
    fn build_state(
        resolved: &ResolvedDevice,
        config: &DqnConfig,
        online: QNetwork,
        action_groups: &[u16],
    ) -> Result<(QNetwork, QNetwork, Option<Vec<Vec<f32>>>, Optim, CpuPolicy), DqnError> {
        let shape = online.shape();
        let target = online.valid();
        let host = online.to_host()?;
        let policy = CpuPolicy::from_host(&shape, &host, action_groups);
        let (optim, target_host) = match resolved.kind {
            BackendKind::Native => (Optim::Host(HostAdam::new(host.clone())), Some(host)),
            BackendKind::Flex => {
                let th = (config.target_update_period == 0).then(|| host.clone());
                (Optim::Host(HostAdam::new(host)), th)
            }
            BackendKind::Wgpu => (Optim::Device(DeviceAdam::new(&online)), None),
        };
        Ok((online, target, target_host, optim, policy))
    }

    /// State length.
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }

    /// Number of actions.
    pub fn num_actions(&self) -> usize {
        self.num_actions
    }

    /// Current configuration (with live changes applied).
    pub fn config(&self) -> &DqnConfig {
        &self.config
    }

    /// The network shape.
    pub fn shape(&self) -> NetShape {
        NetShape {
            input_dim: self.input_dim,
            num_actions: self.num_actions,
            hidden: self.config.hidden.clone(),
            dueling: self.config.dueling,
            groups: self.groups,
            action_features: self.action_features,
            reward_head: self.config.reward_head,
        }
    }

    /// Let the `cpu` kernels use a second thread for each update (the default), or keep
    /// them on the calling thread: faster overall when other runs already keep every core
    /// busy (the benchmark's parallel runs), since the second thread would only contend.
    pub fn set_kernel_threads(&mut self, threads: usize) {
        self.native.single_thread = threads <= 1;
    }

    /// Number of action groups of the group head (0 = none).
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// The group of each action.
    pub fn action_groups(&self) -> &[u16] {
        &self.action_groups
    }

    /// Set the group of each action (a stream's topic; it changes when a new streamer takes
    /// a slot). Acting uses the new map at once; replayed transitions are scored with the
    /// current map. Without a group head this only records the map.
    pub fn set_action_groups(&mut self, action_groups: &[u16]) -> Result<(), DqnError> {
        self.check_len("action_groups", action_groups.len(), self.num_actions)?;
        if self.action_groups == action_groups {
            return Ok(());
        }
        if self.groups > 0
            && let Some(&g) = action_groups.iter().find(|&&g| g as usize >= self.groups)
        {
            return Err(DqnError::Shape(format!(
                "action group {g} out of range ({} groups)",
                self.groups
            )));
        }
        self.action_groups.copy_from_slice(action_groups);
        if self.groups > 0 {
            self.group_map = Some(group_onehot(
                self.groups,
                &self.action_groups,
                &self.resolved.device,
            ));
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
        if state.len() != self.input_dim || mask.len() != self.num_actions {
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
        let mut q = vec![0.0f32; self.num_actions];
        self.policy.q_values(state, &mut q);
        masked_argmax(&q, mask)
    }

    /// Q-values of `state` from the acting copy; invalid actions get `-inf`.
    pub fn q_values(&self, state: &[f32], mask: &[bool], out: &mut [f32]) -> Result<(), DqnError> {
        self.check_len("state", state.len(), self.input_dim)?;
        self.check_len("mask", mask.len(), self.num_actions)?;
        self.check_len("out", out.len(), self.num_actions)?;
        self.policy.q_values(state, out);
        for (o, &m) in out.iter_mut().zip(mask) {
            if !m {
                *o = f32::NEG_INFINITY;
            }
        }
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
        self.check_len("state", state.len(), self.input_dim)?;
        self.check_len("mask", mask.len(), self.num_actions)?;
        self.check_len("next_state", next_state.len(), self.input_dim)?;
        self.check_len("next_mask", next_mask.len(), self.num_actions)?;
        if action >= self.num_actions {
            return Err(DqnError::Shape(format!(
                "action {action} out of range (num_actions {})",
                self.num_actions
            )));
        }
        let reward = if reward.is_finite() { reward } else { 0.0 };
        let gamma = self.config.gamma;
        let replay = &mut self.replay;
        self.nstep.push(
            key,
            state,
            action,
            reward,
            next_state,
            next_mask,
            done,
            gamma,
            |t| {
                replay.push(
                    t.state,
                    t.action,
                    t.reward,
                    t.immediate,
                    t.discount,
                    t.next_state,
                    t.next_mask,
                )
            },
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
        self.replay
            .sample_into(self.config.batch_size, beta, &mut self.rng, &mut batch);
        let r = self.update_on_batch(&batch);
        self.batch = batch;
        r
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
        let s = self.snapshot.clone();
        self.online = s.online;
        self.target = s.target;
        self.target_host = s.target_host;
        self.optim = s.optim;
        self.updates = s.updates;
        self.rollbacks += 1;
        let _ = self.sync_policy();
        self.events.push(DqnEvent::RolledBack {
            what: what.clone(),
            update,
            restored_update: s.updates,
        });
        DqnError::NonFinite {
            what,
            update,
            restored_update: s.updates,
        }
    }

    fn batch_tensors(&self, b: &Batch, dev: &Device) -> BatchTensors {
        let n = b.size;
        let d = self.input_dim;
        let a = self.num_actions;
        BatchTensors {
            states: Tensor::from_data(TensorData::new(b.states.clone(), [n, d]), dev),
            next_states: Tensor::from_data(TensorData::new(b.next_states.clone(), [n, d]), dev),
            mask_bias: Tensor::from_data(TensorData::new(b.next_mask_bias.clone(), [n, a]), dev),
            actions: Tensor::<2, Int>::from_data(TensorData::new(b.actions.clone(), [n, 1]), dev),
            rewards: Tensor::from_data(TensorData::new(b.rewards.clone(), [n, 1]), dev),
            immediate: Tensor::from_data(TensorData::new(b.immediate.clone(), [n, 1]), dev),
            discounts: Tensor::from_data(TensorData::new(b.discounts.clone(), [n, 1]), dev),
            weights: Tensor::from_data(TensorData::new(b.weights.clone(), [n, 1]), dev),
        }
    }

    /// TD targets `y` for `batch` (non-autodiff; for tests and inspection).
    pub fn td_targets(&self, batch: &Batch) -> Result<Vec<f32>, DqnError> {
        if let Some((online, target)) = self.native_weights() {
            return Ok(native::td_targets(
                &self.shape(),
                online,
                target,
                batch,
                self.td_spec(),
                &self.action_groups,
            ));
        }
        let dev = self.resolved.device.clone();
        let bt = self.batch_tensors(batch, &dev);
        let y = self.targets(&bt, None);
        y.into_data()
            .try_to_vec::<f32>()
            .map_err(|e| DqnError::Backend(format!("{e:?}")))
    }

    /// TD errors `Q(s,a) − y` of the online network on `batch` (no training).
    pub fn td_errors(&self, batch: &Batch) -> Result<Vec<f32>, DqnError> {
        if let Some(out) = self.native_inspect(batch) {
            return Ok(out.delta);
        }
        let dev = self.resolved.device.clone();
        let bt = self.batch_tensors(batch, &dev);
        let y = self.targets(&bt, None);
        let q = self
            .online
            .valid()
            .forward(bt.states.clone(), self.group_map.as_ref())
            .gather(1, bt.actions.clone());
        (q - y)
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| DqnError::Backend(format!("{e:?}")))
    }

    /// The reward head's errors `R(s, a) − r` on the immediate rewards of `batch` (no
    /// training); `None` when the network has no reward head.
    pub fn reward_errors(&self, batch: &Batch) -> Result<Option<Vec<f32>>, DqnError> {
        if !self.config.reward_head {
            return Ok(None);
        }
        if let Some(out) = self.native_inspect(batch) {
            return Ok(Some(out.reward_delta));
        }
        let bt = self.batch_tensors(batch, &self.resolved.device);
        let (_, r) = self
            .online
            .valid()
            .forward_parts(bt.states.clone(), self.group_map.as_ref());
        let r = r.ok_or_else(|| DqnError::Backend("reward head missing".into()))?;
        (r.gather(1, bt.actions) - bt.immediate)
            .into_data()
            .try_to_vec::<f32>()
            .map(Some)
            .map_err(|e| DqnError::Backend(format!("{e:?}")))
    }

    /// On the native path, the kernels' errors and Q-values on `batch` without training
    /// (their gradients are computed and dropped); `None` on the other paths.
    fn native_inspect(&self, batch: &Batch) -> Option<native::TdGrads> {
        let (online, target) = self.native_weights()?;
        let mut scratch = NativeScratch::default();
        Some(
            native::td_grads(
                &self.shape(),
                online,
                target,
                batch,
                self.td_spec(),
                &self.action_groups,
                &mut scratch,
            )
            .clone(),
        )
    }

    /// Online and target host weights when training on the native path.
    fn native_weights(&self) -> Option<(&Weights, &Weights)> {
        match (&self.resolved.kind, &self.optim, &self.target_host) {
            (BackendKind::Native, Optim::Host(adam), Some(t)) => Some((&adam.params, t)),
            _ => None,
        }
    }

    fn td_spec(&self) -> TdSpec {
        TdSpec {
            double_dqn: self.config.double_dqn,
            huber_delta: self.config.huber_delta as f32,
            reward_weight: self.config.reward_head_weight as f32,
        }
    }

    /// One update on the native path: liveq's own gradient kernels, then host Adam.
    fn update_native(&mut self, batch: &Batch) -> Result<(), DqnError> {
        let spec = self.td_spec();
        let shape = self.shape();
        let (Optim::Host(adam), Some(target)) = (&self.optim, &self.target_host) else {
            return Err(DqnError::Backend(
                "native update without host weights".into(),
            ));
        };
        let out = native::td_grads(
            &shape,
            &adam.params,
            target,
            batch,
            spec,
            &self.action_groups,
            &mut self.native,
        );
        let dv = out.delta.clone();
        let qv = out.q_sa.clone();
        let next_update = self.updates + 1;
        let step = StepSpec {
            max_norm: self.config.grad_clip_norm,
            lr: self.config.lr,
            eps: self.config.adam_eps,
            poison: std::mem::take(&mut self.inject_nan),
        };
        let Optim::Host(adam) = &mut self.optim else {
            return Err(DqnError::Backend(
                "native update without host optimizer".into(),
            ));
        };
        // A non-finite norm leaves the weights untouched; the error below rolls back.
        let norm = native::clip_and_step(&mut self.native, adam, step);
        if !norm.is_finite() {
            return Err(DqnError::NonFinite {
                what: "gradient norm".into(),
                update: next_update,
                restored_update: 0,
            });
        }
        self.grad_norm = Some(norm);
        self.record_readback(batch, &dv, &qv, next_update)?;
        self.finish_update(next_update, true)
    }

    /// Check read-back TD errors `dv` and chosen-action Q-values `qv` (non-finite → error,
    /// before any weight changes), update the loss / Q statistics and PER priorities.
    fn record_readback(
        &mut self,
        batch: &Batch,
        dv: &[f32],
        qv: &[f32],
        next_update: u64,
    ) -> Result<(), DqnError> {
        let hdl = self.config.huber_delta;
        let w = &batch.weights;
        let mut loss_sum = 0.0f64;
        for (i, &d) in dv.iter().enumerate() {
            let a = (d as f64).abs();
            let l = if a <= hdl {
                0.5 * a * a
            } else {
                hdl * (a - 0.5 * hdl)
            };
            loss_sum += l * w.get(i).copied().unwrap_or(1.0) as f64;
        }
        let loss = loss_sum / dv.len().max(1) as f64;
        let bad = dv.iter().any(|x| !x.is_finite()) || !loss.is_finite();
        if bad || qv.iter().any(|x| !x.is_finite()) {
            return Err(DqnError::NonFinite {
                what: "TD error / Q-value".into(),
                update: next_update,
                restored_update: 0,
            });
        }
        let mean = qv.iter().map(|&x| x as f64).sum::<f64>() / qv.len().max(1) as f64;
        let maxq = qv.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x as f64));
        self.mean_q = Some(match self.mean_q {
            None => mean,
            Some(m) => m + EMA * (mean - m),
        });
        self.max_q = Some(maxq);
        self.td_loss = Some(loss);
        if self.replay.is_prioritized() {
            let abs: Vec<f32> = dv.iter().map(|x| x.abs()).collect();
            self.replay.update_priorities(&batch.indices, &abs);
        }
        Ok(())
    }

    /// Counters, target update, acting-copy refresh and snapshot after a weight change.
    fn finish_update(&mut self, next_update: u64, read_back: bool) -> Result<(), DqnError> {
        self.updates = next_update;
        self.update_target_after_step();
        if self
            .updates
            .is_multiple_of(self.config.policy_sync_period as u64)
        {
            self.sync_policy()?;
        }
        if read_back && self.updates >= self.snapshot.updates + SNAPSHOT_PERIOD {
            self.take_snapshot();
        }
        Ok(())
    }

    fn targets(&self, bt: &BatchTensors, q_next_online: Option<Tensor<2>>) -> Tensor<2> {
        let map = self.group_map.as_ref();
        let q_next_target = self.target.forward(bt.next_states.clone(), map);
        let q_next_online = if self.config.double_dqn {
            Some(
                q_next_online
                    .unwrap_or_else(|| self.online.valid().forward(bt.next_states.clone(), map)),
            )
        } else {
            None
        };
        masked_td_target(
            q_next_online,
            q_next_target,
            bt.mask_bias.clone(),
            bt.rewards.clone(),
            bt.discounts.clone(),
        )
    }

    #[allow(clippy::single_range_in_vec_init)] // burn slices take one range per dimension
    fn update_inner(&mut self, batch: &Batch) -> Result<(), DqnError> {
        if self.resolved.kind == BackendKind::Native {
            return self.update_native(batch);
        }
        let inner = self.resolved.device.clone();
        let n = batch.size;
        let bt = self.batch_tensors(batch, &inner);
        let map_ad = self.group_map.clone().map(|m| m.autodiff());
        // Q(s, ·) with gradients, and the bootstrap target without.
        // With a reward head, Q = C + R: the TD loss sees R as a constant, R is fitted to the
        // immediate reward below.
        let split = |(c, r): (Tensor<2>, Option<Tensor<2>>)| match r {
            Some(r) => (c + r.clone().detach(), Some(r)),
            None => (c, None),
        };
        let (q, r, y) = if self.concat_forward && self.config.double_dqn {
            let both = Tensor::cat(vec![bt.states.clone(), bt.next_states.clone()], 0).autodiff();
            let (q_all, r_all) = split(self.online.forward_parts(both, map_ad.as_ref()));
            let q = q_all.clone().slice([0..n]);
            let r = r_all.map(|r| r.slice([0..n]));
            let q_next_online = q_all.slice([n..2 * n]).inner();
            let y = self.targets(&bt, Some(q_next_online));
            (q, r, y)
        } else {
            let (q, r) = split(
                self.online
                    .forward_parts(bt.states.clone().autodiff(), map_ad.as_ref()),
            );
            let y = self.targets(&bt, None);
            (q, r, y)
        };
        let q_sa = q.gather(1, bt.actions.clone().autodiff());
        let delta = q_sa.clone() - y.autodiff();
        let delta_abs = delta.clone().abs();
        let hd = self.config.huber_delta as f32;
        let quad = delta_abs.clone().clamp_max(hd);
        let lin = delta_abs - quad.clone();
        let per = quad.square().mul_scalar(0.5) + lin.mul_scalar(hd);
        let mut loss = (per * bt.weights.clone().autodiff()).mean();
        if let Some(r) = r {
            let e = r.gather(1, bt.actions.clone().autodiff()) - bt.immediate.clone().autodiff();
            let rl = (e.square().mul_scalar(0.5) * bt.weights.clone().autodiff()).mean();
            loss = loss + rl.mul_scalar(self.config.reward_head_weight as f32);
        }
        if std::mem::take(&mut self.inject_nan) {
            loss = loss.mul_scalar(f32::NAN); // NaN loss and NaN gradients
        }
        let mut grads = loss.backward();
        let delta_d = delta.inner();
        let q_sa_d = q_sa.inner();
        let want_readback = self.replay.is_prioritized()
            || matches!(self.optim, Optim::Host(_))
            || (self.updates + 1).is_multiple_of(READBACK_PERIOD);

        let mut host_grads: Option<Vec<Vec<f32>>> = None;
        let mut readback: Option<(Vec<f32>, Vec<f32>)> = None;
        let mut device_grads = None;
        {
            let mut tx = Transaction::default();
            let mut n_grads = 0;
            let mut gl = Vec::new();
            for l in self.online.linears() {
                let gw = l.weight.val().grad_remove(&mut grads);
                let gb = l.bias.as_ref().expect("bias").val().grad_remove(&mut grads);
                match (gw, gb) {
                    (Some(gw), Some(gb)) => gl.push((gw, gb)),
                    _ => return Err(DqnError::Backend("missing gradient".into())),
                }
            }
            if matches!(self.optim, Optim::Host(_)) {
                for (gw, gb) in &gl {
                    tx = tx.register(gw.clone()).register(gb.clone());
                    n_grads += 2;
                }
            } else {
                device_grads = Some(gl);
            }
            if want_readback {
                tx = tx.register(delta_d).register(q_sa_d);
                let data = tx
                    .try_execute()
                    .map_err(|e| DqnError::Backend(format!("read-back: {e:?}")))?;
                let mut vecs = data
                    .iter()
                    .map(|d| {
                        d.try_to_vec::<f32>()
                            .map_err(|e| DqnError::Backend(format!("{e:?}")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let qv = vecs.pop().expect("q");
                let dv = vecs.pop().expect("delta");
                if n_grads > 0 {
                    host_grads = Some(vecs);
                }
                readback = Some((dv, qv));
            }
        }
        let next_update = self.updates + 1;
        // Check the read-back figures before touching the weights.
        if let Some((dv, qv)) = &readback {
            self.record_readback(batch, dv, qv, next_update)?;
        }
        let lr = self.config.lr;
        let eps = self.config.adam_eps;
        let clip = self.config.grad_clip_norm;
        let shape = self.shape();
        match &mut self.optim {
            Optim::Host(adam) => {
                let mut g = host_grads.ok_or_else(|| DqnError::Backend("no gradients".into()))?;
                let norm = clip_global_norm(&mut g, clip);
                if !norm.is_finite() {
                    return Err(DqnError::NonFinite {
                        what: "gradient norm".into(),
                        update: next_update,
                        restored_update: 0,
                    });
                }
                self.grad_norm = Some(norm);
                adam.step(&g, lr, eps);
                self.online = QNetwork::from_host(&shape, &adam.params, &self.train_device);
            }
            Optim::Device(adam) => {
                let g = device_grads.ok_or_else(|| DqnError::Backend("no gradients".into()))?;
                let (g, _norm) = clip_global_norm_tensors(g, clip);
                adam.step(&mut self.online, g, lr, eps);
            }
        }
        self.finish_update(next_update, readback.is_some())
    }

    fn update_target_after_step(&mut self) {
        let period = self.config.target_update_period as u64;
        if period > 0 {
            if self.updates.is_multiple_of(period) {
                self.hard_update_target();
            }
        } else {
            self.soft_update_target(self.config.tau);
        }
    }

    /// Copy the online weights into the target network.
    pub fn hard_update_target(&mut self) {
        if self.resolved.kind != BackendKind::Native {
            self.target = self.online.valid();
        }
        if let (Some(th), Optim::Host(adam)) = (&mut self.target_host, &self.optim) {
            th.clone_from(&adam.params);
        }
    }

    /// Polyak update: target ← τ·online + (1−τ)·target.
    pub fn soft_update_target(&mut self, tau: f64) {
        let tau32 = tau as f32;
        let shape = self.shape();
        if let Optim::Host(adam) = &self.optim {
            if self.target_host.is_none() {
                self.target_host = Some(
                    self.target
                        .to_host()
                        .unwrap_or_else(|_| adam.params.clone()),
                );
            }
            let th = self.target_host.as_mut().expect("set above");
            for (t, o) in th.iter_mut().zip(&adam.params) {
                for (t, &o) in t.iter_mut().zip(o) {
                    *t = tau32 * o + (1.0 - tau32) * *t;
                }
            }
            if self.resolved.kind != BackendKind::Native {
                self.target = QNetwork::from_host(&shape, th, &self.resolved.device);
            }
            return;
        }
        let online: Vec<(Tensor<2>, Tensor<1>)> = self
            .online
            .linears()
            .iter()
            .map(|l| {
                (
                    l.weight.val().inner(),
                    l.bias.as_ref().expect("bias").val().inner(),
                )
            })
            .collect();
        for (lin, (ow, ob)) in self.target.linears_mut().into_iter().zip(online) {
            let w = lin.weight.clone();
            lin.weight = w.map(|t| t.mul_scalar(1.0 - tau32) + ow.mul_scalar(tau32));
            let b = lin.bias.take().expect("bias");
            lin.bias = Some(b.map(|t| t.mul_scalar(1.0 - tau32) + ob.mul_scalar(tau32)));
        }
    }

    fn take_snapshot(&mut self) {
        self.snapshot = Snapshot {
            online: self.online.clone(),
            target: self.target.clone(),
            target_host: self.target_host.clone(),
            optim: self.optim.clone(),
            updates: self.updates,
        };
    }

    /// Refresh the acting copy from the trained network now.
    pub fn sync_policy(&mut self) -> Result<(), DqnError> {
        self.policy = match &self.optim {
            Optim::Host(adam) => {
                CpuPolicy::from_host(&self.shape(), &adam.params, &self.action_groups)
            }
            Optim::Device(_) => self.online.to_cpu_policy(&self.action_groups)?,
        };
        Ok(())
    }

    /// Online network parameters read back (param-shape order).
    pub fn online_params(&self) -> Result<Vec<Vec<f32>>, DqnError> {
        match &self.optim {
            Optim::Host(a) => Ok(a.params.clone()),
            Optim::Device(_) => self.online.to_host(),
        }
    }

    /// Target network parameters read back (param-shape order).
    pub fn target_params(&self) -> Result<Vec<Vec<f32>>, DqnError> {
        if let Some((_, t)) = self.native_weights() {
            return Ok(t.to_vec());
        }
        self.target.to_host()
    }

    /// Apply a live hyper-parameter change (validated first).
    pub fn set(&mut self, h: Hyper) -> Result<(), DqnError> {
        let mut c = self.config.clone();
        match h.clone() {
            Hyper::LearningRate(v) => c.lr = v,
            Hyper::Gamma(v) => c.gamma = v,
            Hyper::EpsilonStart(v) => c.eps_start = v,
            Hyper::EpsilonEnd(v) => c.eps_end = v,
            Hyper::EpsilonDecaySteps(v) => c.eps_decay_steps = v,
            Hyper::Epsilon(v) => {
                if let Some(e) = v
                    && !(e.is_finite() && (0.0..=1.0).contains(&e))
                {
                    return Err(DqnError::InvalidConfig {
                        key: "epsilon".into(),
                        reason: format!("must be in [0, 1] (got {e})"),
                    });
                }
                self.epsilon_override = v;
                return Ok(());
            }
            Hyper::BatchSize(v) => c.batch_size = v,
            Hyper::TargetUpdatePeriod(v) => c.target_update_period = v,
            Hyper::Tau(v) => c.tau = v,
            Hyper::TrainFreq(v) => c.train_freq = v,
            Hyper::GradientSteps(v) => c.gradient_steps = v,
            Hyper::GradClipNorm(v) => c.grad_clip_norm = v,
            Hyper::HuberDelta(v) => c.huber_delta = v,
            Hyper::PriorityAlpha(v) => c.priority_alpha = v,
        }
        c.validate().map_err(config_err)?;
        if let Hyper::PriorityAlpha(a) = h {
            self.replay.set_alpha(a);
        }
        self.config = c;
        Ok(())
    }

    /// Fresh weights (new seed derived from the original), optimizer, replay and counters.
    pub fn reset(&mut self) -> Result<(), DqnError> {
        self.seed = self.seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let layout = ActionLayout {
            groups: self.groups,
            features: self.action_features,
        };
        let mut fresh = Self::with_layout(
            self.input_dim,
            self.num_actions,
            layout,
            self.config.clone(),
            self.resolved.clone(),
            self.seed,
        )?;
        fresh.set_action_groups(&self.action_groups)?;
        let (concat, single) = (self.concat_forward, self.native.single_thread);
        *self = fresh;
        self.concat_forward = concat;
        self.native.single_thread = single;
        Ok(())
    }

    /// Counters and recent training figures.
    pub fn stats(&self) -> DqnStats {
        DqnStats {
            env_steps: self.env_steps,
            updates: self.updates,
            epsilon: self.epsilon(),
            td_loss: self.td_loss,
            mean_q: self.mean_q,
            max_q: self.max_q,
            grad_norm: self.grad_norm,
            replay_len: self.replay.len(),
            open_episodes: self.nstep.open_keys(),
            train_seconds: self.train_seconds,
            rollbacks: self.rollbacks,
            device: self.resolved.name.clone(),
            device_reason: self.resolved.reason.clone(),
        }
    }

    /// Events since the last call (rollbacks).
    pub fn take_events(&mut self) -> Vec<DqnEvent> {
        std::mem::take(&mut self.events)
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

    /// Adam state as host vectors: (m, v, t).
    #[allow(clippy::type_complexity)]
    pub(super) fn adam_host(&self) -> Result<(Vec<Vec<f32>>, Vec<Vec<f32>>, u64), DqnError> {
        match &self.optim {
            Optim::Host(a) => Ok((a.m.clone(), a.v.clone(), a.t)),
            Optim::Device(a) => {
                let (m, v) = a.to_host()?;
                Ok((m, v, a.t))
            }
        }
    }

    pub(super) fn counters(&self) -> (u64, u64, Option<f64>) {
        (self.env_steps, self.updates, self.epsilon_override)
    }

    /// Replace weights, optimizer state and counters (checkpoint load).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn restore_state(
        &mut self,
        online: Vec<Vec<f32>>,
        target: Vec<Vec<f32>>,
        m: Vec<Vec<f32>>,
        v: Vec<Vec<f32>>,
        t: u64,
        env_steps: u64,
        updates: u64,
        epsilon_override: Option<f64>,
    ) -> Result<(), DqnError> {
        let shape = self.shape();
        self.online = QNetwork::from_host(&shape, &online, &self.train_device);
        self.target = QNetwork::from_host(&shape, &target, &self.resolved.device);
        self.optim = match self.resolved.kind {
            BackendKind::Native | BackendKind::Flex => Optim::Host(HostAdam {
                params: online,
                m,
                v,
                t,
            }),
            BackendKind::Wgpu => Optim::Device(DeviceAdam::from_host(
                &self.online,
                &m,
                &v,
                t,
                &self.resolved.device,
            )),
        };
        self.target_host = (self.resolved.kind == BackendKind::Native
            || (matches!(self.optim, Optim::Host(_)) && self.config.target_update_period == 0))
            .then_some(target);
        self.env_steps = env_steps;
        self.updates = updates;
        self.epsilon_override = epsilon_override;
        self.steps_since_train = 0;
        self.sync_policy()?;
        self.take_snapshot();
        Ok(())
    }

    /// Replace the configuration wholesale (checkpoint load; shape keys must match).
    pub(super) fn set_config(&mut self, c: DqnConfig) {
        self.config = c;
    }
}

struct BatchTensors {
    states: Tensor<2>,
    next_states: Tensor<2>,
    mask_bias: Tensor<2>,
    actions: Tensor<2, Int>,
    rewards: Tensor<2>,
    immediate: Tensor<2>,
    discounts: Tensor<2>,
    weights: Tensor<2>,
}
