//! The dueling head: `Q(s, a) = V(s) + A(s, a) − mean_a A(s, a)`, with `V` a dense layer of
//! one output beside the output layer (which then gives the advantages `A`).
//!
//! At one action, `mean_a A` is `h · mean_col(W_A) + mean(b_A)`, so `Q(s, a)` stays a dot
//! product per row: [`prepare`] computes `v − mean_col(W_A)` and `b_v − mean(b_A)` once per
//! update.

use burn::nn::Linear;
use burn::tensor::Tensor;

use super::super::shape::Dense;
use super::Dims;

/// burn: combine the advantages `a` with the value layer on the last hidden `h`.
pub fn burn_combine(a: Tensor<2>, value: &Linear, h: Tensor<2>) -> Tensor<2> {
    let val = value.forward(h);
    let mean = a.clone().mean_dim(1);
    a - mean + val
}

/// CPU: `[v_k − mean_a W[k, a] for k…, b_v − mean_a b[a]]` from the (group-folded) output
/// layer `w_out`, `b_out` and the value layer at `dense`.
pub fn prepare(
    dims: Dims,
    dense: Dense,
    params: &[Vec<f32>],
    w_out: &[f32],
    b_out: &[f32],
) -> Vec<f32> {
    let (d, a) = (dims.d, dims.a);
    let (wv, bv) = (dense.weight(params), dense.bias(params)[0]);
    let mut out: Vec<f32> = (0..d)
        .map(|k| {
            let wbar = w_out[k * a..(k + 1) * a].iter().sum::<f32>() / a as f32;
            wv[k] - wbar
        })
        .collect();
    let bbar = b_out.iter().sum::<f32>() / a as f32;
    out.push(bv - bbar);
    out
}

/// CPU, one action: add `V − mean(A)` of last-hidden row `h` to `q`.
#[inline]
pub fn add_q(prep: &[f32], h: &[f32], q: &mut f32) {
    let (diff, c) = prep.split_at(prep.len() - 1);
    *q += c[0];
    for (k, &dk) in diff.iter().enumerate() {
        *q += h[k] * dk;
    }
}

/// CPU, all actions: the bootstrap value `V + max A − mean A` of a row whose advantages are
/// `q_row` (their masked max `m`).
pub fn plain_max_value(
    dense: Dense,
    params: &[Vec<f32>],
    hrow: &[f32],
    q_row: &[f32],
    m: f32,
) -> f32 {
    let (wv, bv) = (dense.weight(params), dense.bias(params)[0]);
    let val = bv + hrow.iter().zip(wv.iter()).map(|(x, w)| x * w).sum::<f32>();
    let mean = q_row.iter().sum::<f32>() / q_row.len() as f32;
    val + m - mean
}

/// CPU backward: the value layer gets `g`, every advantage column `−g/A`; `da` (the loss's
/// gradient on the last hidden rows) gains `g·(v − mean_col W)`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    dims: Dims,
    prep: &[f32],
    g: &[f32],
    hl: &[f32],
    da: &mut [f32],
    grads: &mut [Vec<f32>],
    output: Dense,
    dense: Dense,
) {
    let (d, a) = (dims.d, dims.a);
    let diff = &prep[..d];
    let mut sum_gh = vec![0.0f32; d];
    let mut sum_g = 0.0f32;
    for (i, &gi) in g.iter().enumerate() {
        sum_g += gi;
        let hrow = &hl[i * d..(i + 1) * d];
        let darow = &mut da[i * d..(i + 1) * d];
        for k in 0..d {
            sum_gh[k] += gi * hrow[k];
            darow[k] += gi * diff[k];
        }
    }
    let gw = &mut grads[output.w];
    let inv = 1.0 / a as f32;
    for k in 0..d {
        let s = sum_gh[k] * inv;
        for v in &mut gw[k * a..(k + 1) * a] {
            *v -= s;
        }
    }
    for v in grads[output.b()].iter_mut() {
        *v -= sum_g / a as f32;
    }
    grads[dense.w].copy_from_slice(&sum_gh);
    grads[dense.b()][0] = sum_g;
}

/// Acting: `out[a] = V + adv[a] − mean(adv)` given the value `val` of the row.
pub fn act_combine(val: f32, adv: &[f32], out: &mut [f32]) {
    let mean = adv.iter().sum::<f32>() / adv.len() as f32;
    for (o, &x) in out.iter_mut().zip(adv) {
        *o = val + x - mean;
    }
}
