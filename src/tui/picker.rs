//! The scenario picker (`o`): the bundled scenarios with their descriptions and the `*.toml`
//! files of `./scenarios/`, or a path typed after `/`; left/right choose the policy; Enter
//! launches (new world, new policy). A scenario with errors shows them here and the current
//! run goes on.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, List, ListItem, ListState, Paragraph, Wrap};

use super::app::{App, Source};

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let p = &app.picker;
    let w = area.width.saturating_sub(4).min(96);
    let error_height = if p.error.is_some() { 7 } else { 0 };
    let h = (p.entries.len() as u16 * 2 + 6 + error_height).min(area.height.saturating_sub(2));
    let popup = centered(area, w, h);
    f.render_widget(Clear, popup);
    let block = t.block(Line::from(vec![
        Span::styled(" Open a scenario ", t.title()),
        Span::styled(
            "Enter launch  / type a path  ←→ policy  Esc close ",
            t.label(),
        ),
    ]));
    let inner = block.inner(popup);
    f.render_widget(block, popup);
    let [head_area, list_area, error_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(2),
        Constraint::Length(error_height),
    ])
    .areas(inner);
    let mut head = vec![Line::from(vec![
        Span::styled("policy ", t.label()),
        Span::styled(format!("< {} >", p.policy_name()), t.value()),
    ])];
    match &p.typed {
        Some(typed) => head.push(Line::from(vec![
            Span::styled("path ", t.label()),
            Span::styled(format!("{typed}_"), t.value()),
        ])),
        None => head.push(Line::styled(
            "/ to type a scenario file's path or a bundled name",
            t.dim(),
        )),
    }
    f.render_widget(Paragraph::new(head), head_area);
    let items: Vec<ListItem<'_>> = p
        .entries
        .iter()
        .map(|e| {
            let origin = match &e.source {
                Source::Bundled(_) => "built-in",
                Source::File(_) => "file",
            };
            ListItem::new(vec![
                Line::from(vec![
                    Span::styled(e.name.clone(), t.value()),
                    Span::styled(format!("  ({origin})"), t.dim()),
                ]),
                Line::styled(format!("  {}", e.description), t.label()),
            ])
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(p.selected));
    f.render_stateful_widget(
        List::new(items)
            .highlight_style(t.selected())
            .highlight_symbol(t.sym("▶ ", "> ")),
        list_area,
        &mut state,
    );
    if let Some(e) = &p.error {
        f.render_widget(
            Paragraph::new(vec![
                Line::styled(
                    "This scenario has errors; the current run goes on:",
                    t.bad(),
                ),
                Line::styled(e.clone(), t.warn()),
            ])
            .wrap(Wrap { trim: false }),
            error_area,
        );
    }
}

/// A `w`×`h` rectangle centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
