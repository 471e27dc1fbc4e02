//! Scenario files: the bundled ones and the valid fixtures load; every invalid fixture is refused
//! with a message naming the file, the key and the line it is about.

use std::path::Path;

use liveq::scenario::{BUNDLED, Scenario};

fn toml_files(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

#[test]
fn bundled_scenarios_ship_as_files_and_load() {
    for b in BUNDLED {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{}.toml", b.name));
        let s = Scenario::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.name(), b.name);
    }
    for required in ["default", "clickbait", "prime_time", "superstar"] {
        assert!(
            BUNDLED.iter().any(|b| b.name == required),
            "{required} is not bundled"
        );
    }
}

#[test]
fn valid_fixtures_load() {
    for f in toml_files("tests/fixtures/valid") {
        Scenario::load_file(&f).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn invalid_fixtures_name_file_key_and_line() {
    for f in toml_files("tests/fixtures/invalid") {
        let text = std::fs::read_to_string(&f).unwrap();
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} lacks an `# expect:` line", f.display()));
        let err = Scenario::load_file(&f).expect_err(&format!("{} should be refused", f.display()));
        let msg = err.to_string();
        let file = f.display().to_string();
        assert!(
            msg.starts_with(&format!("{file}:")),
            "no file and line in: {msg}"
        );
        let line: usize = msg[file.len() + 1..]
            .split(':')
            .next()
            .and_then(|l| l.parse().ok())
            .unwrap_or_else(|| panic!("no line number in: {msg}"));
        if let Some(want) = expect.strip_prefix("line ") {
            assert_eq!(line.to_string(), want, "{msg}");
        } else {
            assert!(
                msg.contains(&format!("`{expect}`")),
                "{msg} does not name `{expect}`"
            );
            let key = expect.rsplit('.').next().unwrap();
            let on_line = text.lines().nth(line - 1).unwrap_or_default();
            assert!(
                on_line.contains(key),
                "line {line} of {file} is `{on_line}`, which does not hold `{key}`"
            );
        }
    }
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let err = Scenario::load("no/such/file.toml").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no/such/file.toml: cannot read"),
        "{err}"
    );
}

#[test]
fn bundled_scenarios_load_by_name() {
    let s = Scenario::load("clickbait").unwrap();
    assert_eq!(s.name(), "clickbait");
    assert_eq!(s.origin, "built-in:clickbait");
}
