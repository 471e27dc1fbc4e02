//! Error type of the DQN learner core ([`DqnError`]).

use thiserror::Error;

/// Everything that can go wrong in the DQN learner core.
#[derive(Debug, Error)]
pub enum DqnError {
    /// A configuration value is out of range; `key` names the offending field.
    #[error("invalid DQN setting `{key}`: {reason}")]
    InvalidConfig {
        /// Config key, as spelled in [`super::DqnConfig`].
        key: String,
        /// Why the value was rejected.
        reason: String,
    },
    /// The requested compute device could not be created.
    #[error("device error: {0}")]
    Device(String),
    /// A state, mask or output slice does not have the size the learner was built for.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A checkpoint was written for a different network shape.
    #[error("checkpoint shape mismatch: {0}")]
    CheckpointMismatch(String),
    /// A checkpoint could not be read or written.
    #[error("checkpoint error: {0}")]
    Checkpoint(String),
    /// I/O error.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A NaN/inf appeared in training; the learner rolled back to the weights of `restored_update`.
    #[error(
        "non-finite {what} at gradient update {update}; rolled back to the weights of update {restored_update}"
    )]
    NonFinite {
        /// What was non-finite (loss, Q-values, gradient norm).
        what: String,
        /// Gradient update counter when it was detected.
        update: u64,
        /// Gradient update counter of the snapshot that was restored.
        restored_update: u64,
    },
    /// A backend (burn/wgpu) operation failed or panicked.
    #[error("backend error: {0}")]
    Backend(String),
}
