//! The learner through the command line: it learns a tiny world, reports its figures in JSON,
//! saves and loads checkpoints, and refuses what it cannot do with exit code 2.

mod common;

use common::{cpu_run, json, liveq};

const TINY: &str = "tests/fixtures/valid/learnable.toml";

#[test]
fn dqn_learns_a_tiny_world_and_beats_random_by_far() {
    let eval = |policy: &str| {
        let v = cpu_run(TINY, policy, 12_000, 4_000);
        v["eval"]["reward_per_step"].as_f64().unwrap()
    };
    let (dqn, random) = (eval("dqn"), eval("random"));
    assert!(dqn > 1.5 * random, "dqn {dqn} vs random {random}");
}

#[test]
fn dqn_json_has_the_learner_keys() {
    let v = json(&[
        "run",
        "--scenario",
        TINY,
        "--policy",
        "dqn",
        "--device",
        "cpu",
        "--steps",
        "3000",
        "--eval-steps",
        "500",
        "--quiet",
        "--json",
        "-",
    ]);
    assert_eq!(v["device"], "cpu");
    assert_eq!(v["device_reason"], "cpu: requested");
    assert!(v["updates"].as_u64().unwrap() > 1000);
    assert!(v["updates_per_second"].as_f64().unwrap() > 0.0);
    assert!(v["td_loss"].as_f64().unwrap().is_finite());
    assert!(v["mean_q"].as_f64().unwrap().is_finite());
    let eps = v["epsilon"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&eps));
    assert_eq!(v["eval"]["steps"], 500);
    // Baselines carry the same keys, empty.
    let b = json(&[
        "run",
        "--scenario",
        TINY,
        "--policy",
        "random",
        "--steps",
        "100",
        "--quiet",
        "--json",
        "-",
    ]);
    assert_eq!(b["device"], "cpu");
    assert!(b["device_reason"].is_null());
    assert_eq!(b["updates"], 0);
    assert!(b["td_loss"].is_null());
}

#[test]
fn checkpoints_round_trip_and_refuse_another_shape() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.ckpt");
    let p = path.to_str().unwrap();
    let base = [
        "run",
        "--scenario",
        TINY,
        "--policy",
        "dqn",
        "--device",
        "flex",
        "--quiet",
        "--json",
        "-",
    ];
    let first = json(&[&base[..], &["--steps", "3000", "--save", p]].concat());
    assert!(path.exists(), "no checkpoint written");
    // Loading restores the counters: greedy evaluation of the loaded agent works and training
    // continues from the saved update count.
    let loaded = json(&[&base[..], &["--steps", "1000", "--load", p]].concat());
    assert!(loaded["updates"].as_u64().unwrap() > first["updates"].as_u64().unwrap());

    let out = liveq(&[
        "run", "--policy", "dqn", "--device", "flex", "--steps", "10", "--load", p,
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a checkpoint of another shape must be refused"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("agent.ckpt"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_learner_input_exits_2() {
    for args in [
        &["run", "--policy", "dqn", "--device", "tpu", "--steps", "10"][..],
        &[
            "run", "--policy", "random", "--steps", "10", "--save", "x.ckpt",
        ][..],
        &[
            "run", "--policy", "random", "--steps", "10", "--load", "x.ckpt",
        ][..],
        &[
            "run",
            "--policy",
            "dqn",
            "--device",
            "flex",
            "--steps",
            "10",
            "--load",
            "/no/such.ckpt",
        ][..],
    ] {
        let out = liveq(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn an_invalid_agent_setting_names_its_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[scenario]\nname = \"x\"\n\n[agent]\ngamma = 1.5\n").unwrap();
    let out = liveq(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:5: `agent.gamma`"), "{err}");
}

/// Early stopping: validations every 1,000 steps on the validation world; the kept weights are
/// those of the best validation (the first of the highest, with `--min-delta 0`), training
/// stops `--patience` validations after it, the checkpoint holds the best weights' counters,
/// and the test world still evaluates them. Bad settings exit 2 naming the flag.
#[test]
fn early_stopping_keeps_the_best_validated_weights() {
    let d = tempfile::tempdir().unwrap();
    let ck = d.path().join("best.dqn");
    let ck_arg = ck.to_str().unwrap();
    let v = json(&[
        "run",
        "--scenario",
        TINY,
        "--policy",
        "dqn",
        "--device",
        "cpu",
        "--steps",
        "12000",
        "--eval-steps",
        "1000",
        "--validate-every",
        "1000",
        "--validate-steps",
        "600",
        "--patience",
        "2",
        "--save",
        ck_arg,
        "--quiet",
        "--json",
        "-",
    ]);
    let points = v["validation"].as_array().unwrap();
    assert!(!points.is_empty());
    let values: Vec<f64> = points
        .iter()
        .map(|p| p["reward_per_step"].as_f64().unwrap())
        .collect();
    for (i, p) in points.iter().enumerate() {
        assert_eq!(p["step"].as_u64().unwrap(), 1000 * (i as u64 + 1));
        assert!(p["reward_per_session"].as_f64().unwrap() > 0.0);
    }
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let best = values.iter().position(|&x| x == max).unwrap();
    assert_eq!(
        v["best_step"].as_u64().unwrap(),
        1000 * (best as u64 + 1),
        "{values:?}"
    );
    let after = points.len() - best - 1;
    if v["stopped_early"].as_bool().unwrap() {
        assert_eq!(after, 2, "{values:?}");
    } else {
        assert!(after < 2 && points.len() == 12, "{values:?}");
    }
    let header = liveq::agent::dqn::read_checkpoint_header(&ck).unwrap();
    assert!(header.env_steps <= v["best_step"].as_u64().unwrap());
    assert_eq!(header.updates, v["updates"].as_u64().unwrap());
    assert!(v["eval"]["reward_per_step"].as_f64().unwrap() > 0.0);
    for (args, flag) in [
        (vec!["--validate-every", "0"], "--validate-every"),
        (vec!["--validate-every", "99999"], "--validate-every"),
        (
            vec!["--validate-every", "100", "--patience", "0"],
            "--patience",
        ),
        (
            vec!["--validate-every", "100", "--min-delta", "NaN"],
            "--min-delta",
        ),
    ] {
        let mut all = vec![
            "run",
            "--scenario",
            TINY,
            "--policy",
            "dqn",
            "--steps",
            "5000",
        ];
        all.extend(args);
        let out = liveq(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(flag), "{err}");
    }
    let out = liveq(&["run", "--policy", "random", "--validate-every", "100"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `[agent] norm = "layer"` learns the tiny world as the plain network does (well above
/// random); `norm = "batch"` is refused with its reason, naming the key and the line.
#[test]
fn layer_norm_learns_and_batch_norm_is_refused_with_its_reason() {
    let d = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(TINY).unwrap();
    let layer = d.path().join("layer.toml");
    std::fs::write(&layer, format!("{base}norm = \"layer\"\n")).unwrap();
    let dqn = cpu_run(layer.to_str().unwrap(), "dqn", 12_000, 4_000)["eval"]["reward_per_step"]
        .as_f64()
        .unwrap();
    let random = cpu_run(TINY, "random", 12_000, 4_000)["eval"]["reward_per_step"]
        .as_f64()
        .unwrap();
    assert!(dqn > 1.5 * random, "layer norm {dqn} vs random {random}");
    let batch = d.path().join("batch.toml");
    std::fs::write(&batch, format!("{base}norm = \"batch\"\n")).unwrap();
    let out = liveq(&["check", batch.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let line = base.lines().count() + 1;
    assert!(err.contains(&format!(":{line}: `agent.norm`")), "{err}");
    assert!(err.contains("\"layer\""), "{err}");
}
