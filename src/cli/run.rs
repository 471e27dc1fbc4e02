//! `liveq run`: trains (and optionally evaluates) one policy headless through the worker, with a
//! progress bar on stderr when it is a terminal, then prints or writes the report.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use signal_hook::consts::{SIGINT, SIGTERM};

use indicatif::{ProgressBar, ProgressStyle};

use super::{CliError, RunArgs, guard, load_scenario, report};
use crate::worker::{Command, Phase, RunPlan, RunReport, Update, Worker};

/// Runs the plan described by the arguments and returns the report.
pub fn execute(args: &RunArgs) -> Result<RunReport, CliError> {
    let mut scenario = load_scenario(args.scenario.as_deref())?;
    if let Some(r) = args.rerank {
        scenario.params.feed.rerank = r;
    }
    let seed = args.seed.unwrap_or_else(|| scenario.seed());
    guard::bounded("--steps", args.steps, 1, guard::MAX_STEPS)?;
    guard::bounded("--eval-steps", args.eval_steps, 0, guard::MAX_STEPS)?;
    for (flag, path) in [("--json", &args.json), ("--csv", &args.csv)] {
        if let Some(p) = path {
            guard::output_file(flag, p)?;
        }
    }
    if let Some(p) = &args.save {
        guard::output_file("--save", &p.to_string_lossy())?;
    }
    let mut learner = super::learner_options(&args.device, args.policy == "dqn")?;
    learner.load = args.load.clone();
    learner.save_replay = args.save_replay;
    if args.policy == "dqn" && args.load.is_none() {
        let a = &scenario.params.agent;
        // No update can come before learning_starts transitions, a full batch and one
        // training period.
        let first = a
            .learning_starts
            .max(a.batch_size.min(a.buffer_capacity))
            .max(a.train_freq) as u64;
        if args.steps < first {
            return Err(CliError::Input(format!(
                "--steps {}: the learner would never train (learning_starts = {}, \
                 batch_size = {}, train_freq = {}); run at least {first} steps",
                args.steps, a.learning_starts, a.batch_size, a.train_freq
            )));
        }
    }
    if let Some(n) = args.checkpoint_every {
        guard::bounded("--checkpoint-every", n, 1, guard::MAX_STEPS)?;
    }
    if args.save.is_some() && args.policy != "dqn" {
        return Err(CliError::Input(format!(
            "--save: policy `{}` has nothing to save (only `dqn` writes checkpoints)",
            args.policy
        )));
    }
    let validation = match args.validate_every {
        None => None,
        Some(every) => {
            guard::bounded("--validate-every", every, 1, guard::MAX_STEPS)?;
            guard::bounded("--validate-steps", args.validate_steps, 1, guard::MAX_STEPS)?;
            guard::bounded("--patience", args.patience as u64, 1, 1_000_000)?;
            if !(args.min_delta.is_finite() && args.min_delta >= 0.0) {
                return Err(CliError::Input(format!(
                    "--min-delta {}: must be a finite number ≥ 0",
                    args.min_delta
                )));
            }
            if args.policy != "dqn" {
                return Err(CliError::Input(format!(
                    "--validate-every: policy `{}` has no weights to keep (only `dqn` trains \
                     with early stopping)",
                    args.policy
                )));
            }
            if every > args.steps {
                return Err(CliError::Input(format!(
                    "--validate-every {every}: more than the {} training steps, so it would \
                     never validate",
                    args.steps
                )));
            }
            Some(crate::worker::validation::ValidationPlan {
                every,
                steps: args.validate_steps,
                patience: args.patience,
                min_delta: args.min_delta,
            })
        }
    };
    let policy = crate::agent::build_policy(&args.policy, &scenario, seed, &learner)
        .map_err(CliError::Input)?;
    let plan = RunPlan {
        scenario,
        policy: args.policy.clone(),
        seed,
        train_steps: args.steps,
        eval_steps: args.eval_steps,
        eval_on_validation: false,
        save: args.save.clone(),
        checkpoint_every: args.checkpoint_every,
        validation,
        rungs: Vec::new(),
    };
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(plan.train_steps);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>5} [{bar:40}] {pos}/{len} steps {per_sec} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix("train");
        bar
    });
    // Ctrl-C and SIGTERM stop the run at the next step; the checkpoint and the results so far
    // are written.
    let signalled = stop_on_signals();
    let worker = Worker::spawn(plan.clone(), policy);
    let mut report = None;
    let mut stop_sent = false;
    loop {
        if !stop_sent && signalled.load(Ordering::SeqCst) {
            let _ = worker.commands.send(Command::Stop);
            stop_sent = true;
        }
        let update = match worker.updates.recv_timeout(Duration::from_millis(100)) {
            Ok(u) => u,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match update {
            Update::Progress(p) => {
                if let Some(bar) = &bar {
                    if p.phase == Phase::Eval && bar.prefix() != "eval" {
                        bar.set_prefix("eval");
                        bar.set_length(p.total);
                        bar.reset();
                    }
                    bar.set_position(p.step);
                }
            }
            // `liveq run` gives no rungs: the plan never stops at one.
            Update::Rung(_) => {}
            Update::Finished(r) => {
                report = Some(*r);
                break;
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let joined = worker.join();
    let report = match (report, joined) {
        (Some(r), _) => r,
        (None, Err(panic)) => return Err(CliError::Run(format!("the worker failed: {panic}"))),
        (None, Ok(())) => return Err(CliError::Run("the worker ended without a report".into())),
    };
    write_outputs(args, &report)?;
    if let Some(why) = &report.ended_early {
        eprintln!("liveq run: ended early ({why})");
    }
    if let Some(err) = &report.error {
        return Err(CliError::Run(format!("run stopped early: {err}")));
    }
    if report.interrupted {
        let saved = args
            .save
            .as_ref()
            .map(|p| format!("; checkpoint written to {}", p.display()))
            .unwrap_or_default();
        return Err(CliError::Interrupted(format!(
            "interrupted after {} training steps{saved}; the results so far are marked \
             incomplete",
            report.train.steps
        )));
    }
    Ok(report)
}

/// A flag that Ctrl-C (SIGINT) and SIGTERM set; a second signal, the flag already set, ends
/// the process at once with exit code 130.
pub(super) fn stop_on_signals() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, flag.clone());
        let _ = signal_hook::flag::register(sig, flag.clone());
    }
    flag
}

pub(super) fn write_to(path: &str, what: &str, text: &str) -> Result<(), CliError> {
    if path == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .map_err(|e| CliError::Run(format!("writing {what} to stdout: {e}")))
    } else {
        std::fs::write(path, text)
            .map_err(|e| CliError::Run(format!("writing {what} to {path}: {e}")))
    }
}

fn write_outputs(args: &RunArgs, r: &RunReport) -> Result<(), CliError> {
    let stdout_taken = args.json.as_deref() == Some("-") || args.csv.as_deref() == Some("-");
    if !args.quiet {
        let text = report::to_text(r);
        if stdout_taken {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    }
    if let Some(path) = &args.json {
        let mut text =
            serde_json::to_string_pretty(&report::to_json(r)).expect("JSON of plain data");
        text.push('\n');
        write_to(path, "JSON", &text)?;
    }
    if let Some(path) = &args.csv {
        write_to(path, "CSV", &report::to_csv(r))?;
    }
    Ok(())
}
