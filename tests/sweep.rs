//! `liveq sweep`: a grid on a tiny world ranks every configuration on the validation world and
//! writes a winner that is a valid scenario and an image per searched key; a sweep killed part-way resumes from its journal
//! to the same result; successive halving spends fewer environment steps than the grid, and
//! fewer again when it continues its promoted runs (with the same promotions); bad
//! specs exit 2 naming the key and the line.

mod common;

use std::path::Path;

use common::liveq;

const TINY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/valid/learnable.toml"
);

fn spec(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("[sweep]\nscenario = \"{TINY}\"\n{body}")).unwrap();
    path.to_str().unwrap().to_string()
}

fn sweep(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["sweep", "--quiet", "--threads", "2", "--json", "-"];
    all.extend(args);
    let out = liveq(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const GRID: &str = "method = \"grid\"\nseeds = 2\ntrain_steps = 3000\nvalidate_steps = 800\n\n\
                    [space.agent]\nlr = [0.0003, 0.001]\ngamma = [0.3, 0.5]\n";

#[test]
fn a_grid_ranks_every_configuration_and_writes_a_valid_winner() {
    let d = tempfile::tempdir().unwrap();
    let s = spec(d.path(), "grid.toml", GRID);
    let winner = d.path().join("winner.toml");
    let plots = d.path().join("plots");
    let v = sweep(&[
        &s,
        "--winner",
        winner.to_str().unwrap(),
        "--test-steps",
        "500",
        "--plot",
        plots.to_str().unwrap(),
    ]);
    // One image per searched key, with a point per configuration.
    for key in ["agent.lr", "agent.gamma"] {
        let svg = std::fs::read_to_string(plots.join(format!("{key}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{key}");
        assert!(svg.contains(&format!("against {key}")), "{key}");
        assert_eq!(svg.matches("<circle").count(), 4, "{key}");
    }
    let trials = v["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 4);
    assert_eq!(v["env_steps"], v["grid_env_steps"]);
    assert_eq!(v["env_steps"].as_u64().unwrap(), 4 * 2 * (3000 + 800));
    let means: Vec<f64> = trials.iter().map(|t| t["mean"].as_f64().unwrap()).collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "{means:?}");
    for t in trials {
        let per_seed = t["per_seed"].as_array().unwrap();
        assert_eq!(per_seed.len(), 2);
        let mean = per_seed.iter().map(|x| x.as_f64().unwrap()).sum::<f64>() / 2.0;
        assert!((mean - t["mean"].as_f64().unwrap()).abs() < 1e-12);
    }
    assert_eq!(v["winner"], trials[0]);
    // The winner re-run on the test world against the base, with its own numbers.
    assert_eq!(v["test"]["winner"].as_array().unwrap().len(), 2);
    assert_eq!(v["test"]["base"].as_array().unwrap().len(), 2);
    // The winner file is a scenario with the winning values.
    let out = liveq(&["check", winner.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&winner).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    let agent = table["agent"].as_table().unwrap();
    let config = trials[0]["config"].as_object().unwrap();
    assert_eq!(
        agent["lr"].as_float().unwrap(),
        config["agent.lr"].as_f64().unwrap()
    );
    assert_eq!(
        agent["gamma"].as_float().unwrap(),
        config["agent.gamma"].as_f64().unwrap()
    );
}

/// A journal cut part-way (as by a kill, its last line torn) resumes: the runs it holds are
/// not redone and the result is the uninterrupted one.
#[test]
fn a_killed_sweep_resumes_to_the_same_result() {
    let d = tempfile::tempdir().unwrap();
    let s = spec(d.path(), "grid.toml", GRID);
    let whole = sweep(&[&s, "--no-test"]);
    let journal = format!("{s}.journal");
    let text = std::fs::read_to_string(&journal).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8);
    let mut cut = lines[..3].join("\n");
    cut.push('\n');
    cut.push_str(&lines[3][..lines[3].len() / 2]);
    std::fs::write(&journal, cut).unwrap();
    let resumed = sweep(&[&s, "--no-test"]);
    assert_eq!(resumed["resumed_runs"], 3);
    assert_eq!(resumed["trials"], whole["trials"]);
    // Everything is in the journal now: nothing is run again.
    let again = sweep(&[&s, "--no-test"]);
    assert_eq!(again["resumed_runs"], 8);
    assert_eq!(again["trials"], whole["trials"]);
    // Another spec refuses the journal.
    std::fs::write(
        &s,
        std::fs::read_to_string(&s)
            .unwrap()
            .replace("0.3,", "0.35,"),
    )
    .unwrap();
    let out = liveq(&["sweep", "--quiet", &s, "--no-test"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another sweep spec"));
}

/// Successive halving: rungs of 1,000 and 3,000 steps; the best third of the configurations
/// reach the full length; far fewer environment steps than the grid at full length.
#[test]
fn successive_halving_promotes_the_best_and_spends_less() {
    let d = tempfile::tempdir().unwrap();
    let s = spec(
        d.path(),
        "asha.toml",
        "method = \"asha\"\nseeds = 1\ntrain_steps = 3000\nmin_steps = 1000\nreduction = 3\n\
         validate_steps = 500\n\n[space.agent]\nlr = [0.0001, 0.0003, 0.001]\n\
         gamma = [0.3, 0.5, 0.7]\n",
    );
    let plots = d.path().join("plots");
    let v = sweep(&[&s, "--no-test", "--plot", plots.to_str().unwrap()]);
    assert_eq!(v["rungs"], serde_json::json!([1000, 3000]));
    // Trials are told apart by the rung they reached: a legend entry for each.
    let svg = std::fs::read_to_string(plots.join("agent.lr.svg")).unwrap();
    assert!(svg.contains("1,000 training steps") && svg.contains("3,000 training steps"));
    let trials = v["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 9);
    let full: Vec<_> = trials.iter().filter(|t| t["steps"] == 3000).collect();
    assert_eq!(full.len(), 3);
    // Those promoted were the best three of the first rung: every trial left at 1,000 steps
    // did no better there than the promoted ones' first-rung results, which the journal holds.
    let journal = std::fs::read_to_string(format!("{s}.journal")).unwrap();
    let first: Vec<(String, f64)> = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["steps"] == 1000)
        .map(|e| (e["config"].to_string(), e["objective"].as_f64().unwrap()))
        .collect();
    let at_first = |t: &serde_json::Value| {
        let config = t["config"].to_string();
        first.iter().find(|(c, _)| *c == config).unwrap().1
    };
    let worst_promoted = full.iter().map(|t| at_first(t)).fold(f64::MAX, f64::min);
    for t in trials.iter().filter(|t| t["steps"] == 1000) {
        assert!(t["mean"].as_f64().unwrap() <= worst_promoted);
    }
    assert_eq!(v["env_steps"].as_u64().unwrap(), 9 * 1500 + 3 * 3500);
    assert_eq!(v["winner"], trials[0]);
    assert_eq!(trials[0]["steps"], 3000);
}

/// With `promotion = "continue"` the promoted runs go on from where their rung paused them:
/// every rung judges exactly as the restarting sweep's runs of that length do (the same
/// promotions), the runs cut at the first rung give the same results, fewer environment steps
/// are spent, and a sweep killed part-way resumes to the same result.
#[test]
fn successive_halving_can_continue_its_promoted_runs() {
    let d = tempfile::tempdir().unwrap();
    let body = "method = \"asha\"\nseeds = 2\ntrain_steps = 3000\nmin_steps = 1000\nreduction = 3\n\
                validate_steps = 500\n\n[space.agent]\nlr = [0.0001, 0.0003, 0.001]\n\
                gamma = [0.3, 0.5]\n";
    let restart = sweep(&[&spec(d.path(), "restart.toml", body), "--no-test"]);
    let s = spec(
        d.path(),
        "continue.toml",
        &body.replace(
            "reduction = 3\n",
            "reduction = 3\npromotion = \"continue\"\n",
        ),
    );
    let cont = sweep(&[&s, "--no-test"]);
    let at = |v: &serde_json::Value, steps: u64| -> Vec<serde_json::Value> {
        let mut t: Vec<_> = v["trials"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["steps"] == steps)
            .cloned()
            .collect();
        t.sort_by_key(|t| t["index"].as_u64());
        t
    };
    // The same four left at the first rung, with the same results; the same two promoted.
    assert_eq!(at(&cont, 1000).len(), 4);
    assert_eq!(at(&cont, 1000), at(&restart, 1000));
    let promoted = |v: &serde_json::Value| -> Vec<u64> {
        at(v, 3000)
            .iter()
            .map(|t| t["index"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(promoted(&cont), promoted(&restart));
    // Training steps: 12 runs to 1,000, 4 of them on to 3,000; a validation per rung reached.
    assert_eq!(cont["env_steps"].as_u64().unwrap(), 12 * 1500 + 4 * 2500);
    assert_eq!(restart["env_steps"].as_u64().unwrap(), 12 * 1500 + 4 * 3500);
    // Killed after the first rung and part of the second: the paused runs are lost, the
    // journal resumes them (run again from the start to where they are needed).
    let journal = format!("{s}.journal");
    let text = std::fs::read_to_string(&journal).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 16);
    std::fs::write(&journal, lines[..13].join("\n") + "\n").unwrap();
    let resumed = sweep(&[&s, "--no-test"]);
    assert_eq!(resumed["resumed_runs"], 13);
    assert_eq!(resumed["trials"], cont["trials"]);
}

#[test]
fn bad_specs_name_the_key_and_the_line() {
    let d = tempfile::tempdir().unwrap();
    for (body, want) in [
        (
            "train_steps = 3000\ncolour = 1\n[space.agent]\nlr = [0.001]\n",
            "colour",
        ),
        (
            "train_steps = 3000\n[space.agent]\nlr = { log_uniform = [0.001, 0.01] }\n",
            "space.agent.lr",
        ),
        (
            "train_steps = 3000\n[space.agent]\nlr = [-1.0]\n",
            ":5: `space.agent.lr`",
        ),
        (
            "train_steps = 3000\n[space.agent]\nlr = []\n",
            "space.agent.lr",
        ),
        (
            "train_steps = 3000\n[space.agent]\nwidth = [3]\n",
            "space.agent.width",
        ),
        ("train_steps = 3000\n", "no parameter"),
        (
            "train_steps = 10\n[space.agent]\nlr = [0.001]\n",
            ":3: `sweep.train_steps`",
        ),
        (
            "method = \"asha\"\ntrain_steps = 3000\n[space.agent]\nlr = [0.001]\n",
            "sweep.min_steps",
        ),
        (
            "method = \"random\"\ntrain_steps = 3000\n[space.agent]\nlr = [0.001]\n",
            "sweep.trials",
        ),
        (
            "train_steps = 3000\npromotion = \"continue\"\n[space.agent]\nlr = [0.001]\n",
            ":4: `sweep.promotion`",
        ),
        (
            "method = \"asha\"\nmin_steps = 1000\ntrain_steps = 3000\npromotion = \"later\"\n\
             [space.agent]\nlr = [0.001]\n",
            "promotion",
        ),
    ] {
        let s = spec(d.path(), "bad.toml", body);
        let out = liveq(&["sweep", "--quiet", &s]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{body}: {err}");
        assert!(err.contains(want), "{body}: `{err}` lacks `{want}`");
        assert!(err.contains("bad.toml"), "{err}");
    }
}

/// A grid sweep split into shards (each with its own journal) and joined by `liveq merge`
/// gives the unsharded sweep's leaderboard, winner and test-world comparison; `asha` is not
/// sharded; a missing or repeated shard is refused.
#[test]
fn a_sharded_sweep_merges_to_the_whole_sweep() {
    let d = tempfile::tempdir().unwrap();
    let s = spec(d.path(), "grid.toml", GRID);
    let whole = sweep(&[
        &s,
        "--journal",
        d.path().join("whole.journal").to_str().unwrap(),
    ]);
    for n in 1..=3 {
        let mut parts = Vec::new();
        for i in 1..=n {
            let j = d.path().join(format!("part-{i}-of-{n}.journal"));
            let j = j.to_str().unwrap().to_string();
            let shard = format!("{i}/{n}");
            sweep(&[&s, "--shard", &shard, "--journal", &j]);
            parts.push(j);
        }
        let joined = d.path().join(format!("joined-{n}.journal"));
        let joined = joined.to_str().unwrap();
        let mut args = vec!["merge", "--quiet", "--journal", joined];
        args.extend(parts.iter().map(String::as_str));
        let out = liveq(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let merged = sweep(&[&s, "--journal", joined]);
        assert_eq!(merged["resumed_runs"], 8, "{n} shards: nothing run again");
        for key in ["trials", "winner", "test", "env_steps", "incomplete"] {
            assert_eq!(merged[key], whole[key], "{n} shards: {key}");
        }
    }
    let p = |name: &str| d.path().join(name).to_str().unwrap().to_string();
    for (parts, want) in [
        (
            vec![p("part-1-of-3.journal"), p("part-2-of-3.journal")],
            "missing shards: 3/3",
        ),
        (
            vec![p("part-1-of-2.journal"), p("part-1-of-2.journal")],
            "given twice",
        ),
        (
            vec![p("part-1-of-2.journal"), p("part-2-of-3.journal")],
            "another sweep",
        ),
    ] {
        let joined = p("bad.journal");
        let mut args = vec!["merge", "--journal", joined.as_str()];
        args.extend(parts.iter().map(String::as_str));
        let out = liveq(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "`{err}` lacks `{want}`");
    }
    let a = spec(
        d.path(),
        "asha.toml",
        "method = \"asha\"\ntrain_steps = 3000\nmin_steps = 1000\n[space.agent]\n\
         lr = [0.001, 0.0003]\n",
    );
    let out = liveq(&["sweep", "--quiet", &a, "--shard", "1/2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one machine"));
}

/// Ctrl-C during a sweep: the runs under way are dropped, the finished ones stay in the
/// journal, the JSON is written marked incomplete and the exit code is 130; the same command
/// then resumes from the journal.
#[test]
fn ctrl_c_stops_a_sweep_and_keeps_its_journal() {
    use std::time::{Duration, Instant};
    let d = tempfile::tempdir().unwrap();
    // Quick configurations first in the journal, then slow ones still running at the signal.
    let s = spec(
        d.path(),
        "slow.toml",
        "method = \"grid\"\nseeds = 1\ntrain_steps = 1500\nvalidate_steps = 500\n\n\
         [space.agent]\nlr = [0.001]\nhidden = [[16], [4096, 4096, 4096]]\n",
    );
    let json = d.path().join("out.json");
    let journal = format!("{s}.journal");
    let child = common::spawn(
        [
            "sweep",
            "--quiet",
            "--no-test",
            "--threads",
            "2",
            "--json",
            json.to_str().unwrap(),
            &s,
        ],
        false,
    );
    let t = Instant::now();
    while std::fs::read_to_string(&journal).map_or(true, |j| j.lines().count() < 1) {
        assert!(t.elapsed() < Duration::from_secs(60), "no run finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = common::wait_within(child, Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("resume"), "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["incomplete"], true);
    assert_eq!(
        std::fs::read_to_string(&journal).unwrap().lines().count(),
        1
    );
}

/// The specs shipped in examples/sweeps (the ones the docs run) are valid: every listed value
/// makes a valid scenario, and the grid and successive-halving examples search the same space.
#[test]
fn the_shipped_example_specs_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sweeps");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let spec = liveq::sweep::spec::SweepSpec::load(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!spec.configs().is_empty(), "{}", path.display());
        names.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    for shipped in [
        "clickbait-horizon.toml",
        "default-asha.toml",
        "default-grid.toml",
        "default-lr-gamma.toml",
    ] {
        assert!(names.iter().any(|n| n == shipped), "{shipped} missing");
    }
    let load = |n: &str| liveq::sweep::spec::SweepSpec::load(&dir.join(n)).unwrap();
    assert_eq!(
        load("default-asha.toml").configs(),
        load("default-grid.toml").configs()
    );
}
