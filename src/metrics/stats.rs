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
