//! The quit confirmation: shown when quitting would lose what the learner trained since its
//! last checkpoint.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::app::App;
use super::picker::centered;

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let lines = vec![
        Line::styled(
            format!(
                "The learner made {} updates since its last checkpoint.",
                crate::fmt::count(app.unsaved_updates())
            ),
            t.text(),
        ),
        Line::from(""),
        Line::from(vec![
            Span::styled(" s ", t.accent()),
            Span::styled("save a checkpoint, then quit", t.text()),
        ]),
        Line::from(vec![
            Span::styled(" y ", t.accent()),
            Span::styled("quit without saving", t.text()),
        ]),
        Line::from(vec![
            Span::styled(" n ", t.accent()),
            Span::styled("stay", t.text()),
        ]),
    ];
    let popup = centered(area, area.width.saturating_sub(4).min(64), 9);
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(t.block(Line::styled(" Quit? ", t.title()))),
        popup,
    );
}
