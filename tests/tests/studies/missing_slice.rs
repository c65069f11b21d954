//! A series with a slice taken out is not stretched: the gap is reported, the volume keeps
//! the original grid (every remaining slice where it was) and the gap is interpolated. A
//! 4D series whose first time point lacks an image has the same gap there, never the
//! next time point's image.

use hounsfield_test_support as support;

use glam::DVec3;
use render_core::Volume;
use render_core::dicom::{Catalog, StackWarning, load_series};
use render_core::progress::no_progress;

#[test]
fn missing_slice_keeps_geometry_and_interpolates_the_gap() {
    let mut files = support::dcm_files("ge-epi/mr_0004");
    // The first time point: instances 1..=15, one slice each, 5 mm apart.
    files.truncate(15);
    let full = Catalog::scan(&files, &no_progress);
    let full = load_series(full.default_series().expect("series"), &no_progress).expect("loads");

    let removed = files.remove(7);
    let gappy = Catalog::scan(&files, &no_progress);
    let gappy = load_series(gappy.default_series().expect("series"), &no_progress).expect("loads");
    assert!(
        gappy
            .warnings
            .iter()
            .any(|w| matches!(w, StackWarning::MissingSlices { count: 1, .. })),
        "{} removed, warnings {:?}",
        removed.display(),
        gappy.warnings
    );
    assert_eq!(
        gappy.volume.dims, full.volume.dims,
        "the grid is not stretched"
    );
    assert_eq!(
        gappy.volume.corner_centres_lps(),
        full.volume.corner_centres_lps()
    );

    // Every remaining slice is unchanged; the missing one is its neighbours' mean.
    let [ni, nj, nk] = full.volume.dims;
    let missing_k = (0..nk)
        .find(|&k| {
            (0..ni * nj).any(|n| {
                let (i, j) = (n % ni, n / ni);
                gappy.volume.value([i, j, k]) != full.volume.value([i, j, k])
            })
        })
        .expect("one slice differs");
    for k in (0..nk).filter(|&k| k != missing_k) {
        for n in (0..ni * nj).step_by(7) {
            let ijk = [n % ni, n / ni, k];
            let (a, b) = (gappy.volume.value(ijk), full.volume.value(ijk));
            assert!(
                a.zip(b).is_some_and(|(a, b)| (a - b).abs() < 1e-3),
                "{ijk:?}: {a:?} vs {b:?}"
            );
        }
    }
    assert_the_gap_is_its_neighbours_mean(&gappy.volume, &full.volume, missing_k);
    // The removed slice's centre still maps onto a whole voxel of the new grid.
    let centre = full
        .volume
        .voxel_to_lps_point(DVec3::new(0.0, 0.0, missing_k as f64));
    let ijk = gappy.volume.lps_to_voxel(centre);
    assert!((ijk - ijk.round()).length() < 1e-6);
}

#[test]
fn a_first_time_point_lacking_an_image_has_a_gap_there_not_the_next_time_points_image() {
    let mut files = support::dcm_files("ge-epi/mr_0004");
    // Ten time points of 15 slices, instances 1..=150; the first is instances 1..=15.
    let first = Catalog::scan(&files[..15], &no_progress);
    let first = load_series(first.default_series().expect("series"), &no_progress).expect("loads");
    let removed = files.remove(7);
    let gappy = Catalog::scan(&files, &no_progress);
    let gappy = load_series(gappy.default_series().expect("series"), &no_progress).expect("loads");
    let said = |wanted: fn(&StackWarning) -> bool| gappy.warnings.iter().any(wanted);
    assert!(
        said(|w| matches!(w, StackWarning::IncompleteTimePoint { missing: 1 }))
            && said(|w| matches!(w, StackWarning::MissingSlices { count: 1, .. }))
            && said(|w| matches!(w, StackWarning::TimePoints { count: 10 })),
        "{} removed, warnings {:?}",
        removed.display(),
        gappy.warnings
    );
    assert_eq!(gappy.volume.dims, first.volume.dims);
    // Every slice of the first time point is its own; the one without an image is the
    // mean of its neighbours, as a 3D series' gap.
    let [ni, nj, nk] = first.volume.dims;
    let differs = |k: usize| {
        (0..ni * nj).any(|n| {
            let ijk = [n % ni, n / ni, k];
            gappy
                .volume
                .value(ijk)
                .zip(first.volume.value(ijk))
                .is_none_or(|(a, b)| (a - b).abs() >= 1e-3)
        })
    };
    let gaps: Vec<usize> = (0..nk).filter(|&k| differs(k)).collect();
    assert_eq!(gaps.len(), 1, "one slice is the gap: {gaps:?}");
    let gap = gaps[0];
    assert!(gap > 0 && gap + 1 < nk, "an inner slice: {gap}");
    assert_the_gap_is_its_neighbours_mean(&gappy.volume, &first.volume, gap);
}

/// Slice `gap` of `gappy` is the mean of its neighbours in `whole` (as a missing slice is
/// interpolated), sampled every fifth voxel.
fn assert_the_gap_is_its_neighbours_mean(gappy: &Volume, whole: &Volume, gap: usize) {
    let [ni, nj, _] = whole.dims;
    for n in (0..ni * nj).step_by(5) {
        let (i, j) = (n % ni, n / ni);
        let below = whole.value([i, j, gap - 1]).unwrap_or(f64::NAN);
        let above = whole.value([i, j, gap + 1]).unwrap_or(f64::NAN);
        let mid = gappy.value([i, j, gap]).unwrap_or(f64::NAN);
        assert!(
            (mid - (below + above) / 2.0).abs() < 1e-3,
            "({i},{j}): {mid} vs {below}/{above}"
        );
    }
}

#[test]
fn loading_reports_progress_up_to_every_slice() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let catalog = support::scan("mr-sag-oblique");
    let series = catalog.default_series().expect("series");
    let most = AtomicUsize::new(0);
    let total = AtomicUsize::new(0);
    let report = |p: render_core::progress::Progress| {
        most.fetch_max(p.done, Ordering::Relaxed);
        total.store(p.total, Ordering::Relaxed);
    };
    let loaded = load_series(series, &report).expect("loads");
    assert_eq!(total.load(Ordering::Relaxed), loaded.slices);
    assert_eq!(most.load(Ordering::Relaxed), loaded.slices);
}
