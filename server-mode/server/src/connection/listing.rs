//! The studies a client may see: the library's listing paged and filtered by the search,
//! and whether this user may open a series.

use super::Connection;
use crate::study_query::{StudyPage, StudySearch};

impl Connection {
    /// The page of `search` among the studies this session's user may see: all of them
    /// for readers; for viewers only the desktop's shared series, if any (they join
    /// others' sessions by id).
    pub(super) fn studies(&self, search: &StudySearch) -> StudyPage {
        let studies = self.app.library.studies();
        if self.identity.role.opens_series() {
            return search.page(studies.iter());
        }
        let Some(follow) = &self.app.config.follow else {
            return search.page(&[]);
        };
        let visible: Vec<hounsfield_protocol::StudyInfo> = studies
            .iter()
            .filter_map(|study| {
                let series: Vec<_> = study
                    .series
                    .iter()
                    .filter(|series| series.id == follow.series)
                    .cloned()
                    .collect();
                (!series.is_empty()).then(|| hounsfield_protocol::StudyInfo {
                    modalities: crate::library::modalities_of(&series),
                    series,
                    ..study.clone()
                })
            })
            .collect();
        search.page(&visible)
    }

    /// Whether this session's user may open `series`: readers any; viewers only the
    /// desktop's shared series (that is joining its session).
    pub(super) fn may_open(&self, series: &str) -> bool {
        self.app.may_open(&self.identity, series)
    }
}
