//! The per-action feature head: the state ends with `F` features of each action (a stream's
//! minutes live, its audience, the viewer's logs at its topic…), and `Q(s, a)` (the advantage
//! when dueling) adds `Σ_j x_{a,j}·(u_j·h + e_j)`: one weight per feature, computed from the
//! last hidden row and shared by every action. The hidden stack reads only the state before
//! the features.
//!
//! When dueling, the advantages' mean subtracts the features' mean over the actions again, so
//! at one action the CPU forms use the centred features `x_a − mean_a x` ([`View::centred`]).

use burn::nn::Linear;
use burn::tensor::Tensor;

use super::super::shape::Dense;
use super::Dims;

/// burn: add the feature term to the output `a` `[n, A]`; `xf` `[n, A·F]` are the states'
/// per-action features.
pub fn burn_add(a: Tensor<2>, lin: &Linear, h: Tensor<2>, xf: Tensor<2>) -> Tensor<2> {
    let [n, na] = a.dims();
    let nf = lin.weight.val().dims()[1];
    // [n, A, F] · [n, F, 1] → [n, A, 1]
    let weights: Tensor<3> = lin.forward(h).reshape([n, nf, 1]);
    let xf: Tensor<3> = xf.reshape([n, na, nf]);
    a + xf.matmul(weights).reshape([n, na])
}

/// CPU: the head's `[d, F]` weights `u` and `F` biases `e`.
pub struct View<'a> {
    /// Features per action.
    pub n: usize,
    u: &'a [f32],
    e: &'a [f32],
}

impl<'a> View<'a> {
    /// The head at `dense` in `params`.
    pub fn new(dense: Dense, params: &'a [Vec<f32>]) -> Self {
        Self {
            n: dense.d_out,
            u: dense.weight(params),
            e: dense.bias(params),
        }
    }

    /// The weight of each feature for last-hidden row `h`: `u_j·h + e_j`.
    pub fn weights(&self, h: &[f32], out: &mut [f32]) {
        out.copy_from_slice(self.e);
        for (k, &hk) in h.iter().enumerate() {
            if hk != 0.0 {
                for (o, &w) in out.iter_mut().zip(&self.u[k * self.n..(k + 1) * self.n]) {
                    *o += hk * w;
                }
            }
        }
    }

    /// The features of action `act` in state row `x`, less their mean over the actions when
    /// the network is dueling.
    pub fn centred(&self, dims: Dims, x: &[f32], act: usize, out: &mut [f32]) {
        let xf = &x[dims.trunk..];
        out.copy_from_slice(&xf[act * self.n..(act + 1) * self.n]);
        if dims.dueling {
            let inv = 1.0 / dims.a as f32;
            for xa in xf.chunks_exact(self.n) {
                for (o, &v) in out.iter_mut().zip(xa) {
                    *o -= v * inv;
                }
            }
        }
    }

    /// CPU, one action: add `Σ_j xc_j·(u_j·h + e_j)` to `q`, one feature at a time (no
    /// buffers: called per row).
    #[inline]
    pub fn add_q(&self, dims: Dims, h: &[f32], x: &[f32], act: usize, q: &mut f32) {
        let xf = &x[dims.trunk..];
        for j in 0..self.n {
            let mut xc = xf[act * self.n + j];
            if dims.dueling {
                xc -= xf.iter().skip(j).step_by(self.n).sum::<f32>() / dims.a as f32;
            }
            if xc != 0.0 {
                let w = self.e[j]
                    + h.iter()
                        .zip(self.u.iter().skip(j).step_by(self.n))
                        .map(|(h, u)| h * u)
                        .sum::<f32>();
                *q += xc * w;
            }
        }
    }

    /// CPU, all actions: add the term to `out` `[rows × A]` for last-hidden rows `h` of
    /// states `x`.
    pub fn add_all(&self, dims: Dims, h: &[f32], x: &[f32], rows: usize, out: &mut [f32]) {
        let (d, a) = (dims.d, dims.a);
        let mut u = vec![0.0f32; self.n];
        for i in 0..rows {
            self.weights(&h[i * d..(i + 1) * d], &mut u);
            let xf = &x[i * dims.input_dim + dims.trunk..(i + 1) * dims.input_dim];
            for (q, xa) in out[i * a..(i + 1) * a]
                .iter_mut()
                .zip(xf.chunks_exact(self.n))
            {
                *q += xa.iter().zip(&u).map(|(x, u)| x * u).sum::<f32>();
            }
        }
    }

    /// CPU backward: `dU[k, j] = g·xc_j·h_k`, `de_j = g·xc_j`, `dh_k += g·Σ_j xc_j·U[k, j]`
    /// for rows of states `x` taking `actions`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        dims: Dims,
        dense: Dense,
        x: &[f32],
        actions: &[i64],
        g: &[f32],
        hl: &[f32],
        da: &mut [f32],
        grads: &mut [Vec<f32>],
    ) {
        let (d, din) = (dims.d, dims.input_dim);
        let (gu, rest) = grads[dense.w..].split_at_mut(1);
        let (gu, ge) = (&mut gu[0], &mut rest[0]);
        let mut xc = vec![0.0f32; self.n];
        for (i, &gi) in g.iter().enumerate() {
            let act = actions[i] as usize;
            self.centred(dims, &x[i * din..(i + 1) * din], act, &mut xc);
            xc.iter_mut().for_each(|v| *v *= gi);
            for (e, &v) in ge.iter_mut().zip(&xc) {
                *e += v;
            }
            let hrow = &hl[i * d..(i + 1) * d];
            let darow = &mut da[i * d..(i + 1) * d];
            for k in 0..d {
                let urow = &self.u[k * self.n..(k + 1) * self.n];
                let grow = &mut gu[k * self.n..(k + 1) * self.n];
                let mut s = 0.0f32;
                for j in 0..self.n {
                    grow[j] += xc[j] * hrow[k];
                    s += xc[j] * urow[j];
                }
                darow[k] += s;
            }
        }
    }
}

/// Acting: add `Σ_j x_{a,j}·w_j` to each action's value in `out`, given the feature weights
/// `w` of the row and the per-action features `xf` (`A × F`).
pub fn act_add(w: &[f32], xf: &[f32], out: &mut [f32]) {
    for (q, x) in out.iter_mut().zip(xf.chunks_exact(w.len())) {
        *q += x.iter().zip(w).map(|(x, u)| x * u).sum::<f32>();
    }
}
