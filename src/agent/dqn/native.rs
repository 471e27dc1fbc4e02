//! liveq's own CPU kernels for the DQN update (device `cpu`): the Double-DQN TD gradient of
//! the MLP written out by hand over the `gemm` crate, on host weight vectors, with no tensor
//! library in between.
//!
//! Why it exists: burn's Flex backend spends about half of an update outside the matrix
//! products (autodiff graph, tensor copies, re-uploading the weights) and its threaded gemm
//! keeps only ~55% of two cores busy at these sizes, so it reaches ~180 updates/s on the
//! default network where the target is 550. This path does the same mathematics as the burn
//! path with fewer FLOPs:
//!
//! - the loss only touches `Q(s, a)` of the taken action, so the output layer's forward on `s`
//!   is a dot product per row and its backward is a rank-1 scatter instead of two matrix
//!   products (with a dueling head, `mean_a A` is `h · mean_col(W_A) + mean(b_A)`, so this
//!   still holds);
//! - with Double DQN the target network is also evaluated at one action per row;
//! - a reward head (`Q = C + R`, `R` fitted to the immediate reward) is likewise one more dot
//!   product and one more rank-1 scatter per row;
//! - the batch is split in two halves computed on two threads (rayon), each with
//!   single-threaded gemm calls, and the two halves' gradients are summed.
//!
//! Weights use the host layout of [`super::network::param_shapes`]: per linear layer
//! (hidden…, head, value) a row-major `[d_in, d_out]` matrix then `d_out` biases. A test
//! checks gradients, TD errors and targets against burn's autodiff on Flex.

use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};

use gemm::Parallelism;

use super::optim::{BETA1, BETA2, HostAdam, adam_kernel, bias_terms};

use std::borrow::Cow;

use super::network::{
    NetShape, features_param_index, fold_group_head, group_param_index, param_shapes,
    reward_param_index, unfold_group_grads,
};
use super::replay::Batch;

/// What one update needs besides the weights.
#[derive(Debug, Clone, Copy)]
pub struct TdSpec {
    /// Double DQN (online argmax, target evaluation) instead of the target's max.
    pub double_dqn: bool,
    /// Huber threshold.
    pub huber_delta: f32,
    /// Weight of the reward head's squared-error loss (used when the network has one).
    pub reward_weight: f32,
}

/// Gradients of the (importance-weighted, batch-mean) Huber TD loss, with the TD errors and
/// the chosen-action Q-values of the batch.
#[derive(Debug, Clone, Default)]
pub struct TdGrads {
    /// One vector per parameter, in host order.
    pub grads: Vec<Vec<f32>>,
    /// `Q(s, a) − y` per row.
    pub delta: Vec<f32>,
    /// `Q(s, a)` per row.
    pub q_sa: Vec<f32>,
    /// `R(s, a) − r` per row, the reward head's error on the immediate reward (empty without
    /// a reward head).
    pub reward_delta: Vec<f32>,
}

/// Reusable buffers (one per half of the batch) so that an update allocates nothing.
#[derive(Debug, Default)]
pub struct NativeScratch {
    /// Keep every update on the calling thread (when other runs share the cores).
    pub single_thread: bool,
    halves: [Half; 2],
    /// The last batch was split: the second half's gradients must be added.
    split: bool,
    /// The second thread, started at the first split update and kept (a thread started per
    /// update would pay for its start and for gemm's per-thread buffers every time).
    helper: Option<Helper>,
}

/// A job lent to the helper thread: a closure on the caller's stack, erased to 'static.
/// Sound because [`Helper::join`] does not return (nor unwind) before the job has finished.
struct JobPtr(*mut (dyn FnMut() + Send + 'static));
// SAFETY: the pointee is `Send`, and only one thread touches it at a time (see `join`).
unsafe impl Send for JobPtr {}

const IDLE: u8 = 0;
const POSTED: u8 = 1;
const DONE: u8 = 2;
const QUIT: u8 = 3;
/// Spins before parking: the two joins of an update and consecutive updates come within
/// microseconds, so the threads usually meet without a system call.
const SPINS: u32 = 20_000;

struct HelperShared {
    state: std::sync::atomic::AtomicU8,
    job: std::sync::Mutex<Option<JobPtr>>,
    panicked: std::sync::atomic::AtomicBool,
    caller: std::sync::Mutex<Option<std::thread::Thread>>,
}

/// One persistent helper thread running one job at a time for [`Helper::join`].
struct Helper {
    shared: std::sync::Arc<HelperShared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Helper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Helper")
    }
}

impl Helper {
    fn start() -> Option<Helper> {
        let shared = std::sync::Arc::new(HelperShared {
            state: std::sync::atomic::AtomicU8::new(IDLE),
            job: std::sync::Mutex::new(None),
            panicked: std::sync::atomic::AtomicBool::new(false),
            caller: std::sync::Mutex::new(None),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("liveq-dqn-helper".into())
            .spawn(move || helper_loop(&s))
            .ok()?;
        Some(Helper {
            shared,
            thread: Some(thread),
        })
    }

    /// Runs `a` on the helper thread and `b` on this one; returns when both are done.
    /// A panic in either is re-raised here, after both have finished.
    fn join<A: FnOnce() + Send, B: FnOnce() -> R, R>(&self, a: A, b: B) -> R {
        let sh = &*self.shared;
        let mut a = Some(a);
        let mut call = move || {
            if let Some(a) = a.take() {
                a()
            }
        };
        let ptr: *mut (dyn FnMut() + Send + '_) = &mut call;
        // SAFETY: lifetime erasure only; the job is finished before `call` goes out of scope
        // (we wait for DONE below whatever `b` does).
        let ptr: *mut (dyn FnMut() + Send + 'static) = unsafe { std::mem::transmute(ptr) };
        *sh.caller.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::thread::current());
        *sh.job.lock().unwrap_or_else(|p| p.into_inner()) = Some(JobPtr(ptr));
        sh.state.store(POSTED, Ordering::Release);
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(b));
        let mut spins = 0u32;
        while sh.state.load(Ordering::Acquire) != DONE {
            if spins < SPINS {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::park_timeout(std::time::Duration::from_millis(1));
            }
        }
        sh.state.store(IDLE, Ordering::Release);
        let helper_panicked = sh.panicked.swap(false, Ordering::AcqRel);
        match r {
            Err(p) => std::panic::resume_unwind(p),
            Ok(_) if helper_panicked => panic!("the DQN helper thread panicked"),
            Ok(v) => v,
        }
    }
}

fn helper_loop(sh: &HelperShared) {
    loop {
        let mut spins = 0u32;
        loop {
            match sh.state.load(Ordering::Acquire) {
                POSTED => break,
                QUIT => return,
                _ if spins < SPINS => {
                    spins += 1;
                    std::hint::spin_loop();
                }
                _ => std::thread::park_timeout(std::time::Duration::from_millis(50)),
            }
        }
        let job = sh.job.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(JobPtr(p)) = job {
            // SAFETY: the poster keeps the closure alive until it sees DONE.
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { (*p)() }));
            sh.panicked.store(ok.is_err(), Ordering::Release);
        }
        sh.state.store(DONE, Ordering::Release);
        if let Some(t) = sh.caller.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            t.unpark();
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.shared.state.store(QUIT, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

#[derive(Debug, Default)]
struct Half {
    /// Post-ReLU outputs of each hidden layer on the states (kept for backward).
    acts: Vec<Vec<f32>>,
    /// Hidden outputs on the next states (no backward).
    next: Vec<Vec<f32>>,
    /// Full output layer on the next states `[rows, num_actions]`.
    head: Vec<f32>,
    /// Upstream gradient ping-pong buffers.
    da: Vec<f32>,
    db: Vec<f32>,
    out: TdGrads,
}

/// `dst[m×n] (+)= lhs[m×k] · rhs[k×n]` with explicit row/column strides (elements).
#[allow(clippy::too_many_arguments)]
fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    accumulate: bool,
    lhs: &[f32],
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: &[f32],
    rhs_rs: usize,
    rhs_cs: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    // Bounds: the last element each operand reaches must lie inside its slice.
    assert!(dst.len() > (m - 1) * dst_rs + (n - 1));
    if k > 0 {
        assert!(lhs.len() > (m - 1) * lhs_rs + (k - 1) * lhs_cs);
        assert!(rhs.len() > (k - 1) * rhs_rs + (n - 1) * rhs_cs);
    }
    // SAFETY: the asserts above keep every access of gemm inside the three slices; `dst`
    // is exclusively borrowed and does not alias `lhs`/`rhs` (distinct borrows).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// What both halves of an update read: the networks, the batch, and what is computed once
/// per update from the weights (so the halves do not each compute it again).
struct Ctx<'a> {
    shape: &'a NetShape,
    online: &'a [Vec<f32>],
    target: &'a [Vec<f32>],
    batch: &'a Batch,
    spec: TdSpec,
    sp_online: Sparse<'a>,
    sp_target: Sparse<'a>,
    /// [`param_shapes`] of `shape`.
    shapes: Vec<Vec<usize>>,
    /// The group of each action (used when the network has a group head).
    action_groups: &'a [u16],
}

impl<'a> Ctx<'a> {
    fn new(
        shape: &'a NetShape,
        online: &'a [Vec<f32>],
        target: &'a [Vec<f32>],
        batch: &'a Batch,
        spec: TdSpec,
        action_groups: &'a [u16],
    ) -> Self {
        Ctx {
            shape,
            online,
            target,
            batch,
            spec,
            sp_online: Sparse::new(shape, online, action_groups),
            sp_target: Sparse::new(shape, target, action_groups),
            action_groups,
            shapes: param_shapes(shape),
        }
    }
}

/// The hidden stack on `rows` states `x` (rows of `input_dim`, of which it reads the trunk
/// input); `outs[l]` receives layer `l`'s ReLU output.
fn forward_hidden(
    shape: &NetShape,
    params: &[Vec<f32>],
    x: &[f32],
    rows: usize,
    outs: &mut Vec<Vec<f32>>,
) {
    outs.resize_with(shape.hidden.len(), Vec::new);
    let mut d_in = shape.trunk_input();
    for l in 0..shape.hidden.len() {
        let d_out = shape.hidden[l];
        let (w, b) = (&params[2 * l], &params[2 * l + 1]);
        let (before, rest) = outs.split_at_mut(l);
        let y = &mut rest[0];
        y.clear();
        for _ in 0..rows {
            y.extend_from_slice(b);
        }
        let (input, in_rs): (&[f32], usize) = if l == 0 {
            (x, shape.input_dim)
        } else {
            (&before[l - 1], d_in)
        };
        matmul(
            rows, d_out, d_in, y, d_out, true, input, in_rs, 1, w, d_out, 1,
        );
        for v in y.iter_mut() {
            *v = v.max(0.0);
        }
        d_in = d_out;
    }
}

/// The output layer (advantages when dueling) on all actions of `rows` last-hidden rows `h`
/// of states `x`: `out[rows × A]`.
fn head_full(sp: &Sparse<'_>, h: &[f32], x: &[f32], rows: usize, out: &mut Vec<f32>) {
    let (d, a) = (sp.d, sp.a);
    out.clear();
    for _ in 0..rows {
        out.extend_from_slice(&sp.b_head);
    }
    matmul(rows, a, d, out, a, true, h, d, 1, &sp.w_head, a, 1);
    if let Some((wr, br)) = sp.reward {
        for row in out.chunks_exact_mut(a) {
            for (q, &b) in row.iter_mut().zip(br) {
                *q += b;
            }
        }
        matmul(rows, a, d, out, a, true, h, d, 1, wr, a, 1);
    }
    if let Some(f) = &sp.features {
        let mut u = vec![0.0f32; f.n];
        for i in 0..rows {
            f.weights(&h[i * d..(i + 1) * d], &mut u);
            let xf = &x[i * sp.input_dim + sp.trunk..(i + 1) * sp.input_dim];
            for (q, xa) in out[i * a..(i + 1) * a].iter_mut().zip(xf.chunks_exact(f.n)) {
                *q += xa.iter().zip(&u).map(|(x, u)| x * u).sum::<f32>();
            }
        }
    }
}

/// The per-action feature head of one network: `[d, F]` weights `u` and `F` biases `e`.
struct FeatureHead<'a> {
    n: usize,
    u: &'a [f32],
    e: &'a [f32],
}

impl FeatureHead<'_> {
    /// The weight of each feature for last-hidden row `h`: `u_j·h + e_j`.
    fn weights(&self, h: &[f32], out: &mut [f32]) {
        out.copy_from_slice(self.e);
        for (k, &hk) in h.iter().enumerate() {
            if hk != 0.0 {
                for (o, &w) in out.iter_mut().zip(&self.u[k * self.n..(k + 1) * self.n]) {
                    *o += hk * w;
                }
            }
        }
    }

    /// The features of action `act` in state row `x`, less their mean over the actions when
    /// the network is dueling (the advantage's mean subtracts them again).
    fn centred(&self, sp: &Sparse<'_>, x: &[f32], act: usize, out: &mut [f32]) {
        let xf = &x[sp.trunk..];
        out.copy_from_slice(&xf[act * self.n..(act + 1) * self.n]);
        if sp.dueling.is_some() {
            let inv = 1.0 / sp.a as f32;
            for xa in xf.chunks_exact(self.n) {
                for (o, &v) in out.iter_mut().zip(xa) {
                    *o -= v * inv;
                }
            }
        }
    }
}

/// Per-network constants for evaluating `Q(s, a)` at a single action.
struct Sparse<'a> {
    d: usize,
    a: usize,
    /// The output layer, with the group head folded in when there is one.
    w_head: Cow<'a, [f32]>,
    b_head: Cow<'a, [f32]>,
    /// Dueling: value weights, its bias, the column mean of the head weights and bias mean.
    dueling: Option<(&'a [f32], f32, Vec<f32>, f32)>,
    /// State length and trunk input length (they differ with per-action features).
    input_dim: usize,
    trunk: usize,
    features: Option<FeatureHead<'a>>,
    /// Reward head weights `[d, A]` and biases (added to Q after the dueling combination).
    reward: Option<(&'a [f32], &'a [f32])>,
}

impl<'a> Sparse<'a> {
    fn new(shape: &NetShape, params: &'a [Vec<f32>], action_groups: &[u16]) -> Self {
        let l = shape.hidden.len();
        let d = shape.hidden[l - 1];
        let a = shape.num_actions;
        let (w_head, b_head): (Cow<'a, [f32]>, Cow<'a, [f32]>) =
            match fold_group_head(shape, params, action_groups) {
                Some((w, b)) => (Cow::Owned(w), Cow::Owned(b)),
                None => (
                    Cow::Borrowed(&params[2 * l]),
                    Cow::Borrowed(&params[2 * l + 1]),
                ),
            };
        let dueling = shape.dueling.then(|| {
            let wbar: Vec<f32> = (0..d)
                .map(|k| w_head[k * a..(k + 1) * a].iter().sum::<f32>() / a as f32)
                .collect();
            let bbar = b_head.iter().sum::<f32>() / a as f32;
            (&params[2 * l + 2][..], params[2 * l + 3][0], wbar, bbar)
        });
        let features = (shape.action_features > 0).then(|| {
            let fi = features_param_index(shape);
            FeatureHead {
                n: shape.action_features,
                u: &params[fi],
                e: &params[fi + 1],
            }
        });
        Self {
            d,
            a,
            w_head,
            b_head,
            dueling,
            input_dim: shape.input_dim,
            trunk: shape.trunk_input(),
            features,
            reward: shape.reward_head.then(|| {
                let ri = reward_param_index(shape);
                (&params[ri][..], &params[ri + 1][..])
            }),
        }
    }

    /// `Q(s, act)` for one state row `x` whose last-hidden features are `h`.
    fn q(&self, h: &[f32], x: &[f32], act: usize) -> f32 {
        let mut q = self.q_head(h, act);
        if let Some(f) = &self.features {
            // Σ_j xc_j · (u_j·h + e_j), one feature at a time (no buffers: called per row).
            let xf = &x[self.trunk..];
            for j in 0..f.n {
                let mut xc = xf[act * f.n + j];
                if self.dueling.is_some() {
                    xc -= xf.iter().skip(j).step_by(f.n).sum::<f32>() / self.a as f32;
                }
                if xc != 0.0 {
                    let w = f.e[j]
                        + h.iter()
                            .zip(f.u.iter().skip(j).step_by(f.n))
                            .map(|(h, u)| h * u)
                            .sum::<f32>();
                    q += xc * w;
                }
            }
        }
        q
    }

    /// The output layer's part of `Q(h, act)` (without per-action features).
    fn q_head(&self, h: &[f32], act: usize) -> f32 {
        let mut q = self.b_head[act];
        let w: &[f32] = &self.w_head;
        for (k, &hk) in h.iter().enumerate() {
            q += hk * w[k * self.a + act];
        }
        if let Some((wv, bv, wbar, bbar)) = &self.dueling {
            q += bv - bbar;
            for k in 0..self.d {
                q += h[k] * (wv[k] - wbar[k]);
            }
        }
        q + self.r(h, act)
    }

    /// The reward head's `R(h, act)` (0 without one).
    fn r(&self, h: &[f32], act: usize) -> f32 {
        let Some((w, b)) = self.reward else {
            return 0.0;
        };
        let mut r = b[act];
        for (k, &hk) in h.iter().enumerate() {
            r += hk * w[k * self.a + act];
        }
        r
    }
}

/// Bootstrap values `v_i = Q_target(s'_i, a*_i)` (0 when the discount is 0) for rows
/// `r0..r0+rows` and the targets `y_i = r_i + discount_i · v_i`.
fn targets_half(cx: &Ctx<'_>, r0: usize, rows: usize, h: &mut Half, y: &mut Vec<f32>) {
    let Ctx {
        shape,
        online,
        target,
        batch,
        ..
    } = *cx;
    let (din, a) = (shape.input_dim, shape.num_actions);
    let last = shape.hidden.len() - 1;
    let d = shape.hidden[last];
    let xn = &batch.next_states[r0 * din..(r0 + rows) * din];
    let bias = &batch.next_mask_bias[r0 * a..(r0 + rows) * a];
    y.clear();
    if cx.spec.double_dqn {
        forward_hidden(shape, online, xn, rows, &mut h.next);
        head_full(&cx.sp_online, &h.next[last], xn, rows, &mut h.head);
        // argmax of Q = argmax of the advantages (V and mean(A) are constant per row).
        let best: Vec<usize> = (0..rows)
            .map(|i| {
                let q = &h.head[i * a..(i + 1) * a];
                let bi = &bias[i * a..(i + 1) * a];
                let mut arg = 0;
                let mut m = f32::NEG_INFINITY;
                for j in 0..a {
                    let v = q[j] + bi[j];
                    if v > m {
                        m = v;
                        arg = j;
                    }
                }
                arg
            })
            .collect();
        forward_hidden(shape, target, xn, rows, &mut h.next);
        let sp = &cx.sp_target;
        for (i, &act) in best.iter().enumerate() {
            let disc = batch.discounts[r0 + i];
            let v = if disc > 0.0 {
                sp.q(
                    &h.next[last][i * d..(i + 1) * d],
                    &xn[i * din..(i + 1) * din],
                    act,
                )
            } else {
                0.0
            };
            y.push(batch.rewards[r0 + i] + disc * v);
        }
    } else {
        forward_hidden(shape, target, xn, rows, &mut h.next);
        head_full(&cx.sp_target, &h.next[last], xn, rows, &mut h.head);
        let sp = &cx.sp_target;
        for i in 0..rows {
            let disc = batch.discounts[r0 + i];
            let q = &h.head[i * a..(i + 1) * a];
            let bi = &bias[i * a..(i + 1) * a];
            let m = q
                .iter()
                .zip(bi)
                .fold(f32::NEG_INFINITY, |m, (&q, &b)| m.max(q + b));
            let v = if disc <= 0.0 {
                0.0
            } else if sp.reward.is_some() {
                // The advantages' mean excludes R: evaluate Q at the argmax instead.
                let arg = (0..a)
                    .max_by(|&j, &k| (q[j] + bi[j]).total_cmp(&(q[k] + bi[k])))
                    .expect("at least one action");
                sp.q(
                    &h.next[last][i * d..(i + 1) * d],
                    &xn[i * din..(i + 1) * din],
                    arg,
                )
            } else if let Some((wv, bv, _, _)) = &sp.dueling {
                let hrow = &h.next[last][i * d..(i + 1) * d];
                let val = bv + hrow.iter().zip(wv.iter()).map(|(x, w)| x * w).sum::<f32>();
                let mean = q.iter().sum::<f32>() / a as f32;
                val + m - mean
            } else {
                m
            };
            y.push(batch.rewards[r0 + i] + disc * v);
        }
    }
}

/// Forward, loss and backward on rows `r0..r0+rows` (the loss is a mean over the whole
/// batch).
fn grads_half(cx: &Ctx<'_>, r0: usize, rows: usize, h: &mut Half) {
    let Ctx {
        shape,
        online,
        batch,
        spec,
        ..
    } = *cx;
    let n_total = batch.size;
    let din = shape.input_dim;
    let a = shape.num_actions;
    let nl = shape.hidden.len();
    let d = shape.hidden[nl - 1];
    let mut y = Vec::with_capacity(rows);
    targets_half(cx, r0, rows, h, &mut y);

    let x = &batch.states[r0 * din..(r0 + rows) * din];
    forward_hidden(shape, online, x, rows, &mut h.acts);
    let sp = &cx.sp_online;
    let hd = spec.huber_delta;
    let out = &mut h.out;
    out.delta.clear();
    out.q_sa.clear();
    // dL/dQ(s_i, a_i) for each row.
    let mut g = Vec::with_capacity(rows);
    for (i, &yi) in y.iter().enumerate() {
        let act = batch.actions[r0 + i] as usize;
        let q = sp.q(
            &h.acts[nl - 1][i * d..(i + 1) * d],
            &x[i * din..(i + 1) * din],
            act,
        );
        let delta = q - yi;
        out.q_sa.push(q);
        out.delta.push(delta);
        g.push(batch.weights[r0 + i] * delta.clamp(-hd, hd) / n_total as f32);
    }

    // The reward head's error on the immediate reward, and its dL/dR per row.
    out.reward_delta.clear();
    let mut g_r = Vec::new();
    if sp.reward.is_some() {
        let hl = &h.acts[nl - 1];
        for i in 0..rows {
            let act = batch.actions[r0 + i] as usize;
            let e = sp.r(&hl[i * d..(i + 1) * d], act) - batch.immediate[r0 + i];
            out.reward_delta.push(e);
            g_r.push(spec.reward_weight * batch.weights[r0 + i] * e / n_total as f32);
        }
    }

    // Gradients, zeroed, in host order.
    let shapes = &cx.shapes;
    out.grads.resize_with(shapes.len(), Vec::new);
    for (i, (gv, s)) in out.grads.iter_mut().zip(shapes).enumerate() {
        let len = s.iter().product();
        if i < 2 * nl && i % 2 == 0 && gv.len() == len {
            continue; // hidden weights: overwritten by their gemm below
        }
        gv.clear();
        gv.resize(len, 0.0);
    }

    // Output layer(s): sparse in the action.
    let hl = &h.acts[nl - 1];
    h.da.clear();
    h.da.resize(rows * d, 0.0);
    {
        let (gw, rest) = out.grads[2 * nl..].split_at_mut(1);
        let gw = &mut gw[0];
        let gb = &mut rest[0];
        let w_head: &[f32] = &sp.w_head;
        for i in 0..rows {
            let act = batch.actions[r0 + i] as usize;
            let gi = g[i];
            gb[act] += gi;
            let hrow = &hl[i * d..(i + 1) * d];
            let darow = &mut h.da[i * d..(i + 1) * d];
            for k in 0..d {
                gw[k * a + act] += gi * hrow[k];
                darow[k] = gi * w_head[k * a + act];
            }
        }
    }
    if let Some((wv, _, wbar, _)) = &sp.dueling {
        // Q = V + A_a − mean(A): value gets g, every advantage column gets −g/A.
        let mut sum_gh = vec![0.0f32; d];
        let mut sum_g = 0.0f32;
        for i in 0..rows {
            let gi = g[i];
            sum_g += gi;
            let hrow = &hl[i * d..(i + 1) * d];
            let darow = &mut h.da[i * d..(i + 1) * d];
            for k in 0..d {
                sum_gh[k] += gi * hrow[k];
                darow[k] += gi * (wv[k] - wbar[k]);
            }
        }
        {
            let gw = &mut out.grads[2 * nl];
            let inv = 1.0 / a as f32;
            for k in 0..d {
                let s = sum_gh[k] * inv;
                for v in &mut gw[k * a..(k + 1) * a] {
                    *v -= s;
                }
            }
        }
        for v in out.grads[2 * nl + 1].iter_mut() {
            *v -= sum_g / a as f32;
        }
        out.grads[2 * nl + 2].copy_from_slice(&sum_gh);
        out.grads[2 * nl + 3][0] = sum_g;
    }
    if shape.groups > 0 {
        // The group head's gradients are the folded output layer's, summed per group.
        let gi = group_param_index(shape);
        let (head, rest) = out.grads.split_at_mut(gi);
        let (gu, gc) = rest.split_at_mut(1);
        unfold_group_grads(
            shape,
            &head[2 * nl],
            &head[2 * nl + 1],
            cx.action_groups,
            &mut gu[0],
            &mut gc[0],
        );
    }

    if let Some(f) = &sp.features {
        // Q adds Σ_j xc_j · (u_j·h + e_j): dU[k, j] = g·xc_j·h_k, de_j = g·xc_j and
        // dh_k += g·Σ_j xc_j·U[k, j].
        let fi = features_param_index(shape);
        let (gu, rest) = out.grads[fi..].split_at_mut(1);
        let (gu, ge) = (&mut gu[0], &mut rest[0]);
        let mut xc = vec![0.0f32; f.n];
        for i in 0..rows {
            let act = batch.actions[r0 + i] as usize;
            f.centred(sp, &x[i * din..(i + 1) * din], act, &mut xc);
            xc.iter_mut().for_each(|v| *v *= g[i]);
            for (e, &v) in ge.iter_mut().zip(&xc) {
                *e += v;
            }
            let hrow = &hl[i * d..(i + 1) * d];
            let darow = &mut h.da[i * d..(i + 1) * d];
            for k in 0..d {
                let urow = &f.u[k * f.n..(k + 1) * f.n];
                let grow = &mut gu[k * f.n..(k + 1) * f.n];
                let mut s = 0.0f32;
                for j in 0..f.n {
                    grow[j] += xc[j] * hrow[k];
                    s += xc[j] * urow[j];
                }
                darow[k] += s;
            }
        }
    }

    if let Some((wr, _)) = sp.reward {
        // Q's TD loss sees R as a constant (R is fitted to the immediate reward alone):
        // dW_R[k, a] = g_r·h_k, db_R[a] = g_r, dh_k += g_r·W_R[k, a].
        let ri = reward_param_index(shape);
        let (gw, rest) = out.grads[ri..].split_at_mut(1);
        let (gw, gb) = (&mut gw[0], &mut rest[0]);
        for (i, &gi) in g_r.iter().enumerate() {
            let act = batch.actions[r0 + i] as usize;
            gb[act] += gi;
            let hrow = &hl[i * d..(i + 1) * d];
            let darow = &mut h.da[i * d..(i + 1) * d];
            for k in 0..d {
                gw[k * a + act] += gi * hrow[k];
                darow[k] += gi * wr[k * a + act];
            }
        }
    }

    // Hidden layers, last to first.
    for l in (0..nl).rev() {
        let (d_in, d_out) = (cx.shapes[2 * l][0], cx.shapes[2 * l][1]);
        // dz = da ⊙ relu'(z)
        relu_mask(&mut h.da, &h.acts[l]);
        let (input, in_rs): (&[f32], usize) = if l == 0 {
            (x, din)
        } else {
            (&h.acts[l - 1], d_in)
        };
        // dW = inputᵀ · dz
        matmul(
            d_in,
            d_out,
            rows,
            &mut out.grads[2 * l],
            d_out,
            false,
            input,
            1,
            in_rs,
            &h.da,
            d_out,
            1,
        );
        let gb = &mut out.grads[2 * l + 1];
        for i in 0..rows {
            for (b, &v) in gb.iter_mut().zip(&h.da[i * d_out..(i + 1) * d_out]) {
                *b += v;
            }
        }
        if l > 0 {
            // da_prev = dz · Wᵀ
            h.db.clear();
            h.db.resize(rows * d_in, 0.0);
            matmul(
                rows,
                d_in,
                d_out,
                &mut h.db,
                d_in,
                false,
                &h.da,
                d_out,
                1,
                &online[2 * l],
                1,
                d_out,
            );
            std::mem::swap(&mut h.da, &mut h.db);
        }
    }
}

#[inline(always)]
fn relu_mask_generic(d: &mut [f32], act: &[f32]) {
    for (v, &a) in d.iter_mut().zip(act) {
        *v = if a > 0.0 { *v } else { 0.0 };
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn relu_mask_avx2(d: &mut [f32], act: &[f32]) {
    relu_mask_generic(d, act)
}

/// `d ⊙ relu'(z)` given the ReLU outputs `act` (branch-free, vectorised).
fn relu_mask(d: &mut [f32], act: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            unsafe { relu_mask_avx2(d, act) };
            return;
        }
    }
    relu_mask_generic(d, act)
}

/// Below this batch size the update runs on one thread.
const SPLIT_MIN_ROWS: usize = 32;

/// TD errors and chosen-action Q-values of `batch` for the `online` weights against
/// `target`; the gradients stay in `scratch` (one part per thread) for [`clip_and_step`].
pub fn td_grads<'s>(
    shape: &NetShape,
    online: &[Vec<f32>],
    target: &[Vec<f32>],
    batch: &Batch,
    spec: TdSpec,
    action_groups: &[u16],
    scratch: &'s mut NativeScratch,
) -> &'s TdGrads {
    let n = batch.size;
    let cx = Ctx::new(shape, online, target, batch, spec, action_groups);
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
    match &scratch.helper {
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
    shape: &NetShape,
    online: &[Vec<f32>],
    target: &[Vec<f32>],
    batch: &Batch,
    spec: TdSpec,
    action_groups: &[u16],
) -> Vec<f32> {
    let mut h = Half::default();
    let mut y = Vec::new();
    let cx = Ctx::new(shape, online, target, batch, spec, action_groups);
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

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn add_sumsq_avx2(g: &mut [f32], g1: Option<&[f32]>) -> f64 {
    add_sumsq_generic(g, g1)
}

/// `g += g1` (when given), then the sum of squares of `g`.
fn add_sumsq(g: &mut [f32], g1: Option<&[f32]>) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { add_sumsq_avx2(g, g1) };
        }
    }
    add_sumsq_generic(g, g1)
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
    /// Test hook: poison the gradient with NaN.
    pub poison: bool,
}

/// Add the two halves' gradients, clip them by their global norm and take one Adam step,
/// split over two threads by parameter tensor. Returns the global norm before clipping;
/// when it is not finite the weights are left untouched (the step counter still moves).
pub fn clip_and_step(scratch: &mut NativeScratch, adam: &mut HostAdam, spec: StepSpec) -> f64 {
    let [h0, h1] = &mut scratch.halves;
    let helper = scratch.helper.as_ref();
    let g1s = scratch.split.then_some(&h1.out.grads);
    adam.t += 1;
    let (step, eps_hat) = bias_terms(adam.t, spec.lr, spec.eps);
    let HostAdam { params, m, v, .. } = adam;
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
        });
    }
    let max_norm = spec.max_norm;
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

/// Below this many parameters the optimizer step runs on one thread.
const PARALLEL_STEP_MIN: usize = 32_768;
