//! Checks of the command line made before any work starts: numbers within bounds (naming the
//! flag), and output paths that can be written (the directory exists and takes a file), so a
//! typo never costs a finished run.

use std::path::Path;

use super::CliError;

/// Most steps one run may train or evaluate (about 1.5 hours of the random policy, weeks of
/// the learner: anything larger is a typo).
pub const MAX_STEPS: u64 = 10_000_000_000;
/// Most seeds per scenario and policy in `liveq bench`.
pub const MAX_SEEDS: u64 = 1_000;
/// Most runs at the same time in `liveq bench`.
pub const MAX_THREADS: usize = 1_024;

/// `value` of `flag` in `lo..=hi`.
pub fn bounded<T: PartialOrd + std::fmt::Display>(
    flag: &str,
    value: T,
    lo: T,
    hi: T,
) -> Result<(), CliError> {
    if value < lo || value > hi {
        return Err(CliError::Input(format!(
            "{flag} {value}: must be between {lo} and {hi}"
        )));
    }
    Ok(())
}

/// The folder a file at `path` lands in.
fn folder(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// `dir` exists, is a folder, and a file can be created in it.
fn writable_folder(flag: &str, path: &Path, dir: &Path) -> Result<(), CliError> {
    let fail = |why: String| {
        CliError::Input(format!(
            "{flag} {}: {why} (checked before starting, so no work is lost)",
            path.display()
        ))
    };
    match std::fs::metadata(dir) {
        Err(_) => Err(fail(format!("the folder {} does not exist", dir.display()))),
        Ok(m) if !m.is_dir() => Err(fail(format!("{} is not a folder", dir.display()))),
        Ok(_) => tempfile::NamedTempFile::new_in(dir)
            .map(drop)
            .map_err(|e| fail(format!("cannot write in {}: {e}", dir.display()))),
    }
}

/// An output file of `flag` (`-` is stdout): its folder exists and is writable, and the path
/// is not a folder.
pub fn output_file(flag: &str, path: &str) -> Result<(), CliError> {
    if path == "-" {
        return Ok(());
    }
    let p = Path::new(path);
    if p.is_dir() {
        return Err(CliError::Input(format!(
            "{flag} {path}: is a folder; give a file name"
        )));
    }
    writable_folder(flag, p, folder(p))
}

/// An output folder of `flag`: it exists and is writable, or it can be created (it is, now).
pub fn output_folder(flag: &str, dir: &Path) -> Result<(), CliError> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::Input(format!("{flag} {}: cannot create it: {e}", dir.display()))
        })?;
    }
    writable_folder(flag, dir, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_are_checked_before_work() {
        let d = tempfile::tempdir().unwrap();
        let ok = d.path().join("out.json");
        assert!(output_file("--json", ok.to_str().unwrap()).is_ok());
        assert!(output_file("--json", "-").is_ok());
        let typo = d.path().join("no-such-folder").join("out.json");
        let e = output_file("--json", typo.to_str().unwrap()).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert_eq!(e.exit_code(), 2);
        let e = output_file("--csv", d.path().to_str().unwrap()).unwrap_err();
        assert!(e.to_string().contains("is a folder"), "{e}");
        let plots = d.path().join("plots").join("deep");
        output_folder("--plot", &plots).unwrap();
        assert!(plots.is_dir());
        let file_as_dir = ok.clone();
        std::fs::write(&file_as_dir, "x").unwrap();
        assert!(output_folder("--plot", &file_as_dir).is_err());
    }

    #[test]
    fn numbers_are_bounded_naming_the_flag() {
        let e = bounded("--steps", u64::MAX, 1, MAX_STEPS).unwrap_err();
        assert!(
            e.to_string().starts_with("--steps 18446744073709551615:"),
            "{e}"
        );
        assert!(bounded("--seeds", 3, 1, MAX_SEEDS).is_ok());
    }
}
