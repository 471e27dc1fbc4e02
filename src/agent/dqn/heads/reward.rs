//! The reward head: `Q(s, a) = C(s, a) + R(s, a)` with `R(s, a) = h·W_R[:, a] + b_R[a]`,
//! added after the dueling combination. The learner fits `R` to each transition's immediate
//! reward (loss `weight · ½(R(s, a) − r)²`) while the TD loss sees `R` as a constant, so `C`
//! learns the discounted rest.
//!
//! At one action `R` is one more dot product and its backward one more rank-1 scatter; the
//! acting copy folds it into the output layer (and, when dueling, the value layer adds the
//! mean of `R`, which the advantages' mean subtracts again).

use burn::nn::Linear;
use burn::tensor::Tensor;

use super::super::cpu::gemm::matmul;
use super::super::replay::Batch;
use super::super::shape::Dense;
use super::Dims;

/// burn: `R` on all actions of the last hidden `h`.
pub fn burn_term(lin: &Linear, h: Tensor<2>) -> Tensor<2> {
    lin.forward(h)
}

/// CPU, one action: `R(h, act)`.
#[inline]
pub fn r(dims: Dims, dense: Dense, params: &[Vec<f32>], h: &[f32], act: usize) -> f32 {
    let (w, b) = (dense.weight(params), dense.bias(params));
    let mut r = b[act];
    for (k, &hk) in h.iter().enumerate() {
        r += hk * w[k * dims.a + act];
    }
    r
}

/// CPU, all actions: add `R` of `rows` last-hidden rows `h` to `out` `[rows × A]`.
pub fn add_all(
    dims: Dims,
    dense: Dense,
    params: &[Vec<f32>],
    h: &[f32],
    rows: usize,
    out: &mut [f32],
) {
    let (d, a) = (dims.d, dims.a);
    let (wr, br) = (dense.weight(params), dense.bias(params));
    for row in out.chunks_exact_mut(a) {
        for (q, &b) in row.iter_mut().zip(br) {
            *q += b;
        }
    }
    matmul(rows, a, d, out, a, true, h, d, 1, wr, a, 1);
}

/// CPU loss: `R(s, a) − r` of rows `r0..r0+rows` into `errors`, and `dL/dR` per row
/// (importance-weighted, mean over the whole batch) into `g_r`.
#[allow(clippy::too_many_arguments)]
pub fn loss(
    dims: Dims,
    dense: Dense,
    params: &[Vec<f32>],
    batch: &Batch,
    r0: usize,
    hl: &[f32],
    weight: f32,
    errors: &mut Vec<f32>,
    g_r: &mut Vec<f32>,
) {
    let d = dims.d;
    let rows = hl.len() / d;
    let n_total = batch.size;
    for i in 0..rows {
        let act = batch.actions[r0 + i] as usize;
        let e = r(dims, dense, params, &hl[i * d..(i + 1) * d], act) - batch.immediate[r0 + i];
        errors.push(e);
        g_r.push(weight * batch.weights[r0 + i] * e / n_total as f32);
    }
}

/// CPU backward: `dW_R[k, a] = g_r·h_k`, `db_R[a] = g_r`, `dh_k += g_r·W_R[k, a]`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    dims: Dims,
    dense: Dense,
    params: &[Vec<f32>],
    actions: &[i64],
    g_r: &[f32],
    hl: &[f32],
    da: &mut [f32],
    grads: &mut [Vec<f32>],
) {
    let (d, a) = (dims.d, dims.a);
    let wr = dense.weight(params);
    let (gw, rest) = grads[dense.w..].split_at_mut(1);
    let (gw, gb) = (&mut gw[0], &mut rest[0]);
    for (i, &gi) in g_r.iter().enumerate() {
        let act = actions[i] as usize;
        gb[act] += gi;
        let hrow = &hl[i * d..(i + 1) * d];
        let darow = &mut da[i * d..(i + 1) * d];
        for k in 0..d {
            gw[k * a + act] += gi * hrow[k];
            darow[k] += gi * wr[k * a + act];
        }
    }
}

/// Acting: fold `R` into the output layer `w`, `b` (`W + W_R`, `b + b_R`) and, when dueling,
/// into the value layer (`v + mean_a W_R[:, a]`, `c + mean(b_R)`).
pub fn fold(
    dims: Dims,
    dense: Dense,
    params: &[Vec<f32>],
    head: (&mut [f32], &mut [f32]),
    value: Option<(&mut [f32], &mut [f32])>,
) {
    let (d, a) = (dims.d, dims.a);
    let (wr, br) = (dense.weight(params), dense.bias(params));
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
