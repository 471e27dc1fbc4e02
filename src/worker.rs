//! The worker thread: owns the engine (world, policy, metrics), runs a plan (train for N steps,
//! then evaluate greedily for M steps on a fixed seeded world), applies commands between steps and
//! sends updates upwards. It never blocks on its front end: progress goes through a bounded
//! channel and is dropped when the front end lags; only the final report waits.
//! Every front end (dashboard, `liveq run`, `liveq bench`) drives this same worker.
//!
//! The dashboard uses the continuous mode ([`LiveWorker`], in `worker/live.rs`): run until
//! stopped, paced to a speed, answering every [`Command`] and sending [`Snapshot`]s upwards,
//! merged with [`merge`] (`worker/snapshot.rs`) while the front end lags. Baseline reference
//! levels come from short headless runs on their own thread (`worker/reference.rs`).

mod live;
mod reference;
pub mod rungs;
mod snapshot;
pub mod validation;

pub use live::{LivePlan, LiveWorker, PolicyFactory, SNAPSHOT_EVERY, reward_hypers, scripted};
pub use reference::{
    REFERENCE_POLICIES, REFERENCE_STEPS, Reference, run_reference, spawn_references,
};
pub use snapshot::{
    Event, EventKind, LiveStream, MAX_EVENTS, MAX_ROWS, MAX_STATS, Snapshot, Speed, StatsPoint,
    merge,
};

use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded};

use crate::agent::Policy;
use crate::engine::{self, Engine, EngineError};
use crate::metrics::{Totals, WindowRow};
use crate::scenario::Scenario;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunPlan {
    pub scenario: Scenario,
    pub policy: String,
    pub seed: u64,
    pub train_steps: u64,
    pub eval_steps: u64,
    /// Evaluate on the validation world instead of the test world (sweeps select there).
    pub eval_on_validation: bool,
    /// Save the policy's checkpoint here after training (learners only).
    pub save: Option<std::path::PathBuf>,
    /// Also save it every this many training steps (with `save`), so a stopped or killed run
    /// loses at most this many steps.
    pub checkpoint_every: Option<u64>,
    /// Early stopping on the validation world (learners only).
    pub validation: Option<validation::ValidationPlan>,
    /// Training steps (below `train_steps`) at which the run is judged as its final evaluation
    /// would judge it, reports [`Update::Rung`] and waits for `Resume` or `Stop` (successive
    /// halving that continues its promoted runs; see [`rungs`]).
    pub rungs: Vec<u64>,
}

/// Commands a front end may send while the worker runs. A plan (`liveq run`) obeys Pause,
/// Resume and Stop and ignores the rest; the continuous mode obeys all.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Pause,
    Resume,
    /// Stop after the current step and report what was done so far.
    Stop,
    /// While paused: run exactly one step (and show it in the inspector).
    StepOnce,
    /// Pace the run (steps per second, or as fast as possible).
    SetSpeed(Speed),
    /// Change a hyperparameter: the policy's (see `Policy::hypers`) or a reward weight
    /// (`reward.watch_minute`, `reward.like`, …, see [`reward_hypers`]).
    SetHyper {
        name: String,
        value: f64,
    },
    /// Replace the policy by a fresh one of the same name; the world goes on.
    ResetAgent,
    /// Ask the policy to save a checkpoint.
    SaveCheckpoint,
}

/// The two phases of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Train,
    Eval,
}

/// Sent upwards at most every [`PROGRESS_EVERY`].
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub phase: Phase,
    pub step: u64,
    pub total: u64,
}

/// The measured result of one phase.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseReport {
    pub steps: u64,
    pub totals: Totals,
    pub rows: Vec<WindowRow>,
    pub wall_seconds: f64,
}

impl PhaseReport {
    pub fn steps_per_second(&self) -> f64 {
        if self.wall_seconds > 0.0 {
            self.steps as f64 / self.wall_seconds
        } else {
            0.0
        }
    }
}

/// The result of a whole plan.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub scenario: String,
    pub policy: String,
    pub seed: u64,
    /// Streams per slate, and the diversity re-ranking of the slates (`none`, `mmr:W`, `dpp:W`).
    pub slate_size: usize,
    pub rerank: String,
    pub train: PhaseReport,
    pub eval: Option<PhaseReport>,
    /// The learner's figures at the end of training (None for policies that do not learn values).
    pub learner: Option<LearnerReport>,
    /// Where the policy computed (`cpu`, or the learner's device).
    pub device: String,
    /// Why the learner computed there (None for policies that do not train).
    pub device_reason: Option<String>,
    /// Set when the run stopped early because of a failure.
    pub error: Option<String>,
    /// Set when the run ended before its steps because the world emptied (no viewer left).
    pub ended_early: Option<String>,
    /// The run was stopped (a Stop command: Ctrl-C or SIGTERM in `liveq run`) before its
    /// steps: the report covers what was done.
    pub interrupted: bool,
    /// Validations during training (`--validate-every`), in order.
    pub validation: Vec<validation::ValidationPoint>,
    /// The training step whose weights were kept (the best validation), with validation.
    pub best_step: Option<u64>,
    /// Training stopped before its steps because validation stopped improving.
    pub stopped_early: bool,
}

/// What a learner reports at the end of training.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LearnerReport {
    pub updates: u64,
    pub updates_per_second: f64,
    pub td_loss: Option<f64>,
    pub mean_q: Option<f64>,
    pub epsilon: Option<f64>,
    /// The learning rate at the end of training (the schedule's).
    pub lr: Option<f64>,
    /// SlateQ's click model: its log-loss on the slates it fitted (moving average).
    pub click_log_loss: Option<f64>,
}

/// Messages from the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    Progress(Progress),
    /// The run reached one of its rungs, was judged, and waits for `Resume` or `Stop`.
    Rung(Box<rungs::RungPoint>),
    Finished(Box<RunReport>),
}

/// Longest a plan runs without reading its commands (Stop, Pause).
pub const COMMAND_EVERY: Duration = Duration::from_millis(100);

/// How often progress is sent.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// A running worker.
pub struct Worker {
    pub commands: Sender<Command>,
    pub updates: Receiver<Update>,
    handle: thread::JoinHandle<()>,
}

impl Worker {
    /// Starts a worker running `plan` with an already built policy.
    pub fn spawn(plan: RunPlan, policy: Box<dyn Policy>) -> Worker {
        let (commands, command_rx) = bounded(64);
        let (update_tx, updates) = bounded(16);
        let handle = thread::Builder::new()
            .name("liveq-worker".into())
            .spawn(move || {
                let report = run_plan(&plan, policy, &command_rx, &update_tx);
                let _ = update_tx.send(Update::Finished(Box::new(report)));
            })
            .expect("spawning a thread");
        Worker {
            commands,
            updates,
            handle,
        }
    }

    /// Waits for the thread to end; an Err holds the panic message if it panicked.
    pub fn join(self) -> Result<(), String> {
        self.handle.join().map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "worker thread panicked".into())
        })
    }
}

/// Runs one phase; returns the engine and whether a Stop was received.
/// Periodic checkpoints of a phase: every `every` steps to `path`. A failed write does not
/// stop training (the next one, or the final save, may succeed); the last failure is kept.
struct Periodic<'a> {
    every: u64,
    path: &'a std::path::Path,
    failed: std::cell::RefCell<Option<String>>,
}

#[allow(clippy::too_many_arguments)]
fn run_phase(
    engine: &mut Engine,
    phase: Phase,
    steps: u64,
    commands: &Receiver<Command>,
    updates: &Sender<Update>,
    periodic: Option<&Periodic<'_>>,
    mut validator: Option<&mut validation::Validator>,
    mut rungs: Option<&mut rungs::RungStops<'_>>,
) -> (Result<(), PhaseError>, bool, f64) {
    let start = Instant::now();
    let mut paused_for = Duration::ZERO;
    let mut last_progress = Instant::now();
    let mut done = 0u64;
    let mut stopped = false;
    let mut result = Ok(());
    while done < steps {
        let mut batch = (steps - done).min(1024);
        if let Some(p) = &periodic {
            batch = batch.min(p.every - done % p.every);
        }
        if let Some(v) = &validator {
            batch = batch.min(v.every() - done % v.every());
        }
        if let Some(next) = rungs.as_ref().and_then(|r| r.next()) {
            batch = batch.min(next.saturating_sub(done).max(1));
        }
        // Commands are read between batches, and at least every COMMAND_EVERY: a slow learner
        // (a wide network trained every step) still stops promptly.
        let batch_start = Instant::now();
        for k in 0..batch {
            if let Err(e) = engine.step() {
                result = Err(PhaseError::Engine(e));
                break;
            }
            done += 1;
            if k % 16 == 15 && batch_start.elapsed() >= COMMAND_EVERY {
                break;
            }
        }
        if result.is_err() {
            break;
        }
        if let Some(p) = periodic
            && done.is_multiple_of(p.every)
            && done < steps
        {
            let saved = engine.policy().save_checkpoint(p.path);
            *p.failed.borrow_mut() = saved.err().map(|e| format!("at step {done}: {e}"));
        }
        if let Some(v) = validator.as_deref_mut()
            && done.is_multiple_of(v.every())
        {
            match v.validate(engine, done) {
                Ok(false) => {}
                Ok(true) => break, // patience ran out: training ends here
                Err(e) => {
                    result = Err(PhaseError::Validation(e));
                    break;
                }
            }
        }
        if let Some(r) = rungs.as_deref_mut()
            && r.next() == Some(done)
        {
            let t = Instant::now();
            stopped = r.stop_here(engine, done, commands, updates);
            paused_for += t.elapsed();
            if stopped {
                break;
            }
        }
        loop {
            match commands.try_recv() {
                Ok(Command::Stop) => stopped = true,
                Ok(Command::Pause) => {
                    let t = Instant::now();
                    // Block until Resume or Stop.
                    loop {
                        match commands.recv() {
                            Ok(Command::Resume) => break,
                            Ok(Command::Stop) | Err(_) => {
                                stopped = true;
                                break;
                            }
                            Ok(_) => {}
                        }
                    }
                    paused_for += t.elapsed();
                }
                Ok(_) => {}
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => break,
            }
            if stopped {
                break;
            }
        }
        if stopped {
            break;
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            let _ = updates.try_send(Update::Progress(Progress {
                phase,
                step: done,
                total: steps,
            }));
        }
    }
    engine.finish();
    let wall = (start.elapsed() - paused_for).as_secs_f64();
    (result, stopped, wall)
}

fn phase_report(engine: &Engine, wall_seconds: f64) -> PhaseReport {
    PhaseReport {
        steps: engine.metrics().steps(),
        totals: engine.metrics().totals(engine.world()),
        rows: engine.metrics().rows().to_vec(),
        wall_seconds,
    }
}

/// Why a phase stopped before its steps.
#[derive(Debug)]
enum PhaseError {
    Engine(EngineError),
    /// Keeping or restoring the best weights of early stopping failed.
    Validation(String),
}

/// A phase's result as (failure, early end): a world that empties ends the run early, as a
/// result, not a failure.
fn outcome(r: Result<(), PhaseError>, phase: &str) -> (Option<String>, Option<String>) {
    match r {
        Ok(()) => (None, None),
        Err(PhaseError::Engine(EngineError::WorldEmpty)) => {
            (None, Some(format!("{phase}: {}", EngineError::WorldEmpty)))
        }
        Err(PhaseError::Engine(e)) => (Some(e.to_string()), None),
        Err(PhaseError::Validation(e)) => (Some(e), None),
    }
}

fn run_plan(
    plan: &RunPlan,
    policy: Box<dyn Policy>,
    commands: &Receiver<Command>,
    updates: &Sender<Update>,
) -> RunReport {
    let mut engine = Engine::new(&plan.scenario, plan.seed, policy);
    let periodic = plan
        .save
        .as_deref()
        .zip(plan.checkpoint_every)
        .map(|(path, every)| Periodic {
            every: every.max(1),
            path,
            failed: Default::default(),
        });
    let mut validator = plan
        .validation
        .map(|v| validation::Validator::new(&plan.scenario, plan.seed, v, plan.train_steps));
    let mut rung_stops = (!plan.rungs.is_empty()).then(|| {
        rungs::RungStops::new(
            &plan.scenario,
            plan.seed,
            plan.eval_steps,
            &plan.rungs,
            plan.train_steps,
        )
    });
    let (result, stopped, wall) = run_phase(
        &mut engine,
        Phase::Train,
        plan.train_steps,
        commands,
        updates,
        periodic.as_ref(),
        validator.as_mut(),
        rung_stops.as_mut(),
    );
    let train = phase_report(&engine, wall);
    let (mut error, mut ended_early) = outcome(result, "training");
    if let (None, Some(v)) = (&error, &validator)
        && let Err(e) = v.restore_best(&mut engine)
    {
        error = Some(e);
    }
    let device = engine.policy().device();
    let device_reason = engine.policy().device_reason();
    let learner = engine.policy().stats().map(|s| LearnerReport {
        updates: s.updates,
        updates_per_second: if wall > 0.0 {
            s.updates as f64 / wall
        } else {
            0.0
        },
        td_loss: s.td_loss,
        mean_q: s.mean_q,
        epsilon: s.epsilon,
        lr: s.lr,
        click_log_loss: s.click_log_loss,
    });
    if let (None, Some(path)) = (&error, &plan.save) {
        // Only a failed final save loses work; a periodic failure before it is named with it.
        let periodic_failure = periodic.and_then(|p| p.failed.into_inner());
        error = engine
            .policy()
            .save_checkpoint(path)
            .err()
            .map(|e| match periodic_failure {
                Some(p) => format!("{e} (a periodic checkpoint had failed too, {p})"),
                None => e,
            });
    }
    let mut eval = None;
    let mut interrupted = stopped;
    if error.is_none() && ended_early.is_none() && !stopped && plan.eval_steps > 0 {
        let viewers = if plan.eval_on_validation {
            validation::validation_seed(plan.seed)
        } else {
            engine::eval_seed(plan.seed)
        };
        let mut e = engine::eval_engine_with_viewers(
            &plan.scenario,
            plan.seed,
            engine.into_policy(),
            plan.train_steps,
            viewers,
        );
        let (result, eval_stopped, wall) = run_phase(
            &mut e,
            Phase::Eval,
            plan.eval_steps,
            commands,
            updates,
            None,
            None,
            None,
        );
        interrupted |= eval_stopped;
        (error, ended_early) = outcome(result, "evaluation");
        eval = Some(phase_report(&e, wall));
    }
    RunReport {
        scenario: plan.scenario.name().to_string(),
        policy: plan.policy.clone(),
        seed: plan.seed,
        slate_size: plan.scenario.params.response.slate_size,
        rerank: plan.scenario.params.feed.rerank.to_string(),
        train,
        eval,
        learner,
        device,
        device_reason,
        error,
        ended_early,
        interrupted,
        best_step: validator.as_ref().and_then(|v| v.best_step()),
        stopped_early: validator.as_ref().is_some_and(|v| v.stopped_early),
        validation: validator.map(|v| v.points).unwrap_or_default(),
    }
}
