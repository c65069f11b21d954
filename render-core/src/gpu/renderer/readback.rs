//! Frames read back from the GPU into memory: the picture as shown, or as drawn (an
//! interactive frame at its internal resolution) for a stream to send.

use std::time::Instant;

use super::{RenderError, Renderer};
use crate::gpu::GpuError;
use crate::view::ViewState;

/// An RGBA frame read back from the GPU, rows top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 4 bytes per pixel, RGBA, row-major from the top-left.
    pub rgba: Vec<u8>,
}

impl FrameImage {
    /// The pixel at column `x`, row `y`.
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let n = ((y * self.width + x) * 4) as usize;
        [
            self.rgba[n],
            self.rgba[n + 1],
            self.rgba[n + 2],
            self.rgba[n + 3],
        ]
    }

    /// Writes the frame as a PNG file.
    pub fn save_png(&self, path: &std::path::Path) -> Result<(), image::ImageError> {
        image::save_buffer(
            path,
            &self.rgba,
            self.width,
            self.height,
            image::ExtendedColorType::Rgba8,
        )
    }
}

/// Where a frame is read back to: a mappable buffer with rows `padded_row` bytes apart,
/// from the output texture or, `as_drawn`, from the reduced one an interactive frame was
/// drawn into.
pub(super) struct Readback<'a> {
    pub(super) buffer: &'a wgpu::Buffer,
    pub(super) padded_row: u32,
    pub(super) as_drawn: bool,
}

impl Renderer {
    /// Renders `view` at `size` and reads the frame back.
    pub fn render_image(
        &mut self,
        view: &ViewState,
        size: [u32; 2],
    ) -> Result<FrameImage, RenderError> {
        self.read_back(view, size, false)
    }

    /// Renders `view` for `size` and reads the picture back as drawn, before upscaling:
    /// an interactive 3D frame at its internal resolution (even sides), anything else at
    /// `size`. Scaled up bilinearly to `size`, it is what [`Self::render_image`] gives, so
    /// a stream can send fewer pixels and leave the upscaling to whoever shows them.
    pub fn render_image_as_drawn(
        &mut self,
        view: &ViewState,
        size: [u32; 2],
    ) -> Result<FrameImage, RenderError> {
        self.read_back(view, size, true)
    }

    pub(super) fn read_back(
        &mut self,
        view: &ViewState,
        size: [u32; 2],
        as_drawn: bool,
    ) -> Result<FrameImage, RenderError> {
        let started = Instant::now();
        self.settle_budget(view, size);
        let read_size = if as_drawn {
            self.internal_size(view, size)
        } else {
            size
        };
        let (buffer, padded_row) = self.readback_buffer(read_size);
        let readback = Readback {
            buffer: &buffer,
            padded_row,
            as_drawn,
        };
        self.encode_frame(view, size, Some(readback))?;
        let rgba = self.mapped_rows(&buffer, padded_row, read_size)?;
        self.record_time(view, size, started.elapsed());
        Ok(FrameImage {
            width: read_size[0],
            height: read_size[1],
            rgba,
        })
    }

    /// A buffer to read a `size` picture back into, and its rows' stride in bytes: the
    /// renderer's one read-back buffer, made larger when the picture needs it. A frame is
    /// read back and the buffer unmapped before the next is drawn, so one serves them
    /// all, and no frame pays for a new buffer (on a GPU, mapping fresh host memory cost
    /// more than the frame's drawing).
    pub(super) fn readback_buffer(&mut self, size: [u32; 2]) -> (wgpu::Buffer, u32) {
        let padded_row = (size[0] * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
        let bytes = readback_bytes(padded_row, size);
        match &self.readback {
            Some(buffer) if buffer.size() >= bytes => (buffer.clone(), padded_row),
            _ => {
                let buffer = self.context.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("readback"),
                    size: bytes,
                    usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
                    mapped_at_creation: false,
                });
                self.readback = Some(buffer.clone());
                (buffer, padded_row)
            }
        }
    }

    /// Waits for the GPU and reads `buffer` (a copy of a `read_size` picture submitted
    /// just before, rows `padded_row` bytes apart) into tightly packed RGBA rows. A buffer
    /// that could not be read is not used again: it may be left mapped.
    pub(super) fn mapped_rows(
        &mut self,
        buffer: &wgpu::Buffer,
        padded_row: u32,
        read_size: [u32; 2],
    ) -> Result<Vec<u8>, RenderError> {
        let rows = self.read_rows(buffer, padded_row, read_size);
        if rows.is_err() {
            self.readback = None;
        }
        rows
    }

    fn read_rows(
        &self,
        buffer: &wgpu::Buffer,
        padded_row: u32,
        read_size: [u32; 2],
    ) -> Result<Vec<u8>, RenderError> {
        let slice = buffer.slice(..readback_bytes(padded_row, read_size));
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        slice.map_async(wgpu::MapMode::Read, move |result| {
            // The receiver waits below; a send can only fail if it is gone.
            let _ = sender.send(result);
        });
        self.wait()?;
        receiver
            .recv()
            .map_err(|error| GpuError::Device(error.to_string()))?
            .map_err(|error| GpuError::Device(error.to_string()))?;
        let mapped = slice
            .get_mapped_range()
            .map_err(|error| GpuError::Device(error.to_string()))?;
        let row_bytes = (read_size[0] * 4) as usize;
        let mut rgba = Vec::with_capacity(row_bytes * read_size[1] as usize);
        for row in mapped
            .chunks(padded_row as usize)
            .take(read_size[1] as usize)
        {
            rgba.extend_from_slice(&row[..row_bytes]);
        }
        drop(mapped);
        buffer.unmap();
        Ok(rgba)
    }

    /// The size `view` is drawn at for an output of `size`: the output's own, or for an
    /// interactive or refining 3D frame its budget's share of it, with even sides (so that a video
    /// encoder takes the picture whole).
    pub(super) fn internal_size(&self, view: &ViewState, size: [u32; 2]) -> [u32; 2] {
        let Some(scale) = self.budget(view).map(|budget| budget.scale) else {
            return size;
        };
        if scale >= 1.0 {
            return size;
        }
        size.map(|side| (((side as f32 * scale / 2.0).round() as u32) * 2).clamp(2.min(side), side))
    }
}

/// The bytes a `size` picture takes read back with rows `padded_row` bytes apart.
fn readback_bytes(padded_row: u32, size: [u32; 2]) -> u64 {
    u64::from(padded_row) * u64::from(size[1].max(1))
}

#[cfg(test)]
mod tests {
    use crate::gpu::testing::phantom_renderer;
    use crate::transfer::RenderMode;
    use crate::view::ViewState;

    #[test]
    fn frames_of_every_size_are_read_back_through_one_buffer_grown_when_needed() {
        let (mut renderer, volume) = phantom_renderer();
        let view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        let small = renderer.render_image(&view, [50, 30]).expect("small");
        let first = renderer.readback.clone().expect("a read-back buffer");
        let large = renderer.render_image(&view, [90, 70]).expect("large");
        let grown = renderer.readback.clone().expect("a read-back buffer");
        assert!(grown.size() > first.size(), "grown for the larger frame");
        let again = renderer.render_image(&view, [50, 30]).expect("small again");
        assert_eq!(
            again, small,
            "the small frame read through the larger buffer"
        );
        assert_eq!(
            renderer.readback.as_ref().map(wgpu::Buffer::size),
            Some(grown.size()),
            "no new buffer for a smaller frame"
        );
        let (mut fresh, _) = phantom_renderer();
        assert_eq!(
            fresh.render_image(&view, [90, 70]).expect("large, fresh"),
            large,
            "the same picture as a renderer that read nothing before"
        );
    }
}
