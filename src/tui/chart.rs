//! The line chart every chart panel uses: a time axis in steps spanning the current zoom,
//! series clipped to it, the y range fitted to what is visible, and the tuning and reset
//! markers drawn as vertical lines at the step they took effect.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph, Wrap};

use super::app::App;
use crate::fmt;

/// One line of a chart.
pub struct Series {
    pub name: String,
    pub data: Vec<(f64, f64)>,
    pub style: Style,
    /// The marker letter when there are no colours.
    pub letter: char,
}

/// The x range (steps) of the charts now.
pub fn x_range(app: &App) -> [f64; 2] {
    let hi = app.snap.step.max(app.snap.window_steps).max(1);
    let lo = hi.saturating_sub(app.zoom_steps());
    [lo as f64, hi as f64]
}

/// Draws `series` in a bordered panel; `empty` is said inside when no series has a point.
/// `y` fixes the y range; otherwise it fits the visible points (and starts at 0 when
/// `from_zero`).
#[allow(clippy::too_many_arguments)] // each is one visible aspect of the chart
pub fn render(
    f: &mut Frame,
    area: Rect,
    app: &App,
    title: Line<'_>,
    series: Vec<Series>,
    y: Option<[f64; 2]>,
    from_zero: bool,
    empty: &str,
) {
    let t = &app.theme;
    let block = t.block(title);
    let [x0, x1] = x_range(app);
    let series: Vec<Series> = series
        .into_iter()
        .map(|mut s| {
            s.data.retain(|&(x, y)| x >= x0 && x <= x1 && y.is_finite());
            s
        })
        .collect();
    if series.iter().all(|s| s.data.is_empty()) {
        let inner = block.inner(area);
        f.render_widget(block, area);
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(empty.to_string(), t.dim())).centered())
                .wrap(Wrap { trim: true }),
            Rect {
                y: inner.y + inner.height.saturating_sub(1) / 2,
                ..inner
            },
        );
        return;
    }
    let [y0, y1] = y.unwrap_or_else(|| {
        let (lo, hi) = series
            .iter()
            .flat_map(|s| s.data.iter().map(|p| p.1))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        let lo = if from_zero { lo.min(0.0) } else { lo };
        let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.05).max(1e-6);
        [if from_zero && lo >= 0.0 { lo } else { lo - pad }, hi + pad]
    });
    let mut marker_lines = Vec::new();
    for m in &app.markers {
        let x = m.step as f64;
        if x >= x0 && x <= x1 {
            marker_lines.push((vec![(x, y0), (x, y1)], m.reset));
        }
    }
    let mut datasets: Vec<Dataset<'_>> = marker_lines
        .iter()
        .map(|(data, reset)| {
            Dataset::default()
                .data(data)
                .graph_type(GraphType::Line)
                .marker(t.marker('|'))
                .style(t.marker_style(*reset))
        })
        .collect();
    for s in &series {
        datasets.push(
            Dataset::default()
                .name(s.name.clone())
                .data(&s.data)
                .graph_type(GraphType::Line)
                .marker(t.marker(s.letter))
                .style(s.style),
        );
    }
    let x_labels = vec![
        Span::styled(fmt::short(x0), t.dim()),
        Span::styled(fmt::short((x0 + x1) / 2.0), t.dim()),
        Span::styled(fmt::short(x1), t.dim()),
    ];
    let y_labels = vec![
        Span::styled(fmt::value(y0), t.dim()),
        Span::styled(fmt::value((y0 + y1) / 2.0), t.dim()),
        Span::styled(fmt::value(y1), t.dim()),
    ];
    // The legend goes under the chart, where it hides no data.
    let mut legend = vec![Span::raw(" ")];
    for s in &series {
        legend.push(Span::styled(t.sym("━ ", "- "), s.style));
        legend.push(Span::styled(format!("{} ", s.name), t.label()));
    }
    let chart = Chart::new(datasets)
        .block(block.title_bottom(Line::from(legend)))
        .x_axis(
            Axis::default()
                .bounds([x0, x1])
                .labels(x_labels)
                .style(t.dim()),
        )
        .y_axis(
            Axis::default()
                .bounds([y0, y1])
                .labels(y_labels)
                .style(t.dim()),
        )
        .legend_position(None);
    f.render_widget(chart, area);
}
