//! What the loaded volume's resources take: the bytes the renderer allocated for them,
//! counted from their sizes and formats. They live in the GPU's own memory, or in the
//! process's on a software adapter, beside the volume's voxels on the CPU.

use super::Renderer;

/// The bytes of the loaded volume's resources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VolumeFootprint {
    /// The voxels' 3D texture.
    pub volume_texture: u64,
    /// The gradient texture (nothing before the first shaded frame).
    pub gradient_texture: u64,
    /// The brick grid: each brick's smallest and largest value (on the CPU) and the map
    /// of bricks rays visit for the current preset (on the GPU).
    pub bricks: u64,
}

impl Renderer {
    /// The bytes the loaded volume's resources take; `None` without a volume.
    pub fn footprint(&self) -> Option<VolumeFootprint> {
        let scene = self.scene.as_ref()?;
        let grid = &scene.gpu.bricks;
        let brick_count = grid.counts.iter().product::<usize>() as u64;
        let grid_bytes = ((grid.min.len() + grid.max.len()) * size_of::<f32>()) as u64;
        // The visibility map holds a byte per brick (`R8Uint`).
        let map_bytes = scene.bricks.as_ref().map_or(0, |_| brick_count);
        Some(VolumeFootprint {
            volume_texture: texture_bytes(&scene.gpu.texture),
            gradient_texture: scene
                .gradients
                .as_ref()
                .map_or(0, |gradients| texture_bytes(&gradients.texture)),
            bricks: grid_bytes + map_bytes,
        })
    }
}

/// The bytes of a texture's texels (its only mip level).
fn texture_bytes(texture: &wgpu::Texture) -> u64 {
    let size = texture.size();
    let texels =
        u64::from(size.width) * u64::from(size.height) * u64::from(size.depth_or_array_layers);
    texels * u64::from(texture.format().block_copy_size(None).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::gpu::GpuContext;
    use crate::gpu::bricks::BRICK_SIZE;
    use crate::phantom::{DIMS, ct_phantom};
    use crate::transfer::{PresetLibrary, RenderMode};
    use crate::view::ViewState;

    #[test]
    fn the_footprint_counts_each_resource_once_it_is_made() {
        let context = GpuContext::headless().expect("a GPU adapter (lavapipe)");
        let mut renderer = Renderer::new(context, PresetLibrary::builtin());
        assert_eq!(renderer.footprint(), None, "no volume");
        let volume = Arc::new(ct_phantom());
        renderer.load_volume(Arc::clone(&volume));
        let voxels = DIMS.iter().product::<usize>() as u64;
        let bricks = DIMS
            .map(|n| n.div_ceil(BRICK_SIZE))
            .iter()
            .product::<usize>() as u64;
        let loaded = renderer.footprint().expect("a volume");
        assert_eq!(loaded.volume_texture, voxels * 2, "half floats");
        assert_eq!(loaded.gradient_texture, 0, "made at the first shaded frame");
        assert_eq!(
            loaded.bricks,
            bricks * 8,
            "a smallest and a largest value a brick"
        );
        let view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        renderer.render(&view, [64, 48]).expect("renders");
        let shaded = renderer.footprint().expect("a volume");
        assert_eq!(
            shaded.gradient_texture,
            voxels * 4,
            "the phantom keeps a gradient per voxel"
        );
        assert_eq!(shaded.bricks, bricks * 9, "and a byte a brick for the map");
    }
}
