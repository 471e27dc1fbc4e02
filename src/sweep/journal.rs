//! The sweep's journal: one JSON line per finished run (configuration, seed, training steps,
//! objective), appended and flushed as each run ends, so a killed sweep resumes without redoing
//! them. A journal written for another spec or base scenario (another fingerprint) is refused;
//! a last line cut short by a kill is ignored.

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
    /// Opens (or starts) the journal at `path` for a spec with `fingerprint`.
    pub fn open(path: &Path, fingerprint: u32) -> Result<Journal, String> {
        let mut done = HashMap::new();
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
            for (n, line) in lines.iter().enumerate() {
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
