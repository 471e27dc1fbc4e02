//! Reference policies that read the hidden state: the strongest short-sighted policy
//! (`myopic-oracle`) and one that prefers quality over clicks (`quality-oracle`).

use super::Policy;
use super::slate::{SlateSpec, select};
use crate::sim::{Observation, OracleView};

/// Shows the slate with the highest expected immediate reward under the true choice model
/// ([`OracleView::best_slate`]: exact); with re-ranking, re-ranks the expected rewards.
#[derive(Default)]
pub struct MyopicOracle {
    scores: Vec<f64>,
}

impl Policy for MyopicOracle {
    fn name(&self) -> &str {
        "myopic-oracle"
    }
    fn is_oracle(&self) -> bool {
        true
    }
    fn rank(
        &mut self,
        obs: &Observation<'_>,
        oracle: Option<&OracleView<'_>>,
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    ) {
        let oracle = oracle.expect("oracle policies get the hidden state");
        if spec.rerank.is_off() {
            return oracle.best_slate(obs.viewer, spec.size, out);
        }
        self.scores.clear();
        self.scores.extend(
            obs.live
                .iter()
                .map(|&i| oracle.expected_reward(obs.viewer, i)),
        );
        select(obs, &self.scores, spec, out);
    }
}

/// Ranks live streams by the viewer's interest in their topics times their true quality,
/// ignoring appeal (thumbnails) and crowds.
#[derive(Default)]
pub struct QualityOracle {
    scores: Vec<f64>,
}

impl Policy for QualityOracle {
    fn name(&self) -> &str {
        "quality-oracle"
    }
    fn is_oracle(&self) -> bool {
        true
    }
    fn rank(
        &mut self,
        obs: &Observation<'_>,
        oracle: Option<&OracleView<'_>>,
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    ) {
        let oracle = oracle.expect("oracle policies get the hidden state");
        self.scores.clear();
        self.scores.extend(obs.live.iter().map(|&i| {
            let x = oracle.pair(obs.viewer, i);
            x.matching * x.quality
        }));
        select(obs, &self.scores, spec, out);
    }
}
