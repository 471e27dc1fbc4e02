//! Runs across machines: a bench split into N shards (`liveq bench --shard I/N`), each running
//! every N-th run of the plan and writing a self-describing part; `liveq merge` checks that the
//! parts belong to one plan (its fingerprint), that every shard is there exactly once, and puts
//! the runs back in plan order, so the merged outputs are those of the unsharded bench. Floats
//! travel as their bits, so no value changes on the way.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{BenchContext, BenchPlan, RunResult};

/// What a part holds runs of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Bench,
}

/// One shard's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub kind: Kind,
    /// 1-based.
    pub shard: usize,
    pub shards: usize,
    /// Of the plan: parts of different plans are refused.
    pub fingerprint: u32,
    /// Runs in the whole plan.
    pub jobs: usize,
    pub context: BenchContext,
    /// (index in the plan, result) of the runs this shard finished.
    pub runs: Vec<(usize, RunResult)>,
    pub incomplete: bool,
}

/// Marks a part file (and its format version).
const MAGIC: &str = "liveq-part-1";

/// The shard of `--shard I/N`, or of the scheduler's environment with `--shard auto`.
pub fn resolve(
    flag: Option<&str>,
    shards: Option<usize>,
) -> Result<Option<(usize, usize)>, String> {
    let env = |name: &str| std::env::var(name).ok();
    resolve_with(flag, shards, env)
}

/// [`resolve`] with the environment given (tests).
pub fn resolve_with(
    flag: Option<&str>,
    shards: Option<usize>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<(usize, usize)>, String> {
    let number = |what: &str, v: &str| -> Result<usize, String> {
        v.trim()
            .parse::<usize>()
            .map_err(|_| format!("--shard: {what} `{v}` is not a whole number"))
    };
    let (i, n) = match flag {
        None => {
            if shards.is_some() {
                return Err("--shards N goes with --shard auto".into());
            }
            return Ok(None);
        }
        Some("auto") => {
            if let (Some(id), Some(count)) =
                (env("SLURM_ARRAY_TASK_ID"), env("SLURM_ARRAY_TASK_COUNT"))
            {
                (
                    number("SLURM_ARRAY_TASK_ID", &id)?,
                    number("SLURM_ARRAY_TASK_COUNT", &count)?,
                )
            } else if let Some(index) = env("JOB_COMPLETION_INDEX") {
                let n = shards.ok_or(
                    "--shard auto with JOB_COMPLETION_INDEX needs --shards N (the Job's \
                     completions)",
                )?;
                (number("JOB_COMPLETION_INDEX", &index)? + 1, n)
            } else {
                return Err("--shard auto: neither SLURM_ARRAY_TASK_ID and \
                            SLURM_ARRAY_TASK_COUNT nor JOB_COMPLETION_INDEX is set"
                    .into());
            }
        }
        Some(spec) => {
            let (i, n) = spec
                .split_once('/')
                .ok_or_else(|| format!("--shard {spec}: expected I/N, e.g. 2/4, or auto"))?;
            (number("I", i)?, number("N", n)?)
        }
    };
    if n == 0 || n > 10_000 || i == 0 || i > n {
        return Err(format!(
            "--shard {i}/{n}: I must be in 1..=N and N in 1..=10000 (shards are 1-based; a \
             Slurm array runs --array=1-N)"
        ));
    }
    Ok(Some((i, n)))
}

/// A fingerprint of what a plan runs: its scenarios (all their parameters), policies, seeds,
/// lengths and the re-ranking sweep.
pub fn fingerprint(plan: &BenchPlan, rerank_sweep: bool) -> u32 {
    let mut text = format!(
        "{:?}|{:?}|{}|{}|{rerank_sweep}",
        plan.policies, plan.train_steps, plan.seeds, plan.eval_steps
    );
    for s in &plan.scenarios {
        text.push_str(&format!("|{}|{:?}", s.name(), s.params));
    }
    crc32fast::hash(text.as_bytes())
}

/// Every float as the string `f64:` and its bits (and back): exact through any JSON parser.
fn floats_to_bits(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => {
            Value::String(format!("f64:{:016x}", n.as_f64().unwrap_or(0.0).to_bits()))
        }
        Value::Array(a) => Value::Array(a.into_iter().map(floats_to_bits).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, floats_to_bits(v))).collect())
        }
        other => other,
    }
}

fn bits_to_floats(v: Value) -> Value {
    match v {
        Value::String(s) if s.starts_with("f64:") => u64::from_str_radix(&s[4..], 16)
            .ok()
            .and_then(|b| serde_json::Number::from_f64(f64::from_bits(b)))
            .map_or(Value::Null, Value::Number),
        Value::Array(a) => Value::Array(a.into_iter().map(bits_to_floats).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, bits_to_floats(v))).collect())
        }
        other => other,
    }
}

impl Part {
    /// The part as a JSON document.
    pub fn to_json(&self) -> String {
        let mut v = serde_json::json!({ "format": MAGIC });
        let body = serde_json::to_value(self).expect("plain data serialises");
        v["part"] = floats_to_bits(body);
        let mut text = serde_json::to_string(&v).expect("plain data serialises");
        text.push('\n');
        text
    }

    /// Reads a part written by [`Part::to_json`]; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Part, String> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| format!("{origin}: not a part ({e})"))?;
        if v["format"] != MAGIC {
            return Err(format!(
                "{origin}: not a liveq part (written by `liveq bench --shard I/N --json`)"
            ));
        }
        serde_json::from_value(bits_to_floats(v["part"].clone()))
            .map_err(|e| format!("{origin}: a damaged part ({e})"))
    }
}

/// The runs of all `parts` in plan order, with the context and whether any part was
/// incomplete; refuses parts of different plans, a missing or repeated shard, and runs that do
/// not add up to the plan.
pub fn merge(
    parts: Vec<(String, Part)>,
) -> Result<(BenchContext, Vec<RunResult>, bool, usize), String> {
    let Some((first_name, first)) = parts.first() else {
        return Err("no part to merge".into());
    };
    let (n, fingerprint, jobs) = (first.shards, first.fingerprint, first.jobs);
    let mut seen = vec![None::<&str>; n];
    for (name, p) in &parts {
        if p.kind != first.kind || p.fingerprint != fingerprint || p.jobs != jobs || p.shards != n {
            return Err(format!(
                "{name} belongs to another plan than {first_name} (other scenarios, policies, \
                 seeds, lengths or number of shards)"
            ));
        }
        if p.context != first.context {
            return Err(format!(
                "{name} and {first_name} describe their plan differently"
            ));
        }
        match seen[p.shard - 1] {
            Some(other) => {
                return Err(format!(
                    "shard {}/{n} is given twice: {other} and {name}",
                    p.shard
                ));
            }
            None => seen[p.shard - 1] = Some(name.as_str()),
        }
    }
    let missing: Vec<String> = (1..=n)
        .filter(|i| seen[i - 1].is_none())
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing shards: {}", missing.join(", ")));
    }
    let mut runs: Vec<Option<RunResult>> = vec![None; jobs];
    let mut incomplete = false;
    let context = first.context.clone();
    for (name, p) in parts {
        incomplete |= p.incomplete;
        for (j, run) in p.runs {
            if j >= jobs || j % n != p.shard - 1 || runs[j].is_some() {
                return Err(format!(
                    "{name}: run {j} does not belong to shard {}/{n}",
                    p.shard
                ));
            }
            runs[j] = Some(run);
        }
    }
    let done = runs.iter().filter(|r| r.is_some()).count();
    if done < jobs && !incomplete {
        return Err(format!("the parts hold {done} of the plan's {jobs} runs"));
    }
    Ok((
        context,
        runs.into_iter().flatten().collect(),
        incomplete,
        jobs,
    ))
}
