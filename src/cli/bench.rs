//! `liveq bench`: runs the benchmark plan with a progress bar and writes the table (stdout,
//! markdown, JSON) and the images.

use super::run::write_to;
use super::{BenchArgs, CliError, guard, load_scenario};
use crate::bench::{self, BenchContext, BenchPlan, plot, shard, table};
use crate::scenario::{BUNDLED, Scenario};

pub fn execute(args: &BenchArgs) -> Result<(), CliError> {
    let mut scenarios: Vec<Scenario> = if args.scenario.is_empty() {
        BUNDLED
            .iter()
            .map(|b| load_scenario(Some(b.name)))
            .collect::<Result<_, _>>()?
    } else {
        args.scenario
            .iter()
            .map(|s| load_scenario(Some(s)))
            .collect::<Result<_, _>>()?
    };
    if let Some(r) = args.rerank {
        scenarios.iter_mut().for_each(|s| s.params.feed.rerank = r);
    }
    if args.rerank_sweep {
        scenarios = scenarios
            .iter()
            .flat_map(bench::diversity::variants)
            .collect();
    }
    if args.ablate.is_some() {
        scenarios = scenarios
            .iter()
            .flat_map(bench::ablation::variants)
            .collect();
    }
    let known: Vec<&str> = crate::agent::POLICIES.iter().map(|(n, _)| *n).collect();
    let policies: Vec<String> = if args.policies.is_empty() && args.ablate.is_some() {
        vec![crate::agent::LEARNER.to_string()]
    } else if args.policies.is_empty() {
        known.iter().map(|s| s.to_string()).collect()
    } else {
        args.policies.iter().map(|p| p.trim().to_string()).collect()
    };
    if let Some(bad) = policies.iter().find(|p| !known.contains(&p.as_str())) {
        return Err(CliError::Input(format!(
            "unknown policy `{bad}` (known: {})",
            known.join(", ")
        )));
    }
    guard::bounded("--seeds", args.seeds, 1, guard::MAX_SEEDS)?;
    if let Some(n) = args.train_steps {
        guard::bounded("--train-steps", n, 1, guard::MAX_STEPS)?;
    }
    guard::bounded("--eval-steps", args.eval_steps, 0, guard::MAX_STEPS)?;
    if let Some(t) = args.threads {
        guard::bounded("--threads", t, 1, guard::MAX_THREADS)?;
    }
    for (flag, path) in [("--json", &args.json), ("--markdown", &args.markdown)] {
        if let Some(p) = path {
            guard::output_file(flag, p)?;
        }
    }
    if let Some(dir) = &args.plot {
        guard::output_folder("--plot", dir)?;
    }
    let shard = shard::resolve(args.shard.as_deref(), args.shards).map_err(CliError::Input)?;
    if shard.is_some() && (args.json.is_none() || args.markdown.is_some() || args.plot.is_some()) {
        return Err(CliError::Input(
            "--shard: a shard writes its part with --json PATH (no --markdown or --plot: \
             `liveq merge` writes those from all the parts)"
                .into(),
        ));
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let plan = BenchPlan {
        scenarios,
        policies,
        seeds: args.seeds,
        train_steps: args.train_steps,
        eval_steps: args.eval_steps,
        threads,
    };
    let total = plan.scenarios.len() * plan.policies.len() * plan.seeds as usize;
    let bar = super::runs_bar("bench", total, args.quiet);
    let progress = |done: usize, _total: usize, label: &str| {
        if let Some(bar) = &bar {
            bar.set_position(done as u64);
            bar.set_message(format!("done: {label}"));
        }
    };
    let mut learner =
        super::learner_options(&args.device, plan.policies.iter().any(|p| p == "dqn"))?;
    // Runs in parallel already fill the cores: a learner's second kernel thread would only
    // contend with the other runs (measured: see docs/performance.md).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    learner.kernel_threads = (cores / plan.threads.max(1)).max(1);
    let factory =
        |name: &str, s: &Scenario, seed: u64| crate::agent::build_policy(name, s, seed, &learner);
    // Ctrl-C and SIGTERM stop the runs under way (they are dropped: a partial run is not
    // comparable); the finished ones are written, marked incomplete. A second signal ends the
    // process at once.
    let signalled = super::run::stop_on_signals();
    let context = BenchContext {
        train_steps: plan
            .scenarios
            .iter()
            .map(|s| plan.train_steps_for(s))
            .collect(),
        eval_steps: plan.eval_steps,
        seeds: plan.seeds,
        rerank_sweep: args.rerank_sweep,
    };
    if let Some((shard, shards)) = shard {
        let jobs = bench::jobs(&plan);
        let total = jobs.len();
        let mine: Vec<usize> = (0..total).filter(|j| j % shards == shard - 1).collect();
        let settings = bench::JobSettings {
            eval_steps: plan.eval_steps,
            eval_world: bench::EvalWorld::Test,
            threads: plan.threads,
        };
        let picked = mine.iter().map(|&j| jobs[j].clone()).collect();
        let (runs, incomplete) = bench::run_jobs(
            picked,
            &settings,
            &factory,
            &progress,
            &signalled,
            &|_, _| {},
        )
        .map_err(CliError::Run)?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let part = shard::Part {
            kind: shard::Kind::Bench,
            shard,
            shards,
            fingerprint: shard::fingerprint(&plan, args.rerank_sweep),
            jobs: total,
            context: context.clone(),
            runs: mine.iter().copied().zip(runs).collect(),
            incomplete,
        };
        let path = args
            .json
            .as_deref()
            .expect("checked: a shard writes --json");
        write_to(path, "part", &part.to_json())?;
        if incomplete {
            return Err(CliError::Interrupted(format!(
                "interrupted: shard {shard}/{shards} wrote the runs it finished, marked \
                 incomplete"
            )));
        }
        return Ok(());
    }
    let (runs, incomplete) =
        bench::run_until(&plan, &factory, &progress, &signalled).map_err(CliError::Run)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let outputs = Outputs {
        json: args.json.clone(),
        markdown: args.markdown.clone(),
        plot: args.plot.clone(),
        quiet: args.quiet,
    };
    write_outputs(&outputs, &context, &runs, incomplete, total)
}

/// Where the outputs go.
pub struct Outputs {
    pub json: Option<String>,
    pub markdown: Option<String>,
    pub plot: Option<std::path::PathBuf>,
    pub quiet: bool,
}

/// The table (stdout, markdown), the JSON and the images of a bench's runs: what `liveq bench`
/// writes, and what `liveq merge` writes from the parts of a sharded one.
pub fn write_outputs(
    args: &Outputs,
    context: &BenchContext,
    runs: &[bench::RunResult],
    incomplete: bool,
    total: usize,
) -> Result<(), CliError> {
    let rows = table::rows(runs);
    let md = table::markdown(&rows);
    let stdout_taken = args.json.as_deref() == Some("-") || args.markdown.as_deref() == Some("-");
    if !args.quiet && !stdout_taken {
        print!("{md}");
    }
    if let Some(path) = &args.markdown {
        write_to(path, "markdown", &md)?;
    }
    if let Some(path) = &args.json {
        // One length for the whole bench when every scenario trained as long; otherwise null,
        // and each row and run says its own.
        let lengths = &context.train_steps;
        let common = lengths
            .iter()
            .all(|&n| n == lengths[0])
            .then_some(lengths[0]);
        let value = serde_json::json!({
            "incomplete": incomplete,
            "train_steps": common,
            "eval_steps": context.eval_steps,
            "seeds": context.seeds,
            "table": rows,
            "runs": runs,
        });
        let mut text = serde_json::to_string_pretty(&value).expect("JSON of plain data");
        text.push('\n');
        write_to(path, "JSON", &text)?;
    }
    if let Some(dir) = &args.plot {
        let mut written = if context.rerank_sweep {
            // The scenarios as they are; the re-ranked variants are in the diversity image.
            let plain =
                |name: &str| bench::diversity::split(name).1 == crate::scenario::Rerank::None;
            let runs: Vec<_> = runs
                .iter()
                .filter(|r| plain(&r.scenario))
                .cloned()
                .collect();
            let rows: Vec<_> = rows
                .iter()
                .filter(|r| plain(&r.scenario))
                .cloned()
                .collect();
            plot::write_all(dir, &runs, &rows).map_err(CliError::Run)?
        } else {
            plot::write_all(dir, runs, &rows).map_err(CliError::Run)?
        };
        if context.rerank_sweep {
            written.extend(bench::diversity::write(dir, &rows).map_err(CliError::Run)?);
        }
        if !args.quiet {
            eprintln!("wrote {} images into {}", written.len(), dir.display());
        }
    }
    if incomplete {
        return Err(CliError::Interrupted(format!(
            "interrupted: {} of {total} runs finished; the outputs cover them and are marked \
             incomplete",
            runs.len()
        )));
    }
    Ok(())
}
