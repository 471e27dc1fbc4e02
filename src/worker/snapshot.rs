//! What the continuous worker sends upwards: a [`Snapshot`] of the run (state that replaces the
//! previous one, plus what happened since: closed metric windows, learner statistics, events),
//! and [`merge`], the pure function that folds two snapshots into one when the front end lags,
//! so nothing queues without limit and nothing that must be seen (windows, events, errors) is
//! lost, up to fixed caps.

use crate::agent::{AgentStats, HyperInfo};
use crate::inspect::Decision;
use crate::metrics::{Totals, WindowRow};
use crate::scenario::RewardWeights;
use crate::sim::SimTime;

/// How fast the worker runs: a target in steps per second, or as fast as it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speed {
    Limited(u32),
    Full,
}

impl Speed {
    /// The levels `<` and `>` move between, slowest first.
    pub const LEVELS: [Speed; 5] = [
        Speed::Limited(10),
        Speed::Limited(100),
        Speed::Limited(1_000),
        Speed::Limited(10_000),
        Speed::Full,
    ];

    fn rate(self) -> f64 {
        match self {
            Speed::Limited(r) => r as f64,
            Speed::Full => f64::INFINITY,
        }
    }

    /// The next slower level (stays at the slowest).
    pub fn slower(self) -> Speed {
        Speed::LEVELS
            .iter()
            .rev()
            .copied()
            .find(|s| s.rate() < self.rate())
            .unwrap_or(Speed::LEVELS[0])
    }

    /// The next faster level (stays at full speed).
    pub fn faster(self) -> Speed {
        Speed::LEVELS
            .iter()
            .copied()
            .find(|s| s.rate() > self.rate())
            .unwrap_or(Speed::Full)
    }

    /// `10/s`, `1k/s`, `full`.
    pub fn label(self) -> String {
        match self {
            Speed::Full => "full".into(),
            Speed::Limited(r) if r >= 1000 && r % 1000 == 0 => format!("{}k/s", r / 1000),
            Speed::Limited(r) => format!("{r}/s"),
        }
    }
}

/// What an event is about; tuning and resets are marked on the charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Info,
    /// The policy's checkpoint was written (front ends track what is saved by it).
    Saved,
    /// A hyperparameter or reward weight changed.
    Tuning,
    /// The agent was replaced by a fresh one.
    Reset,
    Warning,
    Error,
}

impl EventKind {
    /// Whether charts mark the step of this event.
    pub fn is_marker(self) -> bool {
        matches!(self, EventKind::Tuning | EventKind::Reset)
    }
}

/// A line of the event log, at the step where it took effect.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub step: u64,
    pub time: SimTime,
    pub kind: EventKind,
    pub text: String,
}

/// A stream that is live now, for the live board.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveStream {
    pub id: u32,
    pub topic: u16,
    pub viewers: u32,
    /// Minutes since the stream started.
    pub live_minutes: f64,
    /// How often it was recommended in this run.
    pub recommended: u64,
}

/// Learner statistics at a step.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsPoint {
    pub step: u64,
    pub stats: AgentStats,
}

/// The run as the front end sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    // Static for a run.
    pub scenario: String,
    pub description: String,
    pub topics: Vec<String>,
    pub num_streamers: usize,
    /// Streams per slate (1: single recommendations).
    pub slate_size: usize,
    pub window_steps: u64,
    pub seed: u64,
    pub policy: String,
    pub device: String,
    // Replaced by each newer snapshot.
    pub step: u64,
    pub time: SimTime,
    /// Steps per second measured over the last second (0 while paused).
    pub measured_rate: f64,
    pub speed: Option<Speed>,
    pub paused: bool,
    /// The open window so far: (steps in it, reward per step), once it has steps.
    pub open_window: Option<(u64, f64)>,
    pub totals: Totals,
    /// The policy's hyperparameters, then the reward weights, with current values.
    pub hypers: Vec<HyperInfo>,
    pub reward: RewardWeights,
    /// Streams live now, most viewers first.
    pub live: Vec<LiveStream>,
    /// The newest inspected decision (kept from the older snapshot when the newer has none).
    pub decision: Option<Decision>,
    /// Set when the worker stopped because of a failure; it sends nothing after.
    pub error: Option<String>,
    /// Set on the last snapshot of a run (stopped or failed).
    pub finished: bool,
    // Appended: what happened since the previous snapshot.
    pub rows: Vec<WindowRow>,
    pub stats: Vec<StatsPoint>,
    pub events: Vec<Event>,
    /// Validations since the previous snapshot (`--validate-every`).
    pub validation: Vec<super::validation::ValidationPoint>,
    /// How many snapshots were merged into this one (1 when none).
    pub merged: u64,
}

/// Caps of the appended parts of a merged snapshot (the oldest go first).
pub const MAX_ROWS: usize = 5_000;
pub const MAX_STATS: usize = 5_000;
pub const MAX_EVENTS: usize = 500;

fn append_capped<T>(mut older: Vec<T>, newer: Vec<T>, cap: usize) -> Vec<T> {
    older.extend(newer);
    if older.len() > cap {
        older.drain(..older.len() - cap);
    }
    older
}

/// Folds `newer` into `older`: state comes from `newer`, appended parts are concatenated (capped,
/// oldest dropped), the decision and the error of `older` survive when `newer` has none.
pub fn merge(older: Snapshot, newer: Snapshot) -> Snapshot {
    Snapshot {
        rows: append_capped(older.rows, newer.rows, MAX_ROWS),
        stats: append_capped(older.stats, newer.stats, MAX_STATS),
        events: append_capped(older.events, newer.events, MAX_EVENTS),
        validation: append_capped(older.validation, newer.validation, MAX_ROWS),
        decision: newer.decision.or(older.decision),
        error: newer.error.or(older.error),
        finished: newer.finished || older.finished,
        merged: older.merged.max(1) + newer.merged.max(1),
        ..newer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: u64) -> WindowRow {
        WindowRow {
            window: step / 10,
            step,
            ..WindowRow::default()
        }
    }

    fn event(step: u64, text: &str) -> Event {
        Event {
            step,
            time: SimTime(step as f64),
            kind: EventKind::Info,
            text: text.into(),
        }
    }

    fn snap(step: u64) -> Snapshot {
        Snapshot {
            step,
            merged: 1,
            ..Snapshot::default()
        }
    }

    #[test]
    fn newer_state_wins_and_appended_parts_concatenate() {
        let mut a = snap(10);
        a.rows = vec![row(10)];
        a.events = vec![event(5, "a")];
        a.paused = true;
        a.speed = Some(Speed::Limited(10));
        let mut b = snap(20);
        b.rows = vec![row(20)];
        b.events = vec![event(15, "b")];
        b.speed = Some(Speed::Full);
        let m = merge(a, b);
        assert_eq!(m.step, 20);
        assert!(!m.paused);
        assert_eq!(m.speed, Some(Speed::Full));
        assert_eq!(m.rows.iter().map(|r| r.step).collect::<Vec<_>>(), [10, 20]);
        assert_eq!(
            m.events.iter().map(|e| e.text.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(m.merged, 2);
    }

    #[test]
    fn decision_and_error_survive_a_newer_snapshot_without_them() {
        let mut a = snap(1);
        a.error = Some("boom".into());
        a.finished = true;
        a.decision = Some(Decision {
            step: 1,
            time: SimTime(0.0),
            viewer: 3,
            interests: vec![],
            fatigue: vec![],
            satisfaction: 0.5,
            budget: 1.0,
            patience: 1.0,
            social: 0.0,
            session_steps: 0,
            session_accepted: 0,
            values: crate::inspect::Values::None,
            candidates: vec![],
            slate: vec![0],
            slate_probabilities: vec![0.5],
            examination: vec![1.0],
            choice: 0,
            position: None,
            accepted: false,
            reward: 0.0,
            session_ended: false,
        });
        let m = merge(a, snap(2));
        assert_eq!(m.error.as_deref(), Some("boom"));
        assert!(m.finished);
        assert_eq!(m.decision.as_ref().map(|d| d.viewer), Some(3));
    }

    #[test]
    fn merging_many_lagging_snapshots_stays_bounded_and_keeps_the_newest() {
        let mut acc = snap(0);
        for i in 1..=(MAX_ROWS as u64 + 100) {
            let mut s = snap(i);
            s.rows = vec![row(i)];
            s.events = vec![event(i, "e")];
            s.stats = vec![StatsPoint {
                step: i,
                stats: AgentStats::default(),
            }];
            acc = merge(acc, s);
        }
        assert_eq!(acc.rows.len(), MAX_ROWS);
        assert_eq!(acc.stats.len(), MAX_STATS);
        assert_eq!(acc.events.len(), MAX_EVENTS);
        assert_eq!(acc.rows.last().map(|r| r.step), Some(MAX_ROWS as u64 + 100));
        assert_eq!(acc.rows.first().map(|r| r.step), Some(101));
        assert_eq!(acc.merged, MAX_ROWS as u64 + 101);
        // Steps stay in order after merging.
        assert!(acc.rows.windows(2).all(|w| w[0].step < w[1].step));
    }

    #[test]
    fn speed_levels_step_and_saturate() {
        assert_eq!(Speed::Limited(10).slower(), Speed::Limited(10));
        assert_eq!(Speed::Limited(10).faster(), Speed::Limited(100));
        assert_eq!(Speed::Limited(10_000).faster(), Speed::Full);
        assert_eq!(Speed::Full.faster(), Speed::Full);
        assert_eq!(Speed::Full.slower(), Speed::Limited(10_000));
        assert_eq!(Speed::Limited(500).faster(), Speed::Limited(1_000));
        assert_eq!(Speed::Limited(1_000).label(), "1k/s");
        assert_eq!(Speed::Limited(10).label(), "10/s");
        assert_eq!(Speed::Full.label(), "full");
    }
}
