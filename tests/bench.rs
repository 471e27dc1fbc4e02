//! `liveq bench` end to end on a tiny scenario: JSON, markdown and images are written and
//! well formed, and every bundled scenario passes `liveq check`.

mod common;

use common::liveq;

#[test]
fn bench_on_a_tiny_scenario_writes_json_markdown_and_images() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let md = dir.path().join("bench.md");
    let plots = dir.path().join("plots");
    let out = liveq(&[
        "bench",
        "--scenario",
        "tests/fixtures/valid/night_gap.toml",
        "--policies",
        "random,popular",
        "--seeds",
        "2",
        "--train-steps",
        "4000",
        "--eval-steps",
        "2000",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
        "--plot",
        plots.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["runs"].as_array().unwrap().len(), 4);
    let table = v["table"].as_array().unwrap();
    assert_eq!(table.len(), 2);
    for row in table {
        assert_eq!(row["seeds"], 2);
        let m = &row["metrics"]["reward_per_step"];
        assert!(m["mean"].as_f64().unwrap() >= 0.0);
        assert!(m["ci95"].as_f64().unwrap() >= 0.0);
    }
    // The two seeds of a policy differ (different worlds), so each interval is wider than zero.
    let seeds: Vec<u64> = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seed"].as_u64().unwrap())
        .collect();
    assert!(seeds.contains(&42) && seeds.contains(&43), "{seeds:?}");

    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.starts_with("### night_gap"), "{text}");
    assert!(
        text.contains("| `random` | 2 |") && text.contains("| `popular` | 2 |"),
        "{text}"
    );

    for name in ["night_gap-learning.svg", "night_gap-comparison.svg"] {
        let svg = std::fs::read_to_string(plots.join(name)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{name}"
        );
        assert!(
            svg.contains("random") && svg.contains("popular"),
            "{name} has no legend"
        );
    }
    // The comparison shows the long game as well as the next click.
    let svg = std::fs::read_to_string(plots.join("night_gap-comparison.svg")).unwrap();
    for panel in ["reward/step", "reward/session"] {
        assert!(svg.contains(panel), "the comparison has no {panel} panel");
    }
}

#[test]
fn bench_refuses_an_unknown_policy_with_exit_2() {
    let out = liveq(&["bench", "--policies", "random,nope", "--seeds", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

#[test]
fn every_bundled_and_example_scenario_passes_check() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = ["scenarios", "examples/scenarios"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    let mut args = vec!["check"];
    args.extend(files.iter().map(|s| s.as_str()));
    let out = liveq(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A copy of the night_gap fixture under another name, asking the bench for `steps` training
/// steps.
fn short_world(dir: &std::path::Path, name: &str, steps: u64) -> String {
    let text = std::fs::read_to_string("tests/fixtures/valid/night_gap.toml")
        .unwrap()
        .replace("name = \"night_gap\"", &format!("name = \"{name}\""));
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, format!("{text}\n[bench]\ntrain_steps = {steps}\n")).unwrap();
    path.display().to_string()
}

fn bench_json(args: &[&str], json: &std::path::Path) -> serde_json::Value {
    let mut all = vec!["bench", "--policies", "random", "--seeds", "1"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--eval-steps", "1000", "--quiet", "--json"]);
    all.push(json.to_str().unwrap());
    let out = liveq(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[test]
fn each_scenario_trains_as_long_as_it_asks_unless_the_command_line_says() {
    let dir = tempfile::tempdir().unwrap();
    let a = short_world(dir.path(), "short", 3000);
    let b = short_world(dir.path(), "longer", 5000);
    let json = dir.path().join("bench.json");
    let md = dir.path().join("bench.md");

    let v = bench_json(
        &["--scenario", &a, &b, "--markdown", md.to_str().unwrap()],
        &json,
    );
    let steps = |v: &serde_json::Value, key: &str| -> Vec<(String, u64)> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["scenario"].as_str().unwrap().to_string(),
                    r["train_steps"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let want = vec![("short".to_string(), 3000), ("longer".to_string(), 5000)];
    assert_eq!(steps(&v, "runs"), want);
    assert_eq!(steps(&v, "table"), want);
    // No single length for the whole bench: the top level says so rather than pick one.
    assert!(v["train_steps"].is_null(), "{}", v["train_steps"]);
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("### short (3,000 training steps)"), "{text}");
    assert!(text.contains("### longer (5,000 training steps)"), "{text}");

    let v = bench_json(&["--scenario", &a, &b, "--train-steps", "2000"], &json);
    let want = vec![("short".to_string(), 2000), ("longer".to_string(), 2000)];
    assert_eq!(steps(&v, "runs"), want);
    assert_eq!(v["train_steps"], 2000);
}

/// A bench split into N shards (N = 1…4) and merged gives exactly the unsharded bench's table
/// and JSON (run wall times aside) and the same images; missing, repeated or foreign parts
/// are refused with exit 2; `--shard auto` reads a Slurm array's or an Indexed Job's index.
#[test]
fn sharded_and_merged_is_the_unsharded_bench() {
    let d = tempfile::tempdir().unwrap();
    let p = |name: &str| d.path().join(name).to_str().unwrap().to_string();
    let plan = [
        "bench",
        "--scenario",
        "tests/fixtures/valid/learnable.toml",
        "tests/fixtures/valid/night_gap.toml",
        "--policies",
        "random,popular,bandit",
        "--seeds",
        "2",
        "--train-steps",
        "1500",
        "--eval-steps",
        "400",
        "--threads",
        "2",
        "--quiet",
    ];
    let run = |extra: &[&str]| {
        let mut args = plan.to_vec();
        args.extend(extra);
        let out = liveq(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (whole_json, whole_md, whole_plot) = (p("whole.json"), p("whole.md"), p("whole-plots"));
    std::fs::create_dir(&whole_plot).unwrap();
    run(&[
        "--json",
        &whole_json,
        "--markdown",
        &whole_md,
        "--plot",
        &whole_plot,
    ]);
    let untimed = |path: &str| {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for r in v["runs"].as_array_mut().unwrap() {
            r.as_object_mut().unwrap().remove("wall_seconds");
        }
        v
    };
    for n in 1..=4 {
        let mut parts = Vec::new();
        for i in 1..=n {
            let part = p(&format!("part-{i}-of-{n}.json"));
            run(&["--shard", &format!("{i}/{n}"), "--json", &part]);
            parts.push(part);
        }
        parts.reverse(); // any order
        let (json, md, plots) = (p("m.json"), p("m.md"), p(&format!("plots-{n}")));
        std::fs::create_dir(&plots).unwrap();
        let mut args = vec!["merge", "--quiet", "--json", &json, "--markdown", &md];
        args.extend(["--plot", &plots]);
        args.extend(parts.iter().map(String::as_str));
        let out = liveq(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&md).unwrap(),
            std::fs::read_to_string(&whole_md).unwrap(),
            "{n} shards: markdown"
        );
        assert_eq!(untimed(&json), untimed(&whole_json), "{n} shards: JSON");
        let names = |dir: &str| {
            let mut v: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&plots), names(&whole_plot));
    }
    let refused = |args: &[&str], want: &str| {
        let out = liveq(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: `{err}` lacks `{want}`");
    };
    let (a, b, c) = (
        p("part-1-of-3.json"),
        p("part-2-of-3.json"),
        p("part-3-of-3.json"),
    );
    refused(&["merge", &a, &b], "missing shards: 3/3");
    refused(&["merge", &a, &a, &b, &c], "given twice");
    refused(
        &["merge", &a, &b, &c, &p("part-1-of-2.json")],
        "another plan",
    );
    refused(&["merge", &whole_json], "not a liveq part");
    let mut args = plan.to_vec();
    args.extend(["--shard", "0/3", "--json", "x.json"]);
    refused(&args, "--shard 0/3");
    // A Slurm array task and an Indexed Job's pod find their shard in the environment.
    let part_of = |envs: &[(&str, &str)], extra: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_liveq"));
        let out_path = p("auto.json");
        cmd.args(plan)
            .args(["--shard", "auto", "--json", &out_path])
            .args(extra);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
        (
            v["part"]["shard"].as_u64().unwrap(),
            v["part"]["shards"].as_u64().unwrap(),
        )
    };
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
    ];
    assert_eq!(part_of(&slurm, &[]), (2, 3));
    assert_eq!(
        part_of(&[("JOB_COMPLETION_INDEX", "0")], &["--shards", "4"]),
        (1, 4)
    );
}

/// `--ablate features` runs the learner on each scenario as it is and without each feature
/// family it reads, one table row per variant.
#[test]
fn ablation_runs_the_learner_without_each_feature_family() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("ablate.json");
    let out = liveq(&[
        "bench",
        "--scenario",
        "social",
        "--ablate",
        "features",
        "--seeds",
        "1",
        "--train-steps",
        "600",
        "--eval-steps",
        "300",
        "--device",
        "cpu",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let mut rows: Vec<(String, String)> = v["table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["scenario"].as_str().unwrap().to_string(),
                r["policy"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    let want = [
        "social",
        "social~no-demographics",
        "social~no-history",
        "social~no-social",
    ];
    assert_eq!(rows.len(), want.len(), "{rows:?}");
    for ((scenario, policy), w) in rows.iter().zip(want) {
        assert_eq!((scenario.as_str(), policy.as_str()), (w, "dqn"));
    }
}
