//! Number and duration formats shared by the front ends (the dashboard's views, the bench's
//! tables): `1,234,567`, `1.2M`, `2h 05m`.

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1234567` → `1.2M`, `12500` → `12.5k`, `950` → `950`.
pub fn short(x: f64) -> String {
    let a = x.abs();
    let (v, unit) = if a >= 1e9 {
        (x / 1e9, "G")
    } else if a >= 1e6 {
        (x / 1e6, "M")
    } else if a >= 1e3 {
        (x / 1e3, "k")
    } else {
        return if a >= 100.0 || x == x.trunc() {
            format!("{x:.0}")
        } else {
            format!("{x:.1}")
        };
    };
    if v.abs() >= 100.0 {
        format!("{v:.0}{unit}")
    } else {
        format!("{v:.1}{unit}")
    }
}

/// A value for an axis or a table: few significant digits.
pub fn value(x: f64) -> String {
    let a = x.abs();
    if x == f64::INFINITY {
        "inf".into()
    } else if !x.is_finite() {
        "n/a".into()
    } else if a >= 1000.0 {
        short(x)
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 0.01 || a == 0.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.1e}")
    }
}

/// Minutes as `2h 05m` or `45m`.
pub fn minutes(m: f64) -> String {
    let m = m.max(0.0).round() as u64;
    if m >= 60 {
        format!("{}h {:02}m", m / 60, m % 60)
    } else {
        format!("{m}m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(150_000), "150,000");
        assert_eq!(short(1_234_567.0), "1.2M");
        assert_eq!(short(12_500.0), "12.5k");
        assert_eq!(short(950.0), "950");
        assert_eq!(short(250_000.0), "250k");
        assert_eq!(value(1.2345), "1.23");
        assert_eq!(value(0.0), "0.00");
        assert_eq!(minutes(125.0), "2h 05m");
        assert_eq!(minutes(45.0), "45m");
    }
}
