//! The burn trainer: the network as a burn [`QNetwork`] differentiated by burn's autodiff,
//! global-norm clipping and Adam on device tensors ([`DeviceAdam`]). It runs on wgpu (the
//! GPU path) and on Flex, burn's CPU backend, where it is the reference the CPU kernels are
//! tested against. Nothing is read back unless the update asks (TD errors, Q-values and the
//! gradient norm in one transaction), so on a GPU an update does not synchronise.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData, Transaction};

use super::acting::CpuPolicy;
use super::error::DqnError;
use super::heads::ActionMaps;
use super::network::{MapTensors, QNetwork, read_back};
use super::optim::{BETA1, BETA2, bias_terms};
use super::replay::Batch;
use super::shape::ParamLayout;
use super::trainer::{
    Inspection, Readback, TargetUpdate, TdSpec, Trainer, TrainerState, UpdateOutcome, UpdateSpec,
};

/// How a target bootstraps from the next state.
pub enum NextValue {
    /// `max_a (Q_target(s', a) + mask_bias)`.
    Max,
    /// Double DQN: `Q_target(s', a*)` with `a* = argmax_a (Q_online(s', a) + mask_bias)`.
    Double(Tensor<2>),
    /// SlateQ: `Σ_a W[a] · Q_target(s', a)`, `W` `[B, A]` the next slate's choice weights.
    Slate(Tensor<2>),
}

/// Bootstrap target `r + discount · v(s')` with `v` as [`NextValue`] says — invalid next
/// actions carry a large negative `mask_bias` and are never chosen. A row whose discount is 0
/// (terminal or no valid next action) gets just `r`. All inputs are non-autodiff tensors;
/// shapes `[B, A]`/`[B, 1]`.
pub fn masked_td_target(
    next: NextValue,
    q_next_target: Tensor<2>,
    mask_bias: Tensor<2>,
    rewards: Tensor<2>,
    discounts: Tensor<2>,
) -> Tensor<2> {
    let v = match next {
        NextValue::Double(qo) => {
            let a_star = (qo + mask_bias).argmax(1);
            q_next_target.gather(1, a_star)
        }
        NextValue::Max => (q_next_target + mask_bias).max_dim(1),
        NextValue::Slate(w) => (q_next_target * w).sum_dim(1),
    };
    // Rows with discount 0 must not see the -1e9 of an all-invalid row: zero `v` there.
    let keep = discounts.clone().greater_elem(0.0);
    let v = v.mask_fill(keep.bool_not(), 0.0);
    rewards + discounts * v
}

/// Device-side global-norm clipping of one network's gradients (no read-back). Returns the
/// clipped gradients (per linear layer: weight, bias) and the norm before clipping as a
/// one-element tensor.
pub fn clip_global_norm_tensors(
    grads: Vec<(Tensor<2>, Tensor<1>)>,
    max_norm: f64,
) -> (Vec<(Tensor<2>, Tensor<1>)>, Tensor<1>) {
    let mut sq: Option<Tensor<1>> = None;
    for (gw, gb) in &grads {
        let s = gw.clone().square().sum() + gb.clone().square().sum();
        sq = Some(match sq {
            None => s,
            Some(acc) => acc + s,
        });
    }
    let norm = sq.expect("at least one layer").sqrt();
    if max_norm <= 0.0 {
        return (grads, norm);
    }
    let scale = norm
        .clone()
        .add_scalar(1e-6)
        .recip()
        .mul_scalar(max_norm)
        .clamp_max(1.0);
    let scale2 = scale.clone().reshape([1, 1]);
    let grads = grads
        .into_iter()
        .map(|(gw, gb)| (gw * scale2.clone(), gb * scale.clone()))
        .collect();
    (grads, norm)
}

/// Adam moments as device tensors (per linear layer: weight, bias).
#[derive(Debug, Clone)]
pub struct DeviceAdam {
    /// First moments.
    pub m: Vec<(Tensor<2>, Tensor<1>)>,
    /// Second moments.
    pub v: Vec<(Tensor<2>, Tensor<1>)>,
    /// Steps taken.
    pub t: u64,
}

fn layer_tensors(net: &QNetwork) -> Vec<(Tensor<2>, Tensor<1>)> {
    net.linears()
        .iter()
        .map(|l| {
            (
                l.weight.val().inner(),
                l.bias.as_ref().expect("bias").val().inner(),
            )
        })
        .collect()
}

impl DeviceAdam {
    /// Moments from host vectors (layout order) on `device`.
    pub fn from_host(
        layout: &ParamLayout,
        m: &[Vec<f32>],
        v: &[Vec<f32>],
        t: u64,
        device: &Device,
    ) -> Self {
        Self {
            m: layer_tensors(&QNetwork::from_host(layout, m, device)),
            v: layer_tensors(&QNetwork::from_host(layout, v, device)),
            t,
        }
    }

    /// Apply one step to `net` (autodiff parameters) with `grads` (already clipped).
    pub fn step(
        &mut self,
        net: &mut QNetwork,
        grads: Vec<(Tensor<2>, Tensor<1>)>,
        lr: f64,
        eps: f64,
        weight_decay: f64,
        shrink: Option<(usize, f64)>,
    ) {
        self.t += 1;
        let (step, eps_hat) = bias_terms(self.t, lr, eps);
        // AdamW's decoupled decay, before the Adam step (PyTorch's order).
        let decay = (1.0 - lr * weight_decay) as f32;
        let (b1, b2) = (BETA1 as f32, BETA2 as f32);
        // Slot shrinkage: linear `k`'s columns move `lr·s` of the way to their average.
        let shrunk = shrink.filter(|&(_, s)| s > 0.0);
        let rate = shrunk.map_or(0.0, |(_, s)| (lr * s) as f32);
        for (i, (lin, (gw, gb))) in net.linears_mut().into_iter().zip(grads).enumerate() {
            let shrinks = shrunk.is_some_and(|(k, _)| k == i);
            let (mw, mb) = self.m[i].clone();
            let (vw, vb) = self.v[i].clone();
            let mw = mw.mul_scalar(b1) + gw.clone().mul_scalar(1.0 - b1);
            let vw = vw.mul_scalar(b2) + gw.square().mul_scalar(1.0 - b2);
            let mb = mb.mul_scalar(b1) + gb.clone().mul_scalar(1.0 - b1);
            let vb = vb.mul_scalar(b2) + gb.square().mul_scalar(1.0 - b2);
            let dw = mw
                .clone()
                .div(vw.clone().sqrt().add_scalar(eps_hat))
                .mul_scalar(step);
            let db = mb
                .clone()
                .div(vb.clone().sqrt().add_scalar(eps_hat))
                .mul_scalar(step);
            let decayed = |t: Tensor<2>| {
                let t = if shrinks {
                    let mean = t.clone().mean_dim(1);
                    t.clone() - (t - mean).mul_scalar(rate)
                } else {
                    t
                };
                if decay != 1.0 { t.mul_scalar(decay) } else { t }
            };
            let decayed1 = |t: Tensor<1>| {
                let t = if shrinks {
                    let mean = t.clone().mean();
                    t.clone() - (t - mean.unsqueeze()).mul_scalar(rate)
                } else {
                    t
                };
                if decay != 1.0 { t.mul_scalar(decay) } else { t }
            };
            let w = lin.weight.clone();
            lin.weight = w.map(|t| Tensor::from_inner(decayed(t.inner()) - dw).require_grad());
            let b = lin.bias.take().expect("bias");
            lin.bias = Some(b.map(|t| Tensor::from_inner(decayed1(t.inner()) - db).require_grad()));
            self.m[i] = (mw, mb);
            self.v[i] = (vw, vb);
        }
    }

    /// Moments read back to host vectors (layout order).
    #[allow(clippy::type_complexity)]
    pub fn to_host(&self) -> Result<(Vec<Vec<f32>>, Vec<Vec<f32>>), DqnError> {
        let mut tx = Transaction::default();
        for (w, b) in self.m.iter().chain(&self.v) {
            tx = tx.register(w.clone()).register(b.clone());
        }
        let mut all = read_back(tx, "reading Adam state")?;
        let v = all.split_off(all.len() / 2);
        Ok((all, v))
    }
}

struct BatchTensors {
    states: Tensor<2>,
    next_states: Tensor<2>,
    mask_bias: Tensor<2>,
    actions: Tensor<2, Int>,
    rewards: Tensor<2>,
    immediate: Tensor<2>,
    discounts: Tensor<2>,
    weights: Tensor<2>,
    /// `[B, A]` choice weights of each row's next slate (batches with next slates).
    next_slate: Option<Tensor<2>>,
    /// `[B, width]` dropout multipliers per hidden layer (empty: none).
    dropout: Vec<Tensor<2>>,
}

impl BatchTensors {
    fn new(b: &Batch, d: usize, a: usize, dev: &Device) -> Self {
        let n = b.size;
        let col = |v: &[f32]| Tensor::from_data(TensorData::new(v.to_vec(), [n, 1]), dev);
        BatchTensors {
            states: Tensor::from_data(TensorData::new(b.states.clone(), [n, d]), dev),
            next_states: Tensor::from_data(TensorData::new(b.next_states.clone(), [n, d]), dev),
            mask_bias: Tensor::from_data(TensorData::new(b.next_mask_bias.clone(), [n, a]), dev),
            actions: Tensor::<2, Int>::from_data(TensorData::new(b.actions.clone(), [n, 1]), dev),
            rewards: col(&b.rewards),
            immediate: col(&b.immediate),
            discounts: col(&b.discounts),
            weights: col(&b.weights),
            next_slate: (b.slate > 0).then(|| {
                let mut w = vec![0.0f32; n * a];
                for (row, entries) in b.next_slate.chunks_exact(b.slate).enumerate() {
                    for &(act, weight) in entries {
                        w[row * a + act as usize] += weight;
                    }
                }
                Tensor::from_data(TensorData::new(w, [n, a]), dev)
            }),
            dropout: b
                .dropout
                .iter()
                .map(|m| {
                    let width = m.len() / n.max(1);
                    Tensor::from_data(TensorData::new(m.clone(), [n, width]), dev)
                })
                .collect(),
        }
    }
}

/// The burn trainer (see the module docs).
pub struct BurnTrainer {
    layout: ParamLayout,
    /// The (non-autodiff) device.
    device: Device,
    /// `device` with autodiff.
    train_device: Device,
    online: QNetwork,
    target: QNetwork,
    optim: DeviceAdam,
    maps: ActionMaps,
    /// `maps` as tensors.
    map_tensors: MapTensors,
    snapshot: (QNetwork, QNetwork, DeviceAdam),
}

impl BurnTrainer {
    /// A trainer starting from `params` (online and target alike) on `device`.
    pub fn new(layout: ParamLayout, params: &[Vec<f32>], device: Device) -> Result<Self, DqnError> {
        let train_device = device.clone().autodiff();
        let online = QNetwork::from_host(&layout, params, &train_device);
        let target = online.valid();
        let zeros = layout.zeros();
        let optim = DeviceAdam::from_host(&layout, &zeros, &zeros, 0, &device);
        let maps = ActionMaps::new(&layout.shape);
        let map_tensors = MapTensors::new(&layout, &maps, &device);
        Ok(Self {
            snapshot: (online.clone(), target.clone(), optim.clone()),
            layout,
            device,
            train_device,
            online,
            target,
            optim,
            maps,
            map_tensors,
        })
    }

    fn targets(&self, bt: &BatchTensors, double_dqn: bool) -> Tensor<2> {
        let map = &self.map_tensors;
        let q_next_target = self
            .target
            .forward(&self.layout, bt.next_states.clone(), map);
        let next = match &bt.next_slate {
            Some(w) => NextValue::Slate(w.clone()),
            None if double_dqn => NextValue::Double(self.online.valid().forward(
                &self.layout,
                bt.next_states.clone(),
                map,
            )),
            None => NextValue::Max,
        };
        masked_td_target(
            next,
            q_next_target,
            bt.mask_bias.clone(),
            bt.rewards.clone(),
            bt.discounts.clone(),
        )
    }

    /// The loss's gradients (per linear layer: weight, bias), TD errors and chosen-action
    /// Q-values on `batch` (autodiff tensors' inner values).
    #[allow(clippy::type_complexity)]
    fn loss_grads(
        &self,
        batch: &Batch,
        td: TdSpec,
        poison: bool,
    ) -> Result<(Vec<(Tensor<2>, Tensor<1>)>, Tensor<2>, Tensor<2>), DqnError> {
        let bt = self.batch(batch);
        let map_ad = self.map_tensors.autodiff();
        // Q(s, ·) with gradients, and the bootstrap target without. With a reward head,
        // Q = C + R: the TD loss sees R as a constant, R is fitted to the immediate reward.
        let masks: Vec<Tensor<2>> = bt.dropout.iter().map(|m| m.clone().autodiff()).collect();
        let (c, r) = self.online.forward_parts(
            &self.layout,
            bt.states.clone().autodiff(),
            &map_ad,
            (!masks.is_empty()).then_some(masks.as_slice()),
        );
        let q = match &r {
            Some(r) => c + r.clone().detach(),
            None => c,
        };
        let y = self.targets(&bt, td.double_dqn);
        let q_sa = q.gather(1, bt.actions.clone().autodiff());
        let delta = q_sa.clone() - y.autodiff();
        let delta_abs = delta.clone().abs();
        let hd = td.huber_delta;
        let quad = delta_abs.clone().clamp_max(hd);
        let lin = delta_abs - quad.clone();
        let per = quad.square().mul_scalar(0.5) + lin.mul_scalar(hd);
        let mut loss = (per * bt.weights.clone().autodiff()).mean();
        if let Some(r) = r {
            let e = r.gather(1, bt.actions.clone().autodiff()) - bt.immediate.clone().autodiff();
            let rl = (e.square().mul_scalar(0.5) * bt.weights.clone().autodiff()).mean();
            loss = loss + rl.mul_scalar(td.reward_weight);
        }
        if poison {
            loss = loss.mul_scalar(f32::NAN); // NaN loss and NaN gradients
        }
        let mut grads = loss.backward();
        let mut gl = Vec::new();
        for l in self.online.linears() {
            let gw = l.weight.val().grad_remove(&mut grads);
            let gb = l.bias.as_ref().expect("bias").val().grad_remove(&mut grads);
            match (gw, gb) {
                (Some(gw), Some(gb)) => gl.push((gw, gb)),
                _ => return Err(DqnError::Backend("missing gradient".into())),
            }
        }
        Ok((gl, delta.inner(), q_sa.inner()))
    }

    fn batch(&self, batch: &Batch) -> BatchTensors {
        let s = &self.layout.shape;
        BatchTensors::new(batch, s.input_dim, s.num_actions, &self.device)
    }
}

fn non_finite(what: &str) -> DqnError {
    DqnError::NonFinite {
        what: what.into(),
        update: 0,
        restored_update: 0,
    }
}

impl Trainer for BurnTrainer {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    fn set_action_maps(&mut self, maps: &ActionMaps) {
        self.maps.clone_from(maps);
        self.map_tensors = MapTensors::new(&self.layout, &self.maps, &self.device);
    }

    fn update(&mut self, batch: &Batch, spec: &UpdateSpec) -> Result<UpdateOutcome, DqnError> {
        let (gl, delta, q_sa) = self.loss_grads(batch, spec.td, spec.poison)?;
        let (g, norm) = clip_global_norm_tensors(gl, spec.max_norm);
        let mut outcome = UpdateOutcome::default();
        if spec.readback {
            let tx = Transaction::default()
                .register(delta)
                .register(q_sa)
                .register(norm);
            let mut v = read_back(tx, "read-back")?;
            let norm = v.pop().and_then(|n| n.first().copied()).unwrap_or(f32::NAN) as f64;
            let q_sa = v.pop().unwrap_or_default();
            let delta = v.pop().unwrap_or_default();
            // Check the read-back figures before touching the weights.
            if delta.iter().chain(&q_sa).any(|x| !x.is_finite()) {
                return Err(non_finite("TD error / Q-value"));
            }
            if !norm.is_finite() {
                return Err(non_finite("gradient norm"));
            }
            outcome = UpdateOutcome {
                readback: Some(Readback { delta, q_sa }),
                grad_norm: Some(norm),
            };
        }
        self.optim.step(
            &mut self.online,
            g,
            spec.lr,
            spec.eps,
            spec.weight_decay,
            Some((self.layout.hidden.len(), spec.slot_shrinkage)),
        );
        Ok(outcome)
    }

    fn inspect(&self, batch: &Batch, td: TdSpec) -> Result<Inspection, DqnError> {
        let bt = self.batch(batch);
        let y = self.targets(&bt, td.double_dqn);
        let (c, r) = self.online.valid().forward_parts(
            &self.layout,
            bt.states.clone(),
            &self.map_tensors,
            (!bt.dropout.is_empty()).then_some(bt.dropout.as_slice()),
        );
        let q = match &r {
            Some(r) => c + r.clone(),
            None => c,
        };
        let delta = q.gather(1, bt.actions.clone()) - y.clone();
        let mut tx = Transaction::default().register(y).register(delta);
        let has_r = r.is_some();
        if let Some(r) = r {
            tx = tx.register(r.gather(1, bt.actions) - bt.immediate);
        }
        let mut v = read_back(tx, "inspection")?.into_iter();
        Ok(Inspection {
            targets: v.next().unwrap_or_default(),
            td_errors: v.next().unwrap_or_default(),
            reward_errors: if has_r { v.next() } else { None },
        })
    }

    fn gradients(&self, batch: &Batch, td: TdSpec) -> Result<Vec<Vec<f32>>, DqnError> {
        let (gl, _, _) = self.loss_grads(batch, td, false)?;
        let mut tx = Transaction::default();
        for (w, b) in gl {
            tx = tx.register(w).register(b);
        }
        read_back(tx, "gradients")
    }

    fn update_target(&mut self, how: TargetUpdate) {
        match how {
            TargetUpdate::Hard => self.target = self.online.valid(),
            TargetUpdate::Soft(tau) => {
                let tau = tau as f32;
                let online = layer_tensors(&self.online);
                for (lin, (ow, ob)) in self.target.linears_mut().into_iter().zip(online) {
                    let w = lin.weight.clone();
                    lin.weight = w.map(|t| t.mul_scalar(1.0 - tau) + ow.mul_scalar(tau));
                    let b = lin.bias.take().expect("bias");
                    lin.bias = Some(b.map(|t| t.mul_scalar(1.0 - tau) + ob.mul_scalar(tau)));
                }
            }
        }
    }

    fn online_params(&self) -> Result<Vec<Vec<f32>>, DqnError> {
        self.online.to_host()
    }

    fn target_params(&self) -> Result<Vec<Vec<f32>>, DqnError> {
        self.target.to_host()
    }

    fn state(&self) -> Result<TrainerState, DqnError> {
        let (m, v) = self.optim.to_host()?;
        Ok(TrainerState {
            online: self.online.to_host()?,
            target: self.target.to_host()?,
            m,
            v,
            t: self.optim.t,
        })
    }

    fn restore(&mut self, s: TrainerState) -> Result<(), DqnError> {
        self.online = QNetwork::from_host(&self.layout, &s.online, &self.train_device);
        self.target = QNetwork::from_host(&self.layout, &s.target, &self.device);
        self.optim = DeviceAdam::from_host(&self.layout, &s.m, &s.v, s.t, &self.device);
        Ok(())
    }

    fn take_snapshot(&mut self) {
        self.snapshot = (self.online.clone(), self.target.clone(), self.optim.clone());
    }

    fn restore_snapshot(&mut self) {
        let (online, target, optim) = self.snapshot.clone();
        self.online = online;
        self.target = target;
        self.optim = optim;
    }

    fn acting_net(&self) -> Result<CpuPolicy, DqnError> {
        Ok(CpuPolicy::from_host(
            &self.layout,
            &self.online.to_host()?,
            &self.maps,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_norm_clipping_on_tensors() {
        let d = Device::flex();
        let gw = Tensor::<2>::from_data(TensorData::new(vec![3.0f32, 4.0], [1, 2]), &d);
        let gb = Tensor::<1>::from_data(TensorData::new(vec![12.0f32], [1]), &d);
        // norm = sqrt(3² + 4² + 12²) = 13
        let (out, norm) = clip_global_norm_tensors(vec![(gw, gb)], 6.5);
        let n: Vec<f32> = norm.into_data().try_to_vec().unwrap();
        assert!((n[0] - 13.0).abs() < 1e-4);
        let w: Vec<f32> = out[0].0.clone().into_data().try_to_vec().unwrap();
        let b: Vec<f32> = out[0].1.clone().into_data().try_to_vec().unwrap();
        assert!(
            (w[0] - 1.5).abs() < 1e-4 && (w[1] - 2.0).abs() < 1e-4 && (b[0] - 6.0).abs() < 1e-4
        );
    }
}
