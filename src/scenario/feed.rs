//! `[feed]`: how the platform serves a slate beyond the policy's own ranking — diversity
//! re-ranking of the policy's scores (`rerank = "mmr:0.3"`, `"dpp:0.5"` or `"none"`; the
//! command line's `--rerank` overrides it). The re-rankers themselves are in
//! `agent::slate`; this is their configuration.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `[feed]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FeedParams {
    pub rerank: Rerank,
}

/// How a slate is re-ranked for diversity.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum Rerank {
    /// The policy's own order.
    #[default]
    None,
    /// MMR: each next stream maximises (1 − λ)·relevance − λ·(max similarity to those chosen).
    Mmr(f64),
    /// DPP with kernel Lᵢⱼ = qᵢ·Sᵢⱼ·qⱼ, qᵢ = exp(relevanceᵢ·(1 − θ)/θ), S the topic
    /// similarity (below 1 off the diagonal); greedy MAP: each next stream maximises log det L.
    Dpp(f64),
}

/// Largest diversity weight accepted (1 would ignore relevance entirely).
pub const MAX_DIVERSITY_WEIGHT: f64 = 0.99;

impl Rerank {
    /// The diversity weight (λ or θ); 0 for none.
    pub fn weight(&self) -> f64 {
        match *self {
            Rerank::None => 0.0,
            Rerank::Mmr(w) | Rerank::Dpp(w) => w,
        }
    }

    /// Whether it leaves the policy's order alone (none, or a weight of 0).
    pub fn is_off(&self) -> bool {
        self.weight() <= 0.0
    }

    /// The same method with another weight (kept within range; 0 turns it off).
    pub fn with_weight(&self, w: f64) -> Rerank {
        let w = w.clamp(0.0, MAX_DIVERSITY_WEIGHT);
        match self {
            Rerank::None => Rerank::None,
            Rerank::Mmr(_) => Rerank::Mmr(w),
            Rerank::Dpp(_) => Rerank::Dpp(w),
        }
    }
}

impl fmt::Display for Rerank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rerank::None => write!(f, "none"),
            Rerank::Mmr(w) => write!(f, "mmr:{w}"),
            Rerank::Dpp(w) => write!(f, "dpp:{w}"),
        }
    }
}

impl FromStr for Rerank {
    type Err = String;
    fn from_str(s: &str) -> Result<Rerank, String> {
        if s == "none" {
            return Ok(Rerank::None);
        }
        let usage = || {
            format!(
                "`{s}` is not a re-ranking: use mmr:W or dpp:W with a diversity weight W in [0, {MAX_DIVERSITY_WEIGHT}] (e.g. mmr:0.3), or none"
            )
        };
        let (method, weight) = s.split_once(':').ok_or_else(usage)?;
        let w: f64 = weight.trim().parse().map_err(|_| usage())?;
        if !w.is_finite() || !(0.0..=MAX_DIVERSITY_WEIGHT).contains(&w) {
            return Err(usage());
        }
        match method.trim() {
            "mmr" => Ok(Rerank::Mmr(w)),
            "dpp" => Ok(Rerank::Dpp(w)),
            _ => Err(usage()),
        }
    }
}

impl TryFrom<String> for Rerank {
    type Error = String;
    fn try_from(s: String) -> Result<Rerank, String> {
        s.parse()
    }
}

impl From<Rerank> for String {
    fn from(r: Rerank) -> String {
        r.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_rerankings() {
        assert_eq!("mmr:0.3".parse::<Rerank>(), Ok(Rerank::Mmr(0.3)));
        assert_eq!("dpp:0.5".parse::<Rerank>(), Ok(Rerank::Dpp(0.5)));
        assert_eq!("none".parse::<Rerank>(), Ok(Rerank::None));
        for bad in ["mmr", "mmr:x", "mmr:1.5", "dpp:-0.1", "knn:0.2", "mmr:NaN"] {
            assert!(bad.parse::<Rerank>().is_err(), "{bad}");
        }
        assert_eq!(Rerank::Mmr(0.3).to_string(), "mmr:0.3");
    }

    #[test]
    fn a_scenario_names_its_reranking_and_a_bad_one_is_refused_with_its_line() {
        let s =
            crate::scenario::Scenario::parse("[feed]\nrerank = \"dpp:0.4\"\n", "t.toml").unwrap();
        assert_eq!(s.params.feed.rerank, Rerank::Dpp(0.4));
        let e = crate::scenario::Scenario::parse("[feed]\nrerank = \"mmr:2\"\n", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.toml:2") && e.contains("mmr:W"), "{e}");
    }
}
