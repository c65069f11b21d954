//! A view's own copy of a rendered frame, registered with egui: one renderer draws every
//! view of the layout in turn, and each view keeps its last frame here.

use eframe::egui;
use eframe::egui_wgpu::RenderState;
use eframe::wgpu;

/// A texture on eframe's device that egui can paint.
#[derive(Default)]
pub struct ViewportTexture {
    texture: Option<wgpu::Texture>,
    id: Option<egui::TextureId>,
}

impl ViewportTexture {
    /// Copies `frame` (the renderer's frame texture) into this view's texture.
    pub fn copy_from(&mut self, render_state: &RenderState, frame: &wgpu::Texture) {
        let device = &render_state.device;
        let size = frame.size();
        let fits = self
            .texture
            .as_ref()
            .is_some_and(|texture| texture.size() == size);
        if !fits {
            let texture = device.create_texture(&wgpu::TextureDescriptor {
                label: Some("viewport"),
                size,
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: frame.format(),
                usage: wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            });
            let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
            let mut egui_renderer = render_state.renderer.write();
            match self.id {
                Some(id) => egui_renderer.update_egui_texture_from_wgpu_texture(
                    device,
                    &view,
                    wgpu::FilterMode::Linear,
                    id,
                ),
                None => {
                    self.id = Some(egui_renderer.register_native_texture(
                        device,
                        &view,
                        wgpu::FilterMode::Linear,
                    ));
                }
            }
            self.texture = Some(texture);
        }
        let Some(texture) = &self.texture else {
            return;
        };
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("viewport copy"),
        });
        encoder.copy_texture_to_texture(frame.as_image_copy(), texture.as_image_copy(), size);
        render_state.queue.submit([encoder.finish()]);
    }

    /// Paints the frame over `rect`.
    pub fn paint(&self, painter: &egui::Painter, rect: egui::Rect) {
        if let Some(id) = self.id {
            let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
            painter.image(id, rect, uv, egui::Color32::WHITE);
        }
    }
}
