//! A picture laid over a slice the renderer drew (the segments, a second series): made on
//! the CPU at the slice's size, uploaded to egui, painted over the slice's whole rect, and
//! made again only when what it shows changes.

use eframe::egui;

/// One layer's texture over one slice view, and the key of what it was made from.
pub struct LayerTexture<K> {
    /// egui's name of the texture.
    name: &'static str,
    options: egui::TextureOptions,
    texture: Option<(egui::TextureHandle, K)>,
}

impl<K: PartialEq> LayerTexture<K> {
    /// A layer named `name`, sampled with `options`, with no picture yet.
    pub fn new(name: &'static str, options: egui::TextureOptions) -> Self {
        Self {
            name,
            options,
            texture: None,
        }
    }

    /// Paints over `rect` the picture made from `key`: the one kept when it was made from
    /// the same key, else `make`'s, uploaded in its place.
    pub fn paint(
        &mut self,
        painter: &egui::Painter,
        rect: egui::Rect,
        key: K,
        make: impl FnOnce() -> egui::ColorImage,
    ) {
        match &mut self.texture {
            Some((texture, made)) => {
                if *made != key {
                    texture.set(make(), self.options);
                    *made = key;
                }
            }
            None => {
                let texture = painter.ctx().load_texture(self.name, make(), self.options);
                self.texture = Some((texture, key));
            }
        }
        if let Some((texture, _)) = &self.texture {
            let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
            painter.image(texture.id(), rect, uv, egui::Color32::WHITE);
        }
    }

    /// Drops the picture: nothing shows until the next [`Self::paint`].
    pub fn clear(&mut self) {
        self.texture = None;
    }
}
