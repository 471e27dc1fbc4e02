//! Rung stops of successive halving that continues its promoted configurations (`liveq sweep`,
//! `promotion = "continue"`). At each rung's training step the run is judged exactly as a run
//! of that many steps would be at its end — greedy, on the validation world warmed for that
//! many steps, for the plan's evaluation steps — reports the result upwards
//! ([`Update::Rung`]) and waits: `Resume` trains on towards the next rung, `Stop` ends it.
//! The learner goes on from where it paused, with its weights, optimizer, replay and world;
//! only the steps it was still waiting to complete when it left for the rung are not learnt
//! from (as after a validation).

use crossbeam_channel::{Receiver, Sender};

use super::validation::validation_seed;
use super::{Command, Update};
use crate::engine::{self, Engine};
use crate::metrics::Totals;
use crate::scenario::Scenario;

/// What a run reports at a rung: the training step and the evaluation's totals.
#[derive(Debug, Clone, PartialEq)]
pub struct RungPoint {
    pub step: u64,
    pub totals: Totals,
}

/// The rungs of one run and how to judge it there.
pub struct RungStops<'a> {
    scenario: &'a Scenario,
    seed: u64,
    eval_steps: u64,
    /// Training steps of the rungs still ahead, the next one last.
    steps: Vec<u64>,
}

impl<'a> RungStops<'a> {
    /// Stops after each of `steps` (those below `train_steps`; the last rung is the run's
    /// own end and its evaluation).
    pub fn new(
        scenario: &'a Scenario,
        seed: u64,
        eval_steps: u64,
        steps: &[u64],
        train_steps: u64,
    ) -> Self {
        let mut steps: Vec<u64> = steps
            .iter()
            .copied()
            .filter(|&s| s > 0 && s < train_steps)
            .collect();
        steps.sort_unstable();
        steps.dedup();
        steps.reverse(); // popped from the end
        Self {
            scenario,
            seed,
            eval_steps,
            steps,
        }
    }

    /// The training step of the next stop.
    pub fn next(&self) -> Option<u64> {
        self.steps.last().copied()
    }

    /// Judges the training `engine`'s policy after `step` steps, reports it and waits for the
    /// verdict. Returns whether the run should stop (`Stop`, or the front end went away).
    pub fn stop_here(
        &mut self,
        engine: &mut Engine,
        step: u64,
        commands: &Receiver<Command>,
        updates: &Sender<Update>,
    ) -> bool {
        self.steps.pop();
        let policy = engine.lend_policy();
        let mut e = engine::eval_engine_with_viewers(
            self.scenario,
            self.seed,
            policy,
            step,
            validation_seed(self.seed),
        );
        for _ in 0..self.eval_steps {
            if e.step().is_err() {
                break; // a world that empties: what was run counts, as at a run's end
            }
        }
        e.finish();
        let totals = e.metrics().totals(e.world());
        let mut policy = e.into_policy();
        policy.set_mode(crate::agent::Mode::Train);
        engine.return_policy(policy);
        if updates
            .send(Update::Rung(Box::new(RungPoint { step, totals })))
            .is_err()
        {
            return true;
        }
        loop {
            match commands.recv() {
                Ok(Command::Resume) => return false,
                Ok(Command::Stop) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    }
}
