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

/// Starts `liveq` with `args` from the repository root (no stdin, stdout discarded unless
/// `stdout` is true, stderr captured) for tests that signal it or bound its time.
#[allow(dead_code)]
pub fn spawn<S: AsRef<std::ffi::OsStr>>(
    args: impl IntoIterator<Item = S>,
    stdout: bool,
) -> std::process::Child {
    use std::process::Stdio;
    Command::new(env!("CARGO_BIN_EXE_liveq"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(if stdout {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped())
        .spawn()
        .expect("start liveq")
}

/// Waits for `child`; fails the test (after killing it) if it runs longer than `limit`.
#[allow(dead_code)]
pub fn wait_within(mut child: std::process::Child, limit: std::time::Duration) -> Output {
    let start = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("liveq still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// `liveq run` of `policy` on `scenario` on the CPU for `steps` training and `eval_steps`
/// evaluation steps; the JSON summary.
#[allow(dead_code)]
pub fn cpu_run(scenario: &str, policy: &str, steps: u64, eval_steps: u64) -> serde_json::Value {
    let (steps, eval_steps) = (steps.to_string(), eval_steps.to_string());
    json(&[
        "run",
        "--scenario",
        scenario,
        "--policy",
        policy,
        "--device",
        "cpu",
        "--steps",
        &steps,
        "--eval-steps",
        &eval_steps,
        "--quiet",
        "--json",
        "-",
    ])
}
