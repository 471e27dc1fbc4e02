//! The inspector: one recommendation laid open. Left, the viewer's hidden state as the oracle
//! sees it (satisfaction, session time left, interests and fatigue per topic); right, every live
//! candidate with the policy's value for it (Q-value, the policy's own score, or n/a), its true
//! acceptance probability and expected reward, match, quality and appeal; the choice is marked,
//! and the outcome is told below. A slate of several streams is listed first, by position, with
//! how likely its position is looked at and the true probability that the viewer
//! picks each (position bias included).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use super::app::App;
use crate::fmt;
use crate::inspect::{Decision, Values};
use crate::sim::streamer_name;

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let Some(d) = &app.decision else {
        let msg = if app.paused {
            "press . to step once and inspect that recommendation"
        } else {
            "waiting for a recommendation to inspect"
        };
        f.render_widget(
            Paragraph::new(Line::styled(msg, t.dim()).centered())
                .block(t.block(Line::styled(" Inspector ", t.title()))),
            area,
        );
        return;
    };
    let left_width = if area.width >= 100 { 36 } else { 27 };
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_width), Constraint::Min(30)]).areas(area);
    render_viewer(f, left, app, d);
    let [table, outcome] =
        Layout::vertical([Constraint::Min(5), Constraint::Length(4)]).areas(right);
    render_candidates(f, table, app, d);
    render_outcome(f, outcome, app, d);
}

fn topic(app: &App, k: u16) -> String {
    app.snap
        .topics
        .get(k as usize)
        .cloned()
        .unwrap_or_else(|| format!("topic {k}"))
}

fn render_viewer(f: &mut Frame, area: Rect, app: &App, d: &Decision) {
    let t = &app.theme;
    let block = t.block(Line::styled(
        format!(" Viewer {} (hidden) ", d.viewer),
        t.title(),
    ));
    let inner_w = block.inner(area).width as usize;
    let name_w = 9usize;
    let bar_w = inner_w.saturating_sub(name_w + 11).max(3);
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<10}"), t.label()),
            Span::styled(v, t.value()),
        ])
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<10}", "satisfied"), t.label()),
            Span::styled(format!("{:.2} ", d.satisfaction), t.value()),
            Span::styled(t.bar(d.satisfaction, bar_w.min(10)), t.good()),
        ]),
        kv("time left", fmt::minutes(d.budget)),
        kv(
            "session",
            format!("{} recs, {} taken", d.session_steps, d.session_accepted),
        ),
        kv("patience", format!("{:.1}", d.patience)),
        Line::styled("interest, fatigue by topic", t.label()),
    ];
    let max_interest = d.interests.iter().copied().fold(0.0f32, f32::max).max(1e-6);
    let mut order: Vec<usize> = (0..d.interests.len()).collect();
    order.sort_by(|&a, &b| d.interests[b].total_cmp(&d.interests[a]));
    for k in order {
        let mut name = topic(app, k as u16);
        name.truncate(name_w - 1);
        lines.push(Line::from(vec![
            Span::styled(format!("{name:<name_w$}"), t.text()),
            Span::styled(
                format!(
                    "{:<w$}",
                    t.bar((d.interests[k] / max_interest) as f64, bar_w),
                    w = bar_w
                ),
                t.series(0),
            ),
            Span::styled(format!(" {:.2}", d.interests[k]), t.value()),
            Span::styled(
                format!(" {:>5.2}", d.fatigue.get(k).copied().unwrap_or(0.0)),
                t.warn(),
            ),
        ]));
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn render_candidates(f: &mut Frame, area: Rect, app: &App, d: &Decision) {
    let t = &app.theme;
    let value_title = match &d.values {
        Values::Q => "Q".to_string(),
        _ => "score".to_string(),
    };
    let mut order: Vec<usize> = (0..d.candidates.len()).collect();
    let feed = d.slate.len() > 1;
    let position = |id: u32| d.slate.iter().position(|&s| s == id).filter(|_| feed);
    // The slate first, by position; then highest value first (the policy's ranking); without
    // values, highest expected reward.
    order.sort_by(|&a, &b| {
        let (ca, cb) = (&d.candidates[a], &d.candidates[b]);
        let (pa, pb) = (position(ca.id), position(cb.id));
        let by_value = match (ca.value, cb.value) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            _ => cb.expected_reward.total_cmp(&ca.expected_reward),
        };
        match (pa, pb) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            _ => by_value,
        }
    });
    let best = d
        .candidates
        .iter()
        .max_by(|a, b| a.expected_reward.total_cmp(&b.expected_reward))
        .map(|c| c.id);
    let wide = area.width >= 80;
    let mut header = vec![
        if feed { "pos" } else { "" },
        "Streamer",
        "Topic",
        value_title.as_str(),
    ];
    // In a feed, the probability of being picked from the slate; otherwise of being accepted.
    // A feed also shows how likely each position is looked at.
    let look = feed;
    if look {
        header.push(if wide { "P(look)" } else { "look" });
    }
    if wide {
        let p = if feed { "P(pick)" } else { "P(take)" };
        header.extend([p, "E[rew]", "match", "quality", "appeal", "viewers"]);
    } else {
        header.extend([if feed { "pick" } else { "take" }, "E[r]", "qual", "appl"]);
    }
    let rows: Vec<Row<'_>> = order
        .iter()
        .skip(app.inspector_offset)
        .map(|&i| {
            let c = &d.candidates[i];
            let pos = position(c.id);
            let chosen = c.id == d.choice && (!feed || d.position.is_some());
            let mark = match (chosen, Some(c.id) == best) {
                (true, true) => t.sym("▶★", ">*"),
                (true, false) => t.sym("▶ ", "> "),
                (false, true) => t.sym(" ★", " *"),
                _ => "  ",
            };
            // In a feed: the chosen mark, then the slate position.
            let mark = match pos {
                Some(p) => format!("{}{:>2}", if chosen { t.sym("▶", ">") } else { " " }, p + 1),
                None => mark.to_string(),
            };
            let num = |x: f64| Cell::from(Line::from(fmt::value(x)).right_aligned());
            // Shares in [0, 1] as `.39` where space is short.
            let share = |x: f64| {
                let s = if wide || x >= 1.0 {
                    format!("{x:.2}")
                } else {
                    format!("{x:.2}")[1..].to_string()
                };
                Cell::from(Line::from(s).right_aligned())
            };
            let mut name = streamer_name(c.id);
            let mut topic_name = topic(app, c.topic);
            if !wide {
                name.truncate(11);
                topic_name.truncate(7);
            }
            let mut cells = vec![
                Cell::from(mark),
                Cell::from(name),
                Cell::from(topic_name),
                Cell::from(
                    Line::from(c.value.map(fmt::value).unwrap_or_else(|| "n/a".into()))
                        .right_aligned(),
                ),
            ];
            if look {
                cells.push(match pos {
                    Some(p) => share(d.examination.get(p).copied().unwrap_or(0.0)),
                    None => Cell::from(Line::from("·").right_aligned()),
                });
            }
            cells.extend([
                match (feed, pos) {
                    (true, Some(p)) => share(d.slate_probabilities.get(p).copied().unwrap_or(0.0)),
                    (true, None) => Cell::from(Line::from("·").right_aligned()),
                    _ => share(c.accept_probability),
                },
                num(c.expected_reward),
            ]);
            if wide {
                cells.extend([share(c.matching), share(c.quality), share(c.appeal)]);
                cells.push(Cell::from(
                    Line::from(fmt::count(c.viewers as u64)).right_aligned(),
                ));
            } else {
                cells.extend([share(c.quality), share(c.appeal)]);
            }
            let row = Row::new(cells);
            if chosen { row.style(t.selected()) } else { row }
        })
        .collect();
    let mark_width = if feed { 3 } else { 2 };
    let mut widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Length(mark_width),
            Constraint::Length(14),
            Constraint::Length(10),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(6),
            Constraint::Length(5),
            Constraint::Length(7),
            Constraint::Length(6),
            Constraint::Length(7),
        ]
    } else {
        vec![
            Constraint::Length(mark_width),
            Constraint::Length(11),
            Constraint::Length(7),
            Constraint::Length(5),
            Constraint::Length(4),
            Constraint::Length(4),
            Constraint::Length(4),
            Constraint::Length(4),
        ]
    };
    if look {
        widths.insert(4, Constraint::Length(if wide { 7 } else { 4 }));
    }
    let values = match &d.values {
        Values::Q => "Q-values".to_string(),
        Values::Score(s) => format!("score: {s}"),
        Values::None => format!("no scores: policy {}", app.snap.policy),
    };
    let title = Line::from(vec![
        Span::styled(format!(" Step {} · ", fmt::count(d.step + 1)), t.title()),
        Span::styled(
            if feed {
                format!(
                    "{} live · slate of {} · {} ",
                    d.candidates.len(),
                    d.slate.len(),
                    values
                )
            } else {
                format!("{} live · {} ", d.candidates.len(), values)
            },
            t.label(),
        ),
        Span::styled(if app.frozen { "FROZEN " } else { "" }, t.warn()),
    ]);
    f.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(t.label()))
            .column_spacing(1)
            .block(t.block(title)),
        area,
    );
}

fn render_outcome(f: &mut Frame, area: Rect, app: &App, d: &Decision) {
    let t = &app.theme;
    let mut lines = Vec::new();
    let feed = d.slate.len() > 1;
    if feed {
        let shown = Span::styled(
            format!("{} showed a slate of {}", app.snap.policy, d.slate.len()),
            t.label(),
        );
        let what = match (d.position, d.chosen()) {
            (Some(p), Some(c)) => vec![
                shown,
                Span::styled(t.sym(" → ", " -> "), t.dim()),
                Span::styled("picked ", t.label()),
                Span::styled(streamer_name(c.id), t.value()),
                Span::styled(
                    format!(
                        " ({}) at position {} (P(pick) {:.2}), reward {}",
                        topic(app, c.topic),
                        p + 1,
                        d.slate_probabilities
                            .get(p as usize)
                            .copied()
                            .unwrap_or(0.0),
                        fmt::value(d.reward)
                    ),
                    t.good(),
                ),
            ],
            _ => vec![
                shown,
                Span::styled(t.sym(" → ", " -> "), t.dim()),
                Span::styled("scrolled past it, reward 0", t.bad()),
            ],
        };
        lines.push(Line::from(what));
    } else if let Some(c) = d.chosen() {
        lines.push(Line::from(vec![
            Span::styled(format!("{} chose ", app.snap.policy), t.label()),
            Span::styled(streamer_name(c.id), t.value()),
            Span::styled(format!(" ({}): ", topic(app, c.topic)), t.label()),
            Span::styled(
                format!(
                    "P(take) {:.2}, E[reward] {}",
                    c.accept_probability,
                    fmt::value(c.expected_reward)
                ),
                t.text(),
            ),
            Span::styled(t.sym(" → ", " -> "), t.dim()),
            if d.accepted {
                Span::styled(
                    format!("watched, reward {}", fmt::value(d.reward)),
                    t.good(),
                )
            } else {
                Span::styled("declined, reward 0", t.bad())
            },
        ]));
    }
    if let Some(b) = d
        .candidates
        .iter()
        .max_by(|a, b| a.expected_reward.total_cmp(&b.expected_reward))
    {
        let gap = b.expected_reward - d.chosen().map_or(0.0, |c| c.expected_reward);
        lines.push(Line::from(vec![
            Span::styled(t.sym("★ ", "* "), t.warn()),
            Span::styled("best for now (myopic oracle): ", t.label()),
            Span::styled(streamer_name(b.id), t.value()),
            Span::styled(
                format!(" E[reward] {}", fmt::value(b.expected_reward)),
                t.text(),
            ),
            if feed {
                Span::raw("")
            } else {
                Span::styled(format!(", regret {}", fmt::value(gap)), t.dim())
            },
        ]));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(t.block(Line::styled(" Outcome ", t.title()))),
        area,
    );
}
