//! The overview: reward per step per metric window against the `popular` and `myopic-oracle`
//! reference levels, diversity of what is recommended, ranking quality of the slates (NDCG@K,
//! precision@K against the oracle's ranking), the learner's panels (Q of chosen
//! actions, TD loss, ε; or a clear "no learner" note), and the event log.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::app::App;
use super::chart::{self, Series, x_range};
use super::log;
use crate::agent::AgentStats;
use crate::fmt;

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let log_height = (area.height / 4).clamp(4, 10);
    let learner_height = if app.has_learner() {
        (area.height.saturating_sub(log_height) * 2 / 5).max(6)
    } else {
        4
    };
    let [top, learner, events] = Layout::vertical([
        Constraint::Min(6),
        Constraint::Length(learner_height),
        Constraint::Length(log_height),
    ])
    .areas(area);
    let [reward, side] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(top);
    let [diversity, ranking] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(side);
    render_reward(f, reward, app);
    render_diversity(f, diversity, app);
    render_ranking(f, ranking, app);
    render_learner(f, learner, app);
    log::render(f, events, app);
}

/// Reward per step, with the reference levels; also used by the tuning view.
pub fn render_reward(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut data: Vec<(f64, f64)> = app
        .rows
        .iter()
        .map(|r| (r.step as f64, r.rates.reward_per_step))
        .collect();
    if let Some((n, r)) = app.snap.open_window {
        // The open window so far: the line's end moves even between windows.
        data.push(((app.snap.step) as f64, r));
        let _ = n;
    }
    let [x0, x1] = x_range(app);
    let mut series = vec![Series {
        name: app.snap.policy.clone(),
        data,
        style: t.series(0),
        letter: 'o',
    }];
    if !app.validation.is_empty() {
        series.push(Series {
            name: "validation".into(),
            data: app
                .validation
                .iter()
                .map(|v| (v.step as f64, v.reward_per_step))
                .collect(),
            style: t.series(3),
            letter: 'v',
        });
    }
    for (i, r) in app.references.iter().enumerate() {
        series.push(Series {
            name: format!("{} {}", r.policy, fmt::value(r.reward_per_step)),
            data: vec![(x0, r.reward_per_step), (x1, r.reward_per_step)],
            style: t.series(i + 1),
            letter: if r.policy.starts_with("myopic") {
                'm'
            } else {
                'p'
            },
        });
    }
    let mut title = vec![Span::styled(
        format!(
            " Reward per step (windows of {} steps) ",
            fmt::count(app.snap.window_steps)
        ),
        t.title(),
    )];
    if let Some(note) = &app.reference_note {
        title.push(Span::styled(format!("{note} "), t.dim()));
    }
    chart::render(
        f,
        area,
        app,
        Line::from(title),
        series,
        None,
        true,
        "waiting for the first recommendations",
    );
}

/// One windowed metric: its name, series colour index, chart letter and how to read it.
type Metric = (
    &'static str,
    usize,
    char,
    fn(&crate::metrics::WindowRow) -> f64,
);

/// A chart of metrics in [0, 1] per window.
fn render_shares(f: &mut Frame, area: Rect, app: &App, title: &str, metrics: &[Metric]) {
    let t = &app.theme;
    let series = metrics
        .iter()
        .map(|&(name, colour, letter, get)| Series {
            name: name.into(),
            data: app.rows.iter().map(|r| (r.step as f64, get(r))).collect(),
            style: t.series(colour),
            letter,
        })
        .collect();
    let waiting = format!(
        "after the first window ({} steps)",
        fmt::count(app.snap.window_steps)
    );
    chart::render(
        f,
        area,
        app,
        Line::styled(format!(" {title} (0..1) "), t.title()),
        series,
        Some([0.0, 1.0]),
        true,
        &waiting,
    );
}

fn render_diversity(f: &mut Frame, area: Rect, app: &App) {
    render_shares(
        f,
        area,
        app,
        "Diversity",
        &[
            ("coverage", 3, 'c', |r| r.diversity.coverage),
            ("topic entropy", 4, 'e', |r| r.diversity.topic_entropy),
            ("exposure Gini", 2, 'g', |r| r.diversity.exposure_gini),
        ],
    );
}

/// NDCG@K and precision@K of the slates against the oracle's ranking (K = the slate size).
fn render_ranking(f: &mut Frame, area: Rect, app: &App) {
    render_shares(
        f,
        area,
        app,
        "Ranking quality",
        &[
            ("NDCG@K", 0, 'n', |r| r.rates.ranking.ndcg_at_k),
            ("precision@K", 1, 'p', |r| r.rates.ranking.precision_at_k),
        ],
    );
}

/// Q of chosen actions, TD loss and ε, or the note that the policy is no learner.
pub fn render_learner(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let [q, loss, eps] = Layout::horizontal([
        Constraint::Percentage(40),
        Constraint::Percentage(30),
        Constraint::Percentage(30),
    ])
    .areas(area);
    let titles = [
        " Q of chosen actions ".to_string(),
        " TD loss ".to_string(),
        match app.stats.last().and_then(|p| p.stats.lr) {
            Some(lr) => format!(" {} (exploration) · lr {lr:.1e} ", t.sym("ε", "epsilon")),
            None => format!(" {} (exploration) ", t.sym("ε", "epsilon")),
        },
    ];
    if !app.has_learner() {
        let note = format!("no learner: policy {}", app.snap.policy);
        for (a, title) in [q, loss, eps].into_iter().zip(titles) {
            let block = t.block(Line::styled(title, t.title()));
            f.render_widget(
                Paragraph::new(Line::styled(note.clone(), t.dim()).centered())
                    .wrap(Wrap { trim: true })
                    .block(block),
                a,
            );
        }
        return;
    }
    let pick = |g: fn(&AgentStats) -> Option<f64>| -> Vec<(f64, f64)> {
        app.stats
            .iter()
            .filter_map(|p| g(&p.stats).map(|v| (p.step as f64, v)))
            .collect()
    };
    let series = vec![
        Series {
            name: "mean".into(),
            data: pick(|s| s.mean_q),
            style: t.series(0),
            letter: 'm',
        },
        Series {
            name: "max".into(),
            data: pick(|s| s.max_q),
            style: t.series(1),
            letter: 'x',
        },
    ];
    let [q_title, loss_title, eps_title] = titles;
    chart::render(
        f,
        q,
        app,
        Line::styled(q_title, t.title()),
        series,
        None,
        false,
        "no Q-values yet",
    );
    let series = vec![Series {
        name: "loss".into(),
        data: pick(|s| s.td_loss),
        style: t.series(2),
        letter: 'l',
    }];
    chart::render(
        f,
        loss,
        app,
        Line::styled(loss_title, t.title()),
        series,
        None,
        true,
        "no updates yet",
    );
    let series = vec![Series {
        name: t.sym("ε", "eps").into(),
        data: pick(|s| s.epsilon),
        style: t.series(3),
        letter: 'e',
    }];
    chart::render(
        f,
        eps,
        app,
        Line::styled(eps_title, t.title()),
        series,
        Some([0.0, 1.0]),
        true,
        "no ε reported",
    );
}
