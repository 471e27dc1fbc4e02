//! A non-contextual bandit with one arm per streamer slot: UCB1 or ε-greedy on the mean reward
//! per recommendation, restricted to the streams live now.

use super::slate::{SlateSpec, random_slate, select};
use super::{HyperInfo, Mode, Policy, Transition};
use crate::scenario::BanditParams;
use crate::sim::{Observation, OracleView, random};

pub struct Bandit {
    ucb: bool,
    exploration: f64,
    counts: Vec<u64>,
    means: Vec<f64>,
    total: u64,
    /// Running mean and M2 of all rewards (Welford), to scale UCB's bonus to the reward's spread.
    reward_mean: f64,
    reward_m2: f64,
    mode: Mode,
    rng: random::Rng,
    scratch: Vec<f64>,
}

impl Bandit {
    pub fn new(p: &BanditParams, arms: usize, rng: random::Rng) -> Self {
        Bandit {
            ucb: p.kind == "ucb",
            exploration: p.exploration,
            counts: vec![0; arms],
            means: vec![0.0; arms],
            total: 0,
            reward_mean: 0.0,
            reward_m2: 0.0,
            mode: Mode::Train,
            rng,
            scratch: Vec::new(),
        }
    }

    /// Mean observed reward of arm `i` (0 before any pull).
    pub fn mean(&self, i: u32) -> f64 {
        self.means[i as usize]
    }

    fn reward_sd(&self) -> f64 {
        if self.total < 2 {
            1.0
        } else {
            (self.reward_m2 / (self.total - 1) as f64).sqrt().max(1e-6)
        }
    }
}

impl Policy for Bandit {
    fn name(&self) -> &str {
        "bandit"
    }

    fn rank(
        &mut self,
        obs: &Observation<'_>,
        _: Option<&OracleView<'_>>,
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    ) {
        let mut scores = std::mem::take(&mut self.scratch);
        scores.clear();
        if self.mode == Mode::Eval {
            scores.extend(obs.live.iter().map(|&i| self.means[i as usize]));
        } else if self.ucb {
            let ln_t = ((self.total + 1) as f64).ln();
            let scale = self.exploration * self.reward_sd();
            scores.extend(obs.live.iter().map(|&i| match self.counts[i as usize] {
                0 => f64::INFINITY,
                n => self.means[i as usize] + scale * (2.0 * ln_t / n as f64).sqrt(),
            }));
        } else if random::uniform(&mut self.rng) < self.exploration {
            random_slate(&mut self.rng, obs.live, spec.size, out);
            self.scratch = scores;
            return;
        } else {
            scores.extend(obs.live.iter().map(|&i| match self.counts[i as usize] {
                0 => f64::INFINITY,
                _ => self.means[i as usize],
            }));
        }
        select(obs, &scores, spec, out);
        self.scratch = scores;
    }

    fn learn(&mut self, t: &Transition<'_>) {
        if self.mode == Mode::Eval {
            return;
        }
        // Every stream shown is one pull of its arm: the chosen one earned the reward, the
        // others nothing (a slate of one is one pull).
        for (pos, &i) in t.slate.iter().enumerate() {
            let reward = if t.position == Some(pos) {
                t.reward
            } else {
                0.0
            };
            let i = i as usize;
            self.counts[i] += 1;
            self.means[i] += (reward - self.means[i]) / self.counts[i] as f64;
            self.total += 1;
            let delta = reward - self.reward_mean;
            self.reward_mean += delta / self.total as f64;
            self.reward_m2 += delta * (reward - self.reward_mean);
        }
    }

    fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    fn scores(&self, obs: &Observation<'_>, out: &mut Vec<f64>) -> Option<&'static str> {
        out.clear();
        if self.ucb && self.mode == Mode::Train {
            let ln_t = ((self.total + 1) as f64).ln();
            let scale = self.exploration * self.reward_sd();
            out.extend(obs.live.iter().map(|&i| match self.counts[i as usize] {
                0 => f64::INFINITY,
                n => self.means[i as usize] + scale * (2.0 * ln_t / n as f64).sqrt(),
            }));
            Some("UCB index")
        } else {
            out.extend(obs.live.iter().map(|&i| self.means[i as usize]));
            Some("mean reward")
        }
    }

    fn hypers(&self) -> Vec<HyperInfo> {
        vec![HyperInfo {
            name: "exploration".into(),
            value: self.exploration,
            min: 0.0,
            max: if self.ucb { 5.0 } else { 1.0 },
            step: if self.ucb { 0.1 } else { 0.05 },
            log: false,
            help: if self.ucb {
                "UCB bonus scale: higher tries rarely recommended streamers more often".into()
            } else {
                "ε: share of random recommendations".into()
            },
        }]
    }

    fn set_hyper(&mut self, name: &str, value: f64) -> Result<(), String> {
        match name {
            "exploration" if value.is_finite() && value >= 0.0 => {
                self.exploration = value;
                Ok(())
            }
            "exploration" => Err(format!("exploration must be ≥ 0, got {value}")),
            _ => Err(format!("policy `bandit` has no hyperparameter `{name}`")),
        }
    }
}
