//! Ranking quality of a slate against the oracle's ranking of every live stream for that
//! viewer: precision, recall, NDCG and MRR at the slate's size, and hit rate. Graded relevance is
//! the hidden expected immediate reward of a stream shown alone (negative rewards count as 0); a
//! stream is relevant when the viewer would accept it shown alone with probability at least
//! `[metrics] relevance_threshold`. Oracle-side like regret, so sampled on the same steps.

use crate::scenario::MAX_SLATE_SIZE;
use crate::sim::OracleView;

/// The ranking metrics of one slate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankingSample {
    /// Relevant streams in the slate / streams in the slate.
    pub precision: f64,
    /// Relevant streams in the slate / relevant live streams; None when none is relevant.
    pub recall: Option<f64>,
    /// DCG of the slate / DCG of the ideal slate of the same length (1 when nothing has any value).
    pub ndcg: f64,
    /// 1 / (position of the first relevant stream, from 1); 0 when the slate has none.
    pub mrr: f64,
    /// Whether the slate holds a relevant stream.
    pub hit: bool,
}

/// Measures slates against the oracle, reusing its buffer from one sample to the next.
#[derive(Debug, Default)]
pub struct Grader {
    grades: Vec<f64>,
}

impl Grader {
    /// The ranking metrics of `slate` (best first) for `viewer` against every live stream, and
    /// the best expected immediate reward of a single live stream (at least 0): one scan of the
    /// live streams serves both.
    pub fn measure(
        &mut self,
        oracle: &OracleView<'_>,
        viewer: u32,
        slate: &[u32],
        threshold: f64,
    ) -> (RankingSample, f64) {
        self.grades.clear();
        let mut relevant_total = 0;
        for &i in oracle.live() {
            let (grade, accept) = oracle.grade(viewer, i);
            self.grades.push(grade);
            relevant_total += (accept >= threshold) as usize;
        }
        let best = self.grades.iter().copied().fold(0.0, f64::max);
        let mut shown = [(0.0, false); MAX_SLATE_SIZE];
        let n = slate.len().min(MAX_SLATE_SIZE);
        for (s, &i) in shown.iter_mut().zip(&slate[..n]) {
            let (grade, accept) = oracle.grade(viewer, i);
            *s = (grade, accept >= threshold);
        }
        let sample = RankingSample::from_grades(&shown[..n], &mut self.grades, relevant_total);
        (sample, best)
    }
}

impl RankingSample {
    /// The metrics of a slate given, per slate position, its grade and whether it is relevant;
    /// `all` is the grade of every candidate (reordered here), `relevant_total` how many of them
    /// are relevant.
    pub fn from_grades(shown: &[(f64, bool)], all: &mut [f64], relevant_total: usize) -> Self {
        let discount = |p: usize| 1.0 / ((p + 2) as f64).log2();
        let dcg: f64 = shown
            .iter()
            .enumerate()
            .map(|(p, &(g, _))| g.max(0.0) * discount(p))
            .sum();
        // The best grades, in order: the ideal slate of the same length.
        let desc = |a: &f64, b: &f64| b.total_cmp(a);
        if shown.len() < all.len() {
            all.select_nth_unstable_by(shown.len(), desc);
        }
        let len = shown.len().min(all.len());
        let top = &mut all[..len];
        top.sort_unstable_by(desc);
        let ideal: f64 = top
            .iter()
            .take(shown.len())
            .enumerate()
            .map(|(p, &g)| g.max(0.0) * discount(p))
            .sum();
        let hits = shown.iter().filter(|s| s.1).count();
        let first = shown.iter().position(|s| s.1);
        RankingSample {
            precision: if shown.is_empty() {
                0.0
            } else {
                hits as f64 / shown.len() as f64
            },
            recall: (relevant_total > 0).then(|| hits as f64 / relevant_total as f64),
            ndcg: if ideal > 0.0 { dcg / ideal } else { 1.0 },
            mrr: first.map_or(0.0, |p| 1.0 / (p + 1) as f64),
            hit: first.is_some(),
        }
    }
}

pub use crate::sim::intra_list_diversity;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::StreamPublic;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn metrics_of_a_hand_ranked_slate() {
        // Candidates graded 3, 2, 1, 0; relevant: the graded 3 and 1. Slate: [1, 3, 0] by grade.
        let shown = [(1.0, true), (3.0, true), (0.0, false)];
        let mut all = [3.0, 2.0, 1.0, 0.0];
        let s = RankingSample::from_grades(&shown, &mut all, 2);
        let dcg = 1.0 + 3.0 / 3f64.log2();
        let ideal = 3.0 + 2.0 / 3f64.log2() + 1.0 / 2.0;
        assert!(close(s.ndcg, dcg / ideal));
        assert!(close(s.precision, 2.0 / 3.0));
        assert_eq!(s.recall, Some(1.0));
        assert!(close(s.mrr, 1.0) && s.hit);
    }

    #[test]
    fn ties_in_the_ideal_ranking_do_not_matter_and_the_ideal_slate_scores_one() {
        let shown = [(2.0, true), (2.0, true)];
        let mut all = [2.0, 1.0, 2.0, 2.0];
        let s = RankingSample::from_grades(&shown, &mut all, 3);
        assert!(close(s.ndcg, 1.0));
        assert!(close(s.recall.unwrap(), 2.0 / 3.0));
    }

    #[test]
    fn an_empty_relevant_set_has_no_recall_and_no_hit() {
        let shown = [(0.5, false)];
        let mut all = [0.5, 0.7];
        let s = RankingSample::from_grades(&shown, &mut all, 0);
        assert_eq!(s.recall, None);
        assert_eq!((s.precision, s.mrr, s.hit), (0.0, 0.0, false));
        assert!(close(s.ndcg, 0.5 / 0.7));
        // Nothing worth anything: every order is ideal.
        let s = RankingSample::from_grades(&[(0.0, false)], &mut [0.0, -1.0], 0);
        assert_eq!(s.ndcg, 1.0);
        // The first relevant at position 3 gives reciprocal rank 1/3.
        let shown = [(1.0, false), (1.0, false), (1.0, true)];
        let s = RankingSample::from_grades(&shown, &mut [1.0; 3], 1);
        assert!(close(s.mrr, 1.0 / 3.0));
    }

    #[test]
    fn intra_list_diversity_counts_pairs_of_one_topic() {
        let s = |topic| StreamPublic {
            topic,
            ..StreamPublic::default()
        };
        let streams = [s(0), s(0), s(1), s(2)];
        assert_eq!(intra_list_diversity(&streams, &[0]), 0.0);
        assert_eq!(intra_list_diversity(&streams, &[0, 2, 3]), 1.0);
        // Pairs (0,1) same, (0,2) and (1,2) differ: 1 − 1/3.
        assert!(close(intra_list_diversity(&streams, &[0, 1, 2]), 2.0 / 3.0));
    }
}
