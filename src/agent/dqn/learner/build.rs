//! Building a learner: the network's shape from the configuration and the actions' layout
//! ([`DqnLearner::shape_for`]), checks, the device for that shape, initial weights and the
//! trainer.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::super::acting::CpuPolicy;
use super::super::config::DqnConfig;
use super::super::device::{DeviceChoice, ResolvedDevice};
use super::super::error::DqnError;
use super::super::heads::ActionMaps;
use super::super::nstep::NStep;
use super::super::replay::{Batch, ReplayBuffer};
use super::super::shape::{Head, NetShape, ParamLayout};
use super::{ActionLayout, DqnLearner, config_err};

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
            ..ActionLayout::default()
        };
        Self::with_layout(input_dim, num_actions, layout, config, resolved, seed)
    }

    /// The network shape `config` asks for on states of `input_dim` and `num_actions`
    /// actions described by `layout`.
    pub fn shape_for(
        input_dim: usize,
        num_actions: usize,
        layout: ActionLayout,
        config: &DqnConfig,
    ) -> NetShape {
        let mut heads = Vec::new();
        if config.dueling {
            heads.push(Head::Dueling);
        }
        if config.topic_head {
            heads.push(Head::Group {
                groups: layout.groups,
            });
        }
        heads.push(match config.fusion {
            crate::scenario::Fusion::Gated if layout.modalities > 1 => Head::GatedContent {
                len: layout.content,
                modalities: layout.modalities,
            },
            _ => Head::Content {
                len: layout.content,
            },
        });
        heads.push(Head::ActionFeatures {
            features: layout.features,
        });
        if config.reward_head {
            heads.push(Head::Reward);
        }
        NetShape::new(input_dim, num_actions, config.hidden.clone(), heads)
            .with_layer_norm(config.norm == crate::scenario::Norm::Layer)
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
            slate,
            content,
            ..
        } = layout;
        // Replay skips transitions whose action has changed occupant (see
        // `DqnLearner::set_action_tags`).
        let tagged = content > 0 || config.restart_new_streamers;
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
        let tail = num_actions * action_features;
        let per_transition = ReplayBuffer::bytes_per_transition(
            input_dim - tail,
            tail,
            num_actions,
            slate,
            tagged,
            config.buffer_capacity,
            config.prioritized,
        );
        if let Some(limit) = replay_memory_limit()
            && per_transition * config.buffer_capacity as u64 > limit
        {
            return Err(DqnError::InvalidConfig {
                key: "buffer_capacity".into(),
                reason: format!(
                    "{} transitions of {} bytes need {} once the buffer is full, more than \
                     the {} this machine allows it (3/4 of its memory); lower buffer_capacity",
                    config.buffer_capacity,
                    per_transition,
                    gib(per_transition * config.buffer_capacity as u64),
                    gib(limit)
                ),
            });
        }
        let shape = Self::shape_for(input_dim, num_actions, layout, &config);
        let resolved = resolved.for_shape(&shape, &config)?;
        let param_layout = ParamLayout::new(&shape);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let params = param_layout.init(&mut rng);
        let maps = ActionMaps::new(&shape);
        let policy = CpuPolicy::from_host(&param_layout, &params, &maps);
        let trainer = resolved.trainer(&param_layout, params)?;
        let replay = ReplayBuffer::new(
            input_dim,
            num_actions,
            config.buffer_capacity,
            config.prioritized,
            config.priority_alpha,
        )
        .with_compact_tail(num_actions * action_features)
        .with_next_slates(slate);
        let replay = if tagged {
            replay.with_action_tags()
        } else {
            replay
        };
        let action_tags = if tagged {
            vec![0; num_actions]
        } else {
            Vec::new()
        };
        Ok(Self {
            layout: param_layout,
            groups_available: groups,
            maps,
            action_tags,
            nstep: NStep::new(config.n_step),
            config,
            resolved,
            trainer,
            kernel_threads: 2,
            replay,
            policy: Box::new(policy),
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
            snapshot_updates: 0,
            events: Vec::new(),
            inject_nan: false,
            seed,
        })
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// The most a replay buffer may hold: 3/4 of the machine's memory (`MemTotal` of
/// `/proc/meminfo`); None where that cannot be read.
fn replay_memory_limit() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024 / 4 * 3)
}
