//! The Q-network: a ReLU MLP from `input_dim` to `num_actions` with configurable hidden
//! widths, an optional dueling head (Q = V + A − mean(A)) and an optional group head (a term
//! shared by every action of a group, e.g. every stream of a topic) and an optional
//! per-action feature head (each action's own features, e.g. how long a stream has been live,
//! weighted by a function of the state that all actions share) and an optional reward head
//! (`Q = C + R`, where `R` is a linear head the learner fits to the immediate reward alone and
//! `C` is everything else), as a burn 0.22 [`Module`].
//! Weights are initialised from the learner's seeded RNG (PyTorch's `nn.Linear` scheme), so
//! a learner is reproducible for a given seed.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData, Transaction};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::error::DqnError;
use super::policy::CpuPolicy;

/// The shape of a Q-network; a checkpoint only loads into an equal shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetShape {
    /// State vector length.
    pub input_dim: usize,
    /// Number of actions.
    pub num_actions: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Dueling head.
    pub dueling: bool,
    /// Number of action groups (topics) of the shared group head; 0 = none. With groups,
    /// `Q(s, a)` (or the advantage when dueling) adds `U·h + c` at the group of `a`, a term
    /// every action of the group shares (see [`fold_group_head`]).
    #[serde(default)]
    pub groups: usize,
    /// Features per action at the end of the state vector; 0 = none. The state is then
    /// `[trunk input…, features of action 0 (F)…, features of action A−1 (F)]`: the hidden
    /// stack reads only the trunk input, and `Q(s, a)` (or the advantage when dueling) adds
    /// `Σ_j x_{a,j} · (u_j·h + e_j)`, one weight vector per feature shared by every action.
    #[serde(default)]
    pub action_features: usize,
    /// Reward head: `Q(s, a)` adds `R(s, a) = h·W_R[:, a] + b_R[a]`, after the dueling
    /// combination (see [`fold_reward_head`]); the learner fits `R` to immediate rewards.
    #[serde(default)]
    pub reward_head: bool,
}

impl NetShape {
    /// Length of the part of the state the hidden stack reads.
    pub fn trunk_input(&self) -> usize {
        self.input_dim - self.num_actions * self.action_features
    }
}

/// MLP Q-network.
#[derive(Module, Debug)]
pub struct QNetwork {
    /// Hidden layers (each followed by ReLU).
    pub hidden: Vec<Linear>,
    /// Output layer: Q-values, or advantages when dueling.
    pub head: Linear,
    /// Dueling state-value layer (one output).
    pub value: Option<Linear>,
    /// Group head: one output per action group, added to every action of the group.
    pub group: Option<Linear>,
    /// Per-action feature head: one output per action feature (the weight of that feature).
    pub features: Option<Linear>,
    /// Reward head: one output per action, the immediate reward's part of Q.
    pub reward: Option<Linear>,
}

fn init_linear<R: rand::Rng>(d_in: usize, d_out: usize, rng: &mut R, device: &Device) -> Linear {
    let k = 1.0 / (d_in as f32).sqrt();
    let w: Vec<f32> = (0..d_in * d_out).map(|_| rng.random_range(-k..k)).collect();
    let b: Vec<f32> = (0..d_out).map(|_| rng.random_range(-k..k)).collect();
    Linear {
        weight: Param::from_data(TensorData::new(w, [d_in, d_out]), device),
        bias: Some(Param::from_data(TensorData::new(b, [d_out]), device)),
    }
}

impl QNetwork {
    /// A freshly initialised network on `device` (trainable when `device` is autodiff).
    pub fn new<R: rand::Rng>(shape: &NetShape, rng: &mut R, device: &Device) -> Self {
        let mut hidden = Vec::with_capacity(shape.hidden.len());
        let mut d = shape.trunk_input();
        for &h in &shape.hidden {
            hidden.push(init_linear(d, h, rng, device));
            d = h;
        }
        let head = init_linear(d, shape.num_actions, rng, device);
        let value = shape.dueling.then(|| init_linear(d, 1, rng, device));
        let group = (shape.groups > 0).then(|| init_linear(d, shape.groups, rng, device));
        let features =
            (shape.action_features > 0).then(|| init_linear(d, shape.action_features, rng, device));
        let reward = shape
            .reward_head
            .then(|| init_linear(d, shape.num_actions, rng, device));
        Self {
            hidden,
            head,
            value,
            group,
            features,
            reward,
        }
    }

    /// Q-values `[batch, num_actions]` of states `[batch, input_dim]`. `groups` is the
    /// `[groups, num_actions]` one-hot map of actions to groups ([`group_onehot`]); required
    /// when the network has a group head, ignored otherwise.
    pub fn forward(&self, x: Tensor<2>, groups: Option<&Tensor<2>>) -> Tensor<2> {
        match self.forward_parts(x, groups) {
            (c, Some(r)) => c + r,
            (c, None) => c,
        }
    }

    /// The two parts of the Q-values: everything but the reward head (`C`), and the reward
    /// head's `R` when there is one (`Q = C + R`). The learner trains them on different
    /// targets.
    #[allow(clippy::single_range_in_vec_init)] // burn slices take one range per dimension
    pub fn forward_parts(
        &self,
        x: Tensor<2>,
        groups: Option<&Tensor<2>>,
    ) -> (Tensor<2>, Option<Tensor<2>>) {
        let [n, input_dim] = x.dims();
        let trunk = self.hidden[0].weight.val().dims()[0];
        let (mut h, per_action) = if trunk < input_dim {
            (
                x.clone().slice([0..n, 0..trunk]),
                Some(x.slice([0..n, trunk..input_dim])),
            )
        } else {
            (x, None)
        };
        for l in &self.hidden {
            h = relu(l.forward(h));
        }
        let mut a = self.head.forward(h.clone());
        if let Some(g) = &self.group {
            let map = groups.expect("a network with a group head needs the action-group map");
            a = a + g.forward(h.clone()).matmul(map.clone());
        }
        if let (Some(f), Some(xf)) = (&self.features, per_action) {
            // [n, A, F] · [n, F, 1] → [n, A, 1]
            let nf = f.weight.val().dims()[1];
            let na = a.dims()[1];
            let weights: Tensor<3> = f.forward(h.clone()).reshape([n, nf, 1]);
            let xf: Tensor<3> = xf.reshape([n, na, nf]);
            a = a + xf.matmul(weights).reshape([n, na]);
        }
        let r = self.reward.as_ref().map(|l| l.forward(h.clone()));
        let c = match &self.value {
            None => a,
            Some(v) => {
                let val = v.forward(h);
                let mean = a.clone().mean_dim(1);
                a - mean + val
            }
        };
        (c, r)
    }

    /// The shape of this network.
    pub fn shape(&self) -> NetShape {
        let [trunk, _] = self.hidden[0].weight.val().dims();
        let [_, num_actions] = self.head.weight.val().dims();
        let action_features = self
            .features
            .as_ref()
            .map_or(0, |f| f.weight.val().dims()[1]);
        NetShape {
            input_dim: trunk + num_actions * action_features,
            num_actions,
            hidden: self
                .hidden
                .iter()
                .map(|l| l.weight.val().dims()[1])
                .collect(),
            dueling: self.value.is_some(),
            groups: self.group.as_ref().map_or(0, |g| g.weight.val().dims()[1]),
            action_features,
            reward_head: self.reward.is_some(),
        }
    }

    /// All linear layers in a fixed order: hidden..., head, value, group, features, reward.
    pub fn linears(&self) -> Vec<&Linear> {
        let mut v: Vec<&Linear> = self.hidden.iter().collect();
        v.push(&self.head);
        if let Some(l) = &self.value {
            v.push(l);
        }
        if let Some(l) = &self.group {
            v.push(l);
        }
        if let Some(l) = &self.features {
            v.push(l);
        }
        if let Some(l) = &self.reward {
            v.push(l);
        }
        v
    }

    /// Mutable linear layers, same order as [`Self::linears`].
    pub fn linears_mut(&mut self) -> Vec<&mut Linear> {
        let mut v: Vec<&mut Linear> = self.hidden.iter_mut().collect();
        v.push(&mut self.head);
        if let Some(l) = &mut self.value {
            v.push(l);
        }
        if let Some(l) = &mut self.group {
            v.push(l);
        }
        if let Some(l) = &mut self.features {
            v.push(l);
        }
        if let Some(l) = &mut self.reward {
            v.push(l);
        }
        v
    }

    /// Every parameter read back (one transaction), in [`param_shapes`] order
    /// (w0, b0, w1, b1, …; weights row-major `[d_in, d_out]`).
    pub fn to_host(&self) -> Result<Vec<Vec<f32>>, DqnError> {
        let mut tx = Transaction::default();
        for l in self.linears() {
            tx = tx.register(l.weight.val().inner());
            tx = tx.register(l.bias.as_ref().expect("bias").val().inner());
        }
        let data = tx
            .try_execute()
            .map_err(|e| DqnError::Backend(format!("reading weights: {e:?}")))?;
        data.iter()
            .map(|d| {
                d.try_to_vec::<f32>()
                    .map_err(|e| DqnError::Backend(format!("weights: {e:?}")))
            })
            .collect()
    }

    /// A network whose parameters are `params` (in [`param_shapes`] order) on `device`.
    pub fn from_host(shape: &NetShape, params: &[Vec<f32>], device: &Device) -> Self {
        let shapes = param_shapes(shape);
        assert_eq!(params.len(), shapes.len());
        let mut lin = Vec::with_capacity(shapes.len() / 2);
        for i in 0..shapes.len() / 2 {
            let ws = &shapes[2 * i];
            lin.push(Linear {
                weight: Param::from_data(
                    TensorData::new(params[2 * i].clone(), [ws[0], ws[1]]),
                    device,
                ),
                bias: Some(Param::from_data(
                    TensorData::new(params[2 * i + 1].clone(), [ws[1]]),
                    device,
                )),
            });
        }
        let reward = if shape.reward_head { lin.pop() } else { None };
        let features = if shape.action_features > 0 {
            lin.pop()
        } else {
            None
        };
        let group = if shape.groups > 0 { lin.pop() } else { None };
        let value = if shape.dueling { lin.pop() } else { None };
        let head = lin.pop().expect("head");
        Self {
            hidden: lin,
            head,
            value,
            group,
            features,
            reward,
        }
    }

    /// Read every weight back (one transaction) into a plain-Rust CPU policy.
    pub fn to_cpu_policy(&self, action_groups: &[u16]) -> Result<CpuPolicy, DqnError> {
        Ok(CpuPolicy::from_host(
            &self.shape(),
            &self.to_host()?,
            action_groups,
        ))
    }
}

/// The `[groups, num_actions]` one-hot matrix of `action_groups` (the group of each action).
pub fn group_onehot(groups: usize, action_groups: &[u16], device: &Device) -> Tensor<2> {
    let a = action_groups.len();
    let mut m = vec![0.0f32; groups * a];
    for (j, &g) in action_groups.iter().enumerate() {
        m[g as usize * a + j] = 1.0;
    }
    Tensor::from_data(TensorData::new(m, [groups, a]), device)
}

/// Index of the group head's weight in host order (its bias follows).
pub fn group_param_index(shape: &NetShape) -> usize {
    2 * (shape.hidden.len() + 1 + usize::from(shape.dueling))
}

/// The output layer with the group head folded in: `W_eff[:, a] = W[:, a] + U[:, g(a)]` and
/// `b_eff[a] = b[a] + c[g(a)]` — the same function as the two heads. `None` without groups.
pub fn fold_group_head(
    shape: &NetShape,
    params: &[Vec<f32>],
    action_groups: &[u16],
) -> Option<(Vec<f32>, Vec<f32>)> {
    if shape.groups == 0 {
        return None;
    }
    let l = shape.hidden.len();
    let d = shape.hidden[l - 1];
    let (a, k) = (shape.num_actions, shape.groups);
    let gi = group_param_index(shape);
    let (w, b, u, c) = (
        &params[2 * l],
        &params[2 * l + 1],
        &params[gi],
        &params[gi + 1],
    );
    let mut we = w.clone();
    for r in 0..d {
        let (row, urow) = (&mut we[r * a..(r + 1) * a], &u[r * k..(r + 1) * k]);
        for (x, &g) in row.iter_mut().zip(action_groups) {
            *x += urow[g as usize];
        }
    }
    let be = b
        .iter()
        .zip(action_groups)
        .map(|(&x, &g)| x + c[g as usize])
        .collect();
    Some((we, be))
}

/// Gradients of the group head from those of the folded output layer: `dU[:, k]` sums
/// `dW_eff[:, a]` over the actions of group `k`, and `dc[k]` sums `db_eff[a]`.
pub fn unfold_group_grads(
    shape: &NetShape,
    gw: &[f32],
    gb: &[f32],
    action_groups: &[u16],
    gu: &mut [f32],
    gc: &mut [f32],
) {
    let d = shape.hidden[shape.hidden.len() - 1];
    let (a, k) = (shape.num_actions, shape.groups);
    gu.fill(0.0);
    gc.fill(0.0);
    for r in 0..d {
        let (row, urow) = (&gw[r * a..(r + 1) * a], &mut gu[r * k..(r + 1) * k]);
        for (&x, &g) in row.iter().zip(action_groups) {
            urow[g as usize] += x;
        }
    }
    for (&x, &g) in gb.iter().zip(action_groups) {
        gc[g as usize] += x;
    }
}

/// Index of the per-action feature head's weight in host order (its bias follows).
pub fn features_param_index(shape: &NetShape) -> usize {
    group_param_index(shape) + if shape.groups > 0 { 2 } else { 0 }
}

/// Index of the reward head's weight in host order (its bias follows).
pub fn reward_param_index(shape: &NetShape) -> usize {
    features_param_index(shape) + if shape.action_features > 0 { 2 } else { 0 }
}

/// The reward head folded into the output layer and the value layer, for a forward pass that
/// only needs `Q = C + R`: `W_eff = W + W_R`, `b_eff = b + b_R`, and with a dueling head the
/// value layer adds the mean of `R` over the actions (`v_eff = v + mean_a W_R[:, a]`,
/// `c_eff = c + mean(b_R)`), which the advantages' mean subtracts again. `head` and `value`
/// are the (possibly group-folded) output layer and the value layer's weights and bias;
/// nothing changes without a reward head.
pub fn fold_reward_head(
    shape: &NetShape,
    params: &[Vec<f32>],
    head: (&mut [f32], &mut [f32]),
    value: Option<(&mut [f32], &mut [f32])>,
) {
    if !shape.reward_head {
        return;
    }
    let d = shape.hidden[shape.hidden.len() - 1];
    let a = shape.num_actions;
    let ri = reward_param_index(shape);
    let (wr, br) = (&params[ri], &params[ri + 1]);
    let (w, b) = head;
    for (x, &y) in w.iter_mut().zip(wr) {
        *x += y;
    }
    for (x, &y) in b.iter_mut().zip(br) {
        *x += y;
    }
    if let Some((wv, bv)) = value {
        for k in 0..d {
            wv[k] += wr[k * a..(k + 1) * a].iter().sum::<f32>() / a as f32;
        }
        bv[0] += br.iter().sum::<f32>() / a as f32;
    }
}

/// Shapes of the parameters in host order: for each linear layer (hidden…, head, value,
/// group, features, reward), `[d_in, d_out]` then `[d_out]`.
pub fn param_shapes(shape: &NetShape) -> Vec<Vec<usize>> {
    let mut v = Vec::new();
    let mut d = shape.trunk_input();
    for &h in &shape.hidden {
        v.push(vec![d, h]);
        v.push(vec![h]);
        d = h;
    }
    v.push(vec![d, shape.num_actions]);
    v.push(vec![shape.num_actions]);
    if shape.dueling {
        v.push(vec![d, 1]);
        v.push(vec![1]);
    }
    if shape.groups > 0 {
        v.push(vec![d, shape.groups]);
        v.push(vec![shape.groups]);
    }
    if shape.action_features > 0 {
        v.push(vec![d, shape.action_features]);
        v.push(vec![shape.action_features]);
    }
    if shape.reward_head {
        v.push(vec![d, shape.num_actions]);
        v.push(vec![shape.num_actions]);
    }
    v
}
