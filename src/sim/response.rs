//! The viewer's response model: how likely a recommendation is accepted, how long it is watched,
//! what engagement it produces, and the reward that follows. The world samples from it; the
//! oracles read its expectations. Pure functions of the pair's features.
//!
//! utility   = interest_weight·match + quality_weight·quality + appeal_weight·appeal
//!           + social_weight·social·ln(1 + viewers) − fatigue_weight·fatigue
//! P(accept) = logistic((utility − outside_option) / temperature)
//! watch     = min(Exponential(mean), minutes until the stream ends),
//!   mean    = watch_minutes · (0.2 + 0.8·match) · (1 + watch_quality_effect·(2·quality − 1))
//!             / (1 + fatigue)
//! likes     ~ Poisson(likes_per_hour · (0.3 + quality + appeal) · watch/60)
//! comments  ~ Poisson(comments_per_hour · (0.2 + 0.5·quality + appeal) · watch/60)
//! gift      ~ Bernoulli(gift_probability · quality · match); follow likewise.
//! reward    = Σ weight · (watch minutes, likes, comments, gifts, follows); 0 when rejected.
//!
//! A slate (a feed of K streams) is answered by a multinomial logit with position bias: the
//! stream at position p (0-based) has attraction eₚ·exp((utilityᵢ − outside_option)/temperature),
//! where eₚ is the position's examination probability, and the no-click option has attraction 1:
//! P(choose i) = aᵢ / (1 + Σⱼ aⱼ), P(none) = 1 / (1 + Σⱼ aⱼ). With one stream examined for sure
//! this is exactly P(accept) above.

use crate::scenario::{ResponseParams, RewardWeights};

/// What the response depends on, for one viewer and one candidate stream at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    /// Interest in the stream's topics relative to the viewer's strongest interest, in [0, 1].
    pub matching: f64,
    /// Fatigue on the stream's topics (≥ 0).
    pub fatigue: f64,
    pub quality: f64,
    pub appeal: f64,
    /// The viewer's social-proof sensitivity.
    pub social: f64,
    /// Current audience of the stream.
    pub viewers: u32,
    /// Minutes until the stream ends (watch time is cut there).
    pub remaining: f64,
    /// The viewer's device's factor on mean watch time (1 on every device by default).
    pub watch_factor: f64,
    /// The viewer's friends watching the stream now.
    pub friends: u32,
    /// The viewer's own liking of the streamer beyond topics and quality (0 unless
    /// `pair_affinity_sd` is set).
    pub affinity: f64,
}

impl Default for Pair {
    fn default() -> Self {
        Pair {
            matching: 0.0,
            fatigue: 0.0,
            quality: 0.0,
            appeal: 0.0,
            social: 0.0,
            viewers: 0,
            remaining: 0.0,
            watch_factor: 1.0,
            friends: 0,
            affinity: 0.0,
        }
    }
}

/// Utility of accepting, before the outside option.
#[inline]
pub fn utility(p: &ResponseParams, x: &Pair) -> f64 {
    p.interest_weight * x.matching
        + p.quality_weight * x.quality
        + p.appeal_weight * x.appeal
        + p.social_weight * x.social * (1.0 + x.viewers as f64).ln()
        - p.fatigue_weight * x.fatigue
        + friend_term(p, x)
        + x.affinity
}

/// What friends watching add to a stream's utility (nothing unless `friend_weight` is set).
#[inline]
fn friend_term(p: &ResponseParams, x: &Pair) -> f64 {
    if x.friends == 0 {
        0.0
    } else {
        p.friend_weight * (1.0 + x.friends as f64).ln()
    }
}

/// Probability that the viewer accepts the recommendation.
#[inline]
pub fn accept_probability(p: &ResponseParams, x: &Pair) -> f64 {
    let z = (utility(p, x) - p.outside_option) / p.temperature;
    1.0 / (1.0 + (-z).exp())
}

/// Choice probabilities of a slate whose streams have the response inputs `pairs` (in slate
/// order): `out[j]` = P(the viewer chooses the stream at position j); returns P(no choice).
/// Computed in the log domain, so extreme utilities or temperatures cannot overflow.
pub fn slate_choice(p: &ResponseParams, pairs: &[Pair], out: &mut [f64]) -> f64 {
    debug_assert_eq!(pairs.len(), out.len());
    if let [x] = pairs
        && p.is_single(1)
    {
        // The single recommendation, computed exactly as `accept_probability`.
        out[0] = accept_probability(p, x);
        return 1.0 - out[0];
    }
    let mut top = 0.0f64; // the no-click option's log-attraction
    for (pos, (x, o)) in pairs.iter().zip(out.iter_mut()).enumerate() {
        *o = p.examination(pos).ln() + (utility(p, x) - p.outside_option) / p.temperature;
        top = top.max(*o);
    }
    let none = (-top).exp();
    let mut total = none;
    for o in out.iter_mut() {
        *o = (*o - top).exp();
        total += *o;
    }
    out.iter_mut().for_each(|o| *o /= total);
    none / total
}

/// Mean of the (untruncated) watch time in minutes.
#[inline]
pub fn watch_mean(p: &ResponseParams, x: &Pair) -> f64 {
    p.watch_minutes
        * x.watch_factor
        * affinity_factor(x.affinity)
        * (0.2 + 0.8 * x.matching)
        * (1.0 + p.watch_quality_effect * (2.0 * x.quality - 1.0))
        / (1.0 + x.fatigue)
}

/// Expected watch minutes given acceptance: E[min(Exp(m), remaining)] = m·(1 − e^(−remaining/m)).
#[inline]
pub fn expected_watch(p: &ResponseParams, x: &Pair) -> f64 {
    let m = watch_mean(p, x);
    m * (1.0 - (-x.remaining.max(0.0) / m).exp())
}

#[inline]
pub fn like_rate(p: &ResponseParams, x: &Pair) -> f64 {
    p.likes_per_hour * (0.3 + x.quality + x.appeal) / 60.0
}

#[inline]
pub fn comment_rate(p: &ResponseParams, x: &Pair) -> f64 {
    p.comments_per_hour * (0.2 + 0.5 * x.quality + x.appeal) / 60.0
}

#[inline]
pub fn gift_probability(p: &ResponseParams, x: &Pair) -> f64 {
    (p.gift_probability * x.quality * x.matching).clamp(0.0, 1.0)
}

#[inline]
pub fn follow_probability(p: &ResponseParams, x: &Pair) -> f64 {
    (p.follow_probability * x.quality * x.matching * affinity_factor(x.affinity)).clamp(0.0, 1.0)
}

/// How a viewer's affinity for a streamer scales its mean watch time and its chance of
/// following it: 2·σ(affinity), in (0, 2), 1 without affinity, so that viewers watch the
/// streamers they like longer and follow them.
#[inline]
fn affinity_factor(a: f64) -> f64 {
    if a == 0.0 {
        1.0
    } else {
        2.0 / (1.0 + (-a).exp())
    }
}

/// What a viewer did with one recommendation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Engagement {
    pub watch_minutes: f64,
    pub likes: u32,
    pub comments: u32,
    pub gifts: u32,
    pub follows: u32,
}

/// The reward of an engagement under the scenario's weights.
#[inline]
pub fn reward(w: &RewardWeights, e: &Engagement) -> f64 {
    w.watch_minute * e.watch_minutes
        + w.like * e.likes as f64
        + w.comment * e.comments as f64
        + w.gift * e.gifts as f64
        + w.follow * e.follows as f64
}

/// Expected reward given acceptance.
#[inline]
pub fn expected_reward_if_accepted(p: &ResponseParams, w: &RewardWeights, x: &Pair) -> f64 {
    let watch = expected_watch(p, x);
    w.watch_minute * watch
        + w.like * like_rate(p, x) * watch
        + w.comment * comment_rate(p, x) * watch
        + w.gift * gift_probability(p, x)
        + w.follow * follow_probability(p, x)
}

/// Expected immediate reward of recommending this stream: P(accept)·E[reward | accept].
#[inline]
pub fn expected_reward(p: &ResponseParams, w: &RewardWeights, x: &Pair) -> f64 {
    accept_probability(p, x) * expected_reward_if_accepted(p, w, x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> Pair {
        Pair {
            matching: 1.0,
            fatigue: 0.0,
            quality: 0.5,
            appeal: 0.5,
            social: 0.0,
            viewers: 0,
            remaining: 1e9,
            watch_factor: 1.0,
            friends: 0,
            affinity: 0.0,
        }
    }

    #[test]
    fn acceptance_rises_with_interest_and_falls_with_fatigue() {
        let p = ResponseParams::default();
        let base = accept_probability(&p, &pair());
        let bored = accept_probability(
            &p,
            &Pair {
                fatigue: 1.0,
                ..pair()
            },
        );
        let unmatched = accept_probability(
            &p,
            &Pair {
                matching: 0.0,
                ..pair()
            },
        );
        assert!(bored < base && unmatched < base);
        assert!((0.0..=1.0).contains(&base));
    }

    #[test]
    fn expected_watch_is_cut_by_the_end_of_the_stream() {
        let p = ResponseParams::default();
        let m = watch_mean(&p, &pair());
        assert!((expected_watch(&p, &pair()) - m).abs() < 1e-9);
        let cut = expected_watch(
            &p,
            &Pair {
                remaining: m,
                ..pair()
            },
        );
        assert!((cut - m * (1.0 - (-1.0f64).exp())).abs() < 1e-9);
    }

    #[test]
    fn a_two_position_slate_matches_hand_computed_probabilities() {
        // Utilities: interest 4·m + quality 1.5·q + appeal 1.5·a (no social, no fatigue);
        // outside option 3, temperature 1; examination 1 and 0.5.
        let p = ResponseParams {
            slate_size: 2,
            examine: vec![1.0, 0.5],
            ..ResponseParams::default()
        };
        let a = pair(); // utility 4 + 0.75 + 0.75 = 5.5
        let b = Pair {
            matching: 0.5,
            ..pair()
        }; // utility 2 + 1.5 = 3.5
        let (wa, wb) = ((5.5f64 - 3.0).exp(), 0.5 * (3.5f64 - 3.0).exp());
        let mut out = [0.0; 2];
        let none = slate_choice(&p, &[a, b], &mut out);
        let total = 1.0 + wa + wb;
        assert!((out[0] - wa / total).abs() < 1e-12);
        assert!((out[1] - wb / total).abs() < 1e-12);
        assert!((none - 1.0 / total).abs() < 1e-12);
        // Swapping positions moves the examination with them.
        let none2 = slate_choice(&p, &[b, a], &mut out);
        let (wb2, wa2) = ((3.5f64 - 3.0).exp(), 0.5 * (5.5f64 - 3.0).exp());
        assert!((out[1] - wa2 / (1.0 + wa2 + wb2)).abs() < 1e-12);
        assert!(none2 > none, "the better stream lower down is seen less");
    }

    #[test]
    fn a_slate_of_one_is_the_single_recommendation() {
        let p = ResponseParams::default();
        let mut out = [0.0];
        let none = slate_choice(&p, &[pair()], &mut out);
        assert_eq!(out[0], accept_probability(&p, &pair()));
        assert_eq!(none, 1.0 - out[0]);
        // Extreme utilities stay finite.
        let hot = ResponseParams {
            temperature: 1e-6,
            examine: vec![0.9],
            ..ResponseParams::default()
        };
        let none = slate_choice(&hot, &[pair()], &mut out);
        assert!(out[0].is_finite() && none.is_finite() && (out[0] + none - 1.0).abs() < 1e-12);
    }

    #[test]
    fn reward_is_the_weighted_sum() {
        let w = RewardWeights {
            watch_minute: 1.0,
            like: 2.0,
            comment: 3.0,
            gift: 4.0,
            follow: 5.0,
        };
        let e = Engagement {
            watch_minutes: 10.0,
            likes: 1,
            comments: 1,
            gifts: 1,
            follows: 1,
        };
        assert_eq!(reward(&w, &e), 24.0);
    }
}
