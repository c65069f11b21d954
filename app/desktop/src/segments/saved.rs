//! The Segmentations saved before on the series shown, where it keeps its findings (its
//! PACS, or the findings folder; the one choice a server makes too, `DocumentHome`):
//! listed off the UI thread when the series first shows and after each save, and one read
//! onto the series' grid at a click, its segments added as they were saved.

use std::sync::Arc;

use eframe::egui;
use hounsfield_dicomweb::KeptSegmentation;
use hounsfield_findings::report::ReportSubject;
use hounsfield_protocol::SegmentNumbers;
use hounsfield_segment::Segment;
use hounsfield_server::segments::numbers_of;
use hounsfield_workstation::authorship::observer_name;
use render_core::Volume;

use super::{LocalSegments, SERIES};
use crate::findings::pending::Pending;
use crate::findings::store::{self, Keeping};

/// A saved segment read onto the volume, measured.
pub(super) struct Loaded {
    segment: Segment,
    numbers: SegmentNumbers,
}

/// The Segmentations saved on the series, and where they are kept.
#[derive(Default)]
pub(super) struct SavedSegmentations {
    /// The series and where its documents are kept; none for the built-in sample.
    home: Option<(ReportSubject, Keeping)>,
    /// Those found, newest first.
    found: Vec<KeptSegmentation>,
    /// Whether the list is up to date (or being made).
    listed: bool,
    /// The list being made.
    listing: Option<Pending<Vec<KeptSegmentation>>>,
    /// One being read.
    reading: Option<Pending<Vec<Loaded>>>,
}

impl SavedSegmentations {
    /// Whether one is being read.
    pub(super) fn reading(&self) -> bool {
        self.reading.is_some()
    }

    /// The panel's lines: when each was written, its segments, and where it is kept.
    pub(super) fn lines(&self) -> Vec<String> {
        self.found
            .iter()
            .map(|kept| {
                let place = match kept.place {
                    hounsfield_dicomweb::Place::Pacs { .. } => "the PACS",
                    hounsfield_dicomweb::Place::Folder { .. } => "the findings folder",
                };
                format!(
                    "{} · {} ({place})",
                    kept.header.written,
                    kept.header.segment_labels.join(", ")
                )
            })
            .collect()
    }

    /// The list is to be made again (a Segmentation was saved).
    pub(super) fn list_again(&mut self) {
        self.listed = false;
    }
}

impl LocalSegments {
    /// The series is `subject`'s, its documents kept where `keeping` says: the
    /// Segmentations saved there are looked for.
    pub fn keep_in(&mut self, subject: ReportSubject, keeping: Keeping) {
        self.saved.home = Some((subject, keeping));
        self.saved.listed = false;
    }

    /// Starts the list when it is due, and takes the list and a reading that came back.
    pub(super) fn follow_saved(&mut self, ctx: &egui::Context) {
        let saved = &mut self.saved;
        if !saved.listed
            && saved.listing.is_none()
            && let Some((subject, keeping)) = saved.home.clone()
        {
            saved.listed = true;
            let started = Pending::start(ctx, "segmentations-list", move || {
                store::segmentations(&keeping, &subject)
                    .map_err(|why| format!("the saved segmentations were not listed: {why}"))
            });
            match started {
                Ok(pending) => saved.listing = Some(pending),
                Err(why) => self.tools.problem = Some(why),
            }
        }
        if let Some(answer) = self.saved.listing.as_ref().and_then(Pending::answer) {
            self.saved.listing = None;
            match answer {
                Ok(found) => self.saved.found = found,
                Err(why) => self.tools.problem = Some(why),
            }
        }
        if let Some(answer) = self.saved.reading.as_ref().and_then(Pending::answer) {
            self.saved.reading = None;
            match answer {
                Ok(loaded) => self.add_loaded(loaded),
                Err(why) => self.tools.problem = Some(why),
            }
        }
    }

    /// Reads the saved Segmentation at `index` of the list onto `volume`, off the UI
    /// thread; its segments are added when it comes back.
    pub fn show_saved(&mut self, ctx: &egui::Context, volume: &Arc<Volume>, index: usize) {
        let (Some(kept), Some((_, keeping))) = (
            self.saved.found.get(index).cloned(),
            self.saved.home.clone(),
        ) else {
            return;
        };
        if self.saved.reading.is_some() {
            return;
        }
        let volume = Arc::clone(volume);
        let unit = self.unit;
        let started = Pending::start(ctx, "segmentation-read", move || {
            let read = store::read_segmentation(&keeping, &kept, &volume)
                .map_err(|why| format!("the Segmentation was not read: {why}"))?;
            read.segments
                .into_iter()
                .map(|segment| {
                    let measures = hounsfield_segment::measure(&volume, &segment.mask)
                        .map_err(|why| why.to_string())?;
                    Ok(Loaded {
                        numbers: numbers_of(&measures, unit),
                        segment,
                    })
                })
                .collect()
        });
        match started {
            Ok(pending) => self.saved.reading = Some(pending),
            Err(why) => self.tools.problem = Some(why),
        }
    }

    /// Adds segments read from a saved Segmentation, each as it was (its name, colour,
    /// codes and algorithm), as far as the series has room.
    fn add_loaded(&mut self, loaded: Vec<Loaded>) {
        let author = observer_name();
        for Loaded { segment, numbers } in loaded {
            match self.book.add(SERIES, segment, numbers, &author) {
                Ok(info) => self.tools.selected = Some(info.id),
                Err(why) => {
                    self.tools.problem = Some(why.to_string());
                    break;
                }
            }
        }
        self.changed();
    }
}
