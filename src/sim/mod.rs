//! The simulated live-streaming platform. Deterministic given a scenario and a seed.
//!
//! Policies see only [`Observation`]s; the oracles get the explicit [`OracleView`] of the hidden
//! state. This module never depends on the agents, the metrics, burn or the terminal.

pub mod clock;
mod events;
pub mod observation;
pub mod random;
pub mod response;
pub mod social;
mod world;

pub use clock::{DAY, SimTime};
pub use observation::{Observation, StreamPublic, ViewerHistory, intra_list_diversity};
pub use world::{Outcome, SessionEnd, Status, StepError, StreamerHidden, StreamerKind, World};

/// Read-only access to the hidden state, for the oracle policies, regret and the inspector.
#[derive(Clone, Copy)]
pub struct OracleView<'a> {
    world: &'a World,
}

impl<'a> OracleView<'a> {
    pub fn new(world: &'a World) -> Self {
        OracleView { world }
    }

    /// The response model's inputs for viewer `v` and streamer `i` now.
    pub fn pair(&self, v: u32, i: u32) -> response::Pair {
        self.world.pair(v, i)
    }

    /// Expected immediate reward of recommending `i` to `v` now.
    pub fn expected_reward(&self, v: u32, i: u32) -> f64 {
        let p = &self.world.p;
        response::expected_reward(&p.response, &p.reward, &self.world.pair(v, i))
    }

    /// The expected immediate reward of recommending `i` to `v` now and the probability of its
    /// acceptance, from one evaluation of the response model's inputs.
    pub fn grade(&self, v: u32, i: u32) -> (f64, f64) {
        let p = &self.world.p;
        let x = self.world.pair(v, i);
        let accept = response::accept_probability(&p.response, &x);
        (
            accept * response::expected_reward_if_accepted(&p.response, &p.reward, &x),
            accept,
        )
    }

    pub fn accept_probability(&self, v: u32, i: u32) -> f64 {
        response::accept_probability(&self.world.p.response, &self.world.pair(v, i))
    }

    /// The best expected immediate reward among live streams for `v` (0 when nothing is live).
    pub fn best_expected_reward(&self, v: u32) -> f64 {
        self.world
            .live()
            .iter()
            .map(|&i| self.expected_reward(v, i))
            .fold(0.0, f64::max)
    }

    /// Expected immediate reward of showing `slate` (in order) to `v` now, under the true
    /// position-biased choice model; for a slate of one, exactly [`OracleView::expected_reward`].
    pub fn slate_value(&self, v: u32, slate: &[u32]) -> f64 {
        let p = &self.world.p;
        if let [i] = slate
            && p.response.is_single(1)
        {
            return self.expected_reward(v, *i);
        }
        let mut pairs = [response::Pair::default(); crate::scenario::MAX_SLATE_SIZE];
        let mut probs = [0.0; crate::scenario::MAX_SLATE_SIZE];
        let n = slate.len().min(pairs.len());
        for (x, &i) in pairs.iter_mut().zip(&slate[..n]) {
            *x = self.world.pair(v, i);
        }
        response::slate_choice(&p.response, &pairs[..n], &mut probs[..n]);
        pairs[..n]
            .iter()
            .zip(&probs[..n])
            .map(|(x, pr)| pr * response::expected_reward_if_accepted(&p.response, &p.reward, x))
            .sum()
    }

    /// The live streams.
    pub fn live(&self) -> &'a [u32] {
        self.world.live()
    }

    /// The true probability that `v` chooses each stream of `slate` (same order), into `out`.
    pub fn slate_probabilities(&self, v: u32, slate: &[u32], out: &mut Vec<f64>) {
        let pairs: Vec<response::Pair> = slate.iter().map(|&i| self.world.pair(v, i)).collect();
        out.clear();
        out.resize(slate.len(), 0.0);
        response::slate_choice(&self.world.p.response, &pairs, out);
    }

    /// The slate of `size` streams (every live stream when fewer are live) with the
    /// highest expected immediate reward for `v`, into `out`. Exact: with attractions wᵢ,
    /// rewards Rᵢ and examinations eₚ the value is Σ eₚwᵢRᵢ / (1 + Σ eₚwᵢ); Dinkelbach's method
    /// maximises Σ eₚ·wᵢ(Rᵢ − v) for the current value v, which by the rearrangement inequality
    /// puts the K largest wᵢ(Rᵢ − v) on the positions by decreasing examination, and repeats
    /// with the new slate's value until the slate no longer changes. A slate of one is the
    /// argmax of [`OracleView::expected_reward`] (ties to the first live stream).
    pub fn best_slate(&self, v: u32, size: usize, out: &mut Vec<u32>) {
        out.clear();
        let w = self.world;
        let live = w.live();
        let k = size.min(live.len());
        if k == 0 {
            return;
        }
        if w.p.response.is_single(k) {
            let mut best = live[0];
            let mut best_r = f64::NEG_INFINITY;
            for &i in live {
                let r = self.expected_reward(v, i);
                if r > best_r {
                    best = i;
                    best_r = r;
                }
            }
            out.push(best);
            return;
        }
        let rp = &w.p.response;
        // Attraction without examination, and reward if chosen, per live stream.
        let (attraction, reward): (Vec<f64>, Vec<f64>) = live
            .iter()
            .map(|&i| {
                let x = w.pair(v, i);
                let z = (response::utility(rp, &x) - rp.outside_option) / rp.temperature;
                (
                    z.min(700.0).exp(),
                    response::expected_reward_if_accepted(rp, &w.p.reward, &x),
                )
            })
            .unzip();
        // Positions by decreasing examination.
        let mut positions: Vec<usize> = (0..k).collect();
        positions.sort_by(|&a, &b| {
            rp.examination(b)
                .total_cmp(&rp.examination(a))
                .then(a.cmp(&b))
        });
        let mut order: Vec<usize> = (0..live.len()).collect();
        let mut assign = |value: f64| {
            let gain = |j: usize| attraction[j] * (reward[j] - value);
            let cmp = |a: &usize, b: &usize| gain(*b).total_cmp(&gain(*a)).then(a.cmp(b));
            // The K largest gains, in order (the rest need no order).
            if k < order.len() {
                order.select_nth_unstable_by(k, cmp);
            }
            order[..k].sort_unstable_by(cmp);
            let mut slate = vec![0u32; k];
            for (rank, &pos) in positions.iter().enumerate() {
                slate[pos] = live[order[rank]];
            }
            slate
        };
        let mut slate = assign(0.0);
        let mut value = self.slate_value(v, &slate);
        // Each round's value is at least the last one's; stop when it stops rising.
        for _ in 0..64 {
            let next = assign(value);
            if next == slate {
                break;
            }
            let next_value = self.slate_value(v, &next);
            if next_value <= value {
                break;
            }
            slate = next;
            value = next_value;
        }
        out.extend_from_slice(&slate);
    }

    /// The expected immediate reward of the best slate for `v` (0 when nothing is live).
    pub fn best_slate_value(&self, v: u32) -> f64 {
        if self
            .world
            .p
            .response
            .is_single(self.world.p.response.slate_size)
        {
            return self.best_expected_reward(v);
        }
        let mut slate = Vec::with_capacity(self.world.p.response.slate_size);
        self.best_slate(v, self.world.p.response.slate_size, &mut slate);
        if slate.is_empty() {
            0.0
        } else {
            self.slate_value(v, &slate)
        }
    }

    pub fn streamer(&self, i: u32) -> &'a StreamerHidden {
        &self.world.hidden[i as usize]
    }

    /// Hidden interests of viewer `v` (sum to 1).
    pub fn interest(&self, v: u32) -> &'a [f32] {
        let k = self.world.k;
        &self.world.topic_state[world::part(k, v, world::INTEREST)]
    }

    pub fn viewer(&self, v: u32) -> &'a world::ViewerState {
        &self.world.viewers[v as usize]
    }

    /// Fatigue of viewer `v` per topic, decayed to now.
    pub fn fatigue(&self, v: u32) -> Vec<f32> {
        let w = self.world;
        let st = &w.viewers[v as usize];
        let half_life = w.p.viewers.fatigue_half_life_hours * 60.0;
        let decay = (-(w.now().minutes() - st.fatigue_at) / half_life).exp2() as f32;
        let k = w.k;
        w.topic_state[world::part(k, v, world::FATIGUE)]
            .iter()
            .map(|f| f * decay)
            .collect()
    }
}

/// A readable, stable handle for streamer slot `i` (e.g. `NovaFox`, `PixelOwl2`).
pub fn streamer_name(i: u32) -> String {
    const A: [&str; 32] = [
        "Nova", "Pixel", "Lunar", "Echo", "Retro", "Cosmic", "Velvet", "Neon", "Atomic", "Misty",
        "Solar", "Frost", "Amber", "Turbo", "Quiet", "Rusty", "Golden", "Silver", "Crimson",
        "Jade", "Hyper", "Sunny", "Stormy", "Cozy", "Wild", "Lucky", "Mellow", "Brave", "Clever",
        "Dusty", "Swift", "Jolly",
    ];
    const B: [&str; 32] = [
        "Fox", "Owl", "Wolf", "Panda", "Otter", "Raven", "Tiger", "Koala", "Lynx", "Falcon",
        "Badger", "Moose", "Gecko", "Heron", "Bison", "Whale", "Cobra", "Crane", "Finch", "Hare",
        "Yak", "Mole", "Newt", "Puma", "Quail", "Seal", "Toad", "Viper", "Wren", "Ibis", "Lemur",
        "Mink",
    ];
    // A multiplicative shuffle so neighbouring ids do not share a first word.
    let n = (i as u64).wrapping_mul(0x9E37_79B9) % 1024;
    let base = format!("{}{}", A[(n / 32) as usize], B[(n % 32) as usize]);
    match i / 1024 {
        0 => base,
        r => format!("{base}{}", r + 1),
    }
}
