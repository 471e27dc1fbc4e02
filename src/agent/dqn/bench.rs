//! Speed measurements: full Double-DQN updates on random data ([`update_benchmark`]), the
//! acting forward ([`act_benchmark`]) and an end-to-end loop of act + observe + train every
//! 4 steps on random states ([`end_to_end_benchmark`]).

use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::config::DqnConfig;
use super::device::DeviceChoice;
use super::error::DqnError;
use super::learner::DqnLearner;

/// Result of [`update_benchmark`].
#[derive(Debug, Clone)]
pub struct BenchResult {
    /// Updates timed (after warm-up).
    pub updates: u64,
    /// Seconds they took.
    pub seconds: f64,
    /// Gradient updates per second.
    pub updates_per_second: f64,
    /// Milliseconds per update.
    pub ms_per_update: f64,
    /// Seconds of warm-up (first updates: shader compilation, autotune).
    pub warmup_seconds: f64,
    /// Device name.
    pub device: String,
}

/// Options of [`update_benchmark`].
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// State length.
    pub input_dim: usize,
    /// Actions.
    pub num_actions: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Batch size.
    pub batch: usize,
    /// Device.
    pub device: DeviceChoice,
    /// Time budget (after warm-up).
    pub seconds: f64,
    /// Update budget (after warm-up); whichever of the two ends first.
    pub max_updates: u64,
    /// Warm-up updates.
    pub warmup_updates: u64,
    /// Prioritized replay.
    pub prioritized: bool,
    /// Dueling head.
    pub dueling: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            input_dim: 64,
            num_actions: 200,
            hidden: vec![256, 256],
            batch: 128,
            device: DeviceChoice::Cpu,
            seconds: 5.0,
            max_updates: u64::MAX,
            warmup_updates: 20,
            prioritized: false,
            dueling: false,
        }
    }
}

fn random_mask<R: rand::Rng>(rng: &mut R, out: &mut [bool]) {
    for m in out.iter_mut() {
        *m = rng.random::<f32>() < 0.7;
    }
    out[0] = true;
}

/// A learner whose replay holds `fill` random transitions.
pub fn filled_learner(o: &BenchOptions, fill: usize, seed: u64) -> Result<DqnLearner, DqnError> {
    let config = DqnConfig {
        hidden: o.hidden.clone(),
        batch_size: o.batch,
        buffer_capacity: fill.max(o.batch),
        prioritized: o.prioritized,
        dueling: o.dueling,
        learning_starts: usize::MAX / 2,
        n_step: 1,
        ..DqnConfig::default()
    };
    let mut l = DqnLearner::new(o.input_dim, o.num_actions, config, o.device, seed)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xABCD);
    let mut s = vec![0.0f32; o.input_dim];
    let mut s2 = vec![0.0f32; o.input_dim];
    let mut m = vec![true; o.num_actions];
    let mut m2 = vec![true; o.num_actions];
    for i in 0..fill {
        s.iter_mut().for_each(|x| *x = rng.random::<f32>());
        s2.iter_mut().for_each(|x| *x = rng.random::<f32>());
        random_mask(&mut rng, &mut m);
        random_mask(&mut rng, &mut m2);
        let a = rng.random_range(0..o.num_actions);
        let done = rng.random::<f32>() < 0.05;
        l.observe_only(i as u64, &s, &m, a, rng.random::<f32>(), &s2, &m2, done)?;
    }
    Ok(l)
}

/// Time full Double-DQN updates (sampling, Huber, Adam, target net) on random data.
pub fn update_benchmark(o: &BenchOptions) -> Result<BenchResult, DqnError> {
    let mut l = filled_learner(o, 10_000.max(o.batch), 7)?;
    let t0 = Instant::now();
    for _ in 0..o.warmup_updates {
        l.update()?;
    }
    let warmup = t0.elapsed().as_secs_f64();
    let budget = Duration::from_secs_f64(o.seconds);
    let t1 = Instant::now();
    let mut n = 0u64;
    while n < o.max_updates && t1.elapsed() < budget {
        l.update()?;
        n += 1;
    }
    let secs = t1.elapsed().as_secs_f64();
    Ok(BenchResult {
        updates: n,
        seconds: secs,
        updates_per_second: n as f64 / secs,
        ms_per_update: secs * 1000.0 / n.max(1) as f64,
        warmup_seconds: warmup,
        device: l.stats().device,
    })
}

/// Mean microseconds of one `act` (greedy, CPU copy) over `iters` random states.
pub fn act_benchmark(o: &BenchOptions, iters: usize) -> Result<f64, DqnError> {
    let config = DqnConfig {
        hidden: o.hidden.clone(),
        batch_size: o.batch.min(1000),
        buffer_capacity: 1000.max(o.batch),
        ..DqnConfig::default()
    };
    let mut l = DqnLearner::new(o.input_dim, o.num_actions, config, o.device, 1)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let states: Vec<Vec<f32>> = (0..64)
        .map(|_| (0..o.input_dim).map(|_| rng.random::<f32>()).collect())
        .collect();
    let mut mask = vec![true; o.num_actions];
    random_mask(&mut rng, &mut mask);
    let t = Instant::now();
    let mut acc = 0usize;
    for i in 0..iters {
        acc += l.act(&states[i % states.len()], &mask, false).unwrap_or(0);
    }
    std::hint::black_box(acc);
    Ok(t.elapsed().as_secs_f64() * 1e6 / iters as f64)
}

/// End-to-end env steps per second: act (ε-greedy) + observe on random states with many
/// interleaved episode keys, training every 4 steps after `batch` warm-up steps.
pub fn end_to_end_benchmark(o: &BenchOptions, steps: u64) -> Result<(f64, u64), DqnError> {
    let config = DqnConfig {
        hidden: o.hidden.clone(),
        batch_size: o.batch,
        buffer_capacity: 100_000,
        prioritized: o.prioritized,
        learning_starts: o.batch.max(1000),
        train_freq: 4,
        eps_decay_steps: steps as usize / 2,
        ..DqnConfig::default()
    };
    let mut l = DqnLearner::new(o.input_dim, o.num_actions, config, o.device, 3)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let keys = 1000u64;
    let mut states: Vec<Vec<f32>> = (0..keys)
        .map(|_| (0..o.input_dim).map(|_| rng.random::<f32>()).collect())
        .collect();
    let mut mask = vec![true; o.num_actions];
    let mut next_mask = vec![true; o.num_actions];
    let mut next = vec![0.0f32; o.input_dim];
    let t = Instant::now();
    for _ in 0..steps {
        let k = (rng.random::<u64>() % keys) as usize;
        random_mask(&mut rng, &mut mask);
        let a = l.act(&states[k], &mask, true).unwrap_or(0);
        next.iter_mut().for_each(|x| *x = rng.random::<f32>());
        random_mask(&mut rng, &mut next_mask);
        let done = rng.random::<f32>() < 0.02;
        let r = if a % 7 == 0 { 1.0 } else { 0.0 };
        l.observe(k as u64, &states[k], &mask, a, r, &next, &next_mask, done)?;
        states[k].copy_from_slice(&next);
    }
    let secs = t.elapsed().as_secs_f64();
    Ok((steps as f64 / secs, l.stats().updates))
}
