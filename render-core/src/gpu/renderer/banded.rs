//! A final image drawn a band of rows at a time. A server whose one render thread serves
//! several sessions draws a slow still between the other sessions' frames, a band each
//! turn, instead of holding every other session for the still's whole length. The bands
//! go into a texture of the image's own, so frames drawn in between leave them alone;
//! each band runs the same rays as a whole frame would, so the finished image is the
//! whole frame's, pixel for pixel.

use std::time::{Duration, Instant};

use super::readback::FrameImage;
use super::target::FrameTarget;
use super::{Band, RenderError, Renderer, copy_to_buffer};
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
    target: FrameTarget,
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
        let target = FrameTarget::new(&self.context, &self.pipelines, size, "banded image");
        Ok(BandedImage {
            target,
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
        let band = Band {
            first_row: image.next_row,
            rows: image.band_rows.min(image.size[1] - image.next_row),
            width: image.size[0],
        };
        let (bind_group, choice, _) = self.prepare_draw(view, image.size, window, band.span())?;
        let drawing = self.drawing(choice)?;
        let mut encoder =
            self.context
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("band"),
                });
        self.record(
            &mut encoder,
            drawing,
            &bind_group,
            &image.target,
            image.size,
            Some(band),
        );
        self.context.queue.submit([encoder.finish()]);
        self.wait()?;
        image.next_row += band.rows;
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
        let (buffer, padded_row) = self.readback_buffer(image.size);
        let mut encoder =
            self.context
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("banded readback"),
                });
        copy_to_buffer(
            &mut encoder,
            &image.target.texture,
            &buffer,
            padded_row,
            image.size,
        );
        self.context.queue.submit([encoder.finish()]);
        let rgba = self.mapped_rows(&buffer, padded_row, image.size)?;
        self.record_time(view, image.size, image.drawing);
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
    use crate::gpu::testing::phantom_renderer;
    use crate::transfer::RenderMode;
    use crate::view::ViewState;

    #[test]
    fn an_image_drawn_in_bands_between_other_frames_is_the_whole_frame() {
        let (mut renderer, volume) = phantom_renderer();
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
