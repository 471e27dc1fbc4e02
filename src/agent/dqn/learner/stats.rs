//! What the learner reports: [`DqnStats`] (counters and recent training figures), [`DqnEvent`]s
//! (rollbacks), and the read-back bookkeeping that feeds them and the replay priorities.

use super::super::error::DqnError;
use super::super::replay::Batch;
use super::{DqnLearner, EMA};

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
    /// The learning rate of the next update (the schedule's).
    pub lr: f64,
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

impl DqnLearner {
    /// Counters and recent training figures.
    pub fn stats(&self) -> DqnStats {
        DqnStats {
            env_steps: self.env_steps,
            updates: self.updates,
            epsilon: self.epsilon(),
            lr: self.config.lr_at(self.updates),
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

    /// Check read-back TD errors `dv` and chosen-action Q-values `qv` (non-finite → error),
    /// update the loss / Q statistics and PER priorities.
    pub(super) fn record_readback(
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
}
