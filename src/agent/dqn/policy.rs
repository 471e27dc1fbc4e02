//! The acting copy of the Q-network: a plain-Rust f32 MLP forward on weight vectors read back
//! from the burn module. Acting on it never touches the training device (no GPU sync per env
//! step); the learner refreshes it every `policy_sync_period` gradient updates. The inner
//! loop is an axpy over contiguous output rows, compiled twice (baseline and AVX2+FMA) and
//! picked at run time.

/// One dense layer, weights row-major `[d_in, d_out]` (burn's `Linear` layout).
#[derive(Debug, Clone)]
pub struct CpuLayer {
    d_in: usize,
    d_out: usize,
    w: Vec<f32>,
    b: Vec<f32>,
}

impl CpuLayer {
    /// A layer from row-major `[d_in, d_out]` weights and `d_out` biases.
    pub fn new(d_in: usize, d_out: usize, w: Vec<f32>, b: Vec<f32>) -> Self {
        assert_eq!(w.len(), d_in * d_out);
        assert_eq!(b.len(), d_out);
        Self { d_in, d_out, w, b }
    }

    fn forward(&self, x: &[f32], y: &mut Vec<f32>, relu: bool) {
        y.clear();
        y.extend_from_slice(&self.b);
        dense(&self.w, x, y, self.d_out);
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

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dense_avx2(w: &[f32], x: &[f32], y: &mut [f32], d_out: usize) {
    dense_generic(w, x, y, d_out)
}

fn dense(w: &[f32], x: &[f32], y: &mut [f32], d_out: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            unsafe { dense_avx2(w, x, y, d_out) };
            return;
        }
    }
    dense_generic(w, x, y, d_out)
}

/// Plain-Rust copy of a [`super::network::QNetwork`] for acting.
#[derive(Debug, Clone)]
pub struct CpuPolicy {
    hidden: Vec<CpuLayer>,
    head: CpuLayer,
    value: Option<CpuLayer>,
    /// Per-action feature head ([`super::network::NetShape::action_features`]).
    features: Option<CpuLayer>,
    max_width: usize,
}

impl CpuPolicy {
    /// A policy from its layers.
    pub fn new(hidden: Vec<CpuLayer>, head: CpuLayer, value: Option<CpuLayer>) -> Self {
        let max_width = hidden
            .iter()
            .map(|l| l.d_in.max(l.d_out))
            .chain([head.d_in, head.d_out])
            .max()
            .unwrap_or(1);
        Self {
            hidden,
            head,
            value,
            features: None,
            max_width,
        }
    }

    /// The same policy with a per-action feature head (`[last hidden, F]` weights): the
    /// state then ends with `F` features per action, and `Q(s, a)` adds
    /// `Σ_j x_{a,j} · (u_j·h + e_j)`.
    pub fn with_features(mut self, features: CpuLayer) -> Self {
        assert_eq!(features.d_in, self.head.d_in);
        self.features = Some(features);
        self
    }

    /// A policy from host parameters in [`super::network::param_shapes`] order; a group head
    /// is folded into the output layer with `action_groups` (the group of each action), and a
    /// reward head into the output and value layers.
    pub fn from_host(
        shape: &super::network::NetShape,
        params: &[Vec<f32>],
        action_groups: &[u16],
    ) -> Self {
        let shapes = super::network::param_shapes(shape);
        let mut folded = super::network::fold_group_head(shape, params, action_groups);
        let n_layers = shape.hidden.len() + 1 + usize::from(shape.dueling);
        let mut layers: Vec<CpuLayer> = (0..n_layers)
            .map(|i| {
                let s = &shapes[2 * i];
                let (w, b) = match folded.take_if(|_| i == shape.hidden.len()) {
                    Some(wb) => wb,
                    None => (params[2 * i].clone(), params[2 * i + 1].clone()),
                };
                CpuLayer::new(s[0], s[1], w, b)
            })
            .collect();
        let mut value = if shape.dueling { layers.pop() } else { None };
        let mut head = layers.pop().expect("head");
        super::network::fold_reward_head(
            shape,
            params,
            (&mut head.w, &mut head.b),
            value.as_mut().map(|v| (&mut v.w[..], &mut v.b[..])),
        );
        let policy = Self::new(layers, head, value);
        if shape.action_features > 0 {
            let fi = super::network::features_param_index(shape);
            let s = &shapes[fi];
            policy.with_features(CpuLayer::new(
                s[0],
                s[1],
                params[fi].clone(),
                params[fi + 1].clone(),
            ))
        } else {
            policy
        }
    }

    /// Length of the part of the state the hidden stack reads.
    fn trunk_input(&self) -> usize {
        self.hidden.first().map_or(self.head.d_in, |l| l.d_in)
    }

    /// Input length.
    pub fn input_dim(&self) -> usize {
        self.trunk_input()
            + self
                .features
                .as_ref()
                .map_or(0, |f| f.d_out * self.head.d_out)
    }

    /// Number of actions.
    pub fn num_actions(&self) -> usize {
        self.head.d_out
    }

    /// Q-values of one state into `out` (`num_actions` long).
    pub fn q_values(&self, state: &[f32], out: &mut [f32]) {
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
        self.head.forward(&a, &mut b, false);
        if let Some(f) = &self.features {
            let mut u = Vec::with_capacity(f.d_out);
            f.forward(&a, &mut u, false);
            for (q, x) in b.iter_mut().zip(state[trunk..].chunks_exact(f.d_out)) {
                *q += x.iter().zip(&u).map(|(x, u)| x * u).sum::<f32>();
            }
        }
        match &self.value {
            None => out.copy_from_slice(&b),
            Some(v) => {
                let mut val = Vec::with_capacity(1);
                v.forward(&a, &mut val, false);
                let mean = b.iter().sum::<f32>() / b.len() as f32;
                for (o, &adv) in out.iter_mut().zip(&b) {
                    *o = val[0] + adv - mean;
                }
            }
        }
    }
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
