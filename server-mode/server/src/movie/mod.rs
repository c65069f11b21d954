//! Movies of a series: what the camera or the slice does over the movie ([`Motion`]), and
//! the render request of each of its frames ([`MovieFrames`]), drawn by the `movie`
//! command's own renderer or, for `export_movie`, by the server's render thread
//! ([`export`]) and kept for download ([`shelf`], [`handler`]).

pub mod export;
mod recorded;
pub mod shelf;

use std::sync::Arc;

use glam::DVec3;
use hounsfield_protocol::Layout;
use render_core::Volume;
use render_core::view::{MprOrientation, MprPlane, Quality, ViewState};

use crate::encode::Encoding;
use crate::recording::Recording;
use crate::scheduler::RenderRequest;
use crate::series_volumes::SeriesVolumes;
use recorded::RecordedViews;

/// Most frames one movie takes: a minute at 60 frames a second.
pub const MAX_MOVIE_FRAMES: u32 = 3600;
/// Most pixels a movie frame has (4096 × 4096, as a snapshot).
pub const MAX_MOVIE_PIXELS: u64 = 4096 * 4096;

/// What the camera or the slice does over the movie.
#[derive(Debug, Clone, PartialEq)]
pub enum Motion {
    /// The camera turns this many degrees about the patient's vertical axis from the
    /// movie's first view.
    Orbit {
        /// Degrees over the whole movie (360: a full turn, the last frame a step short).
        degrees: f64,
    },
    /// A standard slice steps from one end of the volume to the other along its normal.
    Sweep {
        /// The slice's plane.
        orientation: MprOrientation,
    },
    /// A session recording's views, from its start to its end.
    Recording(Box<Recording>),
}

impl Motion {
    /// The orbit of `degrees`, refused beyond ten turns either way.
    pub fn orbit(degrees: f64) -> Result<Self, String> {
        if !degrees.is_finite() || degrees.abs() > 3600.0 {
            return Err(format!("orbit {degrees}: degrees within ±3600"));
        }
        Ok(Self::Orbit { degrees })
    }

    /// The sweep of the standard plane `name` (`axial`, `coronal` or `sagittal`).
    pub fn sweep(name: &str) -> Result<Self, String> {
        MprOrientation::from_name(name)
            .filter(|o| !matches!(o, MprOrientation::Oblique { .. }))
            .map(|orientation| Self::Sweep { orientation })
            .ok_or_else(|| {
                let name = hounsfield_protocol::cut_with_mark(name, 40);
                format!("sweep {name:?}: axial, coronal or sagittal")
            })
    }
}

/// Why a movie's frames, size or rate were refused.
pub fn check_shape(frames: u32, size: [u32; 2], most_pixels: u64) -> Result<(), String> {
    let [width, height] = size;
    if width < 16 || height < 16 || width % 2 == 1 || height % 2 == 1 {
        return Err(format!(
            "size {width}x{height}: H.264 takes even sides of at least 16 pixels"
        ));
    }
    if u64::from(width) * u64::from(height) > most_pixels {
        return Err(format!(
            "size {width}x{height}: at most {most_pixels} pixels a frame"
        ));
    }
    if !(1..=MAX_MOVIE_FRAMES).contains(&frames) {
        return Err(format!("frames {frames}: from 1 to {MAX_MOVIE_FRAMES}"));
    }
    Ok(())
}

/// The render requests of a movie's frames: lossless final stills at the movie's size.
pub struct MovieFrames {
    volume: Arc<Volume>,
    size: [u32; 2],
    source: Source,
}

/// Where a movie's views come from.
enum Source {
    /// A first view moved by an orbit or a sweep.
    Moved {
        first: Box<ViewState>,
        motion: Motion,
    },
    /// A recording's views, played through a session of their own.
    Recorded(Box<RecordedViews>),
}

impl MovieFrames {
    /// The frames of `motion` over `volume` at `size`: an orbit or a sweep from `first`
    /// (drawn alone, the 3D view for an orbit), a recording as the server plays it (its
    /// series opened as `series`).
    pub fn new(
        motion: Motion,
        first: &ViewState,
        volumes: SeriesVolumes,
        series: &str,
        size: [u32; 2],
        presets: render_core::transfer::PresetLibrary,
    ) -> Self {
        // An orbit or a sweep moves through the volume shown.
        let volume = volumes
            .get(first.time_point)
            .map_or_else(|| volumes.first().clone(), |shown| shown.volume.clone());
        let source = match motion {
            Motion::Recording(recording) => Source::Recorded(Box::new(RecordedViews::new(
                *recording, presets, series, volumes, size,
            ))),
            motion => {
                let mut first = first.clone();
                if matches!(motion, Motion::Orbit { .. }) {
                    first.mpr = None;
                }
                first.quality = Quality::Full;
                Source::Moved {
                    first: Box::new(first),
                    motion,
                }
            }
        };
        Self {
            volume,
            size,
            source,
        }
    }

    /// The request for frame `n` of `frames`.
    pub fn request(&mut self, n: u32, frames: u32) -> Result<RenderRequest, String> {
        let mut request = match &mut self.source {
            Source::Recorded(recorded) => recorded.request(n, frames)?,
            Source::Moved { first, motion } => RenderRequest {
                volume: Arc::clone(&self.volume),
                view: frame_view(first, &self.volume, motion, n, frames),
                size: self.size,
                layout: Layout::Single,
                crosshair_lps: self.volume.centre_lps(),
                input_seq: 0,
                final_still: true,
                encoding: Encoding::Png,
                preview: false,
                refine_first: false,
                segments: Arc::default(),
                segments_in_3d_later: false,
                threshold_preview: None,
                calcium_lesions: Arc::default(),
                over: None,
            },
        };
        request.encoding = Encoding::Png;
        request.preview = false;
        Ok(request)
    }
}

/// Frame `n` of `frames`: the camera turned by its share of the orbit, or the slice at its
/// share of the way through the volume.
pub fn frame_view(
    first: &ViewState,
    volume: &Volume,
    motion: &Motion,
    n: u32,
    frames: u32,
) -> ViewState {
    let mut view = first.clone();
    match *motion {
        Motion::Recording(_) => {}
        Motion::Orbit { degrees } => {
            view.camera
                .orbit(degrees * f64::from(n) / f64::from(frames), 0.0);
        }
        Motion::Sweep { orientation } => {
            let normal = orientation.normal();
            let depths = volume.corner_centres_lps().map(|corner| corner.dot(normal));
            let first = depths.iter().copied().fold(f64::INFINITY, f64::min);
            let last = depths.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let share = if frames > 1 {
                f64::from(n) / f64::from(frames - 1)
            } else {
                0.5
            };
            let centre = volume.centre_lps();
            let depth = first + (last - first) * share;
            let point: DVec3 = centre + normal * (depth - centre.dot(normal));
            view.mpr = Some(MprPlane::through(volume, orientation, point));
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use render_core::phantom::ct_phantom;
    use render_core::transfer::RenderMode;

    #[test]
    fn an_orbit_turns_by_its_share_and_a_sweep_crosses_the_volume() {
        let volume = ct_phantom();
        let base = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        let orbit = Motion::Orbit { degrees: 360.0 };
        let first = frame_view(&base, &volume, &orbit, 0, 36);
        assert!(first.camera.direction.distance(base.camera.direction) < 1e-12);
        let quarter = frame_view(&base, &volume, &orbit, 9, 36);
        let turned = quarter
            .camera
            .direction
            .angle_between(base.camera.direction);
        assert!((turned.to_degrees() - 90.0).abs() < 1e-6, "{turned}");

        let sweep = Motion::Sweep {
            orientation: MprOrientation::Axial,
        };
        let depth = |n| {
            frame_view(&base, &volume, &sweep, n, 10)
                .mpr
                .expect("a slice")
                .centre_lps
                .z
        };
        let corners = volume.corner_centres_lps().map(|c| c.z);
        let lowest = corners.iter().copied().fold(f64::INFINITY, f64::min);
        let highest = corners.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!((depth(0) - lowest).abs() < 1e-9 && (depth(9) - highest).abs() < 1e-9);
        assert!(depth(4) > depth(3));
    }

    #[test]
    fn shapes_a_player_cannot_take_and_motions_out_of_bounds_are_refused_naming_the_field() {
        assert!(check_shape(36, [512, 512], MAX_MOVIE_PIXELS).is_ok());
        assert!(
            check_shape(36, [511, 512], MAX_MOVIE_PIXELS)
                .unwrap_err()
                .contains("even")
        );
        assert!(check_shape(36, [8, 8], MAX_MOVIE_PIXELS).is_err());
        assert!(
            check_shape(0, [64, 64], MAX_MOVIE_PIXELS)
                .unwrap_err()
                .contains("frames")
        );
        assert!(
            check_shape(36, [2048, 2048], 1920 * 1080)
                .unwrap_err()
                .contains("pixels")
        );
        assert!(Motion::orbit(f64::NAN).is_err() && Motion::orbit(7200.0).is_err());
        assert!(Motion::sweep("oblique").is_err() && Motion::sweep("coronal").is_ok());
    }

    #[test]
    fn an_orbit_draws_the_3d_view_alone_and_every_frame_is_a_lossless_still() {
        let volume = Arc::new(ct_phantom());
        let mut first = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        first.mpr = Some(MprPlane::through(
            &volume,
            MprOrientation::Axial,
            volume.centre_lps(),
        ));
        first.quality = Quality::Interactive;
        let presets = render_core::transfer::PresetLibrary::builtin();
        let mut frames = MovieFrames::new(
            Motion::Orbit { degrees: 90.0 },
            &first,
            SeriesVolumes::one(Arc::clone(&volume)),
            "phantom",
            [64, 48],
            presets.clone(),
        );
        let request = frames.request(1, 2).expect("a frame");
        assert!(request.view.mpr.is_none() && request.view.quality == Quality::Full);
        assert!(request.final_still && matches!(request.encoding, Encoding::Png));
        assert_eq!((request.size, request.layout), ([64, 48], Layout::Single));
        let mut sweep = MovieFrames::new(
            Motion::Sweep {
                orientation: MprOrientation::Coronal,
            },
            &first,
            SeriesVolumes::one(volume),
            "phantom",
            [64, 48],
            presets,
        );
        assert!(sweep.request(0, 3).expect("a frame").view.mpr.is_some());
    }
}
