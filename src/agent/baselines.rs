//! The simplest baselines: `random` among live streams and `popular` (most current viewers).

use super::{Policy, argmax_by};
use crate::sim::{Observation, OracleView, random};

/// Uniformly random among the live streams.
pub struct RandomPolicy {
    rng: random::Rng,
}

impl RandomPolicy {
    pub fn new(rng: random::Rng) -> Self {
        RandomPolicy { rng }
    }
}

impl Policy for RandomPolicy {
    fn name(&self) -> &str {
        "random"
    }
    fn act(&mut self, obs: &Observation<'_>, _: Option<&OracleView<'_>>) -> u32 {
        obs.live[random::below(&mut self.rng, obs.live.len())]
    }
}

/// The live stream with the most viewers right now; ties broken at random.
pub struct Popular {
    rng: random::Rng,
}

impl Popular {
    pub fn new(rng: random::Rng) -> Self {
        Popular { rng }
    }
}

impl Policy for Popular {
    fn name(&self) -> &str {
        "popular"
    }
    fn act(&mut self, obs: &Observation<'_>, _: Option<&OracleView<'_>>) -> u32 {
        // A tiny random jitter below 1 viewer breaks ties without favouring low ids.
        let rng = &mut self.rng;
        argmax_by(obs.live, |i| {
            obs.streams[i as usize].viewers as f64 + 0.5 * random::uniform(rng)
        })
    }

    fn scores(&self, obs: &Observation<'_>, out: &mut Vec<f64>) -> Option<&'static str> {
        out.clear();
        out.extend(
            obs.live
                .iter()
                .map(|&i| obs.streams[i as usize].viewers as f64),
        );
        Some("viewers")
    }
}
