//! The command line: argument definitions (clap) and the headless front ends (`run`, `check`,
//! `scenarios`). Errors carry the exit code the user's scripts rely on: 2 for bad input, 1 for a
//! failure while running.

pub mod bench;
pub mod guard;
pub mod merge;
pub mod report;
pub mod run;
pub mod sweep;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::scenario::{BUNDLED, Scenario};

/// Watch a recommender learn on a simulated live-streaming platform.
#[derive(Debug, Parser)]
#[command(name = "liveq", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Commands>,
    #[command(flatten)]
    pub dashboard: DashboardArgs,
}

/// Options of the dashboard (the default when no subcommand is given).
#[derive(Debug, Args, Clone)]
pub struct DashboardArgs {
    /// Scenario file, or the name of a bundled scenario (default: the built-in default).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<String>,
    /// Seed of the world (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Dashboard: the policy to watch (see `liveq policies`).
    #[arg(long = "policy", id = "dashboard_policy", value_name = "NAME", default_value = crate::tui::DEFAULT_POLICY)]
    pub policy: String,
    /// Where the learner trains: auto, cpu, wgpu, vulkan, flex (auto = liveq's CPU kernels without a real GPU; with one, whichever of the two a short probe finds faster for the network).
    #[arg(long, value_name = "DEVICE", default_value = "auto")]
    pub device: String,
    /// Re-rank every slate for diversity: mmr:W or dpp:W, or none (default: the scenario's
    /// `[feed] rerank`); W is tunable live in the tuning view.
    #[arg(long = "rerank", id = "dashboard_rerank", value_name = "METHOD:W")]
    pub rerank: Option<crate::scenario::Rerank>,
    /// Dashboard: validate the policy greedily every N steps on the validation world (its own
    /// viewers) and draw the curve beside the training reward.
    #[arg(
        long = "validate-every",
        id = "dashboard_validate_every",
        value_name = "N"
    )]
    pub validate_every: Option<u64>,
    /// Dashboard: steps of each validation (with --validate-every).
    #[arg(
        long = "validate-steps",
        id = "dashboard_validate_steps",
        value_name = "M",
        default_value_t = 5_000
    )]
    pub validate_steps: u64,
    /// Dashboard: plain ASCII (no Braille, no box drawing); automatic when the locale is not UTF-8.
    #[arg(long)]
    pub ascii: bool,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Run a policy headless and report metrics (text, JSON, CSV).
    Run(RunArgs),
    /// Validate scenario files without running them.
    Check {
        /// Files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Every policy on every scenario and seed: table with 95% confidence intervals, curves, plots.
    Bench(BenchArgs),
    /// Hyperparameter search over scenario keys (grid, random, successive halving), judged on
    /// the validation world; resumable from its journal.
    Sweep(SweepArgs),
    /// The outputs of a sharded bench (`liveq bench --shard I/N --json PART`) from its parts.
    Merge(MergeArgs),
    /// List the bundled scenarios.
    Scenarios,
    /// List the policies.
    Policies,
    /// Print a shell completion script (e.g. `liveq completions bash > ~/.local/share/bash-completion/completions/liveq`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page in roff (e.g. `liveq man > liveq.1; man ./liveq.1`).
    Man,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Scenario file, or the name of a bundled scenario (default: the built-in default).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<String>,
    /// Seed of the world (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Policy: random, popular, bandit, myopic-oracle, quality-oracle.
    #[arg(long)]
    pub policy: String,
    /// Training steps (one step = one recommendation).
    #[arg(long)]
    pub steps: u64,
    /// Then evaluate greedily for this many steps on a fixed seeded world (the same for every
    /// policy with the same --seed).
    #[arg(long, default_value_t = 0)]
    pub eval_steps: u64,
    /// Write the summary as one JSON object to PATH (`-` for stdout).
    #[arg(long, value_name = "PATH")]
    pub json: Option<String>,
    /// Write the windowed series as CSV to PATH (`-` for stdout).
    #[arg(long, value_name = "PATH")]
    pub csv: Option<String>,
    /// Where the learner trains: auto, cpu, wgpu, vulkan, flex (auto = liveq's CPU kernels without a real GPU; with one, whichever of the two a short probe finds faster for the network).
    #[arg(long, value_name = "DEVICE", default_value = "auto")]
    pub device: String,
    /// Save the learner's checkpoint to PATH after training (written atomically).
    #[arg(long, value_name = "PATH")]
    pub save: Option<PathBuf>,
    /// With --save: also save the checkpoint every N training steps (atomically), so that a
    /// stopped or killed run loses at most N steps.
    #[arg(long, value_name = "N", requires = "save")]
    pub checkpoint_every: Option<u64>,
    /// With --save: checkpoints hold the replay buffer's transitions too, so that --load
    /// continues on the same experience (larger files: the buffer's size is checked first).
    #[arg(long, requires = "save")]
    pub save_replay: bool,
    /// Re-rank every slate for diversity: mmr:W or dpp:W, W the diversity weight in [0, 0.99]
    /// (0 = the policy's own order), or none (default: the scenario's `[feed] rerank`)
    #[arg(long, value_name = "METHOD:W")]
    pub rerank: Option<crate::scenario::Rerank>,
    /// Early stopping: every N training steps, evaluate the learner greedily on the validation
    /// world (its own viewers, never the test world of --eval-steps); keep the best weights,
    /// stop after --patience validations without improvement, restore the best at the end.
    #[arg(long, value_name = "N")]
    pub validate_every: Option<u64>,
    /// With --validate-every: steps of each validation.
    #[arg(
        long,
        value_name = "M",
        default_value_t = 10_000,
        requires = "validate_every"
    )]
    pub validate_steps: u64,
    /// With --validate-every: validations without improvement before training stops.
    #[arg(
        long,
        value_name = "P",
        default_value_t = 3,
        requires = "validate_every"
    )]
    pub patience: u32,
    /// With --validate-every: the validation reward per step must beat the best by more than D.
    #[arg(
        long,
        value_name = "D",
        default_value_t = 0.0,
        requires = "validate_every"
    )]
    pub min_delta: f64,
    /// Start the learner from the checkpoint at PATH.
    #[arg(long, value_name = "PATH")]
    pub load: Option<PathBuf>,
    /// No progress bar and no text summary.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct MergeArgs {
    /// The parts, one per shard, in any order.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Write the merged bench as JSON to PATH (`-`: stdout).
    #[arg(long, value_name = "PATH")]
    pub json: Option<String>,
    /// Write the table as markdown to PATH (`-`: stdout).
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<String>,
    /// Write the images into DIR.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// For the journals of a sharded sweep: write the joined journal to PATH (then `liveq
    /// sweep SPEC --journal PATH` writes the sweep's outputs without running again).
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// No table on stdout.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SweepArgs {
    /// The sweep specification (TOML: `[sweep]` and `[space]`, see docs/sweep.md).
    pub spec: PathBuf,
    /// Write every trial, the winner and the test-world comparison as JSON to PATH (`-`: stdout).
    #[arg(long, value_name = "PATH")]
    pub json: Option<String>,
    /// Write the leaderboard as markdown to PATH (`-`: stdout).
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<String>,
    /// Write the winning configuration as a ready scenario file to PATH.
    #[arg(long, value_name = "PATH")]
    pub winner: Option<String>,
    /// Write one SVG per searched key into DIR: every trial's objective against its value.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// The journal of finished runs (default: SPEC.journal); a sweep resumes from it.
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// Runs at the same time (default: the machine's cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Steps of the test-world comparison of the winner and the base (default: validate_steps).
    #[arg(long, value_name = "M")]
    pub test_steps: Option<u64>,
    /// Skip the test-world comparison.
    #[arg(long)]
    pub no_test: bool,
    /// Run only shard I of N of the configurations (grid and random), recording them in this
    /// shard's journal (`--journal`) for `liveq merge`; `auto` reads the scheduler's index as
    /// `liveq bench --shard auto` does.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// With --shard auto and JOB_COMPLETION_INDEX: the number of shards.
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,
    /// Where learners train.
    #[arg(long, value_name = "DEVICE", default_value = "auto")]
    pub device: String,
    /// No progress bar and no leaderboard on stdout.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Scenario files or bundled names (repeat the flag or list them; default: every bundled one).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub scenario: Vec<String>,
    /// Comma-separated policies (default: every policy).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub policies: Vec<String>,
    /// Seeds per scenario and policy: the scenario's seed, +1, +2, …
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Training steps per run, for every scenario (baselines simply run them). Default: each
    /// scenario's `[bench] train_steps`, 150,000 where it names none (as in the README table).
    #[arg(long)]
    pub train_steps: Option<u64>,
    /// Evaluation steps per run, on the seeded evaluation world shared by all policies.
    #[arg(long, default_value_t = 50_000)]
    pub eval_steps: u64,
    /// Where the learner trains: auto, cpu, wgpu, vulkan, flex (auto = liveq's CPU kernels without a real GPU; with one, whichever of the two a short probe finds faster for the network).
    #[arg(long, value_name = "DEVICE", default_value = "auto")]
    pub device: String,
    /// Runs at the same time (default: the number of cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Re-rank every slate for diversity: mmr:W or dpp:W, or none (default: each scenario's
    /// `[feed] rerank`)
    #[arg(long, value_name = "METHOD:W")]
    pub rerank: Option<crate::scenario::Rerank>,
    /// The price of diversity: run every scenario as it is and re-ranked by MMR and by the DPP
    /// at weights 0.1, 0.2, 0.3, 0.5 and 0.7 (rows `<scenario>+mmr:W`; scenarios of single
    /// recommendations have nothing to re-rank and run as they are); with --plot, also
    /// `<scenario>-diversity.svg` (reward against intra-list diversity; coverage and exposure
    /// Gini against the weight)
    #[arg(long, conflicts_with = "rerank")]
    pub rerank_sweep: bool,
    /// What each feature family buys the learner: `features` runs every scenario as it is and
    /// once without each feature family its learner reads (rows `<scenario>~no-<family>`);
    /// policies default to `dqn` alone
    #[arg(long, value_name = "WHAT", value_parser = ["features"], conflicts_with = "rerank_sweep")]
    pub ablate: Option<String>,
    /// Write runs and table as JSON to PATH (`-` for stdout).
    #[arg(long, value_name = "PATH")]
    pub json: Option<String>,
    /// Write the table as markdown to PATH (`-` for stdout).
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<String>,
    /// Write SVG learning curves and comparisons into DIR.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Run only shard I of N of the runs (1-based, I/N), writing a part with --json for
    /// `liveq merge`; `auto` reads SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, or
    /// Kubernetes' JOB_COMPLETION_INDEX (0-based) with --shards N.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// With --shard auto and JOB_COMPLETION_INDEX: the number of shards.
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,
    /// No progress bar and no table on stdout.
    #[arg(long, short)]
    pub quiet: bool,
}

/// An error at the binary's edge, with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input: arguments or scenario (exit 2).
    #[error("{0}")]
    Input(String),
    /// Failure while running (exit 1).
    #[error("{0}")]
    Run(String),
    /// Stopped by Ctrl-C or SIGTERM after saving what was done (exit 130).
    #[error("{0}")]
    Interrupted(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) => 2,
            CliError::Run(_) => 1,
            CliError::Interrupted(_) => 130,
        }
    }
}

/// Resolves `--device` when `needed` (a learner will run), before any screen is taken over:
/// the wgpu probe may print driver messages.
pub fn learner_options(
    device: &str,
    needed: bool,
) -> Result<crate::agent::LearnerOptions, CliError> {
    use crate::agent::dqn::DeviceChoice;
    let choice: DeviceChoice = device
        .parse()
        .map_err(|e| CliError::Input(format!("--device: {e}")))?;
    if !needed {
        return Ok(crate::agent::LearnerOptions {
            choice,
            ..Default::default()
        });
    }
    let resolved = choice
        .resolve()
        .map_err(|e| CliError::Input(format!("--device {device}: {e}")))?;
    Ok(crate::agent::LearnerOptions {
        device: Some(resolved),
        choice,
        load: None,
        save_replay: false,
        kernel_threads: 0,
    })
}

/// Loads the scenario named by `--scenario`, or the built-in default.
/// A progress bar over `total` runs on stderr (none when `quiet` or stderr is not a terminal).
pub fn runs_bar(what: &str, total: usize, quiet: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{what} [{{bar:30}}] {{pos}}/{{len}} runs, eta {{eta}}  {{msg}}"
            ))
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    })
}

pub fn load_scenario(spec: Option<&str>) -> Result<Scenario, CliError> {
    match spec {
        None => Ok(Scenario::builtin_default()),
        Some(s) => Scenario::load(s).map_err(|e| CliError::Input(e.to_string())),
    }
}

/// `liveq check FILE...`: every file is checked; all errors are printed.
pub fn check(files: &[PathBuf]) -> Result<(), CliError> {
    let mut failed = Vec::new();
    for f in files {
        match Scenario::load_file(f) {
            Ok(s) => println!("{}: ok ({})", f.display(), s.name()),
            Err(e) => failed.push(e.to_string()),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Input(failed.join("\n")))
    }
}

/// `liveq scenarios`.
pub fn list_scenarios() {
    for b in BUNDLED {
        let description = Scenario::parse(b.text, b.name)
            .map(|s| s.description().to_string())
            .unwrap_or_else(|e| format!("(invalid: {e})"));
        println!("{:<14} {description}", b.name);
    }
}

/// `liveq completions SHELL`: the completion script on stdout.
pub fn completions(shell: clap_complete::Shell) {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut cmd, "liveq", &mut std::io::stdout());
}

/// `liveq man`: the manual page (roff) on stdout.
pub fn man() -> Result<(), CliError> {
    let cmd = <Cli as clap::CommandFactory>::command();
    clap_mangen::Man::new(cmd)
        .render(&mut std::io::stdout())
        .map_err(|e| CliError::Run(format!("writing the manual page: {e}")))
}

/// `liveq policies`.
pub fn list_policies() {
    for (name, what) in crate::agent::POLICIES {
        println!("{name:<16} {what}");
    }
}

/// `liveq` with no subcommand: the dashboard.
pub fn dashboard(args: &DashboardArgs) -> Result<(), CliError> {
    let mut scenario = load_scenario(args.scenario.as_deref())?;
    if let Some(r) = args.rerank {
        scenario.params.feed.rerank = r;
    }
    if !crate::agent::POLICIES
        .iter()
        .any(|(n, _)| *n == args.policy)
    {
        let known: Vec<_> = crate::agent::POLICIES.iter().map(|(n, _)| *n).collect();
        return Err(CliError::Input(format!(
            "unknown policy `{}` (known: {})",
            args.policy,
            known.join(", ")
        )));
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return Err(CliError::Input(
            "the dashboard needs a terminal; for scripts use `liveq run` (see --help)".into(),
        ));
    }
    // Resolved before the screen is taken over when a learner starts; a learner launched later
    // from the picker resolves `--device` then (probing no adapter costs nothing, and an
    // explicit device is only parsed here).
    let learner = learner_options(&args.device, args.policy == "dqn")?;
    let validation = match args.validate_every {
        None => None,
        Some(every) => {
            guard::bounded("--validate-every", every, 1, guard::MAX_STEPS)?;
            guard::bounded("--validate-steps", args.validate_steps, 1, 10_000_000)?;
            Some(crate::worker::validation::ValidationPlan {
                every,
                steps: args.validate_steps,
                patience: u32::MAX,
                min_delta: 0.0,
            })
        }
    };
    crate::tui::run(crate::tui::Options {
        scenario,
        policy: args.policy.clone(),
        seed: args.seed,
        theme: crate::tui::theme::Theme::detect(args.ascii),
        speed: crate::tui::DEFAULT_SPEED,
        learner,
        validation,
    })
    .map_err(CliError::Run)
}
