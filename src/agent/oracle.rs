//! Reference policies that read the hidden state: the strongest short-sighted policy
//! (`myopic-oracle`) and one that prefers quality over clicks (`quality-oracle`).

use super::{Policy, argmax_by};
use crate::sim::{Observation, OracleView};

/// Picks the live stream with the highest expected immediate reward.
pub struct MyopicOracle;

impl Policy for MyopicOracle {
    fn name(&self) -> &str {
        "myopic-oracle"
    }
    fn is_oracle(&self) -> bool {
        true
    }
    fn act(&mut self, obs: &Observation<'_>, oracle: Option<&OracleView<'_>>) -> u32 {
        let oracle = oracle.expect("oracle policies get the hidden state");
        argmax_by(obs.live, |i| oracle.expected_reward(obs.viewer, i))
    }
}

/// Ranks live streams by the viewer's interest in their topics times their true quality,
/// ignoring appeal (thumbnails) and crowds.
pub struct QualityOracle;

impl Policy for QualityOracle {
    fn name(&self) -> &str {
        "quality-oracle"
    }
    fn is_oracle(&self) -> bool {
        true
    }
    fn act(&mut self, obs: &Observation<'_>, oracle: Option<&OracleView<'_>>) -> u32 {
        let oracle = oracle.expect("oracle policies get the hidden state");
        argmax_by(obs.live, |i| {
            let x = oracle.pair(obs.viewer, i);
            x.matching * x.quality
        })
    }
}
