//! Without the `gpu` cargo feature: no wgpu, so `auto` picks the CPU trainer and an explicit
//! `wgpu`/`vulkan` is refused with the reason.

use super::super::error::DqnError;
use super::ResolvedDevice;

/// A native wgpu adapter (none exist in a build without the `gpu` feature).
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    /// Adapter name.
    pub name: String,
}

const WHY: &str = "this liveq was built without GPU support (the `gpu` cargo feature)";

/// Adapter enumeration: always an error in this build.
pub fn probe_adapters() -> Result<Vec<AdapterSummary>, String> {
    Err(WHY.to_string())
}

pub(super) fn auto() -> Result<ResolvedDevice, String> {
    Err(format!("cpu: {WHY}"))
}

pub(super) fn forced(vulkan: bool) -> Result<ResolvedDevice, DqnError> {
    let what = if vulkan { "vulkan" } else { "wgpu" };
    Err(DqnError::Device(format!("{what} requested but {WHY}")))
}
