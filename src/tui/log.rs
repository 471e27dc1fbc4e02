//! The event log panel: what the worker and the dashboard did (start, tuning changes, resets,
//! checkpoints, errors), newest at the bottom, each at the step (and, on wide terminals, the simulated time) it happened.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::App;
use crate::fmt;
use crate::worker::EventKind;

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let block = t.block(Line::styled(" Events ", t.title()));
    let rows = block.inner(area).height as usize;
    let wide = area.width >= 110;
    let lines: Vec<Line<'_>> = app.log[app.log.len().saturating_sub(rows)..]
        .iter()
        .map(|l| {
            let style = match l.kind {
                EventKind::Info | EventKind::Saved => t.text(),
                EventKind::Tuning | EventKind::Reset => t.warn(),
                EventKind::Warning => t.warn(),
                EventKind::Error => t.bad(),
            };
            // The simulated time only where there is room for it.
            let when = match (l.step, l.time) {
                (Some(s), Some(time)) if wide => {
                    format!("{:>6} {:<16} ", fmt::short(s as f64), time.to_string())
                }
                (Some(s), _) => format!("{:>6} ", fmt::short(s as f64)),
                _ => "       ".into(),
            };
            let mark = match l.kind {
                EventKind::Tuning => t.sym("◆ ", "* "),
                EventKind::Reset => t.sym("↺ ", "R "),
                EventKind::Warning => "! ",
                EventKind::Error => t.sym("✖ ", "X "),
                EventKind::Info => "  ",
                EventKind::Saved => t.sym("✔ ", "S "),
            };
            Line::from(vec![
                Span::styled(when, t.dim()),
                Span::styled(mark, style),
                Span::styled(l.text.clone(), style),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines).block(block), area);
}
