//! The series browser: patients → studies → series of a folder, each series with a
//! thumbnail of its middle image; a folder or a file picked with the system dialog, typed,
//! dropped on the window or taken from the recent studies. Scanning, thumbnails and working
//! out what a picked file belongs to run off the UI thread.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex};

use eframe::egui;
use render_core::dicom::thumbnail::series_thumbnail;
use render_core::dicom::{Catalog, Series, Study};
use render_core::progress::no_progress;

pub use super::open_choice::OpenChoice;
use super::pacs_search::PacsSearch;
use super::settings::RecentStudy;
use super::ui_thread::off_the_ui_thread;

/// Thumbnails are at most this many pixels a side.
const THUMBNAIL_SIDE: usize = 64;

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
    /// StudyDate as written (YYYYMMDD), for ordering.
    date: String,
    series: Vec<SeriesRow>,
}

/// One patient as the browser lists them: their studies, newest first.
struct PatientRow {
    heading: String,
    studies: Vec<StudyRow>,
}

/// A scanned folder: what the catalog found.
struct Scanned {
    root: PathBuf,
    patients: Vec<PatientRow>,
    skipped: usize,
}

/// What a system dialog (or a dropped file) came back with.
enum Picked {
    /// A folder to list in the panel.
    Folder(PathBuf),
    /// A file, worked out into the series to open.
    File(OpenChoice),
}

/// The panel's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    /// Folders and files on this machine.
    Folders,
    /// A PACS searched over DICOMweb.
    Pacs,
}

/// The browser panel's state.
pub struct SeriesBrowser {
    tab: Tab,
    /// The PACS tab.
    pub pacs: PacsSearch,
    /// A PACS URL searched with success, for the settings to remember.
    pub pacs_searched: Option<String>,
    scanned: Option<Scanned>,
    scanning: Option<(PathBuf, Receiver<Scanned>)>,
    thumbnails: Arc<Mutex<HashMap<String, egui::ColorImage>>>,
    textures: HashMap<String, egui::TextureHandle>,
    picking: Option<Receiver<Option<Picked>>>,
    /// A picked file's series, to open on the next pass.
    ready: Option<OpenChoice>,
    /// The path typed into the field.
    typed: String,
    /// The last problem to show (a dialog that could not open, say).
    problem: Option<String>,
    /// The series being shown, highlighted in the list.
    pub current: Option<String>,
    /// A series the reader asked to open beside the one shown (a row's menu).
    pub beside: Option<OpenChoice>,
    /// A series the reader asked to draw over the one shown (a row's menu).
    pub over: Option<OpenChoice>,
}

impl SeriesBrowser {
    /// An empty browser.
    pub fn new() -> Self {
        Self {
            tab: Tab::Folders,
            pacs: PacsSearch::new(String::new()),
            pacs_searched: None,
            scanned: None,
            scanning: None,
            thumbnails: Arc::default(),
            textures: HashMap::new(),
            picking: None,
            ready: None,
            typed: String::new(),
            problem: None,
            current: None,
            beside: None,
            over: None,
        }
    }

    /// Lists the studies in `root` (headers only, on a thread), then makes thumbnails; a
    /// DICOMweb URL goes to the PACS tab instead, to be searched.
    pub fn scan(&mut self, root: &Path, ctx: &egui::Context) {
        if let Some(url) = hounsfield_workstation::source::dicomweb_url(root) {
            self.pacs.url = url.to_string();
            self.tab = Tab::Pacs;
            return;
        }
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
                    if let Some(image) = thumbnail(series) {
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
        ui.heading("Studies");
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, Tab::Folders, "Folders");
            ui.selectable_value(&mut self.tab, Tab::Pacs, "PACS");
        });
        if self.tab == Tab::Pacs {
            let (choice, searched) = self.pacs.ui(ui);
            if searched.is_some() {
                self.pacs_searched = searched;
            }
            return choice;
        }
        let mut choice = None;
        ui.horizontal(|ui| {
            let idle = self.picking.is_none();
            if ui
                .add_enabled(idle, egui::Button::new("Open folder…"))
                .clicked()
            {
                self.pick(ui.ctx(), Dialog::Folder);
            }
            if ui
                .add_enabled(idle, egui::Button::new("Open file…"))
                .on_hover_text("a DICOM image, a multi-frame file or a DICOMDIR")
                .clicked()
            {
                self.pick(ui.ctx(), Dialog::File);
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
                let path = PathBuf::from(self.typed.trim());
                if path.is_file() {
                    self.open_file(path, ui.ctx());
                } else {
                    choice = Some(OpenChoice { path, series: None });
                }
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
                match self.studies_ui(ui) {
                    Some(Pick::Open(picked)) => choice = Some(picked),
                    Some(Pick::Beside(picked)) => self.beside = Some(picked),
                    Some(Pick::Over(picked)) => self.over = Some(picked),
                    None => {}
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

    fn studies_ui(&self, ui: &mut egui::Ui) -> Option<Pick> {
        let scanned = self.scanned.as_ref()?;
        let mut choice = None;
        if scanned.patients.is_empty() {
            ui.label("no DICOM series here");
        }
        for (index, patient) in scanned.patients.iter().enumerate() {
            egui::CollapsingHeader::new(patient.heading.as_str())
                .id_salt(("patient", index))
                .default_open(true)
                .show(ui, |ui| {
                    for study in &patient.studies {
                        if let Some(picked) = self.study_ui(ui, &scanned.root, study) {
                            choice = Some(picked);
                        }
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

    /// One study's heading and its series, each with its thumbnail; the series clicked, or
    /// picked from its menu to open beside.
    fn study_ui(&self, ui: &mut egui::Ui, root: &Path, study: &StudyRow) -> Option<Pick> {
        let mut choice = None;
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
                        let picked = OpenChoice {
                            path: root.to_path_buf(),
                            series: Some(series.id.clone()),
                        };
                        button.context_menu(|menu| {
                            if menu.button("Open beside").clicked() {
                                choice = Some(Pick::Beside(picked.clone()));
                            }
                            if menu
                                .button("Draw over")
                                .on_hover_text(
                                    "draw this series over the slices of the one shown (a PET over its CT)",
                                )
                                .clicked()
                            {
                                choice = Some(Pick::Over(picked.clone()));
                            }
                        });
                        if button.clicked() {
                            choice = Some(Pick::Open(picked));
                        }
                    });
                }
            });
        choice
    }

    /// Takes a finished scan, new thumbnails and a picked folder or file.
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
                Ok(Some(Picked::Folder(folder))) => {
                    self.picking = None;
                    self.typed = folder.display().to_string();
                    self.scan(&folder, ctx);
                }
                Ok(Some(Picked::File(choice))) => {
                    self.picking = None;
                    self.ready = Some(choice);
                    ctx.request_repaint();
                }
                Ok(None) | Err(TryRecvError::Disconnected) => self.picking = None,
                Err(TryRecvError::Empty) => {}
            }
        }
    }

    /// Shows the system's folder or file dialog on a thread of its own (it blocks); a
    /// picked file is worked out into its series there too.
    fn pick(&mut self, ctx: &egui::Context, dialog: Dialog) {
        self.on_a_thread(ctx, "file-dialog", move || match dialog {
            Dialog::Folder => rfd::FileDialog::new()
                .set_title("Open a DICOM folder")
                .pick_folder()
                .map(Picked::Folder),
            Dialog::File => rfd::FileDialog::new()
                .set_title("Open a DICOM file or DICOMDIR")
                .pick_file()
                .map(|file| Picked::File(choice_for_file(&file))),
        });
    }

    /// A file picked or dropped earlier, worked out into the series to open (whether or not
    /// the panel is shown).
    pub fn picked(&mut self, ctx: &egui::Context) -> Option<OpenChoice> {
        self.poll(ctx);
        self.ready.take()
    }

    /// Opens a file dropped on the window or typed: its series is worked out off the UI
    /// thread and opened on a later pass.
    pub fn open_file(&mut self, file: PathBuf, ctx: &egui::Context) {
        self.on_a_thread(ctx, "open-file", move || {
            Some(Picked::File(choice_for_file(&file)))
        });
    }

    fn on_a_thread(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        work: impl FnOnce() -> Option<Picked> + Send + 'static,
    ) {
        match off_the_ui_thread(ctx, name, work) {
            Ok(receiver) => {
                self.picking = Some(receiver);
                self.problem = None;
            }
            Err(error) => self.problem = Some(format!("cannot open a file: {error}")),
        }
    }
}

/// What a series row was picked for.
enum Pick {
    /// To open in place of the series shown.
    Open(OpenChoice),
    /// To open beside it.
    Beside(OpenChoice),
    /// To draw over it.
    Over(OpenChoice),
}

/// Which system dialog to show.
#[derive(Debug, Clone, Copy)]
enum Dialog {
    Folder,
    File,
}

/// What opening one file means. A DICOMDIR or a multi-frame file opens as it is; one image
/// of a series opens its folder at that series, since a radiologist who picks a slice
/// wants the whole series.
pub fn choice_for_file(file: &Path) -> OpenChoice {
    let as_it_is = OpenChoice {
        path: file.to_path_buf(),
        series: None,
    };
    let is_dicomdir = file
        .file_name()
        .is_some_and(|name| name.eq_ignore_ascii_case("DICOMDIR"));
    if is_dicomdir {
        return as_it_is;
    }
    let alone = Catalog::scan(&[file.to_path_buf()], &no_progress);
    let single_image = alone
        .series()
        .map(|series| series.images.len())
        .sum::<usize>()
        == 1;
    let Some(folder) = file.parent().filter(|_| single_image) else {
        // A multi-frame file, or not an image at all (the loader then says why).
        return as_it_is;
    };
    let same_file = file.canonicalize().ok();
    let siblings = Catalog::scan(&[folder.to_path_buf()], &no_progress);
    let series = siblings.series().find(|series| {
        series.images.iter().any(|image| {
            image.file == file
                || (same_file.is_some() && image.file.canonicalize().ok() == same_file)
        })
    });
    match series {
        Some(series) => OpenChoice {
            path: folder.to_path_buf(),
            series: Some(series.id.clone()),
        },
        None => as_it_is,
    }
}

/// The catalog as rows: a heading per patient, then per study (newest first), then a line
/// per series.
fn rows(root: &Path, catalog: &Catalog) -> Scanned {
    let mut patients: Vec<(String, PatientRow)> = Vec::new();
    for study in &catalog.studies {
        let key = format!("{}\u{0}{}", study.patient_id, study.patient_name);
        let row = study_row(study);
        match patients.iter_mut().find(|(known, _)| *known == key) {
            Some((_, patient)) => patient.studies.push(row),
            None => patients.push((
                key,
                PatientRow {
                    heading: patient_heading(&study.patient_name, &study.patient_id),
                    studies: vec![row],
                },
            )),
        }
    }
    let mut patients: Vec<PatientRow> = patients.into_iter().map(|(_, row)| row).collect();
    for patient in &mut patients {
        // DICOM dates (YYYYMMDD) sort as text: newest first.
        patient.studies.sort_by(|a, b| b.date.cmp(&a.date));
    }
    Scanned {
        root: root.to_path_buf(),
        patients,
        skipped: catalog.skipped.len(),
    }
}

/// "DOE JOHN · 12345": the name as written (components spaced), then the patient ID.
fn patient_heading(name: &str, id: &str) -> String {
    let name = name.replace('^', " ");
    let parts: Vec<&str> = [name.trim(), id.trim()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect();
    if parts.is_empty() {
        "unnamed patient".to_string()
    } else {
        parts.join(" · ")
    }
}

/// A DICOM date (YYYYMMDD) as a reader reads it (YYYY-MM-DD); anything else as written.
pub(crate) fn shown_date(date: &str) -> String {
    if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..])
    } else {
        date.to_string()
    }
}

/// A cell's or a series' heading: its study's role and date, and its description, e.g.
/// `prior · 2006-01-01 · Sag T2`.
pub(crate) fn reading_heading(role: &str, date: &str, description: &str) -> String {
    let parts: Vec<String> = [role.to_string(), shown_date(date), description.to_string()]
        .into_iter()
        .filter(|part| !part.trim().is_empty())
        .collect();
    parts.join(" · ")
}

/// A study's heading (date, then description) and its series.
fn study_row(study: &Study) -> StudyRow {
    let date = shown_date(&study.date);
    let parts: Vec<&str> = [date.trim(), study.description.trim()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect();
    let heading = if parts.is_empty() {
        study.uid.clone()
    } else {
        parts.join(" · ")
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
    StudyRow {
        heading,
        date: study.date.clone(),
        series,
    }
}

/// The series' thumbnail (the render core's: its middle image decoded alone, windowed and
/// shrunk) as an egui picture; none when it cannot be made (the series is then listed
/// without one).
fn thumbnail(series: &Series) -> Option<egui::ColorImage> {
    let image = series_thumbnail(series, THUMBNAIL_SIDE).ok()?;
    let pixels = image
        .pixels
        .iter()
        .map(|&grey| egui::Color32::from_gray(grey))
        .collect();
    Some(egui::ColorImage::new([image.width, image.height], pixels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hounsfield_test_support::data;

    fn study(uid: &str, patient: (&str, &str), date: &str, description: &str) -> Study {
        Study {
            uid: uid.to_string(),
            patient_name: patient.0.to_string(),
            patient_id: patient.1.to_string(),
            date: date.to_string(),
            description: description.to_string(),
            accession: String::new(),
            series: Vec::new(),
        }
    }

    #[test]
    fn studies_are_listed_under_their_patient_newest_first() {
        let catalog = Catalog {
            studies: vec![
                study("1", ("DOE^JANE", "P1"), "20240105", "CT head"),
                study("2", ("ROE^RICHARD", "P2"), "20240301", "MR lumbar"),
                study("3", ("DOE^JANE", "P1"), "20251120", "CT chest"),
                study("4", ("", ""), "", ""),
            ],
            skipped: Vec::new(),
        };
        let scanned = rows(Path::new("/studies"), &catalog);
        let listed: Vec<(&str, Vec<&str>)> = scanned
            .patients
            .iter()
            .map(|patient| {
                (
                    patient.heading.as_str(),
                    patient.studies.iter().map(|s| s.heading.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            vec![
                (
                    "DOE JANE · P1",
                    vec!["2025-11-20 · CT chest", "2024-01-05 · CT head"]
                ),
                ("ROE RICHARD · P2", vec!["2024-03-01 · MR lumbar"]),
                ("unnamed patient", vec!["4"]),
            ]
        );
    }

    #[test]
    fn a_picked_slice_opens_its_whole_series_and_a_multi_frame_file_opens_as_it_is() {
        let sagittal = data("mr-lumbar/SagT1Flair");
        let slice = sagittal.join("IM-0001-0003.dcm");
        let choice = choice_for_file(&slice);
        let catalog = Catalog::scan(std::slice::from_ref(&sagittal), &no_progress);
        let series = catalog.series().next().expect("the sagittal series");
        assert_eq!(
            choice,
            OpenChoice {
                path: sagittal.clone(),
                series: Some(series.id.clone()),
            }
        );
        assert!(series.images.len() > 1, "the whole series, not one slice");

        let enhanced = std::fs::read_dir(data("philips-enhanced/In/enh"))
            .expect("the enhanced files")
            .flatten()
            .map(|entry| entry.path())
            .find(|path| path.is_file())
            .expect("an enhanced file");
        assert_eq!(
            choice_for_file(&enhanced),
            OpenChoice {
                path: enhanced.clone(),
                series: None
            }
        );

        let dicomdir = data("pydicom-test-files/pydicom/data/test_files/dicomdirtests/DICOMDIR");
        assert_eq!(choice_for_file(&dicomdir).path, dicomdir);

        // Not DICOM at all: opened as it is, so the loader names the file and the problem.
        let text = data("README.md");
        assert_eq!(choice_for_file(&text).path, text);
    }
}
