//! The GPU device the renderer draws with: its own (headless) or borrowed from the
//! desktop UI, and what it can do.

use serde::Serialize;

/// What went wrong setting up or using the GPU.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No adapter (not even a software one such as lavapipe) was found.
    #[error(
        "no GPU adapter found (not even software Vulkan): install Mesa's Vulkan drivers \
         (Debian: mesa-vulkan-drivers libvulkan1) or set WGPU_BACKEND=gl ({0})"
    )]
    NoAdapter(String),
    /// The adapter refused to open a device.
    #[error("the GPU adapter {adapter} refused to open a device: {reason}")]
    NoDevice {
        /// The adapter's name.
        adapter: String,
        /// wgpu's reason.
        reason: String,
    },
    /// The device reported an error while rendering or reading back.
    #[error("GPU error: {0}")]
    Device(String),
}

/// The kind of adapter, as a capability probe reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AdapterKind {
    /// A discrete GPU.
    Discrete,
    /// A GPU sharing memory with the CPU.
    Integrated,
    /// A virtualised GPU.
    Virtual,
    /// A software rasteriser on the CPU (lavapipe, llvmpipe, WARP, SwiftShader).
    Cpu,
    /// Unknown.
    Other,
}

impl AdapterKind {
    fn of(device_type: wgpu::DeviceType) -> Self {
        match device_type {
            wgpu::DeviceType::DiscreteGpu => AdapterKind::Discrete,
            wgpu::DeviceType::IntegratedGpu => AdapterKind::Integrated,
            wgpu::DeviceType::VirtualGpu => AdapterKind::Virtual,
            wgpu::DeviceType::Cpu => AdapterKind::Cpu,
            wgpu::DeviceType::Other => AdapterKind::Other,
        }
    }

    /// Preference when several adapters are present (higher is better).
    fn rank(&self) -> u8 {
        match self {
            AdapterKind::Discrete => 4,
            AdapterKind::Integrated => 3,
            AdapterKind::Virtual => 2,
            AdapterKind::Cpu => 1,
            AdapterKind::Other => 0,
        }
    }
}

/// What the adapter is and what it allows: the capability probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capabilities {
    /// The adapter's name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub adapter: String,
    /// Discrete, integrated, virtual, CPU or other.
    pub kind: AdapterKind,
    /// The graphics API: vulkan, metal, dx12, gl.
    pub backend: String,
    /// The driver's name and version.
    pub driver: String,
    /// Whether it renders on the CPU.
    pub software: bool,
    /// Largest 3D texture edge, in voxels.
    pub max_texture_3d: u32,
    /// Largest buffer, in bytes.
    pub max_buffer_bytes: u64,
    /// Whether it runs compute shaders that write a storage texture, in workgroups of 8×8
    /// (the ray caster's dispatch on a GPU; GL devices without compute have none).
    pub compute_shaders: bool,
}

impl Capabilities {
    fn of(info: &wgpu::AdapterInfo, limits: &wgpu::Limits) -> Self {
        let kind = AdapterKind::of(info.device_type);
        let name = info.name.to_ascii_lowercase();
        let software = kind == AdapterKind::Cpu
            || ["llvmpipe", "lavapipe", "swiftshader", "softpipe", "warp"]
                .iter()
                .any(|s| name.contains(s));
        Self {
            adapter: info.name.clone(),
            kind,
            backend: info.backend.to_str().to_string(),
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_string(),
            software,
            max_texture_3d: limits.max_texture_dimension_3d,
            max_buffer_bytes: limits.max_buffer_size,
            compute_shaders: runs_compute_shaders(limits),
        }
    }
}

/// Whether a device of `limits` runs the ray caster's compute dispatch: workgroups of
/// 8×8 invocations writing a storage texture.
fn runs_compute_shaders(limits: &wgpu::Limits) -> bool {
    limits.max_compute_invocations_per_workgroup >= 64
        && limits.max_compute_workgroup_size_x >= 8
        && limits.max_compute_workgroup_size_y >= 8
        && limits.max_storage_textures_per_shader_stage >= 1
}

/// A device and its queue, with what they can do.
#[derive(Debug, Clone)]
pub struct GpuContext {
    /// The logical device.
    pub device: wgpu::Device,
    /// Its command queue.
    pub queue: wgpu::Queue,
    /// The adapter's capabilities.
    pub capabilities: Capabilities,
}

impl GpuContext {
    /// Opens a device of its own, with no window: the best adapter found (a discrete GPU
    /// first, a software one last). `WGPU_BACKEND` (vulkan, gl, ...) narrows the search.
    pub fn headless() -> Result<Self, GpuError> {
        pollster::block_on(Self::headless_async())
    }

    async fn headless_async() -> Result<Self, GpuError> {
        // The native APIs first; GL (which probes for displays) only when they find nothing
        // or when WGPU_BACKEND asks for it.
        let mut found = None;
        for backends in [wgpu::Backends::PRIMARY, wgpu::Backends::SECONDARY] {
            let backends = backends.with_env();
            if found.is_some() || backends.is_empty() {
                continue;
            }
            let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
            descriptor.backends = backends;
            let instance = wgpu::Instance::new(descriptor);
            let adapters = instance.enumerate_adapters(backends).await;
            if !adapters.is_empty() {
                found = Some((instance, adapters));
            }
        }
        let (instance, adapters) = match found {
            Some(found) => found,
            None => (
                wgpu::Instance::new(
                    wgpu::InstanceDescriptor::new_without_display_handle_from_env(),
                ),
                Vec::new(),
            ),
        };
        let adapter = match adapters.into_iter().max_by_key(|adapter| {
            let info = adapter.get_info();
            // Prefer the native APIs over GL at equal adapter kind.
            let native = u8::from(info.backend != wgpu::Backend::Gl);
            (AdapterKind::of(info.device_type).rank(), native)
        }) {
            Some(adapter) => adapter,
            None => instance
                .request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::HighPerformance,
                    force_fallback_adapter: false,
                    compatible_surface: None,
                    apply_limit_buckets: false,
                })
                .await
                .map_err(|error| GpuError::NoAdapter(error.to_string()))?,
        };
        let info = adapter.get_info();
        let limits = adapter.limits();
        let capabilities = Capabilities::of(&info, &limits);
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("hounsfield"),
                required_features: wgpu::Features::empty(),
                required_limits: limits.clone(),
                memory_hints: memory_hints(&capabilities),
                ..Default::default()
            })
            .await
            .map_err(|error| GpuError::NoDevice {
                adapter: info.name.clone(),
                reason: error.to_string(),
            })?;
        Ok(Self {
            device,
            queue,
            capabilities,
        })
    }

    /// Every adapter this machine offers (all backends WGPU_BACKEND allows), with its
    /// capabilities: what capability detection chooses from.
    pub fn adapters() -> Vec<Capabilities> {
        pollster::block_on(async {
            let descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
            let backends = descriptor.backends;
            let instance = wgpu::Instance::new(descriptor);
            instance
                .enumerate_adapters(backends)
                .await
                .iter()
                .map(|adapter| Capabilities::of(&adapter.get_info(), &adapter.limits()))
                .collect()
        })
    }

    /// Borrows a device someone else opened (the desktop UI's), so frames are drawn where
    /// they are shown.
    pub fn borrowed(
        device: wgpu::Device,
        queue: wgpu::Queue,
        adapter_info: &wgpu::AdapterInfo,
    ) -> Self {
        let limits = device.limits();
        Self {
            capabilities: Capabilities::of(adapter_info, &limits),
            device,
            queue,
        }
    }
}

/// How wgpu sizes the blocks of device memory it hands out pieces of. A software adapter's
/// device memory is the process's own: with wgpu's default blocks of 64 MiB and more,
/// every staging slab and frame read back touches new pages of a block that is never
/// returned (a served CT held a whole 64 MiB block so), so there the blocks are small. A
/// GPU keeps the default, which favours speed.
fn memory_hints(capabilities: &Capabilities) -> wgpu::MemoryHints {
    if capabilities.software {
        wgpu::MemoryHints::MemoryUsage
    } else {
        wgpu::MemoryHints::Performance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_downlevel_gl_device_has_no_compute_shaders_and_a_full_one_has() {
        assert!(!runs_compute_shaders(
            &wgpu::Limits::downlevel_webgl2_defaults()
        ));
        assert!(runs_compute_shaders(&wgpu::Limits::downlevel_defaults()));
        assert!(runs_compute_shaders(&wgpu::Limits::default()));
        let lavapipe = GpuContext::headless().expect("a GPU adapter (lavapipe)");
        assert!(lavapipe.capabilities.compute_shaders, "Vulkan has them");
    }
}
