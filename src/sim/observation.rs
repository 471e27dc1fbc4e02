//! What a policy may see: the viewer's observable history and the candidates' public features.
//! Never the hidden interests, fatigue, satisfaction, quality or appeal — those are only in the
//! explicit [`OracleView`](super::OracleView).

use super::clock::SimTime;

/// Public features of one streamer slot, as a platform would show them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StreamPublic {
    pub live: bool,
    /// Viewers watching right now.
    pub viewers: u32,
    /// Primary topic (index into the scenario's topic names): the stream's category.
    pub topic: u16,
    /// The stream's topic mix as public tags: the primary topic, then the secondary one (the
    /// same twice in a world of one topic). How much of each the stream holds is not public.
    pub tags: [u16; 2],
    /// When the current (or last) stream started, minutes.
    pub live_since: f64,
    /// When the last stream ended, minutes (−∞ before the first).
    pub ended_at: f64,
    /// How often this slot has been recommended in this run.
    pub recommended: u64,
    /// Hours watched after accepted recommendations of the slot's current streamer, and the
    /// likes and comments those watches drew: the engagement counts a platform shows on a
    /// channel. Counted when each watch ends, never ahead of time; they start at 0 when a new
    /// streamer takes the slot.
    pub hours_watched: f64,
    pub likes: u64,
    pub comments: u64,
    /// When the slot's current streamer joined the platform, minutes (−∞ for those there
    /// from the start).
    pub joined_at: f64,
    /// Streams the slot's current streamer has finished.
    pub streams_done: u32,
    /// Viewers following the slot's current streamer.
    pub followers: u32,
    /// Hours and likes of those watches, halving every week ([`WEEK_HALF_LIFE`]), as of the
    /// last watch that ended: their ratio is the streamer's likes per hour watched over about
    /// the last week ([`StreamPublic::likes_per_hour`]).
    pub week_hours: f32,
    pub week_likes: f32,
    pub week_at: f64,
}

impl Default for StreamPublic {
    fn default() -> Self {
        StreamPublic {
            live: false,
            viewers: 0,
            topic: 0,
            tags: [0, 0],
            live_since: f64::NEG_INFINITY,
            ended_at: f64::NEG_INFINITY,
            recommended: 0,
            hours_watched: 0.0,
            likes: 0,
            comments: 0,
            joined_at: f64::NEG_INFINITY,
            streams_done: 0,
            followers: 0,
            week_hours: 0.0,
            week_likes: 0.0,
            week_at: 0.0,
        }
    }
}

impl StreamPublic {
    /// How alike two streams are by what is public about them, in [0, 1]: 1 when they share
    /// their topic, 0 otherwise. Diversity re-ranking and the intra-list diversity metric both
    /// use it.
    pub fn similarity(&self, other: &StreamPublic) -> f64 {
        (self.topic == other.topic) as u8 as f64
    }

    /// Whether the slot's streamer joined less than a day before `now` (minutes).
    pub fn is_newcomer(&self, now: f64) -> bool {
        now - self.joined_at < super::clock::DAY
    }

    /// The streamer's likes per hour watched over about the last week (0 before any watch).
    pub fn likes_per_hour(&self) -> f32 {
        if self.week_hours > 0.0 {
            self.week_likes / self.week_hours
        } else {
            0.0
        }
    }

    /// Adds a watch that ended at `now` to the channel's counts.
    pub(super) fn credit(&mut self, now: f64, hours: f64, likes: u32, comments: u32) {
        self.hours_watched += hours;
        self.likes += likes as u64;
        self.comments += comments as u64;
        let d = (-(now - self.week_at).max(0.0) / WEEK_HALF_LIFE).exp2() as f32;
        self.week_hours = self.week_hours * d + hours as f32;
        self.week_likes = self.week_likes * d + likes as f32;
        self.week_at = now;
    }

    /// Whether the stream was live at some moment since `since` (minutes).
    pub fn live_since_time(&self, since: f64) -> bool {
        self.live || self.ended_at >= since
    }
}

/// Intra-list diversity: 1 − the mean similarity ([`StreamPublic::similarity`]) over the
/// slate's pairs; 0 for a slate of one (there is no pair to differ).
pub fn intra_list_diversity(streams: &[StreamPublic], slate: &[u32]) -> f64 {
    let mut pairs = 0usize;
    let mut similar = 0.0;
    for (a, &i) in slate.iter().enumerate() {
        for &j in &slate[a + 1..] {
            pairs += 1;
            similar += streams[i as usize].similarity(&streams[j as usize]);
        }
    }
    if pairs == 0 {
        0.0
    } else {
        1.0 - similar / pairs as f64
    }
}

/// What a viewer told the platform about themselves, or the platform knows from the app:
/// indices into [`crate::scenario::AGE_BANDS`], [`crate::scenario::GENDERS`], the scenario's
/// regions and [`crate::scenario::DEVICES`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Demographics {
    pub age_band: u8,
    pub gender: u8,
    pub region: u8,
    pub device: u8,
}

/// A viewer's history as the platform logged it.
#[derive(Debug, Clone, Copy)]
pub struct ViewerHistory<'a> {
    /// Hours watched per topic, halving every day; stored as of `recent_at`. A watch's hours
    /// are split evenly between the stream's public tags.
    pub recent_hours: &'a [f32],
    /// When `recent_hours` was last updated, minutes.
    pub recent_at: f64,
    /// Likes, comments, gifts and follows given, per topic (the stream's primary one), ever.
    pub engagement: &'a [f32],
    /// Recommendations shown per topic (the stream's topic), halving every three days; stored as of
    /// `shown_at`.
    pub shown: &'a [f32],
    /// Of those, the ones the viewer accepted (decayed alike).
    pub accepted: &'a [f32],
    /// When `shown` and `accepted` were last updated, minutes.
    pub shown_at: f64,
    /// Hours watched per topic (split between tags alike), halving every week; stored as of
    /// `recent_at`.
    pub week_hours: &'a [f32],
    /// Recommendations answered in this session so far.
    pub session_steps: u32,
    /// Recommendations accepted in this session so far.
    pub session_accepted: u32,
    /// The streams watched after those acceptances: (streamer slot, minutes watched).
    pub session_watches: &'a [(u32, f32)],
    /// Minutes since the session started.
    pub session_minutes: f64,
    /// Sessions started so far (1 during the first).
    pub sessions: u32,
    /// Days between the end of the previous session and the start of this one (0 for a new viewer).
    pub days_since_last_visit: f64,
    /// Primary topic of the last stream the viewer watched, if any, and when that watch began.
    pub last_topic: Option<u16>,
    pub last_watch_at: f64,
    /// The viewer's public profile.
    pub demographics: Demographics,
    /// The streamer slots the viewer follows (their current streamers).
    pub follows: &'a [u32],
    /// Live streams some of the viewer's friends are watching now: (slot, how many friends).
    pub friends_watching: &'a [(u32, u16)],
    /// The viewer's last [`WATCH_LOG`] watches (recommended or not), in no particular order.
    pub recent_watches: &'a [Watch],
}

/// How many of a viewer's last watches its observation lists.
pub const WATCH_LOG: usize = 16;

/// One logged watch: the streamer slot, minutes watched, and when the watch began (minutes).
/// A watch began before the slot's streamer joined (`StreamPublic::joined_at`) was of an
/// earlier streamer.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Watch {
    pub slot: u32,
    pub minutes: f32,
    pub at: f32,
}

impl ViewerHistory<'static> {
    /// A viewer nobody has logged anything about (for tests and benchmarks of code that reads
    /// only the candidates).
    pub const EMPTY: ViewerHistory<'static> = ViewerHistory {
        recent_hours: &[],
        recent_at: 0.0,
        engagement: &[],
        shown: &[],
        accepted: &[],
        shown_at: 0.0,
        week_hours: &[],
        session_steps: 0,
        session_accepted: 0,
        session_watches: &[],
        session_minutes: 0.0,
        sessions: 1,
        days_since_last_visit: 0.0,
        last_topic: None,
        last_watch_at: 0.0,
        demographics: Demographics {
            age_band: 0,
            gender: 0,
            region: 0,
            device: 0,
        },
        follows: &[],
        friends_watching: &[],
        recent_watches: &[],
    };
}

/// Half-life of the recent-watching history, minutes.
pub const RECENT_HALF_LIFE: f64 = 1440.0;

/// Half-life of the long watching history, minutes (a week).
pub const WEEK_HALF_LIFE: f64 = 7.0 * 1440.0;

/// Half-life of the per-topic recommendation counts, minutes (three days).
pub const IMPRESSION_HALF_LIFE: f64 = 3.0 * 1440.0;

impl ViewerHistory<'_> {
    /// Recent hours watched of topic `k`, decayed to `now`.
    pub fn recent(&self, k: usize, now: SimTime) -> f32 {
        let age = (now.minutes() - self.recent_at).max(0.0);
        self.recent_hours[k] * (-age / RECENT_HALF_LIFE).exp2() as f32
    }
}

/// Everything a policy sees when asked for one recommendation.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub viewer: u32,
    pub time: SimTime,
    pub history: ViewerHistory<'a>,
    /// Ids of the live streams: the only valid actions. May be empty (nothing live).
    pub live: &'a [u32],
    /// Public features of every streamer slot, indexed by id.
    pub streams: &'a [StreamPublic],
    pub num_topics: usize,
    /// Every slot's content vectors, `content_len` values per slot (its modalities one after
    /// another); empty when the scenario has no content features.
    pub content: &'a [f32],
    pub content_len: usize,
}

impl Observation<'_> {
    pub fn num_streamers(&self) -> usize {
        self.streams.len()
    }
    /// Content vectors of streamer `id` (all modalities; empty without content features).
    pub fn content(&self, id: u32) -> &[f32] {
        let n = self.content_len;
        self.content
            .get(id as usize * n..(id as usize + 1) * n)
            .unwrap_or(&[])
    }
    /// Whether streamer `id` can be recommended now.
    pub fn is_live(&self, id: u32) -> bool {
        self.streams.get(id as usize).is_some_and(|s| s.live)
    }
}
