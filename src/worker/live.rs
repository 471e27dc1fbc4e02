//! The continuous mode of the worker, for the dashboard: one thread owns the engine (world,
//! policy, metrics) and runs until stopped, paced to a [`Speed`], applying [`Command`]s between
//! steps and offering a [`Snapshot`] about every [`SNAPSHOT_EVERY`] when something changed. It
//! never blocks on the front end: the channel is bounded, and a snapshot that does not fit is
//! merged with the next one ([`merge`]). While paused it blocks on the command channel (idle).

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError, bounded};

use super::Command;
use super::snapshot::{Event, EventKind, LiveStream, Snapshot, Speed, StatsPoint, merge};
use crate::agent::{HyperInfo, Policy, SlateSpec};
use crate::engine::Engine;
use crate::scenario::{MAX_DIVERSITY_WEIGHT, Rerank, RewardWeights, Scenario};

/// How often a snapshot is offered while running.
pub const SNAPSHOT_EVERY: Duration = Duration::from_millis(50);
/// Steps between clock checks at full speed.
const FULL_SPEED_BATCH: usize = 8;

/// Builds a policy by name for a scenario and seed (None: unknown name). The worker calls it at
/// start and on every reset.
pub type PolicyFactory =
    Arc<dyn Fn(&str, &Scenario, u64) -> Result<Box<dyn Policy>, String> + Send + Sync>;

/// What to run continuously.
#[derive(Debug, Clone)]
pub struct LivePlan {
    pub scenario: Scenario,
    pub policy: String,
    pub seed: u64,
    pub speed: Speed,
    /// Start paused (nothing runs until Resume or StepOnce).
    pub paused: bool,
    /// Validate the policy every so often on the validation world (a curve beside the
    /// training reward; nothing is stopped or restored).
    pub validation: Option<super::validation::ValidationPlan>,
}

/// A worker in continuous mode.
pub struct LiveWorker {
    pub commands: Sender<Command>,
    pub snapshots: Receiver<Snapshot>,
    handle: thread::JoinHandle<()>,
}

impl LiveWorker {
    /// Starts the thread; the first snapshot follows at once.
    pub fn spawn(plan: LivePlan, factory: PolicyFactory) -> LiveWorker {
        let (commands, command_rx) = bounded(256);
        let (snapshot_tx, snapshots) = bounded(2);
        let handle = thread::Builder::new()
            .name("liveq-worker".into())
            .spawn(move || live_loop(plan, factory, command_rx, snapshot_tx))
            .expect("spawning a thread");
        LiveWorker {
            commands,
            snapshots,
            handle,
        }
    }

    /// Whether the thread has ended (finished, failed or panicked).
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Asks the thread to stop and waits for it; an Err holds its panic message.
    pub fn stop(self) -> Result<(), String> {
        let _ = self.commands.send(Command::Stop);
        self.join()
    }

    /// Waits for the thread to end (dropping the snapshots, so it cannot wait on them); an Err
    /// holds its panic message.
    pub fn join(self) -> Result<(), String> {
        let LiveWorker {
            commands,
            snapshots,
            handle,
        } = self;
        drop(snapshots);
        drop(commands);
        handle.join().map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the worker thread panicked".into())
        })
    }
}

/// The reward weights as tunable parameters, named `reward.<field>`.
pub fn reward_hypers(w: &RewardWeights) -> Vec<HyperInfo> {
    let h = |name: &str, value: f64, max: f64, step: f64, help: &str| HyperInfo {
        name: format!("reward.{name}"),
        value,
        min: 0.0,
        max,
        step,
        log: false,
        help: help.into(),
    };
    vec![
        h(
            "watch_minute",
            w.watch_minute,
            2.0,
            0.05,
            "reward per minute watched",
        ),
        h("like", w.like, 10.0, 0.25, "reward per like"),
        h("comment", w.comment, 10.0, 0.25, "reward per comment"),
        h("gift", w.gift, 50.0, 1.0, "reward per gift"),
        h("follow", w.follow, 30.0, 0.5, "reward per follow"),
    ]
}

/// The diversity re-ranking's weight as a tunable parameter, `feed.rerank` (slates of more than
/// one stream only): MMR's λ or the DPP's θ, whichever the run uses (MMR when it used none);
/// 0 turns re-ranking off.
pub fn rerank_hyper(spec: &SlateSpec) -> Option<HyperInfo> {
    (spec.size > 1).then(|| HyperInfo {
        name: "feed.rerank".into(),
        value: spec.rerank.weight(),
        min: 0.0,
        max: MAX_DIVERSITY_WEIGHT,
        step: 0.05,
        log: false,
        help: match spec.rerank {
            Rerank::Dpp(_) => "DPP diversity weight θ (0 = the policy's own order)".into(),
            _ => "MMR diversity weight λ (0 = the policy's own order)".into(),
        },
    })
}

/// The re-ranking `engine` uses with its weight set to `value`.
fn reranked(spec: &SlateSpec, value: f64) -> Result<Rerank, String> {
    if !value.is_finite() || !(0.0..=MAX_DIVERSITY_WEIGHT).contains(&value) {
        return Err(format!(
            "feed.rerank must be in [0, {MAX_DIVERSITY_WEIGHT}], got {value}"
        ));
    }
    Ok(match spec.rerank {
        Rerank::None => Rerank::Mmr(value),
        r => r.with_weight(value),
    })
}

fn set_reward(w: &mut RewardWeights, name: &str, value: f64) -> Result<(), String> {
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{name} must be a number ≥ 0, got {value}"));
    }
    let field = match name {
        "reward.watch_minute" => &mut w.watch_minute,
        "reward.like" => &mut w.like,
        "reward.comment" => &mut w.comment,
        "reward.gift" => &mut w.gift,
        "reward.follow" => &mut w.follow,
        _ => return Err(format!("there is no reward weight `{name}`")),
    };
    *field = value;
    Ok(())
}

/// Steps per second over the last second.
struct RateMeter {
    samples: VecDeque<(Instant, u64)>,
}

impl RateMeter {
    fn record(&mut self, now: Instant, step: u64) -> f64 {
        self.samples.push_back((now, step));
        while self.samples.len() > 2
            && now.duration_since(self.samples[0].0) > Duration::from_secs(1)
        {
            self.samples.pop_front();
        }
        let (t0, s0) = self.samples[0];
        let dt = now.duration_since(t0).as_secs_f64();
        if dt > 0.05 {
            (step - s0) as f64 / dt
        } else {
            0.0
        }
    }
    fn clear(&mut self) {
        self.samples.clear();
    }
}

/// The state of the loop besides the engine.
struct Live {
    plan: LivePlan,
    factory: PolicyFactory,
    speed: Speed,
    paused: bool,
    rows_sent: usize,
    open_reward: f64,
    open_steps: u64,
    rows_seen: usize,
    events: Vec<Event>,
    pending: Option<Snapshot>,
    dirty: bool,
    meter: RateMeter,
    /// Pacing of a limited speed: steps done since `pace_start`.
    pace_start: Instant,
    pace_done: u64,
    tx: Sender<Snapshot>,
    /// The front end is gone: stop.
    gone: bool,
    validator: Option<super::validation::Validator>,
    /// Validations not sent yet.
    validation: Vec<super::validation::ValidationPoint>,
}

impl Live {
    fn new(plan: LivePlan, factory: PolicyFactory, tx: Sender<Snapshot>, paused: bool) -> Live {
        Live {
            speed: plan.speed,
            paused,
            factory,
            rows_sent: 0,
            open_reward: 0.0,
            open_steps: 0,
            rows_seen: 0,
            events: Vec::new(),
            pending: None,
            dirty: true,
            meter: RateMeter {
                samples: VecDeque::new(),
            },
            pace_start: Instant::now(),
            pace_done: 0,
            tx,
            gone: false,
            validator: plan.validation.map(|v| {
                super::validation::Validator::new(&plan.scenario, plan.seed, v, 0).curve_only()
            }),
            validation: Vec::new(),
            plan,
        }
    }

    fn event(&mut self, engine: &Engine, kind: EventKind, text: String) {
        self.events.push(Event {
            step: engine.metrics().steps(),
            time: engine.world().now(),
            kind,
            text,
        });
        self.dirty = true;
    }

    fn restart_pacing(&mut self) {
        self.pace_start = Instant::now();
        self.pace_done = 0;
        self.meter.clear();
    }

    /// One step; Err(message) on failure.
    fn step(&mut self, engine: &mut Engine) -> Result<(), String> {
        let s = engine.step().map_err(|e| e.to_string())?;
        self.open_reward += s.outcome.reward;
        self.open_steps += 1;
        let rows = engine.metrics().rows().len();
        if rows != self.rows_seen {
            self.rows_seen = rows;
            self.open_reward = 0.0;
            self.open_steps = 0;
        }
        self.dirty = true;
        let step = engine.metrics().steps();
        if let Some(v) = &mut self.validator
            && step.is_multiple_of(v.every())
        {
            let (text, kind) = match v.validate(engine, step) {
                Ok(_) => {
                    let p = *v.points.last().expect("just validated");
                    self.validation.push(p);
                    (
                        format!(
                            "validation: {:.3} reward per step, {:.2} per session",
                            p.reward_per_step, p.reward_per_session
                        ),
                        EventKind::Info,
                    )
                }
                Err(e) => (format!("validation: {e}"), EventKind::Warning),
            };
            self.event(engine, kind, text);
        }
        Ok(())
    }

    fn snapshot(&mut self, engine: &mut Engine, error: Option<String>, finished: bool) -> Snapshot {
        for message in engine.policy_mut().take_messages() {
            self.event(engine, EventKind::Warning, message);
        }
        let world = engine.world();
        let now = world.now();
        let streams = world.streams();
        let mut live: Vec<LiveStream> = world
            .live()
            .iter()
            .map(|&i| {
                let s = &streams[i as usize];
                LiveStream {
                    id: i,
                    topic: s.topic,
                    viewers: s.viewers,
                    live_minutes: (now.minutes() - s.live_since).max(0.0),
                    recommended: s.recommended,
                }
            })
            .collect();
        live.sort_by(|a, b| b.viewers.cmp(&a.viewers).then(a.id.cmp(&b.id)));
        let policy = engine.policy();
        let step = engine.metrics().steps();
        let reward = world.params().reward.clone();
        let mut hypers = policy.hypers();
        hypers.extend(reward_hypers(&reward));
        hypers.extend(rerank_hyper(&engine.slate_spec()));
        let rows =
            engine.metrics().rows()[self.rows_sent.min(engine.metrics().rows().len())..].to_vec();
        self.rows_sent = engine.metrics().rows().len();
        let measured_rate = if self.paused {
            0.0
        } else {
            self.meter.record(Instant::now(), step)
        };
        let snap = Snapshot {
            scenario: self.plan.scenario.name().to_string(),
            description: self.plan.scenario.description().to_string(),
            topics: world.topic_names().to_vec(),
            num_streamers: world.num_streamers(),
            slate_size: world.params().response.slate_size,
            window_steps: world.params().metrics.window_steps as u64,
            seed: self.plan.seed,
            policy: policy.name().to_string(),
            device: policy.device(),
            step,
            time: now,
            measured_rate,
            speed: Some(self.speed),
            paused: self.paused,
            open_window: (self.open_steps > 0)
                .then(|| (self.open_steps, self.open_reward / self.open_steps as f64)),
            totals: engine.metrics().totals(world),
            hypers,
            reward,
            live,
            decision: None,
            error,
            finished,
            rows,
            stats: policy
                .stats()
                .map(|stats| StatsPoint { step, stats })
                .into_iter()
                .collect(),
            events: std::mem::take(&mut self.events),
            validation: std::mem::take(&mut self.validation),
            merged: 1,
        };
        let mut snap = snap;
        snap.decision = engine.take_decision();
        engine.inspect_next();
        snap
    }

    /// Offers a snapshot without blocking; keeps it (merged) when the channel is full.
    fn offer(&mut self, snap: Snapshot) {
        let snap = match self.pending.take() {
            Some(p) => merge(p, snap),
            None => snap,
        };
        match self.tx.try_send(snap) {
            Ok(()) => {}
            Err(TrySendError::Full(s)) => self.pending = Some(s),
            Err(TrySendError::Disconnected(_)) => self.gone = true,
        }
        self.dirty = false;
    }

    /// Retries a pending snapshot.
    fn flush(&mut self) {
        if let Some(p) = self.pending.take() {
            match self.tx.try_send(p) {
                Ok(()) => {}
                Err(TrySendError::Full(s)) => self.pending = Some(s),
                Err(TrySendError::Disconnected(_)) => self.gone = true,
            }
        }
    }

    /// Applies a command; returns false on Stop.
    fn command(&mut self, engine: &mut Engine, c: Command) -> Result<bool, String> {
        match c {
            Command::Stop => return Ok(false),
            Command::Pause => {
                if !self.paused {
                    self.paused = true;
                    self.dirty = true;
                }
            }
            Command::Resume => {
                if self.paused {
                    self.paused = false;
                    self.restart_pacing();
                    self.dirty = true;
                }
            }
            Command::StepOnce => {
                if self.paused {
                    engine.inspect_next();
                    self.step(engine)?;
                }
            }
            Command::SetSpeed(s) => {
                self.speed = s;
                self.restart_pacing();
                self.dirty = true;
            }
            Command::SetHyper { name, value } => {
                let result = if name.starts_with("reward.") {
                    let mut w = engine.world().params().reward.clone();
                    set_reward(&mut w, &name, value).map(|()| engine.set_reward_weights(w))
                } else if name == "feed.rerank" {
                    reranked(&engine.slate_spec(), value).map(|r| engine.set_rerank(r))
                } else {
                    engine.policy_mut().set_hyper(&name, value)
                };
                match result {
                    Ok(()) => self.event(engine, EventKind::Tuning, format!("{name} = {value}")),
                    Err(e) => self.event(
                        engine,
                        EventKind::Warning,
                        format!("cannot set {name}: {e}"),
                    ),
                }
            }
            Command::ResetAgent => {
                match (self.factory)(&self.plan.policy, &self.plan.scenario, self.plan.seed) {
                    Ok(p) => {
                        engine.replace_policy(p);
                        self.event(
                            engine,
                            EventKind::Reset,
                            format!(
                                "agent reset: a fresh `{}` starts learning; the world goes on",
                                self.plan.policy
                            ),
                        );
                    }
                    Err(e) => self.event(engine, EventKind::Warning, format!("reset failed: {e}")),
                }
            }
            Command::SaveCheckpoint => {
                let path = std::path::PathBuf::from("checkpoints").join(format!(
                    "{}-{}-step{}",
                    self.plan.scenario.name(),
                    self.plan.policy,
                    engine.metrics().steps()
                ));
                let saved = std::fs::create_dir_all("checkpoints")
                    .map_err(|e| format!("cannot create checkpoints/: {e}"))
                    .and_then(|()| engine.policy().save_checkpoint(&path));
                match saved {
                    Ok(()) => self.event(
                        engine,
                        EventKind::Saved,
                        format!("checkpoint saved to {}", path.display()),
                    ),
                    Err(e) => self.event(engine, EventKind::Warning, format!("no checkpoint: {e}")),
                }
            }
        }
        Ok(true)
    }
}

fn live_loop(
    plan: LivePlan,
    factory: PolicyFactory,
    commands: Receiver<Command>,
    tx: Sender<Snapshot>,
) {
    let policy = match factory(&plan.policy, &plan.scenario, plan.seed) {
        Ok(p) => p,
        Err(e) => {
            let snap = Snapshot {
                scenario: plan.scenario.name().to_string(),
                policy: plan.policy.clone(),
                error: Some(e),
                finished: true,
                merged: 1,
                ..Snapshot::default()
            };
            let _ = tx.send(snap);
            return;
        }
    };
    let mut engine = Engine::new(&plan.scenario, plan.seed, policy);
    engine.inspect_next();
    let paused = plan.paused;
    let mut live = Live::new(plan, factory, tx, paused);
    let text = format!(
        "started: policy `{}` on scenario `{}` (seed {}), {} streamers, {} viewers",
        live.plan.policy,
        live.plan.scenario.name(),
        live.plan.seed,
        live.plan.scenario.num_streamers(),
        live.plan.scenario.num_viewers()
    );
    live.event(&engine, EventKind::Info, text);
    let first = live.snapshot(&mut engine, None, false);
    live.offer(first);
    let mut last_snapshot = Instant::now();
    let result = run(&mut live, &mut engine, &commands, &mut last_snapshot);
    if live.gone {
        return;
    }
    let error = result.err();
    if let Some(e) = &error {
        live.event(&engine, EventKind::Error, format!("the run stopped: {e}"));
    }
    engine.finish();
    let last = live.snapshot(&mut engine, error, true);
    let last = match live.pending.take() {
        Some(p) => merge(p, last),
        None => last,
    };
    // The last snapshot may wait: the run is over and the front end must see how it ended.
    let _ = live.tx.send(last);
}

/// Runs `plan` on the calling thread, deterministically: `steps` steps, applying each scripted
/// command before the step it is keyed to, and returns the snapshot the worker would send after
/// every `every` steps (and at the end), with the measured rate at 0. For tests and screenshots.
pub fn scripted(
    plan: LivePlan,
    factory: PolicyFactory,
    steps: u64,
    every: u64,
    script: &[(u64, Command)],
) -> Result<Vec<Snapshot>, String> {
    let policy = factory(&plan.policy, &plan.scenario, plan.seed)?;
    let mut engine = Engine::new(&plan.scenario, plan.seed, policy);
    engine.inspect_next();
    let (tx, _rx) = bounded(1);
    let mut live = Live::new(plan, factory, tx, true);
    let mut out = Vec::new();
    for step in 0..steps {
        for (_, c) in script.iter().filter(|(s, _)| *s == step) {
            live.command(&mut engine, c.clone())?;
        }
        live.step(&mut engine)?;
        if (step + 1) % every.max(1) == 0 || step + 1 == steps {
            let mut s = live.snapshot(&mut engine, None, false);
            s.paused = live.paused;
            s.measured_rate = 0.0;
            out.push(s);
        }
    }
    Ok(out)
}

/// The main loop; Ok on Stop or when the front end is gone, Err when stepping failed.
fn run(
    live: &mut Live,
    engine: &mut Engine,
    commands: &Receiver<Command>,
    last: &mut Instant,
) -> Result<(), String> {
    loop {
        // Commands: block while paused (idle), else take what is there.
        let mut next = if live.paused {
            if live.pending.is_some() {
                match commands.recv_timeout(SNAPSHOT_EVERY) {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Ok(()),
                }
            } else {
                match commands.recv() {
                    Ok(c) => Some(c),
                    Err(_) => return Ok(()),
                }
            }
        } else {
            match commands.try_recv() {
                Ok(c) => Some(c),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => return Ok(()),
            }
        };
        while let Some(c) = next.take() {
            let step_once = c == Command::StepOnce;
            if !live.command(engine, c)? {
                return Ok(());
            }
            if step_once {
                // Show that one step at once.
                let s = live.snapshot(engine, None, false);
                live.offer(s);
                *last = Instant::now();
            }
            next = commands.try_recv().ok();
        }
        if !live.paused {
            match live.speed {
                Speed::Full => {
                    let until = Instant::now() + Duration::from_millis(20);
                    'batch: loop {
                        // Small batches: a slow policy (a learner: ~0.5 ms a step) still looks
                        // at the clock, and so at commands, every few milliseconds.
                        for _ in 0..FULL_SPEED_BATCH {
                            live.step(engine)?;
                        }
                        if Instant::now() >= until {
                            break 'batch;
                        }
                    }
                }
                Speed::Limited(rate) => {
                    let elapsed = live.pace_start.elapsed().as_secs_f64();
                    let due = (elapsed * rate as f64) as u64;
                    let todo = due.saturating_sub(live.pace_done).min(rate as u64 / 10 + 1);
                    for _ in 0..todo {
                        live.step(engine)?;
                    }
                    live.pace_done += todo;
                    if due > live.pace_done + rate as u64 {
                        // Fell far behind (slow policy): do not try to catch up in a burst.
                        live.pace_done = due;
                    }
                    // Sleep until the next step is due or a snapshot is due, waking on commands.
                    let next_step = (live.pace_done + 1) as f64 / rate as f64;
                    let wait_step = Duration::from_secs_f64(
                        (next_step - live.pace_start.elapsed().as_secs_f64()).max(0.0),
                    );
                    let wait_snap = SNAPSHOT_EVERY.saturating_sub(last.elapsed());
                    let wait = wait_step.min(if live.dirty { wait_snap } else { wait_step });
                    if !wait.is_zero() {
                        match commands.recv_timeout(wait) {
                            Ok(c) => {
                                if !live.command(engine, c)? {
                                    return Ok(());
                                }
                            }
                            Err(RecvTimeoutError::Timeout) => {}
                            Err(RecvTimeoutError::Disconnected) => return Ok(()),
                        }
                    }
                }
            }
        }
        if live.dirty && (live.paused || last.elapsed() >= SNAPSHOT_EVERY) {
            let s = live.snapshot(engine, None, false);
            live.offer(s);
            *last = Instant::now();
        } else {
            live.flush();
        }
        if live.gone {
            // The front end left: still carry out what it asked before it went (a save asked
            // for with the quit), up to its Stop.
            for c in commands.try_iter() {
                if !live.command(engine, c)? {
                    break;
                }
            }
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factory() -> PolicyFactory {
        Arc::new(|name: &str, s: &Scenario, seed: u64| {
            crate::agent::make_policy(name, s, seed)
                .ok_or_else(|| format!("unknown policy `{name}`"))
        })
    }

    fn plan(paused: bool) -> LivePlan {
        LivePlan {
            validation: None,
            scenario: Scenario::builtin_default(),
            policy: "bandit".into(),
            seed: 7,
            speed: Speed::Full,
            paused,
        }
    }

    fn recv(w: &LiveWorker) -> Snapshot {
        w.snapshots
            .recv_timeout(Duration::from_secs(10))
            .expect("a snapshot")
    }

    #[test]
    fn paused_worker_steps_once_and_applies_commands() {
        let w = LiveWorker::spawn(plan(true), factory());
        let first = recv(&w);
        assert_eq!(first.step, 0);
        assert!(first.paused);
        assert_eq!(first.policy, "bandit");
        w.commands.send(Command::StepOnce).unwrap();
        let s = recv(&w);
        assert_eq!(s.step, 1);
        let d = s.decision.expect("the stepped decision is inspected");
        assert_eq!(d.step, 0);
        assert!(d.chosen().is_some());
        w.commands
            .send(Command::SetHyper {
                name: "exploration".into(),
                value: 2.0,
            })
            .unwrap();
        w.commands
            .send(Command::SetHyper {
                name: "reward.gift".into(),
                value: 9.0,
            })
            .unwrap();
        w.commands.send(Command::SaveCheckpoint).unwrap();
        w.commands.send(Command::StepOnce).unwrap();
        let mut events = Vec::new();
        let mut last = recv(&w);
        events.extend(last.events.clone());
        while last.step < 2 {
            last = recv(&w);
            events.extend(last.events.clone());
        }
        assert_eq!(last.reward.gift, 9.0);
        let exploration = last
            .hypers
            .iter()
            .find(|h| h.name == "exploration")
            .unwrap();
        assert_eq!(exploration.value, 2.0);
        assert!(
            events
                .iter()
                .any(|e| e.kind == EventKind::Tuning && e.text.contains("exploration"))
        );
        assert!(events.iter().any(|e| e.text.contains("no checkpoint")));
        w.stop().unwrap();
    }

    #[test]
    fn running_worker_sends_windows_and_stops() {
        let w = LiveWorker::spawn(plan(false), factory());
        let mut rows = 0;
        let deadline = Instant::now() + Duration::from_secs(20);
        while rows < 2 && Instant::now() < deadline {
            rows += recv(&w).rows.len();
        }
        assert!(rows >= 2, "windows arrive while running");
        w.commands.send(Command::Pause).unwrap();
        w.stop().unwrap();
    }

    #[test]
    fn a_panicking_policy_is_reported_by_join() {
        struct Boom;
        impl Policy for Boom {
            fn name(&self) -> &str {
                "boom"
            }
            fn rank(
                &mut self,
                _: &crate::sim::Observation<'_>,
                _: Option<&crate::sim::OracleView<'_>>,
                _: &crate::agent::SlateSpec,
                _: &mut Vec<u32>,
            ) {
                panic!("boom at act")
            }
        }
        let f: PolicyFactory =
            Arc::new(|_: &str, _: &Scenario, _: u64| Ok(Box::new(Boom) as Box<dyn Policy>));
        let w = LiveWorker::spawn(plan(false), f);
        // The channel disconnects when the thread dies.
        while w.snapshots.recv_timeout(Duration::from_secs(10)).is_ok() {}
        assert!(w.join().unwrap_err().contains("boom at act"));
    }
}
