//! Adam on host vectors ([`HostAdam`]), following PyTorch's Adam (bias-corrected, ε added to
//! √v̂), with a fused per-tensor kernel. The CPU trainer clips by the global norm and steps
//! with it; the burn trainer keeps the same arithmetic on device tensors
//! (`burn_trainer::DeviceAdam`). burn's own `AdamConfig` optimizer is not used because its
//! `GradientClippingConfig::Norm` clips each tensor separately, and its record loading
//! materialises state on `Device::default()` (the wgpu runtime, which can hang or panic on a
//! machine without a GPU driver).

use super::simd::avx2_dispatch;

/// Adam β1.
pub const BETA1: f64 = 0.9;
/// Adam β2.
pub const BETA2: f64 = 0.999;

/// Bias-corrected step size and ε of step `t`.
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
    /// Parameters in layout order.
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

avx2_dispatch! {
    /// One Adam step of one parameter tensor.
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
    ) => adam_generic
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_first_step_moves_by_lr() {
        // First Adam step moves each parameter by ~lr·sign(g).
        let (mut p, mut m, mut v) = (vec![1.0f32, 1.0], vec![0.0; 2], vec![0.0; 2]);
        let (step, eps_hat) = bias_terms(1, 0.1, 1e-8);
        let (b1, b2) = (BETA1 as f32, BETA2 as f32);
        adam_kernel(&mut p, &mut m, &mut v, &[0.5, -2.0], b1, b2, step, eps_hat);
        assert!((p[0] - 0.9).abs() < 1e-5);
        assert!((p[1] - 1.1).abs() < 1e-5);
    }
}
