//! The view the thin client mirrors: each action applied to its copy as the server applies
//! it to its own, so a reconnection or a switch to local rendering starts where it was.

use hounsfield_protocol::{Action, Layout, Opened, SharedView};
use render_core::transfer::PresetLibrary;
use render_core::view::change;

/// Applies `action` to `mirror` as the server applies it to its view: a view change
/// through the render core's [`change::mirror`] (what the server refuses leaves the mirror
/// as it was), the rest as the server's session does.
pub(super) fn mirror_action(mirror: &mut SharedView, opened: Option<&Opened>, action: &Action) {
    if action.changes_view() {
        if change::mirror(mirror, action, builtin_presets()).is_err()
            && let Action::Preset { name } = action
        {
            // A preset of the server's own library, which this client does not hold: the
            // name is the server's; the mode stays until the server's view says it.
            mirror.preset = name.clone();
        }
        return;
    }
    match action {
        Action::Reset => {
            if let Some(view) = opened.and_then(|opened| opened.view.clone()) {
                *mirror = view;
            }
        }
        Action::SetView { view } => *mirror = (**view).clone(),
        Action::Layout { name } => {
            if let Some(layout) = Layout::from_name(name) {
                mirror.layout = layout;
            }
        }
        Action::TimePoint { index } => {
            let count = opened.map_or(1, |opened| opened.volumes.len().max(1));
            if *index < count {
                mirror.time_point = *index;
            }
        }
        // The view's changes were applied above; the server says where the crosshair went
        // (`crosshair` message); a size or an interaction changes no view.
        _ => {}
    }
}

/// The built-in presets, read once: the modes of the presets the mirror is told of.
fn builtin_presets() -> &'static PresetLibrary {
    static PRESETS: std::sync::OnceLock<PresetLibrary> = std::sync::OnceLock::new();
    PRESETS.get_or_init(PresetLibrary::builtin)
}
