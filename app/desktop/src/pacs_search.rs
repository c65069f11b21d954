//! The studies panel's PACS tab: a DICOMweb service searched by patient name and ID,
//! accession number, modality and study date range (QIDO-RS, a page of studies at a time,
//! each with its series, on a thread), and a series picked there opened as the command
//! line opens a URL (retrieved over WADO-RS through the cache).

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError};

use eframe::egui;
use hounsfield_dicomweb::{SeriesMatch, StudyMatch, StudyQuery};
use hounsfield_protocol::StudyQuery as WireQuery;

use super::open_choice::OpenChoice;
use super::ui_thread::off_the_ui_thread;
use hounsfield_workstation::source;

/// Studies listed per page.
const PAGE: usize = 25;
/// Modalities offered in the search (empty: any).
const MODALITIES: &[&str] = &["", "CT", "MR", "PT", "NM", "CR", "DX", "MG", "US", "XA"];

/// The QIDO-RS query for the page at `offset` of the studies matching `fields`, asking
/// one study more than a page to tell whether another page follows.
fn qido_query(fields: &WireQuery, offset: usize) -> StudyQuery {
    StudyQuery::page_of(fields, offset, PAGE + 1)
}

/// A study found, with its series.
struct FoundStudy {
    heading: String,
    series: Vec<SeriesMatch>,
}

/// One page of a search's answer.
struct Found {
    studies: Vec<FoundStudy>,
    offset: usize,
    /// Whether the PACS holds more matching studies after this page.
    more: bool,
}

/// The PACS tab's state.
pub struct PacsSearch {
    /// The DICOMweb base URL searched.
    pub url: String,
    /// The search fields, as typed.
    fields: WireQuery,
    searching: Option<Receiver<Result<Found, String>>>,
    found: Option<Found>,
    problem: Option<String>,
}

impl PacsSearch {
    /// A tab searching the PACS at `url` (empty: typed by the user).
    pub fn new(url: String) -> Self {
        Self {
            url,
            fields: WireQuery::default(),
            searching: None,
            found: None,
            problem: None,
        }
    }

    /// Draws the tab; the series to open when one was picked, and the URL searched when
    /// a search succeeded (to remember).
    pub fn ui(&mut self, ui: &mut egui::Ui) -> (Option<OpenChoice>, Option<String>) {
        let searched = self.poll();
        let mut search = None;
        egui::Grid::new("pacs-fields")
            .num_columns(2)
            .spacing([6.0, 4.0])
            .show(ui, |ui| {
                let mut field = |ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str| {
                    let label = ui.label(label);
                    let edit = ui
                        .add(
                            egui::TextEdit::singleline(text)
                                .hint_text(hint)
                                .desired_width(160.0),
                        )
                        .labelled_by(label.id);
                    let entered =
                        edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    if entered {
                        search = Some(0);
                    }
                    ui.end_row();
                };
                field(
                    ui,
                    "DICOMweb URL",
                    &mut self.url,
                    "http://host:8042/dicom-web",
                );
                field(ui, "Patient name", &mut self.fields.patient_name, "DOE^J");
                field(ui, "Patient ID", &mut self.fields.patient_id, "");
                field(ui, "Accession", &mut self.fields.accession, "");
                ui.label("Modality");
                egui::ComboBox::from_id_salt("pacs-modality")
                    .selected_text(if self.fields.modality.is_empty() {
                        "any"
                    } else {
                        self.fields.modality.as_str()
                    })
                    .show_ui(ui, |ui| {
                        for &modality in MODALITIES {
                            let shown = if modality.is_empty() { "any" } else { modality };
                            ui.selectable_value(
                                &mut self.fields.modality,
                                modality.to_string(),
                                shown,
                            );
                        }
                    });
                ui.end_row();
                field(ui, "Date from", &mut self.fields.date_from, "YYYYMMDD");
                field(ui, "Date to", &mut self.fields.date_to, "YYYYMMDD");
            });
        ui.horizontal(|ui| {
            let idle = self.searching.is_none();
            if ui.add_enabled(idle, egui::Button::new("Search")).clicked() {
                search = Some(0);
            }
            if self.searching.is_some() {
                ui.spinner();
            }
        });
        if let Some(problem) = &self.problem {
            ui.label(egui::RichText::new(problem).color(ui.visuals().warn_fg_color));
        }
        let mut choice = None;
        if let Some(found) = &self.found {
            ui.separator();
            let (offset, shown, more) = (found.offset, found.studies.len(), found.more);
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(offset > 0, egui::Button::new("‹ Prev"))
                    .clicked()
                {
                    search = Some(offset.saturating_sub(PAGE));
                }
                ui.label(if shown == 0 {
                    "no study matches".to_string()
                } else {
                    format!("studies {}–{}", offset + 1, offset + shown)
                });
                if ui.add_enabled(more, egui::Button::new("Next ›")).clicked() {
                    search = Some(offset + PAGE);
                }
            });
            egui::ScrollArea::vertical()
                .id_salt("pacs-studies")
                .max_height(ui.available_height() * 0.8)
                .show(ui, |ui| {
                    for study in &found.studies {
                        ui.label(egui::RichText::new(&study.heading).strong());
                        for series in &study.series {
                            if ui.button(series_text(series)).clicked() {
                                choice = Some(OpenChoice {
                                    path: PathBuf::from(self.url.trim()),
                                    series: Some(series.uid.clone()),
                                });
                            }
                        }
                    }
                });
        }
        if let Some(offset) = search {
            self.search(ui.ctx(), offset);
        }
        (choice, searched)
    }

    /// Starts the search for the page at `offset` on a thread.
    fn search(&mut self, ctx: &egui::Context, offset: usize) {
        let url = self.url.trim().to_string();
        if !hounsfield_dicomweb::is_dicomweb_url(&url) {
            self.problem = Some("type the PACS's DICOMweb URL (http(s)://…/dicom-web)".into());
            return;
        }
        let query = qido_query(&self.fields, offset);
        let searched = off_the_ui_thread(ctx, "pacs-search", move || {
            find(&url, &query).map_err(|error| format!("{error:#}"))
        });
        match searched {
            Ok(receiver) => {
                self.searching = Some(receiver);
                self.problem = None;
            }
            Err(error) => self.problem = Some(format!("cannot search: {error}")),
        }
    }

    /// Takes a finished search; the URL searched when it succeeded.
    fn poll(&mut self) -> Option<String> {
        let receiver = self.searching.as_ref()?;
        let answer = match receiver.try_recv() {
            Ok(answer) => answer,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => Err("the search stopped".to_string()),
        };
        self.searching = None;
        match answer {
            Ok(found) => {
                self.found = Some(found);
                Some(self.url.trim().to_string())
            }
            Err(problem) => {
                self.problem = Some(problem);
                None
            }
        }
    }
}

/// The page of studies at `url` matching `query`, each with its series (headers only).
fn find(url: &str, query: &StudyQuery) -> anyhow::Result<Found> {
    let pacs = source::dicomweb(url)?;
    let mut studies = pacs.search_studies(query)?;
    let more = studies.len() > PAGE;
    studies.truncate(PAGE);
    let studies = studies
        .into_iter()
        .map(|study| {
            let mut series = pacs.study_series(&study.uid)?;
            series.sort_by(|a, b| a.number.cmp(&b.number).then_with(|| a.uid.cmp(&b.uid)));
            Ok(FoundStudy {
                heading: study_heading(&study),
                series,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Found {
        studies,
        offset: query.offset,
        more,
    })
}

/// A study's line: patient, ID, date and description.
fn study_heading(study: &StudyMatch) -> String {
    [
        study.patient_name.replace('^', " ").trim().to_string(),
        study.patient_id.clone(),
        study.date.clone(),
        study.description.clone(),
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(" · ")
}

/// A series' button: number, modality, description and images.
pub(super) fn series_text(series: &SeriesMatch) -> String {
    let number = series.number.map(|n| format!("{n} · ")).unwrap_or_default();
    let images = series
        .instances
        .map(|n| format!(" ({n} images)"))
        .unwrap_or_default();
    format!("{number}{} {}{images}", series.modality, series.description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_are_left_out_of_the_query_and_a_page_asks_one_more() {
        let fields = WireQuery {
            patient_name: " DOE ".to_string(),
            modality: "MR".to_string(),
            date_from: "20130101".to_string(),
            ..WireQuery::default()
        };
        let query = qido_query(&fields, 25);
        assert_eq!(query.patient_name.as_deref(), Some("DOE"));
        assert_eq!(query.modality.as_deref(), Some("MR"));
        assert_eq!(query.date_from.as_deref(), Some("20130101"));
        assert_eq!(
            (query.patient_id, query.date_to, query.accession_number),
            (None, None, None)
        );
        assert_eq!((query.limit, query.offset), (PAGE + 1, 25));
    }
}
