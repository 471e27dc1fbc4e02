//! The parameters of a scenario, section by section, exactly as a scenario file spells them.
//!
//! Every struct here is plain data with serde derives: unknown keys are rejected
//! (`deny_unknown_fields`) and missing keys take the documented defaults, which are the values of
//! the built-in default scenario. Range checks live in `validate`, not here.

use serde::{Deserialize, Serialize};

/// The whole file: one optional table per section.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawScenario {
    pub scenario: Meta,
    pub topics: Topics,
    pub streamers: StreamerParams,
    pub viewers: ViewerParams,
    pub response: ResponseParams,
    pub reward: RewardWeights,
    pub metrics: MetricParams,
    pub bandit: BanditParams,
    /// `[bench]`: how `liveq bench` runs this world.
    pub bench: BenchParams,
    /// `[agent]`: the DQN learner's hyperparameters.
    pub agent: super::agent::DqnConfig,
    /// `[feed]`: diversity re-ranking of every policy's slates.
    pub feed: super::feed::FeedParams,
}

/// `[scenario]`: name, one-line description and the default seed.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Meta {
    pub name: String,
    pub description: String,
    pub seed: u64,
}

impl Default for Meta {
    fn default() -> Self {
        Meta {
            name: "unnamed".into(),
            description: String::new(),
            seed: 42,
        }
    }
}

/// `[topics]`: the content categories.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Topics {
    pub names: Vec<String>,
}

impl Default for Topics {
    fn default() -> Self {
        let names = [
            "gaming",
            "music",
            "chat",
            "sports",
            "education",
            "outdoors",
            "art",
            "cooking",
        ];
        Topics {
            names: names.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// `[streamers]`: the catalogue and its schedules.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StreamerParams {
    /// Number of streamers (one action slot each).
    pub count: usize,
    /// Share of a streamer's topic mix on its primary topic; the rest goes to one secondary topic.
    pub focus: f64,
    /// Relative share of streamers whose primary topic is each topic (empty = uniform).
    pub topic_weights: Vec<f64>,
    /// True quality ~ Normal(mean, sd) clamped to [0, 1].
    pub quality_mean: f64,
    pub quality_sd: f64,
    /// Appeal ("thumbnail attractiveness", independent of quality) ~ Normal(mean, sd) in [0, 1].
    pub appeal_mean: f64,
    pub appeal_sd: f64,
    /// Share of streamers that are clickbait: appeal in [0.8, 1], quality in [0.05, 0.3].
    pub clickbait_share: f64,
    /// Superstars: quality and appeal set high, a long schedule on most days.
    pub superstars: usize,
    pub superstar_quality: f64,
    pub superstar_appeal: f64,
    /// Mean number of streaming days per week (each streamer gets 1..=7 days).
    pub days_per_week: f64,
    /// Mean stream length in hours (each streamer gets its own, spread ±30%).
    pub stream_hours: f64,
    /// Relative weight of each hour of the day (24 values) for when streams start.
    pub start_hour_weights: Vec<f64>,
    /// Probability that a scheduled stream does not happen.
    pub skip_probability: f64,
    /// Standard deviation of the start time around the schedule, minutes.
    pub jitter_minutes: f64,
    /// New streamers keep appearing: per simulated day, this share of the catalogue is replaced by
    /// fresh streamers (new id-slot occupant, fresh quality and appeal, empty history). 0 = none.
    pub turnover_per_day: f64,
    /// Length of each stream's content vector per modality (0 = no content features), up to 64.
    pub content_dim: usize,
    /// The content modalities, 1 to 4 distinct names (each gets its own projection).
    pub content_modalities: Vec<String>,
    /// Standard deviation of the noise on each modality's content vector (one per modality).
    pub content_noise: Vec<f64>,
}

/// Longest content vector per modality.
pub const MAX_CONTENT_DIM: usize = 64;
/// Most content modalities.
pub const MAX_MODALITIES: usize = 4;

impl Default for StreamerParams {
    fn default() -> Self {
        StreamerParams {
            count: 200,
            focus: 0.8,
            topic_weights: Vec::new(),
            quality_mean: 0.5,
            quality_sd: 0.2,
            appeal_mean: 0.4,
            appeal_sd: 0.2,
            clickbait_share: 0.1,
            superstars: 0,
            superstar_quality: 0.9,
            superstar_appeal: 0.8,
            days_per_week: 5.0,
            stream_hours: 4.0,
            start_hour_weights: default_start_hours(),
            skip_probability: 0.1,
            jitter_minutes: 20.0,
            turnover_per_day: 0.0,
            content_dim: 0,
            content_modalities: vec!["text".into(), "visual".into(), "audio".into()],
            content_noise: vec![0.5, 0.5, 0.5],
        }
    }
}

/// When streams start: some around the clock, most in the afternoon and evening.
pub fn default_start_hours() -> Vec<f64> {
    vec![
        2.0, 1.5, 1.0, 1.0, 1.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0, 3.0, // 00-11
        3.5, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 7.0, 6.0, 5.0, 4.0, 3.0, // 12-23
    ]
}

/// When viewers come: a daily curve with an evening peak.
pub fn default_activity_hours() -> Vec<f64> {
    vec![
        1.5, 1.0, 0.6, 0.4, 0.3, 0.4, 0.8, 1.5, 2.0, 2.2, 2.4, 2.6, // 00-11
        3.0, 3.0, 3.0, 3.2, 3.6, 4.2, 5.2, 6.0, 6.2, 5.6, 4.2, 2.6, // 12-23
    ]
}

/// `[viewers]`: the population and its hidden dynamics.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ViewerParams {
    /// Number of viewer slots.
    pub count: usize,
    /// Dirichlet concentration of hidden interests: small = niche tastes, large = broad tastes.
    pub interest_concentration: f64,
    /// How far interests move towards a watched topic per hour watched (0 = fixed tastes).
    pub interest_drift: f64,
    /// How far interests move towards a fresh random taste per simulated day (taste drift).
    pub taste_drift_per_day: f64,
    /// Fatigue added to a topic per hour of watching it.
    pub fatigue_per_hour: f64,
    /// Fatigue halves every this many hours.
    pub fatigue_half_life_hours: f64,
    /// Social-proof sensitivity ~ Normal(mean, sd), at least 0.
    pub social_proof_mean: f64,
    pub social_proof_sd: f64,
    /// Mean patience: after a rejected recommendation a viewer leaves with probability 1/(1+patience).
    pub patience_mean: f64,
    /// Relative weight of each hour of the day (24 values) for when viewers open sessions.
    pub activity_hour_weights: Vec<f64>,
    /// Probability that a viewer picks a stream by themselves (followed channels, search) instead
    /// of asking for a recommendation, each time they are ready for something new.
    pub organic_share: f64,
    /// How many live streams a viewer looks at when picking by themselves (takes the best).
    pub organic_choices: usize,
    /// Mean session time budget, minutes.
    pub session_minutes: f64,
    /// Minutes lost browsing a rejected recommendation.
    pub skip_minutes: f64,
    /// Starting satisfaction in [0, 1].
    pub satisfaction_initial: f64,
    /// Satisfaction change per hour watched, times (quality - quality_neutral).
    pub satisfaction_rate: f64,
    /// Satisfaction lost per rejected recommendation.
    pub skip_penalty: f64,
    /// Mean days between sessions of a fully satisfied viewer (scaled up as satisfaction falls).
    pub return_days: f64,
    /// Churn probability at the end of a session of a viewer with satisfaction 0 (×(1-s)² in general).
    pub churn_max: f64,
    /// Churned viewers are replaced by new ones after this many days on average (0 = never).
    pub replacement_days: f64,
    /// Public demographics, drawn per viewer: shares of the age bands 13–17, 18–24, 25–34,
    /// 35–49 and 50+;
    pub age_band_weights: Vec<f64>,
    /// of viewers who give their gender as female, male, or leave it unspecified;
    pub gender_weights: Vec<f64>,
    /// of the regions (one weight per region, 1 to 16 of them);
    pub region_weights: Vec<f64>,
    /// of viewers on mobile, desktop and TV.
    pub device_weights: Vec<f64>,
    /// Session time budget on each device (mobile, desktop, TV), times `session_minutes`.
    pub device_session_factor: Vec<f64>,
    /// Mean watch time on each device, times the response's `watch_minutes`.
    pub device_watch_factor: Vec<f64>,
    /// How far hidden tastes lean towards the taste profile of the viewer's demographic group
    /// (age band, gender, region): 0 = independent of demographics, 1 = the profile itself.
    pub demographic_taste_strength: f64,
    /// Most streamers a viewer follows (follow events beyond it do not happen), 1–255.
    pub max_follows: usize,
    /// Mean number of friends per viewer (0 = no friendships).
    pub friends_mean: f64,
    /// Share of friendships inside the viewer's region and age band.
    pub friend_homophily: f64,
    /// When a followed streamer goes live, each online follower is notified with this
    /// probability and considers the stream at its next choice, by itself.
    pub notification_pick: f64,
}

/// Most regions a scenario may have.
pub const MAX_REGIONS: usize = 16;

/// The age bands of `[viewers] age_band_weights`, as shown.
pub const AGE_BANDS: [&str; 5] = ["13-17", "18-24", "25-34", "35-49", "50+"];
/// The genders of `[viewers] gender_weights`, as shown.
pub const GENDERS: [&str; 3] = ["female", "male", "unspecified"];
/// The devices of `[viewers] device_weights`, as shown.
pub const DEVICES: [&str; 3] = ["mobile", "desktop", "tv"];

impl Default for ViewerParams {
    fn default() -> Self {
        ViewerParams {
            count: 5_000,
            interest_concentration: 0.6,
            interest_drift: 0.02,
            taste_drift_per_day: 0.0,
            fatigue_per_hour: 0.8,
            fatigue_half_life_hours: 8.0,
            social_proof_mean: 0.3,
            social_proof_sd: 0.15,
            patience_mean: 3.0,
            activity_hour_weights: default_activity_hours(),
            organic_share: 0.3,
            organic_choices: 8,
            session_minutes: 60.0,
            skip_minutes: 1.0,
            satisfaction_initial: 0.7,
            satisfaction_rate: 0.5,
            skip_penalty: 0.01,
            return_days: 1.0,
            churn_max: 0.3,
            replacement_days: 3.0,
            age_band_weights: vec![0.12, 0.30, 0.28, 0.20, 0.10],
            gender_weights: vec![0.45, 0.45, 0.10],
            region_weights: vec![0.4, 0.3, 0.2, 0.1],
            device_weights: vec![0.7, 0.25, 0.05],
            device_session_factor: vec![1.0, 1.0, 1.0],
            device_watch_factor: vec![1.0, 1.0, 1.0],
            demographic_taste_strength: 0.0,
            max_follows: 50,
            friends_mean: 0.0,
            friend_homophily: 0.7,
            notification_pick: 0.0,
        }
    }
}

/// `[response]`: the choice model and what a watch produces.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseParams {
    /// Utility weights: interest match, true quality, appeal, social proof, fatigue.
    pub interest_weight: f64,
    pub quality_weight: f64,
    pub appeal_weight: f64,
    pub social_weight: f64,
    pub fatigue_weight: f64,
    /// Utility of the "no thanks" option; raising it lowers acceptance everywhere.
    pub outside_option: f64,
    /// Logit temperature (noise scale) of the accept decision; > 0.
    pub temperature: f64,
    /// Mean watch minutes of a perfect match of quality 0.5 (times 0.2+0.8·match).
    pub watch_minutes: f64,
    /// How much quality lengthens a watch right away: the mean is multiplied by
    /// 1 + effect·(2·quality − 1). 0 = watch time ignores quality (its effect is then only on the
    /// session budget and satisfaction, as in RecSim's interest-evolution model).
    pub watch_quality_effect: f64,
    /// Likes per hour watched, times (0.3 + quality + appeal).
    pub likes_per_hour: f64,
    /// Comments per hour watched, times (0.2 + 0.5·quality + appeal).
    pub comments_per_hour: f64,
    /// Probability of a gift per accepted watch, times quality·match.
    pub gift_probability: f64,
    /// Probability of a follow per accepted watch, times quality·match.
    pub follow_probability: f64,
    /// Quality above this refills the session budget and raises satisfaction; below it drains them.
    pub quality_neutral: f64,
    /// Session minutes refilled per watched minute, times (quality - quality_neutral).
    pub quality_refill: f64,
    /// Streams shown per recommendation (a feed's slate), 1–20. The viewer picks at most one
    /// (see `docs/model.md`, "Slates"); 1 is a single recommendation.
    pub slate_size: usize,
    /// Examination probability of each slate position, top first (one value per position).
    /// Empty: `position_decay` to the power of the position (0-based).
    pub examine: Vec<f64>,
    /// Examination of position p (0-based) is `position_decay`^p when `examine` is empty.
    pub position_decay: f64,
    /// Utility of a stream rises by this times ln(1 + friends of the viewer watching it).
    pub friend_weight: f64,
    /// Standard deviation of each viewer's own liking of each streamer, beyond topics and
    /// quality: a fixed, approximately normal draw per (viewer, streamer) added to the utility;
    /// viewers follow the streamers they like more (0 = none).
    pub pair_affinity_sd: f64,
}

/// The most streams one slate may show.
pub const MAX_SLATE_SIZE: usize = 20;

impl ResponseParams {
    /// Whether a slate of `len` streams is a single recommendation: one stream, looked at for
    /// sure. The choice model is then exactly P(accept), computed as such.
    pub fn is_single(&self, len: usize) -> bool {
        len == 1 && self.examination(0) == 1.0
    }

    /// Examination probability of slate position `pos` (0-based).
    pub fn examination(&self, pos: usize) -> f64 {
        match self.examine.get(pos) {
            Some(&e) => e,
            None => self.position_decay.powi(pos as i32),
        }
    }
}

impl Default for ResponseParams {
    fn default() -> Self {
        ResponseParams {
            interest_weight: 4.0,
            quality_weight: 1.5,
            appeal_weight: 1.5,
            social_weight: 0.5,
            fatigue_weight: 2.0,
            outside_option: 3.0,
            temperature: 1.0,
            watch_minutes: 25.0,
            watch_quality_effect: 0.5,
            likes_per_hour: 2.0,
            comments_per_hour: 1.0,
            gift_probability: 0.05,
            follow_probability: 0.05,
            quality_neutral: 0.4,
            quality_refill: 1.0,
            slate_size: 1,
            examine: Vec::new(),
            position_decay: 1.0,
            friend_weight: 0.0,
            pair_affinity_sd: 0.0,
        }
    }
}

/// `[reward]`: the recommender's reward per step, a weighted sum of what the viewer did.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RewardWeights {
    /// Reward per minute watched.
    pub watch_minute: f64,
    pub like: f64,
    pub comment: f64,
    pub gift: f64,
    pub follow: f64,
}

impl Default for RewardWeights {
    fn default() -> Self {
        RewardWeights {
            watch_minute: 0.1,
            like: 0.5,
            comment: 0.5,
            gift: 5.0,
            follow: 3.0,
        }
    }
}

/// `[metrics]`: how the run is measured.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricParams {
    /// Steps per window of the windowed series (charts, CSV rows).
    pub window_steps: usize,
    /// Myopic regret and the ranking metrics are measured on every n-th step (they scan every
    /// live stream).
    pub regret_every: usize,
    /// A stream is relevant to a viewer (for precision, recall, MRR and hit rate) when the viewer
    /// would accept it shown alone with at least this probability.
    pub relevance_threshold: f64,
}

impl Default for MetricParams {
    fn default() -> Self {
        MetricParams {
            window_steps: 5_000,
            regret_every: 8,
            relevance_threshold: 0.5,
        }
    }
}

/// `[bandit]`: the bandit baseline, one arm per streamer (mean reward per recommendation).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BanditParams {
    /// "ucb" (UCB1 over topics) or "epsilon-greedy".
    pub kind: String,
    /// Exploration: UCB's bonus scale c, or ε for epsilon-greedy.
    pub exploration: f64,
}

impl Default for BanditParams {
    fn default() -> Self {
        BanditParams {
            kind: "ucb".into(),
            exploration: 1.0,
        }
    }
}

/// `[bench]`: how `liveq bench` runs this world when its command line does not say.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BenchParams {
    /// Steps each policy trains (or simply runs) before its evaluation; `--train-steps`
    /// overrides it for every scenario. A world whose long game takes longer to learn names a
    /// longer run here.
    pub train_steps: u64,
}

/// The bench's training length where a scenario names none.
pub const DEFAULT_BENCH_TRAIN_STEPS: u64 = 150_000;

impl Default for BenchParams {
    fn default() -> Self {
        BenchParams {
            train_steps: DEFAULT_BENCH_TRAIN_STEPS,
        }
    }
}
