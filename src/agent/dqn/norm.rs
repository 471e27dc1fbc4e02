//! Layer normalisation on host rows, shared by the CPU trainer's kernels and the acting copy
//! (the burn network computes the same with tensors, with the same ε).

/// ε of layer normalisation's variance.
pub const NORM_EPS: f32 = 1e-5;

/// Layer normalisation of `rows` rows of `z` in place: `γ ⊙ (z − μ)/σ + β` per row; with
/// `cache`, the normalised values and each row's 1/σ are kept.
pub fn layer_norm(
    z: &mut [f32],
    rows: usize,
    gamma: &[f32],
    beta: &[f32],
    mut cache: Option<(&mut Vec<f32>, &mut Vec<f32>)>,
) {
    let d = gamma.len();
    if let Some((xhat, rstd)) = cache.as_mut() {
        xhat.clear();
        rstd.clear();
    }
    for row in z.chunks_exact_mut(d).take(rows) {
        let mean = row.iter().sum::<f32>() / d as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
        let r = 1.0 / (var + NORM_EPS).sqrt();
        if let Some((_, rstd)) = cache.as_mut() {
            rstd.push(r);
        }
        for (k, v) in row.iter_mut().enumerate() {
            let xh = (*v - mean) * r;
            if let Some((xhat, _)) = cache.as_mut() {
                xhat.push(xh);
            }
            *v = gamma[k] * xh + beta[k];
        }
    }
}
