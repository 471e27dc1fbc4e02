//! The learner's hyperparameters are the scenario's `[agent]` section: see `scenario::agent`.

pub use crate::scenario::agent::*;
