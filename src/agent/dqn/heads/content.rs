//! The content head, an item tower: each action's public content vector `c_a` (its stream's
//! text, visual and audio embeddings, every modality one after another) enters its Q-value as
//! `(V·h + β)·c_a`, so what the learner learns about content carries to every stream — a
//! newcomer is valued from its content before anyone has watched it — and the replay buffer
//! stores no content (the vectors are looked up per action, like the group head's topics).
//!
//! It is the same function as an output layer whose column `a` is `W[:, a] + V·c_a` and bias
//! `b[a] + β·c_a` ([`fold`]): the CPU trainer and the acting copy use that folded layer, and
//! `V`'s gradient is the folded layer's `dW·C` ([`unfold_grads`], `C` the `[actions, len]`
//! content matrix). burn adds `(V·h + β)·Cᵀ` to the output instead. The group head is the
//! special case of one-hot content.
//!
//! Gated fusion (`[agent] fusion = "gated"`, [`super::super::shape::Head::GatedContent`])
//! gives each modality its own tower and weighs it by a gate `σ(g_m·h + e_m)` computed from
//! the state: `Q_a += Σ_m σ_m·(V_m·h + β_m)·c_{a,m}`. One dense layer computes the towers
//! (the first `len` outputs) and the gate logits (the last `modalities`). The gates depend on
//! the state, so it does not fold into the output layer: burn trains it ([`burn_add_gated`])
//! and the acting copy evaluates it row by row ([`act_add_gated`]).

use burn::nn::Linear;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};

use super::super::cpu::gemm::matmul;
use super::super::shape::Dense;

/// burn: the `[len, num_actions]` transpose of the content matrix `content`
/// (`[num_actions, len]`, row-major), for [`super::group::burn_add`].
pub fn map(len: usize, content: &[f32], device: &Device) -> Tensor<2> {
    let a = content.len() / len.max(1);
    let mut m = vec![0.0f32; len * a];
    for (j, row) in content.chunks_exact(len.max(1)).enumerate() {
        for (l, &x) in row.iter().enumerate() {
            m[l * a + j] = x;
        }
    }
    Tensor::from_data(TensorData::new(m, [len, a]), device)
}

/// CPU and acting: fold the content head at `dense` in `params` (`v` `[d, len]`, `β` `[len]`)
/// into the output layer `w` `[d, a]`, `b` `[a]`: `w[:, j] += V·c_j`, `b[j] += β·c_j`.
pub fn fold(dense: Dense, params: &[Vec<f32>], content: &[f32], w: &mut [f32], b: &mut [f32]) {
    let (v, beta) = (dense.weight(params), dense.bias(params));
    let a = b.len();
    let len = beta.len();
    let d = w.len() / a.max(1);
    // W += V·Cᵀ and b += β·Cᵀ (C is [a, len], row-major: Cᵀ has row stride 1).
    matmul(d, a, len, w, a, true, v, len, 1, content, 1, len);
    matmul(1, a, len, b, a, true, beta, len, 1, content, 1, len);
}

/// CPU backward: `dV[r, l] = Σ_a dW[r, a]·c_a[l]` and `dβ[l] = Σ_a db[a]·c_a[l]`.
pub fn unfold_grads(gw: &[f32], gb: &[f32], content: &[f32], gv: &mut [f32], gbeta: &mut [f32]) {
    let a = gb.len();
    let len = gbeta.len();
    let d = gw.len() / a.max(1);
    // dV = dW·C and dβ = db·C.
    matmul(d, len, a, gv, len, false, gw, a, 1, content, len, 1);
    matmul(1, len, a, gbeta, len, false, gb, a, 1, content, len, 1);
}

/// burn, gated fusion: `a += (z ⊙ σ(g)·E)·Cᵀ` where `[z | g]` is the head's dense layer on
/// `h`, `map` the `[len, num_actions]` content ([`map`]) and `expand` the `[modalities, len]`
/// block matrix that spreads each modality's gate over its values ([`expand`]).
pub fn burn_add_gated(
    a: Tensor<2>,
    lin: &Linear,
    h: Tensor<2>,
    map: &Tensor<2>,
    expand: &Tensor<2>,
) -> Tensor<2> {
    let [len, _] = map.dims();
    let out = lin.forward(h);
    let [n, width] = out.dims();
    let z = out.clone().slice([0..n, 0..len]);
    let gates = sigmoid(out.slice([0..n, len..width]));
    a + (z * gates.matmul(expand.clone())).matmul(map.clone())
}

/// burn: the `[modalities, len]` matrix with 1 where value `l` belongs to modality `m`.
pub fn expand(len: usize, modalities: usize, device: &Device) -> Tensor<2> {
    let per = len / modalities.max(1);
    let mut m = vec![0.0f32; modalities * len];
    for k in 0..modalities {
        m[k * len + k * per..k * len + (k + 1) * per].fill(1.0);
    }
    Tensor::from_data(TensorData::new(m, [modalities, len]), device)
}

/// Acting, gated fusion: adds `Σ_m σ(g_m)·z_m·c_{a,m}` to each action's `q`, from the head's
/// outputs `out = [z | g]` for one state and the `[actions, len]` content.
pub fn act_add_gated(out: &[f32], content: &[f32], modalities: usize, q: &mut [f32]) {
    let len = out.len() - modalities;
    let per = len / modalities.max(1);
    let mut zg = out[..len].to_vec();
    for (m, &g) in out[len..].iter().enumerate() {
        let gate = 1.0 / (1.0 + (-g).exp());
        zg[m * per..(m + 1) * per]
            .iter_mut()
            .for_each(|x| *x *= gate);
    }
    for (qa, c) in q.iter_mut().zip(content.chunks_exact(len)) {
        *qa += zg.iter().zip(c).map(|(x, y)| x * y).sum::<f32>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With one-hot content the content head is the group head: same fold, same gradients.
    #[test]
    fn one_hot_content_is_the_group_head() {
        let (d, a, k) = (3, 4, 2);
        let groups = [1u16, 0, 1, 1];
        let content: Vec<f32> = groups
            .iter()
            .flat_map(|&g| (0..k).map(move |j| (j == g as usize) as u8 as f32))
            .collect();
        let params = vec![
            (0..d * k)
                .map(|i| i as f32 * 0.3 - 0.4)
                .collect::<Vec<f32>>(),
            vec![0.25, -0.5],
        ];
        let dense = Dense {
            w: 0,
            d_in: d,
            d_out: k,
        };
        let w0: Vec<f32> = (0..d * a).map(|i| (i as f32).sin()).collect();
        let b0 = vec![0.1, 0.2, 0.3, 0.4];
        let (mut w1, mut b1) = (w0.clone(), b0.clone());
        let (mut w2, mut b2) = (w0.clone(), b0.clone());
        super::super::group::fold(dense, &params, &groups, &mut w1, &mut b1);
        fold(dense, &params, &content, &mut w2, &mut b2);
        assert_eq!((w1, b1), (w2, b2));
        let (gw, gb): (Vec<f32>, Vec<f32>) = (
            (0..d * a).map(|i| (i as f32 * 0.7).cos()).collect(),
            vec![1.0, -2.0, 0.5, 0.25],
        );
        let (mut gu1, mut gc1) = (vec![0.0; d * k], vec![0.0; k]);
        let (mut gu2, mut gc2) = (vec![0.0; d * k], vec![0.0; k]);
        super::super::group::unfold_grads(&gw, &gb, &groups, &mut gu1, &mut gc1);
        unfold_grads(&gw, &gb, &content, &mut gu2, &mut gc2);
        assert_eq!((gu1, gc1), (gu2, gc2));
    }
}
