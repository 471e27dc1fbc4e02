//! Deep Q-Network learner core of liveq. Knows nothing about the simulator: it learns from
//! plain f32 state vectors and boolean action masks.
//!
//! * [`NetShape`] and [`ParamLayout`] — the network described once ([`shape`]), its heads one
//!   file each ([`heads`]);
//! * [`Trainer`] — the arithmetic of an update, by liveq's CPU kernels ([`cpu`]) or burn
//!   ([`burn_trainer`], on wgpu or Flex); [`ActingNet`] — acting ([`acting`]);
//! * [`DqnLearner`] — the orchestration: replay, n-step, ε, stats, live control, rollback;
//! * [`DeviceChoice`] — cpu / Flex / wgpu / Vulkan / auto device selection with a reason;
//! * checkpoints ([`DqnLearner::save_checkpoint`], [`DqnLearner::load_checkpoint`]);
//! * [`bench`] — update, acting and end-to-end speed measurements.
//!
//! This folder only refers to itself through `super::`/`self::` paths so it can be moved.

pub mod acting;
pub mod bench;
pub mod burn_trainer;
pub mod checkpoint;
pub mod config;
pub mod cpu;
pub mod device;
pub mod error;
pub mod heads;
pub mod learner;
pub mod network;
pub mod norm;
pub mod nstep;
pub mod optim;
pub mod replay;
pub mod shape;
mod simd;
pub mod trainer;

#[cfg(test)]
mod tests;

pub use self::acting::{ActingNet, CpuPolicy};
pub use self::bench::{BenchOptions, BenchResult, update_benchmark};
pub use self::checkpoint::{
    CheckpointHeader, MAX_BYTES as CHECKPOINT_MAX_BYTES, read_checkpoint_header,
};
pub use self::config::DqnConfig;
pub use self::device::{BackendKind, DeviceChoice, ResolvedDevice};
pub use self::error::DqnError;
pub use self::heads::ActionMaps;
pub use self::learner::{ActionLayout, DqnEvent, DqnLearner, DqnStats, Hyper};
pub use self::network::QNetwork;
pub use self::nstep::NStep;
pub use self::replay::{Batch, ReplayBuffer};
pub use self::shape::{Head, NetShape, ParamLayout};
pub use self::trainer::Trainer;
