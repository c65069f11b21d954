//! Cataloguing the library: its folders' headers read and their series listed, then its
//! PACSes listed, and the listing put in place once it is whole. A server starts listening first and
//! catalogues in the background ([`Library::catalogue_in_background`]), so that no
//! library, however large or hostile, keeps it from answering; until the catalogue is
//! complete `/readyz` says how far it has come ([`Library::cataloguing`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use render_core::dicom::{Catalog, Study, VoxelBudget};
use render_core::progress::Progress;

use super::names::{modalities_of, thumbnail_path, without_paths};
use super::{Library, Listing, Source};
use crate::study_query::sort_newest_first;
use hounsfield_protocol::{SeriesInfo, StudyInfo};

/// How far a catalogue has come: files read of those found.
#[derive(Debug, Default)]
pub(super) struct CatalogueProgress {
    done: AtomicUsize,
    total: AtomicUsize,
}

/// What a finished catalogue holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueSummary {
    /// Series listed (the PACSes' among them).
    pub series: usize,
    /// Studies listed.
    pub studies: usize,
    /// Files found but not catalogued (each logged with its reason).
    pub skipped: usize,
    /// Why a PACS could not be listed, when one could not (its studies are listed once a
    /// later listing succeeds).
    pub pacs_error: Option<String>,
}

impl Library {
    /// Catalogues `folders`, then lists the PACSes, on a thread of its own, and calls
    /// `done` once the listing is in place.
    pub fn catalogue_in_background(
        library: &Arc<Self>,
        folders: Vec<PathBuf>,
        done: impl FnOnce(CatalogueSummary) + Send + 'static,
    ) {
        let library = library.clone();
        let spawned = std::thread::Builder::new()
            .name("catalogue".to_string())
            .spawn(move || {
                let mut summary = library.catalogue(&folders);
                if !library.pacs.is_empty() {
                    if let Err(error) = library.list_pacs() {
                        summary.pacs_error = Some(error.to_string());
                    }
                    library.pacs_pending.store(false, Ordering::Release);
                    let listing = library.listing();
                    summary.series = listing.index.len();
                    summary.studies = listing.studies.len();
                }
                done(summary);
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "no thread to catalogue the library on");
        }
    }

    /// Why the library is not yet whole (`cataloguing the library: 120 of 4000 files
    /// read`), or `None` once its catalogue is in place.
    pub fn cataloguing(&self) -> Option<String> {
        if self.folders.get().is_some() {
            return self
                .pacs_pending
                .load(Ordering::Acquire)
                .then(|| "listing the studies of the library's PACS".to_string());
        }
        let done = self.progress.done.load(Ordering::Relaxed);
        let total = self.progress.total.load(Ordering::Relaxed);
        Some(if total == 0 {
            "cataloguing the library: looking for files".to_string()
        } else {
            format!("cataloguing the library: {done} of {total} files read")
        })
    }

    /// Catalogues `folders` now and puts their listing in place beside the PACSes'.
    pub(super) fn catalogue(&self, folders: &[PathBuf]) -> CatalogueSummary {
        let progress = |step: Progress| {
            self.progress.done.store(step.done, Ordering::Relaxed);
            self.progress.total.store(step.total, Ordering::Relaxed);
        };
        let catalog = Catalog::scan(folders, &progress);
        for skipped in &catalog.skipped {
            tracing::debug!(file = %skipped.file.display(), reason = %skipped.reason, "not catalogued");
        }
        let skipped = catalog.skipped.len();
        let folder_listing = listing_of(&catalog, &self.series_budget);
        let _updating = self.lock_listing_update();
        // Set once: a library is catalogued once.
        let _ = self.catalog.set(catalog);
        let _ = self.folders.set(folder_listing.clone());
        // The PACSes' part of the listing as it stands, beside the folders' (a series on
        // disk too keeps its folder's copy).
        let mut listing = folder_listing;
        let before = self.listing();
        for study in &before.studies {
            listing.add_beside(study.clone(), |series| match before.index.get(&series.id) {
                Some(source @ Source::Pacs { .. }) => Some(source.clone()),
                _ => None,
            });
        }
        self.with_received(&mut listing);
        let summary = CatalogueSummary {
            series: listing.index.len(),
            studies: listing.studies.len(),
            skipped,
            pacs_error: None,
        };
        self.replace_listing(listing);
        summary
    }
}

/// The listing of a catalog: each series by id, and the studies as `studies` sends them;
/// a series too large for `series_budget` is listed as unavailable, saying why.
fn listing_of(catalog: &Catalog, series_budget: &VoxelBudget) -> Listing {
    let mut listing = Listing::default();
    for (s, study) in catalog.studies.iter().enumerate() {
        for (n, part) in study.series.iter().enumerate() {
            if listing
                .index
                .insert(part.id.clone(), Source::Catalog(s, n))
                .is_some()
            {
                // The catalog makes ids unique; this would hide a series.
                tracing::error!(series = %part.id, "two series share one id");
            }
        }
        listing.studies.push(study_info(study, series_budget));
    }
    sort_newest_first(&mut listing.studies);
    listing
}

/// A catalogued study as `studies` sends it; a series too large for `series_budget` is
/// listed as unavailable, saying why.
pub(super) fn study_info(study: &Study, series_budget: &VoxelBudget) -> StudyInfo {
    let mut series = Vec::with_capacity(study.series.len());
    for part in &study.series {
        let unavailable = match (&part.plan, &part.unsupported) {
            (Err(reason), _) => Some(without_paths(reason, &part.images)),
            (Ok(_), Some(what)) => Some(what.clone()),
            (Ok(plan), None) => series_budget
                .check(&part.id, plan)
                .err()
                .map(|error| error.to_string()),
        };
        let grey = part
            .images
            .first()
            .is_some_and(|image| image.pixel_format.samples_per_pixel == 1);
        series.push(SeriesInfo {
            id: part.id.clone(),
            number: part.number,
            modality: part.modality.clone(),
            description: part.description.clone(),
            body_part: part
                .images
                .first()
                .map(|image| image.identity.body_part.clone())
                .unwrap_or_default(),
            images: part.images.len(),
            dims: part.plan.as_ref().ok().map(|plan| plan.dims),
            unavailable,
            kind: part.kind,
            thumbnail: grey.then(|| thumbnail_path(&part.id)),
        });
    }
    StudyInfo {
        id: study.uid.clone(),
        description: study.description.clone(),
        date: study.date.clone(),
        patient_name: study.patient_name.clone(),
        patient_id: study.patient_id.clone(),
        accession: study.accession.clone(),
        modalities: modalities_of(&series),
        series,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_library_catalogued_in_the_background_says_so_until_its_listing_is_in_place() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/mr-sag-oblique");
        let library = Arc::new(Library::to_catalogue(
            Vec::new(),
            1 << 30,
            VoxelBudget::new(1 << 30),
        ));
        let waiting = library.cataloguing().expect("not catalogued yet");
        assert!(waiting.starts_with("cataloguing the library"), "{waiting}");
        assert_eq!(library.series_count(), 0);
        let (done, finished) = std::sync::mpsc::sync_channel(1);
        Library::catalogue_in_background(&library, vec![folder], move |summary| {
            let _ = done.send(summary);
        });
        let summary = finished
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the catalogue completes");
        assert_eq!(library.cataloguing(), None);
        assert!(summary.series >= 1, "{summary:?}");
        assert_eq!(summary.series, library.series_count());
        assert_eq!(summary.studies, library.studies().len());
        let progress = (
            library.progress.done.load(Ordering::Relaxed),
            library.progress.total.load(Ordering::Relaxed),
        );
        assert!(progress.0 == progress.1 && progress.1 > 0, "{progress:?}");
    }
}
