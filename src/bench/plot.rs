//! SVG images of a benchmark: the learning curves (reward per step per training window, mean
//! over seeds) and the per-policy comparison (evaluation reward per step and per session, mean
//! and 95% CI).

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::RunResult;
use super::table::{METRICS, Row};
use crate::fmt;

pub(crate) const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Draws the chart's legend (the labelled series) in a white box with a black border.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(err)
}

/// Mean curve over the seeds of one policy on one scenario (windows aligned by index).
fn mean_curve(runs: &[&RunResult]) -> Vec<(f64, f64)> {
    let len = runs.iter().map(|r| r.curve.len()).min().unwrap_or(0);
    (0..len)
        .map(|i| {
            let step = runs[0].curve[i].0 as f64;
            let mean = runs.iter().map(|r| r.curve[i].1).sum::<f64>() / runs.len() as f64;
            (step, mean)
        })
        .collect()
}

/// Writes `<scenario>-learning.svg` and `<scenario>-comparison.svg` for every scenario into
/// `dir`; returns the paths written.
pub fn write_all(dir: &Path, runs: &[RunResult], rows: &[Row]) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut scenarios: Vec<&str> = Vec::new();
    for r in runs {
        if !scenarios.contains(&r.scenario.as_str()) {
            scenarios.push(&r.scenario);
        }
    }
    let mut written = Vec::new();
    for s in scenarios {
        let path = dir.join(format!("{s}-learning.svg"));
        learning(&path, s, runs)?;
        written.push(path);
        let path = dir.join(format!("{s}-comparison.svg"));
        let group: Vec<&Row> = rows.iter().filter(|r| r.scenario == s).collect();
        comparison(&path, s, &group)?;
        written.push(path);
    }
    Ok(written)
}

fn learning(path: &Path, scenario: &str, runs: &[RunResult]) -> Result<(), String> {
    let mut policies: Vec<&str> = Vec::new();
    for r in runs.iter().filter(|r| r.scenario == scenario) {
        if !policies.contains(&r.policy.as_str()) {
            policies.push(&r.policy);
        }
    }
    let curves: Vec<(&str, Vec<(f64, f64)>)> = policies
        .iter()
        .map(|p| {
            let group: Vec<&RunResult> = runs
                .iter()
                .filter(|r| r.scenario == scenario && r.policy == *p)
                .collect();
            (*p, mean_curve(&group))
        })
        .collect();
    let x_max = curves
        .iter()
        .flat_map(|(_, c)| c.iter().map(|p| p.0))
        .fold(1.0, f64::max);
    let y_max = curves
        .iter()
        .flat_map(|(_, c)| c.iter().map(|p| p.1))
        .fold(0.1, f64::max)
        * 1.1;
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{scenario}: reward per step while training"),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("training step")
        .x_label_formatter(&|x| fmt::short(*x))
        .y_desc("reward per step (window mean)")
        .draw()
        .map_err(err)?;
    for (i, (policy, curve)) in curves.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                curve.iter().copied(),
                colour.stroke_width(2),
            ))
            .map_err(err)?
            .label(*policy)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
    }
    draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    root.present().map_err(err)
}

/// The comparison: one panel of bars per metric (reward per step, then per session).
fn comparison(path: &Path, scenario: &str, rows: &[&Row]) -> Result<(), String> {
    let root = SVGBackend::new(path, (1000, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let root = root
        .titled(
            &format!("{scenario}: evaluation (mean and 95% CI over seeds)"),
            ("sans-serif", 20),
        )
        .map_err(err)?;
    let panels = root.split_evenly((1, 2));
    for (area, metric) in panels.iter().zip(["reward_per_step", "reward_per_session"]) {
        bars(area, rows, metric)?;
    }
    root.present().map_err(err)
}

/// Bars of one metric of [`METRICS`] (by JSON name), one per policy, with CI whiskers.
fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    rows: &[&Row],
    metric: &str,
) -> Result<(), String> {
    let k = METRICS
        .iter()
        .position(|(name, _, _)| *name == metric)
        .ok_or_else(|| format!("no metric {metric}"))?;
    let header = METRICS[k].1;
    let y_max = rows
        .iter()
        .map(|r| {
            let e = r.estimates[k];
            e.mean + if e.ci95.is_finite() { e.ci95 } else { 0.0 }
        })
        .fold(0.1, f64::max)
        * 1.15;
    let n = rows.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(header, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.5..n - 0.5, 0.0..y_max)
        .map_err(err)?;
    let names: Vec<String> = rows.iter().map(|r| r.policy.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(rows.len().max(1))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(header)
        .draw()
        .map_err(err)?;
    for (i, r) in rows.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let e = r.estimates[k];
        let x = i as f64;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x - 0.3, 0.0), (x + 0.3, e.mean)],
                colour.filled(),
            )))
            .map_err(err)?;
        if e.ci95.is_finite() {
            let (lo, hi) = (e.mean - e.ci95, e.mean + e.ci95);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, lo), (x, hi)],
                    BLACK.stroke_width(2),
                )))
                .map_err(err)?;
            for y in [lo, hi] {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x - 0.1, y), (x + 0.1, y)],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}
