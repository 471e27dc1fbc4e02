//! Deep Q-Network learner core of liveq. Knows nothing about the simulator: it learns from
//! plain f32 state vectors and boolean action masks.
//!
//! * [`DqnConfig`] — hyper-parameters and validation;
//! * [`DqnLearner`] — acting, replay, Double-DQN updates, live control, stats, rollback;
//! * [`DeviceChoice`] — cpu (liveq's own kernels, [`native`]) / Flex / wgpu / Vulkan / auto
//!   device selection with a reason;
//! * checkpoints ([`DqnLearner::save_checkpoint`], [`DqnLearner::load_checkpoint`]);
//! * [`bench`] — update, acting and end-to-end speed measurements.
//!
//! This folder only refers to itself through `super::`/`self::` paths so it can be moved.

pub mod bench;
pub mod checkpoint;
pub mod config;
pub mod device;
pub mod error;
pub mod learner;
pub mod native;
pub mod network;
pub mod optim;
pub mod policy;
pub mod replay;

#[cfg(test)]
mod tests;

pub use self::bench::{BenchOptions, BenchResult, update_benchmark};
pub use self::checkpoint::{CheckpointHeader, read_checkpoint_header};
pub use self::config::DqnConfig;
pub use self::device::{BackendKind, DeviceChoice, ResolvedDevice};
pub use self::error::DqnError;
pub use self::learner::{ActionLayout, DqnEvent, DqnLearner, DqnStats, Hyper};
pub use self::network::{NetShape, QNetwork};
pub use self::replay::{Batch, NStep, ReplayBuffer};
