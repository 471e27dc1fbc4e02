//! `liveq merge PARTS...`: the outputs of a sharded bench (table, JSON, images) from the parts
//! its shards wrote, exactly as the unsharded bench writes them.

use super::bench::{Outputs, write_outputs};
use super::{CliError, MergeArgs, guard};
use crate::bench::shard::{self, Part};

pub fn execute(args: &MergeArgs) -> Result<(), CliError> {
    for (flag, path) in [("--json", &args.json), ("--markdown", &args.markdown)] {
        if let Some(p) = path {
            guard::output_file(flag, p)?;
        }
    }
    if let Some(dir) = &args.plot {
        guard::output_folder("--plot", dir)?;
    }
    let mut parts = Vec::new();
    for path in &args.parts {
        let name = path.display().to_string();
        let text = read_part(path).map_err(CliError::Input)?;
        parts.push((
            name.clone(),
            Part::from_json(&text, &name).map_err(CliError::Input)?,
        ));
    }
    let (context, runs, incomplete, total) = shard::merge(parts).map_err(CliError::Input)?;
    let outputs = Outputs {
        json: args.json.clone(),
        markdown: args.markdown.clone(),
        plot: args.plot.clone(),
        quiet: args.quiet,
    };
    write_outputs(&outputs, &context, &runs, incomplete, total)
}

/// Largest part read.
const PART_MAX_BYTES: u64 = 1 << 30;

/// A part's text: a regular file of at most [`PART_MAX_BYTES`].
fn read_part(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let name = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
    if !meta.is_file() || meta.len() > PART_MAX_BYTES {
        return Err(format!(
            "{name}: not a part (not a regular file of at most {PART_MAX_BYTES} bytes)"
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(PART_MAX_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(text)
}
