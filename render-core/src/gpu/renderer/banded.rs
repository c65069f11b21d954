//! A final image drawn a band of rows at a time. A server whose one render thread serves
//! several sessions draws a slow still between the other sessions' frames, a band each
//! turn, instead of holding every other session for the still's whole length. The bands
//! go into a texture of the image's own, so frames drawn in between leave them alone;
//! each band runs the same rays as a whole frame would, so the finished image is the
//! whole frame's, pixel for pixel.

use std::time::{Duration, Instant};

use super::readback::FrameImage;
use super::{RenderError, Renderer, frame_texture};
use crate::view::ViewState;

/// About how long one band should take: a session waiting behind a band waits about
/// this long.
pub const BAND_TAKES: Duration = Duration::from_millis(30);
/// The most bands an image is cut into (each band costs a draw of its own).
const MOST_BANDS: u32 = 24;

/// How many bands an image whose whole frame takes `full` is cut into for each to take
/// about [`BAND_TAKES`] (at least two, at most 24).
pub fn bands_for(full: Duration) -> u32 {
    let bands = full.as_micros().div_ceil(BAND_TAKES.as_micros());
    u32::try_from(bands)
        .unwrap_or(MOST_BANDS)
        .clamp(2, MOST_BANDS)
}

/// An image being drawn band by band ([`Renderer::begin_banded`]).
pub struct BandedImage {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    size: [u32; 2],
    band_rows: u32,
    next_row: u32,
    drawing: Duration,
}

impl BandedImage {
    /// The image's size (width, height).
    pub fn size(&self) -> [u32; 2] {
        self.size
    }

    /// Whether every band has been drawn.
    pub fn is_complete(&self) -> bool {
        self.next_row >= self.size[1]
    }

    /// The bands still to draw.
    pub fn bands_left(&self) -> u32 {
        (self.size[1] - self.next_row.min(self.size[1])).div_ceil(self.band_rows)
    }

    /// The time spent drawing its bands so far.
    pub fn drawing_time(&self) -> Duration {
        self.drawing
    }
}

impl std::fmt::Debug for BandedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BandedImage")
            .field("size", &self.size)
            .field("band_rows", &self.band_rows)
            .field("next_row", &self.next_row)
            .finish_non_exhaustive()
    }
}

impl Renderer {
    /// An image of `size` to be drawn in `bands` bands of rows (at least one, at most one
    /// a row) by [`Self::draw_band`].
    pub fn begin_banded(&self, size: [u32; 2], bands: u32) -> Result<BandedImage, RenderError> {
        self.check_size(size)?;
        let texture = frame_texture(&self.context.device, size, "banded image");
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        Ok(BandedImage {
            texture,
            view,
            size,
            band_rows: size[1].div_ceil(bands.clamp(1, size[1])),
            next_row: 0,
            drawing: Duration::ZERO,
        })
    }

    /// Draws the next band of `view` (at full quality: the view's own) into `image` and
    /// waits for the GPU.
    pub fn draw_band(
        &mut self,
        view: &ViewState,
        image: &mut BandedImage,
    ) -> Result<(), RenderError> {
        if image.is_complete() {
            return Ok(());
        }
        let started = Instant::now();
        let window = self.effective_window(view).ok_or(RenderError::NoVolume)?;
        let (bind_group, choice, _) = self.prepare_draw(view, image.size, window)?;
        let pipeline = self.pipeline(choice)?;
        let rows = image.band_rows.min(image.size[1] - image.next_row);
        let mut encoder =
            self.context
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("band"),
                });
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("band"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &image.view,
                    depth_slice: None,
                    resolve_target: None,
                    // The bands drawn before stay.
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Load,
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.set_scissor_rect(0, image.next_row, image.size[0], rows);
            pass.draw(0..3, 0..1);
        }
        self.context.queue.submit([encoder.finish()]);
        self.wait()?;
        image.next_row += rows;
        image.drawing += started.elapsed();
        Ok(())
    }

    /// Reads a complete banded image back; its drawing time counts as one frame of
    /// `view`'s.
    pub fn read_banded(
        &mut self,
        view: &ViewState,
        image: &BandedImage,
    ) -> Result<FrameImage, RenderError> {
        let [width, height] = image.size;
        let padded_row = (width * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
        let buffer = self.context.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("banded readback"),
            size: u64::from(padded_row) * u64::from(height),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut encoder =
            self.context
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("banded readback"),
                });
        encoder.copy_texture_to_buffer(
            image.texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded_row),
                    rows_per_image: Some(height),
                },
            },
            wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
        );
        self.context.queue.submit([encoder.finish()]);
        let rgba = self.mapped_rows(&buffer, padded_row, image.size)?;
        self.record_time(view, image.drawing);
        Ok(FrameImage {
            width,
            height,
            rgba,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{MOST_BANDS, bands_for};
    use crate::gpu::{GpuContext, Renderer};
    use crate::transfer::{PresetLibrary, RenderMode};
    use crate::view::ViewState;

    #[test]
    fn an_image_drawn_in_bands_between_other_frames_is_the_whole_frame() {
        let context = GpuContext::headless().expect("a GPU adapter (lavapipe)");
        let mut renderer = Renderer::new(context, PresetLibrary::builtin());
        let volume = std::sync::Arc::new(crate::phantom::ct_phantom());
        renderer.load_volume(volume.clone());
        let view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        let size = [96, 70];
        let whole = renderer.render_image(&view, size).expect("a whole frame");
        let mut banded = renderer.begin_banded(size, 4).expect("a banded image");
        assert_eq!(banded.bands_left(), 4);
        let mut other = view.clone();
        other.camera.orbit(90.0, 0.0);
        while !banded.is_complete() {
            renderer.draw_band(&view, &mut banded).expect("a band");
            // Another session's frame in between, same size, another view.
            renderer.render_image(&other, size).expect("another frame");
        }
        assert_eq!(banded.bands_left(), 0);
        let image = renderer.read_banded(&view, &banded).expect("read back");
        assert_eq!(
            image, whole,
            "the bands make the whole frame, pixel for pixel"
        );
        let differs = renderer.render_image(&other, size).expect("another frame");
        assert_ne!(image, differs, "the other view is another picture");
    }

    #[test]
    fn a_slower_image_is_cut_into_more_bands_within_bounds() {
        assert_eq!(bands_for(Duration::from_millis(10)), 2);
        assert_eq!(bands_for(Duration::from_millis(450)), 15);
        assert_eq!(bands_for(Duration::from_secs(10)), MOST_BANDS);
    }
}
