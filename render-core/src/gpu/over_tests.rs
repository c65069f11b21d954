//! A series drawn over the 3D view, on the software adapter: where rays cross it, the
//! picture takes the colour of its maximum intensity projection (checked against a MIP
//! of the same series rendered on its own with the same camera), elsewhere it keeps the
//! picture; no opacity or none drawn leaves the picture alone, a new style keeps the
//! upload, and a linked series is found where the link says.

use std::sync::Arc;

use glam::{DMat4, DVec3};

use crate::colour_map::ColourMap;
use crate::fusion::{Fusion, SeriesOver};
use crate::gpu::testing::{phantom_renderer, pixels_where, renderer_with};
use crate::gpu::{FrameImage, Renderer};
use crate::transfer::RenderMode;
use crate::view::ViewState;
use crate::view::series_link::SeriesLink;
use crate::{Modality, Volume, Voxels, Window};

/// Frames are this many pixels a side.
const SIDE: u32 = 96;

/// The value of the series drawn over outside its ball, and inside.
const BACKGROUND: i16 = 100;
const BALL: i16 = 600;

/// A series on a grid twice as coarse as `first`'s, over its left half (low i), moved
/// by `shift` (LPS, mm): `BACKGROUND` but for a ball of `BALL` in its middle.
fn series_over(first: &Volume, shift: DVec3) -> Volume {
    let dims = [first.dims[0] / 4, first.dims[1] / 2, first.dims[2] / 2];
    let voxel_to_lps =
        DMat4::from_translation(shift) * first.voxel_to_lps * DMat4::from_scale(DVec3::splat(2.0));
    let spacing = voxel_to_lps.col(0).truncate().length();
    let radius = dims.iter().copied().min().unwrap_or(0) as f64 / 4.0;
    let centre = DVec3::new(dims[0] as f64, dims[1] as f64, dims[2] as f64) / 2.0;
    let values = (0..dims.iter().product::<usize>())
        .map(|n| {
            let voxel = DVec3::new(
                (n % dims[0]) as f64,
                (n / dims[0] % dims[1]) as f64,
                (n / (dims[0] * dims[1])) as f64,
            );
            if voxel.distance(centre) <= radius {
                BALL
            } else {
                BACKGROUND
            }
        })
        .collect();
    assert!(spacing > 0.0 && radius >= 2.0, "a ball of voxels");
    Volume::new(
        Voxels::I16(values),
        dims,
        voxel_to_lps,
        Modality::Other("PT".into()),
        None,
    )
    .expect("the series over")
}

/// `over` drawn in `colours` at `opacity`, windowed 0 to 1000, linked as `link`.
fn drawn(over: &Arc<Volume>, colours: ColourMap, opacity: f64, link: SeriesLink) -> SeriesOver {
    SeriesOver {
        volume: Arc::clone(over),
        fusion: Fusion {
            colours,
            opacity,
            window: Window {
                width: 1000.0,
                center: 500.0,
            },
            nearest: false,
        },
        link,
    }
}

/// `view` as a MIP of `over` rendered alone, white from `from` up: the pixels whose rays
/// reach a value of at least `from`.
fn reaching(over: &Arc<Volume>, view: &ViewState, from: f64) -> Vec<bool> {
    let mut renderer = renderer_with(Arc::clone(over));
    let mut mip = view.clone();
    mip.mode = RenderMode::Mip;
    mip.window = Some(Window {
        width: 2.0,
        center: from,
    });
    let image = renderer.render_image(&mip, [SIDE; 2]).expect("drawn");
    pixels_where(&image, |[r, ..]| r >= 128)
}

/// Each pixel: whether `a` and `b` differ by more than `tolerance` in a channel.
fn differing(a: &FrameImage, b: &FrameImage, tolerance: u8) -> Vec<bool> {
    a.rgba
        .chunks_exact(4)
        .zip(b.rgba.chunks_exact(4))
        .map(|(p, q)| p.iter().zip(q).any(|(x, y)| x.abs_diff(*y) > tolerance))
        .collect()
}

/// The pixels of `mask` whose four neighbours are in it too: its edge's ring taken off.
fn interior(mask: &[bool]) -> Vec<bool> {
    let side = SIDE as usize;
    (0..mask.len())
        .map(|n| {
            let (x, y) = (n % side, n / side);
            mask[n]
                && x > 0
                && y > 0
                && x + 1 < side
                && y + 1 < side
                && [n - 1, n + 1, n - side, n + side].iter().all(|&m| mask[m])
        })
        .collect()
}

fn count(hits: &[bool]) -> usize {
    hits.iter().filter(|&&hit| hit).count()
}

fn render(renderer: &mut Renderer, view: &ViewState) -> FrameImage {
    renderer.render_image(view, [SIDE; 2]).expect("drawn")
}

#[test]
fn where_rays_cross_the_series_over_the_picture_takes_its_mips_colour() {
    let (mut renderer, volume) = phantom_renderer();
    let over = Arc::new(series_over(&volume, DVec3::ZERO));
    let view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    let plain = render(&mut renderer, &view);
    renderer
        .show_over(Some(&drawn(
            &over,
            ColourMap::Hot,
            1.0,
            SeriesLink::SameFrame,
        )))
        .expect("a volume is loaded");
    let fused = render(&mut renderer, &view);

    // Where rays cross the series at all, and where they reach its ball.
    let crossing = reaching(&over, &view, f64::from(BACKGROUND) / 2.0);
    let ball = reaching(&over, &view, f64::from(BALL + BACKGROUND) / 2.0);
    let total = (SIDE * SIDE) as usize;
    assert!(
        count(&crossing) > total / 10 && count(&crossing) < total * 9 / 10,
        "the series covers part of the picture: {} pixels",
        count(&crossing)
    );
    assert!(
        count(&ball) > total / 100,
        "the ball shows: {}",
        count(&ball)
    );

    // Hot at 0.6 of the window (600 in 0..1000) is (255, 204, 0); at 0.1, (77, 0, 0).
    let yellow = pixels_where(&fused, |[r, g, b, _]| {
        r >= 249 && (198..=210).contains(&g) && b <= 6
    });
    let dark_red = pixels_where(&fused, |[r, g, b, _]| {
        (71..=83).contains(&r) && g <= 6 && b <= 6
    });
    let changed = differing(&fused, &plain, 0);
    // The ball's and the series' edges are sampled a little differently by the two
    // renders (trilinear values between the two levels; the series' voxel centres here,
    // its whole box there): the pixels of each region's edge are left out.
    let inside_ball = interior(&ball);
    let not_ball: Vec<bool> = ball.iter().map(|hit| !hit).collect();
    let rest = interior(
        &crossing
            .iter()
            .zip(interior(&not_ball))
            .map(|(a, b)| *a && b)
            .collect::<Vec<_>>(),
    );
    let outside = interior(&crossing.iter().map(|hit| !hit).collect::<Vec<_>>());
    let wrong = |region: &[bool], right: &dyn Fn(usize) -> bool| {
        (0..total).filter(|&n| region[n] && !right(n)).count()
    };
    let (ball_wrong, rest_wrong, outside_wrong) = (
        wrong(&inside_ball, &|n| yellow[n]),
        wrong(&rest, &|n| dark_red[n]),
        wrong(&outside, &|n| !changed[n]),
    );
    assert!(
        ball_wrong * 50 <= count(&inside_ball) && count(&inside_ball) > 0,
        "{ball_wrong} of the ball's {} pixels not yellow",
        count(&inside_ball)
    );
    assert!(
        rest_wrong * 50 <= count(&rest),
        "{rest_wrong} of the series' other {} pixels not dark red",
        count(&rest)
    );
    assert!(
        outside_wrong * 50 <= count(&outside),
        "{outside_wrong} of the {} pixels outside it changed",
        count(&outside)
    );
    assert!(
        count(&changed) >= count(&crossing) * 9 / 10,
        "the series is drawn"
    );
}

#[test]
fn no_opacity_or_no_series_leaves_the_picture_and_a_new_style_keeps_the_upload() {
    let (mut renderer, volume) = phantom_renderer();
    let over = Arc::new(series_over(&volume, DVec3::ZERO));
    let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    let plain = render(&mut renderer, &view);
    let generation = renderer.segments_generation();

    renderer
        .show_over(Some(&drawn(
            &over,
            ColourMap::Hot,
            0.0,
            SeriesLink::SameFrame,
        )))
        .expect("shown");
    assert!(
        renderer.segments_generation() > generation,
        "a picture kept before is stale"
    );
    assert_eq!(render(&mut renderer, &view).rgba, plain.rgba, "opacity 0");

    let grey = drawn(&over, ColourMap::Grey, 1.0, SeriesLink::SameFrame);
    renderer.show_over(Some(&grey)).expect("restyled");
    let restyled = renderer.segments_generation();
    renderer.show_over(Some(&grey)).expect("the same");
    assert_eq!(
        renderer.segments_generation(),
        restyled,
        "the same style changes nothing"
    );
    // A projection mode is drawn over too: the ball's middle is grey at 0.6 of the window.
    view.mode = RenderMode::Mip;
    let ball = reaching(&over, &view, f64::from(BALL + BACKGROUND) / 2.0);
    let hits: Vec<u32> = (0..SIDE * SIDE).filter(|&n| ball[n as usize]).collect();
    let mean =
        |of: fn(u32) -> u32| hits.iter().map(|&n| of(n)).sum::<u32>() / hits.len().max(1) as u32;
    let (x, y) = (mean(|n| n % SIDE), mean(|n| n / SIDE));
    assert!(ball[(y * SIDE + x) as usize], "the ball's middle");
    let middle = render(&mut renderer, &view).pixel(x, y);
    for channel in &middle[..3] {
        assert!(channel.abs_diff(153) <= 3, "grey 0.6: {middle:?}");
    }

    view.mode = RenderMode::Composite;
    renderer.show_over(None).expect("none");
    assert_eq!(render(&mut renderer, &view).rgba, plain.rgba, "none drawn");
}

#[test]
fn a_linked_series_is_found_where_the_link_says() {
    let (mut renderer, volume) = phantom_renderer();
    let view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
    let same = Arc::new(series_over(&volume, DVec3::ZERO));
    renderer
        .show_over(Some(&drawn(
            &same,
            ColourMap::Hot,
            0.7,
            SeriesLink::SameFrame,
        )))
        .expect("shown");
    let in_one_frame = render(&mut renderer, &view);
    // The same series in a frame 30 mm off along each axis, linked by that offset.
    let offset = DVec3::new(30.0, -30.0, 30.0);
    let moved = Arc::new(series_over(&volume, offset));
    renderer
        .show_over(Some(&drawn(
            &moved,
            ColourMap::Hot,
            0.7,
            SeriesLink::Offset(offset),
        )))
        .expect("shown");
    let linked = render(&mut renderer, &view);
    let off = count(&differing(&linked, &in_one_frame, 2));
    assert!(off * 100 <= (SIDE * SIDE) as usize, "{off} pixels differ");
    // Unlinked, it lies elsewhere.
    renderer
        .show_over(Some(&drawn(
            &moved,
            ColourMap::Hot,
            0.7,
            SeriesLink::SameFrame,
        )))
        .expect("shown");
    let unlinked = render(&mut renderer, &view);
    assert!(count(&differing(&unlinked, &in_one_frame, 2)) > (SIDE * SIDE / 20) as usize);
}
