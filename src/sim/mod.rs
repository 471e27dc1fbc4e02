//! The simulated live-streaming platform. Deterministic given a scenario and a seed.
//!
//! Policies see only [`Observation`]s; the oracles get the explicit [`OracleView`] of the hidden
//! state. This module never depends on the agents, the metrics, burn or the terminal.

pub mod clock;
mod events;
pub mod observation;
pub mod random;
pub mod response;
mod world;

pub use clock::{DAY, SimTime};
pub use observation::{Observation, StreamPublic, ViewerHistory};
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
