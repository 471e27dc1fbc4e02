//! The CPU kernels against burn's autodiff on Flex, on a grid generated from [`Head`]: every
//! subset of the heads × Double DQN / plain max / SlateQ's next-slate average × hard / soft
//! target updates (and layer normalisation) × a batch split over two threads / not. Targets,
//! TD errors, reward errors, gradients, the weights after updates (with active clipping and
//! non-uniform importance weights) and the acting copy's Q.
//! Then a finite-difference check of the CPU backward, one head at a time.

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::super::cpu::CpuTrainer;
use super::super::replay::Batch;
use super::super::shape::Dense;
use super::super::trainer::{TdSpec, Trainer, TrainerState};
use super::*;

const A: usize = 5;
const TRUNK: usize = 3;
const FEATURES: usize = 2;
const GROUPS: usize = 3;
const CONTENT: usize = 4;

/// A content vector per action (`A × CONTENT`), varied and of both signs.
fn action_content() -> Vec<f32> {
    (0..A * CONTENT)
        .map(|i| ((i * 7 % 11) as f32 - 5.0) / 6.0)
        .collect()
}

/// A batch of `rows` random transitions over states of `dim` (the last `A·FEATURES` entries
/// are per-action features when the network has them), some next actions invalid, some rows
/// terminal, non-uniform importance weights; with `slate` entries per row, next slates of
/// distinct valid actions with choice weights summing to less than one.
fn random_batch(rows: usize, dim: usize, seed: u64, slate: usize) -> Batch {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut v = |n: usize, lo: f32, hi: f32| -> Vec<f32> {
        (0..n)
            .map(|_| lo + (hi - lo) * rng.random::<f32>())
            .collect()
    };
    let states = v(rows * dim, -1.0, 1.5);
    let next_states = v(rows * dim, -1.0, 1.5);
    let rewards = v(rows, -1.0, 2.0);
    let immediate = v(rows, -0.5, 1.0);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5A5A);
    let next_mask_bias: Vec<f32> = (0..rows * A)
        .map(|i| {
            if i % A != 0 && rng.random::<f32>() < 0.3 {
                super::MASK_NEG
            } else {
                0.0
            }
        })
        .collect();
    let mut next_slate = Vec::with_capacity(rows * slate);
    for row in 0..rows {
        let valid: Vec<u32> = (0..A as u32)
            .filter(|&a| next_mask_bias[row * A + a as usize] == 0.0)
            .collect();
        for k in 0..slate {
            next_slate.push(match valid.get(k) {
                Some(&a) => (a, 0.05 + rng.random::<f32>() / (slate as f32 + 1.0)),
                None => (0, 0.0),
            });
        }
    }
    Batch {
        size: rows,
        states,
        next_states,
        next_mask_bias,
        slate,
        next_slate,
        dropout: Vec::new(),
        actions: (0..rows).map(|_| rng.random_range(0..A as i64)).collect(),
        rewards,
        immediate,
        discounts: (0..rows)
            .map(|i| if i % 7 == 3 { 0.0 } else { 0.9 })
            .collect(),
        weights: (0..rows).map(|i| 0.5 + (i % 3) as f32 * 0.25).collect(),
        indices: (0..rows).collect(),
    }
}

fn close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

fn close_sets(a: &[Vec<f32>], b: &[Vec<f32>], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: tensors");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        close(x, y, tol, &format!("{what}, tensor {i}"));
    }
}

/// The heads the CPU kernels run (all but gated content, which runs on burn alone).
fn cpu_heads(mut heads: Vec<Head>) -> Vec<Head> {
    heads.retain(|h| !matches!(h, Head::GatedContent { .. }));
    heads
}

/// Gated content fusion runs on burn: the acting copy computes the Q-values burn's forward
/// pass does, trained or not; `auto` resolves the network to burn and an explicit `cpu`
/// refuses it with the reason.
#[test]
fn gated_content_acts_as_burn_computes_and_the_cpu_kernels_refuse_it() {
    use super::super::network::{MapTensors, QNetwork};
    let cfg = DqnConfig {
        hidden: vec![8],
        dueling: true,
        fusion: crate::scenario::Fusion::Gated,
        batch_size: 8,
        buffer_capacity: 200,
        learning_starts: 8,
        ..DqnConfig::default()
    };
    let layout = ActionLayout {
        groups: GROUPS,
        content: CONTENT,
        modalities: 2,
        ..ActionLayout::default()
    };
    let flex = DeviceChoice::Flex.resolve().unwrap();
    let mut l = DqnLearner::with_layout(TRUNK, A, layout, cfg.clone(), flex, 5).unwrap();
    assert!(l.shape().heads.contains(&Head::GatedContent {
        len: CONTENT,
        modalities: 2
    }));
    l.set_action_groups(&[2, 0, 1, 2, 0]).unwrap();
    l.set_action_content(&action_content()).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let mask = vec![true; A];
    for round in 0..2 {
        // The acting copy is refreshed every few updates: refresh it now.
        l.sync_policy().unwrap();
        let params = l.online_params().unwrap();
        let layout = ParamLayout::new(l.shape());
        let device = Device::flex();
        let net = QNetwork::from_host(&layout, &params, &device);
        let maps = ActionMaps {
            groups: vec![2, 0, 1, 2, 0],
            content: action_content(),
        };
        let tensors = MapTensors::new(&layout, &maps, &device);
        for _ in 0..4 {
            let x: Vec<f32> = (0..TRUNK)
                .map(|_| rng.random::<f32>() * 2.0 - 1.0)
                .collect();
            let burn: Vec<f32> = net
                .forward(
                    &layout,
                    Tensor::from_data(TensorData::new(x.clone(), [1, TRUNK]), &device),
                    &tensors,
                )
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            let mut acting = vec![0.0; A];
            l.q_values(&x, &mask, &mut acting).unwrap();
            close(&burn, &acting, 1e-5, &format!("round {round}"));
        }
        // Train a little so the second round compares moved weights.
        for k in 0..40u64 {
            let s: Vec<f32> = (0..TRUNK)
                .map(|j| ((k + j as u64) % 5) as f32 / 5.0)
                .collect();
            let (a, r) = ((k % A as u64) as usize, (k % 3) as f32);
            l.observe(k % 4, &s, &mask, a, r, &s, &mask, false).unwrap();
        }
    }
    let cpu = DeviceChoice::Cpu.resolve().unwrap();
    let refused = DqnLearner::with_layout(TRUNK, A, layout, cfg.clone(), cpu, 5).err();
    let why = refused.map(|e| e.to_string()).unwrap_or_default();
    assert!(why.contains("gated content fusion"), "{why}");
    let auto = DeviceChoice::Auto.resolve().unwrap();
    let l = DqnLearner::with_layout(TRUNK, A, layout, cfg, auto, 5).unwrap();
    assert!(
        l.device().reason.contains("gated content fusion"),
        "{}",
        l.device().reason
    );
}

fn subsets(heads: &[Head]) -> Vec<Vec<Head>> {
    (0..1u32 << heads.len())
        .map(|m| {
            heads
                .iter()
                .enumerate()
                .filter(|(i, _)| m & (1 << i) != 0)
                .map(|(_, &h)| h)
                .collect()
        })
        .collect()
}

#[test]
fn cpu_kernels_match_burn_autodiff_for_every_combination_of_heads() {
    let groups = [2u16, 0, 1, 2, 0]; // actions 0 and 3 share group 2, 1 and 4 group 0
    let mut cases = 0;
    for heads in subsets(&cpu_heads(Head::one_of_each(GROUPS, CONTENT, FEATURES))) {
        let features = heads
            .iter()
            .any(|h| matches!(h, Head::ActionFeatures { .. }));
        let content = heads.iter().any(|h| matches!(h, Head::Content { .. }));
        let dim = TRUNK + if features { A * FEATURES } else { 0 };
        let layout = ActionLayout {
            groups: GROUPS,
            features: if features { FEATURES } else { 0 },
            content: if content { CONTENT } else { 0 },
            modalities: 0,
            slate: 0,
        };
        // Double DQN, plain max, and SlateQ's average over the next slate.
        for (double_dqn, slate) in [(true, 0), (false, 0), (false, 3)] {
            // Hard and soft target updates; layer normalisation with the hard ones.
            for (period, layer_norm) in [(3, false), (0, false), (3, true)] {
                for batch in [32, 8] {
                    let cfg = DqnConfig {
                        hidden: vec![16, 12],
                        dueling: heads.contains(&Head::Dueling),
                        topic_head: heads.iter().any(|h| matches!(h, Head::Group { .. })),
                        reward_head: heads.contains(&Head::Reward),
                        double_dqn,
                        batch_size: batch,
                        buffer_capacity: 500,
                        target_update_period: period,
                        tau: 0.1,
                        grad_clip_norm: 0.5,
                        huber_delta: 0.7,
                        reward_head_weight: 0.8,
                        norm: if layer_norm {
                            crate::scenario::Norm::Layer
                        } else {
                            crate::scenario::Norm::None
                        },
                        ..DqnConfig::default()
                    };
                    let what = format!(
                        "heads {heads:?}, double {double_dqn}, slate {slate}, period {period}, \
                         layer norm {layer_norm}, batch {batch}"
                    );
                    let flex = DeviceChoice::Flex.resolve().unwrap();
                    let cpu = DeviceChoice::Cpu.resolve().unwrap();
                    let mut burn =
                        DqnLearner::with_layout(dim, A, layout, cfg.clone(), flex, 9).unwrap();
                    let mut own = DqnLearner::with_layout(dim, A, layout, cfg, cpu, 9).unwrap();
                    assert_eq!(burn.shape().heads, heads, "{what}");
                    for l in [&mut burn, &mut own] {
                        l.set_action_groups(&groups).unwrap();
                        if content {
                            l.set_action_content(&action_content()).unwrap();
                        }
                    }
                    assert_eq!(burn.online_params().unwrap(), own.online_params().unwrap());
                    let mut last = Batch::default();
                    for k in 0..6 {
                        let b = random_batch(batch, dim, k, slate);
                        let (i1, i2) = (burn.inspect(&b).unwrap(), own.inspect(&b).unwrap());
                        close(&i1.targets, &i2.targets, 1e-4, &format!("targets, {what}"));
                        close(
                            &i1.td_errors,
                            &i2.td_errors,
                            1e-4,
                            &format!("TD errors, {what}"),
                        );
                        assert_eq!(i1.reward_errors.is_some(), cfg_reward(&heads), "{what}");
                        close(
                            &i1.reward_errors.unwrap_or_default(),
                            &i2.reward_errors.unwrap_or_default(),
                            1e-4,
                            &format!("reward errors, {what}"),
                        );
                        if k == 0 {
                            let td = TdSpec {
                                double_dqn,
                                huber_delta: 0.7,
                                reward_weight: 0.8,
                            };
                            close_sets(
                                &burn.trainer().gradients(&b, td).unwrap(),
                                &own.trainer().gradients(&b, td).unwrap(),
                                2e-4,
                                &format!("gradients, {what}"),
                            );
                        }
                        burn.update_on_batch(&b).unwrap();
                        own.update_on_batch(&b).unwrap();
                        let (s1, s2) = (burn.stats(), own.stats());
                        let (l1, l2) = (s1.td_loss.unwrap(), s2.td_loss.unwrap());
                        assert!((l1 - l2).abs() < 1e-4 * (1.0 + l1.abs()), "{what}");
                        let (n1, n2) = (s1.grad_norm.unwrap(), s2.grad_norm.unwrap());
                        assert!((n1 - n2).abs() < 1e-4 * (1.0 + n1.abs()), "{what}");
                        last = b;
                    }
                    close_sets(
                        &burn.online_params().unwrap(),
                        &own.online_params().unwrap(),
                        1e-4,
                        &format!("online weights, {what}"),
                    );
                    close_sets(
                        &burn.target_params().unwrap(),
                        &own.target_params().unwrap(),
                        1e-4,
                        &format!("target weights, {what}"),
                    );
                    // With no reward and no bootstrap, burn's TD error is its Q(s, a): the
                    // acting copy (heads folded) must give the same value.
                    last.rewards.fill(0.0);
                    last.discounts.fill(0.0);
                    let q_burn = burn.td_errors(&last).unwrap();
                    own.sync_policy().unwrap();
                    let mut q = vec![0.0; A];
                    for (i, &want) in q_burn.iter().enumerate() {
                        own.q_values(&last.states[i * dim..(i + 1) * dim], &[true; A], &mut q)
                            .unwrap();
                        let got = q[last.actions[i] as usize];
                        assert!(
                            (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                            "acting Q {got} vs {want}, {what}"
                        );
                    }
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 32 * 18);
}

fn cfg_reward(heads: &[Head]) -> bool {
    heads.contains(&Head::Reward)
}

/// The loss the CPU trainer differentiates, from its own inspection: the importance-weighted
/// mean Huber TD loss, in which the reward head's `R` is a constant (its value `r0 + e0` at
/// the unperturbed weights, `e0` its errors there), plus the reward head's weighted squared
/// error.
fn loss(t: &CpuTrainer, b: &Batch, td: TdSpec, e0: &[f32]) -> f64 {
    let i = t.inspect(b, td).unwrap();
    let n = b.size as f64;
    let hd = td.huber_delta as f64;
    let mut l = 0.0;
    let e = i.reward_errors.clone().unwrap_or_default();
    for (k, &d) in i.td_errors.iter().enumerate() {
        // δ with R held at its unperturbed value.
        let d =
            d as f64 - e.get(k).map_or(0.0, |&x| x as f64) + e0.get(k).map_or(0.0, |&x| x as f64);
        let a = d.abs();
        let h = if a <= hd {
            0.5 * a * a
        } else {
            hd * (a - 0.5 * hd)
        };
        l += b.weights[k] as f64 * h / n;
    }
    for (k, &e) in i.reward_errors.unwrap_or_default().iter().enumerate() {
        l += td.reward_weight as f64 * b.weights[k] as f64 * 0.5 * (e as f64).powi(2) / n;
    }
    l
}

/// The hand-derived backward of each head matches central finite differences of the CPU
/// forward, for every parameter of a small network with that head alone (and with all heads
/// together), the target network held fixed.
#[test]
fn cpu_gradients_match_finite_differences_for_each_head() {
    let all = cpu_heads(Head::one_of_each(2, CONTENT, FEATURES));
    let mut shapes: Vec<(Vec<Head>, bool)> = all.iter().map(|&h| (vec![h], false)).collect();
    shapes.push((all.clone(), false));
    // Layer normalisation's backward, alone and under every head.
    shapes.push((vec![], true));
    shapes.push((all.clone(), true));
    for (heads, layer_norm) in shapes {
        let features = heads
            .iter()
            .any(|h| matches!(h, Head::ActionFeatures { .. }));
        let dim = TRUNK + if features { A * FEATURES } else { 0 };
        let shape = NetShape::new(dim, A, vec![6], heads.clone()).with_layer_norm(layer_norm);
        let layout = ParamLayout::new(&shape);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
        let online = layout.init(&mut rng);
        let target = layout.init(&mut rng);
        let zeros = layout.zeros();
        let mut b = random_batch(16, dim, 4, 0);
        // Dropout on the hidden layer: its backward goes through the same mask.
        b.dropout = vec![dropout_mask(16 * 6, 0.3, 8)];
        // A wide Huber threshold keeps the loss smooth (quadratic) around the weights.
        // Plain max: the bootstrap depends on the (fixed) target network alone.
        let td = TdSpec {
            double_dqn: false,
            huber_delta: 50.0,
            reward_weight: 0.8,
        };
        let at = |params: Vec<Vec<f32>>| {
            let mut t = CpuTrainer::new(layout.clone(), params.clone());
            t.set_action_maps(&ActionMaps {
                groups: vec![1, 0, 1, 0, 0],
                content: if shape.content_len() > 0 {
                    action_content()
                } else {
                    Vec::new()
                },
            });
            t.restore(TrainerState {
                online: params,
                target: target.clone(),
                m: zeros.clone(),
                v: zeros.clone(),
                t: 0,
            })
            .unwrap();
            t
        };
        let base = at(online.clone());
        let grads = base.gradients(&b, td).unwrap();
        let e0 = base
            .inspect(&b, td)
            .unwrap()
            .reward_errors
            .unwrap_or_default();
        let names = layout.param_names();
        let eps = 3e-3f32;
        let mut checked = 0;
        for (p, name) in names.iter().enumerate() {
            for j in 0..online[p].len() {
                let mut plus = online.clone();
                plus[p][j] += eps;
                let mut minus = online.clone();
                minus[p][j] -= eps;
                let fd = (loss(&at(plus), &b, td, &e0) - loss(&at(minus), &b, td, &e0))
                    / (2.0 * eps as f64);
                let g = grads[p][j] as f64;
                assert!(
                    (fd - g).abs() <= 2e-3 + 0.02 * fd.abs().max(g.abs()),
                    "{heads:?}: d loss / d {name}[{j}] = {g} by the kernels, {fd} by differences"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, online.iter().map(Vec::len).sum::<usize>());
    }
}

/// `cpu` and `burn` take one update on each of `batches` and end with the same weights (within
/// 1e-4); `what` names the updates.
fn same_updates(
    cpu: &mut DqnLearner,
    burn: &mut DqnLearner,
    batches: impl Iterator<Item = Batch>,
    what: &str,
) {
    for b in batches {
        cpu.update_on_batch(&b).unwrap();
        burn.update_on_batch(&b).unwrap();
    }
    close_sets(
        &cpu.online_params().unwrap(),
        &burn.online_params().unwrap(),
        1e-4,
        &format!("weights after {what}"),
    );
}

/// Every parameter, in layout order.
type Params = Vec<Vec<f32>>;

/// A decoupled step of the optimizer set by `with` on a small network: the weights before,
/// the weights after one update with it and after the same update without it (plain Adam),
/// and the output layer. Checks on the way that burn takes the same five steps as the CPU
/// trainer with it (`what` names them).
fn one_decoupled_step(
    with: impl Fn(&mut DqnConfig),
    what: &str,
) -> (Params, Params, Params, Dense) {
    let learner = |choice: DeviceChoice, on: bool| {
        let mut cfg = DqnConfig {
            hidden: vec![8],
            lr: 0.01,
            batch_size: 16,
            buffer_capacity: 100,
            ..DqnConfig::default()
        };
        if on {
            with(&mut cfg);
        }
        let d = choice.resolve().unwrap();
        DqnLearner::with_layout(TRUNK, A, ActionLayout::default(), cfg, d, 5).unwrap()
    };
    let (mut cpu, mut burn) = (
        learner(DeviceChoice::Cpu, true),
        learner(DeviceChoice::Flex, true),
    );
    let mut plain = learner(DeviceChoice::Cpu, false);
    let p0 = cpu.online_params().unwrap();
    let first = random_batch(16, TRUNK, 1, 0);
    cpu.update_on_batch(&first).unwrap();
    plain.update_on_batch(&first).unwrap();
    let (stepped, adam) = (cpu.online_params().unwrap(), plain.online_params().unwrap());
    burn.update_on_batch(&first).unwrap();
    let rest = (0..4).map(|k| random_batch(16, TRUNK, 10 + k, 0));
    same_updates(&mut cpu, &mut burn, rest, &format!("5 updates with {what}"));
    (p0, stepped, adam, cpu.layout().output)
}

/// AdamW's decoupled weight decay: the CPU trainer and burn take the same steps with it, and
/// one update moves each weight by exactly `lr·weight_decay` of itself (here 0.5%) more than
/// plain Adam's step from the same weights.
#[test]
fn weight_decay_is_the_same_decoupled_step_on_both_trainers() {
    let (p0, decayed, adam, _) = one_decoupled_step(|c| c.weight_decay = 0.5, "AdamW");
    for ((d, a), p) in decayed
        .iter()
        .flatten()
        .zip(adam.iter().flatten())
        .zip(p0.iter().flatten())
    {
        assert!(
            (a - d - 0.005 * p).abs() <= 1e-6 * (1.0 + p.abs()),
            "{a} − {d} vs 0.005 × {p}"
        );
    }
}

/// Slot shrinkage: one update moves each column of the output layer (weights and bias)
/// `lr·slot_shrinkage` (here 5%) of its distance to the columns' average more than plain
/// Adam's step from the same weights, touches no other parameter, and the CPU trainer and
/// burn take the same steps with it.
#[test]
fn slot_shrinkage_pulls_output_columns_to_their_average_alike_on_both_trainers() {
    let (p0, shrunk, adam, output) =
        one_decoupled_step(|c| c.slot_shrinkage = 5.0, "slot shrinkage");
    for (i, ((s, a), p)) in shrunk.iter().zip(&adam).zip(&p0).enumerate() {
        let pulled = i == output.w || i == output.b();
        for (j, ((s, a), p)) in s.iter().zip(a).zip(p).enumerate() {
            let expected = if pulled {
                // The row of the weight (or the bias) that this value belongs to: one per
                // input unit, one value per slot.
                let row = &p0[i][j / A * A..(j / A + 1) * A];
                0.05 * (p - row.iter().sum::<f32>() / A as f32)
            } else {
                0.0
            };
            assert!(
                (a - s - expected).abs() <= 1e-6 * (1.0 + p.abs()),
                "parameter {i}[{j}]: {a} − {s} vs {expected}"
            );
        }
    }
}

/// Dropout multipliers: 0 with probability `p`, 1/(1 − p) otherwise.
fn dropout_mask(n: usize, p: f64, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            if rng.random::<f64>() < p {
                0.0
            } else {
                (1.0 / (1.0 - p)) as f32
            }
        })
        .collect()
}

/// Dropout: the CPU trainer and burn apply the batch's masks alike (TD errors and weights
/// after updates match); the bootstrap targets and acting never drop a unit (the same targets
/// with and without masks, the same Q twice).
#[test]
fn dropout_is_one_mask_on_both_trainers_and_never_in_targets_or_acting() {
    let cfg = DqnConfig {
        hidden: vec![16, 12],
        dropout: 0.3,
        batch_size: 16,
        buffer_capacity: 100,
        ..DqnConfig::default()
    };
    let learner = |choice: DeviceChoice| {
        let d = choice.resolve().unwrap();
        DqnLearner::with_layout(TRUNK, A, ActionLayout::default(), cfg.clone(), d, 5).unwrap()
    };
    let (mut cpu, mut burn) = (learner(DeviceChoice::Cpu), learner(DeviceChoice::Flex));
    let masked = |seed: u64| {
        let mut b = random_batch(16, TRUNK, seed, 0);
        b.dropout = vec![
            dropout_mask(16 * 16, 0.3, seed),
            dropout_mask(16 * 12, 0.3, seed + 99),
        ];
        b
    };
    let b = masked(1);
    let (i_cpu, i_burn) = (cpu.inspect(&b).unwrap(), burn.inspect(&b).unwrap());
    close(
        &i_cpu.td_errors,
        &i_burn.td_errors,
        1e-4,
        "TD errors with dropout",
    );
    let mut plain = b.clone();
    plain.dropout.clear();
    let i_plain = cpu.inspect(&plain).unwrap();
    assert_eq!(
        i_plain.targets, i_cpu.targets,
        "targets must not drop units"
    );
    assert_ne!(
        i_plain.td_errors, i_cpu.td_errors,
        "the mask changes the online forward"
    );
    let batches = (0..4).map(|k| masked(10 + k));
    same_updates(&mut cpu, &mut burn, batches, "4 updates with dropout");
    cpu.sync_policy().unwrap();
    let s: Vec<f32> = (0..TRUNK).map(|i| 0.2 * i as f32).collect();
    let (mut q1, mut q2) = (vec![0.0; A], vec![0.0; A]);
    cpu.q_values(&s, &[true; A], &mut q1).unwrap();
    cpu.q_values(&s, &[true; A], &mut q2).unwrap();
    assert_eq!(q1, q2);
}
