//! `mf`: matrix factorisation of viewers × streamers, trained online from the recommendation
//! log. A viewer is the normalised sum of the implicit factors `y` of the streams in its
//! watch log (the factored item-similarity form, so a viewer never seen in training — every
//! viewer of the evaluation world — still has a vector); a stream has a factor `q` and a bias.
//! The predicted reward of showing stream `s` is `μ + b_s + u·q_s`; every stream of every slate
//! shown is one example (the chosen one's target its reward, the others' 0), fitted by SGD with
//! L2 regularisation. It explores ε-greedily while training and is frozen in evaluation.
//! A slot's factors restart when a new streamer takes it.

use std::collections::HashMap;

use super::content::still_current;
use super::slate::{SlateSpec, random_slate, select};
use super::{HyperInfo, Mode, Policy, Transition};
use crate::sim::{Observation, OracleView, random};

/// Factors per viewer and per stream.
pub const FACTORS: usize = 16;
const LR: f32 = 0.02;
const L2: f32 = 0.01;
const INIT_SD: f64 = 0.05;

/// The factor model.
pub struct Mf {
    /// Per slot: the stream factor `q`, the implicit factor `y` (`FACTORS` each), the bias.
    q: Vec<f32>,
    y: Vec<f32>,
    bias: Vec<f32>,
    /// `joined_at` of each slot's current streamer (NaN before the first observation).
    streamer: Vec<f64>,
    /// Mean target so far.
    mean: f64,
    seen: u64,
    exploration: f64,
    mode: Mode,
    /// Per viewer, what its last slate was scored with: the logged watches and its vector.
    pending: HashMap<u32, Pending>,
    rng: random::Rng,
    scores: Vec<f64>,
}

struct Pending {
    watched: Vec<u32>,
    user: [f32; FACTORS],
}

impl Mf {
    pub fn new(streamers: usize, exploration: f64, mut rng: random::Rng) -> Self {
        let mut init = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| random::normal(&mut rng, 0.0, INIT_SD) as f32)
                .collect()
        };
        let (q, y) = (init(streamers * FACTORS), init(streamers * FACTORS));
        Mf {
            q,
            y,
            bias: vec![0.0; streamers],
            streamer: vec![f64::NAN; streamers],
            mean: 0.0,
            seen: 0,
            exploration,
            mode: Mode::Train,
            pending: HashMap::new(),
            rng,
            scores: Vec::new(),
        }
    }

    /// Restarts the factors of slots whose streamer changed since they were last seen.
    fn refresh(&mut self, obs: &Observation<'_>) {
        for (i, s) in obs.streams.iter().enumerate() {
            if self.streamer[i].to_bits() == s.joined_at.to_bits() {
                continue;
            }
            if !self.streamer[i].is_nan() {
                for f in 0..FACTORS {
                    self.q[i * FACTORS + f] = random::normal(&mut self.rng, 0.0, INIT_SD) as f32;
                    self.y[i * FACTORS + f] = random::normal(&mut self.rng, 0.0, INIT_SD) as f32;
                }
                self.bias[i] = 0.0;
            }
            self.streamer[i] = s.joined_at;
        }
    }

    /// The viewer's logged watches of current streamers, and its vector.
    fn user(&self, obs: &Observation<'_>) -> (Vec<u32>, [f32; FACTORS]) {
        let watched: Vec<u32> = obs
            .history
            .recent_watches
            .iter()
            .filter(|w| still_current(w, obs))
            .map(|w| w.slot)
            .collect();
        let mut u = [0.0f32; FACTORS];
        if !watched.is_empty() {
            let scale = 1.0 / (watched.len() as f32).sqrt();
            for &j in &watched {
                for (x, y) in u.iter_mut().zip(self.factors(&self.y, j)) {
                    *x += scale * y;
                }
            }
        }
        (watched, u)
    }

    fn factors<'a>(&self, m: &'a [f32], i: u32) -> &'a [f32] {
        &m[i as usize * FACTORS..(i as usize + 1) * FACTORS]
    }

    fn predict(&self, u: &[f32; FACTORS], i: u32) -> f64 {
        let dot: f32 = u
            .iter()
            .zip(self.factors(&self.q, i))
            .map(|(a, b)| a * b)
            .sum();
        self.mean + (self.bias[i as usize] + dot) as f64
    }

    fn score_all(&mut self, obs: &Observation<'_>) -> (Vec<u32>, [f32; FACTORS]) {
        self.refresh(obs);
        let (watched, u) = self.user(obs);
        let mut scores = std::mem::take(&mut self.scores);
        scores.clear();
        scores.extend(obs.live.iter().map(|&i| self.predict(&u, i)));
        self.scores = scores;
        (watched, u)
    }

    /// One SGD step on showing stream `i` to a viewer of vector `u` (watches `watched`).
    fn fit(&mut self, watched: &[u32], u: &[f32; FACTORS], i: u32, target: f64) {
        self.seen += 1;
        self.mean += (target - self.mean) / self.seen as f64;
        let err = (target - self.predict(u, i)) as f32;
        let b = &mut self.bias[i as usize];
        *b += LR * (err - L2 * *b);
        let at = i as usize * FACTORS;
        let q: [f32; FACTORS] = self.q[at..at + FACTORS].try_into().expect("FACTORS");
        for (qf, &uf) in self.q[at..at + FACTORS].iter_mut().zip(u) {
            *qf += LR * (err * uf - L2 * *qf);
        }
        if watched.is_empty() {
            return;
        }
        let scale = 1.0 / (watched.len() as f32).sqrt();
        for &j in watched {
            let at = j as usize * FACTORS;
            for (y, &qf) in self.y[at..at + FACTORS].iter_mut().zip(&q) {
                *y += LR * (err * scale * qf - L2 * *y);
            }
        }
    }
}

impl Policy for Mf {
    fn name(&self) -> &str {
        "mf"
    }

    fn rank(
        &mut self,
        obs: &Observation<'_>,
        _: Option<&OracleView<'_>>,
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    ) {
        let (watched, user) = self.score_all(obs);
        if self.mode == Mode::Train {
            self.pending.insert(obs.viewer, Pending { watched, user });
            if random::uniform(&mut self.rng) < self.exploration {
                return random_slate(&mut self.rng, obs.live, spec.size, out);
            }
        }
        select(obs, &self.scores, spec, out);
    }

    fn learn(&mut self, t: &Transition<'_>) {
        if self.mode == Mode::Eval {
            return;
        }
        let Some(p) = self.pending.remove(&t.viewer) else {
            return;
        };
        for (pos, &i) in t.slate.iter().enumerate() {
            let target = if t.position == Some(pos) {
                t.reward
            } else {
                0.0
            };
            self.fit(&p.watched, &p.user, i, target);
        }
    }

    fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
        self.pending.clear();
    }

    fn scores(&self, obs: &Observation<'_>, out: &mut Vec<f64>) -> Option<&'static str> {
        let (_, u) = self.user(obs);
        out.clear();
        out.extend(obs.live.iter().map(|&i| self.predict(&u, i)));
        Some("predicted reward")
    }

    fn hypers(&self) -> Vec<HyperInfo> {
        vec![HyperInfo {
            name: "exploration".into(),
            value: self.exploration,
            min: 0.0,
            max: 1.0,
            step: 0.05,
            log: false,
            help: "share of training slates drawn at random".into(),
        }]
    }

    fn set_hyper(&mut self, name: &str, value: f64) -> Result<(), String> {
        match name {
            "exploration" if (0.0..=1.0).contains(&value) => {
                self.exploration = value;
                Ok(())
            }
            "exploration" => Err(format!("exploration must be in [0, 1], got {value}")),
            _ => Err(format!("policy `mf` has no hyperparameter `{name}`")),
        }
    }
}
