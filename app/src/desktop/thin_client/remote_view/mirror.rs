//! The view the thin client mirrors: each action applied to its copy as the server applies
//! it to its own, so a reconnection or a switch to local rendering starts where it was.

use super::*;

/// Applies `action` to `mirror` as the server applies it to its view.
pub(super) fn mirror_action(mirror: &mut SharedView, opened: Option<&Opened>, action: &Action) {
    match action {
        Action::Orbit { dx, dy } => move_camera(mirror, |camera| camera.orbit(*dx, *dy)),
        Action::Pan { dx, dy } => move_camera(mirror, |camera| camera.pan(*dx, *dy)),
        Action::Zoom { factor } => move_camera(mirror, |camera| camera.zoom_by(*factor)),
        Action::Window { width, center } => {
            mirror.window = Some(WindowInfo {
                width: *width,
                center: *center,
            });
        }
        Action::Preset { name } => {
            mirror.preset = name.clone();
            if let Some(mode) = render_core::transfer::PresetLibrary::builtin()
                .get(name)
                .map(|preset| preset.mode)
            {
                mirror.mode = mode.name().to_string();
            }
        }
        Action::Mode { mode } => mirror.mode = mode.clone(),
        Action::View { name } => {
            if let Some(view) = render_core::camera::NamedView::from_name(name) {
                move_camera(mirror, |camera| camera.set_view(view));
            }
        }
        Action::Reset => {
            if let Some(view) = opened.and_then(|opened| opened.view.clone()) {
                *mirror = view;
            }
        }
        Action::Crop { min, max } => {
            mirror.crop = CropBox::checked(*min, *max)
                .ok()
                .and_then(|crop| crop.to_info());
        }
        Action::SetView { view } => *mirror = (**view).clone(),
        Action::Layout { name } => {
            if let Some(layout) = Layout::from_name(name) {
                mirror.layout = layout;
            }
        }
        // The server says where the crosshair went (`crosshair` message).
        Action::Slice { .. } | Action::Crosshair { .. } => {}
        Action::Resize { .. } | Action::Interact { .. } => {}
    }
}

/// Moves the mirror's camera as the render core moves a camera.
fn move_camera(mirror: &mut SharedView, motion: impl FnOnce(&mut Camera)) {
    let mut camera = Camera::from(mirror.camera);
    motion(&mut camera);
    mirror.camera = camera.into();
}

/// The render mode a mirror names (composite when unknown).
pub fn mirror_mode(mirror: &SharedView) -> RenderMode {
    RenderMode::from_name(&mirror.mode).unwrap_or(RenderMode::Composite)
}
