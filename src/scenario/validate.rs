//! Range and consistency checks that turn parsed parameters into a usable scenario.
//!
//! Each problem names the dotted key it is about; `scenario::load` adds the file and line.

use super::params::{
    AGE_BANDS, DEVICES, GENDERS, MAX_CONTENT_DIM, MAX_MODALITIES, MAX_REGIONS, RawScenario,
};

/// One thing wrong with a scenario, before the file and line are attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

/// Largest catalogue, population and topic counts accepted (memory stays bounded).
pub const MAX_STREAMERS: usize = 10_000;
pub const MAX_VIEWERS: usize = 1_000_000;
pub const MAX_TOPICS: usize = 64;
/// Longest scenario and topic name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest scenario description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// Longest training run a scenario may ask `liveq bench` for (about 14 hours of DQN here).
pub const MAX_BENCH_TRAIN_STEPS: usize = 100_000_000;

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn fail(&mut self, key: &str, message: String) {
        self.problems.push(Problem {
            key: key.to_string(),
            message,
        });
    }

    /// `value` must be finite and within `[lo, hi]`.
    fn range(&mut self, key: &str, value: f64, lo: f64, hi: f64) {
        if !value.is_finite() || value < lo || value > hi {
            self.fail(key, format!("must be between {lo} and {hi}, got {value}"));
        }
    }

    /// `value` must be finite, above `lo` (exclusive) and at most `hi`.
    fn positive(&mut self, key: &str, value: f64, hi: f64) {
        if !value.is_finite() || value <= 0.0 || value > hi {
            self.fail(
                key,
                format!("must be greater than 0 and at most {hi}, got {value}"),
            );
        }
    }

    fn probability(&mut self, key: &str, value: f64) {
        if !value.is_finite() || !(0.0..=1.0).contains(&value) {
            self.fail(
                key,
                format!("is a probability and must be in [0, 1], got {value}"),
            );
        }
    }

    fn count(&mut self, key: &str, value: usize, max: usize) {
        if value == 0 || value > max {
            self.fail(key, format!("must be between 1 and {max}, got {value}"));
        }
    }

    /// A list of non-negative weights with a positive, finite sum, of length `len`.
    fn weights(&mut self, key: &str, values: &[f64], len: usize) {
        let sum: f64 = values.iter().sum();
        if values.len() != len {
            self.fail(key, format!("must have {len} values, got {}", values.len()));
        } else if values.iter().any(|w| !w.is_finite() || *w < 0.0) {
            self.fail(key, "weights must be finite and not negative".into());
        } else if sum <= 0.0 {
            self.fail(key, "weights must not all be zero".into());
        } else if !sum.is_finite() {
            self.fail(
                key,
                "weights add up to more than a number can hold; only their ratios matter, so \
                 scale them down"
                    .into(),
            );
        }
    }

    /// Text shown to people (names, descriptions): no control characters, at most `max`
    /// characters.
    fn text(&mut self, key: &str, value: &str, max: usize) {
        let n = value.chars().count();
        if n > max {
            self.fail(key, format!("is {n} characters long; at most {max}"));
        } else if let Some(c) = value.chars().find(|c| c.is_control()) {
            self.fail(
                key,
                format!("contains the control character {c:?}; use plain text"),
            );
        }
    }
}

/// Every problem in `raw`; empty when the scenario is valid.
pub fn check(raw: &RawScenario) -> Vec<Problem> {
    let mut c = Checker {
        problems: Vec::new(),
    };

    if raw.scenario.name.trim().is_empty() {
        c.fail("scenario.name", "must not be empty".into());
    }
    c.text("scenario.name", &raw.scenario.name, MAX_NAME_CHARS);
    c.text(
        "scenario.description",
        &raw.scenario.description,
        MAX_DESCRIPTION_CHARS,
    );

    let topics = &raw.topics.names;
    c.count("topics.names", topics.len(), MAX_TOPICS);
    let mut seen = std::collections::HashSet::new();
    // Past the limit the list is refused anyway: check (and report) no more of it.
    for (i, name) in topics.iter().enumerate().take(MAX_TOPICS + 1) {
        if name.trim().is_empty() {
            c.fail("topics.names", format!("topic {} has an empty name", i + 1));
        } else if !seen.insert(name) {
            c.fail("topics.names", format!("topic `{name}` appears twice"));
        } else {
            c.text("topics.names", name, MAX_NAME_CHARS);
        }
    }
    let k = topics.len().max(1);

    let s = &raw.streamers;
    c.count("streamers.count", s.count, MAX_STREAMERS);
    c.probability("streamers.focus", s.focus);
    if !s.topic_weights.is_empty() {
        c.weights("streamers.topic_weights", &s.topic_weights, k);
    }
    c.range("streamers.quality_mean", s.quality_mean, 0.0, 1.0);
    c.range("streamers.quality_sd", s.quality_sd, 0.0, 1.0);
    c.range("streamers.appeal_mean", s.appeal_mean, 0.0, 1.0);
    c.range("streamers.appeal_sd", s.appeal_sd, 0.0, 1.0);
    c.probability("streamers.clickbait_share", s.clickbait_share);
    if s.superstars > s.count {
        c.fail(
            "streamers.superstars",
            format!(
                "must be at most streamers.count ({}), got {}",
                s.count, s.superstars
            ),
        );
    }
    c.range("streamers.superstar_quality", s.superstar_quality, 0.0, 1.0);
    c.range("streamers.superstar_appeal", s.superstar_appeal, 0.0, 1.0);
    c.range("streamers.days_per_week", s.days_per_week, 1.0, 7.0);
    c.positive("streamers.stream_hours", s.stream_hours, 24.0);
    c.weights("streamers.start_hour_weights", &s.start_hour_weights, 24);
    c.range("streamers.skip_probability", s.skip_probability, 0.0, 0.95);
    c.range("streamers.jitter_minutes", s.jitter_minutes, 0.0, 240.0);
    c.probability("streamers.turnover_per_day", s.turnover_per_day);
    if s.content_dim > MAX_CONTENT_DIM {
        c.fail(
            "streamers.content_dim",
            format!("must be at most {MAX_CONTENT_DIM}, got {}", s.content_dim),
        );
    }
    let modalities = &s.content_modalities;
    if modalities.is_empty() || modalities.len() > MAX_MODALITIES {
        c.fail(
            "streamers.content_modalities",
            format!(
                "must name between 1 and {MAX_MODALITIES} modalities, got {}",
                modalities.len()
            ),
        );
    } else {
        let mut seen = std::collections::HashSet::new();
        for name in modalities {
            if name.trim().is_empty() {
                c.fail(
                    "streamers.content_modalities",
                    "a modality has an empty name".into(),
                );
            } else if !seen.insert(name) {
                c.fail(
                    "streamers.content_modalities",
                    format!("modality `{name}` appears twice"),
                );
            } else {
                c.text("streamers.content_modalities", name, MAX_NAME_CHARS);
            }
        }
        if s.content_noise.len() != modalities.len() {
            c.fail(
                "streamers.content_noise",
                format!(
                    "must have one value per modality ({}), got {}",
                    modalities.len(),
                    s.content_noise.len()
                ),
            );
        }
    }
    for &sd in s.content_noise.iter().take(MAX_MODALITIES + 1) {
        c.range("streamers.content_noise", sd, 0.0, 100.0);
    }

    let v = &raw.viewers;
    c.count("viewers.count", v.count, MAX_VIEWERS);
    c.positive(
        "viewers.interest_concentration",
        v.interest_concentration,
        100.0,
    );
    c.probability("viewers.interest_drift", v.interest_drift);
    c.probability("viewers.taste_drift_per_day", v.taste_drift_per_day);
    c.range("viewers.fatigue_per_hour", v.fatigue_per_hour, 0.0, 100.0);
    c.positive(
        "viewers.fatigue_half_life_hours",
        v.fatigue_half_life_hours,
        10_000.0,
    );
    c.range("viewers.social_proof_mean", v.social_proof_mean, 0.0, 10.0);
    c.range("viewers.social_proof_sd", v.social_proof_sd, 0.0, 10.0);
    c.range("viewers.patience_mean", v.patience_mean, 0.0, 1_000.0);
    c.weights(
        "viewers.activity_hour_weights",
        &v.activity_hour_weights,
        24,
    );
    c.range("viewers.organic_share", v.organic_share, 0.0, 0.95);
    c.count("viewers.organic_choices", v.organic_choices, 1_000);
    c.positive("viewers.session_minutes", v.session_minutes, 10_000.0);
    c.positive("viewers.skip_minutes", v.skip_minutes, 1_440.0);
    c.probability("viewers.satisfaction_initial", v.satisfaction_initial);
    c.range("viewers.satisfaction_rate", v.satisfaction_rate, 0.0, 100.0);
    c.probability("viewers.skip_penalty", v.skip_penalty);
    c.positive("viewers.return_days", v.return_days, 365.0);
    c.probability("viewers.churn_max", v.churn_max);
    c.range("viewers.replacement_days", v.replacement_days, 0.0, 3_650.0);
    c.weights(
        "viewers.age_band_weights",
        &v.age_band_weights,
        AGE_BANDS.len(),
    );
    c.weights("viewers.gender_weights", &v.gender_weights, GENDERS.len());
    if v.region_weights.is_empty() || v.region_weights.len() > MAX_REGIONS {
        c.fail(
            "viewers.region_weights",
            format!(
                "must have between 1 and {MAX_REGIONS} values (one per region), got {}",
                v.region_weights.len()
            ),
        );
    } else {
        c.weights(
            "viewers.region_weights",
            &v.region_weights,
            v.region_weights.len(),
        );
    }
    c.weights("viewers.device_weights", &v.device_weights, DEVICES.len());
    for (key, factors) in [
        ("viewers.device_session_factor", &v.device_session_factor),
        ("viewers.device_watch_factor", &v.device_watch_factor),
    ] {
        if factors.len() != DEVICES.len() {
            c.fail(
                key,
                format!(
                    "must have {} values (mobile, desktop, tv), got {}",
                    DEVICES.len(),
                    factors.len()
                ),
            );
        } else {
            for &f in factors.iter() {
                c.positive(key, f, 10.0);
            }
        }
    }
    c.probability(
        "viewers.demographic_taste_strength",
        v.demographic_taste_strength,
    );
    if raw.agent.reads(crate::scenario::FeatureFamily::Content) && s.content_dim == 0 {
        c.fail(
            "agent.features",
            "\"content\" reads the streams' content, and this world has none: set [streamers] \
             content_dim"
                .into(),
        );
    }
    c.count("viewers.max_follows", v.max_follows, 255);
    c.range("viewers.friends_mean", v.friends_mean, 0.0, 200.0);
    c.probability("viewers.friend_homophily", v.friend_homophily);
    c.probability("viewers.notification_pick", v.notification_pick);

    let r = &raw.response;
    for (key, value) in [
        ("response.interest_weight", r.interest_weight),
        ("response.quality_weight", r.quality_weight),
        ("response.appeal_weight", r.appeal_weight),
        ("response.social_weight", r.social_weight),
        ("response.fatigue_weight", r.fatigue_weight),
        ("response.outside_option", r.outside_option),
        ("response.friend_weight", r.friend_weight),
    ] {
        c.range(key, value, -1_000.0, 1_000.0);
    }
    c.range("response.pair_affinity_sd", r.pair_affinity_sd, 0.0, 100.0);
    c.positive("response.temperature", r.temperature, 100.0);
    c.positive("response.watch_minutes", r.watch_minutes, 1_440.0);
    c.probability("response.watch_quality_effect", r.watch_quality_effect);
    c.range("response.likes_per_hour", r.likes_per_hour, 0.0, 1_000.0);
    c.range(
        "response.comments_per_hour",
        r.comments_per_hour,
        0.0,
        1_000.0,
    );
    c.probability("response.gift_probability", r.gift_probability);
    c.probability("response.follow_probability", r.follow_probability);
    c.probability("response.quality_neutral", r.quality_neutral);
    c.range("response.quality_refill", r.quality_refill, 0.0, 100.0);
    c.count(
        "response.slate_size",
        r.slate_size,
        super::params::MAX_SLATE_SIZE,
    );
    c.positive("response.position_decay", r.position_decay, 1.0);
    if !r.examine.is_empty() {
        if r.examine.len() != r.slate_size {
            c.fail(
                "response.examine",
                format!(
                    "must have one value per slate position ({}, the slate_size), got {}",
                    r.slate_size,
                    r.examine.len()
                ),
            );
        } else if r
            .examine
            .iter()
            .any(|e| !e.is_finite() || *e <= 0.0 || *e > 1.0)
        {
            c.fail(
                "response.examine",
                "examination probabilities must be greater than 0 and at most 1".into(),
            );
        }
    }

    let w = &raw.reward;
    for (key, value) in [
        ("reward.watch_minute", w.watch_minute),
        ("reward.like", w.like),
        ("reward.comment", w.comment),
        ("reward.gift", w.gift),
        ("reward.follow", w.follow),
    ] {
        c.range(key, value, -1e6, 1e6);
    }

    let m = &raw.metrics;
    c.count("metrics.window_steps", m.window_steps, 10_000_000);
    c.count("metrics.regret_every", m.regret_every, 1_000_000);
    c.probability("metrics.relevance_threshold", m.relevance_threshold);

    let b = &raw.bandit;
    match b.kind.as_str() {
        "ucb" => c.range("bandit.exploration", b.exploration, 0.0, 100.0),
        "epsilon-greedy" => c.probability("bandit.exploration", b.exploration),
        other => c.fail(
            "bandit.kind",
            format!("must be \"ucb\" or \"epsilon-greedy\", got \"{other}\""),
        ),
    }

    c.count(
        "bench.train_steps",
        usize::try_from(raw.bench.train_steps).unwrap_or(usize::MAX),
        MAX_BENCH_TRAIN_STEPS,
    );

    if let Err(errors) = raw.agent.validate() {
        for (key, why) in errors {
            c.fail(&format!("agent.{key}"), why);
        }
    }

    c.problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(check(&RawScenario::default()), vec![]);
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let mut raw = RawScenario::default();
        raw.viewers.count = 0;
        raw.response.gift_probability = 1.5;
        raw.streamers.start_hour_weights = vec![1.0; 23];
        let keys: Vec<_> = check(&raw).into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "streamers.start_hour_weights",
                "viewers.count",
                "response.gift_probability"
            ]
        );
    }

    #[test]
    fn sizes_that_would_exhaust_memory_are_refused() {
        let mut raw = RawScenario::default();
        raw.viewers.count = 50_000_000;
        raw.streamers.count = 1_000_000;
        let keys: Vec<_> = check(&raw).into_iter().map(|p| p.key).collect();
        assert_eq!(keys, ["streamers.count", "viewers.count"]);
    }
}
