//! The live board: every stream live now (most viewers first) with its streamer's name, topic,
//! audience, how long it has been live and how often the policy recommended it; and, on wide
//! terminals, the audience per topic.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::app::App;
use crate::fmt;
use crate::sim::streamer_name;

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let (main, side) = if area.width >= 110 {
        let [m, s] = Layout::horizontal([Constraint::Min(70), Constraint::Length(38)]).areas(area);
        (m, Some(s))
    } else {
        (area, None)
    };
    render_table(f, main, app);
    if let Some(side) = side {
        render_topics(f, side, app);
    }
}

fn topic_name(app: &App, topic: u16) -> String {
    app.snap
        .topics
        .get(topic as usize)
        .cloned()
        .unwrap_or_else(|| format!("topic {topic}"))
}

fn render_table(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let s = &app.snap;
    let total_recommended: u64 = s.live.iter().map(|l| l.recommended).sum::<u64>().max(1);
    let max_viewers = s.live.iter().map(|l| l.viewers).max().unwrap_or(0).max(1);
    let bar_width = 12usize;
    let header = Row::new([
        "#",
        "Streamer",
        "Topic",
        "Viewers",
        "",
        "Live for",
        // On a feed every stream of a slate is counted: impressions.
        if s.slate_size > 1 {
            "Impressions"
        } else {
            "Recommended"
        },
    ])
    .style(t.label());
    let rows: Vec<Row<'_>> = s
        .live
        .iter()
        .enumerate()
        .skip(app.board_offset)
        .map(|(i, l)| {
            Row::new(vec![
                Cell::from(format!("{}", i + 1)).style(t.dim()),
                Cell::from(streamer_name(l.id)).style(t.value()),
                Cell::from(topic_name(app, l.topic)),
                Cell::from(Line::from(fmt::count(l.viewers as u64)).right_aligned()),
                Cell::from(Span::styled(
                    t.bar(l.viewers as f64 / max_viewers as f64, bar_width),
                    t.series(0),
                )),
                Cell::from(Line::from(fmt::minutes(l.live_minutes)).right_aligned()),
                Cell::from(
                    Line::from(format!(
                        "{} ({:.0}%)",
                        fmt::count(l.recommended),
                        100.0 * l.recommended as f64 / total_recommended as f64
                    ))
                    .right_aligned(),
                ),
            ])
        })
        .collect();
    let title = Line::from(vec![
        Span::styled(" Live now ", t.title()),
        Span::styled(
            format!(
                "{} of {} streamers, {} watching, most viewers first ",
                s.live.len(),
                s.num_streamers,
                fmt::count(s.live.iter().map(|l| l.viewers as u64).sum())
            ),
            t.label(),
        ),
    ]);
    let widths = [
        Constraint::Length(3),
        Constraint::Length(14),
        Constraint::Length(10),
        Constraint::Length(7),
        Constraint::Length(bar_width as u16),
        Constraint::Length(8),
        Constraint::Length(14),
        Constraint::Fill(1),
    ];
    let block = t.block(title);
    if s.live.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled("nobody is live right now", t.dim()).centered())
                .block(block),
            area,
        );
        return;
    }
    f.render_widget(
        Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .block(block),
        area,
    );
}

fn render_topics(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let s = &app.snap;
    let k = s.topics.len();
    let mut viewers = vec![0u64; k];
    let mut streams = vec![0u64; k];
    for l in &s.live {
        if let Some(v) = viewers.get_mut(l.topic as usize) {
            *v += l.viewers as u64;
            streams[l.topic as usize] += 1;
        }
    }
    let max = viewers.iter().copied().max().unwrap_or(0).max(1);
    let rows: Vec<Row<'_>> = (0..k)
        .map(|i| {
            Row::new(vec![
                Cell::from(topic_name(app, i as u16)),
                Cell::from(Line::from(format!("{}", streams[i])).right_aligned()),
                Cell::from(Line::from(fmt::count(viewers[i])).right_aligned()),
                Cell::from(Span::styled(
                    t.bar(viewers[i] as f64 / max as f64, 10),
                    t.series(1),
                )),
            ])
        })
        .collect();
    let header = Row::new(["Topic", "Live", "Viewers", ""]).style(t.label());
    let widths = [
        Constraint::Min(10),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(10),
    ];
    f.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(t.block(Line::styled(" Audience by topic ", t.title()))),
        area,
    );
}
