//! Learner-level tests (seeded, release-mode fast): TD descent, masking, target updates, NaN
//! rollback, live control and a tiny contextual problem; the parity grid of the trainers
//! (`parity`), what each head teaches (`heads`) and checkpoints (`checkpoint`).

use burn::tensor::{Device, Tensor, TensorData};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::bench::{BenchOptions, filled_learner};
use super::burn_trainer::{NextValue, masked_td_target};
use super::replay::{Batch, MASK_NEG, occupant_tag};
use super::*;

mod checkpoint;
mod heads;
mod parity;

fn small_opts() -> BenchOptions {
    BenchOptions {
        input_dim: 8,
        num_actions: 5,
        hidden: vec![32, 32],
        batch: 32,
        ..BenchOptions::default()
    }
}

fn sample(l: &DqnLearner, seed: u64) -> Batch {
    let mut b = Batch::default();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    l.replay().sample_into(32, 1.0, &mut rng, &mut b);
    b
}

fn huber_mean(d: &[f32]) -> f64 {
    d.iter()
        .map(|&x| {
            let a = (x as f64).abs();
            if a <= 1.0 { 0.5 * a * a } else { a - 0.5 }
        })
        .sum::<f64>()
        / d.len() as f64
}

#[test]
fn gradient_step_lowers_td_error_on_fixed_batch() {
    let mut l = filled_learner(&small_opts(), 500, 1).unwrap();
    l.set(Hyper::LearningRate(1e-3)).unwrap(); // not the scenario default: this test fixes it
    let b = sample(&l, 2);
    let before = huber_mean(&l.td_errors(&b).unwrap());
    l.update_on_batch(&b).unwrap();
    let after_one = huber_mean(&l.td_errors(&b).unwrap());
    assert!(after_one < before, "{after_one} !< {before}");
    for _ in 0..50 {
        l.update_on_batch(&b).unwrap();
    }
    let after = huber_mean(&l.td_errors(&b).unwrap());
    assert!(after < 0.5 * before, "{after} vs {before}");
}

#[test]
fn masked_target_never_uses_invalid_actions() {
    let d = Device::flex();
    let t2 =
        |v: Vec<f32>, r: usize, c: usize| Tensor::<2>::from_data(TensorData::new(v, [r, c]), &d);
    // Row 0: invalid action 1 has the highest online *and* target Q.
    // Row 1: no valid next action, discount 0 -> y = r.
    let q_online = t2(vec![1.0, 10.0, 2.0, 0.0, 50.0, 0.0], 2, 3);
    let q_target = t2(vec![5.0, 100.0, 7.0, 3.0, 3.0, 3.0], 2, 3);
    let bias = t2(vec![0.0, MASK_NEG, 0.0, MASK_NEG, MASK_NEG, MASK_NEG], 2, 3);
    let r = t2(vec![1.0, 2.0], 2, 1);
    let disc = t2(vec![0.5, 0.0], 2, 1);
    let y: Vec<f32> = masked_td_target(
        NextValue::Double(q_online.clone()),
        q_target.clone(),
        bias.clone(),
        r.clone(),
        disc.clone(),
    )
    .into_data()
    .try_to_vec()
    .unwrap();
    // Double DQN: argmax online over {0, 2} = 2, evaluated by target: 7 -> 1 + 0.5 * 7.
    assert_eq!(y, vec![4.5, 2.0]);
    let y: Vec<f32> = masked_td_target(
        NextValue::Max,
        q_target.clone(),
        bias.clone(),
        r.clone(),
        disc.clone(),
    )
    .into_data()
    .try_to_vec()
    .unwrap();
    // Plain max over valid target values {5, 7} = 7.
    assert_eq!(y, vec![4.5, 2.0]);
    // SlateQ: the next slate shows actions 0 and 2, chosen with 1/2 and 1/4: 1 + 0.5 · (2.5 +
    // 1.75); the terminal row still gets just its reward.
    let w = t2(vec![0.5, 0.0, 0.25, 0.25, 0.0, 0.0], 2, 3);
    let y: Vec<f32> = masked_td_target(NextValue::Slate(w), q_target, bias, r, disc)
        .into_data()
        .try_to_vec()
        .unwrap();
    assert_eq!(y, vec![3.125, 2.0]);
}

#[test]
fn acting_never_picks_masked_actions() {
    let mut l = filled_learner(&small_opts(), 100, 3).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let mut q = vec![0.0f32; 5];
    for _ in 0..200 {
        let s: Vec<f32> = (0..8).map(|_| rng.random::<f32>() * 4.0 - 2.0).collect();
        l.q_values(&s, &[true; 5], &mut q).unwrap();
        let best = super::acting::masked_argmax(&q, &[true; 5]).unwrap();
        let mut mask = [true; 5];
        mask[best] = false; // the highest raw Q is invalid
        let a = l.act(&s, &mask, false).unwrap();
        assert_ne!(a, best);
        assert!(mask[a]);
        l.set(Hyper::Epsilon(Some(1.0))).unwrap();
        for _ in 0..10 {
            assert!(mask[l.act(&s, &mask, true).unwrap()]);
        }
        l.set(Hyper::Epsilon(None)).unwrap();
        assert_eq!(l.act(&s, &[false; 5], true), None);
    }
}

#[test]
fn hard_and_soft_target_updates() {
    let mut l = filled_learner(&small_opts(), 300, 5).unwrap();
    for _ in 0..5 {
        l.update().unwrap();
    }
    let online = l.online_params().unwrap();
    let old = l.target_params().unwrap();
    assert_ne!(online, old);
    l.soft_update_target(0.25);
    let new = l.target_params().unwrap();
    for ((n, o), t) in new.iter().zip(&online).zip(&old) {
        for ((n, o), t) in n.iter().zip(o).zip(t) {
            assert!((n - (0.25 * o + 0.75 * t)).abs() < 1e-6);
        }
    }
    l.hard_update_target();
    assert_eq!(l.target_params().unwrap(), online);
}

fn assert_close(a: &[Vec<f32>], b: &[Vec<f32>], tol: f32, what: &str) {
    for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
        assert!((x - y).abs() <= tol * (1.0 + x.abs()), "{what}: {x} vs {y}");
    }
}

#[test]
fn nan_loss_is_caught_and_rolled_back() {
    for resolved in [
        DeviceChoice::Cpu.resolve().unwrap(),
        DeviceChoice::Flex.resolve().unwrap(),
    ] {
        let o = small_opts();
        let cfg = DqnConfig {
            hidden: o.hidden.clone(),
            batch_size: 32,
            buffer_capacity: 1000,
            learning_starts: 0,
            train_freq: 1,
            ..DqnConfig::default()
        };
        let mut l = DqnLearner::with_device(8, 5, cfg, resolved, 2).unwrap();
        let src = filled_learner(&o, 300, 6).unwrap();
        for k in 0..20 {
            l.update_on_batch(&sample(&src, k)).unwrap();
        }
        l.inject_nan_once();
        let mut caught = None;
        for k in 0..(2 * learner::READBACK_PERIOD) {
            match l.update_on_batch(&sample(&src, 100 + k)) {
                Ok(()) => {}
                Err(e @ DqnError::NonFinite { .. }) => {
                    caught = Some(e);
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        let e = caught.expect("NaN not detected");
        assert!(e.to_string().contains("rolled back"), "{e}");
        let ev = l.take_events();
        assert!(matches!(ev.as_slice(), [DqnEvent::RolledBack { .. }]));
        let mut q = vec![0.0; 5];
        l.q_values(&[0.5; 8], &[true; 5], &mut q).unwrap();
        assert!(q.iter().all(|x| x.is_finite()));
        assert!(
            l.online_params()
                .unwrap()
                .iter()
                .flatten()
                .all(|x| x.is_finite())
        );
        // Training goes on.
        for k in 0..5 {
            l.update_on_batch(&sample(&src, 500 + k)).unwrap();
        }
        assert_eq!(l.stats().rollbacks, 1);
    }
}

#[test]
fn live_control_validates() {
    let mut l = DqnLearner::new(4, 3, DqnConfig::default(), DeviceChoice::Flex, 0).unwrap();
    assert!(l.set(Hyper::Gamma(1.5)).is_err());
    assert!(l.set(Hyper::BatchSize(1_000_000)).is_err());
    assert!(l.set(Hyper::Epsilon(Some(2.0))).is_err());
    l.set(Hyper::LearningRate(1e-3)).unwrap();
    l.set(Hyper::TrainFreq(2)).unwrap();
    assert_eq!(l.config().lr, 1e-3);
    assert_eq!(l.config().train_freq, 2);
    match l.set(Hyper::Tau(0.0)) {
        Ok(()) => {} // fine: hard updates are on
        Err(e) => panic!("{e}"),
    }
    let err = l.set(Hyper::TargetUpdatePeriod(0)).unwrap_err();
    assert!(err.to_string().contains("tau"), "{err}");
    l.reset().unwrap();
    assert_eq!(l.stats().updates, 0);
}

/// 4 one-hot contexts, 6 actions with random masks; reward 1 for the context's best action,
/// 0.2 for the others. One-step episodes.
#[test]
fn solves_tiny_contextual_problem() {
    let cfg = DqnConfig {
        hidden: vec![32, 32],
        lr: 2e-3,
        gamma: 0.9,
        n_step: 1,
        batch_size: 32,
        buffer_capacity: 5000,
        learning_starts: 200,
        train_freq: 1,
        eps_decay_steps: 1500,
        target_update_period: 100,
        ..DqnConfig::default()
    };
    let mut l = DqnLearner::new(4, 6, cfg, DeviceChoice::Cpu, 42).unwrap();
    let best = [2usize, 5, 0, 3];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let draw = |rng: &mut Xoshiro256PlusPlus| {
        let c = rng.random_range(0..4);
        let mut m = [false; 6];
        for x in m.iter_mut() {
            *x = rng.random::<f32>() < 0.6;
        }
        if rng.random::<f32>() < 0.7 {
            m[best[c]] = true;
        }
        if !m.iter().any(|&x| x) {
            m[rng.random_range(0..6)] = true;
        }
        let mut s = [0.0f32; 4];
        s[c] = 1.0;
        (c, s, m)
    };
    let reward = |c: usize, a: usize| -> f64 { if a == best[c] { 1.0 } else { 0.2 } };
    for i in 0..3000u64 {
        let (c, s, m) = draw(&mut rng);
        let a = l.act(&s, &m, true).unwrap();
        assert!(m[a]);
        l.observe(i, &s, &m, a, reward(c, a) as f32, &s, &m, true)
            .unwrap();
    }
    let (mut got, mut rnd, mut opt) = (0.0, 0.0, 0.0);
    for _ in 0..1000 {
        let (c, s, m) = draw(&mut rng);
        let a = l.act(&s, &m, false).unwrap();
        got += reward(c, a);
        let valid: Vec<usize> = (0..6).filter(|&j| m[j]).collect();
        rnd += valid.iter().map(|&j| reward(c, j)).sum::<f64>() / valid.len() as f64;
        opt += valid.iter().map(|&j| reward(c, j)).fold(0.0, f64::max);
    }
    let st = l.stats();
    println!("contextual: greedy {got:.1}, random {rnd:.1}, optimal {opt:.1}, {st:?}");
    assert!(got > 0.97 * opt, "greedy {got} vs optimal {opt}");
    assert!(got > rnd + 0.5 * (opt - rnd));
}

/// The learning-rate schedule reaches the optimiser: a learner in the first update of a
/// 1,000-update warm-up moves its weights a thousandth as far as one at the full rate on the
/// same batch, and its statistics report the schedule's rate as the updates go.
#[test]
fn the_learning_rate_schedule_drives_the_updates() {
    let o = small_opts();
    let mut full = filled_learner(&o, 200, 4).unwrap();
    let mut warm = filled_learner(&o, 200, 4).unwrap();
    warm.set(Hyper::LrWarmupUpdates(1000)).unwrap();
    assert_eq!(warm.stats().lr, full.config().lr / 1000.0);
    let before = full.online_params().unwrap();
    let b = sample(&full, 9);
    full.update_on_batch(&b).unwrap();
    warm.update_on_batch(&b).unwrap();
    let moved = |l: &DqnLearner| -> f64 {
        let p = l.online_params().unwrap();
        p.iter()
            .flatten()
            .zip(before.iter().flatten())
            .map(|(a, b)| (a - b).abs() as f64)
            .sum()
    };
    let ratio = moved(&warm) / moved(&full);
    assert!((ratio - 1e-3).abs() < 2e-4, "{ratio}");
    // Step decay: halve every 5 updates.
    warm.set(Hyper::LrWarmupUpdates(0)).unwrap();
    warm.set(Hyper::LrSchedule(crate::scenario::LrSchedule::Step))
        .unwrap();
    warm.set(Hyper::LrDecayUpdates(5)).unwrap();
    for _ in 0..11 {
        warm.update().unwrap();
    }
    let c = warm.config().clone();
    assert_eq!(warm.stats().updates, 12);
    assert_eq!(warm.stats().lr, c.lr / 4.0);
    assert!(warm.set(Hyper::LrDecay(2.0)).is_err());
}

/// SlateQ's target on a two-step toy whose right answer is known. In s0, tapping stream 0
/// pays 1 and ends; tapping stream 1 pays nothing and leads to s1, where the slate shown is
/// {2, 3}, tapped with chances 0.6 and 0.2 (nothing: 0.2); stream 2 then pays 5, stream 3
/// pays 1. Q(s0, 1) is therefore γ·(0.6·5 + 0.2·1) = 2.88 with γ = 0.9 — worth more than
/// stream 0, though far less than the 4.5 a max over s1's streams would claim — so the right
/// slate in s0 puts stream 1 first.
#[test]
fn slateq_target_averages_over_the_next_slate() {
    for device in [DeviceChoice::Cpu, DeviceChoice::Flex] {
        let cfg = DqnConfig {
            hidden: vec![16],
            lr: 5e-3,
            gamma: 0.9,
            batch_size: 32,
            buffer_capacity: 4000,
            learning_starts: 100,
            train_freq: 1,
            target_update_period: 50,
            topic_head: false,
            ..DqnConfig::default()
        };
        let layout = ActionLayout {
            slate: 2,
            ..ActionLayout::default()
        };
        let resolved = device.resolve().unwrap();
        let mut l = DqnLearner::with_layout(2, 4, layout, cfg, resolved, 3).unwrap();
        let (s0, s1) = ([1.0f32, 0.0], [0.0f32, 1.0]);
        let (m0, m1) = ([true, true, false, false], [false, false, true, true]);
        let next = [(2u32, 0.6f32), (3, 0.2)];
        let none = [false; 4];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for i in 0..3000u64 {
            match rng.random_range(0..4) {
                0 => l.observe_slate(i, &s0, &m0, 0, 1.0, &s1, &none, &[], true),
                1 => l.observe_slate(i, &s0, &m0, 1, 0.0, &s1, &m1, &next, false),
                2 => l.observe_slate(i, &s1, &m1, 2, 5.0, &s0, &none, &[], true),
                _ => l.observe_slate(i, &s1, &m1, 3, 1.0, &s0, &none, &[], true),
            }
            .unwrap();
        }
        l.sync_policy().unwrap();
        let (mut q0, mut q1) = (vec![0.0; 4], vec![0.0; 4]);
        l.q_values(&s0, &m0, &mut q0).unwrap();
        l.q_values(&s1, &m1, &mut q1).unwrap();
        let what = format!("{device:?}: Q(s0) {q0:?}, Q(s1) {q1:?}");
        assert!(
            (q1[2] - 5.0).abs() < 0.25 && (q1[3] - 1.0).abs() < 0.25,
            "{what}"
        );
        assert!((q0[0] - 1.0).abs() < 0.25, "{what}");
        assert!((q0[1] - 2.88).abs() < 0.3, "{what}");
        let mut top = Vec::new();
        l.top_k(&s0, &m0, 1, &mut top).unwrap();
        assert_eq!(top, vec![1], "{what}");
    }
}

/// A `cpu` learner kept on one thread (as the benchmark's parallel runs are) computes the same
/// updates as one that splits each batch over two.
#[test]
fn one_kernel_thread_computes_the_same_updates_as_two() {
    let src = filled_learner(&small_opts(), 300, 6).unwrap();
    let cfg = DqnConfig {
        hidden: vec![16, 12],
        batch_size: 64,
        buffer_capacity: 500,
        ..DqnConfig::default()
    };
    let cpu = || DeviceChoice::Cpu.resolve().unwrap();
    let mut two = DqnLearner::with_device(8, 5, cfg.clone(), cpu(), 9).unwrap();
    let mut one = DqnLearner::with_device(8, 5, cfg, cpu(), 9).unwrap();
    one.set_kernel_threads(1);
    for k in 0..6 {
        let mut b = Batch::default();
        src.replay()
            .sample_into(64, 1.0, &mut Xoshiro256PlusPlus::seed_from_u64(k), &mut b);
        two.update_on_batch(&b).unwrap();
        one.update_on_batch(&b).unwrap();
    }
    assert_close(
        &two.online_params().unwrap(),
        &one.online_params().unwrap(),
        1e-5,
        "online weights",
    );
}

/// A replay buffer that could never fit in memory is refused up front, with the figures,
/// instead of failing hours into a run.
#[test]
fn a_replay_buffer_beyond_the_machine_is_refused_with_its_size() {
    let cfg = DqnConfig {
        hidden: vec![8],
        buffer_capacity: 10_000_000,
        ..DqnConfig::default()
    };
    match DqnLearner::new(200_000, 4, cfg, DeviceChoice::Cpu, 1) {
        Err(DqnError::InvalidConfig { key, reason }) => {
            assert_eq!(key, "buffer_capacity");
            assert!(
                reason.contains("GiB") && reason.contains("bytes"),
                "{reason}"
            );
        }
        Err(e) => panic!("{e}"),
        Ok(_) => {
            // Only where the machine's memory cannot be read is there no limit.
            assert!(std::fs::read_to_string("/proc/meminfo").is_err());
        }
    }
}

/// A transition remembers who stood behind its action: once a new streamer takes the slot
/// (a new occupant tag), replay no longer draws the old streamer's transitions there (with a
/// content head their content is not kept, so they would be scored with the new one).
#[test]
fn replay_forgets_a_slot_whose_streamer_changed() {
    let cfg = DqnConfig {
        hidden: vec![8],
        batch_size: 16,
        buffer_capacity: 200,
        learning_starts: 1_000_000,
        n_step: 2,
        ..DqnConfig::default()
    };
    let layout = ActionLayout {
        content: 2,
        ..ActionLayout::default()
    };
    let flex = DeviceChoice::Flex.resolve().unwrap();
    let mut l = DqnLearner::with_layout(4, 3, layout, cfg, flex, 1).unwrap();
    let mut content = vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    l.set_action_content(&content).unwrap();
    let mut tags = [occupant_tag(1), occupant_tag(2), occupant_tag(3)];
    l.set_action_tags(&tags).unwrap();
    let mask = [true; 3];
    for k in 0..60u64 {
        let s = [k as f32, 0.0, 0.0, 0.0];
        let a = (k % 3) as usize;
        l.observe_only(k % 5, &s, &mask, a, 1.0, &s, &mask, k % 7 == 6)
            .unwrap();
    }
    let draw = |l: &DqnLearner| {
        let mut b = Batch::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        l.replay()
            .sample_fresh_into(64, 1.0, &mut rng, &mut b, l.action_tags());
        b.actions
    };
    assert!(draw(&l).contains(&1));
    // New content alone says nothing of who streams: the transitions stay.
    content[2] = -0.7;
    l.set_action_content(&content).unwrap();
    assert!(draw(&l).contains(&1));
    // A new streamer in slot 1.
    tags[1] = occupant_tag(4);
    l.set_action_tags(&tags).unwrap();
    assert!(!draw(&l).contains(&1));
    assert!(l.set_action_tags(&tags[..2]).is_err(), "one tag per action");
    // Its own transitions are drawn again.
    for k in 60..90u64 {
        let s = [k as f32, 0.0, 0.0, 0.0];
        l.observe_only(k % 5, &s, &mask, 1, 1.0, &s, &mask, true)
            .unwrap();
    }
    assert!(draw(&l).contains(&1));
    // Without a content head and without restart_new_streamers, replay keeps no tags.
    let cfg = DqnConfig {
        restart_new_streamers: false,
        ..l.config().clone()
    };
    let mut plain = DqnLearner::new(4, 3, cfg, DeviceChoice::Flex, 1).unwrap();
    plain.set_action_tags(&tags).unwrap();
    assert!(plain.action_tags().is_empty());
}
