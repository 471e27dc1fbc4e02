//! The simulator's invariants, determinism and edge cases, driven through the engine as a
//! policy would drive it.

use liveq::agent::{Next, Policy, SlateSpec, Transition, make_policy};
use liveq::engine::Engine;
use liveq::scenario::Scenario;
use liveq::sim::{Observation, OracleView, World};

fn fixture(name: &str) -> Scenario {
    let path = format!(
        "{}/tests/fixtures/valid/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    Scenario::load_file(std::path::Path::new(&path)).unwrap()
}

#[test]
fn invariants_hold_step_after_step() {
    for name in ["default", "prime_time", "superstar", "clickbait"] {
        let scenario = Scenario::load(name).unwrap();
        let mut world = World::new(&scenario, 5);
        let mut last = world.now();
        let mut rng = liveq::sim::random::stream(1, 1);
        for step in 0..40_000 {
            let Some(_) = world.next_decision() else {
                panic!("world emptied")
            };
            assert!(world.now() >= last, "clock went backwards at step {step}");
            last = world.now();
            let obs = world.observe();
            for &i in obs.live {
                assert!(obs.streams[i as usize].live, "offline stream {i} offered");
            }
            let choice = (!obs.live.is_empty())
                .then(|| obs.live[liveq::sim::random::below(&mut rng, obs.live.len())]);
            let o = world.respond(choice).unwrap();
            assert!(o.reward >= 0.0 && o.engagement.watch_minutes >= 0.0);
            if step % 997 == 0 {
                world
                    .check_invariants()
                    .unwrap_or_else(|e| panic!("{name} step {step}: {e}"));
            }
        }
        world.check_invariants().unwrap();
    }
}

#[test]
fn offline_streams_cannot_be_recommended() {
    let scenario = Scenario::builtin_default();
    let mut world = World::new(&scenario, 1);
    world.next_decision().unwrap();
    let offline = (0..world.num_streamers() as u32)
        .find(|i| !world.streams()[*i as usize].live)
        .expect("some stream is offline");
    let err = world.respond(Some(offline)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("streamer {offline} is offline and cannot be recommended")
    );
    let err = world.respond(Some(999_999)).unwrap_err();
    assert!(err.to_string().contains("does not exist"));
    // The decision is still pending: a valid choice goes through.
    let live = world.observe().live[0];
    world.respond(Some(live)).unwrap();
}

fn run_json(name: &str, policy: &str, seed: u64, steps: u64) -> String {
    let scenario = Scenario::load(name).unwrap();
    let mut engine = Engine::new(
        &scenario,
        seed,
        make_policy(policy, &scenario, seed).unwrap(),
    );
    engine.run(steps).unwrap();
    engine.finish();
    let totals = engine.metrics().totals(engine.world());
    let rows = engine.metrics().rows();
    format!(
        "{}\n{}",
        serde_json::to_string(&totals).unwrap(),
        serde_json::to_string(rows).unwrap()
    )
}

#[test]
fn same_scenario_and_seed_give_identical_runs() {
    for policy in ["random", "bandit", "myopic-oracle"] {
        let a = run_json("default", policy, 9, 30_000);
        let b = run_json("default", policy, 9, 30_000);
        assert_eq!(a, b, "{policy} is not deterministic");
    }
    assert_ne!(
        run_json("default", "random", 9, 30_000),
        run_json("default", "random", 10, 30_000)
    );
}

#[test]
fn stream_schedules_do_not_depend_on_the_policy() {
    let scenario = Scenario::builtin_default();
    let until = 2.0 * liveq::sim::DAY;
    let schedule = |policy: &str| {
        let mut e = Engine::new(&scenario, 4, make_policy(policy, &scenario, 4).unwrap());
        while e.world().now().minutes() < until {
            e.step().unwrap();
        }
        e.world()
            .streams()
            .iter()
            .map(|s| s.live_since)
            .collect::<Vec<_>>()
    };
    let (a, b) = (schedule("random"), schedule("myopic-oracle"));
    let mut compared = 0;
    for (x, y) in a.iter().zip(&b) {
        if *x < until - 60.0 || *y < until - 60.0 {
            assert_eq!(
                x, y,
                "a stream started at a different time under another policy"
            );
            compared += 1;
        }
    }
    assert!(compared > 100, "only {compared} streams compared");
}

#[test]
fn one_streamer_and_one_viewer() {
    let scenario = fixture("tiny");
    let mut engine = Engine::new(&scenario, 1, make_policy("random", &scenario, 1).unwrap());
    engine.run(2_000).unwrap();
    engine.world().check_invariants().unwrap();
    let t = engine.metrics().totals(engine.world());
    assert_eq!(t.rates.steps, 2_000);
    assert!(t.rates.acceptance_rate > 0.0);
}

/// What a policy was told, shared with the test.
#[derive(Default, Debug)]
struct Counts {
    acted: u64,
    nothing_live: u64,
    ends: u64,
    nexts: u64,
}

/// Records what it is told and checks the trait's contract as it goes.
struct Recorder(std::sync::Arc<std::sync::Mutex<Counts>>);

impl Policy for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }
    fn rank(
        &mut self,
        obs: &Observation<'_>,
        oracle: Option<&OracleView<'_>>,
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    ) {
        assert!(
            oracle.is_none(),
            "a non-oracle policy was shown the hidden state"
        );
        assert!(!obs.live.is_empty(), "act called with nothing live");
        assert!(
            obs.live.iter().all(|&i| obs.is_live(i)),
            "an offline stream was offered"
        );
        self.0.lock().unwrap().acted += 1;
        let start = obs.live.len() / 2;
        out.clear();
        out.extend((0..spec.len(obs.live.len())).map(|j| obs.live[(start + j) % obs.live.len()]));
    }
    fn nothing_live(&mut self, obs: &Observation<'_>) {
        assert!(obs.live.is_empty());
        self.0.lock().unwrap().nothing_live += 1;
    }
    fn learn(&mut self, t: &Transition<'_>) {
        let mut c = self.0.lock().unwrap();
        match t.next {
            Next::SessionEnd => c.ends += 1,
            Next::Decision(obs) => {
                assert_eq!(obs.viewer, t.viewer, "next observation of another viewer");
                c.nexts += 1;
            }
        }
    }
}

fn recorded(scenario: &Scenario, steps: u64) -> (Counts, liveq::metrics::Totals) {
    let counts = std::sync::Arc::new(std::sync::Mutex::new(Counts::default()));
    let mut engine = Engine::new(scenario, 2, Box::new(Recorder(counts.clone())));
    engine.run(steps).unwrap();
    engine.world().check_invariants().unwrap();
    let totals = engine.metrics().totals(engine.world());
    drop(engine);
    let counts = std::sync::Arc::try_unwrap(counts)
        .unwrap()
        .into_inner()
        .unwrap();
    (counts, totals)
}

#[test]
fn nothing_live_is_told_to_the_policy_not_a_crash() {
    let (counts, totals) = recorded(&fixture("night_gap"), 20_000);
    assert!(
        totals.nothing_live_steps > 0,
        "the night gap never happened"
    );
    assert_eq!(counts.nothing_live, totals.nothing_live_steps);
    assert_eq!(counts.acted + counts.nothing_live, 20_000);
    assert!(
        totals.rates.acceptance_rate > 0.0,
        "nothing was ever watched"
    );
}

#[test]
fn every_choice_is_followed_by_its_transition() {
    let (counts, totals) = recorded(&Scenario::builtin_default(), 30_000);
    assert_eq!(counts.acted, 30_000);
    assert!(counts.nexts > 0 && counts.ends > 0);
    // Each session that ended after a choice closed exactly one transition with SessionEnd;
    // the choices still open at the end are at most one per viewer.
    let open = counts.acted - counts.nexts - counts.ends;
    assert!(open <= scenario_viewers() as u64, "{counts:?}");
    assert!(counts.ends <= totals.rates.sessions);
}

fn scenario_viewers() -> usize {
    Scenario::builtin_default().num_viewers()
}

/// Evaluation meets new viewers on the same platform: the streamers (and so a learner's
/// action slots) are those of the training world, the viewers are not, and the evaluation
/// world starts warmed up, identically for every policy, for at least as many steps as the
/// training run had (and at least a few days).
#[test]
fn the_evaluation_world_keeps_the_streamers_and_changes_the_viewers() {
    let scenario = Scenario::builtin_default();
    let train = World::new(&scenario, 7);
    let eval = World::with_viewer_seed(&scenario, 7, liveq::engine::eval_seed(7));
    let topics = |w: &World| w.streams().iter().map(|s| s.topic).collect::<Vec<_>>();
    assert_eq!(topics(&train), topics(&eval));
    let mut a = World::new(&scenario, 7);
    let mut b = World::with_viewer_seed(&scenario, 7, liveq::engine::eval_seed(7));
    let first: Vec<u32> = (0..20).map(|_| step_first(&mut a)).collect();
    let other: Vec<u32> = (0..20).map(|_| step_first(&mut b)).collect();
    assert_ne!(
        first, other,
        "the same viewers arrived in the evaluation world"
    );

    let run = |policy: &str, train_steps: u64| {
        let p = make_policy(policy, &scenario, 7).unwrap();
        let e = liveq::engine::eval_engine(&scenario, 7, p, train_steps);
        let days = e.world().now().minutes() / (24.0 * 60.0);
        (days, e.world().active_today(), e.metrics().steps())
    };
    let (days, active, steps) = run("random", 0);
    assert!(days >= liveq::engine::EVAL_MIN_WARMUP_DAYS, "{days}");
    assert_eq!(steps, 0, "the warm-up is not measured");
    assert_eq!(run("myopic-oracle", 0), (days, active, steps));
    // A long training run gets a longer warm-up: ~19,000 decisions a day on this world.
    let (long, _, _) = run("random", 200_000);
    assert!(long > days + 5.0, "{long} vs {days}");
    assert_eq!(run("myopic-oracle", 200_000).0, long);
}

fn step_first(w: &mut World) -> u32 {
    let v = w.next_decision().expect("viewers");
    let first = w.observe().live.first().copied();
    w.respond(first).unwrap();
    v
}

/// The platform's log of recommendations: at a viewer's next decision, the per-topic counts
/// are the previous ones decayed (half-life a week) plus one shown, and one accepted if it was,
/// under the recommended stream's topic.
#[test]
fn recommendations_and_acceptances_are_logged_per_topic() {
    use liveq::sim::observation::IMPRESSION_HALF_LIFE;
    let scenario = Scenario::builtin_default();
    let mut world = World::new(&scenario, 9);
    let mut rng = liveq::sim::random::stream(2, 1);
    /// A viewer's counts as of `when`, and the recommendation that followed.
    struct Logged {
        shown: Vec<f32>,
        accepted: Vec<f32>,
        when: f64,
        topic: usize,
        took: bool,
    }
    let mut last: std::collections::HashMap<u32, Logged> = Default::default();
    let (mut checked, mut accepted_seen) = (0, 0);
    for _ in 0..30_000 {
        world.next_decision().expect("viewers");
        let obs = world.observe();
        let h = obs.history;
        // A viewer who churned may have been replaced by a newcomer with an empty log.
        let fresh = h.shown.iter().all(|x| *x == 0.0);
        if let Some(Logged {
            shown,
            accepted,
            when,
            topic,
            took,
        }) = last.get(&obs.viewer).filter(|_| !fresh)
        {
            let d = (-(h.shown_at - when) / IMPRESSION_HALF_LIFE).exp2() as f32;
            for t in 0..obs.num_topics {
                let here = (t == *topic) as u8 as f32;
                assert!((h.shown[t] - (shown[t] * d + here)).abs() < 1e-4);
                let took = here * *took as u8 as f32;
                assert!((h.accepted[t] - (accepted[t] * d + took)).abs() < 1e-4);
                assert!(h.accepted[t] <= h.shown[t] + 1e-4);
            }
            checked += 1;
        }
        let (shown, accepted, when) = (h.shown.to_vec(), h.accepted.to_vec(), h.shown_at);
        if obs.live.is_empty() {
            world.respond(None).unwrap();
            continue;
        }
        let i = obs.live[liveq::sim::random::below(&mut rng, obs.live.len())];
        let topic = obs.streams[i as usize].topic as usize;
        let o = world.respond(Some(i)).unwrap();
        accepted_seen += o.accepted as u32;
        let took = o.accepted;
        last.insert(
            o.viewer,
            Logged {
                shown,
                accepted,
                when,
                topic,
                took,
            },
        );
    }
    assert!(
        checked > 10_000 && accepted_seen > 1_000,
        "{checked} {accepted_seen}"
    );
}

/// Evaluation counts only the evaluated policy's sessions: one begun under the warm-up's
/// random recommendations is counted apart (carried in), one still running at the end is
/// reported open, and every counted session's recommendations were the evaluated policy's.
#[test]
fn evaluation_counts_only_sessions_begun_under_the_evaluated_policy() {
    let scenario = Scenario::builtin_default();
    for steps in [100u64, 3_000] {
        let p = make_policy("popular", &scenario, 4).unwrap();
        let mut e = liveq::engine::eval_engine(&scenario, 4, p, 0);
        let start = e.world().now().minutes();
        for _ in 0..steps {
            e.step().unwrap();
        }
        e.finish();
        let t = e.metrics().totals(e.world());
        let r = &t.rates;
        assert!(
            t.sessions_carried_in > 0,
            "warm-up sessions end during evaluation"
        );
        assert!(t.sessions_open > 0, "sessions are running when it stops");
        let counted_steps = r.sessions as f64 * r.mean_session_length;
        assert!(
            counted_steps <= steps as f64 + 1e-9,
            "{counted_steps} recommendations in counted sessions, {steps} evaluated"
        );
        let counted_minutes = r.sessions as f64 * r.mean_session_minutes;
        let elapsed = e.world().now().minutes() - start;
        assert!(
            r.mean_session_minutes <= elapsed + 1e-9,
            "{counted_minutes} {elapsed}"
        );
    }
}

/// A watch cut off by its stream's end wakes the viewer at that instant: the viewer is asked
/// again only once the stream is offline. One streamer with short streams and near-certain,
/// long watches: a stream that has ended is never offered, and the clock keeps moving.
#[test]
fn a_stream_that_has_ended_is_never_offered() {
    let mut scenario = Scenario::builtin_default();
    let p = &mut scenario.params;
    p.streamers.count = 1;
    p.streamers.stream_hours = 0.25;
    p.streamers.days_per_week = 7.0;
    p.streamers.skip_probability = 0.0;
    p.streamers.jitter_minutes = 0.0;
    p.viewers.count = 30;
    p.viewers.organic_share = 0.0;
    p.viewers.session_minutes = 10_000.0;
    p.response.outside_option = -30.0;
    p.response.watch_minutes = 10_000.0;
    let mut world = World::new(&scenario, 3);
    let mut cut_off = 0;
    for step in 0..20_000 {
        world.next_decision().expect("viewers");
        world
            .check_invariants()
            .unwrap_or_else(|e| panic!("step {step}: {e}"));
        let choice = world.observe().live.first().copied();
        let o = world.respond(choice).unwrap();
        cut_off += (o.accepted && o.engagement.watch_minutes < 10.0) as u32;
    }
    assert!(
        cut_off > 100,
        "watches were cut off by the stream's end: {cut_off}"
    );
    let days = world.now().minutes() / (24.0 * 60.0);
    assert!(
        days > 20.0,
        "the clock reached {days:.2} days in 20,000 steps"
    );
}

/// The metrics that single out newcomers, first sessions and satisfaction: newcomer steps
/// exist only where streamers change hands, first sessions dominate a young world, and the
/// sampled satisfaction is a mean of values in [0, 1].
#[test]
fn newcomer_first_session_and_satisfaction_metrics() {
    let run = |name: &str| {
        let scenario = Scenario::load(name).unwrap();
        let p = make_policy("random", &scenario, 2).unwrap();
        let mut e = Engine::new(&scenario, 2, p);
        e.run(60_000).unwrap();
        e.finish();
        e.metrics().totals(e.world()).rates
    };
    let cold = run("cold_start");
    let calm = run("default");
    assert!(cold.newcomer_share > 0.01, "{}", cold.newcomer_share);
    assert!(cold.newcomer_reward_per_step > 0.0);
    assert_eq!(calm.newcomer_share, 0.0, "nobody joins the default world");
    for r in [&cold, &calm] {
        assert!(r.first_session_share > 0.05 && r.first_session_share < 1.0);
        assert!(r.first_session_reward_per_step > 0.0);
        assert!(r.mean_satisfaction > 0.0 && r.mean_satisfaction < 1.0);
    }
}
