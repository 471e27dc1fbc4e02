//! What a run is measured by: reward per step and per session, acceptance, watch time,
//! engagement, session length, return rate and churn, daily active viewers, myopic regret, and
//! diversity (catalogue coverage, topic entropy, exposure Gini, intra-list diversity), and the
//! ranking quality of slates (precision, recall, NDCG, MRR, hit rate, click-through, position
//! of the chosen stream). Kept as windowed series (for charts and CSV) and run totals (for
//! summaries and JSON). Plain data; no terminal code.

pub mod ranking;
pub mod stats;

use serde::{Deserialize, Serialize};

use crate::sim::{Outcome, SessionEnd, StreamPublic, World};
use ranking::RankingSample;
use stats::{gini, normalized_entropy, ratio};

/// Sums over a span of steps (a window, or the whole run).
#[derive(Debug, Clone, Default, PartialEq)]
struct Accum {
    steps: u64,
    reward: f64,
    accepted: u64,
    watch_minutes: f64,
    likes: u64,
    comments: u64,
    gifts: u64,
    follows: u64,
    nothing_live: u64,
    sessions: u64,
    session_reward: f64,
    session_steps: u64,
    session_minutes: f64,
    churned: u64,
    regret: f64,
    regret_samples: u64,
    /// Steps that showed a slate, and the sum of their intra-list diversity.
    slates: u64,
    diversity_sum: f64,
    /// Sum over accepted steps of the chosen stream's position (from 1).
    position_sum: u64,
    ranking_samples: u64,
    precision_sum: f64,
    recall_sum: f64,
    recall_samples: u64,
    ndcg_sum: f64,
    mrr_sum: f64,
    hits: u64,
    newcomer_steps: u64,
    newcomer_reward: f64,
    first_session_steps: u64,
    first_session_reward: f64,
    satisfaction_sum: f64,
    satisfaction_samples: u64,
}

impl Accum {
    fn add_slate(&mut self, o: &Outcome, diversity: f64) {
        self.slates += 1;
        self.diversity_sum += diversity;
        if let Some(p) = o.position {
            self.position_sum += p as u64 + 1;
        }
    }

    fn add_ranking(&mut self, r: &RankingSample) {
        self.ranking_samples += 1;
        self.precision_sum += r.precision;
        if let Some(recall) = r.recall {
            self.recall_sum += recall;
            self.recall_samples += 1;
        }
        self.ndcg_sum += r.ndcg;
        self.mrr_sum += r.mrr;
        self.hits += r.hit as u64;
    }

    fn add_facts(&mut self, o: &Outcome, f: &StepFacts) {
        if f.newcomer {
            self.newcomer_steps += 1;
            self.newcomer_reward += o.reward;
        }
        if f.first_session {
            self.first_session_steps += 1;
            self.first_session_reward += o.reward;
        }
        if let Some(s) = f.satisfaction {
            self.satisfaction_sum += s;
            self.satisfaction_samples += 1;
        }
    }

    fn add_step(&mut self, o: &Outcome) {
        self.steps += 1;
        self.reward += o.reward;
        self.accepted += o.accepted as u64;
        self.watch_minutes += o.engagement.watch_minutes;
        self.likes += o.engagement.likes as u64;
        self.comments += o.engagement.comments as u64;
        self.gifts += o.engagement.gifts as u64;
        self.follows += o.engagement.follows as u64;
        self.nothing_live += o.streamer.is_none() as u64;
    }

    fn add_session(&mut self, s: &SessionEnd) {
        self.sessions += 1;
        self.session_reward += s.reward;
        self.session_steps += s.steps as u64;
        self.session_minutes += s.minutes;
        self.churned += s.churned as u64;
    }

    fn rates(&self) -> Rates {
        let steps = self.steps as f64;
        let sessions = self.sessions as f64;
        Rates {
            steps: self.steps,
            reward_per_step: ratio(self.reward, steps),
            acceptance_rate: ratio(self.accepted as f64, steps),
            watch_minutes_per_step: ratio(self.watch_minutes, steps),
            likes_per_step: ratio(self.likes as f64, steps),
            comments_per_step: ratio(self.comments as f64, steps),
            gifts_per_step: ratio(self.gifts as f64, steps),
            follows_per_step: ratio(self.follows as f64, steps),
            nothing_live_rate: ratio(self.nothing_live as f64, steps),
            sessions: self.sessions,
            mean_session_reward: ratio(self.session_reward, sessions),
            mean_session_length: ratio(self.session_steps as f64, sessions),
            mean_session_minutes: ratio(self.session_minutes, sessions),
            return_rate: ratio((self.sessions - self.churned) as f64, sessions),
            churned: self.churned,
            myopic_regret_per_step: ratio(self.regret, self.regret_samples as f64),
            newcomer_share: ratio(self.newcomer_steps as f64, steps),
            newcomer_reward_per_step: ratio(self.newcomer_reward, self.newcomer_steps as f64),
            first_session_share: ratio(self.first_session_steps as f64, steps),
            first_session_reward_per_step: ratio(
                self.first_session_reward,
                self.first_session_steps as f64,
            ),
            mean_satisfaction: ratio(self.satisfaction_sum, self.satisfaction_samples as f64),
            ranking: self.ranking(),
        }
    }

    fn ranking(&self) -> RankingRates {
        let samples = self.ranking_samples as f64;
        RankingRates {
            precision_at_k: ratio(self.precision_sum, samples),
            recall_at_k: ratio(self.recall_sum, self.recall_samples as f64),
            ndcg_at_k: ratio(self.ndcg_sum, samples),
            mrr: ratio(self.mrr_sum, samples),
            hit_rate: ratio(self.hits as f64, samples),
            click_through: ratio(self.accepted as f64, self.slates as f64),
            mean_chosen_position: ratio(self.position_sum as f64, self.accepted as f64),
            intra_list_diversity: ratio(self.diversity_sum, self.slates as f64),
        }
    }
}

/// What the engine knows about a step beyond its outcome, for the metrics that single out
/// newcomers, first sessions and satisfaction.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepFacts {
    /// The step's stream (the chosen one, or the slate's first) joined less than a day ago.
    pub newcomer: bool,
    /// The viewer is in its first session.
    pub first_session: bool,
    /// The viewer's hidden satisfaction, on the sampled (regret) steps.
    pub satisfaction: Option<f64>,
}

/// Rates over a span of steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub steps: u64,
    pub reward_per_step: f64,
    pub acceptance_rate: f64,
    pub watch_minutes_per_step: f64,
    pub likes_per_step: f64,
    pub comments_per_step: f64,
    pub gifts_per_step: f64,
    pub follows_per_step: f64,
    /// Share of steps where nothing was live.
    pub nothing_live_rate: f64,
    /// Sessions that ended in the span, of those that began after the metrics did.
    pub sessions: u64,
    pub mean_session_reward: f64,
    /// Recommendations per ended session.
    pub mean_session_length: f64,
    pub mean_session_minutes: f64,
    /// Share of ended sessions after which the viewer will come back.
    pub return_rate: f64,
    pub churned: u64,
    /// Best expected immediate reward minus that of the slate shown (sampled steps).
    pub myopic_regret_per_step: f64,
    /// Share of steps whose stream (the chosen one, or the slate's first) is a newcomer (its
    /// streamer took the slot less than a day ago), and the reward per such step.
    #[serde(default)]
    pub newcomer_share: f64,
    #[serde(default)]
    pub newcomer_reward_per_step: f64,
    /// Share of steps in viewers' first sessions, and the reward per such step.
    #[serde(default)]
    pub first_session_share: f64,
    #[serde(default)]
    pub first_session_reward_per_step: f64,
    /// Mean hidden satisfaction of the viewers asked, sampled on the regret steps.
    #[serde(default)]
    pub mean_satisfaction: f64,
    #[serde(flatten)]
    pub ranking: RankingRates,
}

/// How well slates were ranked over a span (see [`ranking`]; K is the slate size, 1 for a
/// single recommendation). The first five are sampled on the regret steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RankingRates {
    pub precision_at_k: f64,
    /// Over the samples where some live stream was relevant.
    pub recall_at_k: f64,
    pub ndcg_at_k: f64,
    pub mrr: f64,
    /// Share of slates holding a relevant stream.
    pub hit_rate: f64,
    /// Share of slates from which a stream was chosen.
    pub click_through: f64,
    /// Mean position (from 1) of the chosen stream; 0 when none was chosen.
    pub mean_chosen_position: f64,
    /// Mean intra-list diversity of the slates (0 for slates of one).
    pub intra_list_diversity: f64,
}

/// Diversity of what was recommended in a span.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Diversity {
    /// Distinct streamers recommended / streamers live at some moment in the span.
    pub coverage: f64,
    /// Entropy of the recommended topics, normalised to [0, 1].
    pub topic_entropy: f64,
    /// Gini of recommendations across the streamers live in the span (0 = even, 1 = one gets all).
    pub exposure_gini: f64,
}

/// One row of the windowed series.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WindowRow {
    pub window: u64,
    /// Total steps at the end of the window.
    pub step: u64,
    /// Simulated minutes at the end of the window.
    pub sim_minutes: f64,
    #[serde(flatten)]
    pub rates: Rates,
    #[serde(flatten)]
    pub diversity: Diversity,
    pub live_streams: usize,
    /// Viewers watching a stream at the end of the window.
    pub watching: u64,
    /// Distinct viewers active on the last completed simulated day (today's so far on day 0).
    pub daily_active_viewers: u32,
    #[serde(flatten)]
    pub learner: LearnerRow,
}

/// A learner's figures when a window closed (all None for a policy that does not learn).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LearnerRow {
    /// Exploration rate.
    pub epsilon: Option<f64>,
    /// Learning rate of the next update.
    pub lr: Option<f64>,
    /// Last TD loss.
    pub td_loss: Option<f64>,
    /// Mean Q of the actions chosen.
    pub mean_q: Option<f64>,
}

/// Exposure counts and topic counts over a span.
#[derive(Debug, Clone)]
struct Exposure {
    per_streamer: Vec<u64>,
    per_topic: Vec<u64>,
}

impl Exposure {
    fn new(streamers: usize, topics: usize) -> Self {
        Exposure {
            per_streamer: vec![0; streamers],
            per_topic: vec![0; topics],
        }
    }

    fn diversity(&self, was_live: impl Fn(usize) -> bool) -> Diversity {
        let mut exposures = Vec::new();
        let mut covered = 0usize;
        for (i, &n) in self.per_streamer.iter().enumerate() {
            if was_live(i) || n > 0 {
                exposures.push(n as f64);
                covered += (n > 0) as usize;
            }
        }
        Diversity {
            coverage: ratio(covered as f64, exposures.len() as f64),
            topic_entropy: normalized_entropy(&self.per_topic),
            exposure_gini: gini(&mut exposures),
        }
    }

    fn clear(&mut self) {
        self.per_streamer.fill(0);
        self.per_topic.fill(0);
    }
}

/// Collects metrics for one run; the engine feeds it every step and every ended session.
#[derive(Debug, Clone)]
pub struct Metrics {
    window_steps: u64,
    window_start: f64,
    /// When these metrics began: sessions begun before it are not counted (see
    /// [`Metrics::record_session`]).
    sessions_from: f64,
    /// Sessions that ended here but began before `sessions_from`.
    carried_in: u64,
    window: Accum,
    total: Accum,
    window_exposure: Exposure,
    total_exposure: Exposure,
    ever_live: Vec<bool>,
    rows: Vec<WindowRow>,
}

impl Metrics {
    pub fn new(streamers: usize, topics: usize, window_steps: usize, start_minutes: f64) -> Self {
        Metrics {
            window_steps: window_steps.max(1) as u64,
            window_start: start_minutes,
            sessions_from: start_minutes,
            carried_in: 0,
            window: Accum::default(),
            total: Accum::default(),
            window_exposure: Exposure::new(streamers, topics),
            total_exposure: Exposure::new(streamers, topics),
            ever_live: vec![false; streamers],
            rows: Vec::new(),
        }
    }

    /// Records one step: its outcome and the slate shown (empty when nothing was live), with
    /// the streams' public features; `regret` and `ranking` are given on the steps where they
    /// were measured. Every stream shown counts as an exposure.
    pub fn record_step(
        &mut self,
        o: &Outcome,
        slate: &[u32],
        streams: &[StreamPublic],
        regret: Option<f64>,
        ranking: Option<RankingSample>,
        facts: &StepFacts,
    ) {
        self.window.add_step(o);
        self.total.add_step(o);
        self.window.add_facts(o, facts);
        self.total.add_facts(o, facts);
        if !slate.is_empty() {
            let diversity = ranking::intra_list_diversity(streams, slate);
            self.window.add_slate(o, diversity);
            self.total.add_slate(o, diversity);
        }
        for &i in slate {
            let t = streams[i as usize].topic as usize;
            self.window_exposure.per_streamer[i as usize] += 1;
            self.window_exposure.per_topic[t] += 1;
            self.total_exposure.per_streamer[i as usize] += 1;
            self.total_exposure.per_topic[t] += 1;
        }
        if let Some(r) = regret {
            for a in [&mut self.window, &mut self.total] {
                a.regret += r;
                a.regret_samples += 1;
            }
        }
        if let Some(r) = ranking {
            self.window.add_ranking(&r);
            self.total.add_ranking(&r);
        }
    }

    /// Records a session that ended. One that began before these metrics did (on an
    /// evaluation world, under the warm-up's random recommendations) is not the measured
    /// policy's session: it is counted apart, as carried in, and not in any session figure.
    pub fn record_session(&mut self, s: &SessionEnd) {
        if s.started < self.sessions_from {
            self.carried_in += 1;
            return;
        }
        self.window.add_session(s);
        self.total.add_session(s);
    }

    /// Whether the current window is full (the engine then calls `close_window`).
    pub fn window_full(&self) -> bool {
        self.window.steps >= self.window_steps
    }

    /// Closes the current window (if it has any steps) and returns its row.
    pub fn close_window(&mut self, world: &World) -> Option<&WindowRow> {
        if self.window.steps == 0 {
            return None;
        }
        let streams = world.streams();
        let since = self.window_start;
        for (i, s) in streams.iter().enumerate() {
            self.ever_live[i] |= s.live_since_time(since);
        }
        let diversity = self
            .window_exposure
            .diversity(|i| streams[i].live_since_time(since));
        let daily = world.daily_active();
        let row = WindowRow {
            window: self.rows.len() as u64,
            step: self.total.steps,
            sim_minutes: world.now().minutes(),
            rates: self.window.rates(),
            diversity,
            live_streams: world.live().len(),
            watching: world
                .live()
                .iter()
                .map(|&i| streams[i as usize].viewers as u64)
                .sum(),
            daily_active_viewers: daily.last().copied().unwrap_or(world.active_today()),
            learner: LearnerRow::default(),
        };
        self.rows.push(row);
        self.window = Accum::default();
        self.window_exposure.clear();
        self.window_start = world.now().minutes();
        self.rows.last()
    }

    /// Every closed window so far.
    pub fn rows(&self) -> &[WindowRow] {
        &self.rows
    }

    /// Records the learner's figures in the last closed window's row.
    pub fn set_learner(&mut self, learner: LearnerRow) {
        if let Some(row) = self.rows.last_mut() {
            row.learner = learner;
        }
    }

    /// Total steps recorded.
    pub fn steps(&self) -> u64 {
        self.total.steps
    }

    /// Run totals so far (includes the open window).
    pub fn totals(&self, world: &World) -> Totals {
        let since = self.window_start;
        let streams = world.streams();
        let diversity = self
            .total_exposure
            .diversity(|i| self.ever_live[i] || streams[i].live_since_time(since));
        let daily = world.daily_active();
        let (new_viewers, new_streamers) = world.arrivals();
        Totals {
            rates: self.total.rates(),
            total_reward: self.total.reward,
            watch_minutes: self.total.watch_minutes,
            likes: self.total.likes,
            comments: self.total.comments,
            gifts: self.total.gifts,
            follows: self.total.follows,
            nothing_live_steps: self.total.nothing_live,
            diversity,
            sim_days: world.now().minutes() / crate::sim::DAY,
            daily_active_viewers: ratio(daily.iter().map(|&d| d as f64).sum(), daily.len() as f64),
            new_viewers,
            new_streamers,
            sessions_carried_in: self.carried_in,
            sessions_open: world.sessions_in_progress(),
        }
    }
}

/// Run totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    #[serde(flatten)]
    pub rates: Rates,
    pub total_reward: f64,
    pub watch_minutes: f64,
    pub likes: u64,
    pub comments: u64,
    pub gifts: u64,
    pub follows: u64,
    pub nothing_live_steps: u64,
    #[serde(flatten)]
    pub diversity: Diversity,
    /// Simulated days covered.
    pub sim_days: f64,
    /// Mean distinct viewers per completed simulated day (0 before the first midnight).
    pub daily_active_viewers: f64,
    /// Churned viewer slots taken by new viewers; streamer slots taken by new streamers.
    pub new_viewers: u64,
    pub new_streamers: u64,
    /// Sessions that ended during the run but began before it (on an evaluation world, under
    /// the warm-up): left out of every session figure.
    #[serde(default)]
    pub sessions_carried_in: u64,
    /// Sessions still running when the totals were taken: left out of every session figure.
    #[serde(default)]
    pub sessions_open: u64,
}
