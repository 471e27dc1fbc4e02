//! The world has signal to learn: the baselines rank as the design says, on fixed seeds.
//! Statistical checks with margins, sized to run in a few seconds.

use liveq::engine::Engine;
use liveq::metrics::Totals;
use liveq::scenario::Scenario;

fn totals(scenario: &str, policy: &str, seed: u64, steps: u64) -> Totals {
    let s = Scenario::load(scenario).unwrap();
    let mut e = Engine::new(
        &s,
        seed,
        liveq::agent::make_policy(policy, &s, seed).unwrap(),
    );
    e.run(steps).unwrap();
    e.metrics().totals(e.world())
}

#[test]
fn oracle_beats_popular_beats_random_on_the_default() {
    for seed in [1, 2] {
        let r = totals("default", "random", seed, 100_000)
            .rates
            .reward_per_step;
        let p = totals("default", "popular", seed, 100_000)
            .rates
            .reward_per_step;
        let o = totals("default", "myopic-oracle", seed, 100_000)
            .rates
            .reward_per_step;
        assert!(p > 1.1 * r, "seed {seed}: popular {p} vs random {r}");
        assert!(o > 1.5 * p, "seed {seed}: oracle {o} vs popular {p}");
    }
}

#[test]
fn the_myopic_oracle_pays_for_clickbait_in_sessions_and_returns() {
    let m = totals("clickbait", "myopic-oracle", 1, 100_000);
    let q = totals("clickbait", "quality-oracle", 1, 100_000);
    assert!(
        m.rates.reward_per_step > q.rates.reward_per_step,
        "myopic wins the next click"
    );
    assert!(m.rates.mean_session_length < 0.8 * q.rates.mean_session_length);
    assert!(m.rates.return_rate < q.rates.return_rate - 0.1);
    assert!(m.rates.mean_session_reward < q.rates.mean_session_reward);
}

#[test]
fn popular_concentrates_exposure_and_random_spreads_it() {
    let p = totals("superstar", "popular", 1, 60_000);
    let r = totals("superstar", "random", 1, 60_000);
    assert!(p.diversity.exposure_gini > r.diversity.exposure_gini + 0.3);
    assert!(p.diversity.coverage < r.diversity.coverage);
    assert!(r.diversity.coverage > 0.95);
}

/// The content-based baselines find signal where streams come with content and audiences say
/// little: on `multimodal`, `content-knn` (reading only the viewer's log and the streams'
/// content) and `mf` (factors trained online, frozen for the test phase) both beat `random`
/// on the evaluation world, seed after seed.
#[test]
fn content_knn_and_mf_beat_random_on_multimodal() {
    let s = Scenario::load("multimodal").unwrap();
    for seed in [1, 2] {
        let eval = |policy: &str| {
            let mut train = Engine::new(
                &s,
                seed,
                liveq::agent::make_policy(policy, &s, seed).unwrap(),
            );
            train.run(60_000).unwrap();
            let mut e = liveq::engine::eval_engine(&s, seed, train.into_policy(), 60_000);
            e.run(30_000).unwrap();
            e.metrics().totals(e.world()).rates.reward_per_step
        };
        let random = eval("random");
        for policy in ["content-knn", "mf"] {
            let r = eval(policy);
            assert!(
                r > 1.15 * random,
                "seed {seed}: {policy} {r} vs random {random}"
            );
        }
    }
}
