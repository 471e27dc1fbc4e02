//! `content-knn`: a content-based recommender. Each stream is described by its public content
//! (its content vectors where the world has them, else its tags), and a live stream scores by
//! how much it resembles what the viewer watched lately: the sum, over the `NEIGHBOURS` most
//! similar of the viewer's logged watches, of cosine similarity × log1p(minutes watched).
//! It learns nothing — the viewer's log is its whole model — so it serves a new viewer from
//! its first watch and a new stream from its first minute. A viewer with no watch logged gets
//! the most watched streams.

use super::Policy;
use super::slate::{SlateSpec, select};
use crate::sim::observation::Watch;
use crate::sim::{Observation, OracleView};

/// Logged watches each candidate is compared with (its nearest neighbours among them).
pub const NEIGHBOURS: usize = 5;

/// Unit-length descriptions of the streamer slots, recomputed when a slot changes hands.
#[derive(Debug, Default)]
pub struct ItemVectors {
    len: usize,
    vectors: Vec<f32>,
    /// `joined_at` of the streamer each vector describes (NaN before any).
    made_for: Vec<f64>,
}

impl ItemVectors {
    /// Brings every slot's vector up to date with `obs` (only slots whose streamer changed
    /// are recomputed).
    pub fn refresh(&mut self, obs: &Observation<'_>) {
        let len = if obs.content_len > 0 {
            obs.content_len
        } else {
            obs.num_topics
        };
        let n = obs.streams.len();
        if self.len != len || self.made_for.len() != n {
            self.len = len;
            self.vectors = vec![0.0; n * len];
            self.made_for = vec![f64::NAN; n];
        }
        for (i, s) in obs.streams.iter().enumerate() {
            if self.made_for[i].to_bits() == s.joined_at.to_bits() {
                continue;
            }
            self.made_for[i] = s.joined_at;
            let v = &mut self.vectors[i * len..(i + 1) * len];
            if obs.content_len > 0 {
                v.copy_from_slice(obs.content(i as u32));
            } else {
                v.fill(0.0);
                for &t in &s.tags {
                    v[t as usize] = 1.0;
                }
            }
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|x| *x /= norm);
            }
        }
    }

    /// The unit vector of slot `i`.
    pub fn get(&self, i: u32) -> &[f32] {
        &self.vectors[i as usize * self.len..(i as usize + 1) * self.len]
    }
}

/// Whether a logged watch was of the slot's current streamer (a slot that changed hands since
/// describes someone else now).
pub fn still_current(w: &Watch, obs: &Observation<'_>) -> bool {
    (w.at as f64) >= obs.streams[w.slot as usize].joined_at
}

/// The content-based policy.
#[derive(Debug, Default)]
pub struct ContentKnn {
    items: ItemVectors,
    scores: Vec<f64>,
}

impl ContentKnn {
    pub fn new() -> Self {
        ContentKnn::default()
    }

    fn score_all(&mut self, obs: &Observation<'_>) {
        self.items.refresh(obs);
        self.scores.clear();
        let watches: Vec<(&[f32], f32)> = obs
            .history
            .recent_watches
            .iter()
            .filter(|w| still_current(w, obs))
            .map(|w| (self.items.get(w.slot), w.minutes.max(0.0).ln_1p()))
            .collect();
        let mut sims = [0.0f32; crate::sim::observation::WATCH_LOG];
        for &i in obs.live {
            // The most watched streams first when nothing is known, and as a tie-break.
            let popularity = (obs.streams[i as usize].viewers as f64).ln_1p() * 1e-3;
            let v = self.items.get(i);
            let n = watches.len();
            for (s, (w, weight)) in sims.iter_mut().zip(&watches) {
                *s = dot(v, w) * weight;
            }
            let sims = &mut sims[..n];
            sims.sort_unstable_by(|a, b| b.total_cmp(a));
            let near: f32 = sims.iter().take(NEIGHBOURS).sum();
            self.scores.push(near as f64 + popularity);
        }
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Policy for ContentKnn {
    fn name(&self) -> &str {
        "content-knn"
    }

    fn rank(
        &mut self,
        obs: &Observation<'_>,
        _: Option<&OracleView<'_>>,
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    ) {
        self.score_all(obs);
        select(obs, &self.scores, spec, out);
    }

    fn scores(&self, obs: &Observation<'_>, out: &mut Vec<f64>) -> Option<&'static str> {
        let mut me = ContentKnn {
            items: ItemVectors::default(),
            scores: Vec::new(),
        };
        me.score_all(obs);
        out.clear();
        out.extend_from_slice(&me.scores);
        Some("content similarity")
    }
}
