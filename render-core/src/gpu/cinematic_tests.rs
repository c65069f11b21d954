//! Cinematic rendering on the software adapter: the path tracer converges (its error
//! against a picture of many paths falls as one over the square root of the paths), and a
//! seed draws the same picture every time.

use std::sync::Arc;

use glam::DVec3;

use crate::Volume;
use crate::gpu::lighting_tests::phantom;
use crate::gpu::testing::renderer_with;
use crate::gpu::{CinematicSettings, FrameImage, RenderError, Renderer};
use crate::transfer::RenderMode;
use crate::view::{LightDirection, ViewState};

/// Frames are this many pixels a side.
const SIDE: u32 = 48;

/// A 48 mm cube of air (1 mm voxels) with a bone sphere in front of a bone wall.
fn sphere_before_a_wall() -> Arc<Volume> {
    let centre = DVec3::new(24.0, 16.0, 24.0);
    phantom(48, |p| p.y >= 32.0 || p.distance(centre) <= 8.0)
}

/// The phantom's renderer and its view, lit from the front, above and the left.
fn lit_phantom() -> (Renderer, ViewState) {
    let volume = sphere_before_a_wall();
    let renderer = renderer_with(Arc::clone(&volume));
    let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    view.lighting.direction = LightDirection::toward([0.45, -1.0, 0.55]).expect("a direction");
    (renderer, view)
}

fn traced(renderer: &mut Renderer, view: &ViewState, samples: u32, seed: u32) -> FrameImage {
    renderer
        .render_cinematic(view, [SIDE; 2], CinematicSettings { samples, seed })
        .expect("path traced")
}

/// The root mean square difference of two pictures' colour values (0–255).
fn rms(a: &FrameImage, b: &FrameImage) -> f64 {
    let squares: f64 = a
        .rgba
        .chunks_exact(4)
        .zip(b.rgba.chunks_exact(4))
        .flat_map(|(p, q)| (0..3).map(move |c| (f64::from(p[c]) - f64::from(q[c])).powi(2)))
        .sum();
    (squares / (a.rgba.len() / 4 * 3) as f64).sqrt()
}

#[test]
fn the_error_against_many_paths_falls_as_one_over_the_square_root_of_the_paths() {
    let (mut renderer, view) = lit_phantom();
    let reference = traced(&mut renderer, &view, 1024, 7);
    let lit = reference
        .rgba
        .chunks_exact(4)
        .filter(|p| p[..3].iter().any(|&c| c > 30))
        .count();
    assert!(
        lit > (SIDE * SIDE / 4) as usize,
        "the phantom shows: {lit} pixels"
    );
    let errors: Vec<f64> = [4, 16, 64]
        .into_iter()
        .map(|samples| rms(&traced(&mut renderer, &view, samples, 1), &reference))
        .collect();
    // Four times the paths halve the error: within 1.6–2.5 (the reference's own noise,
    // a 32nd of one path's, and 8-bit pictures take a little off the last ratio).
    for pair in errors.windows(2) {
        let ratio = pair[0] / pair[1];
        assert!(
            (1.6..=2.5).contains(&ratio),
            "4× the paths: the error from {:.2} to {:.2} (×{ratio:.2}); all: {errors:?}",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn a_seed_draws_the_same_picture_and_another_seed_another() {
    let (mut renderer, view) = lit_phantom();
    let first = traced(&mut renderer, &view, 8, 42);
    let again = traced(&mut renderer, &view, 8, 42);
    assert!(first.rgba == again.rgba, "the same seed, the same picture");
    let other = traced(&mut renderer, &view, 8, 43);
    assert!(rms(&first, &other) > 1.0, "another seed, other paths");
    // Refined in steps, the same paths: 3 passes and then 5 draw the 8 of one call.
    let mut picture = renderer
        .begin_cinematic(&view, [SIDE; 2], 42)
        .expect("begun");
    renderer.refine_cinematic(&mut picture, 3).expect("refined");
    let stepwise = renderer.refine_cinematic(&mut picture, 5).expect("refined");
    assert_eq!(picture.passes(), 8);
    assert!(
        stepwise.rgba == first.rgba,
        "refined in steps, the same picture"
    );
}

#[test]
fn only_the_composite_3d_view_is_path_traced_and_samples_are_bounded() {
    let (mut renderer, mut view) = lit_phantom();
    let refused = renderer.render_cinematic(
        &view,
        [SIDE; 2],
        CinematicSettings {
            samples: 0,
            seed: 1,
        },
    );
    assert!(
        matches!(&refused, Err(RenderError::Cinematic(why)) if why.contains("samples 0")),
        "{refused:?}"
    );
    view.mode = RenderMode::Mip;
    let refused = renderer.render_cinematic(
        &view,
        [SIDE; 2],
        CinematicSettings {
            samples: 4,
            seed: 1,
        },
    );
    assert!(
        matches!(&refused, Err(RenderError::Cinematic(why)) if why.contains("composite")),
        "{refused:?}"
    );
}
