//! Live control: [`Hyper`], a hyper-parameter change validated and applied from the next step
//! on, and [`DqnLearner::reset`].

use super::super::error::DqnError;
use super::{ActionLayout, DqnLearner, config_err};

/// A live hyper-parameter change, validated and applied from the next step on.
#[derive(Debug, Clone, PartialEq)]
pub enum Hyper {
    /// Adam learning rate (the schedule's peak).
    LearningRate(f64),
    /// Learning-rate schedule.
    LrSchedule(crate::scenario::LrSchedule),
    /// Updates of the learning rate's warm-up.
    LrWarmupUpdates(usize),
    /// Floor of the learning rate.
    LrMin(f64),
    /// Factor of the step and exponential schedules.
    LrDecay(f64),
    /// Updates per decay factor (cosine: to the floor).
    LrDecayUpdates(usize),
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

impl DqnLearner {
    /// Apply a live hyper-parameter change (validated first).
    pub fn set(&mut self, h: Hyper) -> Result<(), DqnError> {
        let mut c = self.config.clone();
        match h.clone() {
            Hyper::LearningRate(v) => c.lr = v,
            Hyper::LrSchedule(v) => c.lr_schedule = v,
            Hyper::LrWarmupUpdates(v) => c.lr_warmup_updates = v,
            Hyper::LrMin(v) => c.lr_min = v,
            Hyper::LrDecay(v) => c.lr_decay = v,
            Hyper::LrDecayUpdates(v) => c.lr_decay_updates = v,
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
            groups: self.groups_available,
            features: self.layout.shape.action_features(),
            content: self.layout.shape.content_len(),
            modalities: self.layout.shape.gated_modalities(),
            slate: self.replay.slate_width(),
        };
        let mut fresh = Self::with_layout(
            self.input_dim(),
            self.num_actions(),
            layout,
            self.config.clone(),
            self.resolved.clone(),
            self.seed,
        )?;
        fresh.set_action_groups(&self.maps.groups)?;
        fresh.set_action_content(&self.maps.content)?;
        fresh.set_kernel_threads(self.kernel_threads);
        *self = fresh;
        Ok(())
    }
}
