//! Renderers for tests: on the machine's adapter (lavapipe without a GPU), with the
//! built-in presets. Compiled for the render core's own tests, and for other crates'
//! tests with the `test-support` feature; never in the shipped binary.

use std::sync::Arc;

use crate::Volume;
use crate::gpu::{GpuContext, Renderer};
use crate::transfer::PresetLibrary;

/// A renderer with the built-in presets and `volume` loaded.
pub fn renderer_with(volume: Arc<Volume>) -> Renderer {
    let context = GpuContext::headless().expect("a GPU adapter (lavapipe at least)");
    let mut renderer = Renderer::new(context, PresetLibrary::builtin());
    renderer.load_volume(volume);
    renderer
}

/// A renderer with the CT phantom loaded, and the phantom.
pub fn phantom_renderer() -> (Renderer, Arc<Volume>) {
    let volume = Arc::new(crate::phantom::ct_phantom());
    (renderer_with(Arc::clone(&volume)), volume)
}

/// The pixels of `frame` that `hit` says yes to, as booleans in raster order.
pub fn pixels_where(frame: &crate::gpu::FrameImage, hit: impl Fn([u8; 4]) -> bool) -> Vec<bool> {
    frame
        .rgba
        .chunks_exact(4)
        .map(|p| hit([p[0], p[1], p[2], p[3]]))
        .collect()
}
