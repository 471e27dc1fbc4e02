//! Acting: the [`ActingNet`] trait (Q-values of a state, the greedy action, the top k) and its
//! first form, [`CpuPolicy`], a plain-Rust f32 copy of the online network. Acting on it never
//! touches the training device (no GPU sync per env step); the learner refreshes it every
//! `policy_sync_period` gradient updates. Heads fold into its output layer where they can
//! (group, reward); the others keep a layer of their own. The inner loop is an axpy over
//! contiguous output rows, dispatched to an AVX2 + FMA build at run time.

use super::heads::{ActionMaps, Dims, content, dueling, features, group, reward};
use super::norm::layer_norm;
use super::shape::{Dense, Head, ParamLayout};
use super::simd::avx2_dispatch;

/// A network the learner acts with.
pub trait ActingNet: Send + Sync + std::fmt::Debug {
    /// State length.
    fn input_dim(&self) -> usize;

    /// Number of actions.
    fn num_actions(&self) -> usize;

    /// Q-values of one state into `out` (`num_actions` long).
    fn q_values(&self, state: &[f32], out: &mut [f32]);

    /// The `k` valid actions of highest Q, best first (ties to the lower index; fewer when
    /// fewer are valid), into `out`.
    fn top_k(&self, state: &[f32], mask: &[bool], k: usize, out: &mut Vec<usize>) {
        let mut q = vec![0.0f32; self.num_actions()];
        self.q_values(state, &mut q);
        top_k(&q, mask, k, out);
    }
}

/// The `k` indices of largest `q[i]` with `mask[i]`, best first; ties go to the lower index
/// and NaN ranks below every number.
pub fn top_k(q: &[f32], mask: &[bool], k: usize, out: &mut Vec<usize>) {
    out.clear();
    out.extend((0..q.len()).filter(|&i| mask.get(i).copied().unwrap_or(false)));
    let key = |&i: &usize| {
        (
            if q[i].is_nan() {
                f32::NEG_INFINITY
            } else {
                q[i]
            },
            i,
        )
    };
    let cmp = |a: &usize, b: &usize| {
        let (qa, ia) = key(a);
        let (qb, ib) = key(b);
        qb.total_cmp(&qa).then(ia.cmp(&ib))
    };
    if k < out.len() {
        out.select_nth_unstable_by(k, cmp);
        out.truncate(k);
    }
    out.sort_unstable_by(cmp);
}

/// Index of the largest `q[i]` with `mask[i]`; `None` when no action is valid. Ties go to
/// the lowest index; NaN values are never chosen over finite ones.
pub fn masked_argmax(q: &[f32], mask: &[bool]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, (&v, &m)) in q.iter().zip(mask).enumerate() {
        if !m {
            continue;
        }
        match best {
            None => best = Some((i, v)),
            Some((_, bv)) if v > bv || (bv.is_nan() && !v.is_nan()) => best = Some((i, v)),
            _ => {}
        }
    }
    best.map(|(i, _)| i)
}

/// One dense layer, weights row-major `[d_in, d_out]`.
#[derive(Debug, Clone)]
pub struct CpuLayer {
    d_in: usize,
    d_out: usize,
    w: Vec<f32>,
    b: Vec<f32>,
    /// Layer normalisation's scale and shift, applied before the ReLU.
    norm: Option<(Vec<f32>, Vec<f32>)>,
}

impl CpuLayer {
    /// A layer from row-major `[d_in, d_out]` weights and `d_out` biases.
    pub fn new(d_in: usize, d_out: usize, w: Vec<f32>, b: Vec<f32>) -> Self {
        assert_eq!(w.len(), d_in * d_out);
        assert_eq!(b.len(), d_out);
        Self {
            d_in,
            d_out,
            w,
            b,
            norm: None,
        }
    }

    fn of(dense: Dense, params: &[Vec<f32>]) -> Self {
        Self::new(
            dense.d_in,
            dense.d_out,
            dense.weight(params).to_vec(),
            dense.bias(params).to_vec(),
        )
    }

    fn forward(&self, x: &[f32], y: &mut Vec<f32>, relu: bool) {
        y.clear();
        y.extend_from_slice(&self.b);
        dense(&self.w, x, y, self.d_out);
        if let Some((gamma, beta)) = &self.norm {
            layer_norm(y, 1, gamma, beta, None);
        }
        if relu {
            for v in y.iter_mut() {
                *v = v.max(0.0);
            }
        }
    }
}

#[inline(always)]
fn dense_generic(w: &[f32], x: &[f32], y: &mut [f32], d_out: usize) {
    for (i, &xi) in x.iter().enumerate() {
        if xi == 0.0 {
            continue; // ReLU zeros and one-hot inputs are common
        }
        let row = &w[i * d_out..(i + 1) * d_out];
        for (yo, &wo) in y.iter_mut().zip(row) {
            *yo += xi * wo;
        }
    }
}

avx2_dispatch! {
    /// `y += xᵀ·w` for row-major `w` `[x.len(), d_out]`.
    fn dense(w: &[f32], x: &[f32], y: &mut [f32], d_out: usize) => dense_generic
}

/// The f32 acting copy of the Q-network.
#[derive(Debug, Clone)]
pub struct CpuPolicy {
    hidden: Vec<CpuLayer>,
    /// The output layer, with the heads that fold into it folded in.
    output: CpuLayer,
    /// The heads that keep a layer of their own, in canonical order.
    kept: Vec<(Head, CpuLayer)>,
    /// Features per action at the end of the state (0 = none).
    features: usize,
    /// Gated content: each action's content (`[actions, len]`) and the modalities.
    content: Vec<f32>,
    modalities: usize,
    max_width: usize,
}

impl CpuPolicy {
    /// A policy of plain layers: `hidden` (ReLU), the output layer, and a dueling value layer.
    pub fn new(hidden: Vec<CpuLayer>, output: CpuLayer, value: Option<CpuLayer>) -> Self {
        let max_width = hidden
            .iter()
            .map(|l| l.d_in.max(l.d_out))
            .chain([output.d_in, output.d_out])
            .max()
            .unwrap_or(1);
        Self {
            hidden,
            output,
            kept: value.map(|v| (Head::Dueling, v)).into_iter().collect(),
            features: 0,
            content: Vec::new(),
            modalities: 0,
            max_width,
        }
    }

    /// The acting copy of host parameters laid out by `layout`, with each action's group and
    /// content for the heads that fold them.
    pub fn from_host(layout: &ParamLayout, params: &[Vec<f32>], maps: &ActionMaps) -> Self {
        let dims = Dims::of(&layout.shape);
        let hidden = layout
            .hidden
            .iter()
            .enumerate()
            .map(|(l, &d)| {
                let mut layer = CpuLayer::of(d, params);
                layer.norm = layout
                    .norms
                    .get(l)
                    .map(|n| (n.weight(params).to_vec(), n.bias(params).to_vec()));
                layer
            })
            .collect();
        let mut output = CpuLayer::of(layout.output, params);
        let mut value = layout.dueling().map(|d| CpuLayer::of(d, params));
        // Fold what folds into the output (and value) layer.
        for &(head, dense) in &layout.heads {
            match head {
                Head::Group { .. } => {
                    group::fold(dense, params, &maps.groups, &mut output.w, &mut output.b)
                }
                Head::Content { .. } => {
                    content::fold(dense, params, &maps.content, &mut output.w, &mut output.b)
                }
                Head::GatedContent { .. } => {}
                Head::Reward => reward::fold(
                    dims,
                    dense,
                    params,
                    (&mut output.w, &mut output.b),
                    value.as_mut().map(|v| (&mut v.w[..], &mut v.b[..])),
                ),
                Head::Dueling | Head::ActionFeatures { .. } => {}
            }
        }
        let mut policy = Self::new(hidden, output, value);
        for &(head, dense) in &layout.heads {
            match head {
                Head::ActionFeatures { features } => {
                    policy.kept.push((head, CpuLayer::of(dense, params)));
                    policy.features = features;
                }
                Head::GatedContent { modalities, .. } => {
                    policy.kept.push((head, CpuLayer::of(dense, params)));
                    policy.content = maps.content.clone();
                    policy.modalities = modalities;
                }
                Head::Dueling | Head::Group { .. } | Head::Content { .. } | Head::Reward => {}
            }
        }
        policy.kept.sort_by_key(|(h, _)| *h);
        policy
    }

    /// Length of the part of the state the hidden stack reads.
    fn trunk_input(&self) -> usize {
        self.hidden.first().map_or(self.output.d_in, |l| l.d_in)
    }
}

impl ActingNet for CpuPolicy {
    fn input_dim(&self) -> usize {
        self.trunk_input() + self.features * self.output.d_out
    }

    fn num_actions(&self) -> usize {
        self.output.d_out
    }

    fn q_values(&self, state: &[f32], out: &mut [f32]) {
        assert_eq!(state.len(), self.input_dim());
        assert_eq!(out.len(), self.num_actions());
        let trunk = self.trunk_input();
        let mut a = Vec::with_capacity(self.max_width);
        let mut b = Vec::with_capacity(self.max_width);
        a.extend_from_slice(&state[..trunk]);
        for l in &self.hidden {
            l.forward(&a, &mut b, true);
            std::mem::swap(&mut a, &mut b);
        }
        self.output.forward(&a, &mut b, false);
        let mut tmp = Vec::new();
        for (head, layer) in &self.kept {
            match head {
                Head::ActionFeatures { .. } => {
                    layer.forward(&a, &mut tmp, false);
                    features::act_add(&tmp, &state[trunk..], &mut b);
                }
                Head::GatedContent { .. } => {
                    layer.forward(&a, &mut tmp, false);
                    content::act_add_gated(&tmp, &self.content, self.modalities, &mut b);
                }
                Head::Dueling => {} // combined last
                // Folded into the output layer.
                Head::Group { .. } | Head::Content { .. } | Head::Reward => {}
            }
        }
        out.copy_from_slice(&b);
        for (head, layer) in &self.kept {
            match head {
                Head::Dueling => {
                    layer.forward(&a, &mut tmp, false);
                    dueling::act_combine(tmp[0], &b, out);
                }
                Head::ActionFeatures { .. }
                | Head::Group { .. }
                | Head::Content { .. }
                | Head::GatedContent { .. }
                | Head::Reward => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_argmax_skips_invalid_best() {
        let q = [5.0, 1.0, 9.0, 2.0];
        assert_eq!(masked_argmax(&q, &[true, true, false, true]), Some(0));
        assert_eq!(masked_argmax(&q, &[false, false, false, false]), None);
        assert_eq!(masked_argmax(&q, &[false, true, false, false]), Some(1));
    }

    #[test]
    fn top_k_ranks_valid_actions_best_first() {
        let q = [5.0, 1.0, 9.0, 2.0, 5.0, f32::NAN];
        let mask = [true, true, false, true, true, true];
        let mut out = Vec::new();
        top_k(&q, &mask, 3, &mut out);
        assert_eq!(out, vec![0, 4, 3]); // 9 is masked; the tie 5/5 goes to the lower index
        top_k(&q, &mask, 10, &mut out);
        assert_eq!(out, vec![0, 4, 3, 1, 5]); // NaN last
        top_k(&q, &[false; 6], 2, &mut out);
        assert!(out.is_empty());
        top_k(&q, &mask, 0, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn cpu_forward_by_hand() {
        // 2 -> 2 (relu) -> 2, dueling.
        let h = CpuLayer::new(2, 2, vec![1.0, -1.0, 2.0, 0.5], vec![0.0, 0.1]);
        let head = CpuLayer::new(2, 2, vec![1.0, 0.0, 0.0, 1.0], vec![0.0, 0.0]);
        let v = CpuLayer::new(2, 1, vec![1.0, 1.0], vec![0.5]);
        let p = CpuPolicy::new(vec![h], head, Some(v));
        let mut out = [0.0; 2];
        p.q_values(&[1.0, 1.0], &mut out);
        // hidden = relu([3, -0.4]) = [3, 0]; A = [3, 0], mean 1.5; V = 3.5 -> Q = [5, 2]
        assert!(
            (out[0] - 5.0).abs() < 1e-6 && (out[1] - 2.0).abs() < 1e-6,
            "{out:?}"
        );
    }
}
