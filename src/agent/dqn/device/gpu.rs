//! wgpu adapters: enumeration without panics or hangs, and the wgpu device `auto`, `wgpu` and
//! `vulkan` resolve to (the `gpu` cargo feature).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use burn::tensor::Device;
use burn::tensor::wgpu::{WgpuBackend, wgpu};

use super::super::error::DqnError;
use super::{BackendKind, PROBE_TIMEOUT, ResolvedDevice};

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

/// `auto` with a real GPU adapter: the wgpu device on it (the shape's probe may still move
/// the choice to the CPU trainer); `Err` gives the reason to use the CPU instead.
pub(super) fn auto() -> Result<ResolvedDevice, String> {
    let adapters = probe_adapters().map_err(|e| format!("cpu: GPU probe failed ({e})"))?;
    let Some(gpu) = adapters.iter().find(|a| a.is_real_gpu()) else {
        return Err(if adapters.is_empty() {
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
        });
    };
    let api = wgpu_backend_of(gpu.backend);
    match init_wgpu(api, &format!("{:?}", gpu.backend)) {
        Ok(device) => Ok(ResolvedDevice {
            device,
            kind: BackendKind::Wgpu,
            name: format!("wgpu/{}", gpu.label()),
            reason: format!("wgpu: GPU adapter {}", gpu.label()),
            auto: true,
        }),
        Err(e) => Err(format!("cpu: GPU {} unusable ({e})", gpu.label())),
    }
}

/// An explicit `wgpu` (any native adapter, software ones included) or `vulkan` choice.
pub(super) fn forced(vulkan: bool) -> Result<ResolvedDevice, DqnError> {
    let what = if vulkan { "vulkan" } else { "wgpu" };
    let adapters = probe_adapters().map_err(DqnError::Device)?;
    let pick = adapters
        .iter()
        .filter(|a| !vulkan || a.backend == wgpu::Backend::Vulkan)
        .max_by_key(|a| a.is_real_gpu());
    let Some(a) = pick else {
        return Err(DqnError::Device(format!(
            "{what} requested but no {} adapter was found",
            if vulkan {
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
        reason: format!("{what}: requested; adapter {}", a.label()),
        auto: false,
    })
}
