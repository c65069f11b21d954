//! Every volume series in the shared data against dcm2niix's reference: the eight corner
//! voxel centres in LPS within 0.05 mm, and every reference sample at a whole voxel index
//! (within 0.05 voxel) with the same value: exact for lossless data (1e-4 relative for
//! fractional rescales), within 2 for lossy JPEG 2000.

use hounsfield_test_support as support;

use glam::DVec3;
use render_core::dicom::Catalog;
use serde::Deserialize;

const CORNER_TOLERANCE_MM: f64 = 0.05;
const INDEX_TOLERANCE_VOXELS: f64 = 0.05;

#[derive(Debug, Deserialize)]
struct Reference {
    volumes: Vec<ReferenceVolume>,
}

#[derive(Debug, Deserialize)]
struct ReferenceVolume {
    nifti: String,
    dims: [usize; 3],
    corner_centres_lps_mm: Vec<[f64; 3]>,
    samples: Vec<Sample>,
    series_number: i32,
}

#[derive(Debug, Deserialize)]
struct Sample {
    lps_mm: [f64; 3],
    value: f64,
}

#[derive(Clone, Copy)]
enum Values {
    Lossless,
    LossyJpeg2000,
}

fn reference(name: &str) -> Reference {
    let path = support::data(&format!("reference/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Largest distance from each reference corner to the nearest of ours.
fn corner_error(ours: &[DVec3; 8], reference: &[[f64; 3]]) -> f64 {
    reference
        .iter()
        .map(|r| {
            ours.iter()
                .map(|o| o.distance(DVec3::from_array(*r)))
                .fold(f64::INFINITY, f64::min)
        })
        .fold(0.0, f64::max)
}

fn check(name: &str, path: &str, values: Values) {
    let catalog: Catalog = support::scan(path);
    let reference = reference(name);
    assert!(
        !reference.volumes.is_empty(),
        "{name}: the reference holds no volume, so nothing would be checked"
    );
    for expected in &reference.volumes {
        assert_eq!(
            expected.corner_centres_lps_mm.len(),
            8,
            "{name}/{}: a volume has eight corners",
            expected.nifti
        );
        assert!(
            !expected.samples.is_empty(),
            "{name}/{}: the reference holds no voxel samples",
            expected.nifti
        );
        let voxel_count: usize = expected.dims.iter().product();
        assert!(
            voxel_count > 0,
            "{name}/{}: an empty volume",
            expected.nifti
        );
        // The series of that number whose planned corners match the reference best.
        let (series, error) = catalog
            .series()
            .filter(|s| s.number == Some(expected.series_number))
            .filter_map(|s| {
                let plan = s.plan.as_ref().ok()?;
                (plan.dims.iter().product::<usize>() == voxel_count).then_some(s)
            })
            .map(|s| {
                let loaded = support::load(s);
                let error = corner_error(
                    &loaded.volume.corner_centres_lps(),
                    &expected.corner_centres_lps_mm,
                );
                ((s, loaded), error)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or_else(|| {
                panic!(
                    "{name}/{}: no series {} with {voxel_count} voxels",
                    expected.nifti, expected.series_number
                )
            });
        let (series, loaded) = series;
        assert!(
            error <= CORNER_TOLERANCE_MM,
            "{name}/{}: corners of series {} off by {error:.4} mm",
            expected.nifti,
            series.id
        );
        for sample in &expected.samples {
            let lps = DVec3::from_array(sample.lps_mm);
            let ijk = loaded.volume.lps_to_voxel(lps);
            let off_grid = (ijk - ijk.round()).abs().max_element();
            assert!(
                off_grid <= INDEX_TOLERANCE_VOXELS,
                "{name}/{}: sample {lps} falls at voxel {ijk}, {off_grid:.3} off the grid",
                expected.nifti
            );
            let (index, value) = loaded
                .volume
                .nearest_voxel(lps)
                .unwrap_or_else(|| panic!("{name}: sample {lps} outside the volume"));
            let tolerance = match values {
                Values::Lossless => 1e-4 * sample.value.abs().max(1.0),
                Values::LossyJpeg2000 => 2.0,
            };
            assert!(
                (value - sample.value).abs() <= tolerance,
                "{name}/{}: voxel {index:?} at {lps} is {value}, reference {}",
                expected.nifti,
                sample.value
            );
        }
    }
}

#[test]
fn ct_head_neck_jpeg2000_matches_reference() {
    check("ct-head-neck", "ct-head-neck", Values::LossyJpeg2000);
}

#[test]
fn mr_sag_oblique_matches_reference() {
    check("mr-sag-oblique", "mr-sag-oblique", Values::Lossless);
}

#[test]
fn mr_lumbar_every_series_and_part_matches_reference() {
    check("mr-lumbar", "mr-lumbar", Values::LossyJpeg2000);
}

#[test]
fn ge_epi_first_time_point_matches_reference() {
    check("ge-epi", "ge-epi", Values::Lossless);
}

#[test]
fn philips_classic_mprage_matches_reference() {
    check(
        "philips-1301-classic",
        "philips-enhanced/In/cl/1301",
        Values::Lossless,
    );
}

#[test]
fn philips_classic_asl_matches_reference() {
    check(
        "philips-1903-classic",
        "philips-enhanced/In/cl/1903",
        Values::Lossless,
    );
}

#[test]
fn philips_enhanced_asl_matches_reference() {
    check(
        "philips-1903-enhanced",
        "philips-enhanced/In/enh/1903_WIP_SOURCE_-_3DpCASL.dcm",
        Values::Lossless,
    );
}
