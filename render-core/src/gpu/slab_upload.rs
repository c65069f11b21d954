//! Filling 3D textures a slab of slices at a time: the slab's texels (of one texture or
//! several, made from one pass over its voxels) are written while the next slab is made,
//! and staged and waited for slab by slab, so that staging memory is that of one slab.

use half::f16;

use super::bricks::BRICK_SIZE;
use super::context::GpuContext;

/// Voxel slices uploaded per `write_texture` call, to keep staging buffers (and the
/// slices decoded from a packed volume) small.
pub(crate) const SLICES_PER_UPLOAD: usize = 16;

// A slab's layers of bricks are whole.
const _: () = assert!(SLICES_PER_UPLOAD.is_multiple_of(BRICK_SIZE));

/// Texels of a run of slices of one 3D texture, tightly packed slice by slice.
pub(crate) struct Layers<'t> {
    /// The texture they belong to.
    pub texture: &'t wgpu::Texture,
    /// The slice of the texture the first of them fills.
    pub first: usize,
    /// The texels.
    pub texels: Texels,
}

/// Texels in one of the formats uploaded slab by slab.
pub(crate) enum Texels {
    /// `R16Float`: the voxels.
    Half(Vec<f16>),
    /// `Rgba8Snorm`, four a texel: the gradients.
    Snorm(Vec<i8>),
}

impl Texels {
    fn bytes(&self) -> &[u8] {
        match self {
            Texels::Half(texels) => bytemuck::cast_slice(texels),
            Texels::Snorm(texels) => bytemuck::cast_slice(texels),
        }
    }
}

/// Fills 3D textures a slab of `per_slab` of `slices` slices at a time: `make_slab`
/// gives the texels of a range of slices (of one texture or several), and each slab is
/// written while the next is made.
pub(crate) fn write_in_slabs<'t>(
    context: &GpuContext,
    slices: usize,
    per_slab: usize,
    mut make_slab: impl FnMut(std::ops::Range<usize>) -> Vec<Layers<'t>> + Send,
) {
    let write = |slab: Vec<Layers<'t>>| {
        for layers in &slab {
            let size = layers.texture.size();
            let texel_bytes = layers.texture.format().block_copy_size(None).unwrap_or(1);
            let texels = layers.texels.bytes();
            let count = texels.len() / (size.width * size.height * texel_bytes) as usize;
            context.queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: layers.texture,
                    mip_level: 0,
                    origin: wgpu::Origin3d {
                        x: 0,
                        y: 0,
                        z: layers.first as u32,
                    },
                    aspect: wgpu::TextureAspect::All,
                },
                texels,
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(size.width * texel_bytes),
                    rows_per_image: Some(size.height),
                },
                wgpu::Extent3d {
                    width: size.width,
                    height: size.height,
                    depth_or_array_layers: count as u32,
                },
            );
        }
        // Staged: the slab's own texels can go before the upload is waited for.
        drop(slab);
        // Each write is staged in a buffer of its own until a submission carries it out:
        // submitted and waited for slab by slab, the staging memory is that of one slab,
        // not of the whole texture (on a software adapter, host memory the process keeps).
        context.queue.submit([]);
        if let Err(error) = context.device.poll(wgpu::PollType::wait_indefinitely()) {
            tracing::warn!(%error, "waiting for a slab's upload");
        }
    };
    let per_slab = per_slab.max(1);
    let slab = |first: usize| first..(first + per_slab).min(slices);
    let mut pending = make_slab(slab(0));
    for first in (per_slab..slices).step_by(per_slab) {
        let (_, next) = rayon::join(|| write(pending), || make_slab(slab(first)));
        pending = next;
    }
    write(pending);
}
