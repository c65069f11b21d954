//! The textures frames are drawn into: the frame of the renderer's size, its reduced
//! copies for interactive frames, a banded image's own.

use crate::gpu::context::GpuContext;
use crate::gpu::pipelines::{FRAME_FORMAT, Pipelines};

/// A texture a frame is drawn into (rendered to, written by the ray caster's compute
/// dispatch where the device has compute shaders, copied from and sampled), its view,
/// and where the device computes, the bind group that hands it to the dispatch: made
/// once with the texture rather than for every frame.
pub(super) struct FrameTarget {
    pub(super) texture: wgpu::Texture,
    pub(super) view: wgpu::TextureView,
    /// The ray caster's `group(1)`: the texture as the frame it writes.
    traced: Option<wgpu::BindGroup>,
}

impl FrameTarget {
    /// A target of `size` on `context`'s device.
    pub(super) fn new(
        context: &GpuContext,
        pipelines: &Pipelines,
        size: [u32; 2],
        label: &str,
    ) -> Self {
        let computes = context.capabilities.compute_shaders;
        let storage = if computes {
            wgpu::TextureUsages::STORAGE_BINDING
        } else {
            wgpu::TextureUsages::empty()
        };
        let texture = context.device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size: wgpu::Extent3d {
                width: size[0],
                height: size[1],
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: FRAME_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                | storage
                | wgpu::TextureUsages::COPY_SRC
                | wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        });
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let traced = computes.then(|| traced_group(&context.device, pipelines, &view));
        Self {
            texture,
            view,
            traced,
        }
    }

    /// The texture's size (width, height).
    pub(super) fn size(&self) -> [u32; 2] {
        [self.texture.width(), self.texture.height()]
    }

    /// The bind group that hands the texture to the ray caster's compute dispatch: the
    /// one made with it (a device without compute shaders never dispatches, and gets one
    /// made now should it be asked).
    pub(super) fn traced(
        &self,
        device: &wgpu::Device,
        pipelines: &Pipelines,
    ) -> std::borrow::Cow<'_, wgpu::BindGroup> {
        match &self.traced {
            Some(group) => std::borrow::Cow::Borrowed(group),
            None => std::borrow::Cow::Owned(traced_group(device, pipelines, &self.view)),
        }
    }
}

/// The ray caster's `group(1)` for a frame texture's `view`.
fn traced_group(
    device: &wgpu::Device,
    pipelines: &Pipelines,
    view: &wgpu::TextureView,
) -> wgpu::BindGroup {
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("raycast frame"),
        layout: &pipelines.frame_layout,
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::TextureView(view),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_on_a_computing_device_keeps_the_dispatchs_bind_group() {
        let context = GpuContext::headless().expect("a GPU adapter (lavapipe)");
        assert!(context.capabilities.compute_shaders, "lavapipe computes");
        let pipelines = Pipelines::new(&context.device);
        let target = FrameTarget::new(&context, &pipelines, [40, 30], "frame");
        assert_eq!(target.size(), [40, 30]);
        assert!(target.traced.is_some(), "made with the texture");
        assert!(matches!(
            target.traced(&context.device, &pipelines),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
