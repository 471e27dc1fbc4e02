//! Bad input that once ran for ever, read without bound, or lost work: every case ends with
//! exit code 2 and a message naming what is wrong, within seconds.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;

/// Runs the binary; fails the test if it takes longer than `limit`.
fn liveq_within(args: &[&str], limit: Duration) -> Output {
    common::wait_within(common::spawn(args, true), limit)
}

fn refused(args: &[&str], want: &str) {
    let out = liveq_within(args, Duration::from_secs(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(want), "{args:?}: `{err}` lacks `{want}`");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_named_pipe_or_a_folder_is_not_read_as_a_scenario() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("scenario.toml");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        refused(&["check", fifo.to_str().unwrap()], "not a regular file");
        refused(
            &[
                "run",
                "--scenario",
                fifo.to_str().unwrap(),
                "--policy",
                "random",
                "--steps",
                "5",
            ],
            "not a regular file",
        );
    } else {
        println!("SKIP the named pipe: mkfifo is not available");
    }
    refused(&["check", d.path().to_str().unwrap()], "is a directory");
    if Path::new("/dev/zero").exists() {
        refused(&["check", "/dev/zero"], "not a regular file");
    }
}

#[test]
fn an_oversized_scenario_file_is_refused_unread() {
    let d = tempfile::tempdir().unwrap();
    let big = d.path().join("big.toml");
    let mut text = String::from("[scenario]\nname = \"big\"\n");
    while text.len() <= liveq::scenario::MAX_FILE_BYTES as usize {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&big, text).unwrap();
    refused(
        &["check", big.to_str().unwrap()],
        "more than a scenario file may be",
    );
}

#[test]
fn a_hundred_thousand_bad_entries_are_checked_quickly() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("many.toml");
    let names: Vec<String> = (0..100_000).map(|i| format!("\"t{}\"", i % 7)).collect();
    std::fs::write(&f, format!("[topics]\nnames = [{}]\n", names.join(", "))).unwrap();
    let t = Instant::now();
    let out = liveq_within(&["check", f.to_str().unwrap()], Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`topics.names`"), "{err}");
    assert!(
        err.lines().count() <= liveq::scenario::MAX_PROBLEMS + 2,
        "{} lines",
        err.lines().count()
    );
    println!("checked in {:?}", t.elapsed());
}

#[test]
fn numbers_at_the_edge_of_their_types_name_their_flag() {
    let max = u64::MAX.to_string();
    refused(&["run", "--policy", "random", "--steps", &max], "--steps");
    refused(
        &[
            "run",
            "--policy",
            "random",
            "--steps",
            "10",
            "--eval-steps",
            &max,
        ],
        "--eval-steps",
    );
    refused(&["bench", "--seeds", &max, "--quiet"], "--seeds");
    refused(&["bench", "--threads", "0", "--quiet"], "--threads");
    refused(
        &["bench", "--train-steps", &max, "--quiet"],
        "--train-steps",
    );
    // A learner that could not train once in the run.
    refused(
        &["run", "--policy", "dqn", "--device", "cpu", "--steps", "50"],
        "never train",
    );
}

/// A replay buffer too large to fit in a checkpoint is refused before the run when
/// checkpoints are to hold it (or, on a small machine, already by the memory check).
#[test]
fn a_replay_buffer_too_large_for_a_checkpoint_is_refused_up_front() {
    let d = tempfile::tempdir().unwrap();
    let scenario = d.path().join("big-buffer.toml");
    std::fs::write(&scenario, "[agent]\nbuffer_capacity = 10000000\n").unwrap();
    let save = d.path().join("ck.dqn");
    let args = [
        "run",
        "--scenario",
        scenario.to_str().unwrap(),
        "--policy",
        "dqn",
        "--device",
        "cpu",
        "--steps",
        "1000000000",
        "--save",
        save.to_str().unwrap(),
        "--save-replay",
    ];
    let out = liveq_within(&args, Duration::from_secs(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--save-replay") && err.contains("transitions") || err.contains("memory"),
        "{err}"
    );
    assert!(!save.exists());
}

#[test]
fn output_paths_are_checked_before_any_work() {
    let d = tempfile::tempdir().unwrap();
    let typo = d.path().join("no-such-folder").join("out.json");
    let typo = typo.to_str().unwrap();
    // A run long enough that reaching its end would exceed the time limit.
    for (flag, policy) in [("--json", "random"), ("--csv", "random"), ("--save", "dqn")] {
        let t = Instant::now();
        refused(
            &[
                "run",
                "--policy",
                policy,
                "--device",
                "cpu",
                "--steps",
                "1000000000",
                flag,
                typo,
            ],
            "does not exist",
        );
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{flag}: {:?}",
            t.elapsed()
        );
    }
    refused(&["bench", "--quiet", "--markdown", typo], "does not exist");
    refused(&["bench", "--quiet", "--json", typo], "does not exist");
    let file = d.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    refused(
        &["bench", "--quiet", "--plot", file.to_str().unwrap()],
        "--plot",
    );
}

#[test]
fn a_world_whose_viewers_all_leave_ends_the_run_cleanly() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("exodus.toml");
    std::fs::write(
        &f,
        "[scenario]\nname = \"exodus\"\n\n[viewers]\ncount = 20\nchurn_max = 1.0\nreplacement_days = 0\n",
    )
    .unwrap();
    let out = liveq_within(
        &[
            "run",
            "--scenario",
            f.to_str().unwrap(),
            "--policy",
            "random",
            "--steps",
            "100000000",
            "--quiet",
            "--json",
            "-",
        ],
        Duration::from_secs(20),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("ended early") && err.contains("no viewer is left"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["steps"].as_u64().unwrap() < 100_000_000);
    assert!(v["ended_early"].as_str().unwrap().contains("training"));
}
