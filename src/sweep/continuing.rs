//! Successive halving that continues the configurations it promotes (`promotion =
//! "continue"`): each (configuration, seed) is one run to the full training length that stops
//! at every rung ([`crate::worker::rungs`]), is judged there exactly as a run of the rung's
//! length would be at its end, and waits in memory; the promoted go on from where they paused
//! and the others are stopped. The rungs' judgements are therefore those of
//! [`Promotion::Restart`](super::spec::Promotion), while a promoted run trains only the rung's
//! extra steps. A journal makes a killed sweep resume: a run whose paused state was lost is
//! run again from the start to the rung it needs (the same seeds give the same state).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crossbeam_channel::Select;

use super::journal::{Entry, Journal};
use super::spec::{Config, SweepSpec};
use super::{Runner, SweepResult, Trial, judge_rung, objective_of, ranked, rungs};
use crate::bench::{self, EvalWorld, Job, JobSettings};
use crate::scenario::Scenario;
use crate::worker::{Command, Update, Worker};

/// A run under way or paused at a rung.
struct Live {
    worker: Worker,
    job: Job,
}

impl Live {
    /// Stops the run (wherever it is) and waits for its thread.
    fn stop(self) -> Result<(), String> {
        let _ = self.worker.commands.send(Command::Stop);
        // Drain what it still sends until it ends (the channel is bounded).
        while self.worker.updates.recv().is_ok() {}
        self.worker.join()
    }
}

/// Runs an `asha` sweep with `promotion = "continue"` (see the module docs).
pub(super) fn run(
    spec: &SweepSpec,
    runner: &Runner<'_>,
    journal: &Journal,
    configs: &[Config],
    scenarios: &[Scenario],
) -> Result<SweepResult, String> {
    let s = &spec.sweep;
    let all_rungs = rungs(spec);
    let last = *all_rungs.last().expect("at least one rung");
    let stops: Vec<u64> = all_rungs[..all_rungs.len() - 1].to_vec();
    let settings = JobSettings {
        eval_steps: s.validate_steps,
        eval_world: EvalWorld::Validation,
        threads: runner.threads,
    };
    let mut live: HashMap<(usize, usize), Live> = HashMap::new();
    let mut alive: Vec<usize> = (0..configs.len()).collect();
    let mut reached: Vec<Option<Trial>> = vec![None; configs.len()];
    let (mut env_steps, mut resumed_runs) = (0u64, 0usize);
    let mut previous = 0u64;
    let stop_all = |live: &mut HashMap<(usize, usize), Live>| -> Result<(), String> {
        for (_, l) in live.drain() {
            l.stop()?;
        }
        Ok(())
    };
    for (r, &steps) in all_rungs.iter().enumerate() {
        let mut values: Vec<Vec<Option<f64>>> = vec![vec![None; s.seeds as usize]; configs.len()];
        let mut todo: VecDeque<(usize, usize)> = VecDeque::new();
        for &i in &alive {
            for (k, value) in values[i].iter_mut().enumerate() {
                let seed = scenarios[i].seed().wrapping_add(k as u64);
                match journal.find(&configs[i], seed, steps) {
                    Some(v) => {
                        *value = Some(v);
                        resumed_runs += 1;
                    }
                    None => todo.push_back((i, k)),
                }
                env_steps += steps - previous + s.validate_steps;
            }
        }
        // Runs that must start from the beginning first: they have the most steps to go.
        todo.make_contiguous()
            .sort_by_key(|key| live.contains_key(key));
        let total = todo.len();
        let mut finished = 0usize;
        let mut active: Vec<(usize, usize)> = Vec::new();
        loop {
            if runner.stop.load(Ordering::SeqCst) {
                stop_all(&mut live)?;
                return Ok(SweepResult {
                    trials: ranked(reached),
                    env_steps,
                    resumed_runs,
                    incomplete: true,
                });
            }
            while active.len() < runner.threads.max(1)
                && let Some(key) = todo.pop_front()
            {
                match live.get(&key) {
                    Some(l) => {
                        let _ = l.worker.commands.send(Command::Resume);
                    }
                    None => {
                        let (i, k) = key;
                        let job = Job {
                            scenario: scenarios[i].clone(),
                            policy: s.policy.clone(),
                            seed: scenarios[i].seed().wrapping_add(k as u64),
                            train_steps: last,
                            cost: last,
                        };
                        let policy = (runner.factory)(&job.policy, &job.scenario, job.seed)?;
                        let plan = bench::plan_for(&job, &settings, stops.clone());
                        let worker = Worker::spawn(plan, policy);
                        live.insert(key, Live { worker, job });
                    }
                }
                active.push(key);
            }
            if active.is_empty() {
                break;
            }
            let mut select = Select::new();
            for key in &active {
                select.recv(&live[key].worker.updates);
            }
            let Ok(op) = select.select_timeout(Duration::from_millis(100)) else {
                continue; // look at the stop flag again
            };
            let slot = op.index();
            let key = active[slot];
            let (i, k) = key;
            let message = op.recv(&live[&key].worker.updates);
            let value = match message {
                Ok(Update::Progress(_)) => continue,
                Ok(Update::Rung(point)) if point.step < steps => {
                    // A rung this run passed before the sweep was resumed: its verdict is in
                    // the journal and it was promoted; on to the rung it is needed for.
                    let _ = live[&key].worker.commands.send(Command::Resume);
                    continue;
                }
                Ok(Update::Rung(point)) => objective_of(&point.totals, s.objective),
                Ok(Update::Finished(report)) => {
                    let l = live.remove(&key).expect("active runs are live");
                    l.worker.join()?;
                    match bench::run_result(&l.job, *report)? {
                        Some(run) => objective_of(&run.metrics, s.objective),
                        None => {
                            // Stopped from outside: the stop flag ends the sweep above.
                            active.swap_remove(slot);
                            continue;
                        }
                    }
                }
                Err(_) => {
                    let l = live.remove(&key).expect("active runs are live");
                    l.worker.join()?;
                    return Err(format!(
                        "{} seed {}: the run ended without a report",
                        l.job.scenario.name(),
                        l.job.seed
                    ));
                }
            };
            active.swap_remove(slot);
            values[i][k] = Some(value);
            let seed = scenarios[i].seed().wrapping_add(k as u64);
            // A journal that cannot be written loses resumability, not results.
            let _ = journal.append(&Entry {
                fingerprint: spec.fingerprint,
                config: configs[i].clone(),
                seed,
                steps,
                objective: value,
                objective_bits: value.to_bits(),
            });
            finished += 1;
            (runner.progress)(
                finished,
                total,
                &format!("{} seed {seed} to {steps} steps", scenarios[i].name()),
            );
        }
        let promoted = judge_rung(&alive, &values, configs, steps, s.reduction, &mut reached);
        if r + 1 < all_rungs.len() {
            alive = promoted;
            let cut: Vec<(usize, usize)> = live
                .keys()
                .filter(|(i, _)| !alive.contains(i))
                .copied()
                .collect();
            for key in cut {
                live.remove(&key).expect("listed above").stop()?;
            }
        }
        previous = steps;
    }
    stop_all(&mut live)?;
    Ok(SweepResult {
        trials: ranked(reached),
        env_steps,
        resumed_runs,
        incomplete: false,
    })
}
