//! The heads of the Q-network, one file each ([`super::shape::Head`] lists them). A head's
//! file holds every form of it:
//!
//! * its **burn term** (the autodiff forward the `burn` trainer differentiates);
//! * its **CPU forward** on all actions (bootstrap targets) and at one action (the loss);
//! * its **CPU backward** (hand-derived gradients of the loss at one action per row);
//! * its **acting fold** (how the f32 acting copy evaluates it, folded into the output layer
//!   where the head allows).
//!
//! The drivers (`network.rs` for burn, `cpu/kernels.rs`, `acting.rs`) loop over the shape's
//! heads with exhaustive `match`es, so a new [`super::shape::Head`] variant does not compile
//! until each form exists. Heads are applied in canonical order (the variants' order); the
//! dueling combination `V + A − mean(A)` comes after every additive term.
//!
//! The CPU forms follow the fast-path rule (ARCHITECTURE.md): a head either touches `Q` at one
//! action per row or folds into the output layer, so the loss never needs all actions' Q.

pub mod content;
pub mod dueling;
pub mod features;
pub mod group;
pub mod reward;

/// What the network knows of each action beyond its index, for the heads that fold a
/// per-action description into the output layer: the action's group (the group head) and its
/// content vector (the content head: `content_len` values per action, every modality).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionMaps {
    /// The group of each action.
    pub groups: Vec<u16>,
    /// Row-major `[num_actions, content_len]` (empty without a content head).
    pub content: Vec<f32>,
}

impl ActionMaps {
    /// Every action in group 0, every content vector 0, for `shape`.
    pub fn new(shape: &super::shape::NetShape) -> Self {
        ActionMaps {
            groups: vec![0; shape.num_actions],
            content: vec![0.0; shape.num_actions * shape.content_len()],
        }
    }
}

/// Sizes the CPU forms of the heads need.
#[derive(Debug, Clone, Copy)]
pub struct Dims {
    /// Width of the last hidden layer.
    pub d: usize,
    /// Number of actions.
    pub a: usize,
    /// State length.
    pub input_dim: usize,
    /// Length of the part of the state the hidden stack reads.
    pub trunk: usize,
    /// The network is dueling (per-action terms are centred over the actions).
    pub dueling: bool,
}

impl Dims {
    /// The sizes of `shape`.
    pub fn of(shape: &super::shape::NetShape) -> Self {
        Self {
            d: shape.last_hidden(),
            a: shape.num_actions,
            input_dim: shape.input_dim,
            trunk: shape.trunk_input(),
            dueling: shape.dueling(),
        }
    }
}
