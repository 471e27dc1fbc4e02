//! The terminal dashboard (`liveq` with no subcommand): watch a recommender learn.
//!
//! Threads: the worker (`crate::worker::LiveWorker`) owns the world and the policy; this, the UI
//! thread, owns the terminal; a small input thread turns terminal events into a channel so the
//! UI can wait on keys, snapshots and reference results at once (idle when nothing happens).
//! The UI never touches the simulator: it draws [`app::App`], built from snapshots, and sends
//! commands. Redraws happen only when something changed, at most [`FRAME`] apart.
//!
//! One file per view or panel: `header`, `overview`, `board`, `inspector`, `tuning`, `picker`,
//! `help`, `log`; `app` is the state, `keys` the bindings, `draw` the frame, `chart` the shared
//! line chart, `theme` colours and ASCII, `fmt` number formats.

pub mod app;
pub mod board;
pub mod chart;
pub mod confirm;
pub mod draw;
pub mod header;
pub mod help;
pub mod inspector;
pub mod keys;
pub mod log;
pub mod nav;
pub mod overview;
pub mod picker;
pub mod theme;
pub mod tuning;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, never, select};
use crossterm::event::Event;

use crate::agent::{LearnerOptions, build_policy};
use crate::scenario::Scenario;
use crate::worker::{
    EventKind, LivePlan, LiveWorker, PolicyFactory, REFERENCE_STEPS, Reference, Snapshot, Speed,
    spawn_references,
};
use app::{App, Effect};
use theme::Theme;

/// The policy the dashboard runs when `--policy` is not given. (The learner becomes the
/// default when it lands.)
pub const DEFAULT_POLICY: &str = "dqn";

/// The speed the dashboard starts at.
pub const DEFAULT_SPEED: Speed = Speed::Limited(10_000);

/// At most one redraw per frame.
pub const FRAME: Duration = Duration::from_millis(33);

/// What to open.
pub struct Options {
    pub scenario: Scenario,
    pub policy: String,
    /// Seed of the world (default: the scenario's).
    pub seed: Option<u64>,
    pub theme: Theme,
    pub speed: Speed,
    /// The learner's device (resolved before the screen is taken over).
    pub learner: LearnerOptions,
    /// Validate every so often on the validation world (`--validate-every`): a curve on the
    /// reward chart.
    pub validation: Option<crate::worker::validation::ValidationPlan>,
}

/// The policies the dashboard builds (the learner on the device resolved at start-up).
pub fn factory(learner: LearnerOptions) -> PolicyFactory {
    Arc::new(move |name: &str, s: &Scenario, seed: u64| build_policy(name, s, seed, &learner))
}

/// One run: its worker and the reference runs measured for it.
struct Session {
    worker: Option<LiveWorker>,
    snapshots: Receiver<Snapshot>,
    references: Receiver<Result<Reference, String>>,
}

impl Session {
    fn start(
        scenario: Scenario,
        policy: &str,
        seed: u64,
        speed: Speed,
        factory: PolicyFactory,
        validation: Option<crate::worker::validation::ValidationPlan>,
    ) -> Session {
        let references = spawn_references(scenario.clone(), seed, REFERENCE_STEPS);
        let worker = LiveWorker::spawn(
            LivePlan {
                scenario,
                policy: policy.to_string(),
                seed,
                speed,
                paused: false,
                validation,
            },
            factory,
        );
        Session {
            snapshots: worker.snapshots.clone(),
            worker: Some(worker),
            references,
        }
    }

    /// Stops the worker; an Err holds its panic message.
    fn stop(&mut self) -> Result<(), String> {
        self.snapshots = never();
        self.references = never();
        match self.worker.take() {
            Some(w) => w.stop(),
            None => Ok(()),
        }
    }
}

/// Restores the terminal when dropped (normal exit and errors; panics go through the hook).
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Runs the dashboard until the user quits. Err: the worker failed (the message), or the
/// terminal could not be used.
pub fn run(opts: Options) -> Result<(), String> {
    let mut terminal = ratatui::try_init().map_err(|e| format!("cannot open the terminal: {e}"))?;
    let _guard = TerminalGuard;
    // ratatui's hook restores the terminal on a panic of this thread; a panic of the worker
    // must not tear down the UI: it is reported on screen from the join, so keep it quiet.
    let ui = thread::current().id();
    let restore_and_report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if thread::current().id() == ui {
            restore_and_report(info);
        }
    }));

    let (input_tx, input) = crossbeam_channel::bounded::<std::io::Result<Event>>(64);
    thread::Builder::new()
        .name("liveq-input".into())
        .spawn(move || {
            loop {
                let ev = crossterm::event::read();
                let failed = ev.is_err();
                if input_tx.send(ev).is_err() || failed {
                    return;
                }
            }
        })
        .map_err(|e| format!("cannot start the input thread: {e}"))?;

    let mut app = App::new(opts.theme, opts.speed);
    app.picker.set_policy(&opts.policy);
    let seed_of = |s: &Scenario| opts.seed.unwrap_or_else(|| s.seed());
    let mut session = Session::start(
        opts.scenario.clone(),
        &opts.policy,
        seed_of(&opts.scenario),
        opts.speed,
        factory(opts.learner.clone()),
        opts.validation,
    );
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut input = input;
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            terminal
                .draw(|f| draw::draw(f, &app))
                .map_err(|e| format!("cannot draw: {e}"))?;
            last_draw = Instant::now();
            dirty = false;
        }
        // Wait for something to happen; while nothing changes (paused), this blocks.
        let timeout = if dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        select! {
            recv(input) -> ev => match ev {
                Ok(Ok(Event::Key(key))) => {
                    let place = keys::Place::at(app.overlay, app.picker.typed.is_some());
                    if let Some(action) = keys::map_key_at(key, place) {
                        for effect in app.handle(action) {
                            match effect {
                                Effect::Send(c) => {
                                    if let Some(w) = &session.worker
                                        && w.commands.try_send(c).is_err()
                                    {
                                        app.note(EventKind::Warning, "the worker is not taking commands");
                                    }
                                }
                                Effect::Launch(s, policy) => {
                                    if let Err(e) = session.stop() {
                                        app.worker_died(e);
                                    }
                                    app.new_run();
                                    app.worker_error = None;
                                    let seed = seed_of(&s);
                                    session = Session::start(
                                        *s,
                                        &policy,
                                        seed,
                                        app.speed,
                                        factory(opts.learner.clone()),
                                        opts.validation,
                                    );
                                }
                                Effect::Quit => {}
                            }
                        }
                    }
                    dirty = true;
                }
                Ok(Ok(_)) => dirty = true,
                Ok(Err(e)) => return Err(format!("cannot read the terminal: {e}")),
                Err(_) => input = never(),
            },
            recv(session.snapshots) -> s => match s {
                Ok(first) => {
                    let mut batch = vec![first];
                    batch.extend(session.snapshots.try_iter());
                    app.apply_all(batch);
                    dirty = true;
                }
                Err(_) => {
                    // The worker ended: a failure it reported, or a panic.
                    session.snapshots = never();
                    if let Some(w) = session.worker.take() {
                        match w.join() {
                            Err(panic) => app.worker_died(panic),
                            Ok(()) if app.worker_error.is_none() => {
                                app.worker_died("the worker ended unexpectedly".into())
                            }
                            Ok(()) => {}
                        }
                    }
                    dirty = true;
                }
            },
            recv(session.references) -> r => match r {
                Ok(r) => {
                    app.add_reference(r);
                    dirty = true;
                }
                Err(_) => session.references = never(),
            },
            default(timeout) => {}
        }
        if app.quit {
            break;
        }
    }
    drop(terminal);
    drop(_guard);
    let stopped = session.stop();
    if let Some(e) = app.worker_error {
        return Err(format!("the worker failed: {e}"));
    }
    stopped.map_err(|e| format!("the worker failed: {e}"))
}
