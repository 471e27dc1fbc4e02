//! Scenarios: TOML files describing a world, parsed into raw parameters and validated into a
//! [`Scenario`]. Also the bundled scenarios, compiled into the binary so that `liveq` runs
//! anywhere without a file.
//!
//! This module knows nothing of the simulator's internals, the agents or the terminal.

pub mod agent;
pub mod feed;
pub mod locate;
pub mod params;
mod validate;

use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest scenario file read (the bundled ones are a few kilobytes).
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// At most this many problems of one file are reported (with a count of the rest).
pub const MAX_PROBLEMS: usize = 50;

pub use agent::{
    DqnConfig, FeatureFamily, Fusion, LrSchedule, Norm, SlateBuilder, SlateTarget, SlateValue,
};
pub use feed::{FeedParams, MAX_DIVERSITY_WEIGHT, Rerank};
pub use params::*;
pub use validate::{MAX_STREAMERS, MAX_TOPICS, MAX_VIEWERS, Problem};

/// A bundled scenario: its name (the file stem) and its TOML text.
pub struct Bundled {
    pub name: &'static str,
    pub text: &'static str,
}

/// The scenarios shipped in `scenarios/`, compiled in; the first is the built-in default.
pub const BUNDLED: &[Bundled] = &[
    Bundled {
        name: "default",
        text: include_str!("../../scenarios/default.toml"),
    },
    Bundled {
        name: "prime_time",
        text: include_str!("../../scenarios/prime_time.toml"),
    },
    Bundled {
        name: "superstar",
        text: include_str!("../../scenarios/superstar.toml"),
    },
    Bundled {
        name: "clickbait",
        text: include_str!("../../scenarios/clickbait.toml"),
    },
    Bundled {
        name: "niche",
        text: include_str!("../../scenarios/niche.toml"),
    },
    Bundled {
        name: "cold_start",
        text: include_str!("../../scenarios/cold_start.toml"),
    },
    Bundled {
        name: "taste_drift",
        text: include_str!("../../scenarios/taste_drift.toml"),
    },
    Bundled {
        name: "feed",
        text: include_str!("../../scenarios/feed.toml"),
    },
    Bundled {
        name: "social",
        text: include_str!("../../scenarios/social.toml"),
    },
    Bundled {
        name: "multimodal",
        text: include_str!("../../scenarios/multimodal.toml"),
    },
];

/// A validated scenario: every parameter is in range and the sizes are sane.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Where it came from: a file path, or `built-in:NAME`.
    pub origin: String,
    pub params: RawScenario,
}

impl Scenario {
    pub fn name(&self) -> &str {
        &self.params.scenario.name
    }
    pub fn description(&self) -> &str {
        &self.params.scenario.description
    }
    pub fn seed(&self) -> u64 {
        self.params.scenario.seed
    }
    pub fn topics(&self) -> &[String] {
        &self.params.topics.names
    }
    pub fn num_streamers(&self) -> usize {
        self.params.streamers.count
    }
    pub fn num_viewers(&self) -> usize {
        self.params.viewers.count
    }
    /// Steps `liveq bench` trains each policy here unless `--train-steps` says otherwise.
    pub fn bench_train_steps(&self) -> u64 {
        self.params.bench.train_steps
    }

    /// The built-in default scenario (`scenarios/default.toml`, compiled in).
    pub fn builtin_default() -> Scenario {
        match Scenario::bundled("default") {
            Some(Ok(s)) => s,
            _ => unreachable!("the bundled default scenario is valid (tested)"),
        }
    }

    /// A bundled scenario by name, if there is one.
    pub fn bundled(name: &str) -> Option<Result<Scenario, ScenarioError>> {
        BUNDLED
            .iter()
            .find(|b| b.name == name)
            .map(|b| Scenario::parse(b.text, &format!("built-in:{}", b.name)))
    }

    /// Loads a file, or a bundled scenario when `spec` is the name of one and no such file exists.
    pub fn load(spec: &str) -> Result<Scenario, ScenarioError> {
        let path = Path::new(spec);
        if !path.exists()
            && let Some(found) = Scenario::bundled(spec.trim_end_matches(".toml"))
        {
            return found;
        }
        Scenario::load_file(path)
    }

    /// Reads and validates one file: a regular file of at most [`MAX_FILE_BYTES`] (checked
    /// before it is opened, so a device or a named pipe is never read from).
    pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = read_bounded(path)?;
        Scenario::parse(&text, &path.display().to_string())
    }

    /// Parses and validates scenario text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let params: RawScenario = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start);
            let line = offset.map(|o| locate::line_of(text, o));
            ScenarioError::Syntax {
                file: origin.to_string(),
                line,
                key: offset
                    .and_then(|o| locate::key_at(text, o))
                    .or_else(|| line.and_then(|l| locate::key_on_line(text, l))),
                message: plain_words(e.message().trim()),
            }
        })?;
        let problems = validate::check(&params);
        if !problems.is_empty() {
            // Locating a key reads the file: report a bounded number of problems.
            let more = problems.len().saturating_sub(MAX_PROBLEMS);
            let mut located: Vec<Located> = problems
                .into_iter()
                .take(MAX_PROBLEMS)
                .map(|p| {
                    let path: Vec<&str> = p.key.split('.').collect();
                    let line = locate::line_of_key(text, &path)
                        .or_else(|| locate::line_of_key(text, &path[..1]));
                    Located { line, problem: p }
                })
                .collect();
            if more > 0
                && let Some(last) = located.last().cloned()
            {
                located.push(Located {
                    line: last.line,
                    problem: validate::Problem {
                        key: last.problem.key,
                        message: format!("… and {more} more problems"),
                    },
                });
            }
            return Err(ScenarioError::Invalid {
                file: origin.to_string(),
                problems: located,
            });
        }
        Ok(Scenario {
            origin: origin.to_string(),
            params,
        })
    }
}

/// A parser message in the words of a TOML file rather than of Rust types.
fn plain_words(message: &str) -> String {
    let mut m = message.to_string();
    for (rust, toml) in [
        ("expected a sequence", "expected a list, such as [1, 2]"),
        ("invalid type: map", "invalid type: a table"),
        ("invalid type: sequence", "invalid type: a list"),
        ("expected usize", "expected a whole number (0 or more)"),
        ("expected u64", "expected a whole number (0 or more)"),
        ("expected u32", "expected a whole number (0 or more)"),
        ("expected u16", "expected a whole number (0 or more)"),
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
    ] {
        m = m.replace(rust, toml);
    }
    if let Some(i) = m.find("expected struct ") {
        m.truncate(i);
        m.push_str("expected a table (a [section] or { key = value })");
    }
    m
}

/// The text of a scenario file: a regular file of at most [`MAX_FILE_BYTES`], checked before
/// it is opened (a device or a named pipe is never read from).
pub fn read_bounded(path: &Path) -> Result<String, ScenarioError> {
    let io = |source| ScenarioError::Io {
        file: path.to_path_buf(),
        source,
    };
    let refuse = |reason: String| ScenarioError::Unreadable {
        file: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(refuse(if meta.is_dir() {
            "is a directory, not a scenario file".into()
        } else {
            "is not a regular file (a device, a pipe or a socket); a scenario is a TOML file".into()
        }));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(refuse(format!(
            "is {} bytes, more than a scenario file may be ({MAX_FILE_BYTES})",
            meta.len()
        )));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_string(&mut text))
        .map_err(io)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(refuse(format!(
            "grew past {MAX_FILE_BYTES} bytes while being read"
        )));
    }
    Ok(text)
}

/// A problem with the line it is on (None when the key is not written in the file and its
/// default does not fit the rest of the file).
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub line: Option<usize>,
    pub problem: Problem,
}

/// Why a scenario could not be used. Display names the file, the key and the line.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {reason}", file.display())]
    Unreadable { file: PathBuf, reason: String },
    #[error("{file}{}: {}{message}", fmt_line(*line), key.as_ref().map(|k| format!("`{k}`: ")).unwrap_or_default())]
    Syntax {
        file: String,
        line: Option<usize>,
        key: Option<String>,
        message: String,
    },
    #[error("{}", fmt_problems(file, problems))]
    Invalid {
        file: String,
        problems: Vec<Located>,
    },
}

fn fmt_line(line: Option<usize>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

fn fmt_problems(file: &str, problems: &[Located]) -> String {
    problems
        .iter()
        .map(|p| {
            format!(
                "{file}{}: `{}` {}",
                fmt_line(p.line),
                p.problem.key,
                p.problem.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_scenario_is_valid_and_described() {
        for b in BUNDLED {
            let s = Scenario::parse(b.text, b.name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(s.name(), b.name);
            assert!(!s.description().is_empty(), "{} has no description", b.name);
            assert!(
                b.text.starts_with('#'),
                "{} must open with a comment",
                b.name
            );
        }
    }

    #[test]
    fn a_wrong_type_names_key_and_line() {
        let err = Scenario::parse("[viewers]\n\ncount = \"many\"\n", "x.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.toml:3: `viewers.count`"), "{msg}");
    }

    #[test]
    fn an_unknown_key_names_key_and_line() {
        let err = Scenario::parse("[viewers]\ncount = 3\ncuont = 4\n", "x.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.toml:3:"), "{msg}");
        assert!(msg.contains("cuont"), "{msg}");
    }

    #[test]
    fn an_out_of_range_value_names_key_and_line() {
        let err = Scenario::parse("[response]\n\ngift_probability = 2.0\n", "x.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.toml:3: `response.gift_probability` is a probability and must be in [0, 1], got 2"
        );
    }
}
