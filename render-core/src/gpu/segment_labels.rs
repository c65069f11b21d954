//! Segments in the 3D view: which segment each voxel shows as a label texture (a byte a
//! voxel, on the grid of the volume as uploaded), each label's colour and opacity as a
//! palette, and which bricks hold a labelled voxel (rays must not leap over those). The
//! ray caster draws a segment where a ray enters it, shaded by the segment's own surface.

use rayon::prelude::*;
use wgpu::util::DeviceExt;

use super::bricks::BRICK_SIZE;
use super::context::GpuContext;
use super::volume_texture::GpuVolume;

/// Labels a palette may hold: a label is a byte, 0 meaning no segment.
pub const MOST_LABELS: usize = 255;

/// The format of the label texture (one unsigned byte a voxel).
pub const LABEL_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::R8Uint;

/// The format of the palette (a row of [`MOST_LABELS`] + 1 texels, label 0 unused).
pub const PALETTE_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// The series' shown segments as the 3D view draws them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentLabels {
    /// A byte per voxel of the volume's grid (i fastest, then j, then k): 0 outside every
    /// shown segment, `n` inside the segment whose colour is `palette[n − 1]`.
    pub labels: Vec<u8>,
    /// Each label's colour (sRGB) and opacity (0 to 255) where a ray enters it.
    pub palette: Vec<[u8; 4]>,
}

/// Why segment labels cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelsError {
    /// The labels are not one a voxel.
    #[error("segment labels: {given} labels for a volume of {voxels} voxels")]
    WrongCount {
        /// Labels given.
        given: usize,
        /// Voxels in the volume.
        voxels: usize,
    },
    /// More colours than a byte can label.
    #[error("segment labels: {given} colours, at most {MOST_LABELS}")]
    TooManyColours {
        /// Colours given.
        given: usize,
    },
    /// A voxel's label has no colour.
    #[error("segment labels: label {label} has no colour ({colours} given)")]
    Uncoloured {
        /// The label.
        label: u8,
        /// Colours given.
        colours: usize,
    },
}

/// Segment labels uploaded for the volume as the GPU holds it.
pub(crate) struct GpuLabels {
    /// The label texture's view (the GPU volume's dims).
    pub(crate) labels: wgpu::TextureView,
    /// The palette's view.
    pub(crate) palette: wgpu::TextureView,
    /// A byte a brick (as [`super::bricks::BrickGrid`] numbers them): 1 where the brick
    /// holds a labelled voxel.
    pub(crate) bricks: Vec<u8>,
    /// Counts uploads on one renderer, so that a cached picture knows it is stale.
    pub(crate) generation: u64,
}

impl GpuLabels {
    /// Checks `shown` against the volume of `voxels` voxels and uploads it for `gpu`
    /// (the labels reduced onto its grid when the volume was downsampled to fit: a GPU
    /// voxel takes the highest label of the voxels it merges).
    pub(crate) fn upload(
        context: &GpuContext,
        gpu: &GpuVolume,
        volume_dims: [usize; 3],
        shown: &SegmentLabels,
        generation: u64,
    ) -> Result<Self, LabelsError> {
        let voxels = volume_dims.iter().product::<usize>();
        if shown.labels.len() != voxels {
            return Err(LabelsError::WrongCount {
                given: shown.labels.len(),
                voxels,
            });
        }
        let colours = shown.palette.len();
        if colours > MOST_LABELS {
            return Err(LabelsError::TooManyColours { given: colours });
        }
        if let Some(&label) = shown.labels.par_iter().max()
            && usize::from(label) > colours
        {
            return Err(LabelsError::Uncoloured { label, colours });
        }
        let dims = gpu.dims.map(|n| n as usize);
        let reduced;
        let labels: &[u8] = if gpu.downsample == [1, 1, 1] {
            &shown.labels
        } else {
            reduced = reduce(&shown.labels, volume_dims, gpu.downsample, dims);
            &reduced
        };
        let texture = context.device.create_texture_with_data(
            &context.queue,
            &wgpu::TextureDescriptor {
                label: Some("segment labels"),
                size: wgpu::Extent3d {
                    width: gpu.dims[0],
                    height: gpu.dims[1],
                    depth_or_array_layers: gpu.dims[2],
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D3,
                format: LABEL_FORMAT,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            },
            wgpu::util::TextureDataOrder::LayerMajor,
            labels,
        );
        let mut texels = vec![[0u8; 4]; MOST_LABELS + 1];
        texels[1..=colours].copy_from_slice(&shown.palette);
        let palette = context.device.create_texture_with_data(
            &context.queue,
            &palette_descriptor(MOST_LABELS as u32 + 1),
            wgpu::util::TextureDataOrder::LayerMajor,
            bytemuck::cast_slice(&texels),
        );
        Ok(Self {
            labels: texture.create_view(&wgpu::TextureViewDescriptor::default()),
            palette: palette.create_view(&wgpu::TextureViewDescriptor::default()),
            bricks: labelled_bricks(labels, dims, gpu.bricks.counts),
            generation,
        })
    }
}

/// A label texture of one voxel and a palette of one colour, bound where a frame draws no
/// segments.
pub(crate) fn segment_placeholders(
    device: &wgpu::Device,
) -> (wgpu::TextureView, wgpu::TextureView) {
    let labels = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("no segment labels"),
        size: wgpu::Extent3d {
            width: 1,
            height: 1,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D3,
        format: LABEL_FORMAT,
        usage: wgpu::TextureUsages::TEXTURE_BINDING,
        view_formats: &[],
    });
    let palette = device.create_texture(&palette_descriptor(1));
    (
        labels.create_view(&wgpu::TextureViewDescriptor::default()),
        palette.create_view(&wgpu::TextureViewDescriptor::default()),
    )
}

/// The palette texture's description, `width` texels in one row.
fn palette_descriptor(width: u32) -> wgpu::TextureDescriptor<'static> {
    colour_row_descriptor("segment palette", width)
}

/// A row of `width` colours ([`PALETTE_FORMAT`]) as a texture's description: a palette,
/// a colour map.
pub(crate) fn colour_row_descriptor(
    label: &'static str,
    width: u32,
) -> wgpu::TextureDescriptor<'static> {
    wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width,
            height: 1,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: PALETTE_FORMAT,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    }
}

/// `labels` on a grid of `dims` reduced by `factors` onto a grid of `reduced` voxels: each
/// reduced voxel takes the highest label of the voxels it merges.
fn reduce(labels: &[u8], dims: [usize; 3], factors: [usize; 3], reduced: [usize; 3]) -> Vec<u8> {
    let slice = reduced[0] * reduced[1];
    let mut out = vec![0u8; slice * reduced[2]];
    out.par_chunks_mut(slice.max(1))
        .enumerate()
        .for_each(|(rk, layer)| {
            for k in rk * factors[2]..((rk + 1) * factors[2]).min(dims[2]) {
                for j in 0..dims[1] {
                    let rj = (j / factors[1]).min(reduced[1] - 1);
                    let row = (k * dims[1] + j) * dims[0];
                    for (i, &label) in labels[row..row + dims[0]].iter().enumerate() {
                        let cell =
                            &mut layer[rj * reduced[0] + (i / factors[0]).min(reduced[0] - 1)];
                        *cell = (*cell).max(label);
                    }
                }
            }
        });
    out
}

/// A byte a brick of `counts` over `labels` on a grid of `dims`: 1 where a voxel of the
/// brick is labelled.
fn labelled_bricks(labels: &[u8], dims: [usize; 3], counts: [usize; 3]) -> Vec<u8> {
    let per_layer = counts[0] * counts[1];
    let mut bricks = vec![0u8; per_layer * counts[2]];
    bricks
        .par_chunks_mut(per_layer.max(1))
        .enumerate()
        .for_each(|(bk, layer)| {
            for k in bk * BRICK_SIZE..((bk + 1) * BRICK_SIZE).min(dims[2]) {
                for j in 0..dims[1] {
                    let row = (k * dims[1] + j) * dims[0];
                    for (i, &label) in labels[row..row + dims[0]].iter().enumerate() {
                        if label != 0 {
                            layer[(j / BRICK_SIZE) * counts[0] + i / BRICK_SIZE] = 1;
                        }
                    }
                }
            }
        });
    bricks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reduced_voxel_takes_the_highest_label_it_merges() {
        // 4×2×2 voxels merged by 2×2×2 into 2×1×1.
        let mut labels = vec![0u8; 16];
        labels[1] = 2; // (1, 0, 0): the first reduced voxel
        labels[4 + 4 * 2 + 3] = 1; // (3, 1, 1): the second
        assert_eq!(reduce(&labels, [4, 2, 2], [2, 2, 2], [2, 1, 1]), vec![2, 1]);
    }

    #[test]
    fn only_the_bricks_holding_a_label_are_marked() {
        let dims = [8, 4, 4];
        let mut labels = vec![0u8; 8 * 4 * 4];
        labels[(2 * 4 + 1) * 8 + 6] = 3; // (6, 1, 2): brick (1, 0, 0)
        assert_eq!(labelled_bricks(&labels, dims, [2, 1, 1]), vec![0, 1]);
    }
}
