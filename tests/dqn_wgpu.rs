//! The wgpu path: a few updates where an adapter exists; a clear skip message where none does.
#![cfg(feature = "gpu")]

use liveq::agent::dqn::device::probe_adapters;
use liveq::agent::dqn::{BackendKind, DeviceChoice, DqnConfig, DqnLearner};

#[test]
fn auto_device_explains_its_choice() {
    let r = DeviceChoice::Auto.resolve().expect("auto never fails");
    println!("auto -> {} ({})", r.name, r.reason);
    assert!(!r.reason.is_empty());
    if r.kind == BackendKind::Native {
        // No real GPU: liveq's own CPU kernels, and the reason says so.
        assert_eq!(r.name, "cpu");
        assert!(r.reason.starts_with("cpu: "), "{}", r.reason);
    } else {
        assert_eq!(r.kind, BackendKind::Wgpu);
    }
}

#[test]
fn wgpu_runs_a_few_updates_or_skips() {
    let adapters = match probe_adapters() {
        Ok(a) => a,
        Err(e) => {
            println!("SKIP wgpu test: adapter probe failed: {e}");
            return;
        }
    };
    if adapters.is_empty() {
        println!("SKIP wgpu test: no Vulkan/Metal/DX12 adapter on this machine");
        assert!(DeviceChoice::Wgpu.resolve().is_err());
        return;
    }
    println!("adapters: {adapters:?}");
    let cfg = DqnConfig {
        hidden: vec![32, 32],
        batch_size: 16,
        buffer_capacity: 200,
        learning_starts: 32,
        train_freq: 1,
        n_step: 1,
        ..DqnConfig::default()
    };
    let mut l = match DqnLearner::new(6, 4, cfg, DeviceChoice::Wgpu, 1) {
        Ok(l) => l,
        Err(e) => {
            println!("SKIP wgpu test: adapter present but unusable: {e}");
            return;
        }
    };
    println!("device: {} ({})", l.stats().device, l.stats().device_reason);
    let s = [0.1f32, 0.2, 0.3, 0.4, 0.5, 0.6];
    let m = [true, false, true, true];
    let t = std::time::Instant::now();
    let mut updates = 0;
    for i in 0..64u64 {
        let a = l.act(&s, &m, true).unwrap();
        assert!(m[a]);
        updates += l
            .observe(i % 3, &s, &m, a, (a as f32) * 0.1, &s, &m, i % 10 == 9)
            .expect("update");
    }
    assert!(updates >= 20, "{updates}");
    let st = l.stats();
    println!(
        "wgpu: {updates} updates in {:.1} s, {st:?}",
        t.elapsed().as_secs_f64()
    );
    let mut q = [0.0f32; 4];
    l.q_values(&s, &m, &mut q).unwrap();
    assert!(q[0].is_finite() && q[1] == f32::NEG_INFINITY);
    assert!(st.td_loss.is_some_and(f64::is_finite));
}
