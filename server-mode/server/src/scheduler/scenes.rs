//! The render thread's renderers, one per volume it keeps uploaded (least recently used
//! out), plus one for the reduced copy a preview is drawn from.

use std::sync::{Arc, Weak};
use std::time::Instant;

use render_core::Volume;
use render_core::gpu::{GpuContext, Renderer};
use render_core::transfer::PresetLibrary;

use super::MAX_SCENES;

/// Renderers by volume, least recently used last; each keeps its volume uploaded. One
/// more renderer draws previews from the reduced copy of the volume last previewed.
pub(super) struct Scenes {
    context: GpuContext,
    presets: PresetLibrary,
    renderers: Vec<Renderer>,
    /// The volume previewed (not kept alive by this) and the renderer of its reduced copy.
    preview: Option<(Weak<Volume>, Renderer)>,
}

impl Scenes {
    pub(super) fn new(context: GpuContext, presets: PresetLibrary) -> Self {
        Self {
            context,
            presets,
            renderers: Vec::with_capacity(MAX_SCENES),
            preview: None,
        }
    }

    /// The device the renderers draw with.
    pub(super) fn context(&self) -> &GpuContext {
        &self.context
    }

    /// Whether `volume` is uploaded already.
    pub(super) fn holds(&self, volume: &Arc<Volume>) -> bool {
        self.renderers
            .iter()
            .any(|r| r.volume().is_some_and(|v| Arc::ptr_eq(v, volume)))
    }

    /// The renderer of `volume`'s reduced copy, reducing and uploading it when it is not
    /// the one last previewed; `None` when the volume is small enough to need none.
    pub(super) fn preview_for(&mut self, volume: &Arc<Volume>) -> Option<&mut Renderer> {
        let current = self.preview.as_ref().is_some_and(|(source, _)| {
            source
                .upgrade()
                .is_some_and(|source| Arc::ptr_eq(&source, volume))
        });
        if !current {
            if !crate::preview::wants_preview(volume) {
                return None;
            }
            let started = Instant::now();
            let reduced = crate::preview::reduced(volume)?;
            let reduced_at = started.elapsed();
            let dims = reduced.dims;
            let mut renderer = match self.preview.take() {
                Some((_, renderer)) => renderer,
                None => Renderer::new(self.context.clone(), self.presets.clone()),
            };
            for warning in renderer.load_volume(Arc::new(reduced)) {
                tracing::warn!(%warning, "preview upload");
            }
            tracing::debug!(?dims, reduced = ?reduced_at, uploaded = ?(started.elapsed() - reduced_at), "preview volume ready");
            self.preview = Some((Arc::downgrade(volume), renderer));
        }
        self.preview.as_mut().map(|(_, renderer)| renderer)
    }

    /// The renderer holding `volume`, uploading it (into the least recently used renderer
    /// once there are [`MAX_SCENES`]) when none does.
    pub(super) fn renderer_for(&mut self, volume: &Arc<Volume>) -> &mut Renderer {
        let found = self
            .renderers
            .iter()
            .position(|r| r.volume().is_some_and(|v| Arc::ptr_eq(v, volume)));
        let renderer = match found {
            Some(n) => self.renderers.remove(n),
            None => {
                let mut renderer = if self.renderers.len() >= MAX_SCENES {
                    // Reuses the oldest renderer's pipelines for the new volume.
                    self.renderers.remove(self.renderers.len() - 1)
                } else {
                    Renderer::new(self.context.clone(), self.presets.clone())
                };
                for warning in renderer.load_volume(volume.clone()) {
                    tracing::warn!(%warning, "volume upload");
                }
                renderer
            }
        };
        self.renderers.insert(0, renderer);
        &mut self.renderers[0]
    }
}
