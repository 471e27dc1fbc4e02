//! The learner's network described once: [`NetShape`] says what the network is (state
//! length, actions, hidden widths and the [`Head`]s it carries), and [`ParamLayout`], built
//! from it, is the only place that knows where each parameter lives in the flat host list
//! every backend, optimizer and checkpoint shares.
//!
//! The network is a ReLU MLP (the trunk) read by an output layer with one column per action,
//! plus optional heads that each read the last hidden layer through one dense layer of their
//! own. Host parameters are one `Vec<f32>` per tensor: per dense layer a row-major
//! `[d_in, d_out]` weight then `d_out` biases, in the order hidden…, output, then the heads in
//! [`Head`]'s declaration order (which is also the order the heads are applied in).

use std::fmt;

use rand::RngExt;
use serde::{Deserialize, Serialize};

/// One optional part of the Q-network beyond the trunk and the output layer. The variants'
/// order is the canonical order: parameters are laid out, initialised and applied in it.
/// Adding a variant means adding its file under `heads/` and the arms of the exhaustive
/// matches there (the compiler lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "head")]
pub enum Head {
    /// `Q = V + A − mean(A)`: a state-value layer (one output) beside the advantages.
    Dueling,
    /// A term shared by every action of a group (every stream of a topic): `U·h + c` at the
    /// group of each action, `groups` outputs.
    Group {
        /// Number of groups.
        groups: usize,
    },
    /// An item tower over each action's content vector `c_a` (public per-stream content,
    /// every modality): `(V·h + β)·c_a`, `len` outputs (the content length). The group head is
    /// the special case of one-hot content.
    Content {
        /// Content values per action.
        len: usize,
    },
    /// Gated fusion of the content's modalities: `Σ_m σ(g_m·h + e_m)·(V_m·h + β_m)·c_{a,m}`,
    /// one tower per modality weighted by a gate computed from the state; `len + modalities`
    /// outputs (the towers, then the gates). The gates depend on the state, so it does not
    /// fold into the output layer: the CPU kernels refuse it (it runs on burn).
    GatedContent {
        /// Content values per action (every modality).
        len: usize,
        /// Modalities, each `len / modalities` values.
        modalities: usize,
    },
    /// Each action's own features at the end of the state, weighted by a function of the
    /// state shared by all actions: `Σ_j x_{a,j}·(u_j·h + e_j)`, `features` outputs.
    ActionFeatures {
        /// Features per action.
        features: usize,
    },
    /// `Q = C + R` with `R(s, a) = h·W_R[:, a] + b_R[a]` fitted to the immediate reward.
    Reward,
}

impl Head {
    /// Output width of the head's dense layer.
    pub fn width(&self, num_actions: usize) -> usize {
        match *self {
            Head::Dueling => 1,
            Head::Group { groups } => groups,
            Head::Content { len } => len,
            Head::GatedContent { len, modalities } => len + modalities,
            Head::ActionFeatures { features } => features,
            Head::Reward => num_actions,
        }
    }

    /// The head's name in parameter names and messages.
    pub fn name(&self) -> &'static str {
        match self {
            Head::Dueling => "dueling",
            Head::Group { .. } => "group",
            Head::Content { .. } => "content",
            Head::GatedContent { .. } => "gated content",
            Head::ActionFeatures { .. } => "features",
            Head::Reward => "reward",
        }
    }

    /// One head of each kind (tests and tools that cover every kind use it).
    pub fn one_of_each(groups: usize, content: usize, features: usize) -> Vec<Head> {
        let all = vec![
            Head::Dueling,
            Head::Group { groups },
            Head::Content { len: content },
            Head::GatedContent {
                len: content,
                modalities: 2,
            },
            Head::ActionFeatures { features },
            Head::Reward,
        ];
        for h in &all {
            // A new variant fails to compile here until it is listed above.
            match h {
                Head::Dueling
                | Head::Group { .. }
                | Head::Content { .. }
                | Head::GatedContent { .. }
                | Head::ActionFeatures { .. }
                | Head::Reward => {}
            }
        }
        all
    }

    fn kind(&self) -> std::mem::Discriminant<Head> {
        std::mem::discriminant(self)
    }
}

/// The shape of a Q-network; a checkpoint only loads into an equal shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NetShape {
    /// State vector length (the trunk's input, then the per-action features if any).
    pub input_dim: usize,
    /// Number of actions.
    pub num_actions: usize,
    /// Hidden widths (at least one layer).
    pub hidden: Vec<usize>,
    /// The heads, in canonical order, at most one of each kind (see [`NetShape::new`]).
    pub heads: Vec<Head>,
    /// Layer normalisation of each hidden layer's pre-activations (a scale and a shift per
    /// unit, learnt).
    #[serde(default)]
    pub layer_norm: bool,
}

impl NetShape {
    /// A shape whose heads are put in canonical order; of two heads of the same kind the
    /// last wins. A group head with 0 groups and a feature head with 0 features are dropped.
    pub fn new(
        input_dim: usize,
        num_actions: usize,
        hidden: Vec<usize>,
        heads: impl IntoIterator<Item = Head>,
    ) -> Self {
        let mut hs: Vec<Head> = Vec::new();
        for h in heads {
            if matches!(
                h,
                Head::Group { groups: 0 }
                    | Head::Content { len: 0 }
                    | Head::GatedContent { len: 0, .. }
                    | Head::GatedContent { modalities: 0, .. }
                    | Head::ActionFeatures { features: 0 }
            ) {
                continue;
            }
            hs.retain(|o| o.kind() != h.kind());
            hs.push(h);
        }
        hs.sort();
        Self {
            input_dim,
            num_actions,
            hidden,
            heads: hs,
            layer_norm: false,
        }
    }

    /// The same shape with (or without) layer normalisation of the hidden layers.
    pub fn with_layer_norm(mut self, on: bool) -> Self {
        self.layer_norm = on;
        self
    }

    /// The head of `h`'s kind, if the network has one.
    fn find(&self, pred: impl Fn(&Head) -> bool) -> Option<&Head> {
        self.heads.iter().find(|h| pred(h))
    }

    /// Dueling head present.
    pub fn dueling(&self) -> bool {
        self.find(|h| matches!(h, Head::Dueling)).is_some()
    }

    /// Groups of the group head (0 = none).
    pub fn groups(&self) -> usize {
        match self.find(|h| matches!(h, Head::Group { .. })) {
            Some(&Head::Group { groups }) => groups,
            _ => 0,
        }
    }

    /// Content values per action of the content head (0 = none).
    pub fn content_len(&self) -> usize {
        match self.find(|h| matches!(h, Head::Content { .. } | Head::GatedContent { .. })) {
            Some(&Head::Content { len }) | Some(&Head::GatedContent { len, .. }) => len,
            _ => 0,
        }
    }

    /// Modalities of the gated content head (0 = none).
    pub fn gated_modalities(&self) -> usize {
        match self.find(|h| matches!(h, Head::GatedContent { .. })) {
            Some(&Head::GatedContent { modalities, .. }) => modalities,
            _ => 0,
        }
    }

    /// Features per action (0 = none).
    pub fn action_features(&self) -> usize {
        match self.find(|h| matches!(h, Head::ActionFeatures { .. })) {
            Some(&Head::ActionFeatures { features }) => features,
            _ => 0,
        }
    }

    /// Reward head present.
    pub fn reward_head(&self) -> bool {
        self.find(|h| matches!(h, Head::Reward)).is_some()
    }

    /// Why this shape cannot be a network (sizes out of bounds or inconsistent), checked
    /// before anything is laid out or allocated from it (a checkpoint's header, say).
    pub fn check(&self) -> Result<(), String> {
        use super::config::{MAX_HIDDEN_LAYERS, MAX_HIDDEN_WIDTH};
        if self.input_dim == 0 || self.input_dim > 1 << 20 {
            return Err(format!("{} inputs (1 to 1048576)", self.input_dim));
        }
        if self.num_actions == 0 || self.num_actions > 1 << 16 {
            return Err(format!("{} actions (1 to 65536)", self.num_actions));
        }
        if self.hidden.is_empty() || self.hidden.len() > MAX_HIDDEN_LAYERS {
            return Err(format!(
                "{} hidden layers (1 to {MAX_HIDDEN_LAYERS})",
                self.hidden.len()
            ));
        }
        if let Some(w) = self
            .hidden
            .iter()
            .find(|&&w| w == 0 || w > MAX_HIDDEN_WIDTH)
        {
            return Err(format!("a hidden layer of {w} (1 to {MAX_HIDDEN_WIDTH})"));
        }
        let features = self.action_features();
        let contents = self
            .heads
            .iter()
            .filter(|h| matches!(h, Head::Content { .. } | Head::GatedContent { .. }))
            .count();
        if contents > 1 {
            return Err("a content head and a gated content head together".into());
        }
        let modalities = self.gated_modalities();
        if modalities > 0 && !self.content_len().is_multiple_of(modalities) {
            return Err(format!(
                "gated content of {} values in {modalities} modalities of unequal length",
                self.content_len()
            ));
        }
        if features > 1 << 16 || self.groups() > u16::MAX as usize || self.content_len() > 1 << 12 {
            return Err("a head wider than any network liveq builds".into());
        }
        if self.num_actions * features >= self.input_dim {
            return Err(format!(
                "{} inputs leave no room for the state before {features} features of each of \
                 {} actions",
                self.input_dim, self.num_actions
            ));
        }
        Ok(())
    }

    /// Length of the part of the state the hidden stack reads.
    pub fn trunk_input(&self) -> usize {
        self.input_dim - self.num_actions * self.action_features()
    }

    /// Width of the last hidden layer (what the output layer and every head read).
    pub fn last_hidden(&self) -> usize {
        *self.hidden.last().expect("at least one hidden layer")
    }
}

impl fmt::Display for NetShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} inputs, {} actions, hidden {:?}",
            self.input_dim, self.num_actions, self.hidden
        )?;
        if self.layer_norm {
            f.write_str(", layer norm")?;
        }
        if self.heads.is_empty() {
            return f.write_str(", no heads");
        }
        let heads: Vec<String> = self
            .heads
            .iter()
            .map(|h| match h {
                Head::Group { groups } => format!("group ({groups})"),
                Head::Content { len } => format!("content ({len} per action)"),
                Head::GatedContent { len, modalities } => {
                    format!("gated content ({len} per action, {modalities} modalities)")
                }
                Head::ActionFeatures { features } => format!("features ({features} per action)"),
                other => other.name().to_string(),
            })
            .collect();
        write!(f, ", heads: {}", heads.join(", "))
    }
}

/// One dense layer's place in the host parameter list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dense {
    /// Index of the `[d_in, d_out]` weight; the bias follows at `w + 1`.
    pub w: usize,
    /// Input width.
    pub d_in: usize,
    /// Output width.
    pub d_out: usize,
}

impl Dense {
    /// Index of the bias.
    pub fn b(&self) -> usize {
        self.w + 1
    }

    /// The weight in `params`.
    pub fn weight<'a>(&self, params: &'a [Vec<f32>]) -> &'a [f32] {
        &params[self.w]
    }

    /// The bias in `params`.
    pub fn bias<'a>(&self, params: &'a [Vec<f32>]) -> &'a [f32] {
        &params[self.w + 1]
    }
}

/// Where every parameter lives, built from a [`NetShape`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamLayout {
    /// The shape it was built from.
    pub shape: NetShape,
    /// The hidden layers.
    pub hidden: Vec<Dense>,
    /// The output layer (Q-values, or advantages when dueling).
    pub output: Dense,
    /// Each head with its dense layer, in canonical order.
    pub heads: Vec<(Head, Dense)>,
    /// With layer normalisation, each hidden layer's scale (as a `[1, width]` weight) and
    /// shift (its bias), after the heads.
    pub norms: Vec<Dense>,
}

impl ParamLayout {
    /// The layout of `shape`.
    pub fn new(shape: &NetShape) -> Self {
        let mut next = 0;
        let mut dense = |d_in, d_out| {
            let d = Dense {
                w: next,
                d_in,
                d_out,
            };
            next += 2;
            d
        };
        let mut d = shape.trunk_input();
        let hidden = shape
            .hidden
            .iter()
            .map(|&h| {
                let l = dense(d, h);
                d = h;
                l
            })
            .collect();
        let output = dense(d, shape.num_actions);
        let heads = shape
            .heads
            .iter()
            .map(|&h| (h, dense(d, h.width(shape.num_actions))))
            .collect();
        let norms = if shape.layer_norm {
            shape.hidden.iter().map(|&h| dense(1, h)).collect()
        } else {
            Vec::new()
        };
        Self {
            shape: shape.clone(),
            hidden,
            output,
            heads,
            norms,
        }
    }

    /// Every dense layer in parameter order.
    pub fn denses(&self) -> impl Iterator<Item = Dense> + '_ {
        self.hidden
            .iter()
            .copied()
            .chain([self.output])
            .chain(self.heads.iter().map(|&(_, d)| d))
            .chain(self.norms.iter().copied())
    }

    /// Number of parameter tensors.
    pub fn len(&self) -> usize {
        2 * (self.hidden.len() + 1 + self.heads.len() + self.norms.len())
    }

    /// Never: a network has at least its output layer.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The shape of each parameter tensor, in order.
    pub fn param_shapes(&self) -> Vec<Vec<usize>> {
        self.denses()
            .flat_map(|d| [vec![d.d_in, d.d_out], vec![d.d_out]])
            .collect()
    }

    /// The name of each parameter tensor, in order (`hidden.0.weight`, `output.bias`,
    /// `dueling.weight`, …).
    pub fn param_names(&self) -> Vec<String> {
        let layer_names = (0..self.hidden.len())
            .map(|l| format!("hidden.{l}"))
            .chain(["output".to_string()])
            .chain(self.heads.iter().map(|(h, _)| h.name().to_string()))
            .chain((0..self.norms.len()).map(|l| format!("norm.{l}")));
        layer_names
            .flat_map(|n| [format!("{n}.weight"), format!("{n}.bias")])
            .collect()
    }

    /// The dense layer of the first head matching `pred`.
    pub fn head(&self, pred: impl Fn(&Head) -> bool) -> Option<Dense> {
        self.heads.iter().find(|(h, _)| pred(h)).map(|&(_, d)| d)
    }

    /// The layers with one output per action, whose column `a` belongs to action `a` alone:
    /// the output layer and the reward head's.
    pub fn per_action(&self) -> impl Iterator<Item = Dense> + '_ {
        [self.output]
            .into_iter()
            .chain(self.head(|h| matches!(h, Head::Reward)))
    }

    /// The dueling head's value layer.
    pub fn dueling(&self) -> Option<Dense> {
        self.head(|h| matches!(h, Head::Dueling))
    }

    /// Zeroed parameters of this layout (optimizer moments).
    pub fn zeros(&self) -> Vec<Vec<f32>> {
        self.denses()
            .flat_map(|d| [vec![0.0; d.d_in * d.d_out], vec![0.0; d.d_out]])
            .collect()
    }

    /// Freshly initialised parameters (PyTorch's `nn.Linear` scheme: weights and biases
    /// uniform in ±1/√d_in, each layer's weights then its biases drawn from `rng`; layer
    /// normalisation starts as the identity: scale 1, shift 0).
    pub fn init<R: rand::Rng>(&self, rng: &mut R) -> Vec<Vec<f32>> {
        let dense_layers = self.hidden.len() + 1 + self.heads.len();
        let norms = self
            .norms
            .iter()
            .flat_map(|d| [vec![1.0; d.d_out], vec![0.0; d.d_out]]);
        self.denses()
            .take(dense_layers)
            .flat_map(|d| {
                let k = 1.0 / (d.d_in as f32).sqrt();
                let w: Vec<f32> = (0..d.d_in * d.d_out)
                    .map(|_| rng.random_range(-k..k))
                    .collect();
                let b: Vec<f32> = (0..d.d_out).map(|_| rng.random_range(-k..k)).collect();
                [w, b]
            })
            .collect::<Vec<_>>()
            .into_iter()
            .chain(norms)
            .collect()
    }

    /// Why `params` does not fit this layout (count or a tensor's length), if it does not.
    pub fn check(&self, params: &[Vec<f32>]) -> Result<(), String> {
        if params.len() != self.len() {
            return Err(format!(
                "{} parameter tensors where the network has {}",
                params.len(),
                self.len()
            ));
        }
        for ((p, s), name) in params
            .iter()
            .zip(self.param_shapes())
            .zip(self.param_names())
        {
            let want: usize = s.iter().product();
            if p.len() != want {
                return Err(format!(
                    "{name} has {} values where the network has {want}",
                    p.len()
                ));
            }
        }
        Ok(())
    }
}

/// The shape as checkpoints of format 1 recorded it (one field per head); converted with
/// [`From`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShapeV1 {
    /// State vector length.
    pub input_dim: usize,
    /// Number of actions.
    pub num_actions: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Dueling head.
    pub dueling: bool,
    /// Groups of the group head (0 = none).
    #[serde(default)]
    pub groups: usize,
    /// Features per action (0 = none).
    #[serde(default)]
    pub action_features: usize,
    /// Reward head.
    #[serde(default)]
    pub reward_head: bool,
}

impl From<ShapeV1> for NetShape {
    fn from(s: ShapeV1) -> Self {
        let mut heads = Vec::new();
        if s.dueling {
            heads.push(Head::Dueling);
        }
        heads.push(Head::Group { groups: s.groups });
        heads.push(Head::ActionFeatures {
            features: s.action_features,
        });
        if s.reward_head {
            heads.push(Head::Reward);
        }
        NetShape::new(s.input_dim, s.num_actions, s.hidden, heads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_take_canonical_order_and_layout_follows_it() {
        let s = NetShape::new(
            10,
            3,
            vec![4, 5],
            [
                Head::Reward,
                Head::ActionFeatures { features: 2 },
                Head::Dueling,
                Head::Group { groups: 0 },
            ],
        );
        assert_eq!(
            s.heads,
            vec![
                Head::Dueling,
                Head::ActionFeatures { features: 2 },
                Head::Reward
            ]
        );
        assert_eq!(s.trunk_input(), 4);
        let l = ParamLayout::new(&s);
        assert_eq!(l.len(), 12);
        assert_eq!(
            l.param_shapes(),
            vec![
                vec![4, 4],
                vec![4],
                vec![4, 5],
                vec![5],
                vec![5, 3],
                vec![3],
                vec![5, 1],
                vec![1],
                vec![5, 2],
                vec![2],
                vec![5, 3],
                vec![3],
            ]
        );
        assert_eq!(l.param_names()[6], "dueling.weight");
        assert_eq!(l.dueling().unwrap().w, 6);
        assert_eq!(l.head(|h| matches!(h, Head::Reward)).unwrap().b(), 11);
        let p = l.init(&mut rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1));
        assert!(l.check(&p).is_ok());
        assert!(l.check(&p[1..]).is_err());
    }

    #[test]
    fn format_1_shapes_convert() {
        let v1 = ShapeV1 {
            input_dim: 9,
            num_actions: 2,
            hidden: vec![8],
            dueling: true,
            groups: 3,
            action_features: 0,
            reward_head: true,
        };
        let s = NetShape::from(v1);
        assert_eq!(
            s.heads,
            vec![Head::Dueling, Head::Group { groups: 3 }, Head::Reward]
        );
        assert!(s.dueling() && s.reward_head() && s.groups() == 3);
    }

    use rand::SeedableRng;
}
