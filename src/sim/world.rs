//! The world: streamers with schedules and emergent audiences, viewers with hidden tastes,
//! fatigue, patience and satisfaction, all on one event-driven clock.
//!
//! A step is one recommendation for one viewer: [`World::next_decision`] advances the clock to
//! the next viewer who needs one, [`World::observe`] shows the policy what it may see, and
//! [`World::respond`] applies the policy's choice. Per-step cost does not depend on the number
//! of viewers (one heap operation, O(1) topic arithmetic) and the step allocates nothing.

use super::clock::{DAY, SimTime};
use super::events::{Kind, Queue};
use super::observation::{
    Demographics, IMPRESSION_HALF_LIFE, Observation, RECENT_HALF_LIFE, StreamPublic, ViewerHistory,
    WATCH_LOG, WEEK_HALF_LIFE, Watch,
};
use super::random::{self, Rng};
use super::response::{self, Engagement, Pair};
use super::social::Social;
use crate::scenario::{AGE_BANDS, GENDERS, MAX_SLATE_SIZE, RawScenario, Scenario};

/// What kind of streamer a slot holds (hidden from policies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum StreamerKind {
    Regular,
    Clickbait,
    Superstar,
}

/// Hidden and scheduling state of a streamer slot.
#[derive(Debug, Clone)]
pub struct StreamerHidden {
    pub kind: StreamerKind,
    pub quality: f64,
    pub appeal: f64,
    pub primary: u16,
    pub secondary: u16,
    /// Share of the primary topic in the mix.
    pub focus: f64,
    /// Bit d set = streams on weekday d (0 = Monday).
    pub days: u8,
    /// Scheduled start, minute of the day.
    pub start_minute: f64,
    /// Stream length, minutes.
    pub duration: f64,
    /// When the current stream ends (valid while live).
    pub live_until: f64,
    /// Bumped each time a new streamer takes over the slot (cold start).
    pub generation: u32,
}

impl StreamerHidden {
    /// Dot product of the streamer's topic mix with a per-topic vector.
    #[inline]
    fn dot(&self, v: &[f32]) -> f64 {
        self.focus * v[self.primary as usize] as f64
            + (1.0 - self.focus) * v[self.secondary as usize] as f64
    }
}

/// Where a viewer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Between sessions; wakes up for the next one.
    Away,
    /// In a session, waiting for the next recommendation.
    Active,
    /// In a session, watching a stream.
    Watching(u32),
    /// Gone for good (the slot may be taken by a new viewer later).
    Churned,
}

/// Scalar state of a viewer (the per-topic vectors live in flat arrays in [`World`]).
#[derive(Debug, Clone)]
#[repr(C, align(64))]
pub struct ViewerState {
    // The first 64 bytes hold what every step reads (the struct is cache-line aligned).
    pub status: Status,
    pub social: f64,
    pub fatigue_at: f64,
    /// Session minutes left.
    pub budget: f64,
    pub satisfaction: f64,
    pub patience: f64,
    pub session_reward: f64,
    pub interest_max: f32,
    pub session_steps: u32,
    // The second 64 bytes: read on every recommendation and on accepted steps and watch ends.
    pub recent_at: f64,
    /// When the per-topic recommendation counts were last updated.
    pub shown_at: f64,
    /// When the last watch began, and the primary topic of that stream (u16::MAX before any).
    pub last_watch_at: f64,
    pub last_topic: u16,
    /// Entries in use in the viewer's watch log, and where the next one goes.
    pub watch_log_len: u8,
    pub watch_log_next: u8,
    pub session_accepted: u32,
    pub sessions: u32,
    /// A followed streamer that went live and that the viewer was notified of (slot + 1; 0
    /// for none): the viewer considers it at its next choice.
    pub notified: u32,
    /// What the watch under way adds to its channel's public counts when it ends (hours,
    /// likes, comments, whether the viewer followed; zero for an organic watch).
    pub watch_credit: WatchCredit,
    // The rest: read at session boundaries, and where demographics matter.
    /// Usual minute of the day to come online.
    pub home_minute: f64,
    pub taste_at: f64,
    pub session_start: f64,
    pub last_visit_end: f64,
    pub days_since_last_visit: f64,
    pub last_active_day: u64,
    /// The viewer's public profile.
    pub demographics: Demographics,
}

/// What a watch under way adds to its channel's public counts when it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C)]
pub struct WatchCredit {
    pub hours: f64,
    pub likes: u32,
    pub comments: u32,
    /// Whether the viewer followed the streamer during the watch.
    pub followed: bool,
}

/// A finished session, reported to metrics and to learning policies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionEnd {
    pub viewer: u32,
    /// When the session began (simulated minutes since the world started).
    pub started: f64,
    pub steps: u32,
    pub minutes: f64,
    pub reward: f64,
    pub churned: bool,
}

/// The result of one recommendation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub viewer: u32,
    /// The chosen stream; the slate's first when none was chosen; None when nothing was live.
    pub streamer: Option<u32>,
    /// Slate position of the chosen stream (0-based); None when none was chosen.
    pub position: Option<u8>,
    pub accepted: bool,
    pub engagement: Engagement,
    pub reward: f64,
    /// The session ended with this step (viewer left after a rejection, or nothing was live).
    pub session_ended: bool,
}

/// A policy chose something that cannot be recommended.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StepError {
    #[error("no viewer is waiting for a recommendation (call next_decision first)")]
    NoPendingDecision,
    #[error("streamer {0} does not exist")]
    UnknownStreamer(u32),
    #[error("streamer {0} is offline and cannot be recommended")]
    Offline(u32),
    #[error("no recommendation was made although {0} streams are live")]
    Declined(usize),
    #[error(
        "the slate shows {got} streams; it must show {want} (the slate size, or every live stream when fewer are live)"
    )]
    SlateSize { got: usize, want: usize },
    #[error("streamer {0} appears twice in the slate")]
    Repeated(u32),
}

/// Where [`World::lean_to_profile`] writes: a viewer's interests, or the scratch row.
#[derive(Clone, Copy)]
enum TasteTarget {
    Interest(u32),
    Scratch,
}

/// Parts of a viewer's row in `World::topic_state`.
pub(super) const INTEREST: usize = 0;
pub(super) const FATIGUE: usize = 1;
const RECENT: usize = 2;
const ENGAGEMENT: usize = 3;
const SHOWN: usize = 4;
const ACCEPTED: usize = 5;
const WEEK_HOURS: usize = 6;
const PARTS: usize = 7;

/// The range of part `which` of viewer `v`'s row, with `k` topics.
#[inline]
pub(super) fn part(k: usize, v: u32, which: usize) -> std::ops::Range<usize> {
    let start = (v as usize * PARTS + which) * k;
    start..start + k
}

// Independent random streams: schedules never depend on what the policy does.
const RNG_POPULATION: u64 = 1;
const RNG_SCHEDULE: u64 = 2;
const RNG_RESPONSE: u64 = 3;
const RNG_VIEWERS: u64 = 4;
const RNG_DEMOGRAPHICS: u64 = 5;
const RNG_TASTE_PROFILES: u64 = 6;
const RNG_SOCIAL: u64 = 7;
const RNG_CONTENT: u64 = 8;
/// Mixed into the key of the (viewer, streamer) affinities (no generator draws them).
const RNG_AFFINITY: u64 = 9;

/// The simulated platform.
#[derive(Clone)]
pub struct World {
    pub(super) p: RawScenario,
    pub(super) k: usize,
    now: f64,
    queue: Queue,
    streams: Vec<StreamPublic>,
    pub(super) hidden: Vec<StreamerHidden>,
    live: Vec<u32>,
    live_pos: Vec<u32>,
    /// Per-viewer, per-topic state in one row per viewer: interests, fatigue, recent hours
    /// watched, engagement given, recommendations shown and accepted, hours watched over a week.
    /// See [`part`].
    pub(super) topic_state: Vec<f32>,
    pub(super) viewers: Vec<ViewerState>,
    /// Per viewer, the streams watched after accepted recommendations in the current session:
    /// (streamer slot, minutes watched).
    session_watches: Vec<Vec<(u32, f32)>>,
    /// Per viewer, its last [`WATCH_LOG`] watches (a ring, `WATCH_LOG` entries per viewer), how
    /// many are filled, and where the next goes.
    watch_log: Vec<Watch>,
    rng_pop: Rng,
    rng_sched: Rng,
    rng_resp: Rng,
    rng_view: Rng,
    rng_demo: Rng,
    /// The platform's taste profile (a distribution over topics) of each age band, gender and
    /// region, one row of `k` after another in that order: a viewer's hidden tastes lean
    /// towards the normalised sum of its three rows by `demographic_taste_strength`.
    taste_profiles: Vec<f32>,
    /// Follows and friendships, and the social draws (notifications, their watches).
    social: Social,
    rng_social: Rng,
    /// Content vectors of every slot's streamer (`content_len()` values per slot), the fixed
    /// projections they come from (per modality, `content_dim` rows of `k + 2`), and the
    /// platform's draws of their noise.
    content: Vec<f32>,
    content_projection: Vec<f32>,
    rng_content: Rng,
    /// The platform's key of its (viewer, streamer) affinities.
    affinity_key: u64,
    pair_setup: PairSetup,
    /// For the pending viewer: live streams its friends are watching, and how many.
    friends_watching: Vec<(u32, u16)>,
    pending: Option<u32>,
    /// Viewers who churned and will never be replaced: when all are, no one comes again.
    gone: usize,
    session_ends: Vec<SessionEnd>,
    active_today: u32,
    daily_active: Vec<u32>,
    new_viewers: u64,
    new_streamers: u64,
    scratch: Vec<f32>,
}

impl World {
    /// Builds the world of `scenario` with `seed`.
    pub fn new(scenario: &Scenario, seed: u64) -> World {
        World::with_viewer_seed(scenario, seed, seed)
    }

    /// The platform of `World::new(scenario, seed)` — the same streamers, with the same
    /// schedules — visited by another population of viewers, drawn (with their responses)
    /// from `viewer_seed`. Evaluation runs here: a learner that knows the streamers by slot
    /// meets viewers it has never seen.
    pub fn with_viewer_seed(scenario: &Scenario, seed: u64, viewer_seed: u64) -> World {
        let p = scenario.params.clone();
        let k = p.topics.names.len();
        let n = p.streamers.count;
        let m = p.viewers.count;
        let mut w = World {
            k,
            now: 0.0,
            queue: Queue::with_capacity(m + 2 * n + 2),
            streams: vec![StreamPublic::default(); n],
            hidden: Vec::with_capacity(n),
            live: Vec::with_capacity(n),
            live_pos: vec![u32::MAX; n],
            topic_state: vec![0.0; m * PARTS * k],
            viewers: Vec::with_capacity(m),
            session_watches: vec![Vec::new(); m],
            watch_log: vec![Watch::default(); m * WATCH_LOG],
            rng_pop: random::stream(seed, RNG_POPULATION),
            rng_sched: random::stream(seed, RNG_SCHEDULE),
            rng_resp: random::stream(viewer_seed, RNG_RESPONSE),
            rng_view: random::stream(viewer_seed, RNG_VIEWERS),
            rng_demo: random::stream(viewer_seed, RNG_DEMOGRAPHICS),
            taste_profiles: Vec::new(),
            social: Social::default(),
            rng_social: random::stream(viewer_seed, RNG_SOCIAL),
            friends_watching: Vec::new(),
            content: Vec::new(),
            content_projection: Vec::new(),
            rng_content: random::stream(seed, RNG_CONTENT),
            affinity_key: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ RNG_AFFINITY,
            pair_setup: PairSetup::default(),
            pending: None,
            gone: 0,
            session_ends: Vec::with_capacity(64),
            active_today: 0,
            daily_active: Vec::new(),
            new_viewers: 0,
            new_streamers: 0,
            scratch: vec![0.0; k],
            p,
        };
        w.pair_setup = PairSetup::new(&w.p, &w.social);
        w.draw_taste_profiles(seed);
        w.draw_content_projections();
        for i in 0..n {
            let kind = if i < w.p.streamers.superstars {
                StreamerKind::Superstar
            } else if random::uniform(&mut w.rng_pop) < w.p.streamers.clickbait_share {
                StreamerKind::Clickbait
            } else {
                StreamerKind::Regular
            };
            let h = w.fresh_streamer(kind, 0);
            w.streams[i].topic = h.primary;
            w.streams[i].tags = [h.primary, h.secondary];
            w.hidden.push(h);
            w.draw_content(i);
        }
        for i in 0..n as u32 {
            // A stream that started before time 0 and is still running is live at the start.
            let start = w.next_start(i as usize, -DAY);
            let end = start + w.hidden[i as usize].duration;
            if start < 0.0 && end > 0.0 {
                w.go_live(i, start);
            } else {
                let t = if start < 0.0 {
                    w.next_start(i as usize, 0.0)
                } else {
                    start
                };
                w.queue.push(t, Kind::StreamStart, i);
            }
        }
        for v in 0..m as u32 {
            let state = w.fresh_viewer_state();
            w.viewers.push(state);
            w.init_viewer_vectors(v);
            let st = &w.viewers[v as usize];
            let days = (random::uniform(&mut w.rng_view) * w.p.viewers.return_days).floor();
            let mut t = days * DAY + st.home_minute + random::normal(&mut w.rng_view, 0.0, 45.0);
            if t < 0.0 {
                t += DAY;
            }
            w.queue.push(t, Kind::ViewerWake, v);
        }
        let demographics: Vec<Demographics> = w.viewers.iter().map(|s| s.demographics).collect();
        let vp = &w.p.viewers;
        w.social = Social::new(
            n,
            vp.max_follows,
            &demographics,
            vp.friends_mean,
            vp.friend_homophily,
            &mut w.rng_social,
        );
        w.pair_setup = PairSetup::new(&w.p, &w.social);
        w.queue.push(DAY, Kind::Midnight, 0);
        w
    }

    // ----- construction helpers -------------------------------------------------------------

    fn fresh_streamer(&mut self, kind: StreamerKind, generation: u32) -> StreamerHidden {
        let s = &self.p.streamers;
        let rng = &mut self.rng_pop;
        let k = self.k;
        let primary = if s.topic_weights.is_empty() {
            random::below(rng, k)
        } else {
            random::weighted(rng, &s.topic_weights)
        };
        let secondary = if k > 1 {
            (primary + 1 + random::below(rng, k - 1)) % k
        } else {
            primary
        };
        let (quality, appeal) = match kind {
            StreamerKind::Regular => (
                random::normal(rng, s.quality_mean, s.quality_sd).clamp(0.0, 1.0),
                random::normal(rng, s.appeal_mean, s.appeal_sd).clamp(0.0, 1.0),
            ),
            StreamerKind::Clickbait => (
                0.05 + 0.25 * random::uniform(rng),
                0.8 + 0.2 * random::uniform(rng),
            ),
            StreamerKind::Superstar => (s.superstar_quality, s.superstar_appeal),
        };
        let (days, start_minute, duration) = if kind == StreamerKind::Superstar {
            let off = random::below(rng, 7);
            (
                0x7f & !(1u8 << off),
                17.0 * 60.0 + random::uniform(rng) * 120.0,
                (s.stream_hours * 1.5).clamp(5.0, 23.0) * 60.0,
            )
        } else {
            let want = random::normal(rng, s.days_per_week, 1.0)
                .round()
                .clamp(1.0, 7.0) as usize;
            let mut days = 0u8;
            while (days.count_ones() as usize) < want {
                days |= 1 << random::below(rng, 7);
            }
            let hour = random::weighted(rng, &s.start_hour_weights) as f64;
            let start = (hour + random::uniform(rng)) * 60.0;
            let duration = (s.stream_hours * 60.0 * (0.7 + 0.6 * random::uniform(rng)))
                .clamp(15.0, 23.5 * 60.0);
            (days, start, duration)
        };
        StreamerHidden {
            kind,
            quality,
            appeal,
            primary: primary as u16,
            secondary: secondary as u16,
            focus: s.focus,
            days,
            start_minute,
            duration,
            live_until: f64::NEG_INFINITY,
            generation,
        }
    }

    fn fresh_viewer_state(&mut self) -> ViewerState {
        let v = &self.p.viewers;
        let rng = &mut self.rng_view;
        let hour = random::weighted(rng, &v.activity_hour_weights) as f64;
        ViewerState {
            status: Status::Away,
            social: random::normal(rng, v.social_proof_mean, v.social_proof_sd).max(0.0),
            patience: random::normal(rng, v.patience_mean, v.patience_mean / 3.0).max(0.0),
            home_minute: (hour + random::uniform(rng)) * 60.0,
            satisfaction: v.satisfaction_initial,
            budget: 0.0,
            interest_max: 0.0,
            fatigue_at: 0.0,
            taste_at: self.now,
            recent_at: self.now,
            shown_at: self.now,
            session_start: 0.0,
            session_steps: 0,
            session_accepted: 0,
            session_reward: 0.0,
            sessions: 0,
            last_visit_end: f64::NAN,
            days_since_last_visit: 0.0,
            last_active_day: u64::MAX,
            last_topic: u16::MAX,
            last_watch_at: f64::NEG_INFINITY,
            watch_credit: WatchCredit::default(),
            notified: 0,
            watch_log_len: 0,
            watch_log_next: 0,
            demographics: Demographics {
                age_band: random::weighted(&mut self.rng_demo, &v.age_band_weights) as u8,
                gender: random::weighted(&mut self.rng_demo, &v.gender_weights) as u8,
                region: random::weighted(&mut self.rng_demo, &v.region_weights) as u8,
                device: random::weighted(&mut self.rng_demo, &v.device_weights) as u8,
            },
        }
    }

    fn init_viewer_vectors(&mut self, v: u32) {
        let k = self.k;
        let row = part(k, v, 0).start..part(k, v, PARTS - 1).end;
        self.topic_state[row].fill(0.0);
        let interest = &mut self.topic_state[part(k, v, INTEREST)];
        random::dirichlet(
            &mut self.rng_view,
            self.p.viewers.interest_concentration,
            interest,
        );
        let d = self.viewers[v as usize].demographics;
        self.lean_to_profile(d, TasteTarget::Interest(v));
        let interest = &self.topic_state[part(k, v, INTEREST)];
        self.viewers[v as usize].interest_max = interest.iter().copied().fold(0.0, f32::max);
    }

    /// Draws the platform's taste profiles from the platform's seed: the training, validation
    /// and evaluation worlds share them. Nothing is drawn when tastes ignore demographics.
    fn draw_taste_profiles(&mut self, seed: u64) {
        if self.p.viewers.demographic_taste_strength == 0.0 {
            return;
        }
        let rows = AGE_BANDS.len() + GENDERS.len() + self.p.viewers.region_weights.len();
        let mut rng = random::stream(seed, RNG_TASTE_PROFILES);
        self.taste_profiles = vec![0.0; rows * self.k];
        for row in self.taste_profiles.chunks_mut(self.k) {
            random::dirichlet(&mut rng, self.p.viewers.interest_concentration, row);
        }
    }

    /// Values of content per slot: every modality's vector, one after another.
    pub fn content_len(&self) -> usize {
        self.p.streamers.content_dim * self.p.streamers.content_modalities.len()
    }

    /// The fixed random projections of each modality (from the platform's seed).
    fn draw_content_projections(&mut self) {
        let len = self.content_len();
        if len == 0 {
            return;
        }
        let inputs = self.k + 2;
        let sd = 1.0 / (inputs as f64).sqrt();
        self.content_projection = (0..len * inputs)
            .map(|_| random::normal(&mut self.rng_content, 0.0, sd) as f32)
            .collect();
        self.content = vec![0.0; self.p.streamers.count * len];
    }

    /// The content vectors of slot `i`'s streamer: per modality, its projection of the
    /// streamer's topic mix, quality and appeal (both centred and doubled, so in [−1, 1]),
    /// plus Normal(0, `content_noise`) per value.
    fn draw_content(&mut self, i: usize) {
        let len = self.content_len();
        if len == 0 {
            return;
        }
        let (k, dim) = (self.k, self.p.streamers.content_dim);
        let h = &self.hidden[i];
        let mut x = vec![0.0f32; k + 2];
        x[h.primary as usize] += h.focus as f32;
        x[h.secondary as usize] += (1.0 - h.focus) as f32;
        x[k] = (2.0 * h.quality - 1.0) as f32;
        x[k + 1] = (2.0 * h.appeal - 1.0) as f32;
        for j in 0..len {
            let row = &self.content_projection[j * (k + 2)..(j + 1) * (k + 2)];
            let clean: f32 = row.iter().zip(&x).map(|(a, b)| a * b).sum();
            let sd = self.p.streamers.content_noise[j / dim];
            let noise = random::normal(&mut self.rng_content, 0.0, sd) as f32;
            self.content[i * len + j] = clean + noise;
        }
    }

    /// Moves a fresh taste draw towards the profile of demographic group `d` by
    /// `demographic_taste_strength` (a no-op at 0, so such worlds draw exactly as before).
    fn lean_to_profile(&mut self, d: Demographics, target: TasteTarget) {
        let strength = self.p.viewers.demographic_taste_strength as f32;
        if strength == 0.0 {
            return;
        }
        let k = self.k;
        let rows = [
            d.age_band as usize,
            AGE_BANDS.len() + d.gender as usize,
            AGE_BANDS.len() + GENDERS.len() + d.region as usize,
        ];
        let out = match target {
            TasteTarget::Interest(v) => &mut self.topic_state[part(k, v, INTEREST)],
            TasteTarget::Scratch => &mut self.scratch[..],
        };
        for (t, x) in out.iter_mut().enumerate() {
            let prior: f32 = rows.iter().map(|r| self.taste_profiles[r * k + t]).sum();
            *x = (1.0 - strength) * *x + strength * prior / rows.len() as f32;
        }
    }

    /// The next scheduled start of streamer `i` strictly after `after`.
    fn next_start(&mut self, i: usize, after: f64) -> f64 {
        let h = &self.hidden[i];
        let first = (after / DAY).floor() as i64;
        for d in first..first + 21 {
            if h.days & (1 << d.rem_euclid(7)) == 0 {
                continue;
            }
            if random::uniform(&mut self.rng_sched) < self.p.streamers.skip_probability {
                continue;
            }
            let jitter = random::normal(&mut self.rng_sched, 0.0, self.p.streamers.jitter_minutes);
            let t = d as f64 * DAY + h.start_minute + jitter;
            if t > after {
                return t;
            }
        }
        after + DAY
    }

    fn go_live(&mut self, i: u32, since: f64) {
        let h = &mut self.hidden[i as usize];
        h.live_until = since + h.duration;
        let s = &mut self.streams[i as usize];
        s.live = true;
        s.live_since = since;
        self.live_pos[i as usize] = self.live.len() as u32;
        self.live.push(i);
        self.queue.push(h.live_until, Kind::StreamEnd, i);
        let pick = self.p.viewers.notification_pick;
        if pick > 0.0 {
            for &v in self.social.followers(i) {
                let st = &mut self.viewers[v as usize];
                let online = matches!(st.status, Status::Active | Status::Watching(_));
                if online && random::uniform(&mut self.rng_social) < pick {
                    st.notified = i + 1;
                }
            }
        }
    }

    fn go_offline(&mut self, i: u32) {
        debug_assert_eq!(
            self.streams[i as usize].viewers, 0,
            "audience left before the end"
        );
        self.streams[i as usize].live = false;
        self.streams[i as usize].ended_at = self.now;
        self.streams[i as usize].streams_done += 1;
        let pos = self.live_pos[i as usize] as usize;
        self.live.swap_remove(pos);
        if let Some(&moved) = self.live.get(pos) {
            self.live_pos[moved as usize] = pos as u32;
        }
        self.live_pos[i as usize] = u32::MAX;
    }

    // ----- the step -------------------------------------------------------------------------

    /// Advances the clock to the next viewer who needs a recommendation and returns its id, or
    /// None when no viewer will ever come again (everyone churned and none is replaced).
    pub fn next_decision(&mut self) -> Option<u32> {
        if let Some(v) = self.pending {
            return Some(v);
        }
        while self.gone < self.viewers.len()
            && let Some(ev) = self.queue.pop()
        {
            debug_assert!(ev.time >= self.now - 1e-9, "clock went backwards");
            self.now = ev.time.max(self.now);
            match ev.kind() {
                Kind::Midnight => self.midnight(),
                Kind::StreamStart => {
                    if !self.streams[ev.id as usize].live {
                        self.go_live(ev.id, self.now);
                    }
                }
                Kind::StreamEnd => {
                    let i = ev.id;
                    self.go_offline(i);
                    let t = self.next_start(i as usize, self.now);
                    self.queue.push(t, Kind::StreamStart, i);
                }
                Kind::WatchEnd => {
                    let v = ev.id as usize;
                    let mut stream_ends_now = false;
                    if let Status::Watching(i) = self.viewers[v].status {
                        self.streams[i as usize].viewers -= 1;
                        self.credit_watch(ev.id, i);
                        stream_ends_now = self.hidden[i as usize].live_until <= self.now;
                    }
                    self.viewers[v].status = Status::Active;
                    if self.viewers[v].budget <= 0.0 {
                        self.end_session(ev.id);
                    } else if stream_ends_now {
                        // The watch was cut off by its stream's end, which is due at this very
                        // instant: the viewer asks for the next stream once that stream is
                        // offline (a wake sorts after a stream's end at equal times).
                        self.queue.push(self.now, Kind::ViewerWake, ev.id);
                    } else if !self.notified_pick(ev.id) && !self.organic_pick(ev.id) {
                        return self.ask(ev.id);
                    }
                }
                Kind::ViewerWake => {
                    let v = ev.id;
                    match self.viewers[v as usize].status {
                        Status::Away => self.start_session(v),
                        Status::Churned => {
                            self.viewers[v as usize] = self.fresh_viewer_state();
                            self.init_viewer_vectors(v);
                            self.new_viewers += 1;
                            self.start_session(v);
                        }
                        Status::Active => {}
                        Status::Watching(_) => unreachable!("a watching viewer has no wake event"),
                    }
                    if !self.notified_pick(v) && !self.organic_pick(v) {
                        return self.ask(v);
                    }
                }
            }
        }
        None
    }

    /// Viewer `v` needs a recommendation: it is pending, and what its friends are watching is
    /// counted for its observation.
    fn ask(&mut self, v: u32) -> Option<u32> {
        self.friends_watching.clear();
        if self.social.has_friends() {
            for &f in self.social.friends(v) {
                if let Status::Watching(i) = self.viewers[f as usize].status {
                    match self.friends_watching.iter_mut().find(|(s, _)| *s == i) {
                        Some((_, n)) => *n = n.saturating_add(1),
                        None => self.friends_watching.push((i, 1)),
                    }
                }
            }
        }
        self.pending = Some(v);
        self.pending
    }

    /// Friends of viewer `v` watching stream `i` now (0 unless friends matter to the choice).
    fn friends_on(&self, v: u32, i: u32) -> u32 {
        let watching = |&&f: &&u32| self.viewers[f as usize].status == Status::Watching(i);
        self.social.friends(v).iter().filter(watching).count() as u32
    }

    /// Viewer `v`'s slot is taken by a newcomer: the old viewer's follows leave the
    /// streamers' follower counts.
    fn social_leave(&mut self, v: u32) {
        for &i in self.social.follows(v) {
            self.streams[i as usize].followers -= 1;
        }
        self.social.viewer_replaced(v);
    }

    /// A notification the viewer got while online: if the followed stream is still live, the
    /// viewer considers it by itself first (accepting it with the choice model's probability)
    /// and watches it without asking for a recommendation. Returns whether it did.
    fn notified_pick(&mut self, v: u32) -> bool {
        let slot = std::mem::take(&mut self.viewers[v as usize].notified);
        if slot == 0 || !self.streams[slot as usize - 1].live {
            return false;
        }
        let i = slot - 1;
        let x = self.pair(v, i);
        let rp = &self.p.response;
        if random::uniform(&mut self.rng_social) >= response::accept_probability(rp, &x) {
            return false;
        }
        let draw = random::exponential(&mut self.rng_social, response::watch_mean(rp, &x));
        self.watch_by_choice(v, i, &x, draw);
        true
    }

    /// Viewer `v` starts watching stream `i` by its own choice (organic or notified) for a
    /// drawn `draw` minutes, cut at the stream's end: the logs see it, the recommender earns
    /// nothing and the channel's recommendation counts do not move.
    fn watch_by_choice(&mut self, v: u32, i: u32, x: &Pair, draw: f64) {
        let (watch, wake) = if draw >= x.remaining {
            (x.remaining, self.hidden[i as usize].live_until)
        } else {
            (draw, self.now + draw)
        };
        self.after_watch(v, i, watch / 60.0, &Engagement::default());
        self.streams[i as usize].viewers += 1;
        self.viewers[v as usize].status = Status::Watching(i);
        self.queue.push(wake, Kind::WatchEnd, v);
    }

    /// With probability `organic_share`, viewer `v` picks a stream by themselves: it looks at
    /// `organic_choices` random live streams and considers the one it likes best. Returns whether
    /// it started watching (then no recommendation is asked for now). Organic watches earn the
    /// recommender nothing, but they make audiences reflect what viewers really like.
    fn organic_pick(&mut self, v: u32) -> bool {
        let vp = &self.p.viewers;
        if self.live.is_empty() || random::uniform(&mut self.rng_view) >= vp.organic_share {
            return false;
        }
        let mut best = None;
        let mut best_u = f64::NEG_INFINITY;
        for _ in 0..vp.organic_choices {
            let i = self.live[random::below(&mut self.rng_view, self.live.len())];
            let x = self.pair(v, i);
            let u = response::utility(&self.p.response, &x);
            if u > best_u {
                best_u = u;
                best = Some((i, x));
            }
        }
        let Some((i, x)) = best else { return false };
        if random::uniform(&mut self.rng_view) >= response::accept_probability(&self.p.response, &x)
        {
            return false;
        }
        let rp = &self.p.response;
        let draw = random::exponential(&mut self.rng_view, response::watch_mean(rp, &x));
        self.watch_by_choice(v, i, &x, draw);
        true
    }

    fn midnight(&mut self) {
        self.daily_active.push(self.active_today);
        self.active_today = 0;
        self.queue.push(self.now + DAY, Kind::Midnight, 0);
        let turnover = self.p.streamers.turnover_per_day * self.hidden.len() as f64;
        let mut replace = turnover.floor() as usize;
        if random::uniform(&mut self.rng_sched) < turnover.fract() {
            replace += 1;
        }
        for _ in 0..replace {
            let i = random::below(&mut self.rng_sched, self.hidden.len());
            if self.streams[i].live || self.hidden[i].kind == StreamerKind::Superstar {
                continue;
            }
            let kind = if random::uniform(&mut self.rng_pop) < self.p.streamers.clickbait_share {
                StreamerKind::Clickbait
            } else {
                StreamerKind::Regular
            };
            let generation = self.hidden[i].generation + 1;
            let h = self.fresh_streamer(kind, generation);
            self.streams[i] = StreamPublic {
                topic: h.primary,
                tags: [h.primary, h.secondary],
                joined_at: self.now,
                ..StreamPublic::default()
            };
            self.hidden[i] = h;
            self.social.streamer_replaced(i as u32);
            self.draw_content(i);
            self.new_streamers += 1;
        }
    }

    fn start_session(&mut self, v: u32) {
        let now = self.now;
        let day = SimTime(now).day();
        let vp = &self.p.viewers;
        let (drift, session_minutes, alpha) = (
            vp.taste_drift_per_day,
            vp.session_minutes,
            vp.interest_concentration,
        );
        self.session_watches[v as usize].clear();
        let st = &mut self.viewers[v as usize];
        let device = st.demographics.device as usize;
        st.status = Status::Active;
        st.budget = session_minutes * (0.5 + random::uniform(&mut self.rng_view));
        let factor = self.p.viewers.device_session_factor[device];
        if factor != 1.0 {
            st.budget *= factor;
        }
        st.sessions += 1;
        st.session_start = now;
        st.session_steps = 0;
        st.session_accepted = 0;
        st.session_reward = 0.0;
        st.days_since_last_visit = if st.last_visit_end.is_nan() {
            0.0
        } else {
            (now - st.last_visit_end) / DAY
        };
        if st.last_active_day != day {
            st.last_active_day = day;
            self.active_today += 1;
        }
        let days = (now - st.taste_at) / DAY;
        if drift > 0.0 && days >= 1.0 {
            st.taste_at = now;
            let rate = (1.0 - (1.0 - drift).powf(days)) as f32;
            random::dirichlet(&mut self.rng_view, alpha, &mut self.scratch);
            let d = self.viewers[v as usize].demographics;
            self.lean_to_profile(d, TasteTarget::Scratch);
            let mut max = 0.0f32;
            let interest = &mut self.topic_state[part(self.k, v, INTEREST)];
            for (x, f) in interest.iter_mut().zip(&self.scratch) {
                *x = (1.0 - rate) * *x + rate * f;
                max = max.max(*x);
            }
            self.viewers[v as usize].interest_max = max;
        }
    }

    fn end_session(&mut self, v: u32) {
        let now = self.now;
        let vp = &self.p.viewers;
        let st = &mut self.viewers[v as usize];
        st.status = Status::Away;
        st.last_visit_end = now;
        // A notification is for the session it came in.
        st.notified = 0;
        let sigma = st.satisfaction;
        let churned = random::uniform(&mut self.rng_view) < vp.churn_max * (1.0 - sigma).powi(2);
        self.session_ends.push(SessionEnd {
            viewer: v,
            started: st.session_start,
            steps: st.session_steps,
            minutes: now - st.session_start,
            reward: st.session_reward,
            churned,
        });
        if churned {
            st.status = Status::Churned;
            if vp.replacement_days > 0.0 {
                let t = now + random::exponential(&mut self.rng_view, vp.replacement_days) * DAY;
                self.queue.push(t, Kind::ViewerWake, v);
            } else {
                self.gone += 1;
            }
            // A viewer who leaves the platform follows nobody any more.
            self.social_leave(v);
            return;
        }
        let gap = random::exponential(&mut self.rng_view, vp.return_days * (1.5 - sigma));
        let target = now + gap * DAY;
        let mut t = (target / DAY).floor() * DAY
            + st.home_minute
            + random::normal(&mut self.rng_view, 0.0, 45.0);
        while t < now + 60.0 {
            t += DAY;
        }
        self.queue.push(t, Kind::ViewerWake, v);
    }

    /// What the policy may see for the pending decision. Call after [`World::next_decision`].
    pub fn observe(&self) -> Observation<'_> {
        let v = self.pending.expect("observe() needs a pending decision") as usize;
        let st = &self.viewers[v];
        let k = self.k;
        Observation {
            viewer: v as u32,
            time: SimTime(self.now),
            history: ViewerHistory {
                recent_hours: &self.topic_state[part(k, v as u32, RECENT)],
                recent_at: st.recent_at,
                engagement: &self.topic_state[part(k, v as u32, ENGAGEMENT)],
                shown: &self.topic_state[part(k, v as u32, SHOWN)],
                accepted: &self.topic_state[part(k, v as u32, ACCEPTED)],
                shown_at: st.shown_at,
                week_hours: &self.topic_state[part(k, v as u32, WEEK_HOURS)],
                session_steps: st.session_steps,
                session_accepted: st.session_accepted,
                session_watches: &self.session_watches[v],
                session_minutes: self.now - st.session_start,
                sessions: st.sessions,
                days_since_last_visit: st.days_since_last_visit,
                last_topic: (st.last_topic != u16::MAX).then_some(st.last_topic),
                last_watch_at: st.last_watch_at,
                demographics: st.demographics,
                follows: self.social.follows(v as u32),
                friends_watching: &self.friends_watching,
                recent_watches: &self.watch_log[v * WATCH_LOG..][..st.watch_log_len as usize],
            },
            live: &self.live,
            streams: &self.streams,
            num_topics: self.k,
            content: &self.content,
            content_len: self.content_len(),
        }
    }

    /// The response model's inputs for viewer `v` and streamer `i` now.
    #[inline]
    pub(super) fn pair(&self, v: u32, i: u32) -> Pair {
        let st = &self.viewers[v as usize];
        let h = &self.hidden[i as usize];
        let row = &self.topic_state[part(self.k, v, 0).start..];
        let k = self.k;
        let decay = self.fatigue_decay(st);
        Pair {
            matching: h.dot(&row[..k]) / st.interest_max.max(1e-6) as f64,
            fatigue: decay * h.dot(&row[k..2 * k]),
            quality: h.quality,
            appeal: h.appeal,
            social: st.social,
            viewers: self.streams[i as usize].viewers,
            remaining: h.live_until - self.now,
            watch_factor: match self.pair_setup.watch_factor {
                Some(f) => f,
                None => self.p.viewers.device_watch_factor[st.demographics.device as usize],
            },
            friends: if self.pair_setup.friends {
                self.friends_on(v, i)
            } else {
                0
            },
            affinity: if self.pair_setup.affinity {
                self.affinity(v, i)
            } else {
                0.0
            },
        }
    }

    /// Viewer `v`'s own liking of the streamer in slot `i` (0 unless `pair_affinity_sd` is
    /// set): a fixed draw per (viewer, streamer) of this platform. The viewer is known by its
    /// birth draw (`home_minute`) and the streamer by its slot and generation, so a newcomer in
    /// either slot brings new affinities.
    #[inline]
    fn affinity(&self, v: u32, i: u32) -> f64 {
        let sd = self.p.response.pair_affinity_sd;
        let viewer = self.viewers[v as usize].home_minute.to_bits();
        let streamer = (i as u64) << 32 | self.hidden[i as usize].generation as u64;
        let key = self.affinity_key
            ^ viewer.rotate_left(17)
            ^ streamer.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        sd * random::hashed_normal(key)
    }

    #[inline]
    fn fatigue_decay(&self, st: &ViewerState) -> f64 {
        let half_life = self.p.viewers.fatigue_half_life_hours * 60.0;
        (-(self.now - st.fatigue_at) / half_life).exp2()
    }

    /// Applies the policy's choice for the pending viewer. `None` is only allowed when nothing
    /// is live: the viewer is told so and leaves. A slate of one; see [`World::respond_slate`].
    pub fn respond(&mut self, choice: Option<u32>) -> Result<Outcome, StepError> {
        match choice {
            Some(i) => self.respond_slate(&[i]),
            None => self.respond_slate(&[]),
        }
    }

    /// Shows the pending viewer `slate` (best first): distinct live streams, as many as the
    /// scenario's `slate_size` or, when fewer are live, all of them; empty only when nothing is
    /// live (the viewer is told so and leaves). The viewer chooses at most one stream by the
    /// position-biased logit of [`response::slate_choice`] and watches it, or scrolls past.
    pub fn respond_slate(&mut self, slate: &[u32]) -> Result<Outcome, StepError> {
        let v = self.pending.ok_or(StepError::NoPendingDecision)?;
        if slate.is_empty() {
            if !self.live.is_empty() {
                return Err(StepError::Declined(self.live.len()));
            }
            self.pending = None;
            self.viewers[v as usize].session_steps += 1;
            self.end_session(v);
            return Ok(Outcome {
                viewer: v,
                streamer: None,
                position: None,
                accepted: false,
                engagement: Engagement::default(),
                reward: 0.0,
                session_ended: true,
            });
        }
        let want = self.p.response.slate_size.min(self.live.len());
        if slate.len() != want {
            return Err(StepError::SlateSize {
                got: slate.len(),
                want,
            });
        }
        let mut pairs = [Pair::default(); MAX_SLATE_SIZE];
        for (pos, &i) in slate.iter().enumerate() {
            let stream = self
                .streams
                .get(i as usize)
                .ok_or(StepError::UnknownStreamer(i))?;
            if !stream.live {
                return Err(StepError::Offline(i));
            }
            if slate[..pos].contains(&i) {
                return Err(StepError::Repeated(i));
            }
            pairs[pos] = self.pair(v, i);
        }
        let pairs = &pairs[..slate.len()];
        let mut probs = [0.0; MAX_SLATE_SIZE];
        let probs = &mut probs[..slate.len()];
        response::slate_choice(&self.p.response, pairs, probs);
        self.pending = None;
        let draw = random::uniform(&mut self.rng_resp);
        let mut position = None;
        let mut cumulative = 0.0;
        for (pos, &pr) in probs.iter().enumerate() {
            cumulative += pr;
            if draw < cumulative {
                position = Some(pos);
                break;
            }
        }
        for (pos, &i) in slate.iter().enumerate() {
            self.streams[i as usize].recommended += 1;
            self.log_impression(v, i, position == Some(pos));
        }
        let accepted = position.is_some();
        // The chosen stream, or the slate's first when the viewer scrolled past.
        let (i, x) = match position {
            Some(pos) => (slate[pos], pairs[pos]),
            None => (slate[0], pairs[0]),
        };
        let rp = &self.p.response;
        let mut e = Engagement::default();
        let mut session_ended = false;
        if accepted {
            let draw = random::exponential(&mut self.rng_resp, response::watch_mean(rp, &x));
            let until = self.hidden[i as usize].live_until;
            let (watch, wake) = if draw >= x.remaining {
                (x.remaining, until)
            } else {
                (draw, self.now + draw)
            };
            let hours = watch / 60.0;
            e = Engagement {
                watch_minutes: watch,
                likes: random::poisson(&mut self.rng_resp, response::like_rate(rp, &x) * watch),
                comments: random::poisson(
                    &mut self.rng_resp,
                    response::comment_rate(rp, &x) * watch,
                ),
                gifts: (random::uniform(&mut self.rng_resp) < response::gift_probability(rp, &x))
                    as u32,
                follows: (random::uniform(&mut self.rng_resp)
                    < response::follow_probability(rp, &x)) as u32,
            };
            self.after_watch(v, i, hours, &e);
            self.streams[i as usize].viewers += 1;
            if e.follows > 0 && !self.social.can_follow(v, i) {
                // A viewer follows a streamer once, and only so many streamers.
                e.follows = 0;
            }
            self.viewers[v as usize].watch_credit = WatchCredit {
                hours,
                likes: e.likes,
                comments: e.comments,
                followed: e.follows > 0,
            };
            self.session_watches[v as usize].push((i, watch as f32));
            self.viewers[v as usize].status = Status::Watching(i);
            self.queue.push(wake, Kind::WatchEnd, v);
        } else {
            let vp = &self.p.viewers;
            let (skip, penalty) = (vp.skip_minutes, vp.skip_penalty);
            let st = &mut self.viewers[v as usize];
            st.budget -= skip;
            st.satisfaction = (st.satisfaction - penalty).max(0.0);
            let leave = random::uniform(&mut self.rng_view) < 1.0 / (1.0 + st.patience);
            if leave || st.budget <= 0.0 {
                st.session_steps += 1;
                self.end_session(v);
                session_ended = true;
            } else {
                self.queue.push(self.now + skip, Kind::ViewerWake, v);
            }
        }
        let reward = response::reward(&self.p.reward, &e);
        if !session_ended {
            let st = &mut self.viewers[v as usize];
            st.session_steps += 1;
            st.session_accepted += accepted as u32;
            st.session_reward += reward;
        } else if let Some(last) = self.session_ends.last_mut() {
            last.reward += reward;
        }
        Ok(Outcome {
            viewer: v,
            streamer: Some(i),
            position: position.map(|p| p as u8),
            accepted,
            engagement: e,
            reward,
            session_ended,
        })
    }

    /// Adds the watch of viewer `v` that just ended on stream `i` to the channel's public
    /// counts: a platform counts hours, likes and comments as they happen, never ahead of
    /// time, so they are credited when the watch ends.
    fn credit_watch(&mut self, v: u32, i: u32) {
        let st = &mut self.viewers[v as usize];
        let c = std::mem::take(&mut st.watch_credit);
        self.streams[i as usize].credit(self.now, c.hours, c.likes, c.comments);
        if c.followed && self.social.follow(v, i) {
            self.streams[i as usize].followers += 1;
        }
    }

    /// Counts a recommendation of streamer `i` to viewer `v` (and whether it was accepted) under
    /// the stream's topic, after decaying the viewer's counts to now.
    fn log_impression(&mut self, v: u32, i: u32, accepted: bool) {
        let (k, now) = (self.k, self.now);
        let topic = self.streams[i as usize].topic as usize;
        let st = &mut self.viewers[v as usize];
        let age = now - st.shown_at;
        st.shown_at = now;
        let row = &mut self.topic_state[part(k, v, SHOWN).start..part(k, v, ACCEPTED).end];
        if age > 0.0 {
            let d = (-age / IMPRESSION_HALF_LIFE).exp2() as f32;
            row.iter_mut().for_each(|x| *x *= d);
        }
        row[topic] += 1.0;
        row[k + topic] += accepted as u8 as f32;
    }

    /// Hidden-state dynamics after viewer `v` watched streamer `i` for `hours`.
    fn after_watch(&mut self, v: u32, i: u32, hours: f64, e: &Engagement) {
        let k = self.k;
        let h = &self.hidden[i as usize];
        let (p, s) = (h.primary as usize, h.secondary as usize);
        let (focus, quality) = (h.focus as f32, h.quality);
        let vp = &self.p.viewers;
        let rp = &self.p.response;
        let now = self.now;
        let decay = self.fatigue_decay(&self.viewers[v as usize]) as f32;
        let st = &mut self.viewers[v as usize];

        let watched = hours * 60.0;
        st.budget += rp.quality_refill * (quality - rp.quality_neutral) * watched - watched;
        st.satisfaction = (st.satisfaction
            + vp.satisfaction_rate * (quality - rp.quality_neutral) * hours)
            .clamp(0.0, 1.0);

        let row = &mut self.topic_state[part(k, v, 0).start..part(k, v, PARTS - 1).end];
        let (interest, rest) = row.split_at_mut(k);
        let (fatigue, rest) = rest.split_at_mut(k);
        let (recent, rest) = rest.split_at_mut(k);
        let (engagement, rest) = rest.split_at_mut(k);
        let week = &mut rest[(WEEK_HOURS - SHOWN) * k..][..k];
        if decay < 1.0 {
            fatigue.iter_mut().for_each(|f| *f *= decay);
        }
        st.fatigue_at = now;
        let add = (vp.fatigue_per_hour * hours) as f32;
        fatigue[p] += focus * add;
        fatigue[s] += (1.0 - focus) * add;

        if vp.interest_drift > 0.0 {
            let rate = (vp.interest_drift * hours).min(1.0) as f32;
            interest.iter_mut().for_each(|x| *x *= 1.0 - rate);
            interest[p] += rate * focus;
            interest[s] += rate * (1.0 - focus);
            st.interest_max = interest.iter().copied().fold(0.0, f32::max);
        }

        let age = now - st.recent_at;
        if age > 0.0 {
            let d = (-age / RECENT_HALF_LIFE).exp2() as f32;
            recent.iter_mut().for_each(|x| *x *= d);
            let d = (-age / WEEK_HALF_LIFE).exp2() as f32;
            week.iter_mut().for_each(|x| *x *= d);
        }
        st.recent_at = now;
        st.last_topic = p as u16;
        st.last_watch_at = now;
        let next = st.watch_log_next as usize;
        self.watch_log[v as usize * WATCH_LOG + next] = Watch {
            slot: i,
            minutes: watched as f32,
            at: now as f32,
        };
        st.watch_log_next = ((next + 1) % WATCH_LOG) as u8;
        st.watch_log_len = (st.watch_log_len + 1).min(WATCH_LOG as u8);
        // The logs see the stream's public tags only, not how much of each it holds: the
        // hours are split evenly between them.
        let hours = hours as f32;
        let logged = if p == s {
            [hours, 0.0]
        } else {
            [0.5 * hours; 2]
        };
        for (t, h) in [p, s].into_iter().zip(logged) {
            recent[t] += h;
            week[t] += h;
        }
        engagement[p] += (e.likes + e.comments + e.gifts + e.follows) as f32;
    }

    // ----- reading the world ----------------------------------------------------------------

    /// The shared clock.
    pub fn now(&self) -> SimTime {
        SimTime(self.now)
    }
    /// The viewer waiting for a recommendation, if any.
    pub fn pending(&self) -> Option<u32> {
        self.pending
    }
    /// Ids of the live streams.
    pub fn live(&self) -> &[u32] {
        &self.live
    }
    pub fn streams(&self) -> &[StreamPublic] {
        &self.streams
    }
    pub fn num_topics(&self) -> usize {
        self.k
    }
    pub fn num_streamers(&self) -> usize {
        self.streams.len()
    }
    pub fn num_viewers(&self) -> usize {
        self.viewers.len()
    }
    pub fn topic_names(&self) -> &[String] {
        &self.p.topics.names
    }
    /// Sessions that ended since the last call (drains the buffer).
    pub fn take_session_ends(&mut self) -> std::vec::Drain<'_, SessionEnd> {
        self.session_ends.drain(..)
    }
    /// Viewers in a session now (waiting for a recommendation or watching).
    pub fn sessions_in_progress(&self) -> u64 {
        let open = |st: &&ViewerState| matches!(st.status, Status::Active | Status::Watching(_));
        self.viewers.iter().filter(open).count() as u64
    }
    /// Distinct viewers with a session start on each completed day.
    pub fn daily_active(&self) -> &[u32] {
        &self.daily_active
    }
    /// Distinct viewers active so far today.
    pub fn active_today(&self) -> u32 {
        self.active_today
    }
    /// How many churned viewer slots were taken by new viewers, and streamer slots by new streamers.
    pub fn arrivals(&self) -> (u64, u64) {
        (self.new_viewers, self.new_streamers)
    }
    /// Replaces the reward weights (live tuning); later rewards use the new weights.
    pub fn set_reward_weights(&mut self, w: crate::scenario::RewardWeights) {
        self.p.reward = w;
    }

    /// The parameters this world runs on.
    pub fn params(&self) -> &RawScenario {
        &self.p
    }

    /// Checks the world's bookkeeping; returns a description of the first inconsistency.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut audience = vec![0u32; self.streams.len()];
        for (v, st) in self.viewers.iter().enumerate() {
            if let Status::Watching(i) = st.status {
                if !self.streams[i as usize].live {
                    return Err(format!("viewer {v} watches offline stream {i}"));
                }
                audience[i as usize] += 1;
            }
            if !(0.0..=1.0).contains(&st.satisfaction) {
                return Err(format!("viewer {v} satisfaction {}", st.satisfaction));
            }
        }
        for (i, s) in self.streams.iter().enumerate() {
            if self.pending.is_some() && s.live && self.hidden[i].live_until <= self.now {
                return Err(format!(
                    "stream {i} ended at {} but is live when a viewer is asked at {}",
                    self.hidden[i].live_until, self.now
                ));
            }
            if s.viewers != audience[i] {
                return Err(format!(
                    "stream {i} shows {} viewers but {} watch",
                    s.viewers, audience[i]
                ));
            }
            let listed = self.live_pos[i] != u32::MAX
                && self.live.get(self.live_pos[i] as usize) == Some(&(i as u32));
            if s.live != listed {
                return Err(format!(
                    "stream {i} live={} but live list says {listed}",
                    s.live
                ));
            }
        }
        if self.topic_state.iter().any(|x| *x < 0.0 || !x.is_finite()) {
            return Err("negative or non-finite per-topic state".into());
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "world_tests.rs"]
mod tests;

/// What [`World::pair`] needs to know of the platform's families, settled once: a recommendation
/// of the default world then reads nothing it does not use.
#[derive(Debug, Clone, Copy, Default)]
struct PairSetup {
    /// The one device watch factor when every device has the same (the default): the viewer's
    /// profile, on a colder cache line than what a recommendation reads, is then not touched.
    watch_factor: Option<f64>,
    /// Friends watching change a stream's utility (`friend_weight` ≠ 0 and there are friends).
    friends: bool,
    /// Viewers have their own affinities for streamers (`pair_affinity_sd` > 0).
    affinity: bool,
}

impl PairSetup {
    fn new(p: &RawScenario, social: &Social) -> Self {
        let factors = &p.viewers.device_watch_factor;
        PairSetup {
            watch_factor: factors.windows(2).all(|w| w[0] == w[1]).then(|| factors[0]),
            friends: p.response.friend_weight != 0.0 && social.has_friends(),
            affinity: p.response.pair_affinity_sd != 0.0,
        }
    }
}
