//! SVG images of a sweep: for each searched key, every trial's objective (mean and 95% interval
//! over its seeds, on the validation world) against the value it tried. Numeric keys get a
//! numeric axis (logarithmic for log-uniform ranges, or for positive values spanning more
//! than a factor of ten); any other value (a list such as `hidden`, a string, a boolean) gets
//! one position per distinct value. Under successive halving, trials are coloured by the
//! training steps of the last rung they reached, since their objectives are not comparable
//! across rungs.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::spec::{Domain, SweepSpec};
use super::{SweepResult, Trial, value_text};
use crate::bench::plot::{COLOURS, draw_legend};
use crate::fmt;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Where a value sits on the drawn x axis (0..1), if it can be placed.
type Placement = Box<dyn Fn(&toml::Value) -> Option<f64>>;

/// How a key's values are placed along the x axis.
enum Axis {
    /// Numbers, on a linear or logarithmic scale.
    Numeric { log: bool, lo: f64, hi: f64 },
    /// One position per distinct value, in the order first met in the space.
    Categories(Vec<String>),
}

fn number(v: &toml::Value) -> Option<f64> {
    v.as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .filter(|x| x.is_finite())
}

fn axis(domain: &Domain, trials: &[&Trial], key: &str) -> Axis {
    let values: Vec<&toml::Value> = trials.iter().filter_map(|t| t.config.get(key)).collect();
    let numbers: Option<Vec<f64>> = values.iter().map(|v| number(v)).collect();
    match numbers {
        Some(xs) if !xs.is_empty() => {
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let log = match domain {
                Domain::LogUniform(..) => true,
                Domain::Uniform(..) | Domain::Int(..) => false,
                Domain::Values(_) => lo > 0.0 && hi / lo > 10.0,
            };
            Axis::Numeric { log, lo, hi }
        }
        _ => {
            let mut cats: Vec<String> = Vec::new();
            let listed: Vec<String> = match domain {
                Domain::Values(vs) => vs.iter().map(value_text).collect(),
                _ => Vec::new(),
            };
            for c in listed
                .into_iter()
                .chain(values.iter().map(|v| value_text(v)))
            {
                if !cats.contains(&c) {
                    cats.push(c);
                }
            }
            Axis::Categories(cats)
        }
    }
}

/// A file name for a key: `agent.lr` → `agent.lr.svg`, other characters replaced by `_`.
fn file_name(key: &str) -> String {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.svg")
}

/// Writes one image per searched key into `dir` (created if missing); returns the paths.
pub fn write_all(
    dir: &Path,
    spec: &SweepSpec,
    result: &SweepResult,
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for p in &spec.params {
        let path = dir.join(file_name(&p.key));
        one(&path, spec, result, &p.key, &p.domain)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

fn one(
    path: &Path,
    spec: &SweepSpec,
    result: &SweepResult,
    key: &str,
    domain: &Domain,
) -> Result<(), String> {
    let trials: Vec<&Trial> = result
        .trials
        .iter()
        .filter(|t| t.mean.is_finite())
        .collect();
    let mut rungs: Vec<u64> = trials.iter().map(|t| t.steps).collect();
    rungs.sort_unstable();
    rungs.dedup();
    let half = |t: &Trial| if t.ci95.is_finite() { t.ci95 } else { 0.0 };
    let y_lo = trials
        .iter()
        .map(|t| t.mean - half(t))
        .fold(f64::INFINITY, f64::min);
    let y_hi = trials
        .iter()
        .map(|t| t.mean + half(t))
        .fold(f64::NEG_INFINITY, f64::max);
    let (y_lo, y_hi) = if y_lo.is_finite() && y_hi.is_finite() {
        let pad = ((y_hi - y_lo) * 0.08).max(1e-3);
        (y_lo - pad, y_hi + pad)
    } else {
        (0.0, 1.0)
    };
    let axis = axis(domain, &trials, key);
    // Every axis is drawn on 0..1; labels map positions back to values.
    let (place, ticks): (Placement, Vec<(f64, String)>) = match &axis {
        Axis::Numeric { log, lo, hi } => {
            let (log, lo, hi) = (*log, *lo, *hi);
            let f = move |x: f64| if log { x.ln() } else { x };
            let (a, b) = (f(lo), f(hi));
            let span = if b > a { b - a } else { 1.0 };
            let to = move |x: f64| 0.1 + 0.8 * (f(x) - a) / span;
            let mut values: Vec<f64> = trials
                .iter()
                .filter_map(|t| t.config.get(key).and_then(number))
                .collect();
            values.sort_by(f64::total_cmp);
            values.dedup();
            let ticks = if values.len() <= 8 {
                values
                    .iter()
                    .map(|&x| (to(x), value_text(&toml::Value::Float(x))))
                    .collect()
            } else {
                (0..=4)
                    .map(|i| {
                        let u = a + span * i as f64 / 4.0;
                        let x = if log { u.exp() } else { u };
                        (to(x), value_text(&toml::Value::Float(x)))
                    })
                    .collect()
            };
            (Box::new(move |v| number(v).map(to)), ticks)
        }
        Axis::Categories(cats) => {
            let n = cats.len().max(1) as f64;
            let cats2 = cats.clone();
            let to = move |i: usize| (i as f64 + 0.5) / n;
            let ticks = cats
                .iter()
                .enumerate()
                .map(|(i, c)| (to(i), c.clone()))
                .collect();
            (
                Box::new(move |v| {
                    let t = value_text(v);
                    cats2.iter().position(|c| *c == t).map(to)
                }),
                ticks,
            )
        }
    };
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{}: {} against {key}",
                spec.origin,
                spec.sweep.objective.name()
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..1.0, y_lo..y_hi)
        .map_err(err)?;
    let tick_list = ticks.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .x_desc(key)
        .y_desc(format!(
            "{} (validation, mean ± 95% CI)",
            spec.sweep.objective.name()
        ))
        .draw()
        .map_err(err)?;
    // The tick labels of the x axis, at the tried values.
    let plot_area = chart.plotting_area();
    for (x, label) in &tick_list {
        plot_area
            .draw(&Text::new(
                label.clone(),
                (*x, y_lo),
                ("sans-serif", 13).into_font().color(&BLACK).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Top,
                    ),
                ),
            ))
            .map_err(err)?;
    }
    let multi_rung = rungs.len() > 1;
    for (ri, &rung) in rungs.iter().enumerate() {
        let colour = COLOURS[ri % COLOURS.len()];
        // Trials that share a value sit side by side, each rung a little to the right of the
        // one before, so that no point hides another.
        let mut points: Vec<(f64, f64, f64)> = trials
            .iter()
            .filter(|t| t.steps == rung)
            .filter_map(|t| Some((place(t.config.get(key)?)?, t.mean, half(t))))
            .collect();
        let rung_shift = (ri as f64 - (rungs.len() - 1) as f64 / 2.0) * 0.02;
        let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
        for (i, p) in points.iter_mut().enumerate() {
            let same: Vec<usize> = (0..xs.len()).filter(|&j| xs[j] == xs[i]).collect();
            let k = same.iter().position(|&j| j == i).unwrap_or(0) as f64;
            let spread = (k - (same.len() - 1) as f64 / 2.0) * 0.006;
            p.0 += rung_shift + spread;
        }
        chart
            .draw_series(points.iter().map(|&(x, m, h)| {
                PathElement::new(vec![(x, m - h), (x, m + h)], colour.stroke_width(1))
            }))
            .map_err(err)?;
        let series = chart
            .draw_series(
                points
                    .iter()
                    .map(|&(x, m, _)| Circle::new((x, m), 4, colour.filled())),
            )
            .map_err(err)?;
        if multi_rung {
            series
                .label(format!("{} training steps", fmt::count(rung)))
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, colour.filled()));
        }
    }
    if multi_rung {
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_the_key_and_drop_unsafe_characters() {
        assert_eq!(file_name("agent.lr"), "agent.lr.svg");
        assert_eq!(file_name("agent/x y"), "agent_x_y.svg");
    }
}
