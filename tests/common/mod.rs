//! Helpers shared by the tests that run the real `liveq` binary.

use std::process::{Command, Output};

/// Runs `liveq` with `args` from the repository root.
pub fn liveq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_liveq"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run liveq")
}
