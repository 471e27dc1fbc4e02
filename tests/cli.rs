//! The `liveq` binary as scripts use it: exit codes, JSON keys, CSV shape, determinism.

mod common;

use common::{json, liveq};

const KEYS: &[&str] = &[
    "scenario",
    "policy",
    "seed",
    "steps",
    "reward_per_step",
    "total_reward",
    "acceptance_rate",
    "watch_minutes",
    "sessions",
    "mean_session_reward",
    "mean_session_length",
    "return_rate",
    "churned",
    "coverage",
    "topic_entropy",
    "exposure_gini",
    "myopic_regret_per_step",
    "steps_per_second",
    "wall_seconds",
];

#[test]
fn json_has_the_documented_keys() {
    let v = json(&[
        "run",
        "--policy",
        "popular",
        "--steps",
        "5000",
        "--json",
        "-",
        "--eval-steps",
        "2000",
    ]);
    for k in KEYS {
        assert!(v.get(k).is_some(), "missing key {k}");
    }
    assert_eq!(v["steps"], 5000);
    assert_eq!(v["policy"], "popular");
    assert_eq!(v["scenario"], "default");
    let eval = &v["eval"];
    for k in KEYS
        .iter()
        .filter(|k| !["scenario", "policy", "seed"].contains(k))
    {
        assert!(eval.get(k).is_some(), "missing eval key {k}");
    }
    assert_eq!(eval["steps"], 2000);
}

#[test]
fn json_is_identical_apart_from_timing_for_the_same_seed() {
    let run = |seed: &str| {
        let mut v = json(&[
            "run", "--policy", "bandit", "--steps", "20000", "--seed", seed, "--json", "-",
        ]);
        let o = v.as_object_mut().unwrap();
        assert!(o.remove("steps_per_second").is_some());
        assert!(o.remove("wall_seconds").is_some());
        serde_json::to_string(&v).unwrap()
    };
    assert_eq!(run("5"), run("5"));
    assert_ne!(run("5"), run("6"));
}

#[test]
fn csv_has_a_header_and_one_row_per_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("series.csv");
    let out = liveq(&[
        "run",
        "--policy",
        "random",
        "--steps",
        "12000",
        "--quiet",
        "--csv",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Default windows are 5,000 steps: two full windows and a partial one.
    assert_eq!(lines.len(), 1 + 3, "{text}");
    let header: Vec<&str> = lines[0].split(',').collect();
    for col in [
        "phase",
        "step",
        "reward_per_step",
        "coverage",
        "exposure_gini",
        "daily_active_viewers",
    ] {
        assert!(header.contains(&col), "no column {col}");
    }
    for l in &lines[1..] {
        assert_eq!(l.split(',').count(), header.len());
    }
    assert!(lines[3].starts_with("train,2,12000,"), "{}", lines[3]);
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let cases: &[&[&str]] = &[
        &["run", "--policy", "nope", "--steps", "10"],
        &["run", "--policy", "random"],
        &["run", "--policy", "random", "--steps", "ten"],
        &["run", "--policy", "random", "--steps", "0"],
        &[
            "run",
            "--policy",
            "random",
            "--steps",
            "10",
            "--scenario",
            "tests/fixtures/invalid/zero_viewers.toml",
        ],
        &[
            "run",
            "--policy",
            "random",
            "--steps",
            "10",
            "--scenario",
            "missing.toml",
        ],
        &["check", "tests/fixtures/invalid/probability.toml"],
        &["--no-such-flag"],
    ];
    for args in cases {
        let out = liveq(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.trim().is_empty(), "{args:?} printed no message");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        if args.contains(&"tests/fixtures/invalid/zero_viewers.toml") {
            assert!(
                err.contains("zero_viewers.toml:3: `viewers.count`"),
                "{err}"
            );
        }
    }
}

#[test]
fn check_accepts_valid_files_and_lists_every_bad_one() {
    let out = liveq(&[
        "check",
        "scenarios/default.toml",
        "scenarios/clickbait.toml",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = liveq(&[
        "check",
        "tests/fixtures/invalid/probability.toml",
        "tests/fixtures/invalid/bandit.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gift_probability") && err.contains("bandit.kind"),
        "{err}"
    );
}

#[test]
fn an_unwritable_output_is_refused_before_the_run_or_fails_it() {
    // A folder that does not exist is bad input, found before any work.
    let out = liveq(&[
        "run",
        "--policy",
        "random",
        "--steps",
        "100",
        "--quiet",
        "--json",
        "/no/such/dir/x.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/dir"));
    // A write that fails at the end (a full device) is a failure of the run, never success.
    if std::path::Path::new("/dev/full").exists() {
        let out = liveq(&[
            "run",
            "--policy",
            "random",
            "--steps",
            "100",
            "--quiet",
            "--json",
            "/dev/full",
        ]);
        assert!(matches!(out.status.code(), Some(1 | 2)), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("/dev/full"));
    }
}

#[test]
fn scenarios_lists_the_bundled_ones_with_descriptions() {
    let out = liveq(&["scenarios"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["default", "clickbait", "prime_time", "superstar"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing"));
        assert!(line.len() > name.len() + 10, "{name} has no description");
    }
}

#[test]
fn completions_and_the_manual_page_cover_the_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = liveq(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        for word in ["bench", "checkpoint-every", "eval-steps"] {
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
    }
    assert_eq!(liveq(&["completions", "tcsh"]).status.code(), Some(2));
    let out = liveq(&["man"]);
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") && page.contains(".TH liveq 1"),
        "{page}"
    );
    for sub in ["run", "bench", "check", "completions"] {
        assert!(page.contains(sub), "the manual page lacks {sub}");
    }
}
