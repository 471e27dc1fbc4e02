//! The group (topic) head: a term `U·h + c` at the group of each action, shared by every
//! action of the group (every live stream of a topic), so what one stream teaches carries to
//! the others of its topic.
//!
//! It is the same function as an output layer whose column `a` is `W[:, a] + U[:, g(a)]`
//! ([`fold`]): the CPU trainer and the acting copy use that folded layer, and the gradients
//! of `U` are the folded layer's summed per group ([`unfold_grads`]). burn adds
//! `(U·h + c)·onehot` to the output instead.

use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};

use super::super::shape::Dense;

/// burn: add the group term to the output `a`; `map` is the `[groups, actions]` one-hot
/// ([`onehot`]).
pub fn burn_add(a: Tensor<2>, lin: &Linear, h: Tensor<2>, map: &Tensor<2>) -> Tensor<2> {
    a + lin.forward(h).matmul(map.clone())
}

/// The `[groups, num_actions]` one-hot matrix of `action_groups` (the group of each action).
pub fn onehot(groups: usize, action_groups: &[u16], device: &Device) -> Tensor<2> {
    let a = action_groups.len();
    let mut m = vec![0.0f32; groups * a];
    for (j, &g) in action_groups.iter().enumerate() {
        m[g as usize * a + j] = 1.0;
    }
    Tensor::from_data(TensorData::new(m, [groups, a]), device)
}

/// CPU and acting: fold the group head at `dense` in `params` (`u` `[d, k]`, `c` `[k]`) into
/// the output layer `w` `[d, a]`, `b` `[a]`: `w[:, j] += u[:, g(j)]`, `b[j] += c[g(j)]`.
pub fn fold(
    dense: Dense,
    params: &[Vec<f32>],
    action_groups: &[u16],
    w: &mut [f32],
    b: &mut [f32],
) {
    let (u, c) = (dense.weight(params), dense.bias(params));
    let a = b.len();
    let k = c.len();
    let d = w.len() / a.max(1);
    for r in 0..d {
        let (row, urow) = (&mut w[r * a..(r + 1) * a], &u[r * k..(r + 1) * k]);
        for (x, &g) in row.iter_mut().zip(action_groups) {
            *x += urow[g as usize];
        }
    }
    for (x, &g) in b.iter_mut().zip(action_groups) {
        *x += c[g as usize];
    }
}

/// CPU backward: `dU[:, k]` sums the folded layer's `dW[:, a]` over the actions of group `k`,
/// and `dc[k]` sums `db[a]`.
pub fn unfold_grads(gw: &[f32], gb: &[f32], action_groups: &[u16], gu: &mut [f32], gc: &mut [f32]) {
    let a = gb.len();
    let k = gc.len();
    let d = gw.len() / a.max(1);
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
