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

/// Runs `liveq` with `args`, which must succeed and print one JSON object on stdout.
#[allow(dead_code)] // not every test binary that includes this module uses it
pub fn json(args: &[&str]) -> serde_json::Value {
    let out = liveq(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}
