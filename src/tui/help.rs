//! The help overlay (`?`): what the dashboard shows, in three sentences, and every key.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::app::App;
use super::keys::KEYMAP;
use super::picker::centered;

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut lines = vec![
        Line::styled("What am I looking at?", t.title()),
        Line::from(
            "A simulated live-streaming platform: each step a viewer asks for a recommendation, \
             the policy picks a live stream, the viewer watches it (reward: watch time, likes, \
             gifts, follows) or declines. Watch reward per step climb towards the myopic oracle.",
        ),
    ];
    for b in KEYMAP {
        lines.push(Line::from(vec![
            Span::styled(format!("{:>22}  ", b.keys), t.accent()),
            Span::styled(b.help, t.text()),
        ]));
    }
    let popup = centered(
        area,
        area.width.saturating_sub(4).min(84),
        area.height.saturating_sub(2).min(24),
    );
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(t.block(Line::from(vec![
                Span::styled(" Help ", t.title()),
                Span::styled("Esc or ? closes ", t.label()),
            ]))),
        popup,
    );
}
