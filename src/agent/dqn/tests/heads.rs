//! What each head teaches: a topic head shares with a topic, per-action features carry to
//! actions never taken, a reward head learns the immediate reward.

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::super::replay::{Batch, MASK_NEG};
use super::super::*;

/// Mean acting-copy Q of `action` over `states` (rows of `dim`).
fn mean_q(l: &DqnLearner, states: &[f32], dim: usize, action: usize) -> f64 {
    let n = l.num_actions();
    let mask = vec![true; n];
    let mut q = vec![0.0; n];
    let rows = states.len() / dim;
    (0..rows)
        .map(|i| {
            l.q_values(&states[i * dim..(i + 1) * dim], &mask, &mut q)
                .unwrap();
            q[action] as f64
        })
        .sum::<f64>()
        / rows as f64
}

/// `rows` random states of `dim` values (seeded) and a batch of them in which action 0 of 4 is
/// taken every time and pays 3, ending the episode.
fn action_zero_pays(dim: usize, rows: usize, seed: u64) -> (Vec<f32>, Batch) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let states: Vec<f32> = (0..rows * dim).map(|_| rng.random::<f32>()).collect();
    let batch = Batch {
        size: rows,
        states: states.clone(),
        next_states: vec![0.0; rows * dim],
        next_mask_bias: vec![MASK_NEG; rows * 4],
        actions: vec![0; rows],
        rewards: vec![3.0; rows],
        immediate: vec![3.0; rows],
        discounts: vec![0.0; rows],
        weights: vec![1.0; rows],
        indices: (0..rows).collect(),
        ..Batch::default()
    };
    (states, batch)
}

/// With a topic (group) head, what is learnt from one stream carries to the other streams of
/// its topic and to no other: rewarding only action 0 raises Q of action 3 (same group, never
/// taken) far more than Q of action 1 (another group, never taken). Without the head both
/// move alike. On both the `cpu` kernels and burn's Flex.
#[test]
fn a_topic_head_shares_what_one_stream_teaches_with_its_topic() {
    let (dim, rows) = (6, 64);
    let (states, batch) = action_zero_pays(dim, rows, 5);
    for device in [DeviceChoice::Cpu, DeviceChoice::Flex] {
        let mut gaps = Vec::new();
        for topic_head in [true, false] {
            let cfg = DqnConfig {
                hidden: vec![16],
                topic_head,
                lr: 1e-3,
                batch_size: rows,
                policy_sync_period: 1,
                ..DqnConfig::default()
            };
            let mut l =
                DqnLearner::with_groups(dim, 4, 2, cfg, device.resolve().unwrap(), 3).unwrap();
            l.set_action_groups(&[0, 1, 1, 0]).unwrap();
            let before = [1, 3].map(|a| mean_q(&l, &states, dim, a));
            for _ in 0..150 {
                l.update_on_batch(&batch).unwrap();
            }
            let after = [1, 3].map(|a| mean_q(&l, &states, dim, a));
            let (rise_other, rise_same) = (after[0] - before[0], after[1] - before[1]);
            gaps.push(rise_same - rise_other);
        }
        let (with, without) = (gaps[0], gaps[1]);
        assert!(
            with > 1.0,
            "{device:?}: same-topic rise minus other: {with}"
        );
        assert!(
            without.abs() < 0.5 * with,
            "{device:?}: {without} vs {with}"
        );
    }
}

/// The acting copy folds the topic head with the current topics of the slots: moving a slot to
/// another topic changes its Q-value at once and leaves the other slots' alone.
#[test]
fn changing_a_slots_topic_changes_its_q_values_at_once() {
    let cfg = DqnConfig {
        hidden: vec![8],
        topic_head: true,
        ..DqnConfig::default()
    };
    let mut l =
        DqnLearner::with_groups(4, 3, 2, cfg, DeviceChoice::Cpu.resolve().unwrap(), 1).unwrap();
    l.set_action_groups(&[0, 0, 1]).unwrap();
    let s = [0.3, -0.2, 0.9, 0.1];
    let mask = [true; 3];
    let mut q0 = [0.0; 3];
    l.q_values(&s, &mask, &mut q0).unwrap();
    l.set_action_groups(&[0, 1, 1]).unwrap();
    let mut q1 = [0.0; 3];
    l.q_values(&s, &mask, &mut q1).unwrap();
    assert_eq!(q0[0], q1[0]);
    assert_eq!(q0[2], q1[2]);
    assert_ne!(q0[1], q1[1]);
    assert!(
        l.set_action_groups(&[0, 2, 1]).is_err(),
        "group out of range"
    );
    assert!(l.set_action_groups(&[0, 1]).is_err(), "wrong length");
}

/// A per-action feature head learns one rule for every action: the reward of an action is ten
/// times its own feature, the learner only ever takes actions 0–3, and yet its greedy choice
/// picks action 4 or 5 when theirs is the largest feature. Without the head (the same
/// numbers fed to the hidden stack) what it learnt says nothing about actions it never took.
/// On the `cpu` kernels and burn's Flex.
#[test]
fn per_action_features_carry_what_was_learnt_to_actions_never_taken() {
    const A: usize = 6;
    let trunk = 2;
    let dim = trunk + A;
    let draw = |rng: &mut Xoshiro256PlusPlus| -> Vec<f32> {
        (0..dim).map(|_| rng.random::<f32>()).collect()
    };
    for device in [DeviceChoice::Cpu, DeviceChoice::Flex] {
        let mut hit_rate = Vec::new();
        for features in [1, 0] {
            let cfg = DqnConfig {
                hidden: vec![32],
                lr: 3e-3,
                batch_size: 32,
                buffer_capacity: 4000,
                learning_starts: 100,
                train_freq: 1,
                target_update_period: 50,
                ..DqnConfig::default()
            };
            let layout = ActionLayout {
                features,
                ..ActionLayout::default()
            };
            let resolved = device.resolve().unwrap();
            let mut l = DqnLearner::with_layout(dim, A, layout, cfg, resolved, 11).unwrap();
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
            let taken = [true, true, true, true, false, false];
            for i in 0..1500u64 {
                let s = draw(&mut rng);
                let a = rng.random_range(0..4);
                let r = 10.0 * s[trunk + a];
                l.observe(i, &s, &taken, a, r, &s, &taken, true).unwrap();
            }
            l.sync_policy().unwrap();
            // States where an untaken action has the largest feature.
            let (mut hits, mut n) = (0, 0);
            while n < 300 {
                let s = draw(&mut rng);
                let best = (0..A)
                    .max_by(|&a, &b| s[trunk + a].total_cmp(&s[trunk + b]))
                    .unwrap();
                if best < 4 {
                    continue;
                }
                n += 1;
                hits += usize::from(l.act(&s, &[true; A], false).unwrap() == best);
            }
            hit_rate.push(hits as f64 / n as f64);
        }
        let (with, without) = (hit_rate[0], hit_rate[1]);
        println!(
            "{device:?}: best untaken action chosen {with:.2} with the head, {without:.2} without"
        );
        // Chance (a uniform pick among 6) is 1/6; the untaken actions' own, untrained part
        // of Q keeps it from being perfect (0.75 measured on both devices).
        assert!(with > 0.6, "{device:?}: {with}");
        assert!(with > without + 0.4, "{device:?}: {with} vs {without}");
    }
}

/// A batch of one-step rows: random states of `dim` (≥ 5), random actions of 4, immediate
/// reward `2·x[a]` (a function of the state and the action), and a return that adds to it
/// `3·x[4]` (what comes later, another function of the state) and ±2 of noise.
fn noisy_return_batch(rows: usize, dim: usize, seed: u64) -> Batch {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let states: Vec<f32> = (0..rows * dim).map(|_| rng.random::<f32>()).collect();
    let actions: Vec<i64> = (0..rows).map(|_| rng.random_range(0..4)).collect();
    let immediate: Vec<f32> = (0..rows)
        .map(|i| 2.0 * states[i * dim + actions[i] as usize])
        .collect();
    let rewards = immediate
        .iter()
        .enumerate()
        .map(|(i, &r)| {
            r + 3.0 * states[i * dim + 4] + if rng.random::<bool>() { 2.0 } else { -2.0 }
        })
        .collect();
    Batch {
        size: rows,
        states,
        next_states: vec![0.0; rows * dim],
        next_mask_bias: vec![0.0; rows * 4],
        actions,
        rewards,
        immediate,
        discounts: vec![0.0; rows],
        weights: vec![1.0; rows],
        indices: (0..rows).collect(),
        ..Batch::default()
    }
}

/// With a reward head, what an action earns now is learnt apart from the rest of the return:
/// trained on returns that add later rewards and noise to it, the head predicts the immediate
/// reward of states it never saw to within a small error, while Q learns the whole return.
/// On the `cpu` kernels and burn's Flex.
#[test]
fn a_reward_head_learns_the_immediate_reward_under_noisy_returns() {
    let dim = 6;
    let unseen = noisy_return_batch(256, dim, 2);
    let mean_abs = |e: Vec<f32>| e.iter().map(|x| x.abs() as f64).sum::<f64>() / e.len() as f64;
    for device in [DeviceChoice::Cpu, DeviceChoice::Flex] {
        let cfg = DqnConfig {
            hidden: vec![32],
            reward_head: true,
            lr: 3e-3,
            batch_size: 64,
            buffer_capacity: 500,
            ..DqnConfig::default()
        };
        let mut l = DqnLearner::new(dim, 4, cfg, device, 3).unwrap();
        let before = mean_abs(l.reward_errors(&unseen).unwrap().unwrap());
        for k in 0..600 {
            l.update_on_batch(&noisy_return_batch(64, dim, 100 + k))
                .unwrap();
        }
        let after = mean_abs(l.reward_errors(&unseen).unwrap().unwrap());
        // The immediate rewards lie in [0, 2]; the rest of the return averages 1.5.
        assert!(
            after < 0.12,
            "{device:?}: |R − r| {after:.3} (before training {before:.3})"
        );
        assert!(before > 0.4, "{device:?}: {before:.3}");
        // Q = R + C fits the expected return: its errors are the ±2 noise, not more.
        let td = mean_abs(l.td_errors(&unseen).unwrap());
        assert!(td < 2.3, "{device:?}: |Q − return| {td:.3}");
    }
}

/// A slot restarted for a new streamer starts as the average stream: after training that
/// rewards only action 0, restarting it puts its Q at the mean of the other actions' Q in
/// every state (the output layer is linear in its columns), online and target alike, while
/// the other actions keep theirs. On the `cpu` kernels and burn's Flex, with a reward head.
#[test]
fn a_restarted_action_starts_from_the_average_of_the_others() {
    let (dim, rows) = (6, 64);
    let (states, batch) = action_zero_pays(dim, rows, 8);
    for device in [DeviceChoice::Cpu, DeviceChoice::Flex] {
        let cfg = DqnConfig {
            hidden: vec![16],
            reward_head: true,
            lr: 1e-3,
            batch_size: rows,
            policy_sync_period: 1,
            ..DqnConfig::default()
        };
        let mut l = DqnLearner::new(dim, 4, cfg, device, 3).unwrap();
        for _ in 0..100 {
            l.update_on_batch(&batch).unwrap();
        }
        l.hard_update_target();
        let q = |l: &DqnLearner| {
            (0..4)
                .map(|a| mean_q(l, &states, dim, a))
                .collect::<Vec<_>>()
        };
        let before = q(&l);
        assert!(before[0] > before[1] + 1.0, "{device:?}: {before:?}");
        l.restart_actions(&[0]).unwrap();
        let after = q(&l);
        let others = (after[1] + after[2] + after[3]) / 3.0;
        assert!((after[0] - others).abs() < 1e-4, "{device:?}: {after:?}");
        assert_eq!(&before[1..], &after[1..], "{device:?}");
        let out = l.layout().output;
        let target = l.target_params().unwrap();
        for row in target[out.w].chunks_exact(4) {
            let mean = (row[1] + row[2] + row[3]) / 3.0;
            assert!((row[0] - mean).abs() < 1e-5, "{device:?}: target {row:?}");
        }
        assert!(l.restart_actions(&[4]).is_err(), "action out of range");
        // Nothing to average when every action is named.
        let whole = l.online_params().unwrap();
        l.restart_actions(&[0, 1, 2, 3]).unwrap();
        assert_eq!(whole, l.online_params().unwrap());
    }
}
