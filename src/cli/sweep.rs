//! `liveq sweep SPEC`: runs a hyperparameter search with a progress bar, resuming from its
//! journal, then re-runs the winner against the base configuration on the test world; writes
//! the leaderboard (stdout, markdown), the JSON, the winner as a scenario file and one image per
//! searched key.

use std::path::PathBuf;

use super::run::write_to;
use super::{CliError, SweepArgs, guard};
use crate::scenario::Scenario;
use crate::sweep::journal::{Journal, PartHeader};
use crate::sweep::spec::SweepSpec;
use crate::sweep::{self, Runner};

pub fn execute(args: &SweepArgs) -> Result<(), CliError> {
    let spec = SweepSpec::load(&args.spec).map_err(CliError::Input)?;
    for (flag, path) in [
        ("--json", &args.json),
        ("--markdown", &args.markdown),
        ("--winner", &args.winner),
    ] {
        if let Some(p) = path {
            guard::output_file(flag, p)?;
        }
    }
    if let Some(dir) = &args.plot {
        guard::output_folder("--plot", dir)?;
    }
    if let Some(t) = args.threads {
        guard::bounded("--threads", t, 1, guard::MAX_THREADS)?;
    }
    if let Some(n) = args.test_steps {
        guard::bounded("--test-steps", n, 1, guard::MAX_STEPS)?;
    }
    let journal_path = args.journal.clone().unwrap_or_else(|| {
        let mut p = args.spec.clone().into_os_string();
        p.push(".journal");
        PathBuf::from(p)
    });
    guard::output_file("--journal", &journal_path.to_string_lossy())?;
    let shard = crate::bench::shard::resolve(args.shard.as_deref(), args.shards)
        .map_err(CliError::Input)?;
    if shard.is_some() && spec.sweep.method == crate::sweep::spec::Method::Asha {
        return Err(CliError::Input(
            "--shard: an `asha` sweep promotes configurations by every result of a rung, so \
             it runs on one machine (shard `grid` and `random` sweeps)"
                .into(),
        ));
    }
    let part = shard.map(|(shard, shards)| PartHeader {
        shard,
        shards,
        fingerprint: spec.fingerprint,
    });
    let journal = Journal::open(&journal_path, spec.fingerprint, part).map_err(CliError::Input)?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let configs = spec.configs().len();
    let runs: usize = sweep::rungs(&spec).len() * configs * spec.sweep.seeds as usize;
    let bar = super::runs_bar("sweep", runs, args.quiet);
    let progress = |_done: usize, _total: usize, label: &str| {
        if let Some(bar) = &bar {
            bar.inc(1);
            bar.set_message(format!("done: {label}"));
        }
    };
    let mut learner = super::learner_options(&args.device, spec.sweep.policy == "dqn")?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    learner.kernel_threads = (cores / threads.max(1)).max(1);
    let factory =
        |name: &str, s: &Scenario, seed: u64| crate::agent::build_policy(name, s, seed, &learner);
    // Ctrl-C and SIGTERM stop the runs under way; the finished ones are in the journal and the
    // outputs, marked incomplete. Running the same command again resumes.
    let signalled = super::run::stop_on_signals();
    let runner = Runner {
        threads,
        factory: &factory,
        progress: &progress,
        stop: &signalled,
    };
    let result = sweep::run(&spec, &runner, &journal, shard).map_err(CliError::Run)?;
    // A shard's winner is only the best of its share: the comparison belongs to the merge.
    let test = match (
        result.incomplete || args.no_test || shard.is_some(),
        result.winner(),
    ) {
        (false, Some(w)) => sweep::test_against_base(
            &spec,
            &w.config,
            args.test_steps.unwrap_or(spec.sweep.validate_steps),
            &runner,
        )
        .map_err(CliError::Run)?,
        _ => None,
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let incomplete = result.incomplete || (test.is_none() && !args.no_test && shard.is_none());
    let md = sweep::markdown(&spec, &result, test.as_ref());
    let stdout_taken = args.json.as_deref() == Some("-") || args.markdown.as_deref() == Some("-");
    if !args.quiet && !stdout_taken {
        print!("{md}");
    }
    if let Some(path) = &args.markdown {
        write_to(path, "markdown", &md)?;
    }
    if let Some(path) = &args.json {
        let grid = matches!(spec.sweep.method, sweep::spec::Method::Grid) || spec.sweep.trials == 0;
        let value = serde_json::json!({
            "spec": spec.origin,
            "scenario": spec.base_origin,
            "policy": spec.sweep.policy,
            "method": spec.sweep.method,
            "objective": spec.sweep.objective.name(),
            "seeds": spec.sweep.seeds,
            "train_steps": spec.sweep.train_steps,
            "validate_steps": spec.sweep.validate_steps,
            "rungs": sweep::rungs(&spec),
            "configurations": configs,
            "trials": result.trials,
            "env_steps": result.env_steps,
            "grid_env_steps": grid.then(|| sweep::grid_env_steps(&spec, configs)),
            "resumed_runs": result.resumed_runs,
            "winner": result.winner(),
            "test": test,
            "incomplete": incomplete,
        });
        let mut text = serde_json::to_string_pretty(&value).expect("JSON of plain data");
        text.push('\n');
        write_to(path, "JSON", &text)?;
    }
    if let (Some(path), Some(w)) = (&args.winner, result.winner()) {
        let text = sweep::winner_toml(&spec, w).map_err(CliError::Run)?;
        write_to(path, "winner scenario", &text)?;
    }
    if let Some(dir) = &args.plot {
        let written = sweep::plot::write_all(dir, &spec, &result).map_err(CliError::Run)?;
        if !args.quiet {
            eprintln!("wrote {} images into {}", written.len(), dir.display());
        }
    }
    if incomplete {
        return Err(CliError::Interrupted(format!(
            "interrupted: the finished runs are in {} (run the same command to resume); the \
             outputs cover them and are marked incomplete",
            journal_path.display()
        )));
    }
    Ok(())
}
