//! Seeded random draws used by the simulator: one generator type, a few distributions, and
//! independent streams per purpose so that, for example, stream schedules are identical whatever
//! the policy does.

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Gamma, StandardNormal};
pub use rand_xoshiro::Xoshiro256PlusPlus as Rng;

/// A generator for one purpose (`stream`) of a run seeded with `seed`.
pub fn stream(seed: u64, stream: u64) -> Rng {
    // Nearby seeds and streams give unrelated generators.
    Rng::seed_from_u64(mix64(seed ^ stream.wrapping_mul(GOLDEN)))
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finaliser: a bijection that scatters nearby inputs.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A fixed draw for `key`, approximately standard normal (the sum of four uniforms from a
/// SplitMix64 hash of `key`, centred and scaled to variance 1; within ±√12): the same key gives
/// the same value, without touching any generator.
pub fn hashed_normal(key: u64) -> f64 {
    let z = mix64(key.wrapping_add(GOLDEN));
    let sum: u64 = (0..4).map(|k| (z >> (16 * k)) & 0xFFFF).sum();
    // Four uniforms on [0, 1): mean 2, variance 4/12.
    (sum as f64 / 65_536.0 - 2.0) * 3f64.sqrt()
}

/// Uniform in [0, 1).
#[inline]
pub fn uniform(rng: &mut Rng) -> f64 {
    rng.random::<f64>()
}

/// Uniform integer in [0, n); n > 0.
#[inline]
pub fn below(rng: &mut Rng, n: usize) -> usize {
    rng.random_range(0..n)
}

/// Exponential with the given mean.
#[inline]
pub fn exponential(rng: &mut Rng, mean: f64) -> f64 {
    -mean * (1.0 - uniform(rng)).ln()
}

/// Normal(mean, sd).
pub fn normal(rng: &mut Rng, mean: f64, sd: f64) -> f64 {
    let z: f64 = StandardNormal.sample(rng);
    mean + sd * z
}

/// Poisson(lambda), by inversion for the small rates the simulator uses.
#[inline]
pub fn poisson(rng: &mut Rng, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        return normal(rng, lambda, lambda.sqrt()).round().max(0.0) as u32;
    }
    let mut p = (-lambda).exp();
    let mut cdf = p;
    let u = uniform(rng);
    let mut k = 0u32;
    while u > cdf && k < 200 {
        k += 1;
        p *= lambda / k as f64;
        cdf += p;
    }
    k
}

/// Fills `out` with a Dirichlet(alpha, ..., alpha) sample.
pub fn dirichlet(rng: &mut Rng, alpha: f64, out: &mut [f32]) {
    let gamma = Gamma::new(alpha, 1.0).expect("alpha validated > 0");
    let mut sum = 0.0;
    for x in out.iter_mut() {
        let g: f64 = gamma.sample(rng);
        *x = g as f32;
        sum += g;
    }
    if sum <= 0.0 || !sum.is_finite() {
        // Tiny alphas can underflow every component: put all the mass on one topic.
        out.fill(0.0);
        let i = below(rng, out.len());
        out[i] = 1.0;
    } else {
        for x in out.iter_mut() {
            *x = (*x as f64 / sum) as f32;
        }
    }
}

/// Index drawn with probability proportional to `weights` (not all zero).
pub fn weighted(rng: &mut Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = uniform(rng) * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_and_exponential_have_the_right_means() {
        let mut rng = stream(1, 1);
        let n = 200_000;
        let p: f64 = (0..n).map(|_| poisson(&mut rng, 2.5) as f64).sum::<f64>() / n as f64;
        let e: f64 = (0..n).map(|_| exponential(&mut rng, 4.0)).sum::<f64>() / n as f64;
        assert!((p - 2.5).abs() < 0.03, "{p}");
        assert!((e - 4.0).abs() < 0.05, "{e}");
    }

    #[test]
    fn dirichlet_sums_to_one() {
        let mut rng = stream(1, 2);
        let mut v = [0f32; 8];
        for alpha in [0.01, 0.5, 5.0] {
            dirichlet(&mut rng, alpha, &mut v);
            assert!((v.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn hashed_normals_are_fixed_with_mean_0_and_variance_1() {
        let n = 200_000u64;
        let x: Vec<f64> = (0..n)
            .map(|k| hashed_normal(k.wrapping_mul(0x1234_5678_9abc_def1)))
            .collect();
        let mean = x.iter().sum::<f64>() / n as f64;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.01,
            "{mean} {var}"
        );
        // Tails like a normal's: about 4.6% beyond two standard deviations.
        let tail = x.iter().filter(|v| v.abs() > 2.0).count() as f64 / n as f64;
        assert!((tail - 0.046).abs() < 0.01, "{tail}");
        assert_eq!(hashed_normal(42), hashed_normal(42));
    }

    #[test]
    fn streams_differ() {
        let a = uniform(&mut stream(7, 1));
        let b = uniform(&mut stream(7, 2));
        let c = uniform(&mut stream(8, 1));
        assert!(a != b && a != c);
    }
}
