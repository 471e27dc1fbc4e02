//! The simplest baselines: `random` among live streams and `popular` (most current viewers).

use super::Policy;
use super::slate::{SlateSpec, random_slate, select};
use crate::sim::{Observation, OracleView, random};

/// Uniformly random among the live streams.
pub struct RandomPolicy {
    rng: random::Rng,
    scores: Vec<f64>,
}

impl RandomPolicy {
    pub fn new(rng: random::Rng) -> Self {
        RandomPolicy {
            rng,
            scores: Vec::new(),
        }
    }
}

impl Policy for RandomPolicy {
    fn name(&self) -> &str {
        "random"
    }
    fn rank(
        &mut self,
        obs: &Observation<'_>,
        _: Option<&OracleView<'_>>,
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    ) {
        if spec.rerank.is_off() {
            return random_slate(&mut self.rng, obs.live, spec.size, out);
        }
        // Re-ranking needs scores: uniform ones.
        let rng = &mut self.rng;
        self.scores.clear();
        self.scores
            .extend(obs.live.iter().map(|_| random::uniform(rng)));
        select(obs, &self.scores, spec, out);
    }
}

/// The live stream with the most viewers right now; ties broken at random.
pub struct Popular {
    rng: random::Rng,
    scores: Vec<f64>,
}

impl Popular {
    pub fn new(rng: random::Rng) -> Self {
        Popular {
            rng,
            scores: Vec::new(),
        }
    }
}

impl Policy for Popular {
    fn name(&self) -> &str {
        "popular"
    }
    fn rank(
        &mut self,
        obs: &Observation<'_>,
        _: Option<&OracleView<'_>>,
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    ) {
        // A tiny random jitter below 1 viewer breaks ties without favouring low ids.
        let rng = &mut self.rng;
        self.scores.clear();
        self.scores.extend(
            obs.live
                .iter()
                .map(|&i| obs.streams[i as usize].viewers as f64 + 0.5 * random::uniform(rng)),
        );
        select(obs, &self.scores, spec, out);
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
