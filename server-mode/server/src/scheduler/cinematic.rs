//! Cinematic pictures refined on the server while a view rests. A session whose 3D view's
//! light says `cinematic` gets its ray-cast still as ever; then, in its later turns, the
//! render thread path traces the same view a band of rows at a time (about
//! [`STEP_TAKES`] a turn, so that the sessions in between get their frames), and sends
//! the picture as it stands after 1, 2, 4, 8… paths a pixel, up to
//! [`CinematicSettings::RESTING_PASSES`]. Any newer request of the session (a turn of the
//! camera, another preset) takes the picture's place in its slot, and the picture is let
//! go: the next still starts a new one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use render_core::Volume;
use render_core::gpu::{CinematicPicture, CinematicSettings, FrameImage, RenderError, Renderer};
use render_core::transfer::RenderMode;
use render_core::view::Quality;

use super::RenderRequest;
use crate::encode::Encoding;
use hounsfield_protocol::Layout;

/// What one turn of refining may take: the rows a turn draws follow from the last turn's
/// time a row.
const STEP_TAKES: Duration = Duration::from_millis(50);
/// Rows the first turn of a picture draws, before any is timed.
const FIRST_ROWS: u32 = 8;

/// The cinematic pictures being refined, at most one a session.
#[derive(Default)]
pub(super) struct CinematicStills {
    pictures: HashMap<u64, Refinement>,
}

/// One session's picture, what it is a picture of, and the rows a turn draws.
struct Refinement {
    volume: Arc<Volume>,
    input_seq: u32,
    /// How its pictures are encoded: a still asked for in another encoding (the
    /// Lossless button) is drawn at once, and starts the picture over.
    encoding: Encoding,
    picture: CinematicPicture,
    rows: u32,
}

impl Refinement {
    fn is_of(&self, request: &RenderRequest) -> bool {
        Arc::ptr_eq(&self.volume, &request.volume)
            && self.input_seq == request.input_seq
            && self.encoding == request.encoding
            && self.picture.size() == request.size
            && *self.picture.view() == request.view
    }
}

/// What a turn of refining came to.
pub(super) enum Refined {
    /// A band of rows drawn; the picture is not due to be sent yet.
    Band,
    /// A pass completed at a count of paths that is sent: the picture, and its paths.
    Picture(FrameImage, u32),
}

impl CinematicStills {
    /// Whether `request` is one a cinematic picture is refined for: a final still of the
    /// lone 3D view in composite mode whose light asks for it.
    pub(super) fn wants(request: &RenderRequest) -> bool {
        request.final_still
            && request.layout == Layout::Single
            && request.view.lighting.cinematic
            && request.view.mode == RenderMode::Composite
            && request.view.mpr.is_none()
            && request.view.quality == Quality::Full
    }

    /// Whether `session`'s `request` is the one its picture is being refined for (its
    /// ray-cast still was sent).
    pub(super) fn refining(&self, session: u64, request: &RenderRequest) -> bool {
        self.pictures
            .get(&session)
            .is_some_and(|refinement| refinement.is_of(request))
    }

    /// Begins `session`'s picture of `request` (its ray-cast still sent), in place of any
    /// picture it had. Refused where the adapter cannot path trace or the picture's sums
    /// do not fit.
    pub(super) fn begin(
        &mut self,
        session: u64,
        request: &RenderRequest,
        renderer: &mut Renderer,
    ) -> Result<(), RenderError> {
        self.pictures.remove(&session);
        let picture = renderer.begin_cinematic(
            &request.view,
            request.size,
            CinematicSettings::RESTING_SEED,
        )?;
        self.pictures.insert(
            session,
            Refinement {
                volume: request.volume.clone(),
                input_seq: request.input_seq,
                encoding: request.encoding,
                picture,
                rows: FIRST_ROWS,
            },
        );
        Ok(())
    }

    /// Draws the next band of `session`'s picture; the picture read back when that band
    /// completed a pass whose count of paths is sent (a power of two, or the most). The
    /// picture is let go once it has its most paths, or when drawing fails.
    pub(super) fn refine(
        &mut self,
        session: u64,
        renderer: &mut Renderer,
    ) -> Result<Refined, RenderError> {
        let Some(refinement) = self.pictures.get_mut(&session) else {
            return Err(RenderError::Cinematic(
                "no cinematic picture is being refined".to_string(),
            ));
        };
        let started = Instant::now();
        let rows = refinement.rows;
        let whole = match renderer.refine_cinematic_rows(&mut refinement.picture, rows) {
            Ok(whole) => whole,
            Err(error) => {
                self.pictures.remove(&session);
                return Err(error);
            }
        };
        let height = refinement.picture.size()[1];
        refinement.rows = rows_for(started.elapsed(), rows, height);
        let paths = refinement.picture.passes();
        if !whole || !sent_at(paths) {
            return Ok(Refined::Band);
        }
        let image = renderer.read_cinematic(&refinement.picture);
        if image.is_err() || paths >= CinematicSettings::RESTING_PASSES {
            self.pictures.remove(&session);
        }
        Ok(Refined::Picture(image?, paths))
    }

    /// Lets go of the pictures of sessions that are gone (`current` says whether a
    /// session's picture is still wanted).
    pub(super) fn retain(&mut self, mut current: impl FnMut(u64) -> bool) {
        self.pictures.retain(|&session, _| current(session));
    }

    /// Lets go of `session`'s picture.
    pub(super) fn end(&mut self, session: u64) {
        self.pictures.remove(&session);
    }

    /// Pictures being refined.
    pub(super) fn len(&self) -> usize {
        self.pictures.len()
    }
}

/// Whether a picture of `paths` paths a pixel is sent: after 1, 2, 4, 8… and the most.
fn sent_at(paths: u32) -> bool {
    paths.is_power_of_two() || paths >= CinematicSettings::RESTING_PASSES
}

/// The rows the next turn draws, after `rows` took `took`: as many as fit
/// [`STEP_TAKES`], from one to the picture's `height`.
fn rows_for(took: Duration, rows: u32, height: u32) -> u32 {
    let a_row = took.as_secs_f64() / f64::from(rows.max(1));
    let fit = STEP_TAKES.as_secs_f64() / a_row.max(1e-6);
    (fit as u32).clamp(1, height.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resting(volume: &Arc<Volume>) -> RenderRequest {
        let mut request = super::super::test_still(volume, [32, 24], 3);
        request.view.lighting.cinematic = true;
        request.view.quality = Quality::Full;
        request
    }

    #[test]
    fn only_a_resting_lone_composite_view_whose_light_asks_is_refined() {
        let volume = Arc::new(render_core::phantom::ct_phantom());
        let request = resting(&volume);
        assert!(CinematicStills::wants(&request));
        let variants: [fn(&mut RenderRequest); 5] = [
            |r| r.final_still = false,
            |r| r.layout = Layout::Quad,
            |r| r.view.lighting.cinematic = false,
            |r| r.view.mode = RenderMode::Mip,
            |r| r.view.quality = Quality::Interactive,
        ];
        for (n, change) in variants.iter().enumerate() {
            let mut other = request.clone();
            change(&mut other);
            assert!(!CinematicStills::wants(&other), "variant {n}");
        }
    }

    #[test]
    fn pictures_are_sent_at_powers_of_two_and_the_most() {
        let sent: Vec<u32> = (1..=CinematicSettings::RESTING_PASSES)
            .filter(|&paths| sent_at(paths))
            .collect();
        assert_eq!(sent, [1, 2, 4, 8, 16, 32, 64, 128, 256]);
    }

    #[test]
    fn a_turn_draws_the_rows_that_fit_its_time() {
        assert_eq!(rows_for(Duration::from_millis(10), 8, 600), 40);
        assert_eq!(rows_for(Duration::from_millis(500), 8, 600), 1);
        assert_eq!(rows_for(Duration::from_micros(1), 8, 600), 600);
    }

    #[test]
    fn a_picture_refines_to_what_render_cinematic_draws_and_yields_to_another_view() {
        let volume = Arc::new(render_core::phantom::ct_phantom());
        let context = render_core::gpu::GpuContext::headless().expect("a GPU adapter");
        if !context.capabilities.compute_shaders {
            return;
        }
        let mut renderer = Renderer::new(context, render_core::transfer::PresetLibrary::builtin());
        renderer.load_volume(volume.clone());
        let request = resting(&volume);
        let mut stills = CinematicStills::default();
        stills.begin(7, &request, &mut renderer).expect("begun");
        assert!(stills.refining(7, &request));
        let jpeg = RenderRequest {
            encoding: Encoding::Jpeg { quality: 90 },
            ..request.clone()
        };
        assert!(!stills.refining(7, &jpeg), "a still in another encoding");
        let mut pictures = Vec::new();
        let mut other = request.view.clone();
        other.lighting.cinematic = false;
        while pictures.len() < 2 {
            if let Refined::Picture(image, paths) = stills.refine(7, &mut renderer).expect("drawn")
            {
                pictures.push((image, paths));
            }
            // Another session's frame of another size between the bands.
            renderer.render_image(&other, [40, 36]).expect("drawn");
        }
        let (image, paths) = pictures.pop().expect("two pictures");
        assert_eq!(paths, 2);
        let settings = CinematicSettings {
            samples: 2,
            seed: CinematicSettings::RESTING_SEED,
        };
        let drawn = renderer
            .render_cinematic(&request.view, request.size, settings)
            .expect("drawn whole");
        assert!(
            image.rgba == drawn.rgba,
            "refined in bands, the picture render_cinematic draws"
        );
        let mut turned = request.clone();
        turned.view.camera.orbit(30.0, 0.0);
        assert!(
            !stills.refining(7, &turned),
            "another view is another picture"
        );
        stills.end(7);
        assert_eq!(stills.len(), 0);
    }
}
