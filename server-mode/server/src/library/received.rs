//! Studies received over DICOM networking, listed beside the folders' and the PACSes'
//! within seconds of their association's end: each study folder the Storage SCP wrote
//! into is catalogued again (headers only), and its series replace any of the same id
//! (a series that gained images leaves the volume cache, to be loaded whole again).

use std::path::PathBuf;
use std::sync::Arc;

use render_core::dicom::Catalog;

use super::catalogue::study_info;
use super::{Library, Listing, Source};
use crate::study_query::sort_newest_first;

/// What a listing of received studies changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedListed {
    /// Studies catalogued.
    pub studies: usize,
    /// Series listed of them.
    pub series: usize,
}

impl Library {
    /// Catalogues the study folders `folders` (what an association stored) and lists
    /// their series from now on; what the folders' catalogue or a PACS listing made
    /// before or makes later keeps them.
    pub fn add_received(&self, folders: &[PathBuf]) -> ReceivedListed {
        let catalog = Catalog::scan(folders, &|_| {});
        let mut listed = ReceivedListed {
            studies: 0,
            series: 0,
        };
        let mut arrived = Listing::default();
        for study in catalog.studies {
            let info = study_info(&study, &self.series_budget);
            listed.studies += 1;
            listed.series += study.series.len();
            for series in study.series {
                arrived
                    .index
                    .insert(series.id.clone(), Source::Received(Arc::new(series)));
            }
            arrived.studies.push(info);
        }
        {
            let mut cache = self.lock_cache();
            for id in arrived.index.keys() {
                cache.forget(id);
            }
        }
        let _updating = self.lock_listing_update();
        merge_into(&mut self.lock_received(), &arrived);
        let mut listing = (*self.listing()).clone();
        merge_into(&mut listing, &arrived);
        self.replace_listing(listing);
        listed
    }

    /// Adds the studies received so far to `listing` (one the folders' catalogue or a
    /// PACS listing is making).
    pub(super) fn with_received(&self, listing: &mut Listing) {
        merge_into(listing, &self.lock_received());
    }
}

/// Puts `arrived`'s series into `listing`: each replacing the series of its id, its
/// study joining the study of the same UID or listed as a new one.
fn merge_into(listing: &mut Listing, arrived: &Listing) {
    for study in &arrived.studies {
        for series in &study.series {
            if let Some(source) = arrived.index.get(&series.id) {
                listing.index.insert(series.id.clone(), source.clone());
            }
        }
        match listing.studies.iter_mut().find(|s| s.id == study.id) {
            Some(listed) => {
                for series in &study.series {
                    match listed.series.iter_mut().find(|s| s.id == series.id) {
                        Some(same) => *same = series.clone(),
                        None => listed.series.push(series.clone()),
                    }
                }
                listed.series.sort_by_key(|s| s.number);
                listed.modalities = super::modalities_of(&listed.series);
            }
            None => listing.studies.push(study.clone()),
        }
    }
    sort_newest_first(&mut listing.studies);
}
