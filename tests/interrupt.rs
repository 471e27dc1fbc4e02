//! No lost work: a `liveq run --save` stopped by SIGINT or SIGTERM writes its checkpoint and
//! the results so far (marked incomplete) and exits non-zero; `--load` continues from it.
//! Periodic checkpoints (`--checkpoint-every`) bound what a hard kill can lose.

use std::ffi::OsString;
use std::process::Command;
use std::time::{Duration, Instant};

use liveq::agent::dqn::read_checkpoint_header;

mod common;

const TINY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/valid/learnable.toml"
);

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `liveq run` of the learner on the tiny world for `steps`, then `extra`.
fn dqn_run(steps: &str, extra: &[OsString]) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["run", "--scenario", TINY, "--policy", "dqn"]
        .iter()
        .chain(&["--device", "cpu", "--quiet", "--steps", steps])
        .map(OsString::from)
        .collect();
    args.extend_from_slice(extra);
    args
}

fn signal(child: &std::process::Child, name: &str) {
    let kill = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
}

#[test]
fn a_signal_stops_the_run_and_keeps_its_work() {
    for name in ["INT", "TERM"] {
        let d = tempfile::tempdir().unwrap();
        let ck = d.path().join("run.dqn");
        let json = d.path().join("run.json");
        let mut extra: Vec<OsString> = vec![
            "--save".into(),
            ck.clone().into(),
            "--checkpoint-every".into(),
            "3000".into(),
            "--json".into(),
            json.clone().into(),
        ];
        // SIGINT's run keeps its replay buffer in its checkpoints, SIGTERM's does not.
        let with_replay = name == "INT";
        if with_replay {
            extra.push("--save-replay".into());
        }
        let child = common::spawn(dqn_run("1000000000", &extra), false);
        // The first periodic checkpoint proves the run is training.
        wait_for("a periodic checkpoint", Duration::from_secs(60), || {
            ck.exists()
        });
        let periodic = read_checkpoint_header(&ck).unwrap();
        // The learner counts a transition when its viewer's next observation arrives, so a
        // checkpoint holds the steps done less those still waiting for one.
        assert!(periodic.env_steps > 0 && periodic.env_steps <= 3000);
        signal(&child, name);
        let out = common::wait_within(child, Duration::from_secs(30));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{name}: {err}");
        assert!(err.contains("interrupted"), "{err}");
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(v["incomplete"], true);
        let steps = v["steps"].as_u64().unwrap();
        // The checkpoint written at the stop holds the steps done (less the transitions still
        // waiting for their next observation): far less than a period is lost.
        let last = read_checkpoint_header(&ck).unwrap();
        assert!(last.env_steps <= steps, "{name}");
        assert!(
            steps - last.env_steps < 3000,
            "{name}: {steps} vs {}",
            last.env_steps
        );
        assert!(last.env_steps >= periodic.env_steps);
        match &last.replay {
            Some(image) => assert!(with_replay && image.transitions > 0, "{image:?}"),
            None => assert!(!with_replay, "--save-replay wrote no replay buffer"),
        }
        // And the run continues from it.
        let out = common::wait_within(
            common::spawn(
                dqn_run(
                    "2000",
                    &["--json".into(), "-".into(), "--load".into(), ck.into()],
                ),
                true,
            ),
            Duration::from_secs(60),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let resumed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            resumed["updates"].as_u64().unwrap() > last.updates,
            "{name}"
        );
        assert_eq!(resumed["incomplete"], false);
    }
}

#[test]
fn a_signal_stops_a_bench_and_keeps_the_finished_runs() {
    let d = tempfile::tempdir().unwrap();
    let quick = d.path().join("quick.toml");
    let slow = d.path().join("slow.toml");
    std::fs::write(
        &quick,
        "[scenario]\nname = \"quick\"\n\n[bench]\ntrain_steps = 2000\n",
    )
    .unwrap();
    std::fs::write(
        &slow,
        "[scenario]\nname = \"slow\"\n\n[bench]\ntrain_steps = 100000000\n",
    )
    .unwrap();
    let json = d.path().join("bench.json");
    let mut args: Vec<OsString> = [
        "bench",
        "--policies",
        "random",
        "--seeds",
        "1",
        "--eval-steps",
        "100",
        "--threads",
        "2",
        "--quiet",
        "--json",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.extend([
        json.clone().into(),
        "--scenario".into(),
        quick.into(),
        slow.into(),
    ]);
    let child = common::spawn(args, false);
    // Long enough for the quick run to finish, far too short for the slow one.
    std::thread::sleep(Duration::from_millis(3000));
    signal(&child, "INT");
    let out = common::wait_within(child, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("1 of 2 runs finished"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["incomplete"], true);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["scenario"], "quick");
}
