//! The price of diversity (`liveq bench --rerank-sweep`): every scenario is run as it is and
//! re-ranked by MMR and by the DPP at each weight of [`SWEEP_WEIGHTS`]; the SVG puts each
//! policy's evaluation reward (per step and per session) against the intra-list diversity it
//! bought, and coverage and exposure Gini against the weight.

use std::path::Path;

use plotters::prelude::*;

use super::table::{METRICS, Row};
use crate::scenario::{Rerank, Scenario};

/// The diversity weights of the sweep (0, the policy's own order, is always run too).
pub const SWEEP_WEIGHTS: &[f64] = &[0.1, 0.2, 0.3, 0.5, 0.7];

/// `scenario` as it is, then with each re-ranking of the sweep; the variants are named
/// `<name>+<rerank>` (e.g. `feed+mmr:0.3`). A scenario of single recommendations has no slate
/// to re-rank: it runs as it is only.
pub fn variants(scenario: &Scenario) -> Vec<Scenario> {
    let mut out = vec![scenario.clone()];
    if scenario.params.response.slate_size == 1 {
        return out;
    }
    for method in [Rerank::Mmr(0.0), Rerank::Dpp(0.0)] {
        for &w in SWEEP_WEIGHTS {
            let mut s = scenario.clone();
            let r = method.with_weight(w);
            s.params.feed.rerank = r;
            s.params.scenario.name = format!("{}+{r}", scenario.name());
            out.push(s);
        }
    }
    out
}

/// The base scenario and re-ranking of a variant's name (the base alone: no re-ranking).
pub fn split(name: &str) -> (&str, Rerank) {
    match name.rsplit_once('+') {
        Some((base, r)) => match r.parse() {
            Ok(rerank) => (base, rerank),
            Err(_) => (name, Rerank::None),
        },
        None => (name, Rerank::None),
    }
}

fn metric(row: &Row, name: &str) -> f64 {
    METRICS
        .iter()
        .position(|(n, _, _)| *n == name)
        .map_or(f64::NAN, |k| row.estimates[k].mean)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Writes `<base>-diversity.svg` for every base scenario among `rows` into `dir`; returns the
/// paths written.
pub fn write(dir: &Path, rows: &[Row]) -> Result<Vec<std::path::PathBuf>, String> {
    let mut bases: Vec<&str> = Vec::new();
    for r in rows {
        let (b, _) = split(&r.scenario);
        if !bases.contains(&b) {
            bases.push(b);
        }
    }
    let mut written = Vec::new();
    for base in bases {
        let path = dir.join(format!("{base}-diversity.svg"));
        let group: Vec<&Row> = rows
            .iter()
            .filter(|r| split(&r.scenario).0 == base)
            .collect();
        draw(&path, base, &group)?;
        written.push(path);
    }
    Ok(written)
}

fn draw(path: &Path, base: &str, rows: &[&Row]) -> Result<(), String> {
    let mut policies: Vec<&str> = Vec::new();
    for r in rows {
        if !policies.contains(&r.policy.as_str()) {
            policies.push(&r.policy);
        }
    }
    // (policy, method, [(weight, row)]) with the plain run as weight 0 of both methods.
    let mut curves: Vec<(String, Vec<(f64, &Row)>)> = Vec::new();
    for p in &policies {
        for method in ["mmr", "dpp"] {
            let mut pts: Vec<(f64, &Row)> = rows
                .iter()
                .filter(|r| r.policy == *p)
                .filter_map(|r| match split(&r.scenario).1 {
                    Rerank::None => Some((0.0, *r)),
                    Rerank::Mmr(w) if method == "mmr" => Some((w, *r)),
                    Rerank::Dpp(w) if method == "dpp" => Some((w, *r)),
                    _ => None,
                })
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            curves.push((format!("{p} {method}"), pts));
        }
    }
    let root = SVGBackend::new(path, (1100, 820)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let root = root
        .titled(
            &format!("{base}: the price of diversity (evaluation, mean over seeds)"),
            ("sans-serif", 20),
        )
        .map_err(err)?;
    let panels = root.split_evenly((2, 2));
    let specs: [(&str, &str, &str); 4] = [
        ("intra_list_diversity", "reward_per_step", "reward per step"),
        (
            "intra_list_diversity",
            "reward_per_session",
            "reward per session",
        ),
        ("weight", "coverage", "coverage"),
        ("weight", "exposure_gini", "exposure Gini"),
    ];
    for (area, (xm, ym, title)) in panels.iter().zip(specs) {
        let series: Vec<(String, Vec<(f64, f64)>)> = curves
            .iter()
            .map(|(label, pts)| {
                let xy = pts
                    .iter()
                    .map(|(w, r)| {
                        let x = if xm == "weight" { *w } else { metric(r, xm) };
                        (x, metric(r, ym))
                    })
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .collect();
                (label.clone(), xy)
            })
            .collect();
        let all = || series.iter().flat_map(|(_, s)| s.iter().copied());
        let (x0, x1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (x, _)| {
            (a.min(x), b.max(x))
        });
        let (y0, y1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, y)| {
            (a.min(y), b.max(y))
        });
        if !(x0.is_finite() && y0.is_finite()) {
            continue;
        }
        let pad = |lo: f64, hi: f64| {
            let d = ((hi - lo) * 0.08).max(1e-3);
            (lo - d)..(hi + d)
        };
        let x_desc = if xm == "weight" {
            "diversity weight (λ, θ)"
        } else {
            "intra-list diversity"
        };
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(pad(x0, x1), pad(y0, y1))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(title)
            .draw()
            .map_err(err)?;
        for (i, (label, pts)) in series.iter().enumerate() {
            let colour = super::plot::COLOURS[(i / 2) % super::plot::COLOURS.len()];
            let style = if i % 2 == 0 {
                colour.stroke_width(2)
            } else {
                colour.mix(0.6).stroke_width(1)
            };
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), style))
                .map_err(err)?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(err)?;
        }
        super::plot::draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_named_and_read_back() {
        let s = Scenario::load("feed").unwrap();
        let v = variants(&s);
        assert_eq!(v.len(), 1 + 2 * SWEEP_WEIGHTS.len());
        assert_eq!(split(v[0].name()), ("feed", Rerank::None));
        assert_eq!(v[1].params.feed.rerank, Rerank::Mmr(SWEEP_WEIGHTS[0]));
        assert_eq!(split(v[1].name()), ("feed", Rerank::Mmr(SWEEP_WEIGHTS[0])));
        assert_eq!(split("a+b"), ("a+b", Rerank::None));
        assert_eq!(variants(&Scenario::load("niche").unwrap()).len(), 1);
    }
}
