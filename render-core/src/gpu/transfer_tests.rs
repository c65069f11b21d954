//! A transfer function the reader edits, on the software adapter: drawn as the same
//! function stored as a preset draws, every change of it drawn anew (never an older
//! bake), and a range made transparent gone from the picture.

use crate::gpu::testing::phantom_renderer;
use crate::transfer::{OpacityPoint, PresetLibrary};
use crate::view::ViewState;
use crate::view::change::Action;

const SIDE: u32 = 96;

/// `ct-bone` as the reader's edit of it leaves it, applied to `view`.
fn edit_bone(view: &mut ViewState, edit: impl FnOnce(&mut Vec<OpacityPoint>)) {
    let presets = PresetLibrary::builtin();
    let mut preset = presets.get("ct-bone").expect("built in").clone();
    preset.name = "ct-bone (edited)".to_string();
    edit(&mut preset.opacity);
    view.apply(
        &Action::Transfer {
            preset: Box::new(preset),
        },
        &presets,
    )
    .expect("a valid edit");
}

/// Pixels whose colour is not the background's (black).
fn drawn_pixels(rgba: &[u8]) -> usize {
    rgba.chunks_exact(4)
        .filter(|pixel| pixel[..3].iter().any(|&c| c > 8))
        .count()
}

#[test]
fn an_edited_transfer_function_draws_as_its_points_say() {
    let (mut renderer, volume) = phantom_renderer();
    let named = ViewState::initial(&volume, "ct-bone", crate::transfer::RenderMode::Composite);
    let as_preset = renderer.render_image(&named, [SIDE; 2]).expect("drawn");
    assert!(
        drawn_pixels(&as_preset.rgba) > 100,
        "the phantom's bone shows"
    );

    // Unchanged but for its name: the same picture.
    let mut edited = named.clone();
    edit_bone(&mut edited, |_| {});
    let same = renderer.render_image(&edited, [SIDE; 2]).expect("drawn");
    assert_eq!(same.rgba, as_preset.rgba, "an edit that moves nothing");

    // Every point transparent: the bone is gone.
    edit_bone(&mut edited, |points| {
        points.iter_mut().for_each(|point| point.opacity = 0.0);
    });
    let gone = renderer.render_image(&edited, [SIDE; 2]).expect("drawn");
    assert_eq!(
        drawn_pixels(&gone.rgba),
        0,
        "a transparent function draws nothing"
    );

    // Back to the first edit: drawn as before, from a new bake.
    edit_bone(&mut edited, |_| {});
    let again = renderer.render_image(&edited, [SIDE; 2]).expect("drawn");
    assert_eq!(again.rgba, as_preset.rgba, "each change is baked anew");

    // The named preset again: the edit is let go.
    edited
        .apply(
            &Action::Preset {
                name: "ct-bone".into(),
            },
            renderer.presets(),
        )
        .expect("a known preset");
    assert!(edited.transfer.is_none());
    assert_eq!(edited.preset, "ct-bone");
}

#[test]
fn an_edit_that_breaks_a_rule_is_refused_and_the_view_stays() {
    let (renderer, volume) = phantom_renderer();
    let mut view = ViewState::initial(&volume, "ct-bone", crate::transfer::RenderMode::Composite);
    let before = view.clone();
    let mut preset = renderer.presets().get("ct-bone").expect("built in").clone();
    preset.opacity[1].value = 5000.0;
    let error = view
        .apply(
            &Action::Transfer {
                preset: Box::new(preset),
            },
            renderer.presets(),
        )
        .expect_err("points out of order");
    assert!(error.contains("opacity[2].value"), "{error}");
    assert_eq!(view, before);
}

#[test]
fn a_preset_replaced_under_its_name_is_drawn_anew() {
    let (mut renderer, volume) = phantom_renderer();
    let view = ViewState::initial(&volume, "ct-bone", crate::transfer::RenderMode::Composite);
    let before = renderer.render_image(&view, [SIDE; 2]).expect("drawn");
    assert!(drawn_pixels(&before.rgba) > 100, "the phantom's bone shows");
    let mut clear = renderer.presets().get("ct-bone").expect("built in").clone();
    clear
        .opacity
        .iter_mut()
        .for_each(|point| point.opacity = 0.0);
    renderer.add_preset(clear);
    let after = renderer.render_image(&view, [SIDE; 2]).expect("drawn");
    assert_eq!(
        drawn_pixels(&after.rgba),
        0,
        "the new ct-bone, not the old bake"
    );
}
