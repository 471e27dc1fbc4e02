//! The dashboard's state, built only from what the worker sends (snapshots) and what the user
//! does (actions): the latest run state, the series the charts draw (accumulated from the
//! snapshots' new windows and learner statistics), the event log, the chart markers, the
//! selected view and the overlays. [`App::handle`] turns an action into effects (commands for
//! the worker, a scenario to launch, quitting); nothing here touches the terminal or the world.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::inspect::Decision;
use crate::metrics::WindowRow;
use crate::scenario::{BUNDLED, Scenario};
use crate::sim::SimTime;
use crate::worker::{Command, EventKind, Reference, Snapshot, Speed, StatsPoint, merge};

use super::keys::Action;
pub use super::nav::{Overlay, View};
use super::theme::Theme;

/// What the event loop must do after an action.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send(Command),
    /// Stop the current run and start this scenario with a new world and a new policy.
    /// Launch the scenario with this policy.
    Launch(Box<Scenario>, String),
    Quit,
}

/// A line of the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub step: Option<u64>,
    pub time: Option<SimTime>,
    pub kind: EventKind,
    pub text: String,
}

/// A vertical line on the charts: a tuning change or a reset, at the step it took effect.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartMarker {
    pub step: u64,
    pub reset: bool,
}

/// Where a scenario in the picker comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Bundled(&'static str),
    File(PathBuf),
}

/// One entry of the scenario picker.
#[derive(Debug, Clone, PartialEq)]
pub struct PickerEntry {
    pub name: String,
    pub description: String,
    pub source: Source,
}

/// The scenario picker's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Picker {
    pub entries: Vec<PickerEntry>,
    pub selected: usize,
    /// Why the last launch failed (the run goes on).
    pub error: Option<String>,
    /// The policy the launch starts (an index into `agent::POLICIES`).
    pub policy: usize,
    /// A path being typed (`/`); Enter launches it, Esc returns to the list.
    pub typed: Option<String>,
}

impl Picker {
    /// The bundled scenarios, then the `*.toml` files of `dir` (if it exists), sorted by name;
    /// files with the same text as a bundled scenario are left out.
    pub fn discover(dir: &std::path::Path) -> Picker {
        let mut entries: Vec<PickerEntry> = BUNDLED
            .iter()
            .map(|b| PickerEntry {
                name: b.name.to_string(),
                description: Scenario::parse(b.text, b.name)
                    .map(|s| s.description().to_string())
                    .unwrap_or_else(|e| format!("(invalid: {e})")),
                source: Source::Bundled(b.name),
            })
            .collect();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for path in files {
            // Bounded: a pipe or a huge file in the folder must not block the dashboard.
            let text = crate::scenario::read_bounded(&path).unwrap_or_default();
            if BUNDLED.iter().any(|b| b.text == text) {
                continue;
            }
            let description = match Scenario::parse(&text, &path.display().to_string()) {
                Ok(s) => s.description().to_string(),
                Err(_) => "(has errors: Enter shows them)".into(),
            };
            entries.push(PickerEntry {
                name: path.display().to_string(),
                description,
                source: Source::File(path),
            });
        }
        Picker {
            entries,
            selected: 0,
            error: None,
            policy: 0,
            typed: None,
        }
    }

    /// The policy the launch starts.
    pub fn policy_name(&self) -> &'static str {
        crate::agent::POLICIES[self.policy % crate::agent::POLICIES.len()].0
    }

    /// Choose the policy `name` (if it is one).
    pub fn set_policy(&mut self, name: &str) {
        if let Some(i) = crate::agent::POLICIES.iter().position(|(n, _)| *n == name) {
            self.policy = i;
        }
    }

    /// The next (`up`) or previous policy.
    pub fn cycle_policy(&mut self, up: bool) {
        let n = crate::agent::POLICIES.len();
        self.policy = if up {
            (self.policy + 1) % n
        } else {
            (self.policy + n - 1) % n
        };
    }

    /// Loads the typed path (a file or a bundled name), else the selected scenario.
    pub fn load(&self) -> Result<Scenario, String> {
        if let Some(typed) = &self.typed {
            let typed = typed.trim();
            if typed.is_empty() {
                return Err("type a scenario file's path or a bundled scenario's name".into());
            }
            return Scenario::load(typed).map_err(|e| e.to_string());
        }
        let entry = self
            .entries
            .get(self.selected)
            .ok_or("no scenario selected")?;
        match &entry.source {
            Source::Bundled(name) => match Scenario::bundled(name) {
                Some(r) => r.map_err(|e| e.to_string()),
                None => Err(format!("no bundled scenario `{name}`")),
            },
            Source::File(path) => Scenario::load_file(path).map_err(|e| e.to_string()),
        }
    }
}

/// Chart time spans, in metric windows; the last is "everything".
pub const ZOOM_WINDOWS: [u64; 7] = [10, 25, 50, 100, 250, 1000, u64::MAX];
const DEFAULT_ZOOM: usize = 3;

/// At most this many windows and statistics points are kept for the charts.
pub const KEEP_POINTS: usize = 20_000;
const KEEP_LOG: usize = 500;

/// A new inspected decision replaces the shown one at most this often while running.
pub const INSPECT_HOLD: Duration = Duration::from_millis(2500);

/// The dashboard's state.
pub struct App {
    pub theme: Theme,
    pub view: View,
    pub overlay: Option<Overlay>,
    /// The latest state (its appended parts are moved into the series below).
    pub snap: Snapshot,
    pub rows: Vec<WindowRow>,
    pub stats: Vec<StatsPoint>,
    /// Validations so far (`--validate-every`).
    pub validation: Vec<crate::worker::validation::ValidationPoint>,
    pub markers: Vec<ChartMarker>,
    pub log: Vec<LogLine>,
    pub references: Vec<Reference>,
    pub reference_note: Option<String>,
    pub decision: Option<Decision>,
    decision_at: Option<Instant>,
    pub frozen: bool,
    pub zoom: usize,
    pub tuning_selected: usize,
    pub board_offset: usize,
    pub inspector_offset: usize,
    pub picker: Picker,
    /// Whether the worker is paused, as last asked (the snapshot confirms).
    pub paused: bool,
    /// A pause or resume asked for and not yet confirmed by a snapshot: older snapshots in
    /// flight must not undo what the screen already shows.
    pause_asked: Option<bool>,
    pub speed: Speed,
    /// The worker failed (its message); the process exits non-zero after quitting.
    pub worker_error: Option<String>,
    pub quit: bool,
    /// The learner's update count at its last checkpoint (0: never saved).
    pub saved_updates: u64,
    /// Snapshots applied, and how many of them were merged by a lagging front end.
    pub snapshots: u64,
    pub merged: u64,
}

impl App {
    pub fn new(theme: Theme, speed: Speed) -> App {
        App {
            theme,
            view: View::Overview,
            overlay: None,
            snap: Snapshot::default(),
            rows: Vec::new(),
            stats: Vec::new(),
            validation: Vec::new(),
            markers: Vec::new(),
            log: Vec::new(),
            references: Vec::new(),
            reference_note: Some("measuring popular and myopic-oracle…".into()),
            decision: None,
            decision_at: None,
            frozen: false,
            zoom: DEFAULT_ZOOM,
            tuning_selected: 0,
            board_offset: 0,
            inspector_offset: 0,
            picker: Picker::default(),
            paused: false,
            pause_asked: None,
            speed,
            worker_error: None,
            quit: false,
            saved_updates: 0,
            snapshots: 0,
            merged: 0,
        }
    }

    /// Forgets the run (a new scenario is launched); settings of the dashboard stay.
    pub fn new_run(&mut self) {
        self.snap = Snapshot::default();
        self.rows.clear();
        self.stats.clear();
        self.validation.clear();
        self.markers.clear();
        self.references.clear();
        self.reference_note = Some("measuring popular and myopic-oracle…".into());
        self.decision = None;
        self.decision_at = None;
        self.board_offset = 0;
        self.inspector_offset = 0;
        self.paused = false;
        self.pause_asked = None;
        self.saved_updates = 0;
    }

    /// Adds a line to the log from the dashboard itself.
    /// The learner's gradient updates so far (0 for policies that do not learn).
    pub fn learner_updates(&self) -> u64 {
        self.stats.last().map_or(0, |p| p.stats.updates)
    }

    /// Updates the learner made since its last checkpoint: what quitting now would lose.
    pub fn unsaved_updates(&self) -> u64 {
        let u = self.learner_updates();
        // Fewer updates than at the save: the agent was reset since, all of it is unsaved.
        if u < self.saved_updates {
            u
        } else {
            u - self.saved_updates
        }
    }

    pub fn note(&mut self, kind: EventKind, text: impl Into<String>) {
        self.log.push(LogLine {
            step: (self.snapshots > 0).then_some(self.snap.step),
            time: (self.snapshots > 0).then_some(self.snap.time),
            kind,
            text: text.into(),
        });
        trim_front(&mut self.log, KEEP_LOG);
    }

    /// Applies one snapshot (or several merged).
    pub fn apply(&mut self, mut s: Snapshot) {
        self.snapshots += 1;
        self.merged += s.merged.saturating_sub(1);
        self.rows.append(&mut s.rows);
        trim_front(&mut self.rows, KEEP_POINTS);
        self.stats.append(&mut s.stats);
        trim_front(&mut self.stats, KEEP_POINTS);
        self.validation.append(&mut s.validation);
        trim_front(&mut self.validation, KEEP_POINTS);
        for e in s.events.drain(..) {
            if e.kind == EventKind::Saved {
                self.saved_updates = self.learner_updates();
            }
            if e.kind == EventKind::Reset {
                self.saved_updates = 0; // a fresh agent: nothing of it is saved
            }
            if e.kind.is_marker() {
                self.markers.push(ChartMarker {
                    step: e.step,
                    reset: e.kind == EventKind::Reset,
                });
            }
            self.log.push(LogLine {
                step: Some(e.step),
                time: Some(e.time),
                kind: e.kind,
                text: e.text,
            });
        }
        trim_front(&mut self.log, KEEP_LOG);
        trim_front(&mut self.markers, KEEP_LOG);
        if let Some(d) = s.decision.take() {
            let hold_over = self.decision_at.is_none_or(|t| t.elapsed() >= INSPECT_HOLD);
            if self.decision.is_none() || (!self.frozen && (s.paused || hold_over)) {
                self.decision = Some(d);
                self.decision_at = Some(Instant::now());
                self.inspector_offset = 0;
            }
        }
        if let Some(e) = &s.error
            && self.worker_error.is_none()
        {
            self.worker_error = Some(e.clone());
        }
        if self.pause_asked == Some(s.paused) {
            self.pause_asked = None;
        }
        self.paused = self.pause_asked.unwrap_or(s.paused);
        if let Some(sp) = s.speed {
            self.speed = sp;
        }
        self.tuning_selected = self
            .tuning_selected
            .min(self.tuning_rows().saturating_sub(1));
        self.snap = s;
    }

    /// Applies every snapshot in `batch`, merged first (the front end lagged).
    pub fn apply_all(&mut self, batch: Vec<Snapshot>) {
        if let Some(s) = batch.into_iter().reduce(merge) {
            self.apply(s);
        }
    }

    /// The worker thread died without a word (a panic); `message` says why.
    pub fn worker_died(&mut self, message: String) {
        if self.worker_error.is_none() {
            self.note(EventKind::Error, format!("the worker died: {message}"));
            self.worker_error = Some(message);
        }
    }

    pub fn add_reference(&mut self, r: Result<Reference, String>) {
        match r {
            Ok(r) => {
                self.references.push(r);
                self.reference_note = None;
            }
            Err(e) => {
                self.note(EventKind::Warning, format!("reference run failed: {e}"));
                self.reference_note = Some("reference run failed".into());
            }
        }
    }

    /// Whether the policy reports learner statistics.
    pub fn has_learner(&self) -> bool {
        !self.stats.is_empty()
    }

    /// The span of the charts in steps.
    pub fn zoom_steps(&self) -> u64 {
        ZOOM_WINDOWS[self.zoom].saturating_mul(self.snap.window_steps.max(1))
    }

    /// Rows of the tuning panel: the snapshot's hyperparameters, then the speed.
    pub fn tuning_rows(&self) -> usize {
        self.snap.hypers.len() + 1
    }

    /// Handles an action; returns what the event loop must do.
    pub fn handle(&mut self, action: Action) -> Vec<Effect> {
        let mut out = Vec::new();
        match action {
            Action::Quit
                if self.overlay != Some(Overlay::ConfirmQuit) && self.unsaved_updates() > 0 =>
            {
                self.overlay = Some(Overlay::ConfirmQuit);
            }
            Action::Quit | Action::QuitNow => {
                self.quit = true;
                out.push(Effect::Quit);
            }
            Action::SaveAndQuit => {
                // The worker takes commands in order: it saves before it stops.
                out.push(Effect::Send(Command::SaveCheckpoint));
                self.quit = true;
                out.push(Effect::Quit);
            }
            Action::CloseOverlay
                if self.overlay == Some(Overlay::Picker) && self.picker.typed.is_some() =>
            {
                self.picker.typed = None
            }
            Action::CloseOverlay => self.overlay = None,
            Action::TypePath => {
                self.picker.typed = Some(String::new());
                self.picker.error = None;
            }
            Action::Type(c) => {
                if let Some(t) = &mut self.picker.typed
                    && t.chars().count() < 4096
                {
                    t.push(c);
                }
            }
            Action::Backspace => {
                if let Some(t) = &mut self.picker.typed {
                    t.pop();
                }
            }
            Action::ToggleHelp => {
                self.overlay = match self.overlay {
                    Some(Overlay::Help) => None,
                    _ => Some(Overlay::Help),
                }
            }
            Action::OpenPicker => {
                let (selected, policy) = (self.picker.selected, self.picker.policy);
                self.picker = Picker::discover(std::path::Path::new("scenarios"));
                self.picker.selected = selected.min(self.picker.entries.len().saturating_sub(1));
                self.picker.policy = policy;
                // The launch starts the running policy unless left/right choose another.
                let running = self.snap.policy.clone();
                self.picker.set_policy(&running);
                self.overlay = Some(Overlay::Picker);
            }
            Action::ShowView(v) => self.view = v,
            Action::NextView => self.view = View::ALL[(self.view.index() + 1) % View::ALL.len()],
            Action::PrevView => {
                self.view = View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()]
            }
            Action::TogglePause => {
                self.paused = !self.paused;
                self.pause_asked = Some(self.paused);
                out.push(Effect::Send(if self.paused {
                    Command::Pause
                } else {
                    Command::Resume
                }));
            }
            Action::StepOnce => {
                if self.paused {
                    out.push(Effect::Send(Command::StepOnce));
                } else {
                    self.note(
                        EventKind::Info,
                        "`.` steps once while paused: press space to pause first",
                    );
                }
            }
            Action::Slower => out.extend(self.set_speed(self.speed.slower())),
            Action::Faster => out.extend(self.set_speed(self.speed.faster())),
            Action::ResetAgent => out.push(Effect::Send(Command::ResetAgent)),
            Action::Save => out.push(Effect::Send(Command::SaveCheckpoint)),
            Action::ZoomIn => self.zoom = self.zoom.saturating_sub(1),
            Action::ZoomOut => self.zoom = (self.zoom + 1).min(ZOOM_WINDOWS.len() - 1),
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => self.scroll(action),
            Action::Decrease | Action::Increase if self.overlay == Some(Overlay::Picker) => {
                self.picker.cycle_policy(action == Action::Increase);
            }
            Action::Decrease | Action::Increase => {
                if self.view == View::Tuning {
                    out.extend(self.change_selected(action == Action::Increase));
                }
            }
            Action::Enter => {
                if self.overlay == Some(Overlay::Picker) {
                    match self.picker.load() {
                        Ok(s) => {
                            self.picker.error = None;
                            self.overlay = None;
                            self.note(
                                EventKind::Info,
                                format!("launching scenario `{}`", s.name()),
                            );
                            self.picker.typed = None;
                            out.push(Effect::Launch(
                                Box::new(s),
                                self.picker.policy_name().to_string(),
                            ));
                        }
                        Err(e) => {
                            self.note(EventKind::Error, format!("cannot launch: {e}"));
                            self.picker.error = Some(e);
                        }
                    }
                }
            }
            Action::Freeze => {
                self.frozen = !self.frozen;
                let what = if self.frozen {
                    "inspector frozen on this decision (f follows again)"
                } else {
                    "inspector follows the run again"
                };
                self.note(EventKind::Info, what);
            }
        }
        out
    }

    fn set_speed(&mut self, speed: Speed) -> Option<Effect> {
        (speed != self.speed).then(|| {
            self.speed = speed;
            Effect::Send(Command::SetSpeed(speed))
        })
    }

    fn scroll(&mut self, action: Action) {
        let delta: isize = match action {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -10,
            _ => 10,
        };
        let mv = |v: usize, max: usize| {
            (v as isize + delta).clamp(0, max.saturating_sub(1) as isize) as usize
        };
        if self.overlay == Some(Overlay::Picker) {
            self.picker.selected = mv(self.picker.selected, self.picker.entries.len());
            return;
        }
        match self.view {
            View::Tuning => self.tuning_selected = mv(self.tuning_selected, self.tuning_rows()),
            View::Board => self.board_offset = mv(self.board_offset, self.snap.live.len()),
            View::Inspector => {
                let n = self.decision.as_ref().map_or(0, |d| d.candidates.len());
                self.inspector_offset = mv(self.inspector_offset, n);
            }
            View::Overview => {}
        }
    }

    fn change_selected(&mut self, up: bool) -> Option<Effect> {
        match self.snap.hypers.get(self.tuning_selected) {
            Some(h) => {
                let value = h.stepped(up);
                (value != h.value).then(|| {
                    Effect::Send(Command::SetHyper {
                        name: h.name.clone(),
                        value,
                    })
                })
            }
            None => {
                let speed = if up {
                    self.speed.faster()
                } else {
                    self.speed.slower()
                };
                self.set_speed(speed)
            }
        }
    }
}

fn trim_front<T>(v: &mut Vec<T>, keep: usize) {
    if v.len() > keep {
        v.drain(..v.len() - keep);
    }
}
