//! The series browser: patients → studies → series of a folder, each series with a
//! thumbnail of its middle image; a folder picked with the system dialog, typed, dropped on
//! the window or taken from the recent studies. Scanning and thumbnails run off the UI
//! thread.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex};

use eframe::egui;
use render_core::dicom::Catalog;
use render_core::dicom::header::ImageHeader;
use render_core::dicom::pixels::{FrameTarget, decode_frames};
use render_core::progress::no_progress;

use super::settings::RecentStudy;

/// Thumbnails are at most this many pixels a side.
const THUMBNAIL_SIDE: usize = 64;

/// A series the user chose to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenChoice {
    /// The file, folder or DICOMDIR.
    pub path: PathBuf,
    /// The series id; none: the largest.
    pub series: Option<String>,
}

/// One series as the browser lists it.
struct SeriesRow {
    id: String,
    text: String,
    /// Why it cannot be opened, when it cannot.
    unavailable: Option<String>,
}

/// One study as the browser lists it.
struct StudyRow {
    heading: String,
    series: Vec<SeriesRow>,
}

/// A scanned folder: what the catalog found.
struct Scanned {
    root: PathBuf,
    studies: Vec<StudyRow>,
    skipped: usize,
}

/// The browser panel's state.
pub struct SeriesBrowser {
    scanned: Option<Scanned>,
    scanning: Option<(PathBuf, Receiver<Scanned>)>,
    thumbnails: Arc<Mutex<HashMap<String, egui::ColorImage>>>,
    textures: HashMap<String, egui::TextureHandle>,
    picking: Option<Receiver<Option<PathBuf>>>,
    /// The path typed into the field.
    typed: String,
    /// The last problem to show (a dialog that could not open, say).
    problem: Option<String>,
    /// The series being shown, highlighted in the list.
    pub current: Option<String>,
}

impl SeriesBrowser {
    /// An empty browser.
    pub fn new() -> Self {
        Self {
            scanned: None,
            scanning: None,
            thumbnails: Arc::default(),
            textures: HashMap::new(),
            picking: None,
            typed: String::new(),
            problem: None,
            current: None,
        }
    }

    /// Lists the studies in `root` (headers only, on a thread), then makes thumbnails.
    pub fn scan(&mut self, root: &Path, ctx: &egui::Context) {
        if self.scanned.as_ref().is_some_and(|s| s.root == root)
            || self.scanning.as_ref().is_some_and(|(r, _)| r == root)
        {
            return;
        }
        let (sender, receiver) = sync_channel(1);
        let thumbnails = self.thumbnails.clone();
        let wake = ctx.clone();
        let folder = root.to_path_buf();
        let spawned = std::thread::Builder::new()
            .name("series-browser".to_string())
            .spawn(move || {
                let catalog = Catalog::scan(std::slice::from_ref(&folder), &no_progress);
                let _ = sender.send(rows(&folder, &catalog));
                wake.request_repaint();
                for series in catalog.series() {
                    if let Some(image) = thumbnail(&series.images) {
                        if let Ok(mut made) = thumbnails.lock() {
                            made.insert(series.id.clone(), image);
                        }
                        wake.request_repaint();
                    }
                }
            });
        match spawned {
            Ok(_) => self.scanning = Some((root.to_path_buf(), receiver)),
            Err(error) => self.problem = Some(format!("cannot scan {}: {error}", root.display())),
        }
    }

    /// Draws the panel; the series to open when one was chosen.
    pub fn ui(&mut self, ui: &mut egui::Ui, recent: &[RecentStudy]) -> Option<OpenChoice> {
        self.poll(ui.ctx());
        let mut choice = None;
        ui.heading("Studies");
        ui.horizontal(|ui| {
            if ui
                .add_enabled(self.picking.is_none(), egui::Button::new("Open folder…"))
                .clicked()
            {
                self.pick_folder(ui.ctx());
            }
        });
        ui.horizontal(|ui| {
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.typed)
                    .hint_text("or type a path")
                    .desired_width(170.0),
            );
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Open").clicked() || entered) && !self.typed.trim().is_empty() {
                choice = Some(OpenChoice {
                    path: PathBuf::from(self.typed.trim()),
                    series: None,
                });
            }
        });
        if let Some(problem) = &self.problem {
            ui.label(egui::RichText::new(problem).color(ui.visuals().warn_fg_color));
        }
        ui.separator();
        egui::ScrollArea::vertical()
            .id_salt("studies")
            .max_height(ui.available_height() * 0.7)
            .show(ui, |ui| {
                if let Some((root, _)) = &self.scanning {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label(format!("reading {}", root.display()));
                    });
                }
                if let Some(picked) = self.studies_ui(ui) {
                    choice = Some(picked);
                }
            });
        if !recent.is_empty() {
            ui.separator();
            ui.label("Recent");
            for study in recent {
                let text = study.path.display().to_string();
                if ui
                    .add(egui::Button::new(text.as_str()).truncate())
                    .on_hover_text(&text)
                    .clicked()
                {
                    choice = Some(OpenChoice {
                        path: study.path.clone(),
                        series: study.series.clone(),
                    });
                }
            }
        }
        choice
    }

    fn studies_ui(&mut self, ui: &mut egui::Ui) -> Option<OpenChoice> {
        let scanned = self.scanned.as_ref()?;
        let mut choice = None;
        if scanned.studies.is_empty() {
            ui.label("no DICOM series here");
        }
        for study in &scanned.studies {
            egui::CollapsingHeader::new(study.heading.as_str())
                .default_open(true)
                .show(ui, |ui| {
                    for series in &study.series {
                        ui.horizontal(|ui| {
                            match self.textures.get(&series.id) {
                                Some(texture) => {
                                    ui.image((texture.id(), texture.size_vec2()));
                                }
                                None => {
                                    ui.allocate_space(egui::vec2(
                                        THUMBNAIL_SIDE as f32,
                                        THUMBNAIL_SIDE as f32,
                                    ));
                                }
                            }
                            let selected = self.current.as_deref() == Some(series.id.as_str());
                            let button = ui.add_enabled(
                                series.unavailable.is_none(),
                                egui::Button::selectable(selected, series.text.as_str()),
                            );
                            let button = match &series.unavailable {
                                Some(why) => button.on_disabled_hover_text(why),
                                None => button.on_hover_text(&series.id),
                            };
                            if button.clicked() {
                                choice = Some(OpenChoice {
                                    path: scanned.root.clone(),
                                    series: Some(series.id.clone()),
                                });
                            }
                        });
                    }
                });
        }
        if scanned.skipped > 0 {
            ui.label(format!(
                "{} files are not images (see `hounsfield info`)",
                scanned.skipped
            ));
        }
        choice
    }

    /// Takes a finished scan, new thumbnails and a picked folder.
    fn poll(&mut self, ctx: &egui::Context) {
        if let Some((_, receiver)) = &self.scanning {
            match receiver.try_recv() {
                Ok(scanned) => {
                    self.scanned = Some(scanned);
                    self.scanning = None;
                }
                Err(TryRecvError::Disconnected) => self.scanning = None,
                Err(TryRecvError::Empty) => {}
            }
        }
        let ready: Vec<(String, egui::ColorImage)> = match self.thumbnails.lock() {
            Ok(mut made) => made.drain().collect(),
            Err(_) => Vec::new(),
        };
        for (id, image) in ready {
            let texture = ctx.load_texture(
                format!("thumbnail {id}"),
                image,
                egui::TextureOptions::LINEAR,
            );
            self.textures.insert(id, texture);
        }
        if let Some(receiver) = &self.picking {
            match receiver.try_recv() {
                Ok(Some(folder)) => {
                    self.picking = None;
                    self.typed = folder.display().to_string();
                    self.scan(&folder, ctx);
                }
                Ok(None) | Err(TryRecvError::Disconnected) => self.picking = None,
                Err(TryRecvError::Empty) => {}
            }
        }
    }

    /// Shows the system's folder dialog on a thread of its own (it blocks).
    fn pick_folder(&mut self, ctx: &egui::Context) {
        let (sender, receiver) = sync_channel(1);
        let wake = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("folder-dialog".to_string())
            .spawn(move || {
                let folder = rfd::FileDialog::new()
                    .set_title("Open a DICOM folder")
                    .pick_folder();
                let _ = sender.send(folder);
                wake.request_repaint();
            });
        match spawned {
            Ok(_) => {
                self.picking = Some(receiver);
                self.problem = None;
            }
            Err(error) => self.problem = Some(format!("no folder dialog: {error}")),
        }
    }
}

/// The catalog as rows: a heading per study, a line per series.
fn rows(root: &Path, catalog: &Catalog) -> Scanned {
    let studies = catalog
        .studies
        .iter()
        .map(|study| {
            let parts = [
                study.patient_name.replace('^', " "),
                study.date.clone(),
                study.description.clone(),
            ];
            let heading: Vec<&str> = parts
                .iter()
                .map(|part| part.trim())
                .filter(|part| !part.is_empty())
                .collect();
            let heading = if heading.is_empty() {
                study.uid.clone()
            } else {
                heading.join(" · ")
            };
            let series = study
                .series
                .iter()
                .map(|series| SeriesRow {
                    id: series.id.clone(),
                    text: format!(
                        "{}{} {} ({} images)",
                        series.number.map(|n| format!("{n} · ")).unwrap_or_default(),
                        series.modality,
                        series.description,
                        series.images.len()
                    ),
                    unavailable: match (&series.plan, &series.unsupported) {
                        (Err(reason), _) => Some(reason.clone()),
                        (Ok(_), Some(what)) => Some(what.clone()),
                        (Ok(_), None) => None,
                    },
                })
                .collect();
            StudyRow { heading, series }
        })
        .collect();
    Scanned {
        root: root.to_path_buf(),
        studies,
        skipped: catalog.skipped.len(),
    }
}

/// The middle image of a series, windowed and shrunk to a thumbnail; none when it cannot
/// be decoded (the series is then listed without one).
fn thumbnail(images: &[ImageHeader]) -> Option<egui::ColorImage> {
    let header = images.get(images.len() / 2)?;
    let (rows, columns) = (header.rows as usize, header.columns as usize);
    let mut values = vec![0f32; rows.checked_mul(columns)?];
    let mut targets = [FrameTarget {
        frame: header.frame,
        rescale: header.rescale,
        out: &mut values,
    }];
    decode_frames(&header.file, header.pixel_format, &mut targets).ok()?;
    let window = header.window.unwrap_or_else(|| {
        let (min, max) = values
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        render_core::Window {
            width: f64::from((max - min).max(1.0)),
            center: f64::from(min + max) * 0.5,
        }
    });
    let step = rows.max(columns).div_ceil(THUMBNAIL_SIDE).max(1);
    let (height, width) = (rows.div_ceil(step), columns.div_ceil(step));
    let mut pixels = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let value = values
                .get(y * step * columns + x * step)
                .copied()
                .unwrap_or(0.0);
            let grey = window.grey_u8(f64::from(value));
            pixels.push(egui::Color32::from_gray(grey));
        }
    }
    Some(egui::ColorImage::new([width, height], pixels))
}
