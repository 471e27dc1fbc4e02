//! Adam with **global-norm** gradient clipping, in two interchangeable forms:
//!
//! * [`HostAdam`] keeps the master parameters and moments in host `Vec<f32>`s and applies one
//!   fused pass per step (used on Flex, where device memory *is* host memory: one read of the
//!   gradients, one loop, one upload — instead of ~80 separate element-wise tensor ops);
//! * [`DeviceAdam`] keeps the moments as device tensors and never reads anything back (used
//!   on wgpu).
//!
//! Both follow PyTorch's Adam (bias-corrected, ε added to √v̂). burn's own `AdamConfig`
//! optimizer is not used because (1) its `GradientClippingConfig::Norm` clips each tensor
//! separately, and (2) `ModuleOptimizer::load_record` materialises the state on
//! `Device::default()`, which with the `vulkan`/`wgpu` features is the wgpu runtime — on a
//! machine without a GPU driver that can hang or panic while loading a checkpoint.

use burn::tensor::Tensor;

use super::network::QNetwork;

/// Adam β1.
pub const BETA1: f64 = 0.9;
/// Adam β2.
pub const BETA2: f64 = 0.999;

/// Global L2 norm of `grads`; when `max_norm > 0` and the norm exceeds it, every gradient is
/// scaled by `max_norm / norm`. Returns the norm before clipping.
pub fn clip_global_norm(grads: &mut [Vec<f32>], max_norm: f64) -> f64 {
    let sq: f64 = grads
        .iter()
        .map(|g| g.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>())
        .sum();
    let norm = sq.sqrt();
    if max_norm > 0.0 && norm.is_finite() && norm > max_norm {
        let s = (max_norm / (norm + 1e-6)) as f32;
        for g in grads.iter_mut() {
            for x in g.iter_mut() {
                *x *= s;
            }
        }
    }
    norm
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

pub(super) fn bias_terms(t: u64, lr: f64, eps: f64) -> (f32, f32) {
    let bc1 = 1.0 - BETA1.powi(t as i32);
    let bc2 = 1.0 - BETA2.powi(t as i32);
    let step = lr * bc2.sqrt() / bc1;
    let eps_hat = eps * bc2.sqrt();
    (step as f32, eps_hat as f32)
}

/// Adam on host vectors; owns the master copy of the parameters.
#[derive(Debug, Clone)]
pub struct HostAdam {
    /// Parameters in [`super::network::param_shapes`] order.
    pub params: Vec<Vec<f32>>,
    /// First moments.
    pub m: Vec<Vec<f32>>,
    /// Second moments.
    pub v: Vec<Vec<f32>>,
    /// Steps taken.
    pub t: u64,
}

impl HostAdam {
    /// Fresh state around `params`.
    pub fn new(params: Vec<Vec<f32>>) -> Self {
        let m: Vec<Vec<f32>> = params.iter().map(|p| vec![0.0; p.len()]).collect();
        let v = m.clone();
        Self { params, m, v, t: 0 }
    }

    /// One step with already clipped gradients.
    pub fn step(&mut self, grads: &[Vec<f32>], lr: f64, eps: f64) {
        self.t += 1;
        let (step, eps_hat) = bias_terms(self.t, lr, eps);
        let (b1, b2) = (BETA1 as f32, BETA2 as f32);
        for (((p, m), v), g) in self
            .params
            .iter_mut()
            .zip(&mut self.m)
            .zip(&mut self.v)
            .zip(grads)
        {
            adam_kernel(p, m, v, g, b1, b2, step, eps_hat);
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn adam_generic(
    p: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    b1: f32,
    b2: f32,
    step: f32,
    eps_hat: f32,
) {
    for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
        *m = b1 * *m + (1.0 - b1) * g;
        *v = b2 * *v + (1.0 - b2) * g * g;
        *p -= step * *m / (v.sqrt() + eps_hat);
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
unsafe fn adam_avx2(
    p: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    b1: f32,
    b2: f32,
    step: f32,
    eps_hat: f32,
) {
    adam_generic(p, m, v, g, b1, b2, step, eps_hat)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn adam_kernel(
    p: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    b1: f32,
    b2: f32,
    step: f32,
    eps_hat: f32,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA are available (checked just above).
            unsafe { adam_avx2(p, m, v, g, b1, b2, step, eps_hat) };
            return;
        }
    }
    adam_generic(p, m, v, g, b1, b2, step, eps_hat)
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

impl DeviceAdam {
    /// Zero moments shaped like `net` (on the non-autodiff device of its parameters).
    pub fn new(net: &QNetwork) -> Self {
        let m: Vec<(Tensor<2>, Tensor<1>)> = net
            .linears()
            .iter()
            .map(|l| {
                let w = l.weight.val().inner();
                let b = l.bias.as_ref().expect("bias").val().inner();
                (w.zeros_like(), b.zeros_like())
            })
            .collect();
        Self {
            v: m.clone(),
            m,
            t: 0,
        }
    }

    /// Moments from host vectors (param-shape order) on `device`.
    pub fn from_host(
        net: &QNetwork,
        m: &[Vec<f32>],
        v: &[Vec<f32>],
        t: u64,
        device: &burn::tensor::Device,
    ) -> Self {
        let shape = net.shape();
        let mk = |x: &[Vec<f32>]| {
            let q = QNetwork::from_host(&shape, x, device);
            q.linears()
                .iter()
                .map(|l| {
                    (
                        l.weight.val().inner(),
                        l.bias.as_ref().expect("bias").val().inner(),
                    )
                })
                .collect::<Vec<_>>()
        };
        Self {
            m: mk(m),
            v: mk(v),
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
    ) {
        self.t += 1;
        let (step, eps_hat) = bias_terms(self.t, lr, eps);
        let (b1, b2) = (BETA1 as f32, BETA2 as f32);
        for (i, (lin, (gw, gb))) in net.linears_mut().into_iter().zip(grads).enumerate() {
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
            let w = lin.weight.clone();
            lin.weight = w.map(|t| Tensor::from_inner(t.inner() - dw).require_grad());
            let b = lin.bias.take().expect("bias");
            lin.bias = Some(b.map(|t| Tensor::from_inner(t.inner() - db).require_grad()));
            self.m[i] = (mw, mb);
            self.v[i] = (vw, vb);
        }
    }

    /// Moments read back to host vectors (param-shape order).
    #[allow(clippy::type_complexity)]
    pub fn to_host(&self) -> Result<(Vec<Vec<f32>>, Vec<Vec<f32>>), super::error::DqnError> {
        let mut tx = burn::tensor::Transaction::default();
        for (w, b) in self.m.iter().chain(&self.v) {
            tx = tx.register(w.clone()).register(b.clone());
        }
        let data = tx
            .try_execute()
            .map_err(|e| super::error::DqnError::Backend(format!("reading Adam state: {e:?}")))?;
        let mut all = data
            .iter()
            .map(|d| {
                d.try_to_vec::<f32>()
                    .map_err(|e| super::error::DqnError::Backend(format!("{e:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let v = all.split_off(all.len() / 2);
        Ok((all, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_norm_clipping_scales_by_hand() {
        // norm = sqrt(3² + 4² + 12²) = 13
        let mut g = vec![vec![3.0, 4.0], vec![12.0]];
        let n = clip_global_norm(&mut g, 6.5);
        assert!((n - 13.0).abs() < 1e-9);
        let s = 6.5 / 13.0;
        assert!((g[0][0] - 3.0 * s).abs() < 1e-5);
        assert!((g[0][1] - 4.0 * s).abs() < 1e-5);
        assert!((g[1][0] - 12.0 * s).abs() < 1e-5);
        // Below the threshold, or off: unchanged.
        let mut g = vec![vec![3.0, 4.0], vec![12.0]];
        clip_global_norm(&mut g, 20.0);
        assert_eq!(g, vec![vec![3.0, 4.0], vec![12.0]]);
        clip_global_norm(&mut g, 0.0);
        assert_eq!(g, vec![vec![3.0, 4.0], vec![12.0]]);
    }

    #[test]
    fn global_norm_clipping_on_tensors() {
        let d = burn::tensor::Device::flex();
        let gw =
            Tensor::<2>::from_data(burn::tensor::TensorData::new(vec![3.0f32, 4.0], [1, 2]), &d);
        let gb = Tensor::<1>::from_data(burn::tensor::TensorData::new(vec![12.0f32], [1]), &d);
        let (out, norm) = clip_global_norm_tensors(vec![(gw, gb)], 6.5);
        let n: Vec<f32> = norm.into_data().try_to_vec().unwrap();
        assert!((n[0] - 13.0).abs() < 1e-4);
        let w: Vec<f32> = out[0].0.clone().into_data().try_to_vec().unwrap();
        let b: Vec<f32> = out[0].1.clone().into_data().try_to_vec().unwrap();
        assert!(
            (w[0] - 1.5).abs() < 1e-4 && (w[1] - 2.0).abs() < 1e-4 && (b[0] - 6.0).abs() < 1e-4
        );
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        // First Adam step moves each parameter by ~lr·sign(g).
        let mut a = HostAdam::new(vec![vec![1.0, 1.0]]);
        a.step(&[vec![0.5, -2.0]], 0.1, 1e-8);
        assert!((a.params[0][0] - 0.9).abs() < 1e-5);
        assert!((a.params[0][1] - 1.1).abs() < 1e-5);
    }
}
