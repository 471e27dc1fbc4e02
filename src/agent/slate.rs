//! Building a slate from a policy's scores: the top K, or a diversity re-ranking of them —
//! maximal marginal relevance (MMR) or a determinantal point process (DPP, fast greedy MAP
//! inference). Every policy ranks through [`select`], so `--rerank` applies to any of them.
//!
//! Relevance is the policy's score min-max normalised over the live candidates to [0, 1];
//! similarity is [`StreamPublic::similarity`] (shared public topic). The diversity weight of both
//! re-rankers is in [0, 1): 0 is the plain top K.

pub use crate::scenario::{MAX_DIVERSITY_WEIGHT, Rerank};
use crate::sim::{Observation, StreamPublic, random};

/// Off-diagonal entry of the DPP's similarity matrix for two streams of one topic (below 1, so
/// that the matrix stays positive definite and a second stream of a topic stays possible).
pub const DPP_SAME_TOPIC: f64 = 0.9;

/// What a policy is asked for: how many streams, and how to re-rank them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlateSpec {
    /// Streams per slate (fewer are returned when fewer are live).
    pub size: usize,
    pub rerank: Rerank,
}

impl SlateSpec {
    /// One recommendation, no re-ranking.
    pub const SINGLE: SlateSpec = SlateSpec {
        size: 1,
        rerank: Rerank::None,
    };

    /// Whether this asks for exactly the best single stream by score.
    pub fn is_single(&self) -> bool {
        self.size == 1 && self.rerank.is_off()
    }

    /// Streams a slate holds when `live` streams are live.
    pub fn len(&self, live: usize) -> usize {
        self.size.min(live)
    }
}

/// Fills `out` with the slate for `obs` from `scores` (one per `obs.live`, same order; higher is
/// better; NaN counts as the lowest): the top `spec.size` (ties to the earlier candidate), or
/// their diversity re-ranking.
pub fn select(obs: &Observation<'_>, scores: &[f64], spec: &SlateSpec, out: &mut Vec<u32>) {
    debug_assert_eq!(scores.len(), obs.live.len());
    out.clear();
    let k = spec.len(obs.live.len());
    if k == 0 {
        return;
    }
    match spec.rerank {
        // Re-ranking starts from the most relevant stream: a slate of one is the top one.
        r if r.is_off() || k == 1 => top_k(obs.live, scores, k, out),
        Rerank::Mmr(lambda) => mmr(obs, scores, k, lambda, out),
        Rerank::Dpp(theta) => dpp(obs, scores, k, theta, out),
        Rerank::None => unreachable!("inactive"),
    }
}

fn key(s: f64) -> f64 {
    if s.is_nan() { f64::NEG_INFINITY } else { s }
}

/// The `k` candidates of highest score, best first; ties go to the earlier candidate.
pub fn top_k(candidates: &[u32], scores: &[f64], k: usize, out: &mut Vec<u32>) {
    out.clear();
    if k == 1 {
        // The single best: the first of the highest score.
        let mut best = 0;
        let mut best_score = f64::NEG_INFINITY;
        for (j, &s) in scores.iter().enumerate() {
            if s > best_score {
                best = j;
                best_score = s;
            }
        }
        out.push(candidates[best]);
        return;
    }
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    let cmp = |a: &usize, b: &usize| key(scores[*b]).total_cmp(&key(scores[*a])).then(a.cmp(b));
    if k < order.len() {
        order.select_nth_unstable_by(k, cmp);
        order.truncate(k);
    }
    order.sort_unstable_by(cmp);
    out.extend(order.iter().map(|&j| candidates[j]));
}

/// `k` distinct streams of `live` drawn uniformly at random, in draw order (every ordered
/// choice equally likely); the first draw is `below(len)`, as for a single choice. Small slates
/// redraw a stream already taken (expected draws ≈ k), large ones shuffle a copy.
pub fn random_slate(rng: &mut random::Rng, live: &[u32], k: usize, out: &mut Vec<u32>) {
    out.clear();
    let k = k.min(live.len());
    if 2 * k <= live.len() {
        while out.len() < k {
            let i = live[random::below(rng, live.len())];
            if !out.contains(&i) {
                out.push(i);
            }
        }
        return;
    }
    out.extend_from_slice(live);
    for j in 0..k {
        let r = j + random::below(rng, live.len() - j);
        out.swap(j, r);
    }
    out.truncate(k);
}

/// Scores min-max normalised to [0, 1] over the finite ones (all 1 when those are all equal);
/// NaN and −∞ are 0. When some scores are +∞ (e.g. untried arms), those are 1 and the finite
/// ones are mapped into [0, 0.5], so that re-ranking keeps them above every finite score.
fn relevance(scores: &[f64]) -> Vec<f64> {
    let finite = || scores.iter().copied().filter(|s| s.is_finite());
    let lo = finite().fold(f64::INFINITY, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    let spread = hi - lo; // NaN or ≤ 0 when there are fewer than two distinct finite scores
    let top = if scores.contains(&f64::INFINITY) {
        0.5
    } else {
        1.0
    };
    scores
        .iter()
        .map(|&s| {
            if s.is_nan() || s == f64::NEG_INFINITY {
                0.0
            } else if s == f64::INFINITY {
                1.0
            } else if !(spread > 0.0 && spread.is_finite()) {
                top
            } else {
                top * ((s - lo) / spread).clamp(0.0, 1.0)
            }
        })
        .collect()
}

fn mmr(obs: &Observation<'_>, scores: &[f64], k: usize, lambda: f64, out: &mut Vec<u32>) {
    let rel = relevance(scores);
    let n = rel.len();
    let streams = obs.streams;
    let mut taken = vec![false; n];
    let mut max_sim = vec![0.0f64; n];
    for _ in 0..k {
        let mut best = usize::MAX;
        let mut best_v = f64::NEG_INFINITY;
        for j in 0..n {
            if taken[j] {
                continue;
            }
            let v = (1.0 - lambda) * rel[j] - lambda * max_sim[j];
            if v > best_v {
                best = j;
                best_v = v;
            }
        }
        taken[best] = true;
        let chosen = &streams[obs.live[best] as usize];
        out.push(obs.live[best]);
        for j in 0..n {
            if !taken[j] {
                let s = chosen.similarity(&streams[obs.live[j] as usize]);
                max_sim[j] = max_sim[j].max(s);
            }
        }
    }
}

/// DPP similarity of two different streams ([`DPP_SAME_TOPIC`] for a shared topic); the
/// diagonal is 1.
fn dpp_similarity(a: &StreamPublic, b: &StreamPublic) -> f64 {
    DPP_SAME_TOPIC * a.similarity(b)
}

/// Fast greedy MAP inference (Chen, Zhang & Zhou, NeurIPS 2018): an incremental Cholesky
/// factor of the chosen streams' kernel; each round adds the stream of largest marginal gain
/// in log det, in O(k·n) per round.
fn dpp(obs: &Observation<'_>, scores: &[f64], k: usize, theta: f64, out: &mut Vec<u32>) {
    let rel = relevance(scores);
    let n = rel.len();
    let alpha = (1.0 - theta) / theta;
    let q: Vec<f64> = rel.iter().map(|r| (alpha * r).exp()).collect();
    let streams = obs.streams;
    let stream = |j: usize| &streams[obs.live[j] as usize];
    // d2[j]: the part of L_jj not explained by the chosen streams; c[j]: its Cholesky row.
    let mut d2: Vec<f64> = q.iter().map(|x| x * x).collect();
    let mut c = vec![0.0f64; n * k];
    let mut taken = vec![false; n];
    for round in 0..k {
        let mut best = usize::MAX;
        let mut best_v = f64::NEG_INFINITY;
        for j in 0..n {
            // The gain in log det is ln d2, monotone in d2: compare d2 itself. Gains that
            // numerical error pushed to or below 0 rank by relevance among themselves, after
            // every positive gain.
            let v = if d2[j] > 1e-12 { d2[j] } else { -2.0 + rel[j] };
            if !taken[j] && v > best_v {
                best = j;
                best_v = v;
            }
        }
        taken[best] = true;
        out.push(obs.live[best]);
        if round + 1 == k {
            break;
        }
        let d = d2[best].max(1e-12).sqrt();
        let (sb, qb) = (stream(best), q[best]);
        for j in 0..n {
            if taken[j] {
                continue;
            }
            let l = qb * q[j] * dpp_similarity(sb, stream(j));
            let dot: f64 = (0..round).map(|t| c[best * k + t] * c[j * k + t]).sum();
            let e = (l - dot) / d;
            c[j * k + round] = e;
            d2[j] -= e * e;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{SimTime, ViewerHistory};

    fn obs_with<'a>(streams: &'a [StreamPublic], live: &'a [u32]) -> Observation<'a> {
        Observation {
            viewer: 0,
            time: SimTime(0.0),
            history: ViewerHistory::EMPTY,
            live,
            streams,
            num_topics: 4,
            content: &[],
            content_len: 0,
        }
    }

    fn streams(topics: &[u16]) -> Vec<StreamPublic> {
        topics
            .iter()
            .map(|&topic| StreamPublic {
                live: true,
                topic,
                ..StreamPublic::default()
            })
            .collect()
    }

    #[test]
    fn top_k_is_by_score_with_ties_to_the_earlier() {
        let mut out = Vec::new();
        top_k(&[7, 3, 9, 4], &[1.0, 5.0, 5.0, f64::NAN], 3, &mut out);
        assert_eq!(out, vec![3, 9, 7]);
        top_k(&[7, 3, 9], &[f64::NAN, f64::NAN, f64::NAN], 1, &mut out);
        assert_eq!(out, vec![7]);
    }

    // Topics: streams 0, 1, 2 share topic 0; stream 3 is topic 1. Scores 1.0, 0.9, 0.8, 0.0.
    const TOPICS: [u16; 4] = [0, 0, 0, 1];
    const SCORES: [f64; 4] = [1.0, 0.9, 0.8, 0.0];

    #[test]
    fn mmr_follows_the_worked_example() {
        let s = streams(&TOPICS);
        let live = [0, 1, 2, 3];
        let obs = obs_with(&s, &live);
        let mut out = Vec::new();
        // Relevance (normalised) 1, 0.9, 0.8, 0. λ = 0.5: first 0 (0.5); then 1: 0.45 − 0.5 =
        // −0.05, 2: −0.1, 3: 0 − 0 = 0 → 3; then 1 (−0.05) over 2 (−0.1).
        let spec = SlateSpec {
            size: 3,
            rerank: Rerank::Mmr(0.5),
        };
        select(&obs, &SCORES, &spec, &mut out);
        assert_eq!(out, vec![0, 3, 1]);
        // λ = 0.1: relevance dominates (1: 0.81 − 0.1 = 0.71 > 3: 0) → the top 3.
        let spec = SlateSpec {
            size: 3,
            rerank: Rerank::Mmr(0.1),
        };
        select(&obs, &SCORES, &spec, &mut out);
        assert_eq!(out, vec![0, 1, 2]);
    }

    #[test]
    fn dpp_follows_the_worked_example() {
        let s = streams(&TOPICS);
        let live = [0, 1, 2, 3];
        let obs = obs_with(&s, &live);
        let mut out = Vec::new();
        // θ = 0.5 → α = 1, q = e^r. First: the largest q² (stream 0). Second, gain = det of the
        // 2×2 kernel / q0²: stream 1: q1²(1 − 0.81) = e^1.8·0.19 ≈ 1.15; stream 3: q3² = 1
        // → stream 1 (same topic, but far more relevant). With θ = 0.8 (α = 0.25): stream 1:
        // e^0.45·0.19 ≈ 0.30 < stream 3: 1 → stream 3.
        let spec = SlateSpec {
            size: 2,
            rerank: Rerank::Dpp(0.5),
        };
        select(&obs, &SCORES, &spec, &mut out);
        assert_eq!(out, vec![0, 1]);
        let spec = SlateSpec {
            size: 2,
            rerank: Rerank::Dpp(0.8),
        };
        select(&obs, &SCORES, &spec, &mut out);
        assert_eq!(out, vec![0, 3]);
    }

    #[test]
    fn dpp_greedy_matches_brute_force_log_det() {
        // Third pick at θ = 0.5 after {0, 1}: candidates 2 (same topic) and 3. The exact
        // determinant of the 3×3 kernel decides; the incremental Cholesky must agree.
        let s = streams(&TOPICS);
        let live = [0, 1, 2, 3];
        let obs = obs_with(&s, &live);
        let q: Vec<f64> = [1.0f64, 0.9, 0.8, 0.0].iter().map(|r| r.exp()).collect();
        let sim = |a: usize, b: usize| {
            if a == b {
                1.0
            } else if TOPICS[a] == TOPICS[b] {
                DPP_SAME_TOPIC
            } else {
                0.0
            }
        };
        let det3 = |ids: [usize; 3]| {
            let m = |r: usize, c: usize| q[ids[r]] * q[ids[c]] * sim(ids[r], ids[c]);
            m(0, 0) * (m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1))
                - m(0, 1) * (m(1, 0) * m(2, 2) - m(1, 2) * m(2, 0))
                + m(0, 2) * (m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0))
        };
        let want = if det3([0, 1, 2]) > det3([0, 1, 3]) {
            2
        } else {
            3
        };
        let mut out = Vec::new();
        let spec = SlateSpec {
            size: 3,
            rerank: Rerank::Dpp(0.5),
        };
        select(&obs, &SCORES, &spec, &mut out);
        assert_eq!(out, vec![0, 1, want]);
    }

    #[test]
    fn untried_streams_stay_above_tried_ones_and_a_slate_of_one_is_the_top() {
        let r = relevance(&[1.0, f64::INFINITY, 3.0, f64::NAN]);
        assert_eq!(r, vec![0.0, 1.0, 0.5, 0.0]);
        let s = streams(&TOPICS);
        let live = [0, 1, 2, 3];
        let obs = obs_with(&s, &live);
        for rerank in [Rerank::Mmr(0.9), Rerank::Dpp(0.9)] {
            let mut out = Vec::new();
            let spec = SlateSpec { size: 1, rerank };
            select(&obs, &[0.2, 0.1, 0.2, 0.9], &spec, &mut out);
            assert_eq!(out, vec![3], "{rerank}");
        }
    }

    #[test]
    fn a_slate_never_repeats_and_never_exceeds_the_live_streams() {
        let s = streams(&[0, 1, 0, 1, 2]);
        let live = [4, 0, 2];
        let obs = obs_with(&s, &live);
        for rerank in [Rerank::None, Rerank::Mmr(0.7), Rerank::Dpp(0.7)] {
            let spec = SlateSpec { size: 8, rerank };
            let mut out = Vec::new();
            select(&obs, &[0.0, f64::NAN, 2.0], &spec, &mut out);
            let mut sorted = out.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, vec![0, 2, 4], "{rerank}");
        }
    }
}
