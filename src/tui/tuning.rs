//! Live tuning: the policy's hyperparameters (if it has any), the reward weights and the speed,
//! selected with up/down and changed with left/right or -/+. Every change reaches the worker as
//! a command, is written to the event log and marked on the charts at the step it took effect;
//! the reward chart is repeated here to watch the effect.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use super::app::App;
use super::overview;
use crate::fmt;

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let s = &app.snap;
    let policy_hypers = s
        .hypers
        .iter()
        .filter(|h| !h.name.starts_with("reward."))
        .count();
    let table_height = (app.tuning_rows() as u16 + 5).min(area.height.saturating_sub(6).max(8));
    let (table_area, chart_area) = if area.width >= 110 {
        let [a, b] = Layout::horizontal([Constraint::Length(62), Constraint::Min(40)]).areas(area);
        (a, b)
    } else {
        let [a, b] =
            Layout::vertical([Constraint::Length(table_height), Constraint::Min(6)]).areas(area);
        (a, b)
    };
    let mut rows: Vec<Row<'_>> = Vec::new();
    for (i, h) in s.hypers.iter().enumerate() {
        let group = if h.name.starts_with("reward.") {
            "reward"
        } else {
            "policy"
        };
        let name = h
            .name
            .strip_prefix("reward.")
            .unwrap_or(&h.name)
            .to_string();
        let row = Row::new(vec![
            Cell::from(Span::styled(group, t.dim())),
            Cell::from(name),
            Cell::from(Line::from(fmt::value(h.value)).right_aligned()),
            Cell::from(Span::styled(
                format!("{}..{}", fmt::value(h.min), fmt::value(h.max)),
                t.dim(),
            )),
            Cell::from(Span::styled(h.help.clone(), t.label())),
        ]);
        rows.push(if i == app.tuning_selected {
            row.style(t.selected())
        } else {
            row
        });
    }
    let speed_row = Row::new(vec![
        Cell::from(Span::styled("run", t.dim())),
        Cell::from("speed"),
        Cell::from(Line::from(app.speed.label()).right_aligned()),
        Cell::from(Span::styled("10/s..full", t.dim())),
        Cell::from(Span::styled("steps per second (also < >)", t.label())),
    ]);
    rows.push(if app.tuning_selected == s.hypers.len() {
        speed_row.style(t.selected())
    } else {
        speed_row
    });
    let note = if policy_hypers == 0 {
        format!(
            " policy {} has no hyperparameters: reward weights and speed only ",
            s.policy
        )
    } else {
        format!(
            " policy {}: {} hyperparameter(s), then reward weights and speed ",
            s.policy, policy_hypers
        )
    };
    let block = t
        .block(Line::from(vec![
            Span::styled(" Tuning ", t.title()),
            Span::styled(
                t.sym("↑↓ select  ←→ change ", "j/k select  -/+ change "),
                t.label(),
            ),
        ]))
        .title_bottom(Line::styled(note, t.dim()));
    let widths = [
        Constraint::Length(6),
        Constraint::Length(13),
        Constraint::Length(7),
        Constraint::Length(10),
        Constraint::Min(10),
    ];
    f.render_widget(
        Table::new(rows, widths)
            .header(Row::new(["", "name", "value", "range", "what it does"]).style(t.label()))
            .column_spacing(1)
            .block(block),
        table_area,
    );
    overview::render_reward(f, chart_area, app);
}
