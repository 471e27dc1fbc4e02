//! No lost work: a `liveq run --save` stopped by SIGINT or SIGTERM writes its checkpoint and
//! the results so far (marked incomplete) and exits non-zero; `--load` continues from it.
//! Periodic checkpoints (`--checkpoint-every`) bound what a hard kill can lose.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use liveq::agent::dqn::read_checkpoint_header;

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

#[test]
fn a_signal_stops_the_run_and_keeps_its_work() {
    for signal in ["INT", "TERM"] {
        let d = tempfile::tempdir().unwrap();
        let ck = d.path().join("run.dqn");
        let json = d.path().join("run.json");
        let mut child = Command::new(env!("CARGO_BIN_EXE_liveq"))
            .args([
                "run",
                "--scenario",
                TINY,
                "--policy",
                "dqn",
                "--device",
                "cpu",
                "--steps",
                "1000000000",
                "--quiet",
                "--save",
            ])
            .arg(&ck)
            .args(["--checkpoint-every", "3000", "--json"])
            .arg(&json)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The first periodic checkpoint proves the run is training.
        wait_for("a periodic checkpoint", Duration::from_secs(60), || {
            ck.exists()
        });
        let periodic = read_checkpoint_header(&ck).unwrap();
        // The learner counts a transition when its viewer's next observation arrives, so a
        // checkpoint holds the steps done less those still waiting for one.
        assert!(periodic.env_steps > 0 && periodic.env_steps <= 3000);
        let kill = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        wait_for("the run to stop", Duration::from_secs(30), || {
            child.try_wait().unwrap().is_some()
        });
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{signal}: {err}");
        assert!(err.contains("interrupted"), "{err}");
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(v["incomplete"], true);
        let steps = v["steps"].as_u64().unwrap();
        // The checkpoint written at the stop holds the steps done (less the transitions still
        // waiting for their next observation): far less than a period is lost.
        let last = read_checkpoint_header(&ck).unwrap();
        assert!(last.env_steps <= steps, "{signal}");
        assert!(
            steps - last.env_steps < 3000,
            "{signal}: {steps} vs {}",
            last.env_steps
        );
        assert!(last.env_steps >= periodic.env_steps);
        // And the run continues from it.
        let out = Command::new(env!("CARGO_BIN_EXE_liveq"))
            .args([
                "run",
                "--scenario",
                TINY,
                "--policy",
                "dqn",
                "--device",
                "cpu",
                "--steps",
                "2000",
                "--quiet",
                "--json",
                "-",
                "--load",
            ])
            .arg(&ck)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let resumed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            resumed["updates"].as_u64().unwrap() > last.updates,
            "{signal}"
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
    let child = Command::new(env!("CARGO_BIN_EXE_liveq"))
        .args([
            "bench",
            "--policies",
            "random",
            "--seeds",
            "1",
            "--eval-steps",
            "100",
        ])
        .args(["--threads", "2", "--quiet", "--scenario"])
        .arg(&quick)
        .arg(&slow)
        .arg("--json")
        .arg(&json)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Long enough for the quick run to finish, far too short for the slow one.
    std::thread::sleep(Duration::from_millis(3000));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("1 of 2 runs finished"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["incomplete"], true);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["scenario"], "quick");
}
