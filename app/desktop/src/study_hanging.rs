//! A study read here (`open PATH --study UID`) laid out by the hanging protocols: the
//! study and the same patient's other studies found under the same path, the protocol that
//! fits them best, and the two cells the window shows (the first here, the second beside),
//! as a server lays a study out for `connect`.

use std::path::{Path, PathBuf};

use hounsfield_hanging::{HangingProtocols, first_volume};
use hounsfield_protocol::{HungCell, StudyRole};
use hounsfield_server::library::Library;
use render_core::Window;

use crate::workspace::LocalWorkspace;

/// How a study opened with `--study` is laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalHanging {
    /// The path the study and its priors were found under.
    pub path: PathBuf,
    /// The protocol applied; `None` where none fits (the study's first volume opens).
    pub protocol: Option<String>,
    /// The first cell: the series opened here, with its layout, window and preset.
    pub first: HungCell,
    /// The second cell, read beside the first.
    pub beside: Option<HungCell>,
    /// The series of the protocol's cells the window does not show (it shows two).
    pub unshown: Vec<String>,
}

/// The voxel memory the listing's library may keep: it only lists (headers), so the bound
/// that matters is the machine's for one series, which marks a series too large to open.
const LISTING_ONLY: usize = usize::MAX;

/// Lays out study `uid` of `path` by `protocols`, its priors the same patient's other
/// studies under `path`. Reads headers only.
pub fn hang_study(
    path: &Path,
    uid: &str,
    protocols: &HangingProtocols,
) -> Result<LocalHanging, String> {
    let library = Library::scan(&[path.to_path_buf()], LISTING_ONLY);
    let (study, priors) = library
        .study_with_priors(uid)
        .ok_or_else(|| format!("--study {uid}: no such study in {}", path.display()))?;
    if let Some(hanging) = protocols.hang(&study, &priors) {
        let mut cells = hanging.cells.into_iter();
        if let Some(first) = cells.next() {
            return Ok(LocalHanging {
                path: path.to_path_buf(),
                protocol: Some(hanging.protocol),
                first,
                beside: cells.next(),
                unshown: cells.map(|cell| cell.series).collect(),
            });
        }
    }
    let series = first_volume(&study).ok_or_else(|| {
        format!(
            "--study {uid} in {}: no series of it opens as a volume",
            path.display()
        )
    })?;
    Ok(LocalHanging {
        path: path.to_path_buf(),
        protocol: None,
        first: HungCell {
            role: StudyRole::Current,
            study: study.id.clone(),
            date: study.date.clone(),
            series: series.id.clone(),
            description: series.description.clone(),
            layout: None,
            window: None,
            preset: None,
        },
        beside: None,
        unshown: Vec::new(),
    })
}

/// The hanging protocols `--study` lays a study out by: the built-in ones, and the site's
/// from `site_folder`; with the warnings of the site's files that could not be read.
pub fn protocols(site_folder: Option<&Path>) -> (HangingProtocols, Vec<String>) {
    let builtin = HangingProtocols::builtin();
    match site_folder {
        Some(folder) => {
            let (protocols, errors) = builtin.with_site_folder(folder);
            (
                protocols,
                errors.into_iter().map(|error| error.to_string()).collect(),
            )
        }
        None => (builtin, Vec::new()),
    }
}

/// Starts `workspace` as `cell` hangs it: its layout, its preset where the renderer offers
/// it, then its grey window (a preset brings its own); the reader is free to change each.
pub fn apply_cell(workspace: &mut LocalWorkspace, cell: &HungCell) {
    if let Some(layout) = cell.layout {
        workspace.layout = layout;
    }
    if let Some(preset) = &cell.preset {
        workspace.set_preset(preset);
    }
    if let Some(window) = cell.window {
        workspace.set_window(Window {
            width: window.width,
            center: window.center,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_study_not_under_the_path_is_named_in_the_refusal() {
        let data = hounsfield_test_support::data("mr-lumbar");
        let why =
            hang_study(&data, "1.2.3.4", &HangingProtocols::builtin()).expect_err("no such study");
        assert!(
            why.contains("1.2.3.4") && why.contains("mr-lumbar"),
            "{why}"
        );
    }

    #[test]
    fn without_a_prior_the_lumbar_study_hangs_its_sagittal_t2_alone() {
        let data = hounsfield_test_support::data("mr-lumbar");
        let catalog = hounsfield_test_support::scan("mr-lumbar");
        let study = &catalog.studies[0];
        let hung = hang_study(&data, &study.uid, &HangingProtocols::builtin()).expect("hung");
        // The built-in lumbar protocol takes a prior where there is one; none lies under
        // the path, so its first cell hangs alone.
        assert_eq!(hung.protocol.as_deref(), Some("MR lumbar spine with prior"));
        assert_eq!((hung.beside.as_ref(), hung.unshown.len()), (None, 0));
        let first = study
            .series
            .iter()
            .find(|series| series.id == hung.first.series)
            .unwrap_or_else(|| panic!("{hung:?}"));
        let description = first.description.to_lowercase();
        assert!(
            description.contains("sag") && description.contains("t2"),
            "{description}"
        );
    }
}
