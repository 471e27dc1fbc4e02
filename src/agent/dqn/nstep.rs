//! The per-episode n-step accumulator [`NStep`]: n-step returns for many interleaved
//! episodes keyed by a `u64` (a viewer), emitted to the replay buffer as they complete.

use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone)]
struct PendingStep {
    state: Vec<f32>,
    action: usize,
    tag: u32,
    reward: f32,
}

/// A finished n-step transition, borrowed from the accumulator.
#[derive(Debug)]
pub struct NStepTransition<'a> {
    /// State the first action was taken in.
    pub state: &'a [f32],
    /// The first action.
    pub action: usize,
    /// What the first action stood for when taken (see `replay::action_tag`).
    pub tag: u32,
    /// Σ_k γ^k r_k over the (up to n) steps.
    pub reward: f32,
    /// r_0, the reward of the first step.
    pub immediate: f32,
    /// γ^n for a full window, 0 when the episode ended inside the window.
    pub discount: f32,
    /// State after the last step of the window.
    pub next_state: &'a [f32],
    /// Valid actions in `next_state`.
    pub next_mask: &'a [bool],
    /// The slate shown in `next_state`, as (action, weight) pairs (empty: none given).
    pub next_slate: &'a [(u32, f32)],
}

/// n-step return accumulator for many interleaved episodes, keyed by a `u64` episode key
/// (e.g. a viewer id). Each key keeps at most n-1 pending steps; the entry is dropped when
/// its episode ends. At most `max_open_keys` keys are open at once: a transition for a new key
/// beyond that is emitted as a one-step transition instead of being buffered.
#[derive(Debug, Clone)]
pub struct NStep {
    n: usize,
    max_open_keys: usize,
    open: HashMap<u64, VecDeque<PendingStep>>,
}

impl NStep {
    /// Default bound on simultaneously open episode keys.
    pub const DEFAULT_MAX_OPEN_KEYS: usize = 1_000_000;

    /// Accumulator for n-step returns.
    pub fn new(n: usize) -> Self {
        Self::with_max_open_keys(n, Self::DEFAULT_MAX_OPEN_KEYS)
    }

    /// Accumulator with an explicit bound on open keys.
    pub fn with_max_open_keys(n: usize, max_open_keys: usize) -> Self {
        Self {
            n: n.max(1),
            max_open_keys,
            open: HashMap::new(),
        }
    }

    /// n.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Episodes with pending steps.
    pub fn open_keys(&self) -> usize {
        self.open.len()
    }

    /// Forget all pending steps.
    pub fn clear(&mut self) {
        self.open.clear();
    }

    /// Forget the pending steps of `key` (e.g. a viewer vanished without a terminal step).
    pub fn drop_key(&mut self, key: u64) {
        self.open.remove(&key);
    }

    /// Add one step of episode `key` (its action with the action's tag); `emit` is called for
    /// every transition that completes.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        key: u64,
        state: &[f32],
        (action, tag): (usize, u32),
        reward: f32,
        next_state: &[f32],
        next_mask: &[bool],
        next_slate: &[(u32, f32)],
        done: bool,
        gamma: f64,
        mut emit: impl FnMut(NStepTransition<'_>),
    ) {
        if self.n == 1 || (!self.open.contains_key(&key) && self.open.len() >= self.max_open_keys) {
            emit(NStepTransition {
                state,
                action,
                tag,
                reward,
                immediate: reward,
                discount: if done { 0.0 } else { gamma as f32 },
                next_state,
                next_mask,
                next_slate,
            });
            return;
        }
        let q = self.open.entry(key).or_default();
        q.push_back(PendingStep {
            state: state.to_vec(),
            action,
            tag,
            reward,
        });
        let n = self.n;
        if done {
            while let Some(front) = q.front() {
                let mut ret = 0.0f64;
                let mut g = 1.0f64;
                for s in q.iter() {
                    ret += g * s.reward as f64;
                    g *= gamma;
                }
                emit(NStepTransition {
                    state: &front.state,
                    action: front.action,
                    tag: front.tag,
                    reward: ret as f32,
                    immediate: front.reward,
                    discount: 0.0,
                    next_state,
                    next_mask,
                    next_slate,
                });
                q.pop_front();
            }
            self.open.remove(&key);
        } else if q.len() >= n {
            let mut ret = 0.0f64;
            let mut g = 1.0f64;
            for s in q.iter() {
                ret += g * s.reward as f64;
                g *= gamma;
            }
            let front = q.front().expect("non-empty");
            emit(NStepTransition {
                state: &front.state,
                action: front.action,
                tag: front.tag,
                reward: ret as f32,
                immediate: front.reward,
                discount: g as f32,
                next_state,
                next_mask,
                next_slate,
            });
            q.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Out = (Vec<f32>, usize, f32, f32, f32, Vec<f32>);

    #[allow(clippy::too_many_arguments)]
    fn collect(
        ns: &mut NStep,
        key: u64,
        s: f32,
        a: usize,
        r: f32,
        done: bool,
        gamma: f64,
        out: &mut Vec<Out>,
    ) {
        ns.push(
            key,
            &[s],
            (a, 0),
            r,
            &[s + 1.0],
            &[true, true],
            &[],
            done,
            gamma,
            |t| {
                out.push((
                    t.state.to_vec(),
                    t.action,
                    t.reward,
                    t.immediate,
                    t.discount,
                    t.next_state.to_vec(),
                ))
            },
        );
    }

    #[test]
    fn n_step_returns_by_hand_with_interleaved_keys_and_flush() {
        let g = 0.5;
        let mut ns = NStep::new(3);
        let mut out = Vec::new();
        // Key 1: states 0,1,2,3 rewards 1,2,3,4 (done at the 4th). Key 2 interleaved.
        collect(&mut ns, 1, 0.0, 0, 1.0, false, g, &mut out);
        collect(&mut ns, 2, 10.0, 1, 100.0, false, g, &mut out);
        collect(&mut ns, 1, 1.0, 1, 2.0, false, g, &mut out);
        collect(&mut ns, 2, 11.0, 0, 200.0, true, g, &mut out); // key 2 ends after 2 steps
        assert_eq!(ns.open_keys(), 1);
        collect(&mut ns, 1, 2.0, 0, 3.0, false, g, &mut out);
        collect(&mut ns, 1, 3.0, 1, 4.0, true, g, &mut out);
        assert_eq!(ns.open_keys(), 0);
        let expect: Vec<Out> = vec![
            // key 2 flush: from s=10: 100 + 0.5*200 = 200, terminal; from s=11: 200.
            (vec![10.0], 1, 200.0, 100.0, 0.0, vec![12.0]),
            (vec![11.0], 0, 200.0, 200.0, 0.0, vec![12.0]),
            // key 1 full window from s=0: 1 + .5*2 + .25*3 = 2.75, discount .125, next s=3.
            (vec![0.0], 0, 2.75, 1.0, 0.125, vec![3.0]),
            // key 1 done at s=3: from s=1: 2 + .5*3 + .25*4 = 4.5; s=2: 3 + 2 = 5; s=3: 4.
            (vec![1.0], 1, 4.5, 2.0, 0.0, vec![4.0]),
            (vec![2.0], 0, 5.0, 3.0, 0.0, vec![4.0]),
            (vec![3.0], 1, 4.0, 4.0, 0.0, vec![4.0]),
        ];
        assert_eq!(out, expect);
    }

    #[test]
    fn one_step_and_key_bound() {
        let mut ns = NStep::new(1);
        let mut out = Vec::new();
        collect(&mut ns, 7, 0.0, 0, 1.5, false, 0.9, &mut out);
        assert_eq!(out, vec![(vec![0.0], 0, 1.5, 1.5, 0.9f32, vec![1.0])]);
        let mut ns = NStep::with_max_open_keys(3, 1);
        let mut out = Vec::new();
        collect(&mut ns, 1, 0.0, 0, 1.0, false, 0.9, &mut out);
        assert!(out.is_empty());
        collect(&mut ns, 2, 5.0, 0, 1.0, false, 0.9, &mut out); // over the bound: 1-step
        assert_eq!(out.len(), 1);
        assert_eq!(ns.open_keys(), 1);
    }
}
