//! The `[agent]` section of a scenario: the DQN learner's hyperparameters ([`DqnConfig`]) with
//! their validation (which reports the offending key so a caller can point at it).

use serde::{Deserialize, Serialize};

/// Largest hidden layer width accepted by [`DqnConfig::validate`].
pub const MAX_HIDDEN_WIDTH: usize = 4096;
/// Largest number of hidden layers accepted by [`DqnConfig::validate`].
pub const MAX_HIDDEN_LAYERS: usize = 8;
/// Largest replay capacity accepted by [`DqnConfig::validate`].
pub const MAX_BUFFER_CAPACITY: usize = 10_000_000;
/// Largest batch size accepted by [`DqnConfig::validate`].
pub const MAX_BATCH_SIZE: usize = 65_536;
/// Largest n-step horizon accepted by [`DqnConfig::validate`].
pub const MAX_N_STEP: usize = 64;
/// Most env steps between training rounds (beyond, a run of any sensible length never trains).
pub const MAX_TRAIN_FREQ: usize = 100_000;

/// How the learning rate changes with the gradient updates done (`[agent] lr_schedule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// `lr` throughout.
    #[default]
    Constant,
    /// `lr · lr_decay^⌊t / lr_decay_updates⌋`.
    Step,
    /// `lr · lr_decay^(t / lr_decay_updates)`.
    Exponential,
    /// From `lr` down to `lr_min` along half a cosine over `lr_decay_updates`, then `lr_min`.
    Cosine,
}

impl LrSchedule {
    /// Every schedule, in the order of its number in the dashboard's tuning view.
    pub const ALL: [LrSchedule; 4] = [
        LrSchedule::Constant,
        LrSchedule::Step,
        LrSchedule::Exponential,
        LrSchedule::Cosine,
    ];
}

/// Normalisation of the hidden layers (`[agent] norm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Norm {
    /// None.
    #[default]
    None,
    /// Layer normalisation of each hidden layer's pre-activations (per state, with a learnt
    /// scale and shift), on every device.
    Layer,
    /// Batch normalisation: not offered (see [`DqnConfig::validate`]).
    Batch,
}

/// A family of features the learner reads (`[agent] features`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureFamily {
    /// The viewer's logs: hours watched, engagement given, recommendations shown and accepted
    /// per topic, the last topic watched.
    History,
    /// The viewer's age band, gender, region and device.
    Demographics,
    /// Follows and friends: whether the viewer follows each stream, how many of its friends
    /// watch it, its followers.
    Social,
    /// Each stream's likes and comments per hour watched (the same as `engagement_features`).
    Engagement,
    /// Each stream's content vectors, through the network's content head (an item tower);
    /// needs a world with content (`[streamers] content_dim`).
    Content,
}

impl FeatureFamily {
    /// Every family, in the order the encoder lays them out.
    pub const ALL: [FeatureFamily; 5] = [
        FeatureFamily::History,
        FeatureFamily::Demographics,
        FeatureFamily::Social,
        FeatureFamily::Engagement,
        FeatureFamily::Content,
    ];

    /// The name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            FeatureFamily::History => "history",
            FeatureFamily::Demographics => "demographics",
            FeatureFamily::Social => "social",
            FeatureFamily::Engagement => "engagement",
            FeatureFamily::Content => "content",
        }
    }
}

fn default_features() -> Vec<FeatureFamily> {
    vec![FeatureFamily::History]
}

/// How the content head fuses the modalities of a stream's content (`[agent] fusion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fusion {
    /// Every modality's vector, concatenated, read by one item tower (folds into the output
    /// layer: the CPU kernels run it).
    #[default]
    Concat,
    /// One tower per modality, each weighted by a gate in (0, 1) computed from the viewer's
    /// state, so the learner can lean on the modality that tells most for this viewer (the
    /// gates depend on the state, so it does not fold: it runs on burn).
    Gated,
}

/// How the learner values a slate of several streams (`[agent] slate_value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlateValue {
    /// Item-wise Q-values, the slate the top K by Q.
    #[default]
    Itemwise,
    /// SlateQ: Q conditional on a tap, the slate valued through a fitted click model.
    Slateq,
}

/// How SlateQ builds a slate (`[agent] slate_builder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlateBuilder {
    /// The K streams of highest attraction × Q, in that order.
    #[default]
    TopK,
    /// Position by position, the stream that raises the slate's value most.
    Greedy,
}

/// Which next slate SlateQ's target averages over (`[agent] slate_target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlateTarget {
    /// The greedy next slate.
    #[default]
    QLearning,
    /// The next slate as shown (exploration included).
    Sarsa,
}

/// DQN hyper-parameters. Unknown keys are rejected when deserializing; missing keys take the
/// [`Default`] value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DqnConfig {
    /// Hidden layer widths of the Q-network MLP (ReLU).
    pub hidden: Vec<usize>,
    /// Dueling head: Q = V + A - mean(A).
    pub dueling: bool,
    /// Topic head: Q(s, a) adds a term shared by every stream of a's topic, learnt from all
    /// of them (taste for a topic is learnt once, not once per stream).
    pub topic_head: bool,
    /// Per-stream features: each live stream's minutes live (how near its end it is) and
    /// audience enter its Q-value through weights the network computes from the viewer's
    /// state and shares across streams (see the state encoder's documentation).
    pub stream_features: bool,
    /// Taste features: the viewer's logs at each live stream's topic (hours watched over a day
    /// and a week, engagement, last topic, accepted share, recommendations shown) enter that
    /// stream's Q-value the same way, so how taste and topic meet is learnt once for all streams.
    pub taste_features: bool,
    /// Engagement features: each live stream's likes and comments per hour watched (relative to
    /// the platform's), through the same per-action head: a stream's public engagement says how
    /// good it is before the learner has tried it.
    pub engagement_features: bool,
    /// When a slot passes to a new streamer, the slot's output (its column of the output layer,
    /// and of the reward head) restarts from the average of the other slots', online and
    /// target, with the optimizer's moments, and replay stops drawing the transitions stored
    /// while the slot had its previous streamer: what was learnt of the previous streamer says
    /// nothing of the new one. For worlds whose streamers come and go.
    pub restart_new_streamers: bool,
    /// The feature families the learner reads (see [`FeatureFamily`]); `engagement_features =
    /// true` adds "engagement".
    #[serde(default = "default_features")]
    pub features: Vec<FeatureFamily>,
    /// Reward head: `Q(s, a) = R(s, a) + C(s, a)`, where `R` (a linear head on the shared
    /// hidden layers) is fitted to the immediate reward of the action alone and `C` carries
    /// the discounted rest through the TD loss. What an action earns now is then learnt from
    /// a target without bootstrapping or the noise of the session's later steps.
    pub reward_head: bool,
    /// Weight of the reward head's squared-error loss against the TD loss.
    pub reward_head_weight: f64,
    /// Adam learning rate (the schedule's peak).
    pub lr: f64,
    /// How the learning rate changes over the gradient updates: `constant`, `step`,
    /// `exponential` or `cosine` (after the warm-up).
    pub lr_schedule: LrSchedule,
    /// Gradient updates over which the rate rises linearly to `lr` first (0 = none).
    pub lr_warmup_updates: usize,
    /// The rate never falls below this (and `cosine` ends at it).
    pub lr_min: f64,
    /// `step` and `exponential`: the factor applied every `lr_decay_updates` updates.
    pub lr_decay: f64,
    /// `step` and `exponential`: updates per `lr_decay` factor; `cosine`: updates from `lr` to
    /// `lr_min`.
    pub lr_decay_updates: usize,
    /// Discount factor, in [0, 1).
    pub gamma: f64,
    /// n of the n-step return (1 = plain one-step TD).
    pub n_step: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Replay buffer capacity (transitions).
    pub buffer_capacity: usize,
    /// Proportional prioritized replay instead of uniform replay.
    pub prioritized: bool,
    /// PER exponent α: p_i = (|δ| + ε)^α.
    pub priority_alpha: f64,
    /// PER importance-sampling exponent β at the first gradient update.
    pub priority_beta_start: f64,
    /// PER β after `priority_beta_steps` gradient updates.
    pub priority_beta_end: f64,
    /// Gradient updates over which β is annealed linearly.
    pub priority_beta_steps: usize,
    /// Double DQN (argmax by the online net, evaluated by the target net).
    pub double_dqn: bool,
    /// Hard target update every N gradient updates; 0 = soft (Polyak) update with `tau` every update.
    pub target_update_period: usize,
    /// Polyak coefficient for the soft target update (used when `target_update_period == 0`).
    pub tau: f64,
    /// Huber loss threshold.
    pub huber_delta: f64,
    /// Global gradient-norm clip; 0 = off.
    pub grad_clip_norm: f64,
    /// ε at env step 0.
    pub eps_start: f64,
    /// ε after `eps_decay_steps` env steps.
    pub eps_end: f64,
    /// Env steps of the linear ε decay.
    pub eps_decay_steps: usize,
    /// Env steps (observed transitions) before the first gradient update.
    pub learning_starts: usize,
    /// Train every `train_freq` env steps.
    pub train_freq: usize,
    /// Gradient updates per training round.
    pub gradient_steps: usize,
    /// Adam ε (PyTorch's default, burn's default is 1e-5).
    pub adam_eps: f64,
    /// Normalisation of the hidden layers: `none` or `layer` (`batch` is refused with the
    /// reason).
    pub norm: Norm,
    /// Dropout on every hidden layer's output while training (the gradient update's forward
    /// pass only: acting and the bootstrap targets use the whole network). 0 = none.
    pub dropout: f64,
    /// Decoupled weight decay (AdamW): each update first scales every parameter by
    /// `1 − lr·weight_decay`. 0 = plain Adam.
    pub weight_decay: f64,
    /// Decoupled shrinkage of the per-slot output weights: each update first pulls every
    /// slot's column of the output layer (weights and bias) toward the average column by
    /// `lr·slot_shrinkage` of its distance to it, so what tells slots apart has to be learnt
    /// by the heads that describe a slot's stream (content, topics, stream features), which
    /// carry to newcomers. 0 = off.
    pub slot_shrinkage: f64,
    /// The acting copy of the policy (plain-Rust CPU MLP) is refreshed from the trained
    /// network every this many gradient updates (and always after a reset/load/rollback).
    pub policy_sync_period: usize,
    /// On a feed: added to the reward the learner learns from, times the intra-list diversity
    /// of the slate it showed (0..1). 0 = none; the world's reward and the metrics are unchanged.
    pub diversity_bonus: f64,
    /// On a feed: how the learner values a slate — `itemwise` (the top K by Q, every slate's
    /// outcome teaching the first stream shown when nothing is tapped) or `slateq` (Q learnt
    /// from taps only, the slate valued as Σ P(i | s, slate)·Q(s, i) with P from a click model
    /// fitted to the logged impressions).
    pub slate_value: SlateValue,
    /// With `slateq`: the slate is the top K by P·Q (`top-k`) or built position by position to
    /// maximise the slate's value (`greedy`).
    pub slate_builder: SlateBuilder,
    /// With `slateq`: the target averages Q over the greedy next slate (`q-learning`) or over
    /// the next slate as shown, exploration included (`sarsa`).
    pub slate_target: SlateTarget,
    /// With `slateq`: the click model's learning rate.
    pub click_lr: f64,
    /// How the content head fuses the content's modalities (with "content" in `features`).
    pub fusion: Fusion,
    /// Multiplies every content value the learner reads (with "content" in `features`): the
    /// content head's share of a stream's value at the start, and how far each update moves
    /// it, grow with it. 1 = the world's content as it is.
    pub content_scale: f64,
}

impl Default for DqnConfig {
    fn default() -> Self {
        Self {
            hidden: vec![256, 256],
            dueling: false,
            topic_head: true,
            stream_features: false,
            taste_features: false,
            engagement_features: false,
            restart_new_streamers: true,
            features: default_features(),
            reward_head: false,
            reward_head_weight: 1.0,
            lr: 6.25e-5,
            lr_schedule: LrSchedule::Constant,
            lr_warmup_updates: 0,
            lr_min: 0.0,
            lr_decay: 0.5,
            lr_decay_updates: 100_000,
            gamma: 0.5,
            n_step: 1,
            batch_size: 128,
            buffer_capacity: 100_000,
            prioritized: false,
            priority_alpha: 0.6,
            priority_beta_start: 0.4,
            priority_beta_end: 1.0,
            priority_beta_steps: 100_000,
            double_dqn: true,
            target_update_period: 1000,
            tau: 0.005,
            huber_delta: 10.0,
            grad_clip_norm: 10.0,
            eps_start: 1.0,
            eps_end: 0.05,
            eps_decay_steps: 50_000,
            learning_starts: 2_000,
            train_freq: 4,
            gradient_steps: 1,
            adam_eps: 1e-8,
            weight_decay: 0.0,
            slot_shrinkage: 0.0,
            dropout: 0.0,
            norm: Norm::None,
            policy_sync_period: 10,
            diversity_bonus: 0.0,
            slate_value: SlateValue::Itemwise,
            slate_builder: SlateBuilder::TopK,
            slate_target: SlateTarget::QLearning,
            click_lr: 0.05,
            fusion: Fusion::Concat,
            content_scale: 1.0,
        }
    }
}

fn finite_in(v: f64, lo: f64, hi: f64) -> bool {
    v.is_finite() && v >= lo && v <= hi
}

impl DqnConfig {
    /// Check every value; on failure returns `(key, why)` for each offending key.
    pub fn validate(&self) -> Result<(), Vec<(String, String)>> {
        let mut errs: Vec<(String, String)> = Vec::new();
        let mut bad = |k: &str, why: String| errs.push((k.to_string(), why));
        if self.hidden.is_empty() {
            bad("hidden", "at least one hidden layer is required".into());
        }
        if self.hidden.len() > MAX_HIDDEN_LAYERS {
            bad(
                "hidden",
                format!(
                    "at most {MAX_HIDDEN_LAYERS} hidden layers (got {})",
                    self.hidden.len()
                ),
            );
        }
        if let Some(w) = self
            .hidden
            .iter()
            .find(|&&w| w == 0 || w > MAX_HIDDEN_WIDTH)
        {
            bad(
                "hidden",
                format!("layer widths must be in 1..={MAX_HIDDEN_WIDTH} (got {w})"),
            );
        }
        if !(self.reward_head_weight.is_finite()
            && self.reward_head_weight > 0.0
            && self.reward_head_weight <= 100.0)
        {
            bad(
                "reward_head_weight",
                format!("must be in (0, 100] (got {})", self.reward_head_weight),
            );
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 1.0) {
            bad("lr", format!("must be in (0, 1] (got {})", self.lr));
        }
        if !(self.gamma.is_finite() && self.gamma >= 0.0 && self.gamma < 1.0) {
            bad("gamma", format!("must be in [0, 1) (got {})", self.gamma));
        }
        if self.n_step == 0 || self.n_step > MAX_N_STEP {
            bad(
                "n_step",
                format!("must be in 1..={MAX_N_STEP} (got {})", self.n_step),
            );
        }
        if self.batch_size == 0 || self.batch_size > MAX_BATCH_SIZE {
            bad(
                "batch_size",
                format!("must be in 1..={MAX_BATCH_SIZE} (got {})", self.batch_size),
            );
        }
        if self.buffer_capacity == 0 || self.buffer_capacity > MAX_BUFFER_CAPACITY {
            bad(
                "buffer_capacity",
                format!(
                    "must be in 1..={MAX_BUFFER_CAPACITY} (got {})",
                    self.buffer_capacity
                ),
            );
        }
        if self.batch_size > self.buffer_capacity {
            bad(
                "batch_size",
                format!(
                    "must not exceed buffer_capacity ({} > {})",
                    self.batch_size, self.buffer_capacity
                ),
            );
        }
        if !finite_in(self.priority_alpha, 0.0, 1.0) {
            bad(
                "priority_alpha",
                format!("must be in [0, 1] (got {})", self.priority_alpha),
            );
        }
        if !finite_in(self.priority_beta_start, 0.0, 1.0) {
            bad(
                "priority_beta_start",
                format!("must be in [0, 1] (got {})", self.priority_beta_start),
            );
        }
        if !finite_in(self.priority_beta_end, 0.0, 1.0) {
            bad(
                "priority_beta_end",
                format!("must be in [0, 1] (got {})", self.priority_beta_end),
            );
        }
        if !finite_in(self.tau, 0.0, 1.0) || (self.target_update_period == 0 && self.tau <= 0.0) {
            bad(
                "tau",
                format!(
                    "must be in (0, 1] when target_update_period is 0, [0, 1] otherwise (got {})",
                    self.tau
                ),
            );
        }
        if !(self.huber_delta.is_finite() && self.huber_delta > 0.0) {
            bad(
                "huber_delta",
                format!("must be > 0 (got {})", self.huber_delta),
            );
        }
        if !(self.grad_clip_norm.is_finite() && self.grad_clip_norm >= 0.0) {
            bad(
                "grad_clip_norm",
                format!("must be >= 0, 0 = off (got {})", self.grad_clip_norm),
            );
        }
        if !finite_in(self.eps_start, 0.0, 1.0) {
            bad(
                "eps_start",
                format!("must be in [0, 1] (got {})", self.eps_start),
            );
        }
        if !finite_in(self.eps_end, 0.0, 1.0) {
            bad(
                "eps_end",
                format!("must be in [0, 1] (got {})", self.eps_end),
            );
        }
        if self.eps_end > self.eps_start {
            bad(
                "eps_end",
                format!(
                    "must not exceed eps_start: exploration would grow from {} to {}",
                    self.eps_start, self.eps_end
                ),
            );
        }
        if self.priority_beta_end < self.priority_beta_start {
            bad(
                "priority_beta_end",
                format!(
                    "must not be below priority_beta_start: importance sampling would be \
                     annealed away from full correction ({} to {})",
                    self.priority_beta_start, self.priority_beta_end
                ),
            );
        }
        if self.train_freq == 0 || self.train_freq > MAX_TRAIN_FREQ {
            bad(
                "train_freq",
                format!("must be in 1..={MAX_TRAIN_FREQ} (got {})", self.train_freq),
            );
        }
        if self.gradient_steps == 0 || self.gradient_steps > 1000 {
            bad(
                "gradient_steps",
                format!("must be in 1..=1000 (got {})", self.gradient_steps),
            );
        }
        if !(self.adam_eps.is_finite() && self.adam_eps > 0.0 && self.adam_eps < 1.0) {
            bad(
                "adam_eps",
                format!("must be in (0, 1) (got {})", self.adam_eps),
            );
        }
        if !finite_in(self.diversity_bonus, 0.0, 1000.0) {
            bad(
                "diversity_bonus",
                format!("must be in [0, 1000] (got {})", self.diversity_bonus),
            );
        }
        if self.policy_sync_period == 0 {
            bad("policy_sync_period", "must be >= 1".into());
        }
        if self.norm == Norm::Batch {
            bad(
                "norm",
                "\"batch\" is not offered: the learner acts on one state at a time (no batch \
                 to normalise over, and running statistics would make acting and training \
                 disagree); use \"layer\", which normalises each state on its own"
                    .into(),
            );
        }
        if !(self.dropout.is_finite() && (0.0..0.95).contains(&self.dropout)) {
            bad(
                "dropout",
                format!("must be in [0, 0.95) (got {})", self.dropout),
            );
        }
        if !finite_in(self.weight_decay, 0.0, 1.0) || self.lr * self.weight_decay >= 1.0 {
            bad(
                "weight_decay",
                format!(
                    "must be in [0, 1] with lr × weight_decay < 1 (got {})",
                    self.weight_decay
                ),
            );
        }
        if !(finite_in(self.content_scale, 0.0, 1e3) && self.content_scale > 0.0) {
            bad(
                "content_scale",
                format!(
                    "must be in (0, 1000] (got {}); to leave content out, drop \"content\" \
                     from features",
                    self.content_scale
                ),
            );
        }
        if !finite_in(self.slot_shrinkage, 0.0, 1e6) || self.lr * self.slot_shrinkage >= 1.0 {
            bad(
                "slot_shrinkage",
                format!(
                    "must be ≥ 0 with lr × slot_shrinkage < 1 (got {})",
                    self.slot_shrinkage
                ),
            );
        }
        if !(self.lr_min.is_finite() && self.lr_min >= 0.0 && self.lr_min <= self.lr) {
            bad(
                "lr_min",
                format!(
                    "must be in [0, lr = {}] (got {}): the schedule falls from lr to it",
                    self.lr, self.lr_min
                ),
            );
        }
        if !(self.lr_decay.is_finite() && self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            bad(
                "lr_decay",
                format!(
                    "must be in (0, 1] (got {}): the rate shrinks, never grows",
                    self.lr_decay
                ),
            );
        }
        if self.lr_decay_updates == 0 || self.lr_decay_updates > 1_000_000_000 {
            bad(
                "lr_decay_updates",
                format!("must be in 1..=1000000000 (got {})", self.lr_decay_updates),
            );
        }
        if self.lr_warmup_updates > 1_000_000_000 {
            bad(
                "lr_warmup_updates",
                format!(
                    "must be at most 1000000000 (got {})",
                    self.lr_warmup_updates
                ),
            );
        }
        if !(self.click_lr.is_finite() && self.click_lr > 0.0 && self.click_lr <= 1.0) {
            bad(
                "click_lr",
                format!("must be in (0, 1] (got {})", self.click_lr),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.features {
            if !seen.insert(*f) {
                bad("features", format!("\"{}\" is listed twice", f.name()));
            }
        }
        if self.taste_features && !self.reads(FeatureFamily::History) {
            bad(
                "taste_features",
                "taste features are the viewer's history at each stream's topic: add \"history\" \
                 to features, or turn them off"
                    .into(),
            );
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// Whether the learner reads feature family `f` (`engagement_features = true` counts as
    /// listing "engagement").
    pub fn reads(&self, f: FeatureFamily) -> bool {
        self.features.contains(&f) || (f == FeatureFamily::Engagement && self.engagement_features)
    }

    /// The learning rate of the update after `updates` gradient updates: a linear warm-up to
    /// `lr` over `lr_warmup_updates`, then the schedule, never below `lr_min`.
    pub fn lr_at(&self, updates: u64) -> f64 {
        let warmup = self.lr_warmup_updates as u64;
        if updates < warmup {
            return (self.lr * (updates + 1) as f64 / warmup as f64).max(self.lr_min);
        }
        let t = (updates - warmup) as f64;
        let n = self.lr_decay_updates.max(1) as f64;
        let lr = match self.lr_schedule {
            LrSchedule::Constant => return self.lr,
            LrSchedule::Step => self.lr * self.lr_decay.powf((t / n).floor()),
            LrSchedule::Exponential => self.lr * self.lr_decay.powf(t / n),
            LrSchedule::Cosine => {
                let x = (t / n).min(1.0);
                self.lr_min
                    + (self.lr - self.lr_min) * 0.5 * (1.0 + (std::f64::consts::PI * x).cos())
            }
        };
        lr.max(self.lr_min)
    }

    /// ε after `env_steps` env steps (linear decay from `eps_start` to `eps_end`).
    pub fn epsilon_at(&self, env_steps: u64) -> f64 {
        if self.eps_decay_steps == 0 {
            return self.eps_end;
        }
        let frac = (env_steps as f64 / self.eps_decay_steps as f64).min(1.0);
        self.eps_start + (self.eps_end - self.eps_start) * frac
    }

    /// PER β after `updates` gradient updates (linear anneal).
    pub fn beta_at(&self, updates: u64) -> f64 {
        if self.priority_beta_steps == 0 {
            return self.priority_beta_end;
        }
        let frac = (updates as f64 / self.priority_beta_steps as f64).min(1.0);
        self.priority_beta_start + (self.priority_beta_end - self.priority_beta_start) * frac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_json_round_trips() {
        let c = DqnConfig::default();
        c.validate().unwrap();
        let s = serde_json::to_string(&c).unwrap();
        let back: DqnConfig = serde_json::from_str(&s).unwrap();
        assert_eq!(c, back);
        let partial: DqnConfig = serde_json::from_str(r#"{"gamma": 0.9}"#).unwrap();
        assert_eq!(partial.gamma, 0.9);
        assert_eq!(partial.hidden, vec![256, 256]);
        assert!(serde_json::from_str::<DqnConfig>(r#"{"gama": 0.9}"#).is_err());
    }

    #[test]
    fn validate_reports_keys() {
        let c = DqnConfig {
            gamma: 1.0,
            batch_size: 10,
            buffer_capacity: 5,
            hidden: vec![5000],
            ..DqnConfig::default()
        };
        let errs = c.validate().unwrap_err();
        let keys: Vec<&str> = errs.iter().map(|(k, _)| k.as_str()).collect();
        assert!(keys.contains(&"gamma"));
        assert!(keys.contains(&"batch_size"));
        assert!(keys.contains(&"hidden"));
    }

    /// Each learning-rate schedule against values computed by hand.
    #[test]
    fn learning_rate_schedules_by_hand() {
        let base = DqnConfig {
            lr: 1e-3,
            lr_min: 1e-4,
            lr_decay: 0.5,
            lr_decay_updates: 100,
            ..DqnConfig::default()
        };
        let at = |schedule, warmup, t| {
            DqnConfig {
                lr_schedule: schedule,
                lr_warmup_updates: warmup,
                ..base.clone()
            }
            .lr_at(t)
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
        // Constant: lr at every update, exactly.
        for t in [0, 1, 99, 100, 1_000_000] {
            assert_eq!(at(LrSchedule::Constant, 0, t), 1e-3);
        }
        // Step: halves at 100, 200, …; never below lr_min (1e-3 / 16 < 1e-4).
        assert!(close(at(LrSchedule::Step, 0, 99), 1e-3));
        assert!(close(at(LrSchedule::Step, 0, 100), 5e-4));
        assert!(close(at(LrSchedule::Step, 0, 250), 2.5e-4));
        assert!(close(at(LrSchedule::Step, 0, 400), 1e-4));
        // Exponential: 1e-3 · 0.5^(t/100).
        assert!(close(
            at(LrSchedule::Exponential, 0, 50),
            1e-3 * 0.5f64.sqrt()
        ));
        assert!(close(
            at(LrSchedule::Exponential, 0, 150),
            1e-3 * 0.5f64.powf(1.5)
        ));
        assert!(close(at(LrSchedule::Exponential, 0, 10_000), 1e-4));
        // Cosine: 1e-3 → 1e-4 over 100 updates: the midpoint halfway, then 1e-4.
        assert!(close(at(LrSchedule::Cosine, 0, 0), 1e-3));
        assert!(close(at(LrSchedule::Cosine, 0, 50), 5.5e-4));
        assert!(close(at(LrSchedule::Cosine, 0, 100), 1e-4));
        assert!(close(at(LrSchedule::Cosine, 0, 5_000), 1e-4));
        // A warm-up of 10 updates: 1e-4 (the floor), 2e-4 … 1e-3, then the schedule from 0.
        assert!(close(at(LrSchedule::Step, 10, 0), 1e-4));
        assert!(close(at(LrSchedule::Step, 10, 4), 5e-4));
        assert!(close(at(LrSchedule::Step, 10, 9), 1e-3));
        assert!(close(at(LrSchedule::Step, 10, 10), 1e-3));
        assert!(close(at(LrSchedule::Step, 10, 110), 5e-4));
        assert!(close(at(LrSchedule::Cosine, 10, 60), 5.5e-4));
        // Settings that would not shrink the rate, or fall below zero or above lr, are refused.
        for (bad, key) in [
            (
                DqnConfig {
                    lr_min: 2e-3,
                    ..base.clone()
                },
                "lr_min",
            ),
            (
                DqnConfig {
                    lr_decay: 1.5,
                    ..base.clone()
                },
                "lr_decay",
            ),
            (
                DqnConfig {
                    lr_decay: 0.0,
                    ..base.clone()
                },
                "lr_decay",
            ),
            (
                DqnConfig {
                    lr_decay_updates: 0,
                    ..base.clone()
                },
                "lr_decay_updates",
            ),
        ] {
            let errs = bad.validate().unwrap_err();
            assert!(errs.iter().any(|(k, _)| k == key), "{key}: {errs:?}");
        }
        // The schedule's name in a scenario file.
        let c: DqnConfig = serde_json::from_str(r#"{"lr_schedule": "cosine"}"#).unwrap();
        assert_eq!(c.lr_schedule, LrSchedule::Cosine);
        assert!(serde_json::from_str::<DqnConfig>(r#"{"lr_schedule": "linear"}"#).is_err());
    }

    #[test]
    fn schedules() {
        let c = DqnConfig {
            eps_start: 1.0,
            eps_end: 0.1,
            eps_decay_steps: 100,
            ..DqnConfig::default()
        };
        assert!((c.epsilon_at(0) - 1.0).abs() < 1e-12);
        assert!((c.epsilon_at(50) - 0.55).abs() < 1e-12);
        assert!((c.epsilon_at(1000) - 0.1).abs() < 1e-12);
    }
}
