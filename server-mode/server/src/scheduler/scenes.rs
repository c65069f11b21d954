//! The render thread's renderers, one per volume it keeps uploaded (least recently used
//! out), plus one for the reduced copy a preview is drawn from.

use std::sync::{Arc, Weak};
use std::time::Instant;

use render_core::Volume;
use render_core::fusion::SeriesOver;
use render_core::gpu::{GpuContext, Renderer};
use render_core::transfer::PresetLibrary;
use render_core::view::{SegmentsIn3d, ViewState};

use crate::compose::{SegmentOverlay, segment_labels};

use super::MAX_SCENES;

/// A renderer, and the segments its 3D view was last given (held, so that a new set is
/// never taken for the old one at the same address).
struct Uploaded {
    renderer: Renderer,
    segments: Arc<[SegmentOverlay]>,
}

/// Renderers by volume, least recently used last; each keeps its volume uploaded. One
/// more renderer draws previews from the reduced copy of the volume last previewed.
pub(super) struct Scenes {
    context: GpuContext,
    presets: PresetLibrary,
    renderers: Vec<Uploaded>,
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

    /// Draws with `presets` from now on (an administrator saved one).
    pub(super) fn set_presets(&mut self, presets: PresetLibrary) {
        for uploaded in &mut self.renderers {
            uploaded.renderer.set_presets(presets.clone());
        }
        if let Some((_, renderer)) = &mut self.preview {
            renderer.set_presets(presets.clone());
        }
        self.presets = presets;
    }

    /// The device the renderers draw with.
    pub(super) fn context(&self) -> &GpuContext {
        &self.context
    }

    /// Whether `volume` is uploaded already.
    pub(super) fn holds(&self, volume: &Arc<Volume>) -> bool {
        self.renderers
            .iter()
            .any(|r| r.renderer.volume().is_some_and(|v| Arc::ptr_eq(v, volume)))
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

    /// Whether a refining picture of `volume` is worth drawing before its final still
    /// ([`Renderer::refining_pays`]); false while it is not uploaded.
    pub(super) fn refining_pays(&self, volume: &Arc<Volume>) -> bool {
        self.renderers
            .iter()
            .find(|r| r.renderer.volume().is_some_and(|v| Arc::ptr_eq(v, volume)))
            .is_some_and(|r| r.renderer.refining_pays())
    }

    /// Lets the reduced copy of `volume` go when the whole volume is uploaded: every later
    /// frame of it is drawn from the whole, and the copy (its voxels, texture and
    /// gradients, about half the volume's bytes) would only hold memory. The renderer's
    /// pipelines stay for the next preview.
    fn forget_preview_of(&mut self, volume: &Arc<Volume>) {
        if let Some((source, renderer)) = &mut self.preview
            && source
                .upgrade()
                .is_some_and(|source| Arc::ptr_eq(&source, volume))
        {
            renderer.unload_volume();
            *source = Weak::new();
        }
    }

    /// The renderer holding `volume`, uploading it for showing `view` (into the least
    /// recently used renderer once there are [`MAX_SCENES`]) when none does, its 3D view
    /// given `segments` when `view` shows segments and they changed (`None`: it keeps
    /// those it shows, while a stroke is drawn), and `over` drawn over it (the session's
    /// own: sessions sharing the renderer set theirs before each frame).
    pub(super) fn renderer_for(
        &mut self,
        volume: &Arc<Volume>,
        view: &ViewState,
        (segments, over): (Option<&Arc<[SegmentOverlay]>>, Option<&SeriesOver>),
    ) -> &mut Renderer {
        let found = self
            .renderers
            .iter()
            .position(|r| r.renderer.volume().is_some_and(|v| Arc::ptr_eq(v, volume)));
        let mut uploaded = match found {
            Some(n) => self.renderers.remove(n),
            None => {
                let mut renderer = if self.renderers.len() >= MAX_SCENES {
                    // Reuses the oldest renderer's pipelines for the new volume.
                    self.renderers.remove(self.renderers.len() - 1).renderer
                } else {
                    Renderer::new(self.context.clone(), self.presets.clone())
                };
                // The preview has done its work once the whole volume is being uploaded
                // (this thread draws nothing meanwhile): let it go first, so that its copy
                // and the whole one are never held at once.
                self.forget_preview_of(volume);
                for warning in renderer.load_volume_for(volume.clone(), view) {
                    tracing::warn!(%warning, "volume upload");
                }
                Uploaded {
                    renderer,
                    segments: Arc::default(),
                }
            }
        };
        if let Some(segments) = segments
            && view.segments_3d != SegmentsIn3d::Hidden
            && !Arc::ptr_eq(&uploaded.segments, segments)
        {
            let labels = segment_labels(volume, segments);
            match uploaded.renderer.show_segments(labels.as_ref()) {
                Ok(()) => uploaded.segments = Arc::clone(segments),
                // Built on the volume's own grid: a refusal is a fault of ours, and the
                // 3D view goes on with the segments it had.
                Err(error) => tracing::error!(%error, "segments not shown in 3D"),
            }
        }
        // Refused only without a volume, and this renderer holds one.
        if let Err(error) = uploaded.renderer.show_over(over) {
            tracing::error!(%error, "series over not drawn in 3D");
        }
        self.renderers.insert(0, uploaded);
        &mut self.renderers[0].renderer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use render_core::transfer::RenderMode;
    use render_core::{Modality, Voxels};

    #[test]
    fn the_segments_reach_the_3d_view_only_when_given() {
        let context = GpuContext::headless().expect("a GPU adapter (lavapipe)");
        let mut scenes = Scenes::new(context, PresetLibrary::builtin());
        let volume = Arc::new(render_core::phantom::ct_phantom());
        let view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        let grid = hounsfield_segment::Grid::of(&volume);
        let segments: Arc<[SegmentOverlay]> = Arc::from(vec![SegmentOverlay {
            mask: Arc::new(hounsfield_segment::Mask::from_indices(grid, [0, 1, 2])),
            colour: [255, 0, 0],
            opacity: 1.0,
        }]);
        let before = scenes
            .renderer_for(&volume, &view, (None, None))
            .segments_generation();
        // While a stroke is drawn the 3D view keeps what it shows; then it takes them.
        let kept = scenes
            .renderer_for(&volume, &view, (None, None))
            .segments_generation();
        assert_eq!(kept, before);
        let shown = scenes
            .renderer_for(&volume, &view, (Some(&segments), None))
            .segments_generation();
        assert_ne!(shown, kept);
        let again = scenes
            .renderer_for(&volume, &view, (Some(&segments), None))
            .segments_generation();
        assert_eq!(again, shown, "the same segments are not uploaded twice");
    }

    #[test]
    fn a_preview_is_let_go_once_its_whole_volume_is_uploaded() {
        let context = GpuContext::headless().expect("a GPU adapter (lavapipe)");
        let mut scenes = Scenes::new(context, PresetLibrary::builtin());
        // One side over the preview's limit: it gets a reduced copy.
        let dims = [crate::preview::PREVIEW_MAX_SIDE + 64, 8, 8];
        let voxels = (0..dims.iter().product::<usize>())
            .map(|n| (n % 1000) as i16)
            .collect();
        let volume = Arc::new(
            Volume::new(
                Voxels::I16(voxels),
                dims,
                glam::DMat4::IDENTITY,
                Modality::CT,
                None,
            )
            .expect("a volume"),
        );
        let previewed = scenes.preview_for(&volume).expect("a preview");
        assert!(previewed.volume().is_some(), "the reduced copy is uploaded");
        scenes.renderer_for(
            &volume,
            &ViewState::initial(&volume, "ct-bone", RenderMode::Composite),
            (Some(&Arc::default()), None),
        );
        let (source, renderer) = scenes.preview.as_ref().expect("the preview renderer stays");
        assert!(renderer.volume().is_none(), "the reduced copy is let go");
        assert!(source.upgrade().is_none());
        // Asked again (a volume evicted and opened anew), it is made again.
        assert!(
            scenes
                .preview_for(&volume)
                .is_some_and(|renderer| renderer.volume().is_some())
        );
    }
}
