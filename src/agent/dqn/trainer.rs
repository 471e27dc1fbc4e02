//! The seam between the learner's orchestration and the arithmetic of an update: a
//! [`Trainer`] owns the online and target parameters and the optimizer state, and does
//! everything that depends on how the network is computed — the update on a batch,
//! inspection without a step, target updates, parameter export, checkpoint state and the
//! rollback snapshot. Two implement it: liveq's CPU kernels ([`super::cpu::CpuTrainer`]) and
//! burn ([`super::burn_trainer::BurnTrainer`], on wgpu or on Flex, the reference).
//!
//! Parameters cross the seam as host vectors in [`ParamLayout`] order.

use super::acting::CpuPolicy;
use super::error::DqnError;
use super::heads::ActionMaps;
use super::replay::Batch;
use super::shape::ParamLayout;

/// What the TD loss needs besides the weights.
#[derive(Debug, Clone, Copy)]
pub struct TdSpec {
    /// Double DQN (online argmax, target evaluation) instead of the target's max.
    pub double_dqn: bool,
    /// Huber threshold.
    pub huber_delta: f32,
    /// Weight of the reward head's squared-error loss (used when the network has one).
    pub reward_weight: f32,
}

/// One update's settings.
#[derive(Debug, Clone, Copy)]
pub struct UpdateSpec {
    /// The loss.
    pub td: TdSpec,
    /// Global gradient-norm clip (0 = off).
    pub max_norm: f64,
    /// Adam learning rate.
    pub lr: f64,
    /// Adam ε.
    pub eps: f64,
    /// Decoupled weight decay (AdamW): every parameter is first scaled by `1 − lr·weight_decay`.
    pub weight_decay: f64,
    /// Decoupled slot shrinkage: every column of the output layer (weight and bias) is first
    /// moved `lr·slot_shrinkage` of the way to the columns' average.
    pub slot_shrinkage: f64,
    /// Test hook: poison the update with NaN.
    pub poison: bool,
    /// Read TD errors, Q-values and the gradient norm back (a trainer whose figures are on
    /// the host anyway always returns them).
    pub readback: bool,
}

/// TD errors and chosen-action Q-values of a batch.
#[derive(Debug, Clone, Default)]
pub struct Readback {
    /// `Q(s, a) − y` per row.
    pub delta: Vec<f32>,
    /// `Q(s, a)` per row.
    pub q_sa: Vec<f32>,
}

/// What an update reports.
#[derive(Debug, Clone, Default)]
pub struct UpdateOutcome {
    /// The batch's figures, when read back.
    pub readback: Option<Readback>,
    /// The global gradient norm before clipping, when read back.
    pub grad_norm: Option<f64>,
}

/// The online network's figures on a batch, without training.
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    /// TD targets `y`.
    pub targets: Vec<f32>,
    /// `Q(s, a) − y`.
    pub td_errors: Vec<f32>,
    /// `R(s, a) − r` on the immediate rewards (with a reward head).
    pub reward_errors: Option<Vec<f32>>,
}

/// Everything a checkpoint keeps of a trainer, as host vectors in layout order.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainerState {
    /// Online parameters.
    pub online: Vec<Vec<f32>>,
    /// Target parameters.
    pub target: Vec<Vec<f32>>,
    /// Adam first moments.
    pub m: Vec<Vec<f32>>,
    /// Adam second moments.
    pub v: Vec<Vec<f32>>,
    /// Adam steps taken.
    pub t: u64,
}

/// How the target network follows the online one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetUpdate {
    /// Copy.
    Hard,
    /// Polyak: `target ← τ·online + (1 − τ)·target`.
    Soft(f64),
}

/// The arithmetic of the learner (see the module docs).
pub trait Trainer: Send {
    /// Where the parameters live.
    fn layout(&self) -> &ParamLayout;

    /// Each action's group (a stream's topic) and content, for the heads that read them.
    fn set_action_maps(&mut self, maps: &ActionMaps);

    /// One gradient step on `batch`. A non-finite gradient norm or read-back figure is a
    /// [`DqnError::NonFinite`] (the learner rolls back).
    fn update(&mut self, batch: &Batch, spec: &UpdateSpec) -> Result<UpdateOutcome, DqnError>;

    /// The online network's targets and errors on `batch`, without a step.
    fn inspect(&self, batch: &Batch, td: TdSpec) -> Result<Inspection, DqnError>;

    /// Gradients of the loss on `batch` (before clipping), without a step.
    fn gradients(&self, batch: &Batch, td: TdSpec) -> Result<Vec<Vec<f32>>, DqnError>;

    /// Move the target network.
    fn update_target(&mut self, how: TargetUpdate);

    /// Online parameters.
    fn online_params(&self) -> Result<Vec<Vec<f32>>, DqnError>;

    /// Target parameters.
    fn target_params(&self) -> Result<Vec<Vec<f32>>, DqnError>;

    /// Parameters and optimizer state.
    fn state(&self) -> Result<TrainerState, DqnError>;

    /// Replace parameters and optimizer state (checked against the layout by the caller).
    fn restore(&mut self, state: TrainerState) -> Result<(), DqnError>;

    /// Keep the current parameters and optimizer state for [`Trainer::restore_snapshot`].
    fn take_snapshot(&mut self);

    /// Go back to the last snapshot.
    fn restore_snapshot(&mut self);

    /// The f32 acting copy of the online network.
    fn acting_net(&self) -> Result<CpuPolicy, DqnError>;

    /// Threads an update may use (the CPU kernels use one or two; burn ignores it).
    fn set_threads(&mut self, _threads: usize) {}
}
