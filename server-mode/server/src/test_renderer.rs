//! What the server's unit tests draw with: the built-in phantom on a renderer of the
//! machine's adapter (lavapipe without a GPU).

use std::sync::Arc;

use render_core::Volume;
use render_core::gpu::{GpuContext, Renderer};
use render_core::transfer::PresetLibrary;

/// A renderer with the built-in presets and the phantom loaded, and the phantom.
pub(crate) fn phantom_renderer() -> (Renderer, Arc<Volume>) {
    let context = GpuContext::headless().expect("a GPU adapter (lavapipe)");
    let mut renderer = Renderer::new(context, PresetLibrary::builtin());
    let volume = Arc::new(render_core::phantom::ct_phantom());
    renderer.load_volume(Arc::clone(&volume));
    (renderer, volume)
}
