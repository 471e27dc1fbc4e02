//! Property tests of the inputs users write by hand or scripts produce: seeded random
//! mutations of valid scenario files (truncation, byte flips, type swaps, extreme numbers,
//! duplicated or dropped lines, stray sections, deep nesting) and of valid checkpoints, with
//! and without a replay buffer (truncation, byte flips, rewritten lengths). The parser, the
//! validator and the checkpoint loader must answer every case with a result or an error
//! naming the file — never a panic.
//! A mutated scenario that is still valid must build a world that steps.
//!
//! `LIVEQ_FUZZ_CASES` sets the number of cases (default 3,000 per input kind);
//! `scripts/fuzz.sh SECONDS` runs them for longer with fresh seeds (`LIVEQ_FUZZ_SEED`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use liveq::scenario::{BUNDLED, Scenario};
use liveq::sim::World;

fn cases() -> usize {
    std::env::var("LIVEQ_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000)
}

fn seed() -> u64 {
    std::env::var("LIVEQ_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_201)
}

const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e-320",
    "nan",
    "inf",
    "-inf",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "0.5",
];
const VALUES: &[&str] = &[
    "\"x\"",
    "\"\"",
    "[]",
    "{}",
    "true",
    "[1, \"a\"]",
    "{ a = 1 }",
    "[[1], [2]]",
    "1979-05-27",
    "\"\\u001b[2J\"",
];
const SECTIONS: &[&str] = &[
    "[x]",
    "[[agent]]",
    "[agent.sub]",
    "[scenario]",
    "[[topics.names]]",
];

fn char_floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One random change to `text`.
fn mutate(rng: &mut Xoshiro256PlusPlus, text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let pick = |rng: &mut Xoshiro256PlusPlus| rng.random_range(0..lines.len().max(1));
    match rng.random_range(0..8) {
        0 => text[..char_floor(text, rng.random_range(0..=text.len()))].to_string(),
        1 => {
            let mut b = text.as_bytes().to_vec();
            if !b.is_empty() {
                let i = rng.random_range(0..b.len());
                b[i] ^= 1 << rng.random_range(0..8);
            }
            String::from_utf8_lossy(&b).into_owned()
        }
        k @ (2 | 3) => {
            // Replace the value of a random `key = value` line.
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let assignments: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains('=') && !lines[i].trim_start().starts_with('#'))
                .collect();
            if let Some(&i) = assignments.get(rng.random_range(0..assignments.len().max(1))) {
                let key = lines[i].split('=').next().unwrap_or_default();
                let pool = if k == 2 { EXTREMES } else { VALUES };
                out[i] = format!("{key}= {}", pool[rng.random_range(0..pool.len())]);
            }
            out.join("\n")
        }
        4 => {
            let mut out = lines.clone();
            if !lines.is_empty() {
                let i = pick(rng);
                out.insert(i, lines[i]);
            }
            out.join("\n")
        }
        5 => {
            let mut out = lines.clone();
            if !out.is_empty() {
                out.remove(pick(rng));
            }
            out.join("\n")
        }
        6 => {
            let mut out = lines.clone();
            let i = rng.random_range(0..=lines.len());
            out.insert(i, SECTIONS[rng.random_range(0..SECTIONS.len())]);
            out.join("\n")
        }
        _ => {
            let depth = rng.random_range(1..3_000);
            format!(
                "{text}\n[x]\ny = {}{}\n",
                "[".repeat(depth),
                "]".repeat(depth)
            )
        }
    }
}

#[test]
fn mutated_scenarios_never_panic_the_parser_or_the_world() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed());
    let (mut refused, mut accepted) = (0, 0);
    for case in 0..cases() {
        let base = BUNDLED[case % BUNDLED.len()].text;
        let mut text = base.to_string();
        for _ in 0..rng.random_range(1..4) {
            text = mutate(&mut rng, &text);
        }
        let parsed = catch_unwind(AssertUnwindSafe(|| Scenario::parse(&text, "mutated.toml")));
        let Ok(parsed) = parsed else {
            panic!("case {case}: the parser panicked on:\n{text}");
        };
        match parsed {
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with("mutated.toml"), "case {case}: {msg}");
                assert!(!msg.contains("panicked"), "case {case}: {msg}");
                refused += 1;
            }
            Ok(s) => {
                accepted += 1;
                // Still valid: the world must build and step (a few cases, as this costs more).
                if accepted % 25 == 1 {
                    let stepped = catch_unwind(AssertUnwindSafe(|| {
                        let mut world = World::new(&s, 1);
                        for _ in 0..200 {
                            if world.next_decision().is_none() {
                                break;
                            }
                            let live = world.live().to_vec();
                            let k = s.params.response.slate_size.min(live.len());
                            world.respond_slate(&live[..k]).expect("a live slate");
                        }
                    }));
                    assert!(
                        stepped.is_ok(),
                        "case {case}: the world panicked on:\n{text}"
                    );
                }
            }
        }
    }
    println!("{refused} refused, {accepted} still valid");
    assert!(refused > 0 && accepted > 0);
}

#[test]
fn mutated_checkpoints_are_refused_without_panicking() {
    use liveq::agent::dqn::{DeviceChoice, DqnConfig, DqnLearner};
    let d = tempfile::tempdir().unwrap();
    let good = d.path().join("good.dqn");
    let cfg = DqnConfig {
        hidden: vec![4],
        batch_size: 4,
        buffer_capacity: 16,
        ..DqnConfig::default()
    };
    let mut learner = DqnLearner::new(3, 2, cfg.clone(), DeviceChoice::Cpu, 1).unwrap();
    learner.save_checkpoint(&good).unwrap();
    let plain = std::fs::read(&good).unwrap();
    // The same learner with experience, saved with its replay buffer.
    for k in 0..10 {
        let x = k as f32 * 0.1;
        learner
            .observe_only(
                0,
                &[x, 1.0, -x],
                &[true, true],
                k % 2,
                x,
                &[x, 0.5, 0.0],
                &[true, false],
                k % 4 == 3,
            )
            .unwrap();
    }
    learner.save_checkpoint_with_replay(&good).unwrap();
    let with_replay = std::fs::read(&good).unwrap();
    let bad = d.path().join("bad.dqn");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed() ^ 0xC0FFEE);
    let mut target = DqnLearner::new(3, 2, cfg, DeviceChoice::Cpu, 2).unwrap();
    for case in 0..cases() / 3 {
        let mut b = if case % 2 == 0 {
            plain.clone()
        } else {
            with_replay.clone()
        };
        match rng.random_range(0..3) {
            0 => b.truncate(rng.random_range(0..b.len())),
            1 => {
                for _ in 0..rng.random_range(1..4) {
                    let i = rng.random_range(0..b.len());
                    b[i] ^= 1 << rng.random_range(0..8);
                }
            }
            _ => {
                // A length field (at 10 or after the header) rewritten to something huge.
                let at = if rng.random::<bool>() {
                    10
                } else {
                    b.len() / 2
                };
                let n: u64 = rng.random();
                if at + 8 <= b.len() {
                    b[at..at + 8].copy_from_slice(&n.to_le_bytes());
                }
            }
        }
        std::fs::write(&bad, &b).unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| target.load_checkpoint(&bad)));
        match r {
            Err(_) => panic!("case {case}: loading panicked"),
            Ok(Ok(())) => panic!("case {case}: a damaged checkpoint was accepted"),
            Ok(Err(e)) => {
                let msg = e.to_string();
                assert!(!msg.contains("Error {"), "case {case}: a Debug dump: {msg}");
            }
        }
    }
}
