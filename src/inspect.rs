//! One recommendation laid open, for the dashboard's inspector: the viewer's hidden state as the
//! oracle sees it, every live candidate with the policy's value for it (Q-value, the policy's
//! own score, or nothing) and its true acceptance probability and expected reward, the choice,
//! and what happened. The engine captures it on request; plain data, no terminal code.

use crate::agent::Policy;
use crate::sim::{Observation, OracleView, SimTime};

/// What the policy's per-candidate values are.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Q-values of a learner.
    Q,
    /// The policy's own ranking score, with its meaning (e.g. `mean reward`).
    Score(String),
    /// The policy exposes no value per candidate.
    None,
}

/// One live candidate of a recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: u32,
    pub topic: u16,
    pub viewers: u32,
    /// The policy's value (see [`Decision::values`]); None when it has none.
    pub value: Option<f64>,
    /// Hidden: the viewer's interest in the stream's topics relative to its strongest, [0, 1].
    pub matching: f64,
    /// Hidden: the viewer's fatigue on the stream's topics.
    pub fatigue: f64,
    /// Hidden: the stream's true quality and its appeal (how clickable it looks).
    pub quality: f64,
    pub appeal: f64,
    pub accept_probability: f64,
    pub expected_reward: f64,
}

/// One recommendation, captured before the policy acted and completed after the viewer answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Steps recorded before this one.
    pub step: u64,
    pub time: SimTime,
    pub viewer: u32,
    /// Hidden: interests per topic (sum to 1) and fatigue per topic, now.
    pub interests: Vec<f32>,
    pub fatigue: Vec<f32>,
    /// Hidden: satisfaction in [0, 1] and session minutes left.
    pub satisfaction: f64,
    pub budget: f64,
    pub patience: f64,
    pub social: f64,
    /// Observable: recommendations answered and accepted in this session so far.
    pub session_steps: u32,
    pub session_accepted: u32,
    pub values: Values,
    /// Every live candidate, in the order the policy saw them.
    pub candidates: Vec<Candidate>,
    /// The slate shown, best first (one stream for a single recommendation).
    pub slate: Vec<u32>,
    /// Hidden: the true probability that the viewer chooses each slate position.
    pub slate_probabilities: Vec<f64>,
    /// How likely each slate position is looked at (the scenario's position model).
    pub examination: Vec<f64>,
    /// The chosen stream; the slate's first when none was chosen.
    pub choice: u32,
    /// Slate position of the chosen stream (0-based); None when none was chosen.
    pub position: Option<u8>,
    pub accepted: bool,
    pub reward: f64,
    pub session_ended: bool,
}

impl Decision {
    /// Captures the state before `policy` acts on `obs`.
    pub fn capture(
        step: u64,
        obs: &Observation<'_>,
        oracle: &OracleView<'_>,
        policy: &dyn Policy,
    ) -> Decision {
        let v = obs.viewer;
        let mut values = Vec::with_capacity(obs.live.len());
        let kind = if policy.q_values(obs, &mut values) {
            Values::Q
        } else if let Some(label) = policy.scores(obs, &mut values) {
            Values::Score(label.to_string())
        } else {
            values.clear();
            Values::None
        };
        let candidates = obs
            .live
            .iter()
            .enumerate()
            .map(|(n, &i)| {
                let pair = oracle.pair(v, i);
                let s = &obs.streams[i as usize];
                Candidate {
                    id: i,
                    topic: s.topic,
                    viewers: s.viewers,
                    value: values.get(n).copied(),
                    matching: pair.matching,
                    fatigue: pair.fatigue,
                    quality: pair.quality,
                    appeal: pair.appeal,
                    accept_probability: oracle.accept_probability(v, i),
                    expected_reward: oracle.expected_reward(v, i),
                }
            })
            .collect();
        let st = oracle.viewer(v);
        Decision {
            step,
            time: obs.time,
            viewer: v,
            interests: oracle.interest(v).to_vec(),
            fatigue: oracle.fatigue(v),
            satisfaction: st.satisfaction,
            budget: st.budget,
            patience: st.patience,
            social: st.social,
            session_steps: obs.history.session_steps,
            session_accepted: obs.history.session_accepted,
            values: kind,
            candidates,
            slate: Vec::new(),
            slate_probabilities: Vec::new(),
            examination: Vec::new(),
            choice: u32::MAX,
            position: None,
            accepted: false,
            reward: 0.0,
            session_ended: false,
        }
    }

    /// The chosen candidate, once the policy has acted.
    pub fn chosen(&self) -> Option<&Candidate> {
        self.candidates.iter().find(|c| c.id == self.choice)
    }
}
