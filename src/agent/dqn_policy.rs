//! The DQN recommender as a [`Policy`]: encodes observations with the [`StateEncoder`], masks
//! offline streams, keeps each viewer's last (state, mask, action) until that viewer's next
//! decision or the end of its session, and hands the completed transition to the learner
//! (`dqn`), keyed by viewer so that n-step returns follow one viewer's session. On a feed with
//! `slate_value = "slateq"` it fits a click model to every slate's outcome, learns only from
//! taps, and completes a tap's transition at the viewer's next decision with the choice
//! weights of the slate shown there ([`super::slateq`]).

use std::collections::HashMap;
use std::path::Path;

use super::click::ClickModel;
use super::dqn::replay::occupant_tag;
use super::dqn::{ActionLayout, DqnLearner, Hyper, ResolvedDevice};
use super::slate::{SlateSpec, select};
use super::slateq::{Deferred, SlateQ};
use super::{AgentStats, HyperInfo, Mode, Next, Policy, StateEncoder, Transition};
use crate::scenario::Scenario;
use crate::scenario::{FeatureFamily, LrSchedule, SlateTarget, SlateValue};
use crate::sim::{Observation, OracleView};

/// Q of the chosen action is measured on every n-th greedy or exploring choice (one extra
/// forward pass of the acting network), for the dashboard's "Q of chosen actions".
const CHOSEN_Q_EVERY: u64 = 16;

/// A choice waiting for its consequences (the transition names the action learned from).
struct Pending {
    state: Vec<f32>,
    mask: Vec<bool>,
    /// `diversity_bonus` × the intra-list diversity of the slate shown, added to its reward.
    bonus: f32,
    /// SlateQ: the click model's features of each stream shown, in slate order.
    click: Vec<f32>,
}

pub struct DqnPolicy {
    learner: DqnLearner,
    encoder: StateEncoder,
    mode: Mode,
    pending: HashMap<u32, Pending>,
    pool: Vec<Pending>,
    state: Vec<f32>,
    mask: Vec<bool>,
    next_state: Vec<f32>,
    next_mask: Vec<bool>,
    q: Vec<f32>,
    scores: Vec<f64>,
    acts: u64,
    chosen_q_sum: f64,
    chosen_q_max: f64,
    chosen_q_n: u64,
    messages: Vec<String>,
    /// The learner's action groups were set from an observation.
    topics_set: bool,
    /// `joined_at` of the streamer whose content the learner holds for each slot (NaN: none).
    content_for: Vec<f64>,
    /// `joined_at` of each slot's streamer when last seen (NaN: not yet seen), to tag and
    /// restart the slots that pass to a new streamer.
    joined_for: Vec<f64>,
    /// Checkpoints hold the replay buffer's transitions too.
    save_replay: bool,
    /// SlateQ's click model and slate building (feeds with `slate_value = "slateq"`).
    slateq: Option<SlateQ>,
    next_weights: Vec<(u32, f32)>,
}

impl DqnPolicy {
    /// The state encoder of `scenario`'s `[agent]` settings: the feature families it reads
    /// and the per-slot options.
    pub fn encoder(scenario: &Scenario) -> StateEncoder {
        let actions = scenario.num_streamers();
        let agent = &scenario.params.agent;
        let mut encoder = StateEncoder::new(scenario.topics().len());
        if !agent.reads(FeatureFamily::History) {
            encoder = encoder.without_history();
        }
        if agent.stream_features {
            let minutes = scenario.params.streamers.stream_hours * 60.0;
            encoder = encoder.with_stream_features(actions, minutes);
        }
        if agent.taste_features {
            encoder = encoder.with_taste_features(actions);
        }
        if agent.reads(FeatureFamily::Engagement) {
            encoder = encoder.with_engagement_features(actions);
        }
        if agent.reads(FeatureFamily::Demographics) {
            encoder = encoder.with_demographics(scenario.params.viewers.region_weights.len());
        }
        if agent.reads(FeatureFamily::Social) {
            encoder = encoder.with_social_features(actions);
        }
        encoder
    }

    /// A fresh learner for `scenario`'s world, with the hyperparameters of its `[agent]` section.
    pub fn new(scenario: &Scenario, seed: u64, device: ResolvedDevice) -> Result<Self, String> {
        let actions = scenario.num_streamers();
        let agent = &scenario.params.agent;
        let encoder = Self::encoder(scenario);
        let slate_size = scenario.params.response.slate_size;
        let slateq = (slate_size > 1 && agent.slate_value == SlateValue::Slateq).then(|| {
            let click = ClickModel::new(
                scenario.topics().len(),
                actions,
                scenario.params.streamers.stream_hours * 60.0,
                slate_size,
                agent.click_lr,
            );
            SlateQ::new(click, agent.slate_builder, agent.slate_target)
        });
        let streamers = &scenario.params.streamers;
        let layout = ActionLayout {
            groups: scenario.topics().len(),
            features: encoder.features_per_slot(),
            content: if agent.reads(FeatureFamily::Content) {
                streamers.content_dim * streamers.content_modalities.len()
            } else {
                0
            },
            modalities: streamers.content_modalities.len(),
            slate: if slateq.is_some() { slate_size } else { 0 },
        };
        let learner = DqnLearner::with_layout(
            encoder.dim(),
            actions,
            layout,
            scenario.params.agent.clone(),
            device,
            seed,
        )
        .map_err(|e| e.to_string())?;
        let learner_reason = learner.device().reason.clone();
        Ok(DqnPolicy {
            learner,
            encoder,
            mode: Mode::Train,
            pending: HashMap::new(),
            pool: Vec::new(),
            state: vec![0.0; encoder.dim()],
            mask: vec![false; actions],
            next_state: vec![0.0; encoder.dim()],
            next_mask: vec![false; actions],
            q: vec![0.0; actions],
            scores: Vec::new(),
            acts: 0,
            chosen_q_sum: 0.0,
            chosen_q_max: f64::NEG_INFINITY,
            chosen_q_n: 0,
            messages: vec![format!("learner device: {}", learner_reason)],
            topics_set: false,
            content_for: vec![f64::NAN; actions],
            joined_for: vec![f64::NAN; actions],
            save_replay: false,
            slateq,
            next_weights: Vec::new(),
        })
    }

    /// Make checkpoints hold the replay buffer's transitions too (or not). Refused, saying
    /// why, when a full buffer would make a checkpoint larger than a checkpoint may be.
    pub fn set_save_replay(&mut self, on: bool) -> Result<(), String> {
        if on {
            let replay = self.learner.replay();
            let mut full = replay.image();
            full.transitions = replay.capacity() as u64;
            if full.bytes() > crate::agent::dqn::CHECKPOINT_MAX_BYTES {
                return Err(format!(
                    "--save-replay: a full replay buffer ({} transitions of {} bytes) would \
                     make checkpoints of {} bytes, more than the {} a checkpoint may hold; \
                     lower `[agent] buffer_capacity` or save without the buffer",
                    full.transitions,
                    full.record_bytes(),
                    full.bytes(),
                    crate::agent::dqn::CHECKPOINT_MAX_BYTES
                ));
            }
        }
        self.save_replay = on;
        Ok(())
    }

    /// Loads weights, optimizer state, hyperparameters and counters from a checkpoint.
    pub fn load(&mut self, path: &Path) -> Result<(), String> {
        self.learner
            .load_checkpoint(path)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn learner(&self) -> &DqnLearner {
        &self.learner
    }

    pub fn learner_mut(&mut self) -> &mut DqnLearner {
        &mut self.learner
    }

    fn take_pending(&mut self) -> Pending {
        self.pool.pop().unwrap_or_else(|| Pending {
            state: vec![0.0; self.state.len()],
            mask: vec![false; self.mask.len()],
            bonus: 0.0,
            click: Vec::new(),
        })
    }

    /// SlateQ: hands the learner the tapped transition waiting for `viewer`'s next slate, with
    /// the click model's choice weights of `slate` (shown in the transition's next state).
    fn complete_deferred(&mut self, viewer: u32, slate: &[u32]) {
        let Some(sq) = &mut self.slateq else { return };
        let Some(d) = sq.deferred.take() else { return };
        if d.viewer != viewer {
            debug_assert!(
                false,
                "a deferred transition outlived its viewer's next decision"
            );
            return;
        }
        sq.weights(slate, &mut self.next_weights);
        let result = self.learner.observe_slate(
            d.viewer as u64,
            &d.state,
            &d.mask,
            d.action,
            d.reward,
            &d.next_state,
            &d.next_mask,
            &self.next_weights,
            false,
        );
        self.note(result);
    }

    /// Keep the learner's action groups (each slot's topic) in step with the world: a new
    /// streamer in a slot may bring a new topic. Checks only the live slots (the candidates),
    /// and nothing without a topic head: no computation reads the map then.
    fn sync_topics(&mut self, obs: &Observation<'_>) {
        if self.learner.groups() == 0 {
            return;
        }
        let groups = self.learner.action_groups();
        let stale = !self.topics_set
            || obs
                .live
                .iter()
                .any(|&i| groups[i as usize] != obs.streams[i as usize].topic);
        if stale {
            let topics: Vec<u16> = obs.streams.iter().map(|s| s.topic).collect();
            if let Err(e) = self.learner.set_action_groups(&topics) {
                self.messages.push(e.to_string());
            }
            self.topics_set = true;
        }
    }

    /// Keep the learner's action content (each slot's content vectors) in step with the
    /// world: a new streamer in a slot brings new content. Nothing without a content head.
    fn sync_content(&mut self, obs: &Observation<'_>) {
        if self.learner.content_len() == 0 {
            return;
        }
        let same = |i: usize| self.content_for[i].to_bits() == obs.streams[i].joined_at.to_bits();
        if obs.live.iter().all(|&i| same(i as usize)) {
            return;
        }
        let scale = self.learner.config().content_scale as f32;
        let set = if scale == 1.0 {
            self.learner.set_action_content(obs.content)
        } else {
            let scaled: Vec<f32> = obs.content.iter().map(|x| x * scale).collect();
            self.learner.set_action_content(&scaled)
        };
        if let Err(e) = set {
            self.messages.push(e.to_string());
        }
        for (held, s) in self.content_for.iter_mut().zip(obs.streams) {
            *held = s.joined_at;
        }
    }

    /// Follows which streamer holds each slot (its public `joined_at`): tags each slot with
    /// its streamer for replay ([`DqnLearner::set_action_tags`]) and, with
    /// `restart_new_streamers`, restarts the slots that passed to a new streamer since the last
    /// observation ([`DqnLearner::restart_actions`]).
    fn sync_streamers(&mut self, obs: &Observation<'_>) {
        let mut changed = Vec::new();
        let mut first = false;
        for (i, (held, s)) in self.joined_for.iter_mut().zip(obs.streams).enumerate() {
            if held.to_bits() != s.joined_at.to_bits() {
                if held.is_nan() {
                    first = true;
                } else {
                    changed.push(i);
                }
                *held = s.joined_at;
            }
        }
        if !first && changed.is_empty() {
            return;
        }
        let tags: Vec<u32> = self
            .joined_for
            .iter()
            .map(|t| occupant_tag(t.to_bits()))
            .collect();
        let mut result = self.learner.set_action_tags(&tags);
        if result.is_ok() && !changed.is_empty() && self.learner.config().restart_new_streamers {
            result = self.learner.restart_actions(&changed);
        }
        if let Err(e) = result {
            self.messages.push(e.to_string());
        }
    }

    /// Keeps a learner error for the event log, and the learner's events.
    fn note(&mut self, result: Result<usize, super::dqn::DqnError>) {
        if let Err(e) = result {
            self.messages.push(e.to_string());
        }
        self.collect_events();
    }

    fn collect_events(&mut self) {
        for e in self.learner.take_events() {
            let super::dqn::DqnEvent::RolledBack {
                what,
                update,
                restored_update,
            } = e;
            self.messages.push(format!(
                "non-finite {what} at update {update}: rolled back to the weights of update {restored_update}"
            ));
        }
    }
}

/// The tunable hyperparameters: (name, min, max, step, log, help).
const HYPERS: &[(&str, f64, f64, f64, bool, &str)] = &[
    (
        "lr",
        1e-6,
        1e-1,
        2.0,
        true,
        "Adam learning rate (the schedule's peak)",
    ),
    (
        "lr_schedule",
        0.0,
        3.0,
        1.0,
        false,
        "0 constant, 1 step, 2 exponential, 3 cosine",
    ),
    (
        "lr_warmup_updates",
        0.0,
        1_000_000.0,
        2.0,
        true,
        "updates of the linear warm-up to lr",
    ),
    (
        "lr_min",
        0.0,
        1e-1,
        2.0,
        true,
        "the learning rate's floor (cosine ends there)",
    ),
    (
        "lr_decay",
        0.01,
        1.0,
        0.05,
        false,
        "step/exponential: factor per lr_decay_updates",
    ),
    (
        "lr_decay_updates",
        1.0,
        1e9,
        2.0,
        true,
        "updates per decay factor (cosine: to lr_min)",
    ),
    (
        "gamma",
        0.0,
        0.999,
        0.01,
        false,
        "discount: how much the future counts",
    ),
    (
        "eps_start",
        0.0,
        1.0,
        0.05,
        false,
        "ε at the start of the schedule",
    ),
    (
        "eps_end",
        0.0,
        1.0,
        0.01,
        false,
        "ε at the end of the schedule",
    ),
    (
        "eps_decay_steps",
        0.0,
        10_000_000.0,
        2.0,
        true,
        "steps of the linear ε decay",
    ),
    (
        "batch_size",
        1.0,
        4096.0,
        2.0,
        true,
        "minibatch size of a gradient update",
    ),
    (
        "target_update_period",
        0.0,
        1_000_000.0,
        2.0,
        true,
        "hard target copy every N updates (0 = soft)",
    ),
    (
        "tau",
        0.0,
        1.0,
        2.0,
        true,
        "soft target update rate (when the period is 0)",
    ),
    (
        "train_freq",
        1.0,
        1024.0,
        1.0,
        false,
        "environment steps per training round",
    ),
    (
        "gradient_steps",
        1.0,
        64.0,
        1.0,
        false,
        "gradient updates per training round",
    ),
];

impl Policy for DqnPolicy {
    fn name(&self) -> &str {
        "dqn"
    }

    fn rank(
        &mut self,
        obs: &Observation<'_>,
        _: Option<&OracleView<'_>>,
        spec: &SlateSpec,
        out: &mut Vec<u32>,
    ) {
        self.sync_topics(obs);
        self.sync_content(obs);
        self.sync_streamers(obs);
        self.encoder.encode(obs, &mut self.state);
        StateEncoder::mask(obs, &mut self.mask);
        let explore = self.mode == Mode::Train;
        out.clear();
        if spec.is_single() {
            let action = self
                .learner
                .act(&self.state, &self.mask, explore)
                .map(|a| a as u32)
                .unwrap_or(obs.live[0]);
            out.push(action);
        } else {
            // Item-wise values: the slate is the top K by Q (or their re-ranking), and ε-greedy
            // explores position by position.
            if self
                .learner
                .q_values(&self.state, &self.mask, &mut self.q)
                .is_err()
            {
                self.q.fill(0.0);
            }
            match &mut self.slateq {
                Some(sq) => sq.build(obs, &self.q, spec, out),
                None => {
                    self.scores.clear();
                    self.scores
                        .extend(obs.live.iter().map(|&i| self.q[i as usize] as f64));
                    select(obs, &self.scores, spec, out);
                }
            }
            let sarsa = self
                .slateq
                .as_ref()
                .is_some_and(|sq| sq.target == SlateTarget::Sarsa);
            if !sarsa {
                self.complete_deferred(obs.viewer, out);
            }
            if explore {
                self.learner.explore_slate(&self.mask, out);
            }
            if sarsa {
                self.complete_deferred(obs.viewer, out);
            }
        }
        let action = out[0];
        self.acts += 1;
        // A slate's Q-values are already in `self.q`; a single choice computes them here.
        if self.acts.is_multiple_of(CHOSEN_Q_EVERY)
            && (!spec.is_single()
                || self
                    .learner
                    .q_values(&self.state, &self.mask, &mut self.q)
                    .is_ok())
        {
            let q = self.q[action as usize] as f64;
            if q.is_finite() {
                self.chosen_q_sum += q;
                self.chosen_q_max = self.chosen_q_max.max(q);
                self.chosen_q_n += 1;
            }
        }
        if explore {
            let mut p = self.take_pending();
            p.state.copy_from_slice(&self.state);
            p.mask.copy_from_slice(&self.mask);
            let bonus = self.learner.config().diversity_bonus;
            p.bonus = if bonus > 0.0 {
                (bonus * crate::sim::intra_list_diversity(obs.streams, out)) as f32
            } else {
                0.0
            };
            p.click.clear();
            if let Some(sq) = &self.slateq {
                for &i in out.iter() {
                    p.click.extend_from_slice(sq.click.features(i));
                }
            }
            if let Some(old) = self.pending.insert(obs.viewer, p) {
                self.pool.push(old);
            }
        }
    }

    fn learn(&mut self, t: &Transition<'_>) {
        let Some(p) = self.pending.remove(&t.viewer) else {
            return;
        };
        let reward = if p.bonus > 0.0 {
            t.reward as f32 + p.bonus
        } else {
            t.reward as f32
        };
        if let Some(sq) = &mut self.slateq {
            // SlateQ: every slate teaches the click model; Q learns from taps alone.
            sq.click.fit(t.slate, &p.click, t.position);
            if !t.accepted {
                if matches!(t.next, Next::SessionEnd) {
                    // No tap ends no n-step window: the session's pending steps go.
                    self.learner.drop_episode(t.viewer as u64);
                }
                self.pool.push(p);
                return;
            }
            if let Next::Decision(obs) = t.next
                && !obs.live.is_empty()
            {
                // The target needs the slate of the viewer's next decision: `rank` completes it.
                self.encoder.encode(obs, &mut self.next_state);
                StateEncoder::mask(obs, &mut self.next_mask);
                sq.deferred = Some(Deferred {
                    viewer: t.viewer,
                    state: p.state,
                    mask: p.mask,
                    action: t.action as usize,
                    reward,
                    next_state: self.next_state.clone(),
                    next_mask: self.next_mask.clone(),
                });
                return;
            }
            // The session ended (or nothing is live): a terminal transition.
            self.next_state.fill(0.0);
            self.next_mask.fill(false);
            let result = self.learner.observe_slate(
                t.viewer as u64,
                &p.state,
                &p.mask,
                t.action as usize,
                reward,
                &self.next_state,
                &self.next_mask,
                &[],
                true,
            );
            self.pool.push(p);
            self.note(result);
            return;
        }
        let done = match t.next {
            Next::Decision(obs) => {
                self.encoder.encode(obs, &mut self.next_state);
                StateEncoder::mask(obs, &mut self.next_mask);
                obs.live.is_empty()
            }
            Next::SessionEnd => {
                self.next_state.fill(0.0);
                self.next_mask.fill(false);
                true
            }
        };
        let result = self.learner.observe(
            t.viewer as u64,
            &p.state,
            &p.mask,
            t.action as usize,
            reward,
            &self.next_state,
            &self.next_mask,
            done,
        );
        self.pool.push(p);
        self.note(result);
    }

    fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
        if mode == Mode::Eval {
            if let Some(sq) = &mut self.slateq {
                sq.deferred = None;
            }
            let pending: Vec<_> = self.pending.drain().collect();
            for (viewer, p) in pending {
                self.learner.drop_episode(viewer as u64);
                self.pool.push(p);
            }
        }
    }

    fn device(&self) -> String {
        self.learner.device().name.clone()
    }

    fn device_reason(&self) -> Option<String> {
        Some(self.learner.device().reason.clone())
    }

    fn stats(&self) -> Option<AgentStats> {
        let s = self.learner.stats();
        let (mean_q, max_q) = if self.chosen_q_n > 0 {
            (
                Some(self.chosen_q_sum / self.chosen_q_n as f64),
                Some(self.chosen_q_max),
            )
        } else {
            (s.mean_q, s.max_q)
        };
        Some(AgentStats {
            epsilon: Some(if self.mode == Mode::Eval {
                0.0
            } else {
                s.epsilon
            }),
            lr: Some(s.lr),
            td_loss: s.td_loss,
            mean_q,
            max_q,
            updates: s.updates,
            replay_len: s.replay_len as u64,
            click_log_loss: self.slateq.as_ref().and_then(|sq| sq.click.log_loss()),
        })
    }

    fn q_values(&self, obs: &Observation<'_>, out: &mut Vec<f64>) -> bool {
        let mut state = vec![0.0; self.encoder.dim()];
        let mut mask = vec![false; self.mask.len()];
        let mut q = vec![0.0; self.mask.len()];
        self.encoder.encode(obs, &mut state);
        StateEncoder::mask(obs, &mut mask);
        if self.learner.q_values(&state, &mask, &mut q).is_err() {
            return false;
        }
        out.clear();
        out.extend(obs.live.iter().map(|&i| q[i as usize] as f64));
        true
    }

    fn hypers(&self) -> Vec<HyperInfo> {
        let c = self.learner.config();
        let value = |name: &str| match name {
            "lr" => c.lr,
            "lr_schedule" => LrSchedule::ALL
                .iter()
                .position(|&s| s == c.lr_schedule)
                .unwrap_or(0) as f64,
            "lr_warmup_updates" => c.lr_warmup_updates as f64,
            "lr_min" => c.lr_min,
            "lr_decay" => c.lr_decay,
            "lr_decay_updates" => c.lr_decay_updates as f64,
            "gamma" => c.gamma,
            "eps_start" => c.eps_start,
            "eps_end" => c.eps_end,
            "eps_decay_steps" => c.eps_decay_steps as f64,
            "batch_size" => c.batch_size as f64,
            "target_update_period" => c.target_update_period as f64,
            "tau" => c.tau,
            "train_freq" => c.train_freq as f64,
            _ => c.gradient_steps as f64,
        };
        HYPERS
            .iter()
            .map(|&(name, min, max, step, log, help)| HyperInfo {
                name: name.into(),
                value: value(name),
                min,
                max,
                step,
                log,
                help: help.into(),
            })
            .collect()
    }

    fn set_hyper(&mut self, name: &str, value: f64) -> Result<(), String> {
        if !value.is_finite() || value < 0.0 {
            return Err(format!("{name} must be a finite number ≥ 0, got {value}"));
        }
        let count = value.round() as usize;
        let h = match name {
            "lr" => Hyper::LearningRate(value),
            "lr_schedule" => Hyper::LrSchedule(
                *LrSchedule::ALL
                    .get(count)
                    .ok_or_else(|| format!("lr_schedule: 0 to 3 (got {value})"))?,
            ),
            "lr_warmup_updates" => Hyper::LrWarmupUpdates(count),
            "lr_min" => Hyper::LrMin(value),
            "lr_decay" => Hyper::LrDecay(value),
            "lr_decay_updates" => Hyper::LrDecayUpdates(count),
            "gamma" => Hyper::Gamma(value),
            "eps_start" => Hyper::EpsilonStart(value),
            "eps_end" => Hyper::EpsilonEnd(value),
            "eps_decay_steps" => Hyper::EpsilonDecaySteps(count),
            "batch_size" => Hyper::BatchSize(count),
            "target_update_period" => Hyper::TargetUpdatePeriod(count),
            "tau" => Hyper::Tau(value),
            "train_freq" => Hyper::TrainFreq(count),
            "gradient_steps" => Hyper::GradientSteps(count),
            _ => return Err(format!("policy `dqn` has no hyperparameter `{name}`")),
        };
        self.learner.set(h).map_err(|e| e.to_string())
    }

    fn take_messages(&mut self) -> Vec<String> {
        std::mem::take(&mut self.messages)
    }

    fn load_checkpoint(&mut self, path: &Path) -> Result<(), String> {
        self.load(path)
    }

    fn save_checkpoint(&self, path: &Path) -> Result<(), String> {
        let saved = if self.save_replay {
            self.learner.save_checkpoint_with_replay(path)
        } else {
            self.learner.save_checkpoint(path)
        };
        saved.map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::dqn::DeviceChoice;
    use crate::sim::{SimTime, StreamPublic, ViewerHistory};

    /// A viewer who has watched nothing (`zeros`: one 0 per topic).
    fn no_history(zeros: &[f32]) -> ViewerHistory<'_> {
        ViewerHistory {
            recent_hours: zeros,
            engagement: zeros,
            shown: zeros,
            accepted: zeros,
            week_hours: zeros,
            ..ViewerHistory::EMPTY
        }
    }

    /// Q of every live stream for a viewer with no history, after `rank` has seen `streams`.
    fn q_after_rank(p: &mut DqnPolicy, streams: &[StreamPublic], topics: usize) -> Vec<f64> {
        let live: Vec<u32> = (0..streams.len() as u32).collect();
        let zeros = vec![0.0; topics];
        let obs = Observation {
            viewer: 0,
            time: SimTime(0.0),
            history: no_history(&zeros),
            live: &live,
            streams,
            num_topics: topics,
            content: &[],
            content_len: 0,
        };
        let mut out = Vec::new();
        p.rank(&obs, None, &SlateSpec::SINGLE, &mut out);
        let mut q = Vec::new();
        assert!(p.q_values(&obs, &mut q));
        q
    }

    /// When a slot's streamer changes (its public `joined_at`), the learner restarts the slot:
    /// its Q becomes the mean of the other slots' (every stream here shares one topic, so only
    /// the slot's own column tells them apart); the others keep theirs. Without
    /// `restart_new_streamers` nothing changes. With it, replay's tag of the slot changes too.
    #[test]
    fn a_slot_taken_by_a_new_streamer_restarts_as_the_average_slot() {
        for restart in [true, false] {
            let mut scenario = Scenario::load("default").unwrap();
            scenario.params.agent.restart_new_streamers = restart;
            let device = DeviceChoice::Cpu.resolve().unwrap();
            let mut p = DqnPolicy::new(&scenario, 7, device).unwrap();
            let n = scenario.num_streamers();
            let mut streams: Vec<StreamPublic> = (0..n)
                .map(|_| StreamPublic {
                    live: true,
                    joined_at: f64::NEG_INFINITY,
                    ..StreamPublic::default()
                })
                .collect();
            let topics = scenario.topics().len();
            let before = q_after_rank(&mut p, &streams, topics);
            let tags = p.learner.action_tags().to_vec();
            let others = |q: &[f64]| q[..3].iter().chain(&q[4..]).sum::<f64>() / (n - 1) as f64;
            assert!((before[3] - others(&before)).abs() > 1e-3, "{before:?}");
            streams[3].joined_at = 600.0;
            let after = q_after_rank(&mut p, &streams, topics);
            // Replay tells the new streamer's slot apart (tags are kept with restarts).
            let new_tags = p.learner.action_tags();
            if restart {
                assert_ne!(tags[3], new_tags[3]);
                assert_eq!(&tags[..3], &new_tags[..3]);
                assert_eq!(&tags[4..], &new_tags[4..]);
            } else {
                assert!(new_tags.is_empty(), "no content head: no tags");
            }
            assert_eq!(&before[..3], &after[..3]);
            assert_eq!(&before[4..], &after[4..]);
            if restart {
                assert!((after[3] - others(&after)).abs() < 1e-4, "{after:?}");
            } else {
                assert_eq!(before[3], after[3]);
            }
        }
    }

    /// The learner reads each stream's content times `content_scale`, and reads it again when
    /// a live slot passes to a new streamer.
    #[test]
    fn the_learner_reads_content_times_content_scale() {
        let mut scenario = Scenario::load("multimodal").unwrap();
        scenario.params.agent.content_scale = 0.25;
        let device = DeviceChoice::Cpu.resolve().unwrap();
        let mut p = DqnPolicy::new(&scenario, 7, device).unwrap();
        let n = scenario.num_streamers();
        let len = p.learner.content_len();
        assert!(len > 0);
        let mut streams = vec![
            StreamPublic {
                live: true,
                joined_at: 0.0,
                ..StreamPublic::default()
            };
            n
        ];
        let topics = scenario.topics().len();
        let zeros = vec![0.0; topics];
        let live: Vec<u32> = (0..n as u32).collect();
        let mut content: Vec<f32> = (0..n * len).map(|i| (i as f32 * 0.37).sin()).collect();
        for round in 0..2 {
            let obs = Observation {
                viewer: 0,
                time: SimTime(0.0),
                history: no_history(&zeros),
                live: &live,
                streams: &streams,
                num_topics: topics,
                content: &content,
                content_len: len,
            };
            let mut out = Vec::new();
            p.rank(&obs, None, &SlateSpec::SINGLE, &mut out);
            let expected: Vec<f32> = content.iter().map(|x| x * 0.25).collect();
            assert_eq!(p.learner.action_content(), &expected[..], "round {round}");
            // Slot 2 passes to a new streamer with other content.
            streams[2].joined_at = 600.0;
            content[2 * len..3 * len].iter_mut().for_each(|x| *x += 1.0);
        }
    }
}
