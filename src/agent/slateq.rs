//! SlateQ's slate side (`[agent] slate_value = "slateq"`): the learner's Q(s, i) is the
//! long-term value of stream i *given that it is tapped*, and a slate A is worth
//! `Σ_{i∈A} P(i | s, A)·Q(s, i)`, with P from the [`ClickModel`] the policy fits to its own
//! impressions. This module builds slates from Q and the click model (the top K by
//! attraction × Q, or greedily position by position) and gives the choice weights of a slate
//! that the learner's target averages the next state's Q over.

use super::click::ClickModel;
use super::slate::{SlateSpec, select};
use crate::scenario::{SlateBuilder, SlateTarget};
use crate::sim::Observation;

/// A tapped stream's transition waiting for the slate of the viewer's next decision (its
/// target averages Q over that slate).
pub struct Deferred {
    pub viewer: u32,
    pub state: Vec<f32>,
    pub mask: Vec<bool>,
    pub action: usize,
    pub reward: f32,
    pub next_state: Vec<f32>,
    pub next_mask: Vec<bool>,
}

/// The click model, the slate-building options and the scratch they use.
pub struct SlateQ {
    pub click: ClickModel,
    pub builder: SlateBuilder,
    pub target: SlateTarget,
    /// A transition waiting for its next slate.
    pub deferred: Option<Deferred>,
    /// Utility of each live stream (in `obs.live` order) in the last observation.
    utility: Vec<f64>,
    scores: Vec<f64>,
    chance: Vec<f64>,
    picked: Vec<f64>,
}

impl SlateQ {
    pub fn new(click: ClickModel, builder: SlateBuilder, target: SlateTarget) -> Self {
        Self {
            click,
            builder,
            target,
            deferred: None,
            utility: Vec::new(),
            scores: Vec::new(),
            chance: Vec::new(),
            picked: Vec::new(),
        }
    }

    /// Builds the slate for `obs` from the learner's Q-values (indexed by streamer slot) into
    /// `out`. With re-ranking on, the top-K scores (attraction × Q) are what is re-ranked.
    pub fn build(
        &mut self,
        obs: &Observation<'_>,
        q: &[f32],
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    ) {
        self.click.observe(obs);
        self.utility.clear();
        self.utility
            .extend(obs.live.iter().map(|&i| self.click.utility(i)));
        if self.builder == SlateBuilder::Greedy && spec.rerank.is_off() {
            self.greedy(obs, q, spec.len(obs.live.len()), out);
            return;
        }
        self.scores.clear();
        self.scores.extend(
            obs.live
                .iter()
                .zip(&self.utility)
                .map(|(&i, u)| u.exp() * q[i as usize] as f64),
        );
        select(obs, &self.scores, spec, out);
    }

    /// Position by position, the stream that makes `Σ e_p a_i Q_i / (1 + Σ e_p a_i)` largest.
    fn greedy(&mut self, obs: &Observation<'_>, q: &[f32], k: usize, out: &mut Vec<u32>) {
        out.clear();
        let (mut num, mut den) = (0.0f64, 1.0f64);
        for p in 0..k {
            let e = self.click.position_weight(p);
            let mut best: Option<(f64, u32, f64)> = None;
            for (&i, u) in obs.live.iter().zip(&self.utility) {
                if out.contains(&i) {
                    continue;
                }
                let a = e * u.exp();
                let v = (num + a * q[i as usize] as f64) / (den + a);
                if best.is_none_or(|(bv, _, _)| v > bv) {
                    best = Some((v, i, a));
                }
            }
            let Some((_, i, a)) = best else { break };
            num += a * q[i as usize] as f64;
            den += a;
            out.push(i);
        }
    }

    /// The click model's chance of each stream of `slate` being tapped (from the last
    /// observation), as (stream, weight) pairs.
    pub fn weights(&mut self, slate: &[u32], out: &mut Vec<(u32, f32)>) {
        self.picked.clear();
        self.picked
            .extend(slate.iter().map(|&i| self.click.utility(i)));
        self.click.choice(&self.picked, &mut self.chance);
        out.clear();
        out.extend(slate.iter().zip(&self.chance).map(|(&i, &p)| (i, p as f32)));
    }
}
