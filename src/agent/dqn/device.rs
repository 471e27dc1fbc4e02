//! Compute-device selection ([`DeviceChoice`]) and the trainer a device runs
//! ([`ResolvedDevice::trainer`]). `auto` looks for a real GPU adapter (not a CPU/software
//! one) on Vulkan, Metal or DX12; without one it picks liveq's own CPU kernels (`cpu`). With
//! one, the choice is measured once the network's shape is known
//! ([`ResolvedDevice::for_shape`]): a short probe (under [`PROBE_BUDGET`] in all) times both
//! trainers on that shape and keeps the faster, and the reason gives both figures. Adapters
//! are enumerated on a helper thread with a timeout and `catch_unwind`, and only on
//! Vulkan/Metal/DX12 — never OpenGL ES, whose llvmpipe fallback was seen to hang for ~95 s or
//! panic. An explicit `wgpu`/`vulkan` choice with no usable adapter is an error, never a
//! panic or a hang.
//!
//! `cpu` is liveq's hand-written CPU trainer ([`super::cpu`]); it runs the networks of the
//! fast-path rule ([`super::cpu::supports`]): `auto` resolves any other network to burn, and
//! an explicit `cpu` refuses it with the reason. `flex` is burn's pure-Rust CPU backend, the
//! reference the CPU kernels are tested against. (CubeCL's own `cpu` backend needs LLVM/MLIR
//! at build time and is not built.)
//!
//! Note for terminal UIs: probing Vulkan may make the loader print to **stderr** (e.g.
//! `error: XDG_RUNTIME_DIR is invalid or not set in the environment.`). Resolve the device
//! before entering an alternate screen, or keep stderr away from the terminal meanwhile.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use burn::tensor::Device;

use super::burn_trainer::BurnTrainer;
use super::config::DqnConfig;
use super::cpu::CpuTrainer;
use super::error::DqnError;
use super::replay::Batch;
use super::shape::{NetShape, ParamLayout};
use super::trainer::{TdSpec, Trainer, UpdateSpec};

#[cfg(feature = "gpu")]
mod gpu;
#[cfg(not(feature = "gpu"))]
#[path = "device/no_gpu.rs"]
mod gpu;

pub use self::gpu::{AdapterSummary, probe_adapters};

/// How long adapter enumeration may take before it is abandoned.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Which compute device the learner trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// wgpu on a real GPU adapter if there is one, else [`DeviceChoice::Cpu`].
    #[default]
    Auto,
    /// wgpu on any native adapter (Vulkan/Metal/DX12), software ones included.
    Wgpu,
    /// wgpu pinned to Vulkan (SPIR-V kernels).
    Vulkan,
    /// burn's pure-Rust CPU backend.
    Flex,
    /// liveq's own CPU kernels ([`super::native`]).
    Cpu,
}

impl FromStr for DeviceChoice {
    type Err = DqnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "wgpu" | "gpu" => Ok(Self::Wgpu),
            "vulkan" => Ok(Self::Vulkan),
            "flex" => Ok(Self::Flex),
            "cpu" => Ok(Self::Cpu),
            other => Err(DqnError::InvalidConfig {
                key: "device".into(),
                reason: format!("unknown device `{other}` (auto, wgpu, vulkan, flex, cpu)"),
            }),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Wgpu => "wgpu",
            Self::Vulkan => "vulkan",
            Self::Flex => "flex",
            Self::Cpu => "cpu",
        })
    }
}

/// The backend family a resolved device runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// liveq's own CPU kernels: host weights, hand-written update.
    Native,
    /// Flex (CPU).
    Flex,
    /// wgpu (any native API).
    Wgpu,
}

/// A chosen device with a human-readable name and the reason it was chosen.
#[derive(Debug, Clone)]
pub struct ResolvedDevice {
    /// The (non-autodiff) device; the learner trains on `device.clone().autodiff()`.
    pub device: Device,
    /// Backend family.
    pub kind: BackendKind,
    /// e.g. `flex` or `wgpu/vulkan: llvmpipe (LLVM 19.1.7, 256 bits) [Cpu]`.
    pub name: String,
    /// Why this device was chosen.
    pub reason: String,
    /// Chosen by `auto` (so the network's shape may still move it: see
    /// [`ResolvedDevice::for_shape`]).
    pub auto: bool,
}

fn native(reason: String) -> ResolvedDevice {
    ResolvedDevice {
        // Only used to build the (unused) burn modules; the update never touches it.
        device: Device::flex(),
        kind: BackendKind::Native,
        name: "cpu".into(),
        reason,
        auto: false,
    }
}

fn flex(reason: String) -> ResolvedDevice {
    ResolvedDevice {
        device: Device::flex(),
        kind: BackendKind::Flex,
        name: "flex".into(),
        reason,
        auto: false,
    }
}

impl DeviceChoice {
    /// Resolve to a device, with the reason for the choice.
    pub fn resolve(self) -> Result<ResolvedDevice, DqnError> {
        match self {
            Self::Flex => Ok(flex("flex: requested".into())),
            Self::Cpu => Ok(native("cpu: requested".into())),
            Self::Auto => Ok(gpu::auto().unwrap_or_else(|reason| {
                let mut r = native(reason);
                r.auto = true;
                r
            })),
            Self::Wgpu | Self::Vulkan => gpu::forced(self == Self::Vulkan),
        }
    }
}

/// Time both trainers may take, together, when `auto` measures them on a GPU machine.
pub const PROBE_BUDGET: Duration = Duration::from_secs(3);

impl ResolvedDevice {
    /// The trainer this device runs, starting from `params` laid out by `layout`.
    pub fn trainer(
        &self,
        layout: &ParamLayout,
        params: Vec<Vec<f32>>,
    ) -> Result<Box<dyn Trainer>, DqnError> {
        Ok(match self.kind {
            BackendKind::Native => Box::new(CpuTrainer::new(layout.clone(), params)),
            BackendKind::Flex | BackendKind::Wgpu => {
                let device = self.device.clone();
                let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    BurnTrainer::new(layout.clone(), &params, device)
                }))
                .map_err(|_| DqnError::Backend("building the burn trainer panicked".into()))??;
                Box::new(built)
            }
        })
    }

    /// The device for a network of `shape` trained with `config`: the CPU trainer only runs
    /// what the fast-path rule allows (`auto` moves anything else to burn, an explicit `cpu`
    /// refuses it), and `auto` on a GPU machine keeps whichever trainer is faster on this
    /// shape (measured once per shape and batch size in the process).
    pub fn for_shape(
        &self,
        shape: &NetShape,
        config: &DqnConfig,
    ) -> Result<ResolvedDevice, DqnError> {
        if self.kind == BackendKind::Native {
            return match super::cpu::supports(shape) {
                Ok(()) => Ok(self.clone()),
                Err(why) if self.auto => {
                    let mut r = flex(format!(
                        "flex: the cpu kernels cannot run this network ({why})"
                    ));
                    r.auto = true;
                    Ok(r)
                }
                Err(why) => Err(DqnError::InvalidConfig {
                    key: "device".into(),
                    reason: format!("cpu cannot run this network ({why}); use flex or wgpu"),
                }),
            };
        }
        if !(self.auto && self.kind == BackendKind::Wgpu) || super::cpu::supports(shape).is_err() {
            return Ok(self.clone());
        }
        static CHOICES: OnceLock<Mutex<HashMap<(NetShape, usize), ResolvedDevice>>> =
            OnceLock::new();
        let key = (shape.clone(), config.batch_size);
        let cache = CHOICES.get_or_init(|| Mutex::new(HashMap::new()));
        if let Some(r) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(r.clone());
        }
        let layout = ParamLayout::new(shape);
        let half = PROBE_BUDGET / 2;
        let cpu = native(String::new());
        let gpu_rate = measure(self, &layout, config.batch_size, half);
        let cpu_rate = measure(&cpu, &layout, config.batch_size, half);
        let chosen = match (gpu_rate, cpu_rate) {
            (Ok(g), Ok(c)) if c >= g => {
                let mut r = native(format!(
                    "cpu: faster on this network ({c:.0} updates/s against {g:.0} on {})",
                    self.name
                ));
                r.auto = true;
                r
            }
            (Ok(g), Ok(c)) => ResolvedDevice {
                reason: format!(
                    "{}: faster on this network ({g:.0} updates/s against {c:.0} on cpu)",
                    self.name
                ),
                ..self.clone()
            },
            (Err(e), _) => {
                let mut r = native(format!("cpu: {} failed its probe ({e})", self.name));
                r.auto = true;
                r
            }
            (Ok(_), Err(e)) => ResolvedDevice {
                reason: format!("{}: the cpu probe failed ({e})", self.name),
                ..self.clone()
            },
        };
        cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, chosen.clone());
        Ok(chosen)
    }
}

/// Updates per second of `device`'s trainer on a random batch of `batch` rows for `layout`,
/// within `budget` (the first updates, which compile kernels, are not counted).
pub fn measure(
    device: &ResolvedDevice,
    layout: &ParamLayout,
    batch: usize,
    budget: Duration,
) -> Result<f64, DqnError> {
    use rand::{RngExt, SeedableRng};
    let start = std::time::Instant::now();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(17);
    let params = layout.init(&mut rng);
    let mut trainer = device.trainer(layout, params)?;
    let shape = &layout.shape;
    let (d, a, n) = (shape.input_dim, shape.num_actions, batch.max(1));
    let mut random = |len: usize| -> Vec<f32> { (0..len).map(|_| rng.random::<f32>()).collect() };
    let b = Batch {
        size: n,
        states: random(n * d),
        next_states: random(n * d),
        next_mask_bias: vec![0.0; n * a],
        actions: (0..n).map(|i| (i % a) as i64).collect(),
        rewards: random(n),
        immediate: random(n),
        discounts: vec![0.9; n],
        weights: vec![1.0; n],
        indices: (0..n).collect(),
        ..Batch::default()
    };
    let spec = UpdateSpec {
        td: TdSpec {
            double_dqn: true,
            huber_delta: 1.0,
            reward_weight: 1.0,
        },
        max_norm: 10.0,
        lr: 1e-4,
        eps: 1e-8,
        weight_decay: 0.0,
        slot_shrinkage: 0.0,
        poison: false,
        readback: false,
    };
    // Warm-up: kernel compilation and autotuning (within the first half of the budget).
    for _ in 0..3 {
        trainer.update(&b, &spec)?;
        if start.elapsed() > budget / 2 {
            break;
        }
    }
    let deadline = start + budget;
    let t = std::time::Instant::now();
    let mut count = 0u32;
    loop {
        // Every 8th update reads back, as training does; the last one always, so that
        // queued device work is counted.
        let done = count >= 2 && std::time::Instant::now() >= deadline;
        let readback = done || count % 8 == 7;
        trainer.update(&b, &UpdateSpec { readback, ..spec })?;
        count += 1;
        if done {
            break;
        }
    }
    Ok(f64::from(count) / t.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast-path rule at work: a network the CPU kernels cannot run (here, one without a
    /// hidden layer) goes to burn under `auto`, with the reason, and is refused for `cpu`;
    /// one they can run stays on `cpu`.
    #[test]
    fn what_the_cpu_kernels_cannot_run_goes_to_burn_or_is_refused() {
        let config = DqnConfig::default();
        let runnable = NetShape::new(8, 3, vec![16], [super::super::shape::Head::Dueling]);
        let unrunnable = NetShape::new(8, 3, vec![], []);
        let mut auto = native("cpu: no GPU adapter found".into());
        auto.auto = true;
        assert_eq!(
            auto.for_shape(&runnable, &config).unwrap().kind,
            BackendKind::Native
        );
        let moved = auto.for_shape(&unrunnable, &config).unwrap();
        assert_eq!(moved.kind, BackendKind::Flex);
        assert!(moved.reason.contains("cannot run"), "{}", moved.reason);
        let forced = DeviceChoice::Cpu.resolve().unwrap();
        match forced.for_shape(&unrunnable, &config) {
            Err(DqnError::InvalidConfig { key, reason }) => {
                assert_eq!(key, "device");
                assert!(reason.contains("hidden layer"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parse_choices() {
        assert_eq!("AUTO".parse::<DeviceChoice>().unwrap(), DeviceChoice::Auto);
        assert_eq!("flex".parse::<DeviceChoice>().unwrap(), DeviceChoice::Flex);
        assert_eq!("cpu".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cpu);
        assert_eq!(
            "vulkan".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Vulkan
        );
        assert!("tpu".parse::<DeviceChoice>().is_err());
        assert_eq!(
            DeviceChoice::Cpu.resolve().unwrap().kind,
            BackendKind::Native
        );
        assert_eq!(
            DeviceChoice::Flex.resolve().unwrap().kind,
            BackendKind::Flex
        );
    }
}
