//! The `liveq` binary: parses the command line and hands over to a front end. The one place
//! where errors become messages and exit codes (2 bad input, 1 failure while running, 130
//! stopped by a signal).

use clap::Parser;
use liveq::cli::{self, Cli, CliError, Commands};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version to stdout with exit 0 and usage errors with exit 2.
            e.exit();
        }
    };
    let result: Result<(), CliError> = match &cli.command {
        Some(Commands::Run(args)) => cli::run::execute(args).map(|_| ()),
        Some(Commands::Check { files }) => cli::check(files),
        Some(Commands::Bench(args)) => cli::bench::execute(args),
        Some(Commands::Sweep(args)) => cli::sweep::execute(args),
        Some(Commands::Merge(args)) => cli::merge::execute(args),
        Some(Commands::Scenarios) => {
            cli::list_scenarios();
            Ok(())
        }
        Some(Commands::Policies) => {
            cli::list_policies();
            Ok(())
        }
        Some(Commands::Completions { shell }) => {
            cli::completions(*shell);
            Ok(())
        }
        Some(Commands::Man) => cli::man(),
        None => cli::dashboard(&cli.dashboard),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
