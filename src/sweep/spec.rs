//! A sweep specification (`liveq sweep SPEC.toml`): the base scenario, how trials are run and
//! judged (`[sweep]`), and the search space (`[space]`: scenario keys with a list of values, or
//! a range to sample). Errors name the spec file, the key and the line.

use std::collections::BTreeMap;
use std::path::Path;

use rand::RngExt;
use serde::Deserialize;

use crate::scenario::{self, BUNDLED, Scenario, locate};

/// What a trial is judged by, on the validation world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    RewardPerStep,
    RewardPerSession,
    /// Reward per step on recommendations of streamers that joined less than a day ago.
    NewcomerRewardPerStep,
    /// Reward per step in viewers' first sessions.
    FirstSessionRewardPerStep,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Grid => "grid",
            Method::Random => "random",
            Method::Asha => "asha",
        }
    }
}

impl Objective {
    pub fn name(self) -> &'static str {
        match self {
            Objective::RewardPerStep => "reward_per_step",
            Objective::RewardPerSession => "reward_per_session",
            Objective::NewcomerRewardPerStep => "newcomer_reward_per_step",
            Objective::FirstSessionRewardPerStep => "first_session_reward_per_step",
        }
    }
}

/// How configurations are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Every combination of the listed values.
    Grid,
    /// `trials` configurations sampled from the space.
    Random,
    /// Successive halving over rungs of training steps (`min_steps` × `reduction`^k up to
    /// `train_steps`): every configuration trains `min_steps`, the best 1/`reduction` go on.
    Asha,
}

/// What successive halving does with the configurations it promotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Promotion {
    /// Retrain them from the start for the longer rung: every run is a plain run of its rung's
    /// length, and nothing is held in memory between rungs.
    #[default]
    Restart,
    /// Let them go on from where the rung paused them (weights, optimizer, replay, world): a
    /// promoted run trains only the rung's extra steps. The runs of a rung wait in memory
    /// while it is judged.
    Continue,
}

/// The `[sweep]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSection {
    /// Base scenario: a file (relative to the spec's folder) or a bundled name.
    #[serde(default = "default_scenario")]
    pub scenario: String,
    #[serde(default = "default_policy")]
    pub policy: String,
    #[serde(default = "default_objective")]
    pub objective: Objective,
    #[serde(default = "default_method")]
    pub method: Method,
    /// Configurations sampled by `random` and `asha` (with lists only, `asha` may also take
    /// the whole grid: 0).
    #[serde(default)]
    pub trials: usize,
    /// Seeds per configuration: the scenario's seed, +1, …
    #[serde(default = "default_seeds")]
    pub seeds: u64,
    /// Training steps of a full trial.
    pub train_steps: u64,
    /// Greedy steps on the validation world that judge a trial.
    #[serde(default = "default_validate_steps")]
    pub validate_steps: u64,
    /// Seed of the sampling of configurations.
    #[serde(default = "default_sample_seed")]
    pub sample_seed: u64,
    /// `asha`: steps of the first rung.
    #[serde(default)]
    pub min_steps: u64,
    /// `asha`: each rung keeps 1/reduction of the configurations and trains reduction× longer.
    #[serde(default = "default_reduction")]
    pub reduction: u64,
    /// `asha`: whether promoted configurations restart or continue.
    #[serde(default)]
    pub promotion: Promotion,
}

fn default_scenario() -> String {
    "default".into()
}
fn default_policy() -> String {
    "dqn".into()
}
fn default_objective() -> Objective {
    Objective::RewardPerStep
}
fn default_method() -> Method {
    Method::Grid
}
fn default_seeds() -> u64 {
    2
}
fn default_validate_steps() -> u64 {
    20_000
}
fn default_sample_seed() -> u64 {
    1
}
fn default_reduction() -> u64 {
    3
}

/// Where a parameter's values come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    /// These values (the grid's axis; a random choice otherwise).
    Values(Vec<toml::Value>),
    /// Uniform in [lo, hi].
    Uniform(f64, f64),
    /// Log-uniform in [lo, hi] (0 < lo).
    LogUniform(f64, f64),
    /// A whole number in [lo, hi].
    Int(i64, i64),
}

/// One searched scenario key, e.g. `agent.lr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub key: String,
    pub domain: Domain,
}

/// One configuration: a value per searched key.
pub type Config = BTreeMap<String, toml::Value>;

/// A parsed, checked sweep specification.
#[derive(Debug, Clone)]
pub struct SweepSpec {
    pub origin: String,
    pub sweep: SweepSection,
    pub params: Vec<Param>,
    /// The base scenario's text (its keys are overridden per trial).
    pub base_text: String,
    pub base_origin: String,
    /// A fingerprint of the spec and the base scenario (journals written for another spec
    /// are refused).
    pub fingerprint: u32,
}

/// Most configurations a sweep may hold.
pub const MAX_CONFIGS: usize = 10_000;

/// A spec error naming the file, the line and the key.
fn bad(origin: &str, text: &str, key: &str, why: impl std::fmt::Display) -> String {
    let path: Vec<&str> = key.split('.').collect();
    let line = locate::line_of_key(text, &path)
        .or_else(|| locate::line_of_key(text, &path[..1]))
        .map(|l| format!(":{l}"))
        .unwrap_or_default();
    format!("{origin}{line}: `{key}`: {why}")
}

impl SweepSpec {
    /// Reads and checks a spec file (a regular file of bounded size).
    pub fn load(path: &Path) -> Result<SweepSpec, String> {
        let text = scenario::read_bounded(path).map_err(|e| e.to_string())?;
        let dir = path.parent().unwrap_or(Path::new("."));
        SweepSpec::parse(&text, &path.display().to_string(), dir)
    }

    /// Parses and checks spec text; `dir` is where a relative scenario path starts.
    pub fn parse(text: &str, origin: &str, dir: &Path) -> Result<SweepSpec, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            sweep: SweepSection,
            #[serde(default)]
            space: toml::Table,
        }
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start);
            let line = offset.map(|o| format!(":{}", locate::line_of(text, o)));
            let key = offset
                .and_then(|o| locate::key_at(text, o))
                .map(|k| format!("`{k}`: "))
                .unwrap_or_default();
            format!(
                "{origin}{}: {key}{}",
                line.unwrap_or_default(),
                e.message().trim()
            )
        })?;
        let s = raw.sweep;
        let check = |ok: bool, key: &str, why: String| -> Result<(), String> {
            if ok {
                Ok(())
            } else {
                Err(bad(origin, text, key, why))
            }
        };
        check(
            (1..=crate::cli::guard::MAX_STEPS).contains(&s.train_steps),
            "sweep.train_steps",
            format!("must be at least 1 (got {})", s.train_steps),
        )?;
        check(
            (1..=crate::cli::guard::MAX_STEPS).contains(&s.validate_steps),
            "sweep.validate_steps",
            format!("must be at least 1 (got {})", s.validate_steps),
        )?;
        check(
            (1..=crate::cli::guard::MAX_SEEDS).contains(&s.seeds),
            "sweep.seeds",
            format!("must be in 1..=1000 (got {})", s.seeds),
        )?;
        check(
            s.trials <= MAX_CONFIGS,
            "sweep.trials",
            format!("at most {MAX_CONFIGS} (got {})", s.trials),
        )?;
        check(
            crate::agent::POLICIES.iter().any(|(n, _)| *n == s.policy),
            "sweep.policy",
            format!("unknown policy `{}`", s.policy),
        )?;
        if s.method == Method::Random {
            check(
                s.trials > 0,
                "sweep.trials",
                "`random` needs the number of configurations to sample".into(),
            )?;
        }
        check(
            s.method == Method::Asha || s.promotion == Promotion::Restart,
            "sweep.promotion",
            "only `asha` promotes configurations".into(),
        )?;
        if s.method == Method::Asha {
            check(
                s.reduction >= 2 && s.reduction <= 100,
                "sweep.reduction",
                format!("must be in 2..=100 (got {})", s.reduction),
            )?;
            check(
                s.min_steps >= 1 && s.min_steps < s.train_steps,
                "sweep.min_steps",
                format!(
                    "`asha` needs a first rung shorter than train_steps = {} (got {})",
                    s.train_steps, s.min_steps
                ),
            )?;
        }
        let mut params = Vec::new();
        collect_params(&raw.space, "", origin, text, &mut params)?;
        if params.is_empty() {
            return Err(format!(
                "{origin}: `space`: no parameter to search (add e.g. `[space.agent]` with \
                 `lr = [3e-5, 1e-4]`)"
            ));
        }
        let ranged = params
            .iter()
            .find(|p| !matches!(p.domain, Domain::Values(_)));
        if let (Method::Grid, Some(p)) = (s.method, ranged) {
            return Err(bad(
                origin,
                text,
                &format!("space.{}", p.key),
                "a grid needs a list of values (a range is sampled: use method = \"random\" or \
                 \"asha\")",
            ));
        }
        if s.method == Method::Asha && s.trials == 0 && ranged.is_some() {
            return Err(bad(
                origin,
                text,
                "sweep.trials",
                "`asha` over ranges needs the number of configurations to sample",
            ));
        }
        let grid: usize = params
            .iter()
            .map(|p| match &p.domain {
                Domain::Values(v) => v.len(),
                _ => 1,
            })
            .try_fold(1usize, |a, n| a.checked_mul(n))
            .unwrap_or(usize::MAX);
        if s.method == Method::Grid || (s.method == Method::Asha && s.trials == 0) {
            check(
                grid <= MAX_CONFIGS,
                "space",
                format!("the grid has {grid} configurations, more than {MAX_CONFIGS}"),
            )?;
        }
        let (base_text, base_origin) =
            base_scenario(&s.scenario, dir).map_err(|e| bad(origin, text, "sweep.scenario", e))?;
        if s.policy == "dqn" {
            let base = Scenario::parse(&base_text, &base_origin).map_err(|e| e.to_string())?;
            let a = &base.params.agent;
            let first = a
                .learning_starts
                .max(a.batch_size.min(a.buffer_capacity))
                .max(a.train_freq) as u64;
            let (key, shortest) = if s.method == Method::Asha {
                ("sweep.min_steps", s.min_steps)
            } else {
                ("sweep.train_steps", s.train_steps)
            };
            check(
                shortest >= first,
                key,
                format!(
                    "{shortest} steps: the learner would never train (the base scenario's \
                     learning_starts = {}, batch_size = {}, train_freq = {}); at least {first}",
                    a.learning_starts, a.batch_size, a.train_freq
                ),
            )?;
        }
        let spec = SweepSpec {
            origin: origin.to_string(),
            fingerprint: crc32fast::hash(format!("{text}\n{base_text}").as_bytes()),
            sweep: s,
            params,
            base_text,
            base_origin,
        };
        // Every value of a list, and both ends of a range, must make a valid scenario.
        for p in &spec.params {
            let probes: Vec<toml::Value> = match &p.domain {
                Domain::Values(v) => v.clone(),
                Domain::Uniform(a, b) | Domain::LogUniform(a, b) => {
                    vec![toml::Value::Float(*a), toml::Value::Float(*b)]
                }
                Domain::Int(a, b) => vec![toml::Value::Integer(*a), toml::Value::Integer(*b)],
            };
            for v in probes {
                let mut c = Config::new();
                c.insert(p.key.clone(), v.clone());
                spec.scenario(&c).map_err(|e| {
                    bad(
                        origin,
                        text,
                        &format!("space.{}", p.key),
                        format!("the value {v} does not make a valid scenario: {e}"),
                    )
                })?;
            }
        }
        Ok(spec)
    }

    /// The base scenario with `config`'s keys set. An error names the keys at fault (the
    /// lines of the regenerated text would mean nothing to the user).
    pub fn scenario(&self, config: &Config) -> Result<Scenario, String> {
        let text = self.scenario_text(config)?;
        Scenario::parse(&text, &self.base_origin).map_err(|e| match e {
            scenario::ScenarioError::Invalid { problems, .. } => problems
                .iter()
                .map(|p| format!("`{}` {}", p.problem.key, p.problem.message))
                .collect::<Vec<_>>()
                .join("; "),
            scenario::ScenarioError::Syntax { key, message, .. } => match key {
                Some(k) => format!("`{k}`: {message}"),
                None => message,
            },
            other => other.to_string(),
        })
    }

    /// The base scenario's TOML with `config`'s keys set.
    pub fn scenario_text(&self, config: &Config) -> Result<String, String> {
        let mut table: toml::Table = toml::from_str(&self.base_text).map_err(|e| e.to_string())?;
        for (key, value) in config {
            let mut parts: Vec<&str> = key.split('.').collect();
            let last = parts.pop().expect("a key has a name");
            let mut t = &mut table;
            for part in parts {
                t = t
                    .entry(part)
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                    .as_table_mut()
                    .ok_or_else(|| format!("`{part}` of `{key}` is not a section"))?;
            }
            t.insert(last.to_string(), value.clone());
        }
        toml::to_string(&table).map_err(|e| e.to_string())
    }

    /// The configurations to try first: the whole grid (`grid`, and `asha` with lists and
    /// `trials = 0`), or `trials` samples.
    pub fn configs(&self) -> Vec<Config> {
        let s = &self.sweep;
        if s.method == Method::Grid || (s.method == Method::Asha && s.trials == 0) {
            let mut out = vec![Config::new()];
            for p in &self.params {
                let Domain::Values(values) = &p.domain else {
                    unreachable!("checked: a grid has lists only")
                };
                out = out
                    .into_iter()
                    .flat_map(|c| {
                        values.iter().map(move |v| {
                            let mut c = c.clone();
                            c.insert(p.key.clone(), v.clone());
                            c
                        })
                    })
                    .collect();
            }
            return out;
        }
        let mut rng = crate::sim::random::stream(s.sample_seed, 0x5EE9);
        (0..s.trials)
            .map(|_| {
                self.params
                    .iter()
                    .map(|p| (p.key.clone(), sample(&p.domain, &mut rng)))
                    .collect()
            })
            .collect()
    }
}

fn sample(d: &Domain, rng: &mut crate::sim::random::Rng) -> toml::Value {
    match d {
        Domain::Values(v) => v[rng.random_range(0..v.len())].clone(),
        Domain::Uniform(a, b) => toml::Value::Float(a + (b - a) * rng.random::<f64>()),
        Domain::LogUniform(a, b) => {
            toml::Value::Float((a.ln() + (b.ln() - a.ln()) * rng.random::<f64>()).exp())
        }
        Domain::Int(a, b) => toml::Value::Integer(rng.random_range(*a..=*b)),
    }
}

/// The text and origin of the base scenario: a file (relative to `dir`) or a bundled name.
fn base_scenario(spec: &str, dir: &Path) -> Result<(String, String), String> {
    let path = dir.join(spec);
    if !path.exists()
        && let Some(b) = BUNDLED
            .iter()
            .find(|b| b.name == spec.trim_end_matches(".toml"))
    {
        return Ok((b.text.to_string(), format!("built-in:{}", b.name)));
    }
    let text = scenario::read_bounded(&path).map_err(|e| e.to_string())?;
    Scenario::parse(&text, &path.display().to_string()).map_err(|e| e.to_string())?;
    Ok((text, path.display().to_string()))
}

/// The leaves of `[space]`: a list of values, or a one-key table naming a range.
fn collect_params(
    t: &toml::Table,
    prefix: &str,
    origin: &str,
    text: &str,
    out: &mut Vec<Param>,
) -> Result<(), String> {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let err = |why: &str| bad(origin, text, &format!("space.{key}"), why);
        match v {
            toml::Value::Array(values) => {
                if values.is_empty() {
                    return Err(err("an empty list of values"));
                }
                out.push(Param {
                    key,
                    domain: Domain::Values(values.clone()),
                });
            }
            toml::Value::Table(inner) => {
                let range = |name: &str| inner.get(name).and_then(|r| r.as_array());
                let pair = |r: &Vec<toml::Value>| -> Option<(f64, f64)> {
                    let f = |x: &toml::Value| x.as_float().or(x.as_integer().map(|i| i as f64));
                    match r.as_slice() {
                        [a, b] => Some((f(a)?, f(b)?)),
                        _ => None,
                    }
                };
                let one = inner.len() == 1;
                if let (true, Some(r)) = (one, range("uniform")) {
                    let (a, b) = pair(r).ok_or_else(|| err("uniform = [low, high]"))?;
                    if !(a.is_finite() && b.is_finite() && a < b) {
                        return Err(err("uniform = [low, high] with low < high"));
                    }
                    out.push(Param {
                        key,
                        domain: Domain::Uniform(a, b),
                    });
                } else if let (true, Some(r)) = (one, range("log_uniform")) {
                    let (a, b) = pair(r).ok_or_else(|| err("log_uniform = [low, high]"))?;
                    if !(a > 0.0 && b.is_finite() && a < b) {
                        return Err(err("log_uniform = [low, high] with 0 < low < high"));
                    }
                    out.push(Param {
                        key,
                        domain: Domain::LogUniform(a, b),
                    });
                } else if let (true, Some(r)) = (one, range("int")) {
                    let ints: Option<Vec<i64>> = r.iter().map(|x| x.as_integer()).collect();
                    match ints.as_deref() {
                        Some([a, b]) if a <= b => out.push(Param {
                            key,
                            domain: Domain::Int(*a, *b),
                        }),
                        _ => return Err(err("int = [low, high], whole numbers, low ≤ high")),
                    }
                } else if inner
                    .keys()
                    .any(|k| ["uniform", "log_uniform", "int"].contains(&k.as_str()))
                {
                    return Err(err(
                        "a range is a table of one key: uniform, log_uniform or int",
                    ));
                } else {
                    collect_params(inner, &key, origin, text, out)?;
                }
            }
            other => {
                return Err(err(&format!(
                    "expected a list of values or a range table, got {}",
                    other.type_str()
                )));
            }
        }
    }
    Ok(())
}
