//! Experience replay: a flat ring buffer of n-step transitions (no per-transition tensors),
//! uniform or proportional prioritized sampling (sum tree + min tree), optional action tags
//! that let sampling skip transitions whose action has since changed meaning, and its image
//! for checkpoints ([`ReplayBuffer::write_image`], [`ReplayBuffer::restore_image`]).

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::nstep::NStepTransition;

/// Additive bias put on the Q-value of an unavailable action (masked max/argmax).
pub const MASK_NEG: f32 = -1.0e9;
/// ε of the priorities: p = (|δ| + ε)^α.
pub const PRIORITY_EPS: f64 = 1e-6;
/// Largest value a compact (one-byte) state entry keeps; see [`ReplayBuffer::with_compact_tail`].
pub const COMPACT_MAX: f32 = 2.0;
const COMPACT_LEVELS: f32 = 255.0;
/// The action tag of a transition whose action's meaning is unknown (restored from an image
/// without tags): it is never skipped. [`occupant_tag`] never returns it.
pub const UNKNOWN_TAG: u32 = u32::MAX;
/// Draws per row before sampling settles for a transition whose action changed meaning.
pub const MAX_REDRAWS: usize = 32;

/// The tag of an action's occupant, from its identity's 64 bits (for a stream slot, its
/// streamer's public `joined_at`): equal identities give equal tags, and a new occupant gives,
/// but for a 2⁻³² chance, a new one. Never [`UNKNOWN_TAG`].
pub fn occupant_tag(identity: u64) -> u32 {
    ((identity.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as u32).min(UNKNOWN_TAG - 1)
}

#[inline]
fn compact(x: f32) -> u8 {
    (x.clamp(0.0, COMPACT_MAX) * (COMPACT_LEVELS / COMPACT_MAX)).round() as u8
}

#[inline]
fn expand(q: u8) -> f32 {
    q as f32 * (COMPACT_MAX / COMPACT_LEVELS)
}

/// Pack a boolean mask into bytes (bit i of byte i/8 = mask[i]).
pub fn pack_mask(mask: &[bool], out: &mut [u8]) {
    out.fill(0);
    for (i, &m) in mask.iter().enumerate() {
        if m {
            out[i / 8] |= 1 << (i % 8);
        }
    }
}

/// Whether bit `i` of a packed mask is set.
#[inline]
pub fn mask_bit(packed: &[u8], i: usize) -> bool {
    packed[i / 8] & (1 << (i % 8)) != 0
}

/// Sum tree with a companion min tree over `capacity` leaves (priorities, f64).
#[derive(Debug, Clone)]
pub struct SumTree {
    cap: usize,
    size: usize, // number of leaves (power of two >= cap)
    sum: Vec<f64>,
    min: Vec<f64>,
}

impl SumTree {
    /// A tree with all priorities 0.
    pub fn new(capacity: usize) -> Self {
        let size = capacity.max(1).next_power_of_two();
        Self {
            cap: capacity,
            size,
            sum: vec![0.0; 2 * size],
            min: vec![f64::INFINITY; 2 * size],
        }
    }

    /// Number of leaves.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Set leaf `i` to priority `p` (>= 0).
    pub fn set(&mut self, i: usize, p: f64) {
        debug_assert!(i < self.cap);
        let mut n = i + self.size;
        self.sum[n] = p;
        self.min[n] = p;
        n /= 2;
        while n >= 1 {
            self.sum[n] = self.sum[2 * n] + self.sum[2 * n + 1];
            self.min[n] = self.min[2 * n].min(self.min[2 * n + 1]);
            n /= 2;
        }
    }

    /// Priority of leaf `i`.
    pub fn get(&self, i: usize) -> f64 {
        self.sum[i + self.size]
    }

    /// Sum of all priorities.
    pub fn total(&self) -> f64 {
        self.sum[1]
    }

    /// Smallest priority among the leaves that were set.
    pub fn min(&self) -> f64 {
        self.min[1]
    }

    /// The leaf whose cumulative range contains `prefix` (0 <= prefix < total).
    pub fn find(&self, mut prefix: f64) -> usize {
        let mut n = 1;
        while n < self.size {
            let left = self.sum[2 * n];
            if prefix < left || self.sum[2 * n + 1] <= 0.0 {
                n *= 2;
            } else {
                prefix -= left;
                n = 2 * n + 1;
            }
        }
        (n - self.size).min(self.cap.saturating_sub(1))
    }

    /// Zero every leaf.
    pub fn clear(&mut self) {
        self.sum.fill(0.0);
        self.min.fill(f64::INFINITY);
    }
}

/// One sampled minibatch, in flat row-major buffers ready for one `TensorData` each.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Rows.
    pub size: usize,
    /// `size * input_dim` states.
    pub states: Vec<f32>,
    /// `size * input_dim` next states (after n steps).
    pub next_states: Vec<f32>,
    /// `size * num_actions`: 0 for a valid next action, [`MASK_NEG`] for an invalid one.
    pub next_mask_bias: Vec<f32>,
    /// Actions taken.
    pub actions: Vec<i64>,
    /// n-step discounted rewards.
    pub rewards: Vec<f32>,
    /// The reward of the first step alone (the immediate reward of the action taken), the
    /// target of the network's reward head.
    pub immediate: Vec<f32>,
    /// Discount to apply to the bootstrap value (γ^k, 0 when terminal or no valid next action).
    pub discounts: Vec<f32>,
    /// Importance-sampling weights (1 for uniform replay).
    pub weights: Vec<f32>,
    /// Buffer slots of the rows (for priority updates).
    pub indices: Vec<usize>,
    /// Entries of each row's next slate (0: the bootstrap value is the greedy one).
    pub slate: usize,
    /// `size * slate` (action, weight) pairs: the bootstrap value is `Σ weight · Q_target(s',
    /// action)` over a row's entries (unused entries have weight 0 and action 0).
    pub next_slate: Vec<(u32, f32)>,
    /// Dropout: per hidden layer, `size * width` multipliers of its outputs in the update's
    /// forward pass (0 for a dropped unit, 1/(1 − p) for a kept one); empty: none.
    pub dropout: Vec<Vec<f32>>,
}

/// What a checkpoint records about the replay image that follows its parameters: the
/// transitions, oldest first, as fixed-size records (state and next state — the dense part
/// as f32, the compact tail as bytes —, the next mask's bits, the action as u32, the n-step
/// reward, the immediate reward and the discount as f32, then the priority as f64 when
/// `priorities`), all little-endian.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayImage {
    /// Transitions in the image.
    pub transitions: u64,
    /// Entries of a state.
    pub input_dim: u64,
    /// Entries of a state stored as f32 (the rest as one byte each).
    pub dense: u64,
    /// Actions (bits of a next mask).
    pub num_actions: u64,
    /// Whether each record ends with its priority.
    pub priorities: bool,
    /// The largest priority seen (new transitions enter with it).
    pub max_priority: f64,
    /// Next-slate (action u32, weight f32) pairs per record, before the priority.
    #[serde(default)]
    pub slate: u64,
    /// Whether each record holds its action's tag (u32, after the next slate).
    #[serde(default)]
    pub tags: bool,
}

impl ReplayImage {
    /// Bytes of one record.
    pub fn record_bytes(&self) -> u64 {
        let (d, t) = (self.dense, self.input_dim.saturating_sub(self.dense));
        2 * (4 * d + t)
            + self.num_actions.div_ceil(8)
            + 4
            + 3 * 4
            + 8 * self.slate
            + 4 * self.tags as u64
            + 8 * self.priorities as u64
    }

    /// Bytes of the whole image (saturating: a corrupt header cannot overflow).
    pub fn bytes(&self) -> u64 {
        self.record_bytes().saturating_mul(self.transitions)
    }
}

/// Ring buffer of transitions with optional proportional prioritization.
#[derive(Debug, Clone)]
pub struct ReplayBuffer {
    input_dim: usize,
    /// Entries of each state stored as f32 (the rest, the tail, as one byte each).
    dense: usize,
    states_tail: Vec<u8>,
    next_tail: Vec<u8>,
    num_actions: usize,
    mask_bytes: usize,
    capacity: usize,
    len: usize,
    pos: usize,
    states: Vec<f32>,
    next_states: Vec<f32>,
    next_masks: Vec<u8>,
    actions: Vec<u32>,
    rewards: Vec<f32>,
    immediate: Vec<f32>,
    discounts: Vec<f32>,
    tree: Option<SumTree>,
    alpha: f64,
    max_priority: f64,
    /// Entries of a stored next slate per transition (0: none stored).
    slate: usize,
    next_slate: Vec<(u32, f32)>,
    /// Each transition's action tag ([`occupant_tag`] of its action when taken), when kept.
    tags: Option<Vec<u32>>,
}

impl ReplayBuffer {
    /// An empty buffer; `prioritized` enables the sum tree with exponent `alpha`.
    pub fn new(
        input_dim: usize,
        num_actions: usize,
        capacity: usize,
        prioritized: bool,
        alpha: f64,
    ) -> Self {
        let mask_bytes = num_actions.div_ceil(8);
        Self {
            input_dim,
            dense: input_dim,
            states_tail: Vec::new(),
            next_tail: Vec::new(),
            num_actions,
            mask_bytes,
            capacity,
            len: 0,
            pos: 0,
            // Grow lazily: a 10M-capacity buffer should not allocate up front.
            states: Vec::new(),
            next_states: Vec::new(),
            next_masks: Vec::new(),
            actions: Vec::new(),
            rewards: Vec::new(),
            immediate: Vec::new(),
            discounts: Vec::new(),
            tree: prioritized.then(|| SumTree::new(capacity)),
            alpha,
            max_priority: 1.0,
            slate: 0,
            next_slate: Vec::new(),
            tags: None,
        }
    }

    /// The same (empty) buffer keeping each transition's action tag (see [`occupant_tag`]),
    /// so that [`ReplayBuffer::sample_fresh_into`] can skip transitions whose action stands
    /// for something else now (a new streamer in the slot).
    pub fn with_action_tags(mut self) -> Self {
        assert!(self.is_empty());
        self.tags = Some(Vec::new());
        self
    }

    /// The same (empty) buffer storing, with each transition, the next slate's `width`
    /// (action, weight) pairs that its bootstrap value averages Q over (SlateQ targets).
    pub fn with_next_slates(mut self, width: usize) -> Self {
        assert!(self.is_empty());
        self.slate = width;
        self
    }

    /// Entries of the next slate stored per transition (0: none).
    pub fn slate_width(&self) -> usize {
        self.slate
    }

    /// The same (empty) buffer storing the last `tail` entries of each state in one byte
    /// each: values in [0, [`COMPACT_MAX`]] to within 1/127.5 (anything outside is clamped).
    /// For per-action features, which are most of a state's length but need no more
    /// precision: a quarter of the memory.
    pub fn with_compact_tail(mut self, tail: usize) -> Self {
        assert!(self.is_empty() && tail <= self.input_dim);
        self.dense = self.input_dim - tail;
        self
    }

    /// Bytes one stored transition takes: the state and next state (`dense` entries as f32,
    /// the other `tail` entries as one byte), the next mask's bits, the action and three
    /// scalars, its next slate's `slate` (action, weight) pairs, its action tag when `tags`,
    /// and its share of the priority trees when `prioritized`.
    pub fn bytes_per_transition(
        dense: usize,
        tail: usize,
        num_actions: usize,
        slate: usize,
        tags: bool,
        capacity: usize,
        prioritized: bool,
    ) -> u64 {
        let states = 2 * (4 * dense as u64 + tail as u64);
        let trees = if prioritized {
            // Sum and min trees: 2·leaves nodes each, f64.
            let leaves = capacity.max(1).next_power_of_two() as u64;
            32 * leaves / capacity.max(1) as u64
        } else {
            0
        };
        states
            + num_actions.div_ceil(8) as u64
            + 4
            + 3 * 4
            + 8 * slate as u64
            + 4 * tags as u64
            + trees
    }

    /// Stored transitions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No transitions stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Capacity in transitions.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether prioritized sampling is on.
    pub fn is_prioritized(&self) -> bool {
        self.tree.is_some()
    }

    /// Forget every transition.
    pub fn clear(&mut self) {
        self.len = 0;
        self.pos = 0;
        self.states.clear();
        self.next_states.clear();
        self.states_tail.clear();
        self.next_tail.clear();
        self.next_masks.clear();
        self.actions.clear();
        self.rewards.clear();
        self.immediate.clear();
        self.discounts.clear();
        self.next_slate.clear();
        if let Some(tags) = &mut self.tags {
            tags.clear();
        }
        if let Some(t) = &mut self.tree {
            t.clear();
        }
        self.max_priority = 1.0;
    }

    /// Store one (n-step) transition: `reward` is its n-step return, `immediate` the reward
    /// of its first step. A next state without any valid action is terminal: its discount is
    /// stored as 0.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        state: &[f32],
        action: usize,
        reward: f32,
        immediate: f32,
        discount: f32,
        next_state: &[f32],
        next_mask: &[bool],
    ) {
        self.push_transition(&NStepTransition {
            state,
            action,
            tag: UNKNOWN_TAG,
            reward,
            immediate,
            discount,
            next_state,
            next_mask,
            next_slate: &[],
        });
    }

    /// Store a transition completed by the n-step accumulator: with its next slate's (action,
    /// weight) pairs when the buffer keeps next slates (at most its width; missing entries
    /// weigh 0), and its action tag when the buffer keeps tags.
    pub fn push_transition(&mut self, t: &NStepTransition<'_>) {
        let &NStepTransition {
            state,
            action,
            tag,
            reward,
            immediate,
            discount,
            next_state,
            next_mask,
            next_slate,
        } = t;
        debug_assert_eq!(state.len(), self.input_dim);
        debug_assert_eq!(next_state.len(), self.input_dim);
        debug_assert_eq!(next_mask.len(), self.num_actions);
        let discount = if next_mask.iter().any(|&m| m) {
            discount
        } else {
            0.0
        };
        let (d, t) = (self.dense, self.input_dim - self.dense);
        let mb = self.mask_bytes;
        let i = self.pos;
        if i == self.actions.len() {
            // Still growing.
            self.states.extend_from_slice(&state[..d]);
            self.next_states.extend_from_slice(&next_state[..d]);
            self.states_tail
                .extend(state[d..].iter().map(|&x| compact(x)));
            self.next_tail
                .extend(next_state[d..].iter().map(|&x| compact(x)));
            let start = self.next_masks.len();
            self.next_masks.resize(start + mb, 0);
            pack_mask(next_mask, &mut self.next_masks[start..]);
            self.actions.push(action as u32);
            self.rewards.push(reward);
            self.immediate.push(immediate);
            self.discounts.push(discount);
            self.next_slate
                .resize(self.next_slate.len() + self.slate, (0, 0.0));
            if let Some(tags) = &mut self.tags {
                tags.push(tag);
            }
        } else {
            self.states[i * d..(i + 1) * d].copy_from_slice(&state[..d]);
            self.next_states[i * d..(i + 1) * d].copy_from_slice(&next_state[..d]);
            for (q, &x) in self.states_tail[i * t..(i + 1) * t]
                .iter_mut()
                .zip(&state[d..])
            {
                *q = compact(x);
            }
            let next_tail = &mut self.next_tail[i * t..(i + 1) * t];
            for (q, &x) in next_tail.iter_mut().zip(&next_state[d..]) {
                *q = compact(x);
            }
            pack_mask(next_mask, &mut self.next_masks[i * mb..(i + 1) * mb]);
            self.actions[i] = action as u32;
            self.rewards[i] = reward;
            self.immediate[i] = immediate;
            self.discounts[i] = discount;
            if let Some(tags) = &mut self.tags {
                tags[i] = tag;
            }
        }
        if self.slate > 0 {
            let row = &mut self.next_slate[i * self.slate..(i + 1) * self.slate];
            row.fill((0, 0.0));
            for (e, &(a, w)) in row.iter_mut().zip(next_slate) {
                if (a as usize) < self.num_actions && w.is_finite() {
                    *e = (a, w);
                }
            }
        }
        if let Some(t) = &mut self.tree {
            t.set(i, self.max_priority);
        }
        self.pos = (self.pos + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }

    /// P(i) of prioritized sampling (uniform: 1/len).
    pub fn probability(&self, i: usize) -> f64 {
        match &self.tree {
            Some(t) if t.total() > 0.0 => t.get(i) / t.total(),
            _ => 1.0 / self.len.max(1) as f64,
        }
    }

    /// Importance weight of slot `i`: (N·P(i))^-β / max_j (N·P(j))^-β.
    pub fn importance_weight(&self, i: usize, beta: f64) -> f64 {
        match &self.tree {
            Some(t) if t.total() > 0.0 => {
                let n = self.len as f64;
                let w = (n * t.get(i) / t.total()).powf(-beta);
                let w_max = (n * t.min() / t.total()).powf(-beta);
                w / w_max
            }
            _ => 1.0,
        }
    }

    /// Sample `batch_size` rows into `out` (reusing its allocations). Prioritized replay uses
    /// stratified proportional sampling and importance weights with exponent `beta`.
    pub fn sample_into<R: rand::Rng>(
        &self,
        batch_size: usize,
        beta: f64,
        rng: &mut R,
        out: &mut Batch,
    ) {
        self.sample_rows(batch_size, beta, rng, out, None);
    }

    /// [`ReplayBuffer::sample_into`] that skips stale transitions: a row whose stored action
    /// tag differs from `current[action]` (the action stands for something else now) is drawn
    /// again — from the same stratum when prioritized —, up to [`MAX_REDRAWS`] times, after
    /// which the last draw stays (bounded time when nearly everything is stale). The first
    /// draw of each row is [`ReplayBuffer::sample_into`]'s, so nothing moves while no tag
    /// changes. Without kept tags this is `sample_into` (and `current` may be empty).
    pub fn sample_fresh_into<R: rand::Rng>(
        &self,
        batch_size: usize,
        beta: f64,
        rng: &mut R,
        out: &mut Batch,
        current: &[u32],
    ) {
        debug_assert!(self.tags.is_none() || current.len() == self.num_actions);
        self.sample_rows(batch_size, beta, rng, out, Some(current));
    }

    /// Whether slot `i` holds a transition whose action still means what it meant.
    #[inline]
    fn fresh(&self, i: usize, current: Option<&[u32]>) -> bool {
        match (&self.tags, current) {
            (Some(tags), Some(cur)) => {
                tags[i] == UNKNOWN_TAG || tags[i] == cur[self.actions[i] as usize]
            }
            _ => true,
        }
    }

    fn sample_rows<R: rand::Rng>(
        &self,
        batch_size: usize,
        beta: f64,
        rng: &mut R,
        out: &mut Batch,
        current: Option<&[u32]>,
    ) {
        assert!(self.len > 0, "sample from an empty replay buffer");
        let (d, t) = (self.dense, self.input_dim - self.dense);
        let a = self.num_actions;
        let mb = self.mask_bytes;
        out.size = batch_size;
        out.indices.clear();
        out.weights.clear();
        match &self.tree {
            Some(t) if t.total() > 0.0 => {
                let total = t.total();
                let seg = total / batch_size as f64;
                let n = self.len as f64;
                let w_max = (n * t.min() / total).powf(-beta);
                for k in 0..batch_size {
                    let mut i = 0;
                    for _ in 0..MAX_REDRAWS {
                        let u: f64 = rng.random::<f64>();
                        let prefix = ((k as f64 + u) * seg).min(total * (1.0 - 1e-12));
                        i = t.find(prefix);
                        if i >= self.len || t.get(i) <= 0.0 {
                            i = rng.random_range(0..self.len);
                        }
                        if self.fresh(i, current) {
                            break;
                        }
                    }
                    let w = (n * t.get(i) / total).powf(-beta) / w_max;
                    out.indices.push(i);
                    out.weights.push(w as f32);
                }
            }
            _ => {
                for _ in 0..batch_size {
                    let mut i = 0;
                    for _ in 0..MAX_REDRAWS {
                        i = rng.random_range(0..self.len);
                        if self.fresh(i, current) {
                            break;
                        }
                    }
                    out.indices.push(i);
                    out.weights.push(1.0);
                }
            }
        }
        out.states.clear();
        out.next_states.clear();
        out.actions.clear();
        out.rewards.clear();
        out.immediate.clear();
        out.discounts.clear();
        out.next_mask_bias.clear();
        out.next_mask_bias.resize(batch_size * a, 0.0);
        out.slate = self.slate;
        out.next_slate.clear();
        for (row, &i) in out.indices.iter().enumerate() {
            out.next_slate
                .extend_from_slice(&self.next_slate[i * self.slate..(i + 1) * self.slate]);
            out.states
                .extend_from_slice(&self.states[i * d..(i + 1) * d]);
            out.states.extend(
                self.states_tail[i * t..(i + 1) * t]
                    .iter()
                    .map(|&q| expand(q)),
            );
            out.next_states
                .extend_from_slice(&self.next_states[i * d..(i + 1) * d]);
            out.next_states.extend(
                self.next_tail[i * t..(i + 1) * t]
                    .iter()
                    .map(|&q| expand(q)),
            );
            out.actions.push(self.actions[i] as i64);
            out.rewards.push(self.rewards[i]);
            out.immediate.push(self.immediate[i]);
            out.discounts.push(self.discounts[i]);
            let packed = &self.next_masks[i * mb..(i + 1) * mb];
            let bias = &mut out.next_mask_bias[row * a..(row + 1) * a];
            for (j, b) in bias.iter_mut().enumerate() {
                if !mask_bit(packed, j) {
                    *b = MASK_NEG;
                }
            }
        }
    }

    /// Set the priorities of `indices` from TD errors: p = (|δ| + ε)^α.
    pub fn update_priorities(&mut self, indices: &[usize], td_abs: &[f32]) {
        let Some(t) = &mut self.tree else { return };
        for (&i, &d) in indices.iter().zip(td_abs) {
            let d = if d.is_finite() { d as f64 } else { 0.0 };
            let p = (d.abs() + PRIORITY_EPS).powf(self.alpha);
            t.set(i, p);
            if p > self.max_priority {
                self.max_priority = p;
            }
        }
    }

    /// Change α (new priorities only).
    pub fn set_alpha(&mut self, alpha: f64) {
        self.alpha = alpha;
    }

    /// The slots in the order their transitions were stored, oldest first.
    fn chronological(&self) -> impl Iterator<Item = usize> + '_ {
        let start = if self.len < self.capacity {
            0
        } else {
            self.pos
        };
        (0..self.len).map(move |k| (start + k) % self.capacity)
    }

    /// The description of this buffer's image (see [`ReplayImage`]).
    pub fn image(&self) -> ReplayImage {
        ReplayImage {
            transitions: self.len as u64,
            input_dim: self.input_dim as u64,
            dense: self.dense as u64,
            num_actions: self.num_actions as u64,
            priorities: self.tree.is_some(),
            max_priority: self.max_priority,
            slate: self.slate as u64,
            tags: self.tags.is_some(),
        }
    }

    /// Append this buffer's image (every stored transition, oldest first) to `out`.
    pub fn write_image(&self, out: &mut Vec<u8>) {
        let (d, t, mb) = (self.dense, self.input_dim - self.dense, self.mask_bytes);
        out.reserve(self.image().bytes() as usize);
        for i in self.chronological() {
            for x in &self.states[i * d..(i + 1) * d] {
                out.extend_from_slice(&x.to_le_bytes());
            }
            out.extend_from_slice(&self.states_tail[i * t..(i + 1) * t]);
            for x in &self.next_states[i * d..(i + 1) * d] {
                out.extend_from_slice(&x.to_le_bytes());
            }
            out.extend_from_slice(&self.next_tail[i * t..(i + 1) * t]);
            out.extend_from_slice(&self.next_masks[i * mb..(i + 1) * mb]);
            out.extend_from_slice(&self.actions[i].to_le_bytes());
            for x in [self.rewards[i], self.immediate[i], self.discounts[i]] {
                out.extend_from_slice(&x.to_le_bytes());
            }
            for &(a, w) in &self.next_slate[i * self.slate..(i + 1) * self.slate] {
                out.extend_from_slice(&a.to_le_bytes());
                out.extend_from_slice(&w.to_le_bytes());
            }
            if let Some(tags) = &self.tags {
                out.extend_from_slice(&tags[i].to_le_bytes());
            }
            if let Some(tree) = &self.tree {
                out.extend_from_slice(&tree.get(i).to_le_bytes());
            }
        }
    }

    /// Replace the contents with an image written by [`ReplayBuffer::write_image`] for the
    /// same state layout. A buffer smaller than the image keeps its newest transitions; saved
    /// priorities are used when this buffer is prioritized (new ones enter at the largest
    /// priority otherwise); saved action tags when this buffer keeps tags (an image without
    /// them gives [`UNKNOWN_TAG`]s). An Err says, as a sentence, why the image does not fit.
    pub fn restore_image(&mut self, image: &ReplayImage, bytes: &[u8]) -> Result<(), String> {
        let want = (self.input_dim, self.dense, self.num_actions, self.slate);
        let got = (
            image.input_dim as usize,
            image.dense as usize,
            image.num_actions as usize,
            image.slate as usize,
        );
        if want != got {
            return Err(format!(
                "its replay buffer holds states of {} entries ({} dense) over {} actions with \
                 next slates of {}, this learner's hold {} ({}) over {} with {}",
                got.0, got.1, got.2, got.3, want.0, want.1, want.2, want.3
            ));
        }
        if bytes.len() as u64 != image.bytes() {
            return Err(format!(
                "its replay section has {} bytes where {} transitions need {}",
                bytes.len(),
                image.transitions,
                image.bytes()
            ));
        }
        let skip = (image.transitions as usize).saturating_sub(self.capacity);
        if !(image.max_priority.is_finite() && image.max_priority > 0.0) {
            return Err(format!(
                "its replay buffer's largest priority is {}",
                image.max_priority
            ));
        }
        self.clear();
        let filled = self.fill_from_image(image, bytes, skip);
        if filled.is_err() {
            self.clear();
        }
        filled
    }

    /// The records of `bytes` after the first `skip`, appended to a cleared buffer.
    fn fill_from_image(
        &mut self,
        image: &ReplayImage,
        bytes: &[u8],
        skip: usize,
    ) -> Result<(), String> {
        let (d, t, mb) = (self.dense, self.input_dim - self.dense, self.mask_bytes);
        let record = image.record_bytes() as usize;
        let f32s = |b: &[u8]| -> Vec<f32> {
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect()
        };
        let mut max_priority: f64 = 1.0;
        for (k, r) in bytes.chunks_exact(record).enumerate().skip(skip) {
            let (state, r) = r.split_at(4 * d);
            let (state_tail, r) = r.split_at(t);
            let (next, r) = r.split_at(4 * d);
            let (next_tail, r) = r.split_at(t);
            let (mask, r) = r.split_at(mb);
            let (action, r) = r.split_at(4);
            let (scalars, r) = r.split_at(12);
            let (slate, r) = r.split_at(8 * self.slate);
            let (tag, r) = r.split_at(4 * image.tags as usize);
            let action = u32::from_le_bytes(action.try_into().expect("4 bytes"));
            let scalars = f32s(scalars);
            let (state, next) = (f32s(state), f32s(next));
            if action as usize >= self.num_actions
                || !scalars
                    .iter()
                    .chain(&state)
                    .chain(&next)
                    .all(|x| x.is_finite())
            {
                return Err(format!(
                    "its replay transition {k} holds an action out of range or a \
                     non-finite value"
                ));
            }
            // A cleared buffer fills in order: slot i is the next one grown.
            let i = self.pos;
            self.states.extend_from_slice(&state);
            self.next_states.extend_from_slice(&next);
            self.states_tail.extend_from_slice(state_tail);
            self.next_tail.extend_from_slice(next_tail);
            self.next_masks.extend_from_slice(mask);
            self.actions.push(action);
            self.rewards.push(scalars[0]);
            self.immediate.push(scalars[1]);
            self.discounts.push(scalars[2]);
            for e in slate.chunks_exact(8) {
                let a = u32::from_le_bytes(e[..4].try_into().expect("4 bytes"));
                let w = f32::from_le_bytes(e[4..].try_into().expect("4 bytes"));
                if a as usize >= self.num_actions || !w.is_finite() {
                    return Err(format!(
                        "its replay transition {k} has a next-slate entry out of range"
                    ));
                }
                self.next_slate.push((a, w));
            }
            if let Some(tags) = &mut self.tags {
                tags.push(match tag.try_into() {
                    Ok(b) => u32::from_le_bytes(b),
                    Err(_) => UNKNOWN_TAG,
                });
            }
            if let Some(tree) = &mut self.tree {
                let p = if image.priorities {
                    f64::from_le_bytes(r.try_into().expect("8 bytes"))
                } else {
                    image.max_priority
                };
                if !(p.is_finite() && p >= 0.0) {
                    return Err(format!("its replay transition {k} has priority {p}"));
                }
                tree.set(i, p);
                max_priority = max_priority.max(p);
            }
            self.pos = (self.pos + 1) % self.capacity;
            self.len += 1;
        }
        if self.tree.is_some() {
            self.max_priority = max_priority.max(image.max_priority);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn sum_tree_probabilities_and_weights_by_hand() {
        let mut rb = ReplayBuffer::new(1, 2, 4, true, 1.0);
        for i in 0..4 {
            rb.push(&[i as f32], 0, 0.0, 0.0, 0.9, &[0.0], &[true, false]);
        }
        // α = 1: p = |δ| + 1e-6. Priorities 1, 2, 3, 4 (total 10).
        rb.update_priorities(&[0, 1, 2, 3], &[1.0, 2.0, 3.0, 4.0]);
        let p: Vec<f64> = (0..4).map(|i| rb.probability(i)).collect();
        for (i, want) in [0.1, 0.2, 0.3, 0.4].iter().enumerate() {
            assert!((p[i] - want).abs() < 1e-6, "{p:?}");
        }
        // β = 0.5: w_i = (4 P_i)^-0.5 / (4 * 0.1)^-0.5 = sqrt(0.1 / P_i).
        for (i, pi) in [0.1f64, 0.2, 0.3, 0.4].iter().enumerate() {
            let want = (0.1 / pi).sqrt();
            assert!((rb.importance_weight(i, 0.5) - want).abs() < 1e-6);
        }
        // The tree's prefix search.
        let t = rb.tree.as_ref().unwrap();
        assert_eq!(t.find(0.5), 0);
        assert_eq!(t.find(1.5), 1);
        assert_eq!(t.find(3.5), 2);
        assert_eq!(t.find(9.9), 3);
        // Empirical frequencies and the weights of a sampled batch.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut counts = [0usize; 4];
        let mut b = Batch::default();
        for _ in 0..2000 {
            rb.sample_into(10, 0.5, &mut rng, &mut b);
            for (k, &i) in b.indices.iter().enumerate() {
                counts[i] += 1;
                let want = (0.1 / p[i]).sqrt() as f32;
                assert!((b.weights[k] - want).abs() < 1e-5);
            }
        }
        for (i, &c) in counts.iter().enumerate() {
            let f = c as f64 / 20_000.0;
            assert!((f - p[i]).abs() < 0.01, "slot {i}: {f} vs {}", p[i]);
        }
        // α = 0.5 on a fresh buffer: p = sqrt(|δ|).
        let mut rb = ReplayBuffer::new(1, 2, 2, true, 0.5);
        rb.push(&[0.0], 0, 0.0, 0.0, 0.9, &[0.0], &[true, true]);
        rb.push(&[0.0], 0, 0.0, 0.0, 0.9, &[0.0], &[true, true]);
        rb.update_priorities(&[0, 1], &[1.0, 9.0]);
        assert!((rb.probability(0) - 0.25).abs() < 1e-6);
        assert!((rb.probability(1) - 0.75).abs() < 1e-6);
    }

    /// A compact tail keeps the dense part exactly and the tail to within half a level,
    /// clamping what lies outside [0, 2].
    #[test]
    fn compact_tail_round_trips_within_a_level() {
        let mut rb = ReplayBuffer::new(5, 2, 4, false, 0.6).with_compact_tail(3);
        let s = [-3.25, 0.123_456, 0.0, 1.337, 7.0];
        let n = [0.5, 9.75, 2.0, 0.001, -1.0];
        rb.push(&s, 1, 0.5, 0.25, 0.9, &n, &[true, true]);
        let mut b = Batch::default();
        rb.sample_into(1, 1.0, &mut Xoshiro256PlusPlus::seed_from_u64(1), &mut b);
        assert_eq!((b.rewards[0], b.immediate[0]), (0.5, 0.25));
        assert_eq!(&b.states[..2], &s[..2]);
        assert_eq!(&b.next_states[..2], &n[..2]);
        let half_level = COMPACT_MAX / COMPACT_LEVELS / 2.0 + 1e-6;
        for (got, want) in [(b.states[2], 0.0), (b.states[3], 1.337), (b.states[4], 2.0)] {
            assert!((got - want).abs() <= half_level, "{got} vs {want}");
        }
        for (got, want) in [(b.next_states[2], 2.0), (b.next_states[3], 0.001)] {
            assert!((got - want).abs() <= half_level, "{got} vs {want}");
        }
        assert_eq!(b.next_states[4], 0.0);
    }

    #[test]
    fn ring_buffer_masks_and_terminal_discount() {
        let mut rb = ReplayBuffer::new(2, 10, 3, false, 0.6);
        let mut mask = [false; 10];
        mask[9] = true;
        mask[3] = true;
        rb.push(&[1.0, 1.0], 3, 1.0, 1.0, 0.9, &[2.0, 2.0], &mask);
        rb.push(&[1.0, 1.0], 3, 1.0, 1.0, 0.9, &[2.0, 2.0], &[false; 10]);
        assert_eq!(rb.len(), 2);
        for k in 0..5 {
            rb.push(&[k as f32, 0.0], 9, 1.0, 1.0, 0.9, &[2.0, 2.0], &mask);
        }
        assert_eq!(rb.len(), 3);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut b = Batch::default();
        rb.sample_into(16, 1.0, &mut rng, &mut b);
        for row in 0..16 {
            assert!(b.states[row * 2] >= 2.0); // only the last three pushes remain
            for j in 0..10 {
                let want = if j == 3 || j == 9 { 0.0 } else { MASK_NEG };
                assert_eq!(b.next_mask_bias[row * 10 + j], want);
            }
        }
        // A next state without a valid action is terminal.
        let mut rb = ReplayBuffer::new(1, 2, 2, false, 0.6);
        rb.push(&[0.0], 0, 1.0, 1.0, 0.9, &[0.0], &[false, false]);
        rb.sample_into(1, 1.0, &mut rng, &mut b);
        assert_eq!(b.discounts[0], 0.0);
    }

    fn filled(capacity: usize, pushes: usize, prioritized: bool) -> ReplayBuffer {
        let mut rb = ReplayBuffer::new(4, 11, capacity, prioritized, 0.6).with_compact_tail(2);
        for k in 0..pushes {
            let x = k as f32;
            let mut mask = [false; 11];
            mask[k % 11] = true;
            mask[(k * 7) % 11] = k % 5 != 0;
            rb.push(
                &[x, -x, 0.01 * x, 1.5],
                k % 11,
                x * 0.5,
                x * 0.25,
                0.9,
                &[x + 1.0, 2.0, 0.3, 0.0],
                &mask,
            );
        }
        if prioritized {
            let idx: Vec<usize> = (0..rb.len()).collect();
            let td: Vec<f32> = idx.iter().map(|&i| 0.1 + i as f32).collect();
            rb.update_priorities(&idx, &td);
        }
        rb
    }

    /// Every stored transition as one comparable row, oldest first.
    fn rows(rb: &ReplayBuffer) -> Vec<String> {
        let mut bytes = Vec::new();
        rb.write_image(&mut bytes);
        let n = rb.image().record_bytes() as usize;
        bytes.chunks_exact(n).map(|r| format!("{r:?}")).collect()
    }

    /// A buffer written to an image and restored holds the same transitions in the same
    /// order (the ring's wrap included), with their priorities; a smaller buffer keeps the
    /// newest; another state layout or a short image is refused and leaves the buffer empty.
    #[test]
    fn replay_image_round_trips() {
        for prioritized in [false, true] {
            for pushes in [0, 5, 13, 29] {
                let rb = filled(13, pushes, prioritized);
                let mut bytes = Vec::new();
                rb.write_image(&mut bytes);
                let image = rb.image();
                assert_eq!(bytes.len() as u64, image.bytes());
                let mut back = ReplayBuffer::new(4, 11, 13, prioritized, 0.6).with_compact_tail(2);
                back.restore_image(&image, &bytes).unwrap();
                assert_eq!(rows(&back), rows(&rb), "{pushes} pushes");
                for k in 0..back.len() {
                    let (i, j) = (
                        rb.chronological().nth(k).unwrap(),
                        back.chronological().nth(k).unwrap(),
                    );
                    assert_eq!(back.probability(j), rb.probability(i));
                }
                // Sampling reads the restored rows back.
                if pushes > 0 {
                    let mut b = Batch::default();
                    back.sample_into(8, 0.4, &mut Xoshiro256PlusPlus::seed_from_u64(2), &mut b);
                    assert!(b.actions.iter().all(|&a| (0..11).contains(&a)));
                }
                // A smaller buffer keeps the newest transitions.
                let mut small = ReplayBuffer::new(4, 11, 4, prioritized, 0.6).with_compact_tail(2);
                small.restore_image(&image, &bytes).unwrap();
                let all = rows(&rb);
                assert_eq!(rows(&small), all[all.len().saturating_sub(4)..].to_vec());
                // A uniform image into a prioritized buffer: every transition at the top priority.
                if !prioritized && pushes > 0 {
                    let mut p = ReplayBuffer::new(4, 11, 13, true, 0.6).with_compact_tail(2);
                    p.restore_image(&image, &bytes).unwrap();
                    assert!((p.probability(0) - 1.0 / p.len() as f64).abs() < 1e-12);
                }
            }
        }
        let rb = filled(13, 7, true);
        let mut bytes = Vec::new();
        rb.write_image(&mut bytes);
        let mut other = filled(13, 3, true);
        let mut wide = ReplayBuffer::new(5, 11, 13, true, 0.6);
        let e = wide.restore_image(&rb.image(), &bytes).unwrap_err();
        assert!(e.contains("states of 4 entries"), "{e}");
        let e = other.restore_image(&rb.image(), &bytes[1..]).unwrap_err();
        assert!(e.contains("bytes where 7 transitions need"), "{e}");
        // A record whose action is out of range: refused, the buffer left empty.
        let record = rb.image().record_bytes() as usize;
        let action_at = 2 * (4 * 2 + 2) + 2; // after both states and the mask's two bytes
        bytes[3 * record + action_at] = 200;
        let e = other.restore_image(&rb.image(), &bytes).unwrap_err();
        assert!(e.contains("transition 3"), "{e}");
        assert!(other.is_empty());
    }

    /// A tagged buffer of `n` transitions over 3 actions: transition k takes action k % 3
    /// with tag `10 + k % 3`, its state holds k.
    fn tagged(n: usize, prioritized: bool) -> ReplayBuffer {
        let mut rb = ReplayBuffer::new(1, 3, 64, prioritized, 0.6).with_action_tags();
        for k in 0..n {
            let t = NStepTransition {
                state: &[k as f32],
                action: k % 3,
                tag: 10 + (k % 3) as u32,
                reward: 0.0,
                immediate: 0.0,
                discount: 0.9,
                next_state: &[0.0],
                next_mask: &[true, true, true],
                next_slate: &[],
            };
            rb.push_transition(&t);
        }
        rb
    }

    /// Sampling skips transitions whose action's tag changed, draws exactly as
    /// `sample_into` while none did, and stays bounded when every transition is stale.
    #[test]
    fn stale_actions_are_skipped_and_nothing_moves_while_tags_hold() {
        for prioritized in [false, true] {
            let rb = tagged(40, prioritized);
            let draw = |current: Option<&[u32]>, seed: u64| {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
                let mut b = Batch::default();
                match current {
                    Some(c) => rb.sample_fresh_into(32, 0.4, &mut rng, &mut b, c),
                    None => rb.sample_into(32, 0.4, &mut rng, &mut b),
                }
                (b.indices, b.actions, rng.random::<u64>())
            };
            // Nothing changed: the same rows and the same random stream as `sample_into`.
            assert_eq!(draw(Some(&[10, 11, 12]), 5), draw(None, 5));
            // Action 1 stands for something else now: none of its transitions is drawn.
            let (_, actions, _) = draw(Some(&[10, 99, 12]), 5);
            assert!(actions.iter().all(|&a| a != 1), "{actions:?}");
            assert!(actions.contains(&0) && actions.contains(&2));
            // Every action changed: still a full batch, in bounded draws.
            let (indices, _, _) = draw(Some(&[7, 8, 9]), 5);
            assert_eq!(indices.len(), 32);
        }
        // A buffer without tags ignores `current`.
        let mut plain = ReplayBuffer::new(1, 3, 8, false, 0.6);
        for k in 0..8 {
            plain.push(&[k as f32], 1, 0.0, 0.0, 0.9, &[0.0], &[true; 3]);
        }
        let mut b = Batch::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        plain.sample_fresh_into(8, 1.0, &mut rng, &mut b, &[0, 0, 0]);
        assert!(b.actions.iter().all(|&a| a == 1));
    }

    /// Tags survive a checkpoint image; an image without tags restores as unknown tags,
    /// which are never skipped.
    #[test]
    fn action_tags_round_trip_through_images() {
        let rb = tagged(9, false);
        let mut bytes = Vec::new();
        rb.write_image(&mut bytes);
        assert!(rb.image().tags);
        assert_eq!(bytes.len() as u64, rb.image().bytes());
        let mut back = ReplayBuffer::new(1, 3, 64, false, 0.6).with_action_tags();
        back.restore_image(&rb.image(), &bytes).unwrap();
        assert_eq!(back.tags, rb.tags);
        // Into a buffer without tags: the tags are read past.
        let mut plain = ReplayBuffer::new(1, 3, 64, false, 0.6);
        plain.restore_image(&rb.image(), &bytes).unwrap();
        assert_eq!(plain.len(), 9);
        // From a buffer without tags into one with: unknown, and drawn whatever `current` says.
        let mut image = Vec::new();
        plain.write_image(&mut image);
        let mut back = ReplayBuffer::new(1, 3, 64, false, 0.6).with_action_tags();
        back.restore_image(&plain.image(), &image).unwrap();
        assert!(
            back.tags
                .as_ref()
                .unwrap()
                .iter()
                .all(|&t| t == UNKNOWN_TAG)
        );
        let mut b = Batch::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        back.sample_fresh_into(64, 1.0, &mut rng, &mut b, &[1, 2, 3]);
        assert!(b.actions.contains(&1));
    }

    /// Tags tell occupants apart (streamers' joining times, as a slot's identity) and never
    /// say "unknown".
    #[test]
    fn occupant_tags_tell_identities_apart() {
        let tag = |t: f64| occupant_tag(t.to_bits());
        assert_eq!(tag(600.0), tag(600.0));
        assert_ne!(tag(f64::NEG_INFINITY), tag(0.0));
        assert_ne!(tag(0.0), tag(-0.0));
        let tags: std::collections::HashSet<u32> =
            (0..100_000).map(|i| tag(i as f64 * 0.25)).collect();
        assert_eq!(tags.len(), 100_000);
        assert!(!tags.contains(&UNKNOWN_TAG));
    }
}
