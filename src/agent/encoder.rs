//! Turns an observation into the fixed-size, normalised state vector a neural policy reads.
//! Only observable features go in (see docs/model.md, "What policies see"); every value lies
//! roughly in [0, 1] (time of day and week as sine/cosine pairs in [−1, 1]).
//!
//! With K topics the vector has 8K + 14 entries, in this order:
//!
//! | entries | feature |
//! | --- | --- |
//! | K | recent hours watched per topic (half-life one day), as shares of the total |
//! | 1 | total recent hours, log1p(h)/3 |
//! | K | hours watched per topic with a half-life of a week, as shares of the total |
//! | K | engagement given per topic (likes, comments, gifts, follows), as shares of the total |
//! | 1 | engagement per session, log1p(n / sessions)/3 |
//! | K | topic of the last stream watched, one-hot, fading with a half-life of 8 hours |
//! | K | share of the recommendations of each topic the viewer accepted, (accepted + ½)/(shown + 1), counts halving every three days |
//! | K | recommendations shown per topic, log1p(shown)/3 (≤2), same counts |
//! | 6 | recommendations so far in the session /10 (≤3), accepted share, session minutes /120 (≤3), earlier sessions /4 (≤1), days since last visit /7 (≤2), first session (0/1) |
//!
//! No feature grows with the age of the world (totals "ever" would): a policy evaluated on
//! viewers with a few days of history sees the same kind of states it was trained on.
//! | 4 | sin and cos of the hour of day and of the day of week |
//! | K | live streams per topic, as shares of all live streams |
//! | K | current viewers per topic, as shares of all viewers watching |
//! | 2 | live streams / streamer slots; log1p(viewers watching)/8 |
//!
//! With per-stream features (`[agent] stream_features`), [`STREAM_FEATURES`] entries per
//! streamer slot follow, slot by slot (all 0 for an offline slot; `L` is the scenario's usual
//! stream length, `stream_hours`; streams last between 0.7 L and 1.3 L):
//!
//! | entries | feature |
//! | --- | --- |
//! | 1 | minutes live / L (≤2) |
//! | 1 | how far into the window where streams end: (minutes live − 0.7 L) / 0.6 L, in [0, 2] |
//! | 1 | log1p(viewers watching the stream)/8 (≤2) |
//!
//! With taste features (`[agent] taste_features`), [`TASTE_FEATURES`] entries per slot follow
//! (after the per-stream ones, if on; all 0 for an offline slot): the viewer's own entries above
//! at the topic of the slot's stream — the day's and the week's share of hours watched, the
//! share of engagement, the last-topic value, the accepted share and log1p(shown)/3.
//!
//! The network reads these through its per-action feature head (one weight per feature,
//! computed from the viewer's state and shared by all streams), not through its hidden stack.

use crate::sim::Observation;
use crate::sim::observation::IMPRESSION_HALF_LIFE;

/// Half-life of the last-watched-topic feature, minutes.
const LAST_TOPIC_HALF_LIFE: f64 = 480.0;

/// Per-stream features per streamer slot (see the module docs).
pub const STREAM_FEATURES: usize = 3;

/// Taste features per streamer slot (see the module docs).
pub const TASTE_FEATURES: usize = 6;

/// Encodes observations of a world with a fixed number of topics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StateEncoder {
    topics: usize,
    /// Streamer slots with per-slot features (0 = none).
    slots: usize,
    /// Per-stream features ([`STREAM_FEATURES`] per slot) are on.
    stream: bool,
    /// Taste features ([`TASTE_FEATURES`] per slot) are on.
    taste: bool,
    /// The usual stream length `L`, minutes.
    stream_minutes: f64,
}

impl StateEncoder {
    pub fn new(topics: usize) -> Self {
        StateEncoder {
            topics,
            slots: 0,
            stream: false,
            taste: false,
            stream_minutes: 240.0,
        }
    }

    /// The same encoder followed by [`STREAM_FEATURES`] features of each of `slots` streamer
    /// slots, for a world whose streams usually last `stream_minutes`.
    pub fn with_stream_features(self, slots: usize, stream_minutes: f64) -> Self {
        StateEncoder {
            slots,
            stream: true,
            stream_minutes: stream_minutes.max(1.0),
            ..self
        }
    }

    /// The same encoder with [`TASTE_FEATURES`] features of each of `slots` streamer slots (after
    /// its per-stream features, if any): the viewer's logs at the topic of the slot's stream.
    pub fn with_taste_features(self, slots: usize) -> Self {
        StateEncoder {
            slots,
            taste: true,
            ..self
        }
    }

    /// Length of the part of the state that describes the viewer and the world.
    pub fn viewer_dim(&self) -> usize {
        8 * self.topics + 14
    }

    /// Features of each slot: [`STREAM_FEATURES`] per-stream ones, [`TASTE_FEATURES`] taste ones,
    /// both (in that order) or none.
    pub fn features_per_slot(&self) -> usize {
        self.stream as usize * STREAM_FEATURES + self.taste as usize * TASTE_FEATURES
    }

    /// Length of the state vector.
    pub fn dim(&self) -> usize {
        self.viewer_dim() + self.slots * self.features_per_slot()
    }

    /// Writes the state of `obs` into `out` (of length [`StateEncoder::dim`]).
    pub fn encode(&self, obs: &Observation<'_>, out: &mut [f32]) {
        let k = self.topics;
        debug_assert_eq!(obs.num_topics, k);
        assert_eq!(out.len(), self.dim(), "state buffer of the wrong size");
        out.fill(0.0);
        let h = &obs.history;
        let now = obs.time;
        let mut at = 0;
        // Where the per-topic blocks the taste features read start: day shares, week shares,
        // engagement shares, last topic, accepted shares, recommendations shown.
        let mut taste = [0usize; TASTE_FEATURES];

        taste[0] = at;
        let mut total = 0.0f32;
        for t in 0..k {
            let r = h.recent(t, now);
            out[at + t] = r;
            total += r;
        }
        normalise(&mut out[at..at + k], total);
        out[at + k] = (total.ln_1p() / 3.0).min(2.0);
        at += k + 1;

        taste[1] = at;
        let mut total = 0.0f32;
        for t in 0..k {
            out[at + t] = h.week_hours[t];
            total += h.week_hours[t];
        }
        normalise(&mut out[at..at + k], total);
        at += k;

        taste[2] = at;
        let total: f32 = h.engagement.iter().sum();
        out[at..at + k].copy_from_slice(h.engagement);
        normalise(&mut out[at..at + k], total);
        let sessions = h.sessions.max(1) as f32;
        out[at + k] = ((total / sessions).ln_1p() / 3.0).min(2.0);
        at += k + 1;

        taste[3] = at;
        if let Some(t) = h.last_topic {
            let age = (now.minutes() - h.last_watch_at).max(0.0);
            out[at + t as usize] = (-age / LAST_TOPIC_HALF_LIFE).exp2() as f32;
        }
        at += k;

        (taste[4], taste[5]) = (at, at + k);
        // Both counts decay alike, so their ratio needs no decay to now; the count does.
        let fade = (-(now.minutes() - h.shown_at).max(0.0) / IMPRESSION_HALF_LIFE).exp2() as f32;
        for t in 0..k {
            out[at + t] = (h.accepted[t] + 0.5) / (h.shown[t] + 1.0);
            out[at + k + t] = ((h.shown[t] * fade).ln_1p() / 3.0).min(2.0);
        }
        at += 2 * k;

        let steps = h.session_steps as f32;
        out[at] = (steps / 10.0).min(3.0);
        out[at + 1] = h.session_accepted as f32 / (steps + 1.0);
        out[at + 2] = (h.session_minutes as f32 / 120.0).min(3.0);
        out[at + 3] = (h.sessions.saturating_sub(1) as f32 / 4.0).min(1.0);
        out[at + 4] = (h.days_since_last_visit as f32 / 7.0).min(2.0);
        out[at + 5] = (h.sessions <= 1) as u8 as f32;
        at += 6;

        let (hs, hc) = angle(now.hour_of_day() / 24.0);
        let (ws, wc) = angle((now.weekday() as f64 + now.hour_of_day() / 24.0) / 7.0);
        out[at..at + 4].copy_from_slice(&[hs, hc, ws, wc]);
        at += 4;

        let mut watching = 0.0f32;
        for &i in obs.live {
            let s = &obs.streams[i as usize];
            out[at + s.topic as usize] += 1.0;
            out[at + k + s.topic as usize] += s.viewers as f32;
            watching += s.viewers as f32;
        }
        normalise(&mut out[at..at + k], obs.live.len() as f32);
        normalise(&mut out[at + k..at + 2 * k], watching);
        at += 2 * k;
        out[at] = obs.live.len() as f32 / obs.streams.len().max(1) as f32;
        out[at + 1] = (watching.ln_1p() / 8.0).min(2.0);
        at += 2;
        debug_assert_eq!(at, self.viewer_dim());

        if self.slots > 0 {
            debug_assert_eq!(self.slots, obs.streams.len());
            let l = self.stream_minutes;
            let per = self.features_per_slot();
            let (viewer, slots) = out.split_at_mut(at);
            for &i in obs.live {
                let s = &obs.streams[i as usize];
                let mut f = &mut slots[i as usize * per..][..per];
                if self.stream {
                    let live = (now.minutes() - s.live_since).max(0.0);
                    f[0] = (live / l).min(2.0) as f32;
                    f[1] = ((live - 0.7 * l) / (0.6 * l)).clamp(0.0, 2.0) as f32;
                    f[2] = ((s.viewers as f32).ln_1p() / 8.0).min(2.0);
                    f = &mut f[STREAM_FEATURES..];
                }
                if self.taste {
                    for (x, b) in f.iter_mut().zip(taste) {
                        *x = viewer[b + s.topic as usize];
                    }
                }
            }
        }
    }

    /// The action mask of `obs`: true for live streamer slots.
    pub fn mask(obs: &Observation<'_>, out: &mut [bool]) {
        out.fill(false);
        for &i in obs.live {
            out[i as usize] = true;
        }
    }
}

fn normalise(v: &mut [f32], total: f32) {
    if total > 0.0 {
        v.iter_mut().for_each(|x| *x /= total);
    }
}

fn angle(fraction: f64) -> (f32, f32) {
    let a = fraction * std::f64::consts::TAU;
    (a.sin() as f32, a.cos() as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use crate::sim::World;

    #[test]
    fn states_are_finite_bounded_and_of_the_documented_size() {
        let scenario = Scenario::builtin_default();
        let mut world = World::new(&scenario, 1);
        let enc = StateEncoder::new(world.num_topics());
        assert_eq!(enc.dim(), 8 * 8 + 14);
        let mut state = vec![0.0; enc.dim()];
        let mut mask = vec![false; world.num_streamers()];
        for _ in 0..20_000 {
            world.next_decision().unwrap();
            let obs = world.observe();
            enc.encode(&obs, &mut state);
            StateEncoder::mask(&obs, &mut mask);
            assert!(
                state
                    .iter()
                    .all(|x| x.is_finite() && (-1.0..=3.0).contains(x)),
                "{state:?}"
            );
            assert_eq!(mask.iter().filter(|m| **m).count(), obs.live.len());
            let choice = obs.live.first().copied();
            world.respond(choice).unwrap();
        }
    }

    /// Per-stream features follow the viewer part, slot by slot: zero for offline slots, and
    /// for live ones the documented minutes-live, end-window and audience values.
    #[test]
    fn per_stream_features_describe_each_live_slot() {
        let scenario = Scenario::builtin_default();
        let mut world = World::new(&scenario, 3);
        let slots = world.num_streamers();
        let base = StateEncoder::new(world.num_topics());
        let enc = base.with_stream_features(slots, 240.0);
        assert_eq!(enc.dim(), base.dim() + slots * STREAM_FEATURES);
        assert_eq!(enc.viewer_dim(), base.dim());
        let (mut plain, mut state) = (vec![0.0; base.dim()], vec![0.0; enc.dim()]);
        let mut late_seen = false;
        for _ in 0..5_000 {
            world.next_decision().unwrap();
            let obs = world.observe();
            base.encode(&obs, &mut plain);
            enc.encode(&obs, &mut state);
            assert_eq!(
                &state[..base.dim()],
                &plain[..],
                "the viewer part is unchanged"
            );
            for (i, f) in state[base.dim()..]
                .chunks_exact(STREAM_FEATURES)
                .enumerate()
            {
                let s = &obs.streams[i];
                if !s.live {
                    assert_eq!(f, &[0.0; STREAM_FEATURES], "offline slot {i}");
                    continue;
                }
                let live = obs.time.minutes() - s.live_since;
                assert!((f[0] as f64 - (live / 240.0).min(2.0)).abs() < 1e-5);
                let late = ((live - 168.0) / 144.0).clamp(0.0, 2.0);
                assert!((f[1] as f64 - late).abs() < 1e-5, "{live} min: {f:?}");
                late_seen |= f[1] > 0.0;
                assert!((f[2] - (s.viewers as f32).ln_1p() / 8.0).abs() < 1e-5);
            }
            world.respond(obs.live.first().copied()).unwrap();
        }
        assert!(late_seen, "some stream was seen near its end");
    }

    /// The per-topic acceptance block is evidence of taste: under random recommendations, the
    /// topic a viewer accepted most often is their favourite far more often than chance.
    #[test]
    fn accepted_shares_point_at_the_favourite_topic() {
        let scenario = Scenario::builtin_default();
        let mut world = World::new(&scenario, 4);
        let k = world.num_topics();
        let enc = StateEncoder::new(k);
        let mut state = vec![0.0; enc.dim()];
        let mut rng = crate::sim::random::stream(4, 1);
        let (mut hits, mut asked) = (0u32, 0u32);
        let argmax = |v: &[f32]| (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
        for step in 0..200_000 {
            world.next_decision().unwrap();
            let obs = world.observe();
            let shown: f32 = obs.history.shown.iter().sum();
            if step > 100_000 && shown >= 10.0 {
                enc.encode(&obs, &mut state);
                let accepts = &state[4 * k + 2..5 * k + 2];
                let interest = crate::sim::OracleView::new(&world).interest(obs.viewer);
                hits += (argmax(accepts) == argmax(interest)) as u32;
                asked += 1;
            }
            let choice = (!obs.live.is_empty())
                .then(|| obs.live[crate::sim::random::below(&mut rng, obs.live.len())]);
            world.respond(choice).unwrap();
        }
        let share = hits as f64 / asked as f64;
        assert!(asked > 10_000, "{asked}");
        assert!(share > 3.0 / k as f64, "{share:.3} of {asked}");
    }

    /// Taste features follow the per-stream ones in each live slot: the viewer's day and week
    /// shares, engagement share, last topic, accepted share and recommendations shown, each at
    /// the topic of the slot's stream.
    #[test]
    fn taste_features_read_the_viewers_logs_at_each_streams_topic() {
        let scenario = Scenario::builtin_default();
        let mut world = World::new(&scenario, 5);
        let (k, slots) = (world.num_topics(), world.num_streamers());
        let both = StateEncoder::new(k)
            .with_stream_features(slots, 240.0)
            .with_taste_features(slots);
        let stream = StateEncoder::new(k).with_stream_features(slots, 240.0);
        assert_eq!(both.features_per_slot(), STREAM_FEATURES + TASTE_FEATURES);
        let (mut x, mut y) = (vec![0.0; both.dim()], vec![0.0; stream.dim()]);
        let v = both.viewer_dim();
        let mut nonzero = [0usize; TASTE_FEATURES];
        for _ in 0..20_000 {
            world.next_decision().unwrap();
            let obs = world.observe();
            both.encode(&obs, &mut x);
            stream.encode(&obs, &mut y);
            for i in 0..slots {
                let f = &x[v + i * 9..v + (i + 1) * 9];
                let g = &y[v + i * 3..v + (i + 1) * 3];
                assert_eq!(&f[..3], g, "per-stream features come first");
                let t = obs.streams[i].topic as usize;
                let want: Vec<f32> = if obs.streams[i].live {
                    [0, k + 1, 2 * k + 1, 3 * k + 2, 4 * k + 2, 5 * k + 2]
                        .iter()
                        .map(|b| x[b + t])
                        .collect()
                } else {
                    vec![0.0; TASTE_FEATURES]
                };
                assert_eq!(&f[3..], &want[..], "slot {i}");
                for (n, w) in nonzero.iter_mut().zip(&want) {
                    *n += (*w > 0.0) as usize;
                }
            }
            world.respond(obs.live.first().copied()).unwrap();
        }
        assert!(nonzero.iter().all(|n| *n > 0), "{nonzero:?}");
    }

    #[test]
    fn the_last_watched_topic_fades() {
        let scenario = Scenario::builtin_default();
        let mut world = World::new(&scenario, 2);
        let enc = StateEncoder::new(world.num_topics());
        let k = world.num_topics();
        let mut state = vec![0.0; enc.dim()];
        // Find a viewer who has watched something and check the one-hot block.
        for _ in 0..50_000 {
            world.next_decision().unwrap();
            let obs = world.observe();
            if let Some(t) = obs.history.last_topic {
                enc.encode(&obs, &mut state);
                let block = &state[3 * k + 2..4 * k + 2];
                let age = obs.time.minutes() - obs.history.last_watch_at;
                let expected = (-age / LAST_TOPIC_HALF_LIFE).exp2() as f32;
                assert!((block[t as usize] - expected).abs() < 1e-6);
                assert_eq!(
                    block.iter().filter(|x| **x > 0.0).count(),
                    usize::from(expected > 0.0)
                );
                return;
            }
            let c = obs.live.first().copied();
            world.respond(c).unwrap();
        }
        panic!("nobody watched anything");
    }

    /// Mean state over the decisions of simulated day `day` onwards (one day).
    fn mean_state_of_day(world: &mut World, enc: &StateEncoder, day: f64) -> Vec<f64> {
        let mut state = vec![0.0; enc.dim()];
        let mut sum = vec![0.0f64; enc.dim()];
        let mut n = 0u64;
        let mut pick = 0usize;
        while world.next_decision().is_some() {
            let obs = world.observe();
            let t = obs.time.minutes() / 1440.0;
            if t >= day + 1.0 {
                break;
            }
            if t >= day {
                enc.encode(&obs, &mut state);
                sum.iter_mut()
                    .zip(&state)
                    .for_each(|(s, &x)| *s += x as f64);
                n += 1;
            }
            pick = pick.wrapping_add(7);
            let choice = (!obs.live.is_empty()).then(|| obs.live[pick % obs.live.len()]);
            world.respond(choice).unwrap();
        }
        sum.iter().map(|s| s / n.max(1) as f64).collect()
    }

    /// No feature grows with the age of the world: the mean state of a day three weeks later
    /// is within 0.1 of the mean state of day 7 in every coordinate, so a learner evaluated on
    /// viewers with a shorter history sees the states it was trained on.
    #[test]
    fn states_do_not_drift_with_the_age_of_the_world() {
        let scenario = Scenario::builtin_default();
        let mut world = World::new(&scenario, 4);
        let enc = StateEncoder::new(world.num_topics());
        let early = mean_state_of_day(&mut world, &enc, 7.0);
        let late = mean_state_of_day(&mut world, &enc, 28.0);
        for (i, (a, b)) in early.iter().zip(&late).enumerate() {
            assert!(
                (a - b).abs() < 0.1,
                "feature {i}: day 7 {a:.3}, day 28 {b:.3}"
            );
        }
    }
}
