//! `liveq merge PARTS...`: the outputs of a sharded bench (table, JSON, images) from the parts
//! its shards wrote, exactly as the unsharded bench writes them.

use super::bench::{Outputs, write_outputs};
use super::{CliError, MergeArgs, guard};
use crate::bench::shard::{self, Part};

pub fn execute(args: &MergeArgs) -> Result<(), CliError> {
    let first = read_part(&args.parts[0]).map_err(CliError::Input)?;
    if crate::sweep::journal::is_part(&first) {
        return merge_journals(args);
    }
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

/// The journals of a sharded sweep joined into one (`--journal`).
fn merge_journals(args: &MergeArgs) -> Result<(), CliError> {
    let Some(out) = &args.journal else {
        return Err(CliError::Input(
            "these are the journals of a sharded sweep: --journal PATH says where the joined \
             journal goes (then `liveq sweep SPEC --journal PATH` writes the outputs)"
                .into(),
        ));
    };
    if args.json.is_some() || args.markdown.is_some() || args.plot.is_some() {
        return Err(CliError::Input(
            "a sweep's journals merge into --journal; its outputs come from `liveq sweep SPEC \
             --journal PATH`"
                .into(),
        ));
    }
    guard::output_file("--journal", &out.to_string_lossy())?;
    let mut parts = Vec::new();
    for path in &args.parts {
        let text = read_part(path).map_err(CliError::Input)?;
        parts.push((path.display().to_string(), text));
    }
    let joined = crate::sweep::journal::merge(&parts).map_err(CliError::Input)?;
    std::fs::write(out, joined).map_err(|e| CliError::Run(format!("{}: {e}", out.display())))?;
    if !args.quiet {
        eprintln!("joined {} journals into {}", parts.len(), out.display());
    }
    Ok(())
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
