//! The header (what runs, where, how far and how fast), the tab bar of the views and the
//! footer with the keys of the current view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};

use super::app::{App, View};
use crate::fmt;

/// Two lines: the run, then the clock and progress.
pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let s = &app.snap;
    let sep = Span::styled(t.sym(" · ", " | "), t.dim());
    let state = if app.worker_error.is_some() {
        Span::styled(t.sym("✖ FAILED", "X FAILED"), t.bad())
    } else if s.finished {
        Span::styled("STOPPED", t.warn())
    } else if app.paused {
        // What was asked shows at once; the worker's snapshot confirms it.
        Span::styled(t.sym("⏸ PAUSED", "|| PAUSED"), t.warn())
    } else {
        Span::styled(t.sym("▶ RUNNING", "> RUNNING"), t.good())
    };
    let speed = s.speed.unwrap_or(app.speed);
    let rate = if app.paused || s.finished {
        format!("speed {}", speed.label())
    } else {
        format!(
            "{} steps/s (max {})",
            fmt::short(s.measured_rate),
            speed.label()
        )
    };
    let device = if s.device.is_empty() {
        "cpu".to_string()
    } else {
        s.device.clone()
    };
    let line1 = Line::from(vec![
        Span::styled(" liveq  ", t.title()),
        Span::styled("scenario ", t.label()),
        Span::styled(s.scenario.clone(), t.value()),
        sep.clone(),
        Span::styled("policy ", t.label()),
        Span::styled(s.policy.clone(), t.value()),
        sep.clone(),
        Span::styled(device, t.value()),
    ]);
    let mut line2 = vec![
        Span::styled(" step ", t.label()),
        Span::styled(fmt::count(s.step), t.value()),
        sep.clone(),
        Span::styled(s.time.to_string(), t.value()),
        sep.clone(),
        Span::styled(rate, t.label()),
        sep.clone(),
        Span::styled("reward/step ", t.label()),
        Span::styled(fmt::value(s.totals.rates.reward_per_step), t.value()),
    ];
    if app.merged > 0 {
        line2.push(sep);
        line2.push(Span::styled(
            format!("{} updates merged", fmt::short(app.merged as f64)),
            t.dim(),
        ));
    }
    let [l1, l2] = ratatui::layout::Layout::vertical([Constraint::Length(1); 2]).areas(area);
    let [left, right] = Layout::horizontal([Constraint::Min(20), Constraint::Length(12)]).areas(l1);
    f.render_widget(Paragraph::new(line1), left);
    f.render_widget(
        Paragraph::new(Line::from(vec![state, Span::raw(" ")]).right_aligned()),
        right,
    );
    f.render_widget(Paragraph::new(Line::from(line2)), l2);
}

/// The tabs and, on the right, the global keys.
pub fn render_tabs(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let [left, right] =
        Layout::horizontal([Constraint::Min(40), Constraint::Length(28)]).areas(area);
    let titles = View::ALL
        .iter()
        .enumerate()
        .map(|(i, v)| Line::from(format!("{} {}", i + 1, v.title())));
    let selected = View::ALL.iter().position(|&v| v == app.view).unwrap_or(0);
    let tabs = Tabs::new(titles)
        .select(selected)
        .style(t.label())
        .highlight_style(t.selected())
        .divider(t.sym("│", "|"));
    f.render_widget(tabs, left);
    let keys = Line::from(vec![
        t.key("?"),
        Span::styled(" help  ", t.label()),
        t.key("o"),
        Span::styled(" scenario  ", t.label()),
        t.key("q"),
        Span::styled(" quit ", t.label()),
    ])
    .right_aligned();
    f.render_widget(Paragraph::new(keys), right);
}

/// One line of the keys that matter in the current view.
pub fn render_footer(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut spans = Vec::new();
    let mut add = |k: &'static str, what: &'static str| {
        spans.push(Span::styled(" ", t.label()));
        spans.push(t.key(k));
        spans.push(Span::styled(format!(" {what}"), t.label()));
    };
    add("space", if app.paused { "resume" } else { "pause" });
    if app.paused {
        add(".", "step");
    }
    add("<>", "speed");
    match app.view {
        View::Overview => {
            add("z/Z", "zoom");
            add("r", "reset agent");
            add("s", "save");
        }
        View::Board => add("j/k", "scroll"),
        View::Inspector => {
            add("j/k", "scroll");
            add("f", if app.frozen { "follow" } else { "freeze" });
        }
        View::Tuning => {
            add("j/k", "select");
            add("-/+", "change");
        }
    }
    add("Tab", "view");
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
