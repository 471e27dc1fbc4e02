//! `liveq sweep`: hyperparameter search over any scenario key. Each configuration is trained
//! on the training world for each of K seeds and judged on the validation world (its own
//! viewers: never the test world), runs in parallel across cores, the longest first, through
//! the bench's job runner. `grid` tries every combination of the listed values, `random`
//! samples configurations, `asha` runs successive halving: every configuration trains for the
//! first rung's steps, the best 1/reduction go on to a rung `reduction` times longer, up to
//! the full training length. A journal ([`journal`]) records every finished run, so a killed
//! sweep resumes without redoing them. The winner is then re-run with the base configuration
//! on the test world, with intervals.

mod continuing;
pub mod journal;
pub mod plot;
pub mod spec;

use std::sync::atomic::AtomicBool;

use serde::Serialize;

use crate::bench::{self, EvalWorld, Factory, Job, JobSettings, RunResult};
use crate::metrics::stats::mean_ci95;
use crate::scenario::Scenario;

use self::journal::{Entry, Journal};
use self::spec::{Config, Method, Objective, Promotion, SweepSpec};

/// One configuration's result at the last rung it reached.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    /// Position in the list of configurations tried.
    pub index: usize,
    pub config: Config,
    /// Training steps of its last rung.
    pub steps: u64,
    /// The objective on the validation world, per seed.
    pub per_seed: Vec<f64>,
    pub mean: f64,
    /// Half-width of the 95% interval of the mean.
    pub ci95: f64,
}

/// What a sweep found.
#[derive(Debug, Clone, Serialize)]
pub struct SweepResult {
    /// Best first: by the last rung reached, then the mean objective.
    pub trials: Vec<Trial>,
    /// Environment steps used (training and validation, every seed and rung).
    pub env_steps: u64,
    /// Runs taken from the journal instead of being run.
    pub resumed_runs: usize,
    /// A signal stopped the sweep: some runs are missing.
    pub incomplete: bool,
}

impl SweepResult {
    /// The best configuration (of those that reached the last rung).
    pub fn winner(&self) -> Option<&Trial> {
        self.trials.first()
    }
}

/// The training steps of each rung: `train_steps` alone, or for `asha` `min_steps` ×
/// `reduction`^k below `train_steps`, then `train_steps`.
pub fn rungs(spec: &SweepSpec) -> Vec<u64> {
    let s = &spec.sweep;
    if s.method != Method::Asha {
        return vec![s.train_steps];
    }
    let mut out = Vec::new();
    let mut steps = s.min_steps;
    while steps < s.train_steps {
        out.push(steps);
        steps = steps.saturating_mul(s.reduction);
    }
    out.push(s.train_steps);
    out
}

fn objective(run: &RunResult, o: Objective) -> f64 {
    objective_of(&run.metrics, o)
}

fn objective_of(totals: &crate::metrics::Totals, o: Objective) -> f64 {
    match o {
        Objective::RewardPerStep => totals.rates.reward_per_step,
        Objective::RewardPerSession => totals.rates.mean_session_reward,
        Objective::NewcomerRewardPerStep => totals.rates.newcomer_reward_per_step,
        Objective::FirstSessionRewardPerStep => totals.rates.first_session_reward_per_step,
    }
}

/// Everything a sweep needs to run its configurations.
pub struct Runner<'a> {
    pub threads: usize,
    pub factory: Factory<'a>,
    pub progress: &'a (dyn Fn(usize, usize, &str) + Sync),
    pub stop: &'a AtomicBool,
}

/// Runs the sweep, resuming from (and appending to) `journal`. With `shard` (I, N), only the
/// configurations whose index is I − 1 modulo N (grid and random: one rung).
pub fn run(
    spec: &SweepSpec,
    runner: &Runner<'_>,
    journal: &Journal,
    shard: Option<(usize, usize)>,
) -> Result<SweepResult, String> {
    let s = &spec.sweep;
    let configs = spec.configs();
    let scenarios: Vec<Scenario> = configs
        .iter()
        .map(|c| spec.scenario(c))
        .collect::<Result<_, _>>()?;
    if s.method == Method::Asha && s.promotion == Promotion::Continue {
        // Refused with shards by the command line: one machine holds the paused runs.
        return continuing::run(spec, runner, journal, &configs, &scenarios);
    }
    let mut alive: Vec<usize> = (0..configs.len())
        .filter(|i| shard.is_none_or(|(k, n)| i % n == k - 1))
        .collect();
    let mut reached: Vec<Option<Trial>> = vec![None; configs.len()];
    let mut env_steps = 0u64;
    let mut resumed_runs = 0usize;
    let all_rungs = rungs(spec);
    for (r, &steps) in all_rungs.iter().enumerate() {
        // (config, seed) pairs of this rung, from the journal or to run.
        let mut values: Vec<Vec<Option<f64>>> = vec![vec![None; s.seeds as usize]; configs.len()];
        let mut jobs = Vec::new();
        let mut slots = Vec::new();
        for &i in &alive {
            for k in 0..s.seeds {
                let seed = scenarios[i].seed().wrapping_add(k);
                match journal.find(&configs[i], seed, steps) {
                    Some(v) => {
                        values[i][k as usize] = Some(v);
                        resumed_runs += 1;
                    }
                    None => {
                        jobs.push(Job {
                            scenario: scenarios[i].clone(),
                            policy: s.policy.clone(),
                            seed,
                            train_steps: steps,
                            cost: steps,
                        });
                        slots.push((i, k as usize));
                    }
                }
                env_steps += steps + s.validate_steps;
            }
        }
        let settings = JobSettings {
            eval_steps: s.validate_steps,
            eval_world: EvalWorld::Validation,
            threads: runner.threads,
        };
        let record = |j: usize, run: &RunResult| {
            let (i, _) = slots[j];
            // A journal that cannot be written loses resumability, not results.
            let _ = journal.append(&Entry {
                fingerprint: spec.fingerprint,
                config: configs[i].clone(),
                seed: run.seed,
                steps,
                objective: objective(run, s.objective),
                objective_bits: objective(run, s.objective).to_bits(),
            });
        };
        let (runs, incomplete) = bench::run_jobs(
            jobs,
            &settings,
            runner.factory,
            runner.progress,
            runner.stop,
            &record,
        )?;
        if incomplete {
            return Ok(SweepResult {
                trials: ranked(reached),
                env_steps,
                resumed_runs,
                incomplete: true,
            });
        }
        for (j, run) in runs.iter().enumerate() {
            let (i, k) = slots[j];
            values[i][k] = Some(objective(run, s.objective));
        }
        let promoted = judge_rung(&alive, &values, &configs, steps, s.reduction, &mut reached);
        if r + 1 < all_rungs.len() {
            alive = promoted;
        }
    }
    Ok(SweepResult {
        trials: ranked(reached),
        env_steps,
        resumed_runs,
        incomplete: false,
    })
}

/// Records the rung of `steps` for each configuration of `alive` (its objective per seed in
/// `values`) in `reached`; returns the best 1/`reduction` of them (at least one), in index
/// order: those a next rung would promote.
fn judge_rung(
    alive: &[usize],
    values: &[Vec<Option<f64>>],
    configs: &[Config],
    steps: u64,
    reduction: u64,
    reached: &mut [Option<Trial>],
) -> Vec<usize> {
    let mut scored: Vec<(usize, f64)> = Vec::new();
    for &i in alive {
        let per_seed: Vec<f64> = values[i].iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        let (mean, ci95) = mean_ci95(&per_seed);
        scored.push((i, mean));
        reached[i] = Some(Trial {
            index: i,
            config: configs[i].clone(),
            steps,
            per_seed,
            mean,
            ci95,
        });
    }
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let keep = alive.len().div_ceil(reduction as usize).max(1);
    let mut promoted: Vec<usize> = scored.iter().take(keep).map(|&(i, _)| i).collect();
    promoted.sort_unstable();
    promoted
}

/// Trials best first: the longest rung reached, then the mean objective, then the order tried.
fn ranked(reached: Vec<Option<Trial>>) -> Vec<Trial> {
    let mut t: Vec<Trial> = reached.into_iter().flatten().collect();
    t.sort_by(|a, b| {
        b.steps
            .cmp(&a.steps)
            .then(b.mean.total_cmp(&a.mean))
            .then(a.index.cmp(&b.index))
    });
    t
}

/// The environment steps of the full grid at full length (what `asha` is measured against).
pub fn grid_env_steps(spec: &SweepSpec, configs: usize) -> u64 {
    let s = &spec.sweep;
    (configs as u64)
        .saturating_mul(s.seeds)
        .saturating_mul(s.train_steps + s.validate_steps)
}

/// The winner against the base configuration on the test world.
#[derive(Debug, Clone, Serialize)]
pub struct TestComparison {
    pub steps: u64,
    pub base: Vec<f64>,
    pub base_mean: f64,
    pub base_ci95: f64,
    pub winner: Vec<f64>,
    pub winner_mean: f64,
    pub winner_ci95: f64,
}

/// Trains the base and the winning configuration for the full length on each seed and
/// evaluates both on the test world for `test_steps`.
pub fn test_against_base(
    spec: &SweepSpec,
    winner: &Config,
    test_steps: u64,
    runner: &Runner<'_>,
) -> Result<Option<TestComparison>, String> {
    let s = &spec.sweep;
    let base = spec.scenario(&Config::new())?;
    let best = spec.scenario(winner)?;
    let mut jobs = Vec::new();
    for sc in [&base, &best] {
        for k in 0..s.seeds {
            jobs.push(Job {
                scenario: sc.clone(),
                policy: s.policy.clone(),
                seed: base.seed().wrapping_add(k),
                train_steps: s.train_steps,
                cost: s.train_steps,
            });
        }
    }
    let settings = JobSettings {
        eval_steps: test_steps,
        eval_world: EvalWorld::Test,
        threads: runner.threads,
    };
    let (runs, incomplete) = bench::run_jobs(
        jobs,
        &settings,
        runner.factory,
        runner.progress,
        runner.stop,
        &|_, _| {},
    )?;
    if incomplete {
        return Ok(None);
    }
    let n = s.seeds as usize;
    let values: Vec<f64> = runs.iter().map(|r| objective(r, s.objective)).collect();
    let (b, w) = values.split_at(n);
    let ((bm, bc), (wm, wc)) = (mean_ci95(b), mean_ci95(w));
    Ok(Some(TestComparison {
        steps: test_steps,
        base: b.to_vec(),
        base_mean: bm,
        base_ci95: bc,
        winner: w.to_vec(),
        winner_mean: wm,
        winner_ci95: wc,
    }))
}

/// The leaderboard as markdown: rank, each parameter, steps, objective with its interval.
pub fn markdown(spec: &SweepSpec, result: &SweepResult, test: Option<&TestComparison>) -> String {
    let s = &spec.sweep;
    let keys: Vec<&str> = spec.params.iter().map(|p| p.key.as_str()).collect();
    let mut out = format!(
        "#### sweep of `{}` on {} ({}, {} seeds, objective {} on the validation world)\n\n",
        spec.origin,
        spec.base_origin,
        s.method.name(),
        s.seeds,
        s.objective.name()
    );
    out.push_str("| rank | ");
    for k in &keys {
        out.push_str(&format!("`{k}` | "));
    }
    out.push_str("steps | objective |\n|");
    out.push_str(&" --- |".repeat(keys.len() + 3));
    out.push('\n');
    for (rank, t) in result.trials.iter().enumerate() {
        out.push_str(&format!("| {} | ", rank + 1));
        for k in &keys {
            out.push_str(&format!(
                "{} | ",
                t.config.get(*k).map(value_text).unwrap_or_default()
            ));
        }
        out.push_str(&format!(
            "{} | {:.3} ± {:.3} |\n",
            crate::fmt::count(t.steps),
            t.mean,
            t.ci95
        ));
    }
    out.push_str(&format!(
        "\nEnvironment steps used: {} (training and validation).\n",
        crate::fmt::count(result.env_steps)
    ));
    if let Some(t) = test {
        out.push_str(&format!(
            "\nOn the test world ({} steps, {} seeds): the winner {:.3} ± {:.3}, the base \
             configuration {:.3} ± {:.3}.\n",
            crate::fmt::count(t.steps),
            t.base.len(),
            t.winner_mean,
            t.winner_ci95,
            t.base_mean,
            t.base_ci95
        ));
    }
    out
}

/// A TOML value as written in a table cell.
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::Float(f) if f.abs() < 1e-3 && *f != 0.0 => format!("{f:.3e}"),
        toml::Value::Float(f) => format!("{}", (f * 1e4).round() / 1e4),
        other => other.to_string(),
    }
}

/// The winner as a scenario file: the base scenario with the winning keys set.
pub fn winner_toml(spec: &SweepSpec, winner: &Trial) -> Result<String, String> {
    let text = spec.scenario_text(&winner.config)?;
    let keys: Vec<String> = winner
        .config
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    Ok(format!(
        "# The winner of the sweep {} on {}: {}.\n# Validation {} {:.4} ± {:.4} over {} seeds.\n\n{text}",
        spec.origin,
        spec.base_origin,
        keys.join(", "),
        spec.sweep.objective.name(),
        winner.mean,
        winner.ci95,
        winner.per_seed.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each objective judges by its own metric of the validation run.
    #[test]
    fn each_objective_reads_its_own_metric() {
        let mut t = crate::metrics::Totals::default();
        t.rates.reward_per_step = 1.0;
        t.rates.mean_session_reward = 2.0;
        t.rates.newcomer_reward_per_step = 3.0;
        t.rates.first_session_reward_per_step = 4.0;
        let all = [
            Objective::RewardPerStep,
            Objective::RewardPerSession,
            Objective::NewcomerRewardPerStep,
            Objective::FirstSessionRewardPerStep,
        ];
        let got: Vec<f64> = all.iter().map(|&o| objective_of(&t, o)).collect();
        assert_eq!(got, [1.0, 2.0, 3.0, 4.0]);
        let spec: spec::Objective = toml::Value::String("newcomer_reward_per_step".into())
            .try_into()
            .unwrap();
        assert_eq!(spec, Objective::NewcomerRewardPerStep);
    }
}
