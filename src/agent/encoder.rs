//! Turns an observation into the fixed-size, normalised state vector a neural policy reads.
//! Only observable features go in (see docs/model.md, "What policies see"); every value lies
//! roughly in [0, 1] (time of day and week as sine/cosine pairs in [−1, 1]).
//!
//! With K topics the viewer's part has 8K + 14 entries (3 more with engagement features, below),
//! in this order:
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
//! | 4 | sin and cos of the hour of day and of the day of week |
//! | K | live streams per topic, as shares of all live streams |
//! | K | current viewers per topic, as shares of all viewers watching |
//! | 2 | live streams / streamer slots; log1p(viewers watching)/8 |
//!
//! No feature grows with the age of the world (totals "ever" would): a policy evaluated on
//! viewers with a few days of history sees the same kind of states it was trained on.
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
//! With engagement features (`[agent] engagement_features`), [`ENGAGEMENT_FEATURES`] entries
//! per slot follow the others (all 0 for an offline slot): the likes, then the comments, per
//! hour watched that the slot's streamer has drawn on the platform, relative to the platform's
//! mean rates (shrunk towards them by [`ENGAGEMENT_PRIOR_HOURS`] hours of average engagement, so
//! a new streamer starts at the mean), halved: 0.5 is average, in [0, 2]. Likes and comments rise
//! with a stream's quality and appeal in different proportions, so together they tell a good
//! stream from a merely catchy one, and a newcomer's worth shows before the learner has tried
//! its slot. The viewer's part then ends with [`SESSION_ENGAGEMENT`] more entries (each /120,
//! ≤3): the minutes watched after this session's recommendations, and the same minutes weighted
//! by each watched stream's likes and by its comments feature — how the session's time went on
//! good or catchy streams, which the viewer's hidden session budget depends on.
//!
//! The network reads these through its per-action feature head (one weight per feature,
//! computed from the viewer's state and shared by all streams), not through its hidden stack.
//!
//! The feature families of `[agent] features` change the layout. Without "history" the first
//! 6K + 2 entries above (the viewer's logs, from the recent hours to the recommendations
//! shown) are left out, and there are no taste features. With "demographics" the viewer's part
//! ends with one-hot blocks of its age band (5), gender (3), region (one per region) and device
//! (3). With "social" it ends with one more entry, log1p(streamers followed)/4 (≤2), and
//! [`SOCIAL_FEATURES`] entries per slot follow all the others: 1 if the viewer follows the
//! slot's streamer, log1p(friends of the viewer watching it)/2 (≤2), and log1p(its
//! followers)/8 (≤2).

use crate::sim::Observation;
use crate::sim::observation::{IMPRESSION_HALF_LIFE, StreamPublic};

/// Half-life of the last-watched-topic feature, minutes.
const LAST_TOPIC_HALF_LIFE: f64 = 480.0;

/// Per-stream features per streamer slot (see the module docs).
pub const STREAM_FEATURES: usize = 3;

/// Taste features per streamer slot (see the module docs).
pub const TASTE_FEATURES: usize = 6;

/// Engagement features per streamer slot (see the module docs).
pub const ENGAGEMENT_FEATURES: usize = 2;

/// Session entries that come with the engagement features (see the module docs).
pub const SESSION_ENGAGEMENT: usize = 3;

/// Social features per streamer slot (see the module docs).
pub const SOCIAL_FEATURES: usize = 3;

/// Entries of the viewer's part that come with the social features.
pub const SOCIAL_VIEWER: usize = 1;

/// Entries of the viewer's part before the session block that hold its logs (the "history"
/// family), with K topics.
fn history_len(topics: usize) -> usize {
    6 * topics + 2
}

/// Hours of platform-average engagement every streamer's rates start from.
pub const ENGAGEMENT_PRIOR_HOURS: f64 = 2.0;

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
    /// Engagement features ([`ENGAGEMENT_FEATURES`] per slot) are on.
    engagement: bool,
    /// The viewer's logs are in the state (the "history" family).
    history: bool,
    /// Regions of the demographics blocks (0 = no demographics).
    regions: usize,
    /// Social features ([`SOCIAL_FEATURES`] per slot, [`SOCIAL_VIEWER`] for the viewer) are on.
    social: bool,
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
            engagement: false,
            history: true,
            regions: 0,
            social: false,
            stream_minutes: 240.0,
        }
    }

    /// The same encoder without the viewer's logs (the "history" family); no taste features.
    pub fn without_history(self) -> Self {
        assert!(!self.taste, "taste features read the history");
        StateEncoder {
            history: false,
            ..self
        }
    }

    /// The same encoder with the viewer's demographics, in a world of `regions` regions.
    pub fn with_demographics(self, regions: usize) -> Self {
        StateEncoder {
            regions: regions.max(1),
            ..self
        }
    }

    /// The same encoder with [`SOCIAL_FEATURES`] features of each of `slots` streamer slots
    /// (after the others) and the viewer's follows.
    pub fn with_social_features(self, slots: usize) -> Self {
        StateEncoder {
            slots,
            social: true,
            ..self
        }
    }

    /// Entries of the demographics blocks (0 without them).
    fn demographics_len(&self) -> usize {
        if self.regions == 0 {
            0
        } else {
            crate::scenario::AGE_BANDS.len()
                + crate::scenario::GENDERS.len()
                + self.regions
                + crate::scenario::DEVICES.len()
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
        assert!(self.history, "taste features read the history");
        StateEncoder {
            slots,
            taste: true,
            ..self
        }
    }

    /// The same encoder with [`ENGAGEMENT_FEATURES`] features of each of `slots` streamer slots
    /// (after the others, if any): each streamer's likes and comments per hour watched.
    pub fn with_engagement_features(self, slots: usize) -> Self {
        StateEncoder {
            slots,
            engagement: true,
            ..self
        }
    }

    /// Length of the part of the state that describes the viewer and the world.
    pub fn viewer_dim(&self) -> usize {
        8 * self.topics + 14 - (!self.history as usize) * history_len(self.topics)
            + self.engagement as usize * SESSION_ENGAGEMENT
            + self.demographics_len()
            + self.social as usize * SOCIAL_VIEWER
    }

    /// Features of each slot: [`STREAM_FEATURES`] per-stream ones, [`TASTE_FEATURES`] taste ones
    /// and [`ENGAGEMENT_FEATURES`] engagement ones, those that are on, in that order.
    pub fn features_per_slot(&self) -> usize {
        self.stream as usize * STREAM_FEATURES
            + self.taste as usize * TASTE_FEATURES
            + self.engagement as usize * ENGAGEMENT_FEATURES
            + self.social as usize * SOCIAL_FEATURES
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

        if self.history {
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
            let fade =
                (-(now.minutes() - h.shown_at).max(0.0) / IMPRESSION_HALF_LIFE).exp2() as f32;
            for t in 0..k {
                out[at + t] = (h.accepted[t] + 0.5) / (h.shown[t] + 1.0);
                out[at + k + t] = ((h.shown[t] * fade).ln_1p() / 3.0).min(2.0);
            }
            at += 2 * k;
        }

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

        let mean = self.engagement.then(|| EngagementRates::platform(obs));
        if let Some(m) = mean {
            let mut sums = [0.0f32; SESSION_ENGAGEMENT];
            for &(i, minutes) in h.session_watches {
                let [likes, comments] = m.features(&obs.streams[i as usize]);
                sums[0] += minutes;
                sums[1] += minutes * likes;
                sums[2] += minutes * comments;
            }
            for (x, sum) in out[at..at + SESSION_ENGAGEMENT].iter_mut().zip(sums) {
                *x = (sum / 120.0).min(3.0);
            }
            at += SESSION_ENGAGEMENT;
        }
        if self.regions > 0 {
            let d = &h.demographics;
            let bands = crate::scenario::AGE_BANDS.len();
            let genders = crate::scenario::GENDERS.len();
            out[at + d.age_band as usize] = 1.0;
            out[at + bands + d.gender as usize] = 1.0;
            out[at + bands + genders + (d.region as usize).min(self.regions - 1)] = 1.0;
            out[at + bands + genders + self.regions + d.device as usize] = 1.0;
            at += self.demographics_len();
        }
        if self.social {
            out[at] = ((h.follows.len() as f32).ln_1p() / 4.0).min(2.0);
            at += SOCIAL_VIEWER;
        }
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
                    f = &mut f[TASTE_FEATURES..];
                }
                if let Some(m) = mean {
                    f[..ENGAGEMENT_FEATURES].copy_from_slice(&m.features(s));
                    f = &mut f[ENGAGEMENT_FEATURES..];
                }
                if self.social {
                    f[2] = ((s.followers as f32).ln_1p() / 8.0).min(2.0);
                }
            }
            if self.social {
                // Where each slot's social entries start.
                let social = per - SOCIAL_FEATURES;
                for &i in h.follows {
                    if obs.streams[i as usize].live {
                        slots[i as usize * per + social] = 1.0;
                    }
                }
                for &(i, n) in h.friends_watching {
                    slots[i as usize * per + social + 1] = ((n as f32).ln_1p() / 2.0).min(2.0);
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

/// The platform's likes and comments per hour watched, over every streamer slot; `None` before
/// anyone watched, or where nobody ever liked (or commented): every stream's feature of that
/// kind is then 0.5, average.
#[derive(Debug, Clone, Copy)]
struct EngagementRates {
    likes: Option<f64>,
    comments: Option<f64>,
}

impl EngagementRates {
    fn platform(obs: &Observation<'_>) -> Self {
        let (mut hours, mut likes, mut comments) = (0.0, 0u64, 0u64);
        for s in obs.streams {
            hours += s.hours_watched;
            likes += s.likes;
            comments += s.comments;
        }
        let rate = |n: u64| (hours > 0.0 && n > 0).then(|| n as f64 / hours);
        EngagementRates {
            likes: rate(likes),
            comments: rate(comments),
        }
    }

    /// A stream's engagement features: its likes and comments per hour watched, shrunk towards
    /// the platform's rates, relative to them, halved (0.5 = average, at most 2).
    fn features(&self, s: &StreamPublic) -> [f32; ENGAGEMENT_FEATURES] {
        let h = s.hours_watched + ENGAGEMENT_PRIOR_HOURS;
        let relative = |count: u64, mean: Option<f64>| match mean {
            Some(m) => (0.5 * (count as f64 + ENGAGEMENT_PRIOR_HOURS * m) / h / m).min(2.0) as f32,
            None => 0.5,
        };
        [
            relative(s.likes, self.likes),
            relative(s.comments, self.comments),
        ]
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
    use crate::agent::{Policy, RandomPolicy};
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

    /// The feature families lay out as documented: without history the viewer's logs are
    /// left out and the rest is unchanged; demographics are one-hot blocks; the social
    /// entries say which live streams the viewer follows, how many friends watch each, and
    /// their followers.
    #[test]
    fn feature_families_lay_out_as_documented() {
        let mut scenario = Scenario::builtin_default();
        scenario.params.viewers.friends_mean = 15.0;
        scenario.params.viewers.region_weights = vec![1.0, 1.0, 1.0];
        scenario.params.response.follow_probability = 0.5;
        let mut world = World::new(&scenario, 6);
        let (k, slots) = (world.num_topics(), world.num_streamers());
        let full = StateEncoder::new(k);
        let bare = StateEncoder::new(k).without_history();
        let rich = StateEncoder::new(k)
            .with_engagement_features(slots)
            .with_demographics(3)
            .with_social_features(slots);
        let cut = history_len(k);
        assert_eq!(bare.dim(), full.dim() - cut);
        assert_eq!(
            rich.viewer_dim(),
            full.dim() + SESSION_ENGAGEMENT + 5 + 3 + 3 + 3 + 1
        );
        assert_eq!(
            rich.features_per_slot(),
            ENGAGEMENT_FEATURES + SOCIAL_FEATURES
        );
        let (mut a, mut b, mut c) = (
            vec![0.0; full.dim()],
            vec![0.0; bare.dim()],
            vec![0.0; rich.dim()],
        );
        let (mut follows_seen, mut friends_seen) = (0, 0);
        for _ in 0..30_000 {
            world.next_decision().unwrap();
            let obs = world.observe();
            full.encode(&obs, &mut a);
            bare.encode(&obs, &mut b);
            rich.encode(&obs, &mut c);
            assert_eq!(
                &a[cut..],
                &b[..],
                "the rest of the viewer part is unchanged"
            );
            assert!(c.iter().all(|x| x.is_finite() && (-1.0..=3.0).contains(x)));
            let demo = &c[full.dim() + SESSION_ENGAGEMENT..][..14];
            let d = obs.history.demographics;
            let ones: Vec<usize> = (0..14).filter(|&j| demo[j] == 1.0).collect();
            let want = [
                d.age_band as usize,
                5 + d.gender as usize,
                8 + d.region as usize,
                11 + d.device as usize,
            ];
            assert_eq!(ones, want);
            let per = rich.features_per_slot();
            let social =
                |i: u32| &c[rich.viewer_dim() + i as usize * per + ENGAGEMENT_FEATURES..][..3];
            for &i in obs.live {
                let f = social(i);
                let follows = obs.history.follows.contains(&i);
                assert_eq!(f[0], follows as u8 as f32, "slot {i}");
                follows_seen += follows as u32;
                let friends = obs
                    .history
                    .friends_watching
                    .iter()
                    .find(|(s, _)| *s == i)
                    .map_or(0, |&(_, n)| n);
                friends_seen += (friends > 0) as u32;
                assert!((f[1] - (friends as f32).ln_1p() / 2.0).abs() < 1e-6);
                let followers = obs.streams[i as usize].followers as f32;
                assert!((f[2] - (followers.ln_1p() / 8.0).min(2.0)).abs() < 1e-6);
            }
            world.respond(obs.live.first().copied()).unwrap();
        }
        assert!(
            follows_seen > 100 && friends_seen > 100,
            "{follows_seen} {friends_seen}"
        );
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
        let mut random = RandomPolicy::new(crate::sim::random::stream(4, 1));
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
            let choice = random_choice(&mut random, &obs);
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

    /// Engagement features come last in each live slot and follow each streamer's hidden
    /// engagement: under random recommendations on the clickbait world, a stream's likes per
    /// hour feature tracks 0.3 + quality + appeal and its comments feature 0.2 + ½·quality +
    /// appeal (the response model's rates), and both are 0.5 (average) before anyone watched.
    #[test]
    fn engagement_features_track_each_streams_hidden_engagement() {
        let scenario = Scenario::bundled("clickbait").unwrap().unwrap();
        let mut world = World::new(&scenario, 6);
        let (k, slots) = (world.num_topics(), world.num_streamers());
        let enc = StateEncoder::new(k)
            .with_stream_features(slots, 240.0)
            .with_engagement_features(slots);
        let per = STREAM_FEATURES + ENGAGEMENT_FEATURES;
        assert_eq!(enc.features_per_slot(), per);
        let v = enc.viewer_dim();
        let mut x = vec![0.0; enc.dim()];
        let mut random = RandomPolicy::new(crate::sim::random::stream(6, 1));
        let mut first = true;
        let (mut likes, mut comments) = (Vec::new(), Vec::new());
        for step in 0..200_000 {
            world.next_decision().unwrap();
            let obs = world.observe();
            if (first || step % 10_000 == 0) && !obs.live.is_empty() {
                enc.encode(&obs, &mut x);
                let oracle = crate::sim::OracleView::new(&world);
                for i in 0..slots {
                    let (f, s) = (&x[v + i * per..][..per], &obs.streams[i]);
                    if !s.live {
                        assert!(f.iter().all(|&y| y == 0.0), "offline slot {i}: {f:?}");
                    } else if first {
                        assert_eq!(
                            &f[STREAM_FEATURES..],
                            &[0.5, 0.5],
                            "slot {i} before any watch"
                        );
                    } else if s.hours_watched >= 10.0 {
                        let h = oracle.streamer(i as u32);
                        likes.push((f[STREAM_FEATURES] as f64, 0.3 + h.quality + h.appeal));
                        comments.push((
                            f[STREAM_FEATURES + 1] as f64,
                            0.2 + 0.5 * h.quality + h.appeal,
                        ));
                    }
                }
                first = false;
            }
            let choice = random_choice(&mut random, &obs);
            world.respond(choice).unwrap();
        }
        assert!(
            likes.len() >= 100,
            "{} live streams with 10 hours watched",
            likes.len()
        );
        let (rl, rc) = (correlation(&likes), correlation(&comments));
        assert!(
            rl > 0.8 && rc > 0.8,
            "likes r = {rl:.3}, comments r = {rc:.3}"
        );
    }

    /// In a world where nobody ever likes anything, every live stream's likes feature stays at
    /// 0.5 (average) however long it was watched, while its comments feature moves.
    #[test]
    fn a_kind_of_engagement_nobody_gives_reads_as_average() {
        let mut scenario = Scenario::builtin_default();
        scenario.params.response.likes_per_hour = 0.0;
        let mut world = World::new(&scenario, 8);
        let (k, slots) = (world.num_topics(), world.num_streamers());
        let enc = StateEncoder::new(k).with_engagement_features(slots);
        let v = enc.viewer_dim();
        let mut x = vec![0.0; enc.dim()];
        let mut random = RandomPolicy::new(crate::sim::random::stream(8, 1));
        for _ in 0..50_000 {
            world.next_decision().unwrap();
            let obs = world.observe();
            let choice = random_choice(&mut random, &obs);
            world.respond(choice).unwrap();
        }
        world.next_decision().unwrap();
        let obs = world.observe();
        enc.encode(&obs, &mut x);
        let mut moved = 0;
        for &i in obs.live {
            let f = &x[v + i as usize * ENGAGEMENT_FEATURES..][..ENGAGEMENT_FEATURES];
            assert_eq!(
                f[0], 0.5,
                "slot {i} ({} hours watched)",
                obs.streams[i as usize].hours_watched
            );
            moved += (f[1] != 0.5) as u32;
        }
        assert!(moved > 0, "no comments feature moved");
    }

    /// With engagement features the viewer's part ends with the minutes this session watched
    /// after recommendations, and those minutes weighted by each watched stream's likes and
    /// comments features: checked against a tally kept from the world's outcomes.
    #[test]
    fn session_entries_weigh_the_minutes_watched_by_engagement() {
        let scenario = Scenario::builtin_default();
        let mut world = World::new(&scenario, 7);
        let (k, slots) = (world.num_topics(), world.num_streamers());
        let enc = StateEncoder::new(k).with_engagement_features(slots);
        assert_eq!(enc.viewer_dim(), 8 * k + 14 + SESSION_ENGAGEMENT);
        let at = 8 * k + 14;
        let mut x = vec![0.0; enc.dim()];
        let mut random = RandomPolicy::new(crate::sim::random::stream(7, 1));
        let mut watched: std::collections::HashMap<u32, Vec<(u32, f64)>> = Default::default();
        let mut checked = 0;
        for _ in 0..30_000 {
            world.next_decision().unwrap();
            let obs = world.observe();
            let mine = watched.entry(obs.viewer).or_default();
            if obs.history.session_steps == 0 {
                mine.clear();
            }
            enc.encode(&obs, &mut x);
            let (mut hours, mut all_likes, mut all_comments) = (0.0, 0.0, 0.0);
            for s in obs.streams {
                hours += s.hours_watched;
                all_likes += s.likes as f64;
                all_comments += s.comments as f64;
            }
            // Before anyone liked (or commented) every stream reads as average, 0.5.
            let feature = |count: u64, all: f64, h: f64| {
                if hours > 0.0 && all > 0.0 {
                    0.5 * (count as f64 / (all / hours) + ENGAGEMENT_PRIOR_HOURS) / h
                } else {
                    0.5
                }
            };
            let mut want = [0.0f64; 3];
            for &(i, minutes) in mine.iter() {
                let s = &obs.streams[i as usize];
                let h = s.hours_watched + ENGAGEMENT_PRIOR_HOURS;
                want[0] += minutes;
                want[1] += minutes * feature(s.likes, all_likes, h);
                want[2] += minutes * feature(s.comments, all_comments, h);
            }
            for (j, w) in want.iter().enumerate() {
                let w = (w / 120.0).min(3.0);
                assert!(
                    (x[at + j] as f64 - w).abs() < 1e-3 * (1.0 + w),
                    "entry {j}: {} vs {w}",
                    x[at + j]
                );
            }
            checked += (want[0] > 0.0) as u32;
            let choice = random_choice(&mut random, &obs);
            let out = world.respond(choice).unwrap();
            if out.accepted {
                let watch = (out.streamer.unwrap(), out.engagement.watch_minutes);
                watched.entry(out.viewer).or_default().push(watch);
            }
        }
        assert!(
            checked > 1_000,
            "{checked} decisions after a watch in the session"
        );
    }

    /// A uniformly random live stream, as the `random` baseline picks it; `None` when nothing
    /// is live.
    fn random_choice(random: &mut RandomPolicy, obs: &Observation<'_>) -> Option<u32> {
        (!obs.live.is_empty()).then(|| random.act(obs, None))
    }

    fn correlation(xy: &[(f64, f64)]) -> f64 {
        let n = xy.len() as f64;
        let (mx, my) = xy
            .iter()
            .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (x, y) in xy {
            sxy += (x - mx) * (y - my);
            sxx += (x - mx) * (x - mx);
            syy += (y - my) * (y - my);
        }
        sxy / (sxx * syy).sqrt()
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
