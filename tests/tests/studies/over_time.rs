//! Series over time against dcm2niix's NIfTI, read independently by SimpleITK
//! (`tests/scripts/nifti_volumes.py`): every volume of the series loads, each equals the
//! NIfTI's matching volume (every voxel at the same LPS position within 0.05 voxel, with
//! the same value), and so does a voxel's curve over the volumes.

use hounsfield_test_support as support;

use glam::DVec3;
use render_core::Volume;
use render_core::dicom::{SeriesOverTime, VoxelBudget, load_series_over_time};
use render_core::progress::no_progress;
use support::nifti::Nifti;

fn load_over_time(relative: &str) -> SeriesOverTime {
    let catalog = support::scan(relative);
    let series = catalog
        .series()
        .max_by_key(|series| series.images.len())
        .unwrap_or_else(|| panic!("{relative}: no series"));
    load_series_over_time(series, VoxelBudget::for_machine(), &no_progress)
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// Every voxel of `ours` against the NIfTI's volume `t`: the same position, the same
/// value once the NIfTI's is multiplied by `scale` (1e-4 relative: lossless data).
fn check_volume(ours: &Volume, nifti: &Nifti, scale: f64, t: usize, what: &str) {
    assert_eq!(
        ours.dims.iter().product::<usize>(),
        nifti.geometry.size.iter().product::<usize>(),
        "{what}: voxels in volume {t}"
    );
    let mut differing = Vec::new();
    for k in 0..ours.dims[2] {
        for j in 0..ours.dims[1] {
            for i in 0..ours.dims[0] {
                let lps = ours.voxel_to_lps_point(DVec3::new(i as f64, j as f64, k as f64));
                let theirs = nifti.value(t, nifti.voxel_at(lps, what)) * scale;
                let value = ours.value([i, j, k]).expect("a voxel inside");
                if (value - theirs).abs() > 1e-4 * theirs.abs().max(1.0) {
                    differing.push(([i, j, k], value, theirs));
                }
            }
        }
    }
    assert!(
        differing.is_empty(),
        "{what}: {} voxels of volume {t} differ from the NIfTI's, first {:?}",
        differing.len(),
        &differing[..differing.len().min(5)]
    );
}

/// The factor from the NIfTI's values to ours: 1, or for Philips data the factor from its
/// precise values (dcm2niix's default) to the standard rescale's, read by pydicom.
#[derive(Clone, Copy)]
enum Scaling {
    Same,
    PhilipsPrecise,
}

impl Scaling {
    fn factor(self, series: &str) -> f64 {
        match self {
            Scaling::Same => 1.0,
            Scaling::PhilipsPrecise => {
                let path = support::data(series);
                let printed = support::imaging_python_script(
                    "philips_precise_scale.py",
                    &[path.to_str().expect("a UTF-8 path")],
                );
                printed["display_per_precise"]
                    .as_f64()
                    .expect("the script's factor")
            }
        }
    }
}

fn check_series(series: &str, nifti: &str, volumes: usize, scaling: Scaling) {
    check_series_in_order(series, nifti, &(0..volumes).collect::<Vec<_>>(), scaling);
}

/// [`check_series`] where our volume `t` is the NIfTI's volume `order[t]`.
fn check_series_in_order(series: &str, nifti: &str, order: &[usize], scaling: Scaling) {
    let volumes = order.len();
    let scale = scaling.factor(series);
    let loaded = load_over_time(series);
    let reference = Nifti::read(nifti);
    assert_eq!(reference.geometry.volumes, volumes, "{nifti}: its volumes");
    assert_eq!(
        loaded.volumes.len(),
        volumes,
        "{series}: volumes loaded ({:?})",
        loaded
            .volumes
            .iter()
            .map(|v| v.label.as_str())
            .collect::<Vec<_>>()
    );
    for (t, volume) in loaded.volumes.iter().enumerate() {
        check_volume(&volume.volume, &reference, scale, order[t], series);
    }
    // A voxel's curve: the centre voxel's value in every volume, as the NIfTI has it.
    let first = &loaded.volumes[0].volume;
    let centre = first.dims.map(|d| d / 2);
    let lps = first.voxel_to_lps_point(DVec3::new(
        centre[0] as f64,
        centre[1] as f64,
        centre[2] as f64,
    ));
    let at = reference.voxel_at(lps, series);
    let ours: Vec<f64> = loaded
        .volumes
        .iter()
        .map(|v| v.volume.nearest_voxel(lps).expect("inside").1)
        .collect();
    let theirs: Vec<f64> = (0..volumes)
        .map(|t| reference.value(order[t], at) * scale)
        .collect();
    let apart = ours
        .iter()
        .zip(&theirs)
        .any(|(a, b)| (a - b).abs() > 1e-4 * b.abs().max(1.0));
    assert!(
        !apart,
        "{series}: the centre voxel's curve {ours:?}, the NIfTI's {theirs:?}"
    );
    assert!(
        theirs.iter().any(|v| *v != theirs[0]),
        "{series}: a flat curve would not tell the volumes' order apart"
    );
}

#[test]
fn ge_epi_loads_ten_volumes_each_equal_to_dcm2niix_and_one_tr_apart() {
    check_series(
        "ge-epi/mr_0004",
        "ge-epi/DCM2NIIX_regression_test_4.nii",
        10,
        Scaling::Same,
    );
    let loaded = load_over_time("ge-epi/mr_0004");
    let times: Vec<Option<f64>> = loaded.volumes.iter().map(|v| v.time_s).collect();
    let expected: Vec<Option<f64>> = (0..10).map(|n| Some(n as f64 * 5.0)).collect();
    assert_eq!(times, expected, "RepetitionTime 5000 ms apart");
}

#[test]
fn philips_asl_classic_files_load_six_volumes_each_equal_to_dcm2niix() {
    check_series(
        "philips-enhanced/In/cl/1903",
        "philips-enhanced/Ref/1903_WIP_SOURCE_-_3DpCASL_cl.nii.gz",
        6,
        Scaling::PhilipsPrecise,
    );
}

/// The enhanced file's frames are ordered as the classic files number their images
/// (each time point's control, then its label), so both forms load the same volumes in
/// the same order. dcm2niix orders the enhanced file's NIfTI by its private label
/// dimension first (three controls, then three labels): the same volumes, reordered.
#[test]
fn philips_asl_enhanced_file_loads_the_same_six_volumes_as_the_classic_files() {
    let enhanced = "philips-enhanced/In/enh/1903_WIP_SOURCE_-_3DpCASL.dcm";
    check_series(
        enhanced,
        "philips-enhanced/Ref/1903_WIP_SOURCE_-_3DpCASL_cl.nii.gz",
        6,
        Scaling::PhilipsPrecise,
    );
    check_series_in_order(
        enhanced,
        "philips-enhanced/Ref/1903_WIP_SOURCE_-_3DpCASL_enh.nii.gz",
        &[0, 3, 1, 4, 2, 5],
        Scaling::PhilipsPrecise,
    );
    // Each time point's control and label were acquired together, 127.5 s apart.
    let times: Vec<Option<f64>> = load_over_time(enhanced)
        .volumes
        .iter()
        .map(|v| v.time_s)
        .collect();
    let expected = [0.0, 0.0, 127.5, 127.5, 255.0, 255.0].map(Some);
    assert_eq!(times, expected, "FrameAcquisitionDateTime");
}

#[test]
fn a_series_over_time_over_the_budget_is_refused_naming_its_volumes_before_any_is_loaded() {
    let catalog = support::scan("ge-epi/mr_0004");
    let series = catalog.series().next().expect("the EPI series");
    // One volume fits (64 × 64 × 15 × 4 bytes = 240 KiB at its peak); ten do not.
    let error = load_series_over_time(series, VoxelBudget::new(1 << 20), &no_progress)
        .expect_err("ten volumes over 1 MiB");
    let message = error.to_string();
    assert!(
        message.contains("10 volumes of 64 × 64 × 15 voxels"),
        "{message}"
    );
}

/// A Siemens mosaic (35 slices of 64 × 64 packed in one 384 × 384 image) unpacks into a
/// volume equal to dcm2niix's NIfTI, voxel for voxel at the same LPS positions, in each of
/// the nine transfer syntaxes it is saved in.
#[test]
fn a_siemens_mosaic_unpacks_into_slices_equal_to_dcm2niix_in_every_transfer_syntax() {
    for n in 1..=9 {
        let file = format!("transfer-syntaxes/In/{n}.dcm");
        let loaded = load_over_time(&file);
        assert_eq!(loaded.volumes.len(), 1, "{file}: one volume");
        let volume = &loaded.volumes[0].volume;
        assert_eq!(volume.dims, [64, 64, 35], "{file}: the mosaic's slices");
        let reference = Nifti::read(&format!("transfer-syntaxes/Ref/{n}.nii"));
        check_volume(volume, &reference, 1.0, 0, &file);
    }
}

/// A key image or a finding's image on a series over time is the stored image of the
/// volume shown: in the GE EPI, whose files are numbered a volume at a time (15 slices
/// each, from the feet up), slice `k` of volume `t` is instance `15 t + k + 1`.
#[test]
fn each_volume_of_a_series_over_time_names_its_own_stored_slices() {
    let catalog = support::scan("ge-epi/mr_0004");
    let series = catalog
        .series()
        .max_by_key(|series| series.images.len())
        .expect("the EPI");
    let subject = hounsfield_findings::report::ReportSubject::of_series(series);
    assert_eq!(subject.volumes_slice_images.len(), 10);
    let instance = |sop: &str| {
        series
            .images
            .iter()
            .find(|image| image.sop_instance_uid == sop)
            .and_then(|image| image.instance_number)
            .expect("an instance of the series")
    };
    for t in [0, 3, 9] {
        let shown = subject.of_volume(t);
        assert_eq!(shown.slice_images.len(), 15, "volume {t}");
        for (k, image) in shown.slice_images.iter().enumerate() {
            let expected = i32::try_from(15 * t + k + 1).expect("small");
            assert_eq!(
                instance(&image.sop_instance_uid),
                expected,
                "slice {k} of volume {t}"
            );
        }
    }
    assert_eq!(subject.of_volume(0).slice_images, subject.slice_images);
}
