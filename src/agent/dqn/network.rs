//! The Q-network as a burn 0.22 [`Module`] (the burn trainer's form): the hidden stack, the
//! output layer and one dense layer per head, in [`ParamLayout`] order. Each head's term
//! comes from its file under `heads/`.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData, Transaction};

use super::error::DqnError;
use super::heads::{ActionMaps, content, dueling, features, group, reward};
use super::shape::{Head, ParamLayout};

/// MLP Q-network with its heads.
#[derive(Module, Debug)]
pub struct QNetwork {
    /// Hidden layers (each followed by ReLU).
    pub hidden: Vec<Linear>,
    /// Output layer: Q-values, or advantages when dueling.
    pub output: Linear,
    /// One dense layer per head, in the layout's order.
    pub heads: Vec<Linear>,
    /// With layer normalisation, per hidden layer its scale (the `[1, width]` weight) and
    /// shift (the bias).
    pub norms: Vec<Linear>,
}

/// Every tensor registered in `tx` read back to host vectors (one synchronisation).
pub fn read_back(tx: Transaction, what: &str) -> Result<Vec<Vec<f32>>, DqnError> {
    let data = tx
        .try_execute()
        .map_err(|e| DqnError::Backend(format!("{what}: {e:?}")))?;
    data.iter()
        .map(|d| {
            d.try_to_vec::<f32>()
                .map_err(|e| DqnError::Backend(format!("{what}: {e:?}")))
        })
        .collect()
}

fn linear(w: Vec<f32>, b: Vec<f32>, d_in: usize, d_out: usize, device: &Device) -> Linear {
    Linear {
        weight: Param::from_data(TensorData::new(w, [d_in, d_out]), device),
        bias: Some(Param::from_data(TensorData::new(b, [d_out]), device)),
    }
}

impl QNetwork {
    /// A network whose parameters are `params` (laid out by `layout`) on `device` (trainable
    /// when `device` is autodiff).
    pub fn from_host(layout: &ParamLayout, params: &[Vec<f32>], device: &Device) -> Self {
        let mk = |d: super::shape::Dense| {
            linear(
                d.weight(params).to_vec(),
                d.bias(params).to_vec(),
                d.d_in,
                d.d_out,
                device,
            )
        };
        Self {
            hidden: layout.hidden.iter().map(|&d| mk(d)).collect(),
            output: mk(layout.output),
            heads: layout.heads.iter().map(|&(_, d)| mk(d)).collect(),
            norms: layout.norms.iter().map(|&d| mk(d)).collect(),
        }
    }

    /// All linear layers in layout order.
    pub fn linears(&self) -> Vec<&Linear> {
        self.hidden
            .iter()
            .chain([&self.output])
            .chain(&self.heads)
            .chain(&self.norms)
            .collect()
    }

    /// Mutable linear layers, same order as [`Self::linears`].
    pub fn linears_mut(&mut self) -> Vec<&mut Linear> {
        self.hidden
            .iter_mut()
            .chain([&mut self.output])
            .chain(&mut self.heads)
            .chain(&mut self.norms)
            .collect()
    }

    /// Every parameter read back (one transaction), in layout order.
    pub fn to_host(&self) -> Result<Vec<Vec<f32>>, DqnError> {
        let mut tx = Transaction::default();
        for l in self.linears() {
            tx = tx.register(l.weight.val().inner());
            tx = tx.register(l.bias.as_ref().expect("bias").val().inner());
        }
        read_back(tx, "reading weights")
    }

    /// Q-values `[batch, num_actions]` of states `[batch, input_dim]`, with the action maps
    /// the group and content heads read.
    pub fn forward(&self, layout: &ParamLayout, x: Tensor<2>, maps: &MapTensors) -> Tensor<2> {
        match self.forward_parts(layout, x, maps, None) {
            (c, Some(r)) => c + r,
            (c, None) => c,
        }
    }

    /// The two parts of the Q-values: everything but the reward head (`C`), and the reward
    /// head's `R` when there is one (`Q = C + R`). The learner trains them on different
    /// targets. `dropout` holds a `[batch, width]` multiplier per hidden layer (the training
    /// forward pass of an update with dropout).
    #[allow(clippy::single_range_in_vec_init)] // burn slices take one range per dimension
    pub fn forward_parts(
        &self,
        layout: &ParamLayout,
        x: Tensor<2>,
        maps: &MapTensors,
        dropout: Option<&[Tensor<2>]>,
    ) -> (Tensor<2>, Option<Tensor<2>>) {
        let [n, input_dim] = x.dims();
        let trunk = layout.shape.trunk_input();
        let (mut h, per_action) = if trunk < input_dim {
            (
                x.clone().slice([0..n, 0..trunk]),
                Some(x.slice([0..n, trunk..input_dim])),
            )
        } else {
            (x, None)
        };
        for (k, l) in self.hidden.iter().enumerate() {
            h = l.forward(h);
            if let Some(n) = self.norms.get(k) {
                // (z − μ)/√(σ² + ε) per row, then scale and shift.
                let mean = h.clone().mean_dim(1);
                let centred = h - mean;
                let var = centred.clone().square().mean_dim(1);
                let xhat = centred / var.add_scalar(super::norm::NORM_EPS).sqrt();
                let gamma = n.weight.val();
                let beta = n.bias.as_ref().expect("bias").val().unsqueeze_dim(0);
                h = xhat * gamma + beta;
            }
            h = relu(h);
            if let Some(masks) = dropout {
                h = h * masks[k].clone();
            }
        }
        let mut a = self.output.forward(h.clone());
        let mut r = None;
        let mut value = None;
        for ((head, _), lin) in layout.heads.iter().zip(&self.heads) {
            match head {
                Head::Dueling => value = Some(lin), // combined after every additive term
                Head::Group { .. } => {
                    let map = maps.groups.as_ref().expect("the group head's map");
                    a = group::burn_add(a, lin, h.clone(), map);
                }
                Head::Content { .. } => {
                    let map = maps.content.as_ref().expect("the content head's map");
                    a = group::burn_add(a, lin, h.clone(), map);
                }
                Head::GatedContent { .. } => {
                    let map = maps.content.as_ref().expect("the content head's map");
                    let expand = maps.expand.as_ref().expect("the modalities' expansion");
                    a = content::burn_add_gated(a, lin, h.clone(), map, expand);
                }
                Head::ActionFeatures { .. } => {
                    let xf = per_action
                        .clone()
                        .expect("per-action features in the state");
                    a = features::burn_add(a, lin, h.clone(), xf);
                }
                Head::Reward => r = Some(reward::burn_term(lin, h.clone())),
            }
        }
        let c = match value {
            None => a,
            Some(v) => dueling::burn_combine(a, v, h),
        };
        (c, r)
    }
}

/// The action maps as burn tensors: the `[groups, num_actions]` one-hot of the action groups
/// ([`group::onehot`]) with a group head, the `[len, num_actions]` content ([`content::map`])
/// with a content head.
#[derive(Debug, Clone, Default)]
pub struct MapTensors {
    pub groups: Option<Tensor<2>>,
    pub content: Option<Tensor<2>>,
    /// Gated content: the `[modalities, len]` spread of the gates ([`content::expand`]).
    pub expand: Option<Tensor<2>>,
}

impl MapTensors {
    /// The tensors of `maps` for the heads of `layout`.
    pub fn new(layout: &ParamLayout, maps: &ActionMaps, device: &Device) -> Self {
        let (groups, len) = (layout.shape.groups(), layout.shape.content_len());
        MapTensors {
            groups: (groups > 0).then(|| group::onehot(groups, &maps.groups, device)),
            content: (len > 0).then(|| content::map(len, &maps.content, device)),
            expand: match layout.shape.gated_modalities() {
                0 => None,
                m => Some(content::expand(len, m, device)),
            },
        }
    }

    /// The same maps on the autodiff device.
    pub fn autodiff(&self) -> Self {
        MapTensors {
            groups: self.groups.clone().map(|m| m.autodiff()),
            content: self.content.clone().map(|m| m.autodiff()),
            expand: self.expand.clone().map(|m| m.autodiff()),
        }
    }
}
