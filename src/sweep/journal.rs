//! The sweep's journal: one JSON line per finished run (configuration, seed, training steps,
//! objective), appended and flushed as each run ends, so a killed sweep resumes without redoing
//! them. A journal written for another spec or base scenario (another fingerprint) is refused;
//! a last line cut short by a kill is ignored. The journal of one shard of a sharded sweep
//! (`liveq sweep SPEC --shard I/N`) opens with a [`PartHeader`] line; `liveq merge` joins the
//! shards' journals into one ([`merge`]), from which `liveq sweep` writes the outputs.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::spec::Config;

/// One finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The spec's fingerprint ([`super::spec::SweepSpec::fingerprint`]).
    pub fingerprint: u32,
    pub config: Config,
    pub seed: u64,
    pub steps: u64,
    pub objective: f64,
    /// The objective's bits: a resumed sweep reads back exactly the value it wrote.
    pub objective_bits: u64,
}

/// The first line of a shard's journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartHeader {
    /// 1-based.
    pub shard: usize,
    pub shards: usize,
    pub fingerprint: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderLine {
    sweep_shard: PartHeader,
}

/// Whether `text` is a shard's journal (its first line a [`PartHeader`]).
pub fn is_part(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| serde_json::from_str::<HeaderLine>(l).is_ok())
}

/// Joins the journals of every shard of one sweep (`(name, text)` each) into one journal's
/// text; refuses journals of different sweeps, a shard given twice and a missing shard.
pub fn merge(parts: &[(String, String)]) -> Result<String, String> {
    let mut header: Option<(String, PartHeader)> = None;
    let mut seen: Vec<Option<String>> = Vec::new();
    let mut out = String::new();
    for (name, text) in parts {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let h = lines
            .next()
            .and_then(|l| serde_json::from_str::<HeaderLine>(l).ok())
            .ok_or_else(|| format!("{name}: not the journal of a sweep's shard"))?
            .sweep_shard;
        match &header {
            None => {
                seen = vec![None; h.shards];
                header = Some((name.clone(), h));
            }
            Some((first, f)) if f.fingerprint != h.fingerprint || f.shards != h.shards => {
                return Err(format!(
                    "{name} belongs to another sweep than {first} (another spec, base scenario \
                     or number of shards)"
                ));
            }
            Some(_) => {}
        }
        if h.shard == 0 || h.shard > seen.len() {
            return Err(format!(
                "{name}: shard {}/{} is out of range",
                h.shard, h.shards
            ));
        }
        if let Some(other) = &seen[h.shard - 1] {
            return Err(format!(
                "shard {}/{} is given twice: {other} and {name}",
                h.shard, h.shards
            ));
        }
        seen[h.shard - 1] = Some(name.clone());
        for (n, line) in lines.enumerate() {
            match serde_json::from_str::<Entry>(line) {
                Ok(e) if e.fingerprint == h.fingerprint => {
                    out.push_str(line);
                    out.push('\n');
                }
                Ok(_) => return Err(format!("{name}: line {} is of another sweep", n + 2)),
                // A shard killed mid-write: its last line may be cut short.
                Err(_) if text.trim_end().ends_with(line) => {}
                Err(e) => return Err(format!("{name}:{}: not a journal line ({e})", n + 2)),
            }
        }
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{}/{}", i + 1, seen.len()))
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing shards: {}", missing.join(", ")));
    }
    Ok(out)
}

/// Largest journal read (a bound on memory for a file that is not one).
const MAX_BYTES: u64 = 256 << 20;

/// The journal file and the runs it holds.
pub struct Journal {
    path: PathBuf,
    done: HashMap<(String, u64, u64), f64>,
    file: Mutex<Option<std::fs::File>>,
}

fn key(config: &Config, seed: u64, steps: u64) -> (String, u64, u64) {
    (
        serde_json::to_string(config).expect("plain data serialises"),
        seed,
        steps,
    )
}

impl Journal {
    /// Opens (or starts) the journal at `path` for a spec with `fingerprint`; a shard's journal
    /// (`part`) starts with its header and must keep it.
    pub fn open(
        path: &Path,
        fingerprint: u32,
        part: Option<PartHeader>,
    ) -> Result<Journal, String> {
        let mut done = HashMap::new();
        if !path.exists()
            && let Some(h) = part
        {
            let mut line =
                serde_json::to_string(&HeaderLine { sweep_shard: h }).expect("plain data");
            line.push('\n');
            std::fs::write(path, line).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        if path.exists() {
            let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
            if !meta.is_file() || meta.len() > MAX_BYTES {
                return Err(format!(
                    "{}: not a sweep journal (not a regular file of at most {MAX_BYTES} bytes)",
                    path.display()
                ));
            }
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let header = lines
                .first()
                .and_then(|l| serde_json::from_str::<HeaderLine>(l).ok())
                .map(|h| h.sweep_shard);
            if let Some(h) = header
                && h.fingerprint != fingerprint
            {
                return Err(format!(
                    "{}: written by another sweep spec or base scenario; remove it, or pass \
                     --journal with another path",
                    path.display()
                ));
            }
            let place = |h: Option<PartHeader>| h.map(|h| (h.shard, h.shards));
            if place(header) != place(part) {
                let what = |h: Option<PartHeader>| match h {
                    Some(h) => format!("shard {}/{}", h.shard, h.shards),
                    None => "the whole sweep".to_string(),
                };
                return Err(format!(
                    "{}: the journal of {}, not of {}; pass --journal with another path",
                    path.display(),
                    what(header),
                    what(part)
                ));
            }
            let skip = usize::from(header.is_some());
            for (n, line) in lines.iter().enumerate().skip(skip) {
                let entry: Entry = match serde_json::from_str(line) {
                    Ok(e) => e,
                    // The last line of a killed sweep may be cut short: drop it from the file,
                    // so that the next line appended starts a line of its own.
                    Err(_) if n + 1 == lines.len() => {
                        let mut kept = lines[..n].join("\n");
                        if n > 0 {
                            kept.push('\n');
                        }
                        std::fs::write(path, kept)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                        break;
                    }
                    Err(e) => {
                        return Err(format!(
                            "{}:{}: not a journal line ({e})",
                            path.display(),
                            n + 1
                        ));
                    }
                };
                if entry.fingerprint != fingerprint {
                    return Err(format!(
                        "{}: written by another sweep spec or base scenario; remove it, or \
                         pass --journal with another path",
                        path.display()
                    ));
                }
                let value = f64::from_bits(entry.objective_bits);
                done.insert(key(&entry.config, entry.seed, entry.steps), value);
            }
        }
        Ok(Journal {
            path: path.to_path_buf(),
            done,
            file: Mutex::new(None),
        })
    }

    /// The objective of a finished run, if the journal holds it.
    pub fn find(&self, config: &Config, seed: u64, steps: u64) -> Option<f64> {
        self.done.get(&key(config, seed, steps)).copied()
    }

    /// Runs the journal held when opened.
    pub fn len(&self) -> usize {
        self.done.len()
    }

    /// Whether it held none.
    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }

    /// Appends a finished run (one line, flushed).
    pub fn append(&self, entry: &Entry) -> Result<(), String> {
        let mut file = self.file.lock().map_err(|_| "journal lock poisoned")?;
        if file.is_none() {
            *file = Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)
                    .map_err(|e| format!("{}: {e}", self.path.display()))?,
            );
        }
        let f = file.as_mut().expect("opened above");
        let mut line = serde_json::to_string(entry).expect("plain data serialises");
        line.push('\n');
        f.write_all(line.as_bytes())
            .and_then(|()| f.flush())
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}
