//! Small statistics used by the metrics and the benchmark: Gini coefficient, normalised entropy,
//! mean and confidence interval.

/// Gini coefficient of non-negative values (0 = equal, → 1 = all on one). 0 for an empty or
/// all-zero input.
pub fn gini(values: &mut [f64]) -> f64 {
    let n = values.len();
    let total: f64 = values.iter().sum();
    if n == 0 || total <= 0.0 {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let weighted: f64 = values
        .iter()
        .enumerate()
        .map(|(i, x)| (i as f64 + 1.0) * x)
        .sum();
    (2.0 * weighted) / (n as f64 * total) - (n as f64 + 1.0) / n as f64
}

/// Shannon entropy of the distribution given by `counts`, divided by ln(len) so that it lies in
/// [0, 1] (1 = uniform over all categories). 0 when there is one category or no counts.
pub fn normalized_entropy(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    if counts.len() < 2 || total == 0 {
        return 0.0;
    }
    let h: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total as f64;
            -p * p.ln()
        })
        .sum();
    h / (counts.len() as f64).ln()
}

/// Divides, giving 0 for an empty denominator.
pub fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 { 0.0 } else { num / den }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_against_hand_computed_values() {
        assert_eq!(gini(&mut [1.0, 1.0, 1.0, 1.0]), 0.0);
        // One of four holds everything: (2·4·1)/(4·1) − 5/4 = 0.75.
        assert!((gini(&mut [0.0, 0.0, 5.0, 0.0]) - 0.75).abs() < 1e-12);
        // [1, 2, 3]: (2·(1+4+9))/(3·6) − 4/3 = 28/18 − 24/18 = 2/9.
        assert!((gini(&mut [3.0, 1.0, 2.0]) - 2.0 / 9.0).abs() < 1e-12);
        assert_eq!(gini(&mut []), 0.0);
    }

    #[test]
    fn entropy_is_normalised() {
        assert!((normalized_entropy(&[5, 5, 5, 5]) - 1.0).abs() < 1e-12);
        assert_eq!(normalized_entropy(&[0, 9, 0]), 0.0);
        // Two of four equally: ln 2 / ln 4 = 0.5.
        assert!((normalized_entropy(&[3, 0, 3, 0]) - 0.5).abs() < 1e-12);
    }
}

/// Two-sided 97.5% quantiles of Student's t for 1..=30 degrees of freedom.
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// Mean and half-width of the 95% confidence interval (Student's t) of `xs`.
/// The half-width is NaN for fewer than two values.
pub fn mean_ci95(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = T975.get(n - 2).copied().unwrap_or(1.96);
    (mean, t * (var / n as f64).sqrt())
}

#[cfg(test)]
mod ci_tests {
    use super::mean_ci95;

    #[test]
    fn confidence_interval_against_hand_computed_values() {
        // [1, 2, 3]: mean 2, sd 1, half-width t(0.975, 2) · 1/√3 = 4.303 / 1.7320508 = 2.48434.
        let (m, h) = mean_ci95(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((h - 2.484_34).abs() < 1e-4, "{h}");
        // [2, 4]: mean 3, sd √2, half-width 12.706 · √2/√2 = 12.706.
        let (m, h) = mean_ci95(&[2.0, 4.0]);
        assert_eq!(m, 3.0);
        assert!((h - 12.706).abs() < 1e-9);
        let (m, h) = mean_ci95(&[5.0]);
        assert_eq!(m, 5.0);
        assert!(h.is_nan());
    }
}
