//! Compute-device selection ([`DeviceChoice`]): `auto` picks wgpu only when a real GPU
//! adapter (not a CPU/software one) exists on Vulkan, Metal or DX12, else liveq's own CPU
//! kernels (`cpu`, [`super::native`]), and says why. Adapters are enumerated on a helper thread with a timeout and
//! `catch_unwind`, and only on Vulkan/Metal/DX12 — never OpenGL ES, whose llvmpipe fallback
//! was seen to hang for ~95 s or panic. An explicit `wgpu`/`vulkan` choice with no usable
//! adapter is an error, never a panic or a hang.
//!
//! `cpu` is liveq's hand-written CPU update (see [`super::native`]): the same mathematics as
//! the burn path, about three times faster than burn's Flex backend on the default network.
//! `flex` is burn's pure-Rust CPU backend, kept for comparison and as a reference. (CubeCL's
//! own `cpu` backend needs LLVM/MLIR at build time and is not built.)
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
use burn::tensor::wgpu::{WgpuBackend, wgpu};

use super::error::DqnError;

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
}

/// A native wgpu adapter found by [`probe_adapters`].
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    /// Adapter name.
    pub name: String,
    /// Graphics API.
    pub backend: wgpu::Backend,
    /// Discrete, integrated, virtual, CPU, other.
    pub device_type: wgpu::DeviceType,
}

impl AdapterSummary {
    /// A real GPU (not a software rasteriser).
    pub fn is_real_gpu(&self) -> bool {
        matches!(
            self.device_type,
            wgpu::DeviceType::DiscreteGpu
                | wgpu::DeviceType::IntegratedGpu
                | wgpu::DeviceType::VirtualGpu
        )
    }

    fn label(&self) -> String {
        format!(
            "{}: {} [{:?}]",
            format!("{:?}", self.backend).to_lowercase(),
            self.name,
            self.device_type
        )
    }
}

fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

/// Enumerate native (Vulkan/Metal/DX12) adapters without panicking or hanging: the
/// enumeration runs on a helper thread under `catch_unwind` with [`PROBE_TIMEOUT`].
/// The result is cached for the process.
pub fn probe_adapters() -> Result<Vec<AdapterSummary>, String> {
    static CACHE: OnceLock<Result<Vec<AdapterSummary>, String>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            let spawned = std::thread::Builder::new()
                .name("dqn-adapter-probe".into())
                .spawn(move || {
                    let r = std::panic::catch_unwind(|| {
                        let backends =
                            wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12;
                        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
                        desc.backends = backends;
                        let instance = wgpu::Instance::new(desc);
                        block_on(instance.enumerate_adapters(backends))
                            .iter()
                            .map(|a| {
                                let info = a.get_info();
                                AdapterSummary {
                                    name: info.name,
                                    backend: info.backend,
                                    device_type: info.device_type,
                                }
                            })
                            .collect::<Vec<_>>()
                    });
                    let _ = tx.send(r.map_err(|_| "adapter enumeration panicked".to_string()));
                });
            if let Err(e) = spawned {
                return Err(format!("could not start the adapter probe: {e}"));
            }
            match rx.recv_timeout(PROBE_TIMEOUT) {
                Ok(r) => r,
                Err(_) => Err(format!(
                    "adapter enumeration did not finish within {} s",
                    PROBE_TIMEOUT.as_secs()
                )),
            }
        })
        .clone()
}

fn wgpu_backend_of(b: wgpu::Backend) -> WgpuBackend {
    match b {
        wgpu::Backend::Metal => WgpuBackend::Metal,
        wgpu::Backend::Dx12 => WgpuBackend::Dx12,
        _ => WgpuBackend::Vulkan,
    }
}

/// Initialise (once per graphics API for the process) the wgpu runtime pinned to `api`.
fn init_wgpu(api: WgpuBackend, key: &str) -> Result<Device, DqnError> {
    static DEVICES: OnceLock<Mutex<HashMap<String, Device>>> = OnceLock::new();
    let map = DEVICES.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(d) = map.get(key) {
        return Ok(d.clone());
    }
    let r = std::panic::catch_unwind(|| Device::wgpu_options().graphics_api(api).init());
    let device = match r {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return Err(DqnError::Device(format!("wgpu init failed: {e}"))),
        Err(_) => return Err(DqnError::Device("wgpu init panicked".into())),
    };
    map.insert(key.to_string(), device.clone());
    Ok(device)
}

fn native(reason: String) -> ResolvedDevice {
    ResolvedDevice {
        // Only used to build the (unused) burn modules; the update never touches it.
        device: Device::flex(),
        kind: BackendKind::Native,
        name: "cpu".into(),
        reason,
    }
}

fn flex(reason: String) -> ResolvedDevice {
    ResolvedDevice {
        device: Device::flex(),
        kind: BackendKind::Flex,
        name: "flex".into(),
        reason,
    }
}

impl DeviceChoice {
    /// Resolve to a device, with the reason for the choice.
    pub fn resolve(self) -> Result<ResolvedDevice, DqnError> {
        match self {
            Self::Flex => Ok(flex("flex: requested".into())),
            Self::Cpu => Ok(native("cpu: requested".into())),
            Self::Auto => {
                let adapters = match probe_adapters() {
                    Ok(a) => a,
                    Err(e) => return Ok(native(format!("cpu: GPU probe failed ({e})"))),
                };
                let Some(gpu) = adapters.iter().find(|a| a.is_real_gpu()) else {
                    let reason = if adapters.is_empty() {
                        "cpu: no GPU adapter found (no Vulkan/Metal/DX12 adapter)".to_string()
                    } else {
                        format!(
                            "cpu: no GPU adapter found (only CPU/software adapters: {})",
                            adapters
                                .iter()
                                .map(|a| a.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    return Ok(native(reason));
                };
                let api = wgpu_backend_of(gpu.backend);
                match init_wgpu(api, &format!("{:?}", gpu.backend)) {
                    Ok(device) => Ok(ResolvedDevice {
                        device,
                        kind: BackendKind::Wgpu,
                        name: format!("wgpu/{}", gpu.label()),
                        reason: format!("wgpu: GPU adapter {}", gpu.label()),
                    }),
                    Err(e) => Ok(native(format!("cpu: GPU {} unusable ({e})", gpu.label()))),
                }
            }
            Self::Wgpu | Self::Vulkan => {
                let adapters = probe_adapters().map_err(DqnError::Device)?;
                let pick = adapters
                    .iter()
                    .filter(|a| self == Self::Wgpu || a.backend == wgpu::Backend::Vulkan)
                    .max_by_key(|a| a.is_real_gpu());
                let Some(a) = pick else {
                    return Err(DqnError::Device(format!(
                        "{self} requested but no {} adapter was found",
                        if self == Self::Vulkan {
                            "Vulkan"
                        } else {
                            "Vulkan/Metal/DX12"
                        }
                    )));
                };
                let device = init_wgpu(wgpu_backend_of(a.backend), &format!("{:?}", a.backend))?;
                Ok(ResolvedDevice {
                    device,
                    kind: BackendKind::Wgpu,
                    name: format!("wgpu/{}", a.label()),
                    reason: format!("{self}: requested; adapter {}", a.label()),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
