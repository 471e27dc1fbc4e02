//! The CPU update's kernels: the Double-DQN TD gradient of the network written out by hand
//! over [`super::gemm::matmul`], on host weight vectors, with no tensor library in between.
//!
//! The loss only touches `Q(s, a)` of the taken action, so the output layer's forward on `s`
//! is a dot product per row and its backward a rank-1 scatter instead of two matrix products;
//! with Double DQN the target network is also evaluated at one action per row. Each head adds
//! its own one-action term and backward (`heads/`), looped over in canonical order. The batch
//! is split in two halves computed on two threads, each with single-threaded gemm calls, and
//! the halves' gradients are summed in the optimizer step.

use std::borrow::Cow;

use super::super::heads::{ActionMaps, Dims, content, dueling, features, group, reward};
use super::super::norm::layer_norm;
use super::super::replay::Batch;
use super::super::shape::{Head, ParamLayout};
use super::super::simd::avx2_dispatch;
use super::super::trainer::TdSpec;
use super::gemm::matmul;

/// Gradients of the (importance-weighted, batch-mean) Huber TD loss, with the TD errors and
/// the chosen-action Q-values of the batch.
#[derive(Debug, Clone, Default)]
pub struct TdGrads {
    /// One vector per parameter, in layout order.
    pub grads: Vec<Vec<f32>>,
    /// `Q(s, a) − y` per row.
    pub delta: Vec<f32>,
    /// `Q(s, a)` per row.
    pub q_sa: Vec<f32>,
    /// `R(s, a) − r` per row, the reward head's error on the immediate reward (empty without
    /// a reward head).
    pub reward_delta: Vec<f32>,
}

/// One half of the batch's buffers (reused: an update allocates little).
#[derive(Debug, Default)]
pub struct Half {
    /// Post-ReLU outputs of each hidden layer on the states (kept for backward).
    acts: Vec<Vec<f32>>,
    /// With layer normalisation, per hidden layer on the states: the normalised
    /// pre-activations and each row's 1/σ (kept for backward).
    norm: Vec<(Vec<f32>, Vec<f32>)>,
    /// Hidden outputs on the next states (no backward).
    next: Vec<Vec<f32>>,
    /// Full output layer on the next states `[rows, num_actions]`.
    head: Vec<f32>,
    /// Upstream gradient ping-pong buffers.
    da: Vec<f32>,
    db: Vec<f32>,
    /// What this half computed.
    pub out: TdGrads,
}

/// One network's weights prepared for evaluation: the output layer with the group head
/// folded in, and what each head computes once per update.
pub struct Net<'a> {
    layout: &'a ParamLayout,
    params: &'a [Vec<f32>],
    dims: Dims,
    w_out: Cow<'a, [f32]>,
    b_out: Cow<'a, [f32]>,
    /// Per head (layout order): what it prepared (empty when nothing).
    prep: Vec<Vec<f32>>,
}

impl<'a> Net<'a> {
    /// Prepare `params` (laid out by `layout`) with each action's group and content.
    pub fn new(layout: &'a ParamLayout, params: &'a [Vec<f32>], maps: &ActionMaps) -> Self {
        let dims = Dims::of(&layout.shape);
        let out = layout.output;
        let mut w_out = Cow::Borrowed(out.weight(params));
        let mut b_out = Cow::Borrowed(out.bias(params));
        for &(head, dense) in &layout.heads {
            match head {
                Head::Group { .. } => {
                    group::fold(dense, params, &maps.groups, w_out.to_mut(), b_out.to_mut())
                }
                Head::Content { .. } => {
                    content::fold(dense, params, &maps.content, w_out.to_mut(), b_out.to_mut())
                }
                Head::GatedContent { .. } => unreachable!("{}", super::NOT_ROW_LOCAL),
                Head::Dueling | Head::ActionFeatures { .. } | Head::Reward => {}
            }
        }
        let prep = layout
            .heads
            .iter()
            .map(|&(head, dense)| match head {
                Head::Dueling => dueling::prepare(dims, dense, params, &w_out, &b_out),
                Head::Group { .. }
                | Head::Content { .. }
                | Head::GatedContent { .. }
                | Head::ActionFeatures { .. }
                | Head::Reward => Vec::new(),
            })
            .collect();
        Self {
            layout,
            params,
            dims,
            w_out,
            b_out,
            prep,
        }
    }

    /// `Q(s, act)` for one state row `x` whose last-hidden features are `h`.
    pub fn q(&self, h: &[f32], x: &[f32], act: usize) -> f32 {
        let a = self.dims.a;
        let mut q = self.b_out[act];
        let w: &[f32] = &self.w_out;
        for (k, &hk) in h.iter().enumerate() {
            q += hk * w[k * a + act];
        }
        for (i, &(head, dense)) in self.layout.heads.iter().enumerate() {
            match head {
                Head::Dueling => dueling::add_q(&self.prep[i], h, &mut q),
                Head::Group { .. } | Head::Content { .. } => {} // folded into the output layer
                Head::GatedContent { .. } => unreachable!("{}", super::NOT_ROW_LOCAL),
                Head::ActionFeatures { .. } => {
                    features::View::new(dense, self.params).add_q(self.dims, h, x, act, &mut q)
                }
                Head::Reward => q += reward::r(self.dims, dense, self.params, h, act),
            }
        }
        q
    }

    /// The output layer (advantages when dueling) on all actions of `rows` last-hidden rows
    /// `h` of states `x`: `out[rows × A]`.
    fn q_all(&self, h: &[f32], x: &[f32], rows: usize, out: &mut Vec<f32>) {
        let Dims { d, a, .. } = self.dims;
        out.clear();
        for _ in 0..rows {
            out.extend_from_slice(&self.b_out);
        }
        matmul(rows, a, d, out, a, true, h, d, 1, &self.w_out, a, 1);
        for &(head, dense) in &self.layout.heads {
            match head {
                // The combination is constant per row: argmax and max need only advantages.
                Head::Dueling => {}
                Head::Group { .. } | Head::Content { .. } => {} // folded into the output layer
                Head::GatedContent { .. } => unreachable!("{}", super::NOT_ROW_LOCAL),
                Head::ActionFeatures { .. } => {
                    features::View::new(dense, self.params).add_all(self.dims, h, x, rows, out)
                }
                Head::Reward => reward::add_all(self.dims, dense, self.params, h, rows, out),
            }
        }
    }
}

/// What both halves of an update read: the networks, the batch, and what is computed once
/// per update from the weights.
pub struct Ctx<'a> {
    layout: &'a ParamLayout,
    online: &'a [Vec<f32>],
    batch: &'a Batch,
    spec: TdSpec,
    dims: Dims,
    online_net: Net<'a>,
    target_net: Net<'a>,
    /// Each action's group and content.
    maps: &'a ActionMaps,
    /// The shape of each parameter.
    shapes: Vec<Vec<usize>>,
    /// Parameters whose gradient a gemm overwrites (the hidden weights): not zeroed first.
    overwritten: Vec<bool>,
}

impl<'a> Ctx<'a> {
    /// The context of one update.
    pub fn new(
        layout: &'a ParamLayout,
        online: &'a [Vec<f32>],
        target: &'a [Vec<f32>],
        batch: &'a Batch,
        spec: TdSpec,
        maps: &'a ActionMaps,
    ) -> Self {
        let mut overwritten = vec![false; layout.len()];
        for l in &layout.hidden {
            overwritten[l.w] = true;
        }
        Ctx {
            layout,
            online,
            batch,
            spec,
            dims: Dims::of(&layout.shape),
            online_net: Net::new(layout, online, maps),
            target_net: Net::new(layout, target, maps),
            maps,
            shapes: layout.param_shapes(),
            overwritten,
        }
    }
}

/// The hidden stack on `rows` states `x` (rows of `input_dim`, of which it reads the trunk
/// input); `outs[l]` receives layer `l`'s ReLU output.
fn forward_hidden(
    layout: &ParamLayout,
    params: &[Vec<f32>],
    x: &[f32],
    rows: usize,
    outs: &mut Vec<Vec<f32>>,
) {
    forward_hidden_training(layout, params, x, rows, outs, None, None);
}

/// [`forward_hidden`] of a training update: with layer normalisation, its statistics kept
/// in `norm`; with dropout, each layer's output multiplied by its mask's rows from `r0`
/// (`masks[l]` holds the whole batch's, [`Batch::dropout`]).
fn forward_hidden_training(
    layout: &ParamLayout,
    params: &[Vec<f32>],
    x: &[f32],
    rows: usize,
    outs: &mut Vec<Vec<f32>>,
    masks: Option<(&[Vec<f32>], usize)>,
    mut norm: Option<&mut Vec<(Vec<f32>, Vec<f32>)>>,
) {
    if let Some(n) = norm.as_mut() {
        n.resize_with(layout.norms.len(), Default::default);
    }
    outs.resize_with(layout.hidden.len(), Vec::new);
    let input_dim = layout.shape.input_dim;
    for (l, dense) in layout.hidden.iter().enumerate() {
        let (d_in, d_out) = (dense.d_in, dense.d_out);
        let (w, b) = (dense.weight(params), dense.bias(params));
        let (before, rest) = outs.split_at_mut(l);
        let y = &mut rest[0];
        y.clear();
        for _ in 0..rows {
            y.extend_from_slice(b);
        }
        let (input, in_rs): (&[f32], usize) = if l == 0 {
            (x, input_dim)
        } else {
            (&before[l - 1], d_in)
        };
        matmul(
            rows, d_out, d_in, y, d_out, true, input, in_rs, 1, w, d_out, 1,
        );
        if let Some(nd) = layout.norms.get(l) {
            let cache = norm.as_mut().map(|n| {
                let (xhat, rstd) = &mut n[l];
                (xhat, rstd)
            });
            layer_norm(y, rows, nd.weight(params), nd.bias(params), cache);
        }
        for v in y.iter_mut() {
            *v = v.max(0.0);
        }
        if let Some((masks, r0)) = masks {
            let m = &masks[l][r0 * d_out..(r0 + rows) * d_out];
            for (v, &k) in y.iter_mut().zip(m) {
                *v *= k;
            }
        }
    }
}

/// Index of the largest `q[j] + bias[j]` (the first on ties).
fn masked_argmax_row(q: &[f32], bias: &[f32]) -> usize {
    let mut arg = 0;
    let mut m = f32::NEG_INFINITY;
    for j in 0..q.len() {
        let v = q[j] + bias[j];
        if v > m {
            m = v;
            arg = j;
        }
    }
    arg
}

/// Bootstrap values `v_i = Q_target(s'_i, a*_i)` (0 when the discount is 0) for rows
/// `r0..r0+rows` and the targets `y_i = r_i + discount_i · v_i`. A batch with next slates
/// bootstraps from `v_i = Σ_k w_ik · Q_target(s'_i, a_ik)` over row i's slate instead.
pub fn targets_half(cx: &Ctx<'_>, r0: usize, rows: usize, h: &mut Half, y: &mut Vec<f32>) {
    let Ctx {
        layout,
        online,
        batch,
        ..
    } = *cx;
    let Dims {
        d,
        a,
        input_dim: din,
        ..
    } = cx.dims;
    let last = layout.hidden.len() - 1;
    let xn = &batch.next_states[r0 * din..(r0 + rows) * din];
    let bias = &batch.next_mask_bias[r0 * a..(r0 + rows) * a];
    let target = cx.target_net.params;
    y.clear();
    if batch.slate > 0 {
        forward_hidden(layout, target, xn, rows, &mut h.next);
        let net = &cx.target_net;
        let k = batch.slate;
        for i in 0..rows {
            let disc = batch.discounts[r0 + i];
            let hrow = &h.next[last][i * d..(i + 1) * d];
            let x = &xn[i * din..(i + 1) * din];
            let v: f32 = if disc > 0.0 {
                batch.next_slate[(r0 + i) * k..(r0 + i + 1) * k]
                    .iter()
                    .filter(|&&(_, w)| w != 0.0)
                    .map(|&(act, w)| w * net.q(hrow, x, act as usize))
                    .sum()
            } else {
                0.0
            };
            y.push(batch.rewards[r0 + i] + disc * v);
        }
    } else if cx.spec.double_dqn {
        forward_hidden(layout, online, xn, rows, &mut h.next);
        cx.online_net.q_all(&h.next[last], xn, rows, &mut h.head);
        // argmax of Q = argmax of the advantages (V and mean(A) are constant per row).
        let best: Vec<usize> = (0..rows)
            .map(|i| masked_argmax_row(&h.head[i * a..(i + 1) * a], &bias[i * a..(i + 1) * a]))
            .collect();
        forward_hidden(layout, target, xn, rows, &mut h.next);
        let net = &cx.target_net;
        for (i, &act) in best.iter().enumerate() {
            let disc = batch.discounts[r0 + i];
            let v = if disc > 0.0 {
                net.q(
                    &h.next[last][i * d..(i + 1) * d],
                    &xn[i * din..(i + 1) * din],
                    act,
                )
            } else {
                0.0
            };
            y.push(batch.rewards[r0 + i] + disc * v);
        }
    } else {
        forward_hidden(layout, target, xn, rows, &mut h.next);
        let net = &cx.target_net;
        net.q_all(&h.next[last], xn, rows, &mut h.head);
        let reward_head = layout.shape.reward_head();
        let dueling = layout.dueling();
        for i in 0..rows {
            let disc = batch.discounts[r0 + i];
            let q = &h.head[i * a..(i + 1) * a];
            let bi = &bias[i * a..(i + 1) * a];
            let m = q
                .iter()
                .zip(bi)
                .fold(f32::NEG_INFINITY, |m, (&q, &b)| m.max(q + b));
            let hrow = &h.next[last][i * d..(i + 1) * d];
            let v = if disc <= 0.0 {
                0.0
            } else if reward_head {
                // The advantages' mean excludes R: evaluate Q at the argmax instead.
                let arg = (0..a)
                    .max_by(|&j, &k| (q[j] + bi[j]).total_cmp(&(q[k] + bi[k])))
                    .expect("at least one action");
                net.q(hrow, &xn[i * din..(i + 1) * din], arg)
            } else if let Some(value) = dueling {
                dueling::plain_max_value(value, target, hrow, q, m)
            } else {
                m
            };
            y.push(batch.rewards[r0 + i] + disc * v);
        }
    }
}

/// Forward, loss and backward on rows `r0..r0+rows` (the loss is a mean over the whole
/// batch).
pub fn grads_half(cx: &Ctx<'_>, r0: usize, rows: usize, h: &mut Half) {
    let Ctx {
        layout,
        online,
        batch,
        spec,
        dims,
        ..
    } = *cx;
    let n_total = batch.size;
    let Dims {
        d,
        a,
        input_dim: din,
        ..
    } = dims;
    let nl = layout.hidden.len();
    let mut y = Vec::with_capacity(rows);
    targets_half(cx, r0, rows, h, &mut y);

    let x = &batch.states[r0 * din..(r0 + rows) * din];
    let actions = &batch.actions[r0..r0 + rows];
    let masks = (!batch.dropout.is_empty()).then_some((batch.dropout.as_slice(), r0));
    forward_hidden_training(
        layout,
        online,
        x,
        rows,
        &mut h.acts,
        masks,
        Some(&mut h.norm),
    );
    let net = &cx.online_net;
    let hd = spec.huber_delta;
    let out = &mut h.out;
    out.delta.clear();
    out.q_sa.clear();
    // dL/dQ(s_i, a_i) for each row.
    let mut g = Vec::with_capacity(rows);
    for (i, &yi) in y.iter().enumerate() {
        let act = actions[i] as usize;
        let q = net.q(
            &h.acts[nl - 1][i * d..(i + 1) * d],
            &x[i * din..(i + 1) * din],
            act,
        );
        let delta = q - yi;
        out.q_sa.push(q);
        out.delta.push(delta);
        g.push(batch.weights[r0 + i] * delta.clamp(-hd, hd) / n_total as f32);
    }

    // Losses of their own (the reward head's error on the immediate reward).
    out.reward_delta.clear();
    let mut g_r = Vec::new();
    let hl = &h.acts[nl - 1];
    for &(head, dense) in &layout.heads {
        match head {
            Head::Reward => reward::loss(
                dims,
                dense,
                online,
                batch,
                r0,
                hl,
                spec.reward_weight,
                &mut out.reward_delta,
                &mut g_r,
            ),
            Head::Dueling
            | Head::Group { .. }
            | Head::Content { .. }
            | Head::ActionFeatures { .. } => {}
            Head::GatedContent { .. } => unreachable!("{}", super::NOT_ROW_LOCAL),
        }
    }

    // Gradients, zeroed, in layout order.
    out.grads.resize_with(cx.shapes.len(), Vec::new);
    for (i, (gv, s)) in out.grads.iter_mut().zip(&cx.shapes).enumerate() {
        let len = s.iter().product();
        if cx.overwritten[i] && gv.len() == len {
            continue; // overwritten by their gemm below
        }
        gv.clear();
        gv.resize(len, 0.0);
    }

    // Output layer: sparse in the action.
    let output = layout.output;
    h.da.clear();
    h.da.resize(rows * d, 0.0);
    {
        let (gw, rest) = out.grads[output.w..].split_at_mut(1);
        let gw = &mut gw[0];
        let gb = &mut rest[0];
        let w_out: &[f32] = &net.w_out;
        for i in 0..rows {
            let act = actions[i] as usize;
            let gi = g[i];
            gb[act] += gi;
            let hrow = &hl[i * d..(i + 1) * d];
            let darow = &mut h.da[i * d..(i + 1) * d];
            for k in 0..d {
                gw[k * a + act] += gi * hrow[k];
                darow[k] = gi * w_out[k * a + act];
            }
        }
    }
    // The heads, in canonical order.
    for (hi, &(head, dense)) in layout.heads.iter().enumerate() {
        match head {
            Head::Dueling => dueling::backward(
                dims,
                &net.prep[hi],
                &g,
                hl,
                &mut h.da,
                &mut out.grads,
                output,
                dense,
            ),
            Head::Group { .. } | Head::Content { .. } => {
                // A folded head's gradients are the folded output layer's, summed per group
                // (group) or projected on each action's content (content).
                let (head_grads, rest) = out.grads.split_at_mut(dense.w);
                let (gw, gb) = rest.split_at_mut(1);
                let (fw, fb) = (&head_grads[output.w], &head_grads[output.b()]);
                let (gw, gb) = (&mut gw[0], &mut gb[0]);
                match head {
                    Head::Group { .. } => group::unfold_grads(fw, fb, &cx.maps.groups, gw, gb),
                    _ => content::unfold_grads(fw, fb, &cx.maps.content, gw, gb),
                }
            }
            Head::GatedContent { .. } => unreachable!("{}", super::NOT_ROW_LOCAL),
            Head::ActionFeatures { .. } => features::View::new(dense, online).backward(
                dims,
                dense,
                x,
                actions,
                &g,
                hl,
                &mut h.da,
                &mut out.grads,
            ),
            // Q's TD loss sees R as a constant: R's gradients come from its own loss.
            Head::Reward => reward::backward(
                dims,
                dense,
                online,
                actions,
                &g_r,
                hl,
                &mut h.da,
                &mut out.grads,
            ),
        }
    }

    // Hidden layers, last to first.
    for l in (0..nl).rev() {
        let dense = layout.hidden[l];
        let (d_in, d_out) = (dense.d_in, dense.d_out);
        // dz = da ⊙ relu'(z), and ⊙ the dropout mask (a dropped unit's output is 0 already).
        relu_mask(&mut h.da, &h.acts[l]);
        if let Some((masks, r0)) = masks {
            let m = &masks[l][r0 * d_out..(r0 + rows) * d_out];
            for (v, &k) in h.da.iter_mut().zip(m) {
                *v *= k;
            }
        }
        // Through layer normalisation: the scale's and shift's gradients, then
        // dz = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂ ⊙ x̂)) with dx̂ = dy ⊙ γ, per row.
        if let Some(nd) = layout.norms.get(l) {
            let (xhat, rstd) = &h.norm[l];
            let gamma = nd.weight(online);
            let (gg, rest) = out.grads[nd.w..].split_at_mut(1);
            let (gg, gb) = (&mut gg[0], &mut rest[0]);
            let mut dxh = vec![0.0f32; d_out];
            for i in 0..rows {
                let dy = &mut h.da[i * d_out..(i + 1) * d_out];
                let xh = &xhat[i * d_out..(i + 1) * d_out];
                for k in 0..d_out {
                    gg[k] += dy[k] * xh[k];
                    gb[k] += dy[k];
                    dxh[k] = dy[k] * gamma[k];
                }
                let m1 = dxh.iter().sum::<f32>() / d_out as f32;
                let m2 = dxh.iter().zip(xh).map(|(a, b)| a * b).sum::<f32>() / d_out as f32;
                for k in 0..d_out {
                    dy[k] = rstd[i] * (dxh[k] - m1 - xh[k] * m2);
                }
            }
        }
        let (input, in_rs): (&[f32], usize) = if l == 0 {
            (x, din)
        } else {
            (&h.acts[l - 1], d_in)
        };
        // dW = inputᵀ · dz
        matmul(
            d_in,
            d_out,
            rows,
            &mut out.grads[dense.w],
            d_out,
            false,
            input,
            1,
            in_rs,
            &h.da,
            d_out,
            1,
        );
        let gb = &mut out.grads[dense.b()];
        for i in 0..rows {
            for (b, &v) in gb.iter_mut().zip(&h.da[i * d_out..(i + 1) * d_out]) {
                *b += v;
            }
        }
        if l > 0 {
            // da_prev = dz · Wᵀ
            h.db.clear();
            h.db.resize(rows * d_in, 0.0);
            matmul(
                rows,
                d_in,
                d_out,
                &mut h.db,
                d_in,
                false,
                &h.da,
                d_out,
                1,
                dense.weight(online),
                1,
                d_out,
            );
            std::mem::swap(&mut h.da, &mut h.db);
        }
    }
}

#[inline(always)]
fn relu_mask_generic(d: &mut [f32], act: &[f32]) {
    for (v, &a) in d.iter_mut().zip(act) {
        *v = if a > 0.0 { *v } else { 0.0 };
    }
}

avx2_dispatch! {
    /// `d ⊙ relu'(z)` given the ReLU outputs `act` (branch-free, vectorised).
    fn relu_mask(d: &mut [f32], act: &[f32]) => relu_mask_generic
}
