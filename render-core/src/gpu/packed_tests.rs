//! A packed volume on the GPU: its gradients, bricks and pictures are those of its plain
//! self (the packing of `hounsfield_volume::packed` seen from the renderer).

use std::sync::Arc;

use glam::{DMat4, DVec3};

use crate::gpu::bricks::BrickGrid;
use crate::gpu::{GpuContext, Renderer};
use crate::phantom::ct_phantom;
use crate::transfer::{PresetLibrary, RenderMode, VolumeStatistics};
use crate::view::ViewState;
use crate::{Modality, Volume, Voxels};

/// A volume over the gradients' per-voxel limit (so shaded from cells of voxels): a
/// ball of bone in soft tissue, in air.
fn large_ball() -> Volume {
    let dims = [256, 256, 257];
    let centre = DVec3::new(128.0, 120.0, 130.0);
    let voxels = (0..dims[0] * dims[1] * dims[2])
        .map(|n| {
            let p = DVec3::new(
                (n % dims[0]) as f64,
                (n / dims[0] % dims[1]) as f64,
                (n / (dims[0] * dims[1])) as f64,
            );
            match p.distance(centre) {
                r if r < 60.0 => 900 + (n % 5) as i16,
                r if r < 110.0 => 40 + (n % 13) as i16,
                _ => -1000,
            }
        })
        .collect();
    Volume::new(
        Voxels::I16(voxels),
        dims,
        DMat4::from_scale(DVec3::splat(0.8)),
        Modality::CT,
        None,
    )
    .expect("a volume")
}

/// The picture of `volume` in `preset` and `mode`, on the software adapter.
fn picture(volume: &Arc<Volume>, preset: &str, mode: RenderMode) -> Vec<u8> {
    picture_loaded(volume, preset, mode, |renderer, volume, _| {
        renderer.load_volume(volume);
    })
}

/// [`picture`], the volume loaded into the renderer by `load` for the view shown.
fn picture_loaded(
    volume: &Arc<Volume>,
    preset: &str,
    mode: RenderMode,
    load: impl FnOnce(&mut Renderer, Arc<Volume>, &ViewState),
) -> Vec<u8> {
    let context = GpuContext::headless().expect("a GPU adapter (lavapipe)");
    let mut renderer = Renderer::new(context, PresetLibrary::builtin());
    let mut view = ViewState::initial(volume, preset, mode);
    view.camera.orbit(30.0, 20.0);
    load(&mut renderer, Arc::clone(volume), &view);
    renderer
        .render_image(&view, [96, 72])
        .expect("renders")
        .rgba
}

/// Loads `volume` for showing `view` and tells the bytes of gradients made with it.
fn gradient_bytes_loaded_for(
    renderer: &mut Renderer,
    volume: Arc<Volume>,
    view: &ViewState,
) -> u64 {
    renderer.load_volume_for(volume, view);
    renderer.footprint().expect("loaded").gradient_texture
}

#[test]
fn gradients_made_in_the_uploads_pass_draw_as_those_made_at_the_first_frame() {
    // A gradient per voxel (the phantom), and per cell of a packed volume whose
    // slices are not whole upload slabs.
    for volume in [ct_phantom(), large_ball().packed()] {
        let volume = Arc::new(volume);
        let with_upload = picture_loaded(
            &volume,
            "ct-bone",
            RenderMode::Composite,
            |renderer, volume, view| {
                let made = gradient_bytes_loaded_for(renderer, volume, view);
                assert!(made > 0, "the gradients come with the upload");
            },
        );
        assert!(
            with_upload == picture(&volume, "ct-bone", RenderMode::Composite),
            "{:?} shades alike",
            volume.dims
        );
        // Nothing shaded to show: no gradients yet.
        picture_loaded(
            &volume,
            "ct-bone",
            RenderMode::Mip,
            |renderer, volume, view| {
                let made = gradient_bytes_loaded_for(renderer, volume, view);
                assert_eq!(made, 0, "a MIP needs no gradients");
            },
        );
    }
}

#[test]
fn a_packed_volume_reads_measures_and_draws_as_its_plain_self() {
    for plain in [ct_phantom(), large_ball()] {
        let packed = plain.clone().packed();
        let Voxels::Packed(slices) = &packed.voxels else {
            panic!("whole values are packed")
        };
        assert_eq!(packed.size_bytes(), plain.size_bytes());
        assert!(
            slices.packed_bytes() * 2 < plain.size_bytes(),
            "{} of {} bytes",
            slices.packed_bytes(),
            plain.size_bytes()
        );
        assert_eq!(packed.voxels.value_range(), plain.voxels.value_range());
        let [ni, nj, nk] = plain.dims;
        for ijk in [
            [0, 0, 0],
            [ni - 1, nj - 1, nk - 1],
            [ni / 2, nj / 3, nk / 2],
        ] {
            assert_eq!(packed.value(ijk), plain.value(ijk), "voxel {ijk:?}");
        }
        let inside = DVec3::new(ni as f64 * 0.41, nj as f64 * 0.57, nk as f64 * 0.5);
        assert_eq!(packed.trilinear(inside), plain.trilinear(inside));
        assert_eq!(VolumeStatistics::of(&packed), VolumeStatistics::of(&plain));
        let (bricks, plain_bricks) = (BrickGrid::of(&packed), BrickGrid::of(&plain));
        assert_eq!(
            (bricks.min, bricks.max),
            (plain_bricks.min, plain_bricks.max)
        );
        assert_eq!(
            packed.block_averaged([2, 3, 2]).expect("averaged"),
            plain.block_averaged([2, 3, 2]).expect("averaged")
        );
        let (packed, plain) = (Arc::new(packed), Arc::new(plain));
        for (preset, mode) in [
            ("ct-bone", RenderMode::Composite),
            ("ct-bone", RenderMode::Mip),
        ] {
            assert!(
                picture(&packed, preset, mode) == picture(&plain, preset, mode),
                "{preset} {mode:?} of {:?} differs packed",
                plain.dims
            );
        }
    }
}
