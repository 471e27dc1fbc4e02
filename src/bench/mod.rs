//! `liveq bench`: every policy on every scenario and seed, each trained (or simply run) for N
//! steps and then evaluated on the same seeded stream of viewers for M steps; the table of means
//! and 95% confidence intervals per metric, the learning curves, and images of both.
//! Runs go through the same worker as `liveq run`, several at a time across cores.

pub mod ablation;
pub mod diversity;
pub mod plot;
pub mod shard;
pub mod table;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::{RecvTimeoutError, unbounded};
use serde::{Deserialize, Serialize};

use crate::agent::Policy;
use crate::metrics::Totals;
use crate::scenario::Scenario;
use crate::worker::{Command, RunPlan, RunReport, Update, Worker};

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchPlan {
    pub scenarios: Vec<Scenario>,
    pub policies: Vec<String>,
    /// Seeds per scenario: the scenario's seed, +1, +2, …
    pub seeds: u64,
    /// Training steps for every scenario; `None`: each scenario's `[bench] train_steps`.
    pub train_steps: Option<u64>,
    pub eval_steps: u64,
    /// Runs at the same time.
    pub threads: usize,
}

impl BenchPlan {
    /// How long each policy trains on `scenario`.
    pub fn train_steps_for(&self, scenario: &Scenario) -> u64 {
        self.train_steps
            .unwrap_or_else(|| scenario.bench_train_steps())
    }

    /// A rough cost of one run, to start the longest first: a learner's step costs about a
    /// hundred times a baseline's (its gradient updates).
    fn cost(&self, scenario: &Scenario, policy: &str) -> u64 {
        let steps = self.train_steps_for(scenario) + self.eval_steps;
        if crate::agent::learns(policy) {
            steps.saturating_mul(100)
        } else {
            steps
        }
    }
}

/// What the outputs of a bench need besides its runs (also carried by shard parts).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BenchContext {
    /// Training steps of each scenario, in plan order.
    pub train_steps: Vec<u64>,
    pub eval_steps: u64,
    pub seeds: u64,
    pub rerank_sweep: bool,
}

/// One policy on one scenario with one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub scenario: String,
    pub policy: String,
    pub seed: u64,
    /// Steps it trained (or ran) before the evaluation.
    pub train_steps: u64,
    /// Metrics of the evaluation phase (of the training phase when there was none).
    pub metrics: Totals,
    /// Reward per step of each training window: (step at the end of the window, reward).
    pub curve: Vec<(u64, f64)>,
    pub wall_seconds: f64,
}

/// Builds a policy by name for a scenario and seed; Err says why not.
pub type Factory<'a> = &'a (dyn Fn(&str, &Scenario, u64) -> Result<Box<dyn Policy>, String> + Sync);

/// Runs the plan; `progress(done, total, label)` is called as runs finish.
pub fn run(
    plan: &BenchPlan,
    factory: Factory<'_>,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
) -> Result<Vec<RunResult>, String> {
    let never = AtomicBool::new(false);
    let (runs, _) = run_until(plan, factory, progress, &never)?;
    Ok(runs)
}

/// Runs the plan until `stop` is set: then the runs under way are stopped and dropped (a
/// partial run is not comparable), no new one starts, and the finished ones are returned with
/// `true` (the bench is incomplete).
pub fn run_until(
    plan: &BenchPlan,
    factory: Factory<'_>,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
    stop: &AtomicBool,
) -> Result<(Vec<RunResult>, bool), String> {
    let jobs = jobs(plan);
    let settings = JobSettings {
        eval_steps: plan.eval_steps,
        eval_world: EvalWorld::Test,
        threads: plan.threads,
    };
    run_jobs(jobs, &settings, factory, progress, stop, &|_, _| {})
}

/// The plan's runs in its order: scenarios, then policies, then seeds.
pub fn jobs(plan: &BenchPlan) -> Vec<Job> {
    let mut jobs = Vec::new();
    for s in &plan.scenarios {
        for p in &plan.policies {
            for k in 0..plan.seeds {
                jobs.push(Job {
                    scenario: s.clone(),
                    policy: p.clone(),
                    seed: s.seed().wrapping_add(k),
                    train_steps: plan.train_steps_for(s),
                    cost: plan.cost(s, p),
                });
            }
        }
    }
    jobs
}

/// One run of a job list.
#[derive(Debug, Clone)]
pub struct Job {
    pub scenario: Scenario,
    pub policy: String,
    pub seed: u64,
    pub train_steps: u64,
    /// A rough cost, to start the longest first.
    pub cost: u64,
}

/// Where a job list's runs are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalWorld {
    /// The test world (`engine::eval_engine`): what the bench reports.
    Test,
    /// The validation world (`worker::validation`): what sweeps select on.
    Validation,
}

/// What every run of a job list shares.
#[derive(Debug, Clone, Copy)]
pub struct JobSettings {
    pub eval_steps: u64,
    pub eval_world: EvalWorld,
    /// Runs at the same time.
    pub threads: usize,
}

/// Runs `jobs` in parallel, the costliest first, until `stop` is set (see [`run_until`]);
/// `done(index, result)` is called as each finishes. Results keep the jobs' order.
pub fn run_jobs(
    jobs: Vec<Job>,
    settings: &JobSettings,
    factory: Factory<'_>,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
    stop: &AtomicBool,
    done_hook: &(dyn Fn(usize, &RunResult) + Sync),
) -> Result<(Vec<RunResult>, bool), String> {
    let total = jobs.len();
    // Longest runs first, so that no core is left with a long run at the end while the others
    // idle; results keep the plan's order, and each run is the same whatever the order.
    let mut queue: Vec<_> = jobs.into_iter().enumerate().collect();
    queue.sort_by_key(|(_, job)| std::cmp::Reverse(job.cost));
    let (tx, rx) = unbounded();
    for item in queue {
        tx.send(item).expect("queue open");
    }
    drop(tx);
    let results: Mutex<Vec<Option<Result<RunResult, String>>>> = Mutex::new(vec![None; total]);
    let done = Mutex::new(0usize);
    std::thread::scope(|scope| {
        for _ in 0..settings.threads.max(1) {
            scope.spawn(|| {
                while let Ok((i, job)) = rx.recv() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let r = run_one(&job, settings, factory, stop);
                    if matches!(r, Ok(None)) {
                        break; // stopped: dropped
                    }
                    let r = r.map(|r| r.expect("finished"));
                    if let Ok(run) = &r {
                        done_hook(i, run);
                    }
                    results.lock().expect("no panic holding the lock")[i] = Some(r);
                    let mut d = done.lock().expect("no panic holding the lock");
                    *d += 1;
                    progress(
                        *d,
                        total,
                        &format!("{} {} seed {}", job.scenario.name(), job.policy, job.seed),
                    );
                }
            });
        }
    });
    let results = results.into_inner().expect("no panic holding the lock");
    if stop.load(Ordering::SeqCst) {
        let runs = results
            .into_iter()
            .flatten()
            .collect::<Result<Vec<_>, _>>()?;
        return Ok((runs, true));
    }
    let runs = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("a run did not finish".into())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((runs, false))
}

fn run_one(
    job: &Job,
    settings: &JobSettings,
    factory: Factory<'_>,
    stop: &AtomicBool,
) -> Result<Option<RunResult>, String> {
    let built = factory(&job.policy, &job.scenario, job.seed)?;
    let worker = Worker::spawn(plan_for(job, settings, Vec::new()), built);
    let mut report = None;
    let mut stop_sent = false;
    loop {
        if !stop_sent && stop.load(Ordering::SeqCst) {
            let _ = worker.commands.send(Command::Stop);
            stop_sent = true;
        }
        match worker.updates.recv_timeout(Duration::from_millis(100)) {
            Ok(Update::Finished(r)) => {
                report = Some(*r);
                break;
            }
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    worker.join()?;
    run_result(job, report.ok_or("the worker ended without a report")?)
}

/// The worker's plan for `job`: train, then evaluate where `settings` say; with `rungs`, stop
/// at those training steps to be judged (see [`crate::worker::rungs`]).
pub fn plan_for(job: &Job, settings: &JobSettings, rungs: Vec<u64>) -> RunPlan {
    RunPlan {
        scenario: job.scenario.clone(),
        policy: job.policy.clone(),
        seed: job.seed,
        train_steps: job.train_steps,
        eval_steps: settings.eval_steps,
        eval_on_validation: settings.eval_world == EvalWorld::Validation,
        save: None,
        checkpoint_every: None,
        validation: None,
        rungs,
    }
}

/// The result of `job` from its worker's report: None when it was stopped; an Err when it
/// failed or ended early (its metrics would not be an evaluation like the other runs').
pub fn run_result(job: &Job, r: RunReport) -> Result<Option<RunResult>, String> {
    let (policy, seed, train_steps) = (&job.policy, job.seed, job.train_steps);
    if r.interrupted {
        return Ok(None);
    }
    if let Some(why) = r.ended_early {
        return Err(format!(
            "{} {policy} seed {seed}: ended early ({why})",
            job.scenario.name()
        ));
    }
    if let Some(e) = r.error {
        return Err(format!("{} {policy} seed {seed}: {e}", job.scenario.name()));
    }
    let curve = r
        .train
        .rows
        .iter()
        .map(|row| (row.step, row.rates.reward_per_step))
        .collect();
    let wall = r.train.wall_seconds + r.eval.as_ref().map_or(0.0, |e| e.wall_seconds);
    let metrics = r.eval.map_or(r.train.totals, |e| e.totals);
    Ok(Some(RunResult {
        scenario: job.scenario.name().to_string(),
        policy: policy.to_string(),
        seed,
        train_steps,
        metrics,
        curve,
        wall_seconds: wall,
    }))
}
