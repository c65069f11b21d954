//! The 3D view's light on the software adapter, against geometry worked out in the test:
//! a sphere in front of a wall casts its shadow where the light's rays through the
//! sphere meet the wall, a light from one side brightens that side of the sphere, and
//! ambient occlusion darkens the crease where two walls meet but not an open face.

use std::sync::Arc;

use glam::{DMat4, DVec3, DVec4};

use crate::gpu::FrameImage;
use crate::gpu::testing::renderer_with;
use crate::transfer::RenderMode;
use crate::view::{LightDirection, Lighting, ViewState};
use crate::{Modality, Volume, Voxels};

/// Frames are this many pixels a side.
const SIDE: u32 = 128;
/// The phantoms' voxels a side (1 mm voxels, LPS along i, j, k).
const VOXELS: usize = 96;
/// Bone: opaque and bright in ct-bone.
const BONE_HU: i16 = 1000;

/// A cube of `side` 1 mm voxels of air, with bone wherever `solid` says at voxel centres
/// (LPS mm).
pub(super) fn phantom(side: usize, solid: impl Fn(DVec3) -> bool) -> Arc<Volume> {
    let voxels = (0..side * side * side)
        .map(|n| {
            let (i, j, k) = (n % side, n / side % side, n / (side * side));
            let centre = DVec3::new(i as f64, j as f64, k as f64);
            if solid(centre) { BONE_HU } else { -1000 }
        })
        .collect();
    Arc::new(
        Volume::new(
            Voxels::I16(voxels),
            [side; 3],
            DMat4::IDENTITY,
            Modality::CT,
            None,
        )
        .expect("a volume"),
    )
}

/// The sphere of the shadow phantom: centre and radius (mm).
const SPHERE_CENTRE: DVec3 = DVec3::new(48.0, 36.0, 48.0);
const SPHERE_RADIUS: f64 = 12.0;
/// The wall behind it (posterior): voxels from this j on. Its face is half a voxel in
/// front of the first voxel's centre.
const WALL_J: f64 = 66.0;

fn sphere_before_a_wall() -> Arc<Volume> {
    phantom(VOXELS, |p| {
        p.y >= WALL_J || p.distance(SPHERE_CENTRE) <= SPHERE_RADIUS
    })
}

/// The view ray through pixel (`x`, `y`)'s centre: origin and unit direction (LPS).
fn pixel_ray(view: &ViewState, x: u32, y: u32) -> (DVec3, DVec3) {
    let inverse = view.camera.view_projection(1.0).inverse();
    let ndc_x = (f64::from(x) + 0.5) / f64::from(SIDE) * 2.0 - 1.0;
    let ndc_y = 1.0 - (f64::from(y) + 0.5) / f64::from(SIDE) * 2.0;
    let unproject = |depth: f64| {
        let h = inverse * DVec4::new(ndc_x, ndc_y, depth, 1.0);
        h.truncate() / h.w
    };
    let (near, far) = (unproject(0.0), unproject(1.0));
    (near, (far - near).normalize())
}

/// How far along the ray (`origin`, unit `direction`) it first meets the sphere.
fn meets_sphere(origin: DVec3, direction: DVec3, centre: DVec3, radius: f64) -> Option<f64> {
    let to_centre = centre - origin;
    let along = to_centre.dot(direction);
    let miss = to_centre.length_squared() - along * along;
    (miss <= radius * radius && along > 0.0).then(|| along - (radius * radius - miss).sqrt())
}

/// Red + green + blue of every pixel.
fn brightness(frame: &FrameImage) -> Vec<f64> {
    frame
        .rgba
        .chunks_exact(4)
        .map(|p| f64::from(p[0]) + f64::from(p[1]) + f64::from(p[2]))
        .collect()
}

/// Where a pixel's ray meets the wall's face, lit from `light` (LPS, towards it): in the
/// sphere's shadow or not, and how far (mm) the ray from that point towards the light
/// passes from the sphere's surface (near 0: the shadow's edge). `None` where the pixel
/// shows the sphere, or misses the wall.
fn wall_in_shadow(view: &ViewState, x: u32, y: u32, light: DVec3) -> Option<(bool, f64)> {
    let (origin, direction) = pixel_ray(view, x, y);
    if meets_sphere(origin, direction, SPHERE_CENTRE, SPHERE_RADIUS).is_some() {
        return None;
    }
    let face = WALL_J - 0.5;
    let t = (face - origin.y) / direction.y;
    let on_wall = origin + direction * t;
    let inside = |c: f64| (2.0..VOXELS as f64 - 3.0).contains(&c);
    if !(t > 0.0 && inside(on_wall.x) && inside(on_wall.z)) {
        return None;
    }
    let to_centre = SPHERE_CENTRE - on_wall;
    let along = to_centre.dot(light);
    let passes = (to_centre.length_squared() - along * along).sqrt();
    Some((
        along > 0.0 && passes < SPHERE_RADIUS,
        (passes - SPHERE_RADIUS).abs(),
    ))
}

#[test]
fn a_sphere_shades_the_wall_behind_it_where_the_lights_rays_through_it_meet_the_wall() {
    let volume = sphere_before_a_wall();
    let mut renderer = renderer_with(Arc::clone(&volume));
    // From the front, the light from the front, above and the patient's left.
    let light = DVec3::new(0.45, -1.0, 0.55).normalize();
    let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    view.camera.projection = crate::camera::Projection::Orthographic;
    view.camera.zoom_by(1.6);
    view.lighting = Lighting {
        direction: LightDirection::toward(light.to_array()).expect("a direction"),
        shadows: false,
        occlusion: false,
        cinematic: false,
    };
    let unshaded = brightness(&renderer.render_image(&view, [SIDE; 2]).expect("drawn"));
    view.lighting.shadows = true;
    let shaded = brightness(&renderer.render_image(&view, [SIDE; 2]).expect("drawn"));

    // A wall pixel is dark when under half its brightness without shadows. Pixels within
    // 1.5 mm of the shadow's edge (a voxel and a half: the sphere is made of voxels) are
    // not counted.
    let (mut shadow, mut compared, mut wrong) = (0, 0, Vec::new());
    for y in 0..SIDE {
        for x in 0..SIDE {
            let Some((in_shadow, from_edge)) = wall_in_shadow(&view, x, y, light) else {
                continue;
            };
            if from_edge < 1.5 {
                continue;
            }
            let n = (y * SIDE + x) as usize;
            let dark = shaded[n] < 0.5 * unshaded[n];
            compared += 1;
            shadow += usize::from(in_shadow);
            if dark != in_shadow {
                wrong.push((x, y, in_shadow, shaded[n], unshaded[n]));
            }
        }
    }
    assert!(
        shadow > 400,
        "the shadow falls on the wall: {shadow} pixels"
    );
    assert!(compared > 4000, "the wall shows: {compared} pixels");
    assert!(
        wrong.len() * 100 <= compared,
        "{} of {compared} wall pixels disagree with the geometry's shadow (at most 1%): {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(8)]
    );
    // Out of the shadow the wall is as it was (within 1 of 255 a channel).
    for y in 0..SIDE {
        for x in 0..SIDE {
            if let Some((false, from_edge)) = wall_in_shadow(&view, x, y, light)
                && from_edge > 3.0
            {
                let n = (y * SIDE + x) as usize;
                assert!(
                    (shaded[n] - unshaded[n]).abs() <= 3.0,
                    "({x}, {y}) in the light changed: {} against {}",
                    shaded[n],
                    unshaded[n]
                );
            }
        }
    }
}

/// The mean brightness of the pixels whose rays first meet the sphere on the side of
/// `side` (LPS): those facing it more than 0.5.
fn sphere_side(view: &ViewState, frame: &[f64], side: DVec3) -> f64 {
    let (mut sum, mut count) = (0.0, 0);
    for y in 0..SIDE {
        for x in 0..SIDE {
            let (origin, direction) = pixel_ray(view, x, y);
            if let Some(t) = meets_sphere(origin, direction, SPHERE_CENTRE, SPHERE_RADIUS) {
                let normal = (origin + direction * t - SPHERE_CENTRE).normalize();
                if normal.dot(side) > 0.5 {
                    sum += frame[(y * SIDE + x) as usize];
                    count += 1;
                }
            }
        }
    }
    assert!(count > 50, "the sphere's side shows: {count} pixels");
    sum / f64::from(count)
}

#[test]
fn a_light_from_one_side_brightens_that_side_and_the_headlight_both() {
    let volume = sphere_before_a_wall();
    let mut renderer = renderer_with(Arc::clone(&volume));
    let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    let mut draw = |direction: &str| {
        view.lighting.direction = LightDirection::parse(direction).expect("a direction");
        let frame = brightness(&renderer.render_image(&view, [SIDE; 2]).expect("drawn"));
        (
            sphere_side(&view, &frame, DVec3::X),
            sphere_side(&view, &frame, DVec3::NEG_X),
        )
    };
    let (left_lit, right_dark) = draw("left");
    let (left_dark, right_lit) = draw("right");
    let (left_head, right_head) = draw("head");
    assert!(
        left_lit > 2.0 * right_dark && right_lit > 2.0 * left_dark,
        "lit from the left: {left_lit:.0} against {right_dark:.0}; from the right: {right_lit:.0} against {left_dark:.0}"
    );
    assert!(
        (left_head - right_head).abs() < 0.05 * left_head,
        "the headlight lights both sides alike: {left_head:.0} and {right_head:.0}"
    );
}

/// The mean brightness of the 3×3 pixels round where `lps` shows.
fn around(view: &ViewState, frame: &[f64], lps: DVec3) -> f64 {
    let clip = view.camera.view_projection(1.0) * lps.extend(1.0);
    let (x, y) = (clip.x / clip.w, clip.y / clip.w);
    let px = ((x + 1.0) * 0.5 * f64::from(SIDE)) as i64;
    let py = ((1.0 - y) * 0.5 * f64::from(SIDE)) as i64;
    let mut sum = 0.0;
    for dy in -1..=1 {
        for dx in -1..=1 {
            sum += frame[((py + dy) * i64::from(SIDE) + px + dx) as usize];
        }
    }
    sum / 9.0
}

#[test]
fn ambient_occlusion_darkens_the_crease_where_two_walls_meet_and_not_an_open_face() {
    // A back wall (posterior, from j 60 on) and a side wall (the patient's left, from i
    // 60 on): a crease along k at i = j = 59.5, seen from the front and the right.
    let volume = phantom(VOXELS, |p| p.y >= 60.0 || p.x >= 60.0);
    let mut renderer = renderer_with(Arc::clone(&volume));
    let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    view.camera.direction = DVec3::new(1.0, 1.0, 0.0).normalize();
    view.camera.up = DVec3::Z;
    view.camera.zoom_by(2.0);
    let open = brightness(&renderer.render_image(&view, [SIDE; 2]).expect("drawn"));
    view.lighting.occlusion = true;
    let occluded = brightness(&renderer.render_image(&view, [SIDE; 2]).expect("drawn"));

    // On the back wall's face, 1.5 mm from the crease and 35 mm from it.
    let crease = DVec3::new(58.0, 59.5, 48.0);
    let face = DVec3::new(24.5, 59.5, 48.0);
    let (crease_open, crease_occluded) = (
        around(&view, &open, crease),
        around(&view, &occluded, crease),
    );
    let (face_open, face_occluded) = (around(&view, &open, face), around(&view, &occluded, face));
    assert!(
        crease_open > 100.0 && face_open > 100.0,
        "both lit without occlusion: {crease_open:.0}, {face_open:.0}"
    );
    assert!(
        crease_occluded < 0.85 * crease_open,
        "the crease darkens by more than 15%: {crease_occluded:.0} against {crease_open:.0}"
    );
    assert!(
        (face_occluded - face_open).abs() < 0.03 * face_open,
        "the open face stays within 3%: {face_occluded:.0} against {face_open:.0}"
    );
}
