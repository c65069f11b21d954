//! Cinematic rendering: the view path traced (`shaders/cinematic.wgsl`), a pass at a
//! time, each pass adding one path a pixel to the pixels' running sums, so that the
//! picture (their mean) refines as passes add up. The same seed draws the same picture.

use super::{RenderError, Renderer};
use crate::gpu::FrameImage;
use crate::gpu::pipelines::{CinematicEntry, CinematicParams, RaycastVariant};
use crate::transfer::RenderMode;
use crate::view::{Quality, ViewState};

/// How a cinematic picture is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CinematicSettings {
    /// Paths a pixel (passes), at least 1.
    pub samples: u32,
    /// The seed of the paths' random numbers.
    pub seed: u32,
}

impl CinematicSettings {
    /// The most passes one picture takes.
    pub const MOST_SAMPLES: u32 = 65_536;
    /// Paths a pixel after which a resting view's picture (the desktop's, the server's)
    /// is left as it is: refining stops there, so a view left resting does not hold the
    /// GPU for ever.
    pub const RESTING_PASSES: u32 = 256;
    /// The seed of a resting view's picture: the same view refines to the same picture
    /// wherever it is drawn.
    pub const RESTING_SEED: u32 = 1;
}

/// Scattering events a path may have.
const BOUNCES: u32 = 4;
/// The reader's light: radiance from its direction (a Lambertian surface facing it
/// reflects its albedo × this / π: about the ray caster's brightest at 3).
const LIGHT_INTENSITY: f32 = 3.0;
/// The environment's light above the patient's head and below the feet.
const SKY: f32 = 0.6;
const GROUND: f32 = 0.15;
/// The medium's phase function: isotropic (Henyey-Greenstein with g = 0).
const ANISOTROPY: f32 = 0.0;
/// Passes recorded into one submission.
const PASSES_A_SUBMISSION: usize = 8;

/// A cinematic picture being refined: the view, its size and seed, and the pixels'
/// running sums over the passes made so far ([`Renderer::refine_cinematic`]).
#[derive(Debug)]
pub struct CinematicPicture {
    view: ViewState,
    size: [u32; 2],
    seed: u32,
    sums: wgpu::Buffer,
    passes: u32,
    /// The first row the pass under way has not drawn yet (0 between passes).
    next_row: u32,
}

impl CinematicPicture {
    /// Paths a pixel so far.
    pub fn passes(&self) -> u32 {
        self.passes
    }

    /// The view it draws.
    pub fn view(&self) -> &ViewState {
        &self.view
    }

    /// Its size (pixels).
    pub fn size(&self) -> [u32; 2] {
        self.size
    }

    /// Whether a pass drawn in bands is under way (some of its rows drawn, not all).
    pub fn pass_under_way(&self) -> bool {
        self.next_row != 0
    }
}

impl Renderer {
    /// Path traces `view` (composite mode) at `size`, `settings.samples` paths a pixel
    /// from `settings.seed`, and reads the picture back ([`Self::begin_cinematic`], then
    /// [`Self::refine_cinematic`]).
    pub fn render_cinematic(
        &mut self,
        view: &ViewState,
        size: [u32; 2],
        settings: CinematicSettings,
    ) -> Result<FrameImage, RenderError> {
        let mut picture = self.begin_cinematic(view, size, settings.seed)?;
        self.refine_cinematic(&mut picture, settings.samples)
    }

    /// A cinematic picture of `view` at `size` from `seed`, with no paths yet. Refused
    /// where the device has no compute shaders, for a mode other than composite, and for
    /// a frame whose sums do not fit one storage buffer.
    pub fn begin_cinematic(
        &mut self,
        view: &ViewState,
        size: [u32; 2],
        seed: u32,
    ) -> Result<CinematicPicture, RenderError> {
        self.check_size(size)?;
        if !self.context.capabilities.compute_shaders {
            return Err(RenderError::Cinematic(
                "this adapter has no compute shaders".to_string(),
            ));
        }
        if view.mode != RenderMode::Composite || view.mpr.is_some() {
            return Err(RenderError::Cinematic(
                "only the composite 3D view is path traced".to_string(),
            ));
        }
        let sums_bytes = u64::from(size[0]) * u64::from(size[1]) * 16;
        let most = self.context.device.limits().max_storage_buffer_binding_size;
        if sums_bytes > most {
            return Err(RenderError::Cinematic(format!(
                "{}×{} pixels need {sums_bytes} bytes of sums, over this adapter's {most}",
                size[0], size[1]
            )));
        }
        let sums = self.context.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("cinematic sums"),
            size: sums_bytes,
            usage: wgpu::BufferUsages::STORAGE,
            // New buffers are zeroed.
            mapped_at_creation: false,
        });
        let mut view = view.clone();
        view.quality = Quality::Full;
        Ok(CinematicPicture {
            view,
            size,
            seed,
            sums,
            passes: 0,
            next_row: 0,
        })
    }

    /// Adds `passes` paths a pixel to `picture` and reads back its mean so far. At most
    /// [`CinematicSettings::MOST_SAMPLES`] paths a pixel in all; 0 more is refused.
    pub fn refine_cinematic(
        &mut self,
        picture: &mut CinematicPicture,
        passes: u32,
    ) -> Result<FrameImage, RenderError> {
        let total = picture.passes.saturating_add(passes);
        if picture.next_row != 0 {
            return Err(RenderError::Cinematic(
                "a pass drawn in bands is under way".to_string(),
            ));
        }
        if passes == 0 || total > CinematicSettings::MOST_SAMPLES {
            return Err(RenderError::Cinematic(format!(
                "samples {passes} more than {}: must come to 1..={} in all",
                picture.passes,
                CinematicSettings::MOST_SAMPLES
            )));
        }
        let size = picture.size;
        let (pipeline, view_group, frame_group) =
            self.cinematic_drawing(picture, [0, size[1]], CinematicEntry::Trace)?;
        let pass_groups: Vec<wgpu::BindGroup> = (picture.passes..total)
            .map(|pass_index| self.cinematic_pass(picture, pass_index))
            .collect();
        for batch in pass_groups.chunks(PASSES_A_SUBMISSION) {
            let mut encoder =
                self.context
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("cinematic"),
                    });
            for pass_group in batch {
                super::trace_with(
                    &mut encoder,
                    &pipeline,
                    &[&view_group, &frame_group, pass_group],
                    size,
                );
            }
            self.context.queue.submit([encoder.finish()]);
        }
        picture.passes = total;
        self.read_cinematic(picture)
    }

    /// Reads back `picture`'s mean over its whole passes, made anew from its sums (the
    /// frame texture may have been drawn over since, by another view of the same
    /// renderer). Refused while a pass drawn in bands is under way, or before any pass.
    pub fn read_cinematic(
        &mut self,
        picture: &CinematicPicture,
    ) -> Result<FrameImage, RenderError> {
        if picture.next_row != 0 || picture.passes == 0 {
            return Err(RenderError::Cinematic(
                "the picture has no whole pass to read since its last".to_string(),
            ));
        }
        let size = picture.size;
        let (resolve, view_group, frame_group) =
            self.cinematic_drawing(picture, [0, size[1]], CinematicEntry::Resolve)?;
        // The sums' bind group; its pass index is not read.
        let sums_group = self.cinematic_pass(picture, picture.passes);
        let (buffer, padded_row) = self.readback_buffer(size);
        let mut encoder =
            self.context
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("cinematic read-back"),
                });
        super::trace_with(
            &mut encoder,
            &resolve,
            &[&view_group, &frame_group, &sums_group],
            size,
        );
        let targets = self.targets.as_ref().ok_or(RenderError::NoVolume)?;
        super::copy_to_buffer(
            &mut encoder,
            &targets.output.texture,
            &buffer,
            padded_row,
            size,
        );
        self.context.queue.submit([encoder.finish()]);
        let rgba = self.mapped_rows(&buffer, padded_row, size)?;
        Ok(FrameImage {
            width: size[0],
            height: size[1],
            rgba,
        })
    }

    /// Draws up to `rows` more rows of `picture`'s pass under way into the frame texture
    /// ([`Self::frame_texture`]), without reading it back: the same paths a whole pass
    /// draws, so that a window can refine between its frames. Whether that pass is now
    /// whole. Refused once the picture has its most paths.
    pub fn refine_cinematic_rows(
        &mut self,
        picture: &mut CinematicPicture,
        rows: u32,
    ) -> Result<bool, RenderError> {
        if picture.passes >= CinematicSettings::MOST_SAMPLES {
            return Err(RenderError::Cinematic(format!(
                "the picture has its {} paths a pixel",
                CinematicSettings::MOST_SAMPLES
            )));
        }
        let size = picture.size;
        let first = picture.next_row;
        let last = first.saturating_add(rows.max(1)).min(size[1]);
        let (pipeline, view_group, frame_group) =
            self.cinematic_drawing(picture, [first, last], CinematicEntry::Trace)?;
        let pass_group = self.cinematic_pass(picture, picture.passes);
        let mut encoder =
            self.context
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("cinematic rows"),
                });
        super::trace_with(
            &mut encoder,
            &pipeline,
            &[&view_group, &frame_group, &pass_group],
            [size[0], last - first],
        );
        self.context.queue.submit([encoder.finish()]);
        self.wait()?;
        let whole = last == size[1];
        if whole {
            picture.passes += 1;
            picture.next_row = 0;
        } else {
            picture.next_row = last;
        }
        Ok(whole)
    }

    /// What draws the `rows` (first, one past the last) of `picture` into the frame
    /// texture at `stage`: the pipeline specialised for its view, the view's bind group
    /// and the frame's.
    fn cinematic_drawing(
        &mut self,
        picture: &CinematicPicture,
        rows: [u32; 2],
        stage: CinematicEntry,
    ) -> Result<(wgpu::ComputePipeline, wgpu::BindGroup, wgpu::BindGroup), RenderError> {
        let window = self
            .effective_window(&picture.view)
            .ok_or(RenderError::NoVolume)?;
        self.ensure_targets(picture.size);
        let (view_group, variant, _) =
            self.raycast_bind_group(&picture.view, picture.size, window, rows)?;
        // Paths are traced through the volume alone: a series drawn over is the ray
        // caster's.
        let variant = RaycastVariant {
            over: false,
            ..variant
        };
        let targets = self.targets.as_ref().ok_or(RenderError::NoVolume)?;
        let frame_group = targets
            .output
            .traced(&self.context.device, &self.pipelines)
            .into_owned();
        let device = &self.context.device;
        let pipeline = self.pipelines.cinematic(device, variant, stage).clone();
        Ok((pipeline, view_group, frame_group))
    }

    /// The bind group of `picture`'s pass `pass_index`: its uniforms and the sums.
    fn cinematic_pass(&self, picture: &CinematicPicture, pass_index: u32) -> wgpu::BindGroup {
        let params = CinematicParams {
            pass_index,
            seed: picture.seed,
            bounces: BOUNCES,
            width: picture.size[0],
            light_intensity: LIGHT_INTENSITY,
            sky: SKY,
            ground: GROUND,
            anisotropy: ANISOTROPY,
        };
        let uniforms = self.uniform_buffer("cinematic", bytemuck::bytes_of(&params));
        self.context
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("cinematic"),
                layout: &self.pipelines.cinematic_layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: uniforms.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: picture.sums.as_entire_binding(),
                    },
                ],
            })
    }
}
