//! liveq's own CPU trainer (device `cpu`): host weight vectors, the hand-written TD gradient
//! of [`kernels`], and a fused host Adam step with global-norm clipping, split over two
//! threads ([`threads`]). No tensor library is involved.
//!
//! Why it exists: burn's Flex backend spends about half of an update outside the matrix
//! products (autodiff graph, tensor copies) and its threaded gemm keeps only part of two
//! cores busy at these sizes; this path does the same mathematics with fewer FLOPs (the loss
//! touches `Q` at one action per row). A test checks targets, TD errors, gradients and
//! updates against burn's autodiff on Flex for every combination of heads.
//!
//! What it can run is the fast-path rule of ARCHITECTURE.md, checked by [`supports`].

pub mod gemm;
pub mod kernels;
pub mod threads;

use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};

use self::kernels::{Ctx, Half, TdGrads, grads_half, targets_half};
use self::threads::Helper;
use super::acting::CpuPolicy;
use super::error::DqnError;
use super::heads::ActionMaps;
use super::optim::{BETA1, BETA2, HostAdam, adam_kernel, bias_terms};
use super::replay::Batch;
use super::shape::{Head, NetShape, ParamLayout};
use super::simd::avx2_dispatch;
use super::trainer::{
    Inspection, Readback, TargetUpdate, TdSpec, Trainer, TrainerState, UpdateOutcome, UpdateSpec,
};

/// Below this batch size the update runs on one thread.
const SPLIT_MIN_ROWS: usize = 32;
/// Below this many parameters the optimizer step runs on one thread.
const PARALLEL_STEP_MIN: usize = 32_768;

/// Whether the CPU trainer can run `shape`, and why not. The rule: row-independent layers,
/// and heads that touch `Q` at one action per row or fold into the output layer.
pub fn supports(shape: &NetShape) -> Result<(), String> {
    if shape.hidden.is_empty() {
        return Err("the CPU kernels need at least one hidden layer".into());
    }
    for head in &shape.heads {
        match head {
            // One action per row (a dot product), or folded into the output layer.
            Head::Dueling
            | Head::Group { .. }
            | Head::Content { .. }
            | Head::ActionFeatures { .. }
            | Head::Reward => {}
            Head::GatedContent { .. } => return Err(NOT_ROW_LOCAL.into()),
        }
    }
    Ok(())
}

/// Why the CPU kernels refuse gated content fusion.
pub const NOT_ROW_LOCAL: &str = "gated content fusion: its gates depend on the state, so its \
     term does not fold into the output layer";

/// Reusable buffers (one per half of the batch) so that an update allocates little.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Keep every update on the calling thread (when other runs share the cores).
    pub single_thread: bool,
    halves: [Half; 2],
    /// The last batch was split: the second half's gradients must be added.
    split: bool,
    /// The second thread, started at the first split update and kept.
    helper: Option<Helper>,
}

/// TD errors and chosen-action Q-values of `batch` for the `online` weights against
/// `target`; the gradients stay in `scratch` (one part per thread) for [`clip_and_step`].
pub fn td_grads<'s>(
    layout: &ParamLayout,
    online: &[Vec<f32>],
    target: &[Vec<f32>],
    batch: &Batch,
    spec: TdSpec,
    maps: &ActionMaps,
    scratch: &'s mut Scratch,
) -> &'s TdGrads {
    let n = batch.size;
    let cx = Ctx::new(layout, online, target, batch, spec, maps);
    let [h0, h1] = &mut scratch.halves;
    if n < SPLIT_MIN_ROWS || scratch.single_thread {
        grads_half(&cx, 0, n, h0);
        scratch.split = false;
        return &h0.out;
    }
    let mid = n / 2;
    if scratch.helper.is_none() {
        scratch.helper = Helper::start();
    }
    match scratch.helper.as_mut() {
        Some(helper) => helper.join(
            || grads_half(&cx, mid, n - mid, h1),
            || grads_half(&cx, 0, mid, h0),
        ),
        None => {
            grads_half(&cx, mid, n - mid, h1);
            grads_half(&cx, 0, mid, h0);
        }
    }
    scratch.split = true;
    let (o0, o1) = (&mut h0.out, &h1.out);
    o0.delta.extend_from_slice(&o1.delta);
    o0.q_sa.extend_from_slice(&o1.q_sa);
    o0.reward_delta.extend_from_slice(&o1.reward_delta);
    &h0.out
}

/// TD targets `y` of every row of `batch` (no gradients).
pub fn td_targets(
    layout: &ParamLayout,
    online: &[Vec<f32>],
    target: &[Vec<f32>],
    batch: &Batch,
    spec: TdSpec,
    maps: &ActionMaps,
) -> Vec<f32> {
    let mut h = Half::default();
    let mut y = Vec::new();
    let cx = Ctx::new(layout, online, target, batch, spec, maps);
    targets_half(&cx, 0, batch.size, &mut h, &mut y);
    y
}

/// One parameter tensor's share of the optimizer step.
struct Item<'a> {
    p: &'a mut [f32],
    m: &'a mut [f32],
    v: &'a mut [f32],
    g: &'a mut [f32],
    /// The second half's gradient, added into `g`.
    g1: Option<&'a [f32]>,
    /// Slot shrinkage applies: the number of slots (the length of each row pulled toward
    /// its mean), else 0.
    slots: usize,
}

/// Moves every value of each `slots`-long row of `p` `rate` of the way to the row's mean.
fn shrink_rows(p: &mut [f32], slots: usize, rate: f32) {
    for row in p.chunks_exact_mut(slots) {
        let mean = row.iter().sum::<f32>() / slots as f32;
        row.iter_mut().for_each(|x| *x -= rate * (*x - mean));
    }
}

#[inline(always)]
fn add_sumsq_generic(g: &mut [f32], g1: Option<&[f32]>) -> f64 {
    const L: usize = 16;
    let mut acc = [0.0f32; L];
    if let Some(g1) = g1 {
        for (a, b) in g.iter_mut().zip(g1) {
            *a += b;
        }
    }
    let mut chunks = g.chunks_exact(L);
    for c in &mut chunks {
        for i in 0..L {
            acc[i] += c[i] * c[i];
        }
    }
    let tail: f64 = chunks.remainder().iter().map(|&x| (x * x) as f64).sum();
    acc.iter().map(|&x| x as f64).sum::<f64>() + tail
}

avx2_dispatch! {
    /// `g += g1` (when given), then the sum of squares of `g`.
    fn add_sumsq(g: &mut [f32], g1: Option<&[f32]>) -> f64 => add_sumsq_generic
}

/// What [`clip_and_step`] needs to know besides the gradients.
#[derive(Debug, Clone, Copy)]
pub struct StepSpec {
    /// Global-norm clip (0 = off).
    pub max_norm: f64,
    /// Adam learning rate.
    pub lr: f64,
    /// Adam ε.
    pub eps: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    /// Decoupled slot shrinkage: the output layer (weight at this index, bias after it),
    /// and the multiplier of `lr` by which its columns move toward their average.
    pub shrink: Option<(usize, f64)>,
    /// Test hook: poison the gradient with NaN.
    pub poison: bool,
}

/// Add the two halves' gradients, clip them by their global norm and take one Adam step,
/// split over two threads by parameter tensor. Returns the global norm before clipping;
/// when it is not finite the weights are left untouched (the step counter still moves).
pub fn clip_and_step(scratch: &mut Scratch, adam: &mut HostAdam, spec: StepSpec) -> f64 {
    let [h0, h1] = &mut scratch.halves;
    let helper = scratch.helper.as_mut();
    let g1s = scratch.split.then_some(&h1.out.grads);
    adam.t += 1;
    let (step, eps_hat) = bias_terms(adam.t, spec.lr, spec.eps);
    let HostAdam { params, m, v, .. } = adam;
    // The output layer's weight index and the shrinkage's rate, when it shrinks.
    let shrink = spec.shrink.filter(|&(_, s)| s > 0.0);
    let rate = shrink.map_or(0.0, |(_, s)| (spec.lr * s) as f32);
    let slots = shrink.map_or(0, |(w, _)| params[w + 1].len());
    // Balance the two threads by element count (largest tensors first).
    let mut order: Vec<usize> = (0..params.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(params[i].len()));
    let mut assign = vec![0usize; params.len()];
    let mut load = [0usize; 2];
    for i in order {
        let g = usize::from(load[1] < load[0]);
        assign[i] = g;
        load[g] += params[i].len();
    }
    let mut groups: [Vec<Item<'_>>; 2] = [Vec::new(), Vec::new()];
    for (i, (((p, m), v), g)) in params
        .iter_mut()
        .zip(m.iter_mut())
        .zip(v.iter_mut())
        .zip(h0.out.grads.iter_mut())
        .enumerate()
    {
        if spec.poison && i == 0 {
            g[0] = f32::NAN;
        }
        groups[assign[i]].push(Item {
            p,
            m,
            v,
            g,
            g1: g1s.map(|g1| &g1[i][..]),
            slots: match shrink {
                Some((w, _)) if i == w || i == w + 1 => slots,
                _ => 0,
            },
        });
    }
    let max_norm = spec.max_norm;
    // AdamW's decoupled decay, before the Adam step (PyTorch's order).
    let decay = (1.0 - spec.lr * spec.weight_decay) as f32;
    let apply = |items: &mut Vec<Item<'_>>, norm: f64| {
        if !norm.is_finite() {
            return;
        }
        let scale = if max_norm > 0.0 && norm > max_norm {
            (max_norm / (norm + 1e-6)) as f32
        } else {
            1.0
        };
        for it in items.iter_mut() {
            if scale != 1.0 {
                it.g.iter_mut().for_each(|x| *x *= scale);
            }
            // The slot shrinkage, then AdamW's decay, both from the weights before the step.
            if it.slots > 0 {
                shrink_rows(it.p, it.slots, rate);
            }
            if decay != 1.0 {
                it.p.iter_mut().for_each(|x| *x *= decay);
            }
            adam_kernel(
                it.p,
                it.m,
                it.v,
                it.g,
                BETA1 as f32,
                BETA2 as f32,
                step,
                eps_hat,
            );
        }
    };
    let sumsq = |items: &mut Vec<Item<'_>>| -> f64 {
        items.iter_mut().map(|it| add_sumsq(it.g, it.g1)).sum()
    };
    let [ga, gb] = &mut groups;
    let helper = helper.filter(|_| load[0] + load[1] >= PARALLEL_STEP_MIN);
    let Some(helper) = helper else {
        let norm = (sumsq(ga) + sumsq(gb)).sqrt();
        apply(ga, norm);
        apply(gb, norm);
        return norm;
    };
    let (sa, sb) = (AtomicU64::new(0), AtomicU64::new(0));
    let barrier = Barrier::new(2);
    let work = |items: &mut Vec<Item<'_>>, mine: &AtomicU64, other: &AtomicU64| -> f64 {
        mine.store(sumsq(items).to_bits(), Ordering::SeqCst);
        barrier.wait();
        let norm = (f64::from_bits(mine.load(Ordering::SeqCst))
            + f64::from_bits(other.load(Ordering::SeqCst)))
        .sqrt();
        apply(items, norm);
        norm
    };
    helper.join(
        || {
            let _ = work(gb, &sb, &sa);
        },
        || work(ga, &sa, &sb),
    )
}

/// The CPU trainer: master weights, target and Adam state in host vectors.
#[derive(Debug)]
pub struct CpuTrainer {
    layout: ParamLayout,
    adam: HostAdam,
    target: Vec<Vec<f32>>,
    maps: ActionMaps,
    scratch: Scratch,
    snapshot: (HostAdam, Vec<Vec<f32>>),
}

impl CpuTrainer {
    /// A trainer starting from `params` (online and target alike), fresh Adam state.
    pub fn new(layout: ParamLayout, params: Vec<Vec<f32>>) -> Self {
        let adam = HostAdam::new(params.clone());
        let maps = ActionMaps::new(&layout.shape);
        Self {
            layout,
            snapshot: (adam.clone(), params.clone()),
            adam,
            target: params,
            maps,
            scratch: Scratch::default(),
        }
    }
}

impl Trainer for CpuTrainer {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    fn set_action_maps(&mut self, maps: &ActionMaps) {
        self.maps.clone_from(maps);
    }

    fn update(&mut self, batch: &Batch, spec: &UpdateSpec) -> Result<UpdateOutcome, DqnError> {
        let out = td_grads(
            &self.layout,
            &self.adam.params,
            &self.target,
            batch,
            spec.td,
            &self.maps,
            &mut self.scratch,
        );
        let readback = Readback {
            delta: out.delta.clone(),
            q_sa: out.q_sa.clone(),
        };
        let step = StepSpec {
            max_norm: spec.max_norm,
            lr: spec.lr,
            eps: spec.eps,
            weight_decay: spec.weight_decay,
            shrink: Some((self.layout.output.w, spec.slot_shrinkage)),
            poison: spec.poison,
        };
        // A non-finite norm leaves the weights untouched; the error rolls back.
        let norm = clip_and_step(&mut self.scratch, &mut self.adam, step);
        if !norm.is_finite() {
            return Err(DqnError::NonFinite {
                what: "gradient norm".into(),
                update: 0,
                restored_update: 0,
            });
        }
        Ok(UpdateOutcome {
            readback: Some(readback),
            grad_norm: Some(norm),
        })
    }

    fn inspect(&self, batch: &Batch, td: TdSpec) -> Result<Inspection, DqnError> {
        let (online, target) = (&self.adam.params, &self.target);
        let mut scratch = Scratch {
            single_thread: true,
            ..Scratch::default()
        };
        let out = td_grads(
            &self.layout,
            online,
            target,
            batch,
            td,
            &self.maps,
            &mut scratch,
        );
        Ok(Inspection {
            targets: td_targets(&self.layout, online, target, batch, td, &self.maps),
            td_errors: out.delta.clone(),
            reward_errors: self
                .layout
                .shape
                .reward_head()
                .then(|| out.reward_delta.clone()),
        })
    }

    fn gradients(&self, batch: &Batch, td: TdSpec) -> Result<Vec<Vec<f32>>, DqnError> {
        let mut scratch = Scratch {
            single_thread: self.scratch.single_thread,
            ..Scratch::default()
        };
        td_grads(
            &self.layout,
            &self.adam.params,
            &self.target,
            batch,
            td,
            &self.maps,
            &mut scratch,
        );
        let [h0, h1] = &scratch.halves;
        let mut g = h0.out.grads.clone();
        if scratch.split {
            for (a, b) in g.iter_mut().zip(&h1.out.grads) {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
            }
        }
        Ok(g)
    }

    fn update_target(&mut self, how: TargetUpdate) {
        match how {
            TargetUpdate::Hard => self.target.clone_from(&self.adam.params),
            TargetUpdate::Soft(tau) => {
                let tau = tau as f32;
                for (t, o) in self.target.iter_mut().zip(&self.adam.params) {
                    for (t, &o) in t.iter_mut().zip(o) {
                        *t = tau * o + (1.0 - tau) * *t;
                    }
                }
            }
        }
    }

    fn online_params(&self) -> Result<Vec<Vec<f32>>, DqnError> {
        Ok(self.adam.params.clone())
    }

    fn target_params(&self) -> Result<Vec<Vec<f32>>, DqnError> {
        Ok(self.target.clone())
    }

    fn state(&self) -> Result<TrainerState, DqnError> {
        Ok(TrainerState {
            online: self.adam.params.clone(),
            target: self.target.clone(),
            m: self.adam.m.clone(),
            v: self.adam.v.clone(),
            t: self.adam.t,
        })
    }

    fn restore(&mut self, s: TrainerState) -> Result<(), DqnError> {
        self.adam = HostAdam {
            params: s.online,
            m: s.m,
            v: s.v,
            t: s.t,
        };
        self.target = s.target;
        Ok(())
    }

    fn take_snapshot(&mut self) {
        self.snapshot = (self.adam.clone(), self.target.clone());
    }

    fn restore_snapshot(&mut self) {
        let (adam, target) = self.snapshot.clone();
        self.adam = adam;
        self.target = target;
    }

    fn acting_net(&self) -> Result<CpuPolicy, DqnError> {
        Ok(CpuPolicy::from_host(
            &self.layout,
            &self.adam.params,
            &self.maps,
        ))
    }

    fn set_threads(&mut self, threads: usize) {
        self.scratch.single_thread = threads <= 1;
    }
}
