//! Checkpoints: round trip, shape mismatch, format-1 files, corrupt files.

use super::super::checkpoint::read_checkpoint;
use super::*;

#[test]
fn checkpoint_round_trip_and_shape_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ck.dqn");
    for resolved in [
        DeviceChoice::Cpu.resolve().unwrap(),
        DeviceChoice::Flex.resolve().unwrap(),
    ] {
        let o = small_opts();
        let mut l = filled_learner(&o, 300, 8).unwrap();
        for _ in 0..7 {
            l.update().unwrap();
        }
        l.set(Hyper::Epsilon(Some(0.3))).unwrap();
        l.save_checkpoint(&path).unwrap();
        let cfg = l.config().clone();
        let mut other = DqnLearner::with_device(8, 5, cfg.clone(), resolved, 99).unwrap();
        other.load_checkpoint(&path).unwrap();
        let s: Vec<f32> = (0..8).map(|i| i as f32 * 0.3 - 1.0).collect();
        let (mut q1, mut q2) = (vec![0.0; 5], vec![0.0; 5]);
        l.sync_policy().unwrap(); // the acting copy refreshes every 10 updates
        l.q_values(&s, &[true; 5], &mut q1).unwrap();
        other.q_values(&s, &[true; 5], &mut q2).unwrap();
        assert_eq!(q1, q2);
        assert_eq!(other.stats().updates, 7);
        assert_eq!(other.stats().env_steps, 300);
        assert!((other.epsilon() - 0.3).abs() < 1e-12);
        assert_eq!(l.target_params().unwrap(), other.target_params().unwrap());
        // Training continues identically (same Adam state) on the same batch.
        let b = sample(&l, 1);
        l.update_on_batch(&b).unwrap();
        other.update_on_batch(&b).unwrap();
        let (p1, p2) = (l.online_params().unwrap(), other.online_params().unwrap());
        for (a, b) in p1.iter().zip(&p2) {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-5);
            }
        }
        // Different shapes are errors, not panics.
        let wrong = DqnConfig {
            hidden: vec![16],
            ..cfg.clone()
        };
        let mut w = DqnLearner::new(8, 5, wrong, DeviceChoice::Flex, 1).unwrap();
        assert!(matches!(
            w.load_checkpoint(&path),
            Err(DqnError::CheckpointMismatch(_))
        ));
        let mut w = DqnLearner::new(9, 5, cfg.clone(), DeviceChoice::Flex, 1).unwrap();
        assert!(matches!(
            w.load_checkpoint(&path),
            Err(DqnError::CheckpointMismatch(_))
        ));
        let duel = DqnConfig {
            dueling: true,
            ..cfg
        };
        let mut w = DqnLearner::new(8, 5, duel, DeviceChoice::Flex, 1).unwrap();
        assert!(matches!(
            w.load_checkpoint(&path),
            Err(DqnError::CheckpointMismatch(_))
        ));
        // Garbage is an error too.
        std::fs::write(dir.path().join("bad"), b"nope").unwrap();
        assert!(w.load_checkpoint(dir.path().join("bad")).is_err());
        // No temp files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2);
    }
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/checkpoints")
        .join(name)
}

/// A format-1 checkpoint (four burnpack blobs of the one-field-per-head network, written by
/// the previous version with every head on) loads: same weights as that version recorded,
/// same Q-values, same counters; saving it again writes format 2, which loads identically.
#[test]
fn format_1_checkpoints_still_load() {
    let want: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("v1.json")).unwrap()).unwrap();
    let floats =
        |v: &serde_json::Value| -> Vec<Vec<f32>> { serde_json::from_value(v.clone()).unwrap() };
    for device in [DeviceChoice::Cpu, DeviceChoice::Flex] {
        let mut l = DqnLearner::from_checkpoint(fixture("v1.dqn"), device, 1).unwrap();
        assert_eq!(
            l.shape().heads,
            vec![
                Head::Dueling,
                Head::Group { groups: 3 },
                Head::ActionFeatures { features: 2 },
                Head::Reward
            ]
        );
        assert_eq!(l.online_params().unwrap(), floats(&want["online"]));
        assert_eq!(l.target_params().unwrap(), floats(&want["target"]));
        assert_eq!(l.stats().updates, want["updates"].as_u64().unwrap());
        assert_eq!(l.stats().env_steps, want["env_steps"].as_u64().unwrap());
        assert!((l.epsilon() - 0.25).abs() < 1e-12);
        l.set_action_groups(&[2, 0, 1, 2]).unwrap();
        let state: Vec<f32> = serde_json::from_value(want["state"].clone()).unwrap();
        let mut q = vec![0.0; 4];
        l.q_values(&state, &[true; 4], &mut q).unwrap();
        let want_q: Vec<f32> = serde_json::from_value(want["q"].clone()).unwrap();
        assert_eq!(q, want_q);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.dqn");
        l.save_checkpoint(&path).unwrap();
        assert_eq!(read_checkpoint_header(&path).unwrap().format_version, 2);
        let again = DqnLearner::from_checkpoint(&path, device, 2).unwrap();
        assert_eq!(again.online_params().unwrap(), floats(&want["online"]));
        assert_eq!(again.shape(), l.shape());
    }
}

/// A damaged checkpoint is refused with a sentence saying why, never loaded or a panic:
/// truncated anywhere, any byte flipped (checksum), non-finite weights, another file.
#[test]
fn damaged_checkpoints_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ck.dqn");
    let mut l = filled_learner(&small_opts(), 100, 8).unwrap();
    l.update().unwrap();
    l.save_checkpoint(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    let bad = dir.path().join("bad.dqn");
    let refuse = |bytes: &[u8], want: &str| {
        std::fs::write(&bad, bytes).unwrap();
        let e = read_checkpoint(&bad).unwrap_err().to_string();
        assert!(e.contains(want), "{e} (wanted: {want})");
        assert!(
            !e.contains("Error {") && !e.contains("{ "),
            "a Debug dump: {e}"
        );
    };
    for cut in [0, 5, 12, 40, good.len() / 2, good.len() - 1] {
        refuse(
            &good[..cut],
            if cut < 10 { "not a liveq" } else { "truncated" },
        );
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    for _ in 0..40 {
        let mut b = good.clone();
        let i = rng.random_range(10..b.len());
        b[i] ^= 1 << rng.random_range(0..8);
        std::fs::write(&bad, &b).unwrap();
        assert!(read_checkpoint(&bad).is_err(), "flip at {i} accepted");
    }
    refuse(b"hello, world", "not a liveq DQN checkpoint");
    // Non-finite weights behind a valid checksum.
    let (header, mut state) = read_checkpoint(&path).unwrap();
    state.online[0][3] = f32::NAN;
    let mut with_nan = l;
    with_nan.restore_for_test(state.clone());
    with_nan.save_checkpoint(&bad).unwrap();
    let e = read_checkpoint(&bad).unwrap_err().to_string();
    assert!(
        e.contains("non-finite") && e.contains("hidden.0.weight"),
        "{e}"
    );
    assert_eq!(header.format_version, 2);
    let e = read_checkpoint(dir.path()).unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");
}

/// A header that promises an impossible or enormous network is refused before anything is
/// allocated from it (format 1, whose blobs are decoded into a network built from the header,
/// and format 2).
#[test]
fn a_header_promising_a_huge_network_is_refused_unallocated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.dqn");
    let header = serde_json::json!({
        "format_version": 1,
        "shape": {"input_dim": 1000, "num_actions": 4, "hidden": [4096, 4096, 4096],
                  "dueling": false},
        "config": DqnConfig::default(),
        "env_steps": 0, "updates": 0, "epsilon": 1.0, "epsilon_override": null, "adam_t": 0,
    });
    let header = serde_json::to_vec(&header).unwrap();
    let mut bytes = b"LIVEQDQN\x01\n".to_vec();
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    for _ in 0..4 {
        bytes.extend_from_slice(&8u64.to_le_bytes());
        bytes.extend_from_slice(&[0u8; 8]);
    }
    std::fs::write(&path, &bytes).unwrap();
    let e = read_checkpoint(&path).unwrap_err().to_string();
    assert!(e.contains("more than the file holds"), "{e}");
    // Sizes no network can have are named as such, in either format.
    let impossible = String::from_utf8(header.clone())
        .unwrap()
        .replace("[4096,4096,4096]", "[0]");
    let mut bytes = b"LIVEQDQN\x01\n".to_vec();
    bytes.extend_from_slice(&(impossible.len() as u64).to_le_bytes());
    bytes.extend_from_slice(impossible.as_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let e = read_checkpoint(&path).unwrap_err().to_string();
    assert!(e.contains("impossible network"), "{e}");
}

/// A checkpoint saved with its replay buffer restores the same transitions into a fresh
/// learner (the same batches sample from it, so training continues on the same experience);
/// one saved without it leaves the buffer as it was; a damaged replay section is refused.
#[test]
fn checkpoints_carry_the_replay_buffer_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (with, without) = (dir.path().join("with.dqn"), dir.path().join("without.dqn"));
    for prioritized in [false, true] {
        let o = BenchOptions {
            prioritized,
            ..small_opts()
        };
        let mut l = filled_learner(&o, 300, 8).unwrap();
        for _ in 0..3 {
            l.update().unwrap();
        }
        l.save_checkpoint_with_replay(&with).unwrap();
        l.save_checkpoint(&without).unwrap();
        let header = read_checkpoint_header(&with).unwrap();
        assert_eq!(header.replay.as_ref().unwrap().transitions, 300);
        assert!(read_checkpoint_header(&without).unwrap().replay.is_none());
        let fresh = || DqnLearner::new(8, 5, l.config().clone(), DeviceChoice::Cpu, 99).unwrap();
        let mut back = fresh();
        assert!(back.replay().is_empty());
        back.load_checkpoint(&with).unwrap();
        assert_eq!(back.replay().len(), 300);
        let (a, b) = (sample(&l, 4), sample(&back, 4));
        assert_eq!((&a.indices, &a.weights), (&b.indices, &b.weights));
        assert_eq!((&a.states, &a.next_states), (&b.states, &b.next_states));
        assert_eq!((&a.actions, &a.rewards), (&b.actions, &b.rewards));
        assert_eq!(a.next_mask_bias, b.next_mask_bias);
        let mut plain = fresh();
        plain.load_checkpoint(&without).unwrap();
        assert!(plain.replay().is_empty());
    }
    // Damage inside the replay section: the checksum refuses it.
    let mut bytes = std::fs::read(&with).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x10;
    let bad = dir.path().join("bad.dqn");
    std::fs::write(&bad, &bytes).unwrap();
    let e = read_checkpoint(&bad).unwrap_err().to_string();
    assert!(e.contains("checksum"), "{e}");
}
