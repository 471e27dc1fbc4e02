//! Draws one frame: the header, the tabs, the current view, the footer and any overlay; or a
//! "too small" message when the terminal is smaller than [`MIN_WIDTH`]×[`MIN_HEIGHT`]; and a
//! banner when the worker failed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::app::{App, Overlay, View};
use super::{board, confirm, header, help, inspector, overview, picker, tuning};

/// The smallest terminal the dashboard draws in.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 18;

pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    let t = &app.theme;
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let lines = vec![
            Line::styled("Terminal too small", t.bad()).centered(),
            Line::from(format!(
                "{}x{}, need at least {MIN_WIDTH}x{MIN_HEIGHT}",
                area.width, area.height
            ))
            .centered(),
            Line::from("enlarge it, or q to quit").centered(),
        ];
        let y = area.height.saturating_sub(3) / 2;
        f.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: true }),
            ratatui::layout::Rect {
                y: area.y + y,
                height: area.height - y,
                ..area
            },
        );
        t.asciify(f.buffer_mut());
        return;
    }
    let error_height = if app.worker_error.is_some() { 3 } else { 0 };
    let [head, tabs, error, body, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(error_height),
        Constraint::Min(8),
        Constraint::Length(1),
    ])
    .areas(area);
    header::render(f, head, app);
    header::render_tabs(f, tabs, app);
    if let Some(e) = &app.worker_error {
        f.render_widget(
            Paragraph::new(vec![
                Line::styled(format!("The worker stopped: {e}"), t.bad()),
                Line::styled(
                    "The run cannot go on; q quits (exit status 1), o opens another scenario.",
                    t.warn(),
                ),
            ])
            .wrap(Wrap { trim: true }),
            error,
        );
    }
    match app.view {
        View::Overview => overview::render(f, body, app),
        View::Board => board::render(f, body, app),
        View::Inspector => inspector::render(f, body, app),
        View::Tuning => tuning::render(f, body, app),
    }
    header::render_footer(f, foot, app);
    match app.overlay {
        Some(Overlay::Help) => help::render(f, body, app),
        Some(Overlay::Picker) => picker::render(f, body, app),
        Some(Overlay::ConfirmQuit) => confirm::render(f, body, app),
        None => {}
    }
    t.asciify(f.buffer_mut());
}
