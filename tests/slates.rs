//! Slates (a feed of K streams): a slate of one is exactly the single recommendation of a
//! recorded run, the oracle's slate is the best by enumeration, the world refuses malformed
//! slates, and policies, metrics and re-ranking work on a feed.

mod common;

use common::{cpu_run, json};
use liveq::agent::{SlateSpec, make_policy};
use liveq::engine::Engine;
use liveq::scenario::Scenario;
use liveq::sim::{OracleView, StepError, World};

/// Every value of `recorded` (a run's JSON recorded with single recommendations) is in
/// `now` unchanged, timing keys aside. When a change is meant to move results, regenerate the
/// fixtures with the command in their test and say so.
fn same_results(recorded: &serde_json::Value, now: &serde_json::Value, path: &str) {
    match recorded {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if k.contains("second") || k == "device_reason" {
                    continue;
                }
                let got = now
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} is missing"));
                same_results(v, got, &format!("{path}.{k}"));
            }
        }
        other => assert_eq!(other, now, "{path} moved"),
    }
}

#[test]
fn a_slate_of_one_reproduces_recorded_single_recommendation_runs() {
    // Recorded with: liveq run --scenario default --policy P --steps 20000 --eval-steps 5000
    //   --seed 3 --json tests/fixtures/recorded/default-P.json
    for policy in [
        "random",
        "popular",
        "bandit",
        "myopic-oracle",
        "quality-oracle",
    ] {
        let path = format!(
            "{}/tests/fixtures/recorded/default-{policy}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let recorded: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let now = json(&[
            "run",
            "--scenario",
            "default",
            "--policy",
            policy,
            "--steps",
            "20000",
            "--eval-steps",
            "5000",
            "--seed",
            "3",
            "--json",
            "-",
            "--quiet",
        ]);
        same_results(&recorded, &now, policy);
    }
}

fn tiny(slate_size: usize, examine: &str) -> Scenario {
    let text = format!(
        r#"
[scenario]
name = "tiny"
[streamers]
count = 6
days_per_week = 7.0
stream_hours = 20.0
skip_probability = 0.0
clickbait_share = 0.3
[viewers]
count = 50
[response]
slate_size = {slate_size}
{examine}
"#
    );
    Scenario::parse(&text, "tiny.toml").unwrap()
}

/// Every ordered slate of `k` distinct streams of `live`.
fn all_slates(live: &[u32], k: usize, prefix: &mut Vec<u32>, out: &mut Vec<Vec<u32>>) {
    if prefix.len() == k {
        out.push(prefix.clone());
        return;
    }
    for &i in live {
        if !prefix.contains(&i) {
            prefix.push(i);
            all_slates(live, k, prefix, out);
            prefix.pop();
        }
    }
}

#[test]
fn the_oracle_slate_is_the_best_by_enumeration() {
    // Decreasing examination, examination out of order, and all positions alike.
    for (k, examine) in [
        (2, "position_decay = 0.6"),
        (3, "examine = [0.5, 1.0, 0.2]"),
        (3, ""),
        (1, "examine = [0.7]"),
    ] {
        let scenario = tiny(k, examine);
        let mut world = World::new(&scenario, 7);
        let mut policy = make_policy("random", &scenario, 7).unwrap();
        let mut checked = 0;
        let mut slate = Vec::new();
        for _ in 0..400 {
            let Some(v) = world.next_decision() else {
                break;
            };
            let obs = world.observe();
            if obs.live.len() >= k {
                let oracle = OracleView::new(&world);
                oracle.best_slate(v, k, &mut slate);
                let best = oracle.slate_value(v, &slate);
                let mut every = Vec::new();
                all_slates(obs.live, k, &mut Vec::new(), &mut every);
                let top = every
                    .iter()
                    .map(|s| oracle.slate_value(v, s))
                    .fold(f64::NEG_INFINITY, f64::max);
                assert!(
                    best >= top - 1e-12 * top.abs().max(1.0),
                    "k={k} {examine}: oracle {best} < best {top}"
                );
                if k == 1 {
                    // The reported best value is the value of the slate returned.
                    assert!((oracle.best_slate_value(v) - best).abs() < 1e-12);
                }
                checked += 1;
            }
            let spec = SlateSpec {
                size: k,
                rerank: Default::default(),
            };
            let obs = world.observe();
            let mut shown = Vec::new();
            if !obs.live.is_empty() {
                policy.rank(&obs, None, &spec, &mut shown);
            }
            world.respond_slate(&shown).unwrap();
        }
        assert!(checked > 100, "only {checked} decisions checked");
    }
}

#[test]
fn the_world_refuses_malformed_slates() {
    let scenario = tiny(3, "");
    let mut world = World::new(&scenario, 1);
    world.next_decision().unwrap();
    let live = world.live().to_vec();
    assert!(live.len() >= 4, "the tiny world keeps its streams live");
    let err = world.respond_slate(&live[..2]).unwrap_err();
    assert_eq!(err, StepError::SlateSize { got: 2, want: 3 });
    let err = world
        .respond_slate(&[live[0], live[1], live[0]])
        .unwrap_err();
    assert_eq!(err, StepError::Repeated(live[0]));
    assert!(world.respond_slate(&[live[0], live[1], 99]).is_err());
    // Still pending after refusals; a good slate is answered.
    let o = world.respond_slate(&live[..3]).unwrap();
    assert!(o.position.is_none() || live[..3].contains(&o.streamer.unwrap()));
}

#[test]
fn every_policy_fills_the_feed_with_distinct_live_streams() {
    let scenario = Scenario::load("feed").unwrap();
    let k = scenario.params.response.slate_size;
    assert!(k >= 6);
    for name in [
        "random",
        "popular",
        "bandit",
        "myopic-oracle",
        "quality-oracle",
    ] {
        let policy = make_policy(name, &scenario, 2).unwrap();
        let mut engine = Engine::new(&scenario, 2, policy);
        // The engine refuses (with an error) any slate the world would not accept.
        engine.run(3_000).unwrap_or_else(|e| panic!("{name}: {e}"));
        engine.world().check_invariants().unwrap();
        let t = engine.metrics().totals(engine.world());
        let r = &t.rates.ranking;
        assert!(
            r.click_through > 0.0 && r.mean_chosen_position >= 1.0,
            "{name}"
        );
        assert!(
            r.mean_chosen_position <= k as f64 && r.intra_list_diversity > 0.0,
            "{name}"
        );
        assert!((0.0..=1.0).contains(&r.ndcg_at_k), "{name}");
    }
}

#[test]
fn the_oracle_ranks_better_than_chance_and_the_top_of_the_slate_is_chosen_most() {
    let scenario = Scenario::load("feed").unwrap();
    let run = |name: &str| {
        let mut engine = Engine::new(&scenario, 4, make_policy(name, &scenario, 4).unwrap());
        engine.run(20_000).unwrap();
        engine.metrics().totals(engine.world())
    };
    let (oracle, random) = (run("myopic-oracle"), run("random"));
    assert!(oracle.rates.ranking.ndcg_at_k > random.rates.ranking.ndcg_at_k + 0.2);
    assert!(oracle.rates.reward_per_step > random.rates.reward_per_step);
    // Position bias: the oracle puts its best on top, where attention is highest.
    assert!(oracle.rates.ranking.mean_chosen_position < random.rates.ranking.mean_chosen_position);
}

#[test]
fn reranking_raises_diversity_at_a_price_and_weight_zero_changes_nothing() {
    let base = Scenario::load("feed").unwrap();
    let run = |rerank: &str| {
        let mut s = base.clone();
        s.params.feed.rerank = rerank.parse().unwrap();
        let mut engine = Engine::new(&s, 6, make_policy("myopic-oracle", &s, 6).unwrap());
        engine.run(10_000).unwrap();
        engine.metrics().totals(engine.world())
    };
    let plain = run("none");
    let zero = run("mmr:0");
    let mmr = run("mmr:0.5");
    let dpp = run("dpp:0.5");
    assert_eq!(plain, zero, "weight 0 is the policy's own order");
    for (name, t) in [("mmr", &mmr), ("dpp", &dpp)] {
        assert!(
            t.rates.ranking.intra_list_diversity > plain.rates.ranking.intra_list_diversity,
            "{name} did not diversify"
        );
    }
}

#[test]
fn the_learner_ranks_a_feed_and_beats_random() {
    let fixture = "tests/fixtures/valid/learnable_feed.toml";
    let d = tempfile::tempdir().unwrap();
    let eval = |scenario: &str, policy: &str| {
        let v = cpu_run(scenario, policy, 12_000, 4_000);
        assert_eq!(v["slate_size"], 2);
        let e = &v["eval"];
        (
            e["reward_per_step"].as_f64().unwrap(),
            e["ndcg_at_k"].as_f64().unwrap(),
            e["mean_chosen_position"].as_f64().unwrap(),
        )
    };
    let random = eval(fixture, "random");
    // Item-wise Q, and SlateQ (a fitted click model) with each builder and target.
    let base = std::fs::read_to_string(fixture).unwrap();
    let variants = [
        ("itemwise", ""),
        ("slateq", "slate_value = \"slateq\"\n"),
        (
            "slateq greedy sarsa",
            "slate_value = \"slateq\"\nslate_builder = \"greedy\"\nslate_target = \"sarsa\"\n",
        ),
    ];
    for (name, keys) in variants {
        let path = d.path().join(format!("{}.toml", name.replace(' ', "-")));
        std::fs::write(&path, format!("{base}{keys}")).unwrap();
        let dqn = eval(path.to_str().unwrap(), "dqn");
        assert!(
            dqn.0 > 1.3 * random.0,
            "{name}: reward: dqn {dqn:?} vs random {random:?}"
        );
        assert!(
            dqn.1 > random.1 + 0.1,
            "{name}: NDCG: dqn {dqn:?} vs random {random:?}"
        );
        // What it puts on top is what gets tapped.
        assert!(
            dqn.2 < random.2,
            "{name}: position: dqn {dqn:?} vs random {random:?}"
        );
    }
}
