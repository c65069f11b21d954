//! Slice stacking: orders a series' images along the slice normal (never by file name or
//! instance number), derives the slice spacing from the positions, and detects what would
//! otherwise put voxels in the wrong place: gantry tilt, irregular spacing, missing
//! slices, several time points at one position, a time point that lacks an image.

use glam::{DMat4, DVec3, DVec4};
use serde::Serialize;

use super::error::DicomError;
use super::header::{IMAGE_ORIENTATION, IMAGE_POSITION, ImageHeader};

/// Positions closer than this along the normal are the same slice position (mm).
pub const SAME_POSITION_MM: f64 = 0.01;
/// Gaps may differ from the median by this much and still count as regular (mm).
const GAP_TOLERANCE_MM: f64 = 0.02;
/// … or by this share of the median gap, whichever is larger.
const GAP_TOLERANCE_SHARE: f64 = 0.01;
/// A slice direction this far from the normal is reported as tilt (degrees).
const TILT_REPORT_DEGREES: f64 = 0.1;

/// Something about a series' geometry that a reader of the images should know.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StackWarning {
    /// Slices step along a direction that is not the image normal (CT gantry tilt); the
    /// affine is sheared so every voxel stays where the scanner put it.
    GantryTilt {
        /// Angle between slice step and image normal.
        degrees: f64,
    },
    /// Gaps between slices differ; the volume was resampled to a uniform grid.
    IrregularSpacing {
        /// Smallest gap (mm).
        min_gap_mm: f64,
        /// Largest gap (mm).
        max_gap_mm: f64,
        /// The uniform spacing resampled to (mm).
        resampled_to_mm: f64,
    },
    /// Some gaps are whole multiples of the usual spacing: slices are missing.
    MissingSlices {
        /// Estimated number of missing slices.
        count: usize,
        /// The usual gap (mm).
        spacing_mm: f64,
    },
    /// Several images at each position: time points (or echoes); the first is shown.
    TimePoints {
        /// How many time points were found.
        count: usize,
    },
    /// The first time point (or echo) lacks the image of some positions: they are left
    /// out as missing slices, never filled with another time point's image.
    IncompleteTimePoint {
        /// Positions without an image of the first time point.
        missing: usize,
    },
    /// One slice only: the slice thickness stands in for the spacing.
    SingleSlice {
        /// The spacing used along k (mm).
        spacing_mm: f64,
    },
}

impl std::fmt::Display for StackWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StackWarning::GantryTilt { degrees } => write!(
                f,
                "gantry tilt of {degrees:.2}°: slices are sheared, geometry kept exact"
            ),
            StackWarning::IrregularSpacing {
                min_gap_mm,
                max_gap_mm,
                resampled_to_mm,
            } => write!(
                f,
                "irregular slice spacing ({min_gap_mm:.3}–{max_gap_mm:.3} mm): resampled to a uniform {resampled_to_mm:.3} mm grid by linear interpolation"
            ),
            StackWarning::MissingSlices { count, spacing_mm } => write!(
                f,
                "{count} missing slice(s) at {spacing_mm:.3} mm spacing: gaps interpolated"
            ),
            StackWarning::TimePoints { count } => {
                write!(f, "4D series: {count} time points; showing the first")
            }
            StackWarning::IncompleteTimePoint { missing } => write!(
                f,
                "the first time point lacks {missing} image(s): left out as missing slices, not taken from another time point"
            ),
            StackWarning::SingleSlice { spacing_mm } => write!(
                f,
                "single slice: {spacing_mm:.3} mm slice thickness used as spacing"
            ),
        }
    }
}

/// Where one slice of the volume comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceSource {
    /// Index into the series' images.
    pub image: usize,
    /// Distance along the slice normal (mm).
    pub normal_mm: f64,
}

/// How a series becomes a volume: which images, in which order, on which grid.
#[derive(Debug, Clone, PartialEq)]
pub struct StackPlan {
    /// The images used, ordered along the normal (first time point only).
    pub slices: Vec<SliceSource>,
    /// Volume dimensions (i, j, k) after any resampling.
    pub dims: [usize; 3],
    /// Voxel index → LPS mm of the volume.
    pub voxel_to_lps: DMat4,
    /// When spacing is irregular: the normal distance of each output slice.
    pub resample_at_mm: Option<Vec<f64>>,
    /// What the reader should know.
    pub warnings: Vec<StackWarning>,
    /// Time points found (1 for a plain 3D series).
    pub time_points: usize,
}

impl StackPlan {
    /// Spacing along i, j, k in mm.
    pub fn spacing_mm(&self) -> [f64; 3] {
        [
            self.voxel_to_lps.x_axis.truncate().length(),
            self.voxel_to_lps.y_axis.truncate().length(),
            self.voxel_to_lps.z_axis.truncate().length(),
        ]
    }
}

/// Plans the volume of a series from its image headers alone.
pub fn plan_stack(series_id: &str, images: &[ImageHeader]) -> Result<StackPlan, DicomError> {
    let first = images
        .first()
        .ok_or_else(|| DicomError::InconsistentSeries {
            series: series_id.to_string(),
            reason: "no images".to_string(),
        })?;
    let orientation = first
        .orientation
        .ok_or_else(|| DicomError::MissingAttribute {
            file: first.file.clone(),
            attribute: IMAGE_ORIENTATION,
        })?;
    let row_dir = DVec3::from_slice(&orientation[0..3]).normalize_or_zero();
    let col_dir = DVec3::from_slice(&orientation[3..6]).normalize_or_zero();
    let normal = row_dir.cross(col_dir);
    if normal.length() < 0.5 {
        return Err(DicomError::InvalidAttribute {
            file: first.file.clone(),
            attribute: IMAGE_ORIENTATION,
            reason: "row and column directions are not perpendicular unit vectors".to_string(),
        });
    }
    let normal = normal.normalize();
    let [row_spacing, col_spacing] = first.pixel_spacing_mm.unwrap_or([1.0, 1.0]);

    let groups = grouped_along(images, normal).map_err(|index| DicomError::MissingAttribute {
        file: images[index].file.clone(),
        attribute: IMAGE_POSITION,
    })?;

    let mut warnings = Vec::new();
    let time_points = groups.iter().map(Vec::len).max().unwrap_or(1);
    let stack: Vec<(usize, DVec3, f64)> = if groups.iter().all(|g| g.len() == time_points) {
        if time_points > 1 {
            warnings.push(StackWarning::TimePoints { count: time_points });
        }
        groups.iter().map(|g| g[0]).collect()
    } else {
        warnings.push(StackWarning::TimePoints { count: time_points });
        let first = first_time_point(images, &groups, time_points);
        let missing = first.iter().filter(|image| image.is_none()).count();
        warnings.push(StackWarning::IncompleteTimePoint { missing });
        first.into_iter().flatten().collect()
    };
    if stack.is_empty() {
        return Err(DicomError::InconsistentSeries {
            series: series_id.to_string(),
            reason: "no position holds an image of the first time point".to_string(),
        });
    }
    let slices: Vec<SliceSource> = stack
        .iter()
        .map(|&(image, _, normal_mm)| SliceSource { image, normal_mm })
        .collect();

    let origin = stack[0].1;
    let i_axis = row_dir * col_spacing;
    let j_axis = col_dir * row_spacing;
    let (k_axis, resample_at_mm) = if stack.len() == 1 {
        let spacing_mm = first
            .spacing_between_slices_mm
            .or(first.slice_thickness_mm)
            .filter(|s| *s > 0.0)
            .unwrap_or(1.0);
        warnings.push(StackWarning::SingleSlice { spacing_mm });
        (normal * spacing_mm, None)
    } else {
        let (k_axis, resample, spacing_warnings) =
            slice_axis(&stack).map_err(|reason| DicomError::InconsistentSeries {
                series: series_id.to_string(),
                reason,
            })?;
        warnings.extend(spacing_warnings);
        (k_axis, resample)
    };
    let tilt_degrees = k_axis
        .normalize()
        .dot(normal)
        .clamp(-1.0, 1.0)
        .acos()
        .to_degrees();
    if tilt_degrees > TILT_REPORT_DEGREES {
        warnings.push(StackWarning::GantryTilt {
            degrees: tilt_degrees,
        });
    }
    let nk = resample_at_mm.as_ref().map_or(stack.len(), Vec::len);
    let dims = [first.columns as usize, first.rows as usize, nk];
    if dims
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .is_none()
    {
        return Err(DicomError::InconsistentSeries {
            series: series_id.to_string(),
            reason: format!(
                "{} × {} × {} voxels cannot be counted",
                dims[0], dims[1], dims[2]
            ),
        });
    }
    Ok(StackPlan {
        slices,
        dims,
        voxel_to_lps: DMat4::from_cols(
            DVec4::from((i_axis, 0.0)),
            DVec4::from((j_axis, 0.0)),
            DVec4::from((k_axis, 0.0)),
            DVec4::from((origin, 1.0)),
        ),
        resample_at_mm,
        warnings,
        time_points,
    })
}

/// The step between slices, and the output slice positions when gaps are irregular.
/// The resample grid is sized and bounded (at most twice the slices: more gap than
/// slices would invent most of the volume) before it is built.
#[allow(clippy::type_complexity)]
fn slice_axis(
    stack: &[(usize, DVec3, f64)],
) -> Result<(DVec3, Option<Vec<f64>>, Vec<StackWarning>), String> {
    let gaps: Vec<f64> = stack.windows(2).map(|w| w[1].2 - w[0].2).collect();
    let mut sorted = gaps.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let (min_gap, max_gap) = (sorted[0], sorted[sorted.len() - 1]);
    let tolerance = GAP_TOLERANCE_MM.max(GAP_TOLERANCE_SHARE * median);
    let (first, last) = (stack[0], stack[stack.len() - 1]);
    let along_normal = last.2 - first.2;
    // The in-plane drift per mm along the normal (non-zero for gantry tilt).
    let step_direction = (last.1 - first.1) / along_normal;
    if max_gap - min_gap <= tolerance {
        return Ok((
            step_direction * (along_normal / gaps.len() as f64),
            None,
            Vec::new(),
        ));
    }
    // Counted in f64 first: a slice at z = 1e15 mm must not size a grid.
    let count_f64 = (along_normal / median).round() + 1.0;
    if !count_f64.is_finite() || count_f64 > (2 * stack.len()) as f64 {
        return Err(format!(
            "{} slices spread over {along_normal:.1} mm with uneven gaps: too sparse to form a volume",
            stack.len()
        ));
    }
    let mut warnings = Vec::new();
    let missing: usize = gaps
        .iter()
        .map(|g| ((g / median).round() as usize).saturating_sub(1))
        .sum();
    if missing > 0 {
        warnings.push(StackWarning::MissingSlices {
            count: missing,
            spacing_mm: median,
        });
    }
    let count = count_f64 as usize;
    let spacing = along_normal / (count - 1) as f64;
    warnings.push(StackWarning::IrregularSpacing {
        min_gap_mm: min_gap,
        max_gap_mm: max_gap,
        resampled_to_mm: spacing,
    });
    let at = (0..count).map(|k| first.2 + spacing * k as f64).collect();
    Ok((step_direction * spacing, Some(at), warnings))
}

/// An image's index, its position (LPS mm) and its distance along the slice normal.
pub(super) type Placed = (usize, DVec3, f64);

/// The images grouped by position along the slice normal, nearest first, each group
/// ordered by [`temporal_key`]; `None` when the first image has no usable orientation or
/// an image no position (then the series is planned as [`plan_stack`] plans it).
pub(super) fn images_by_position(images: &[ImageHeader]) -> Option<Vec<Vec<Placed>>> {
    let orientation = images.first()?.orientation?;
    let row_dir = DVec3::from_slice(&orientation[0..3]);
    let col_dir = DVec3::from_slice(&orientation[3..6]);
    let normal = row_dir.cross(col_dir).try_normalize()?;
    grouped_along(images, normal).ok()
}

/// The images placed along `normal` and grouped by position, nearest first, each group
/// ordered by [`temporal_key`]; the index of the first image without a position when one
/// lacks it.
fn grouped_along(images: &[ImageHeader], normal: DVec3) -> Result<Vec<Vec<Placed>>, usize> {
    let mut placed = Vec::with_capacity(images.len());
    for (index, image) in images.iter().enumerate() {
        let position = DVec3::from_array(image.position.ok_or(index)?);
        placed.push((index, position, position.dot(normal)));
    }
    placed.sort_by(|a, b| a.2.total_cmp(&b.2));
    let mut groups = group_by_position(&placed);
    for group in &mut groups {
        group.sort_by_key(|entry| temporal_key(&images[entry.0]));
    }
    Ok(groups)
}

/// Images at the same position along the normal, in order.
fn group_by_position(placed: &[(usize, DVec3, f64)]) -> Vec<Vec<(usize, DVec3, f64)>> {
    let mut groups: Vec<Vec<(usize, DVec3, f64)>> = Vec::new();
    for &entry in placed {
        match groups.last_mut() {
            Some(group) if (entry.2 - group[0].2).abs() < SAME_POSITION_MM => group.push(entry),
            _ => groups.push(vec![entry]),
        }
    }
    groups
}

/// Orders images at one position: earliest time point first, then first echo.
fn temporal_key(image: &ImageHeader) -> (i32, i32, i32, u32) {
    (
        image.temporal_position.unwrap_or(i32::MIN),
        image.echo_number.unwrap_or(i32::MIN),
        image.instance_number.unwrap_or(i32::MIN),
        image.frame,
    )
}

/// Each position's image of the first time point, in a series where some positions hold
/// fewer images than others (`time_points` at the fullest); `None` where the first time
/// point lacks its image. Which time point an image belongs to is what the images say:
/// their temporal positions and echo numbers when every image has them, else their
/// instance numbers counted a volume of `positions` at a time from 1 (as scanners number
/// a 4D series), when that gives each position at most one image a time point. When
/// neither holds, only the positions holding an image of every time point are taken: a
/// position short of one might lack the first, and its first image would be the next
/// time point's.
fn first_time_point(
    images: &[ImageHeader],
    groups: &[Vec<(usize, DVec3, f64)>],
    time_points: usize,
) -> Vec<Option<(usize, DVec3, f64)>> {
    let time_point_of = told_time_points(images, groups)
        .or_else(|| counted_time_points(images, groups, time_points));
    let Some(time_point_of) = time_point_of else {
        return groups
            .iter()
            .map(|group| (group.len() == time_points).then(|| group[0]))
            .collect();
    };
    let Some(first) = groups
        .iter()
        .flatten()
        .map(|entry| time_point_of(entry.0))
        .min()
    else {
        return Vec::new();
    };
    groups
        .iter()
        .map(|group| {
            group
                .iter()
                .find(|entry| time_point_of(entry.0) == first)
                .copied()
        })
        .collect()
}

/// Which time point an image (by its index) belongs to: an ordering key, lower first.
pub(super) type TimePointOf<'a> = Box<dyn Fn(usize) -> i64 + 'a>;

/// The time point of each image by its temporal position and echo number, when every
/// image has the same of the two and they tell each position's images apart.
fn told_time_points<'a>(
    images: &'a [ImageHeader],
    groups: &[Vec<(usize, DVec3, f64)>],
) -> Option<TimePointOf<'a>> {
    let all = |has: fn(&ImageHeader) -> bool| groups.iter().flatten().all(|e| has(&images[e.0]));
    let temporal = all(|image| image.temporal_position.is_some());
    let echo = all(|image| image.echo_number.is_some());
    if !temporal && !echo {
        return None;
    }
    let time_point_of = move |image: usize| {
        let image = &images[image];
        let temporal = if temporal {
            image.temporal_position
        } else {
            None
        };
        let echo = if echo { image.echo_number } else { None };
        (i64::from(temporal.unwrap_or(0)) << 32) + i64::from(echo.unwrap_or(0))
    };
    apart_at_each_position(groups, &time_point_of)
        .then(|| Box::new(time_point_of) as TimePointOf<'a>)
}

/// The time point of each image by its instance number, a volume of one image a position
/// at a time from 1, when every image has one and that puts at most one image of each
/// time point at a position, all within `time_points`.
pub(super) fn counted_time_points<'a>(
    images: &'a [ImageHeader],
    groups: &[Vec<(usize, DVec3, f64)>],
    time_points: usize,
) -> Option<TimePointOf<'a>> {
    let positions = i64::try_from(groups.len()).ok()?;
    let numbered = groups
        .iter()
        .flatten()
        .all(|entry| images[entry.0].instance_number.is_some_and(|n| n >= 1));
    if !numbered {
        return None;
    }
    let time_point_of = move |image: usize| {
        let number = i64::from(images[image].instance_number.unwrap_or(1));
        (number - 1).div_euclid(positions)
    };
    let within = groups.iter().flatten().all(|entry| {
        usize::try_from(time_point_of(entry.0)).is_ok_and(|time_point| time_point < time_points)
    });
    (within && apart_at_each_position(groups, &time_point_of))
        .then(|| Box::new(time_point_of) as TimePointOf<'a>)
}

/// Whether `time_point_of` gives the images at each position different time points.
pub(super) fn apart_at_each_position(
    groups: &[Vec<(usize, DVec3, f64)>],
    time_point_of: &impl Fn(usize) -> i64,
) -> bool {
    groups.iter().all(|group| {
        let mut seen: Vec<i64> = group.iter().map(|entry| time_point_of(entry.0)).collect();
        seen.sort_unstable();
        seen.windows(2).all(|pair| pair[0] != pair[1])
    })
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::dicom::header::{Identity, PixelFormat, Rescale};

    /// An axial image of 4×3 pixels at `position`, 0.5 mm pixels.
    pub(in crate::dicom) fn image(name: &str, position: [f64; 3], instance: i32) -> ImageHeader {
        ImageHeader {
            file: PathBuf::from(name),
            frame: 0,
            frames_in_file: 1,
            identity: Identity::default(),
            sop_instance_uid: name.to_string(),
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.2".to_string(),
            frame_of_reference_uid: "2.25.1".to_string(),
            instance_number: Some(instance),
            temporal_position: None,
            echo_number: None,
            trigger_time_ms: None,
            b_value: None,
            repetition_time_ms: None,
            acquisition_time_s: None,
            rows: 3,
            columns: 4,
            pixel_spacing_mm: Some([0.5, 0.5]),
            orientation: Some([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]),
            position: Some(position),
            slice_thickness_mm: Some(2.0),
            spacing_between_slices_mm: None,
            rescale: Rescale::IDENTITY,
            window: None,
            pixel_format: PixelFormat {
                bits_allocated: 16,
                bits_stored: 16,
                high_bit: 15,
                signed: true,
                samples_per_pixel: 1,
            },
            photometric: "MONOCHROME2".to_string(),
            transfer_syntax: "1.2.840.10008.1.2.1".to_string(),
            mosaic: false,
            mosaic_refused: None,
            tile: None,
            localizer: false,
        }
    }

    fn axial_stack(zs: &[f64]) -> Vec<ImageHeader> {
        zs.iter()
            .enumerate()
            .map(|(n, &z)| image(&format!("IMG{n}"), [-10.0, 20.0, z], n as i32 + 1))
            .collect()
    }

    #[test]
    fn slices_sort_by_position_not_by_name_or_instance() {
        // Instance numbers and names run opposite to the positions.
        let images = axial_stack(&[40.0, 30.0, 20.0, 10.0]);
        let plan = plan_stack("s", &images).expect("plans");
        let order: Vec<usize> = plan.slices.iter().map(|s| s.image).collect();
        assert_eq!(order, [3, 2, 1, 0]);
        assert_eq!(plan.dims, [4, 3, 4]);
        assert_eq!(plan.spacing_mm(), [0.5, 0.5, 10.0]);
        assert_eq!(
            plan.voxel_to_lps.w_axis.truncate(),
            DVec3::new(-10.0, 20.0, 10.0)
        );
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    }

    #[test]
    fn gantry_tilt_gives_a_sheared_affine_and_a_warning() {
        // Each slice 2 mm up and 0.5 mm posterior: about 14° of tilt.
        let images: Vec<ImageHeader> = (0..5)
            .map(|n| image(&format!("T{n}"), [0.0, 0.5 * n as f64, 2.0 * n as f64], n))
            .collect();
        let plan = plan_stack("tilt", &images).expect("plans");
        let k = plan.voxel_to_lps.z_axis.truncate();
        assert!((k - DVec3::new(0.0, 0.5, 2.0)).length() < 1e-9, "{k}");
        let tilt = plan.warnings.iter().find_map(|w| match w {
            StackWarning::GantryTilt { degrees } => Some(*degrees),
            _ => None,
        });
        let expected = (0.5f64 / 2.0).atan().to_degrees();
        assert!(
            tilt.is_some_and(|d| (d - expected).abs() < 1e-6),
            "{:?}",
            plan.warnings
        );
    }

    #[test]
    fn missing_slice_is_reported_and_resampled_not_stretched() {
        let images = axial_stack(&[0.0, 2.0, 4.0, 8.0, 10.0]);
        let plan = plan_stack("gap", &images).expect("plans");
        assert!(plan.warnings.contains(&StackWarning::MissingSlices {
            count: 1,
            spacing_mm: 2.0
        }));
        let at = plan.resample_at_mm.as_ref().expect("resampled");
        assert_eq!(at, &[0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(plan.dims[2], 6);
        assert!((plan.spacing_mm()[2] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn sparse_images_are_not_a_volume() {
        let images = axial_stack(&[0.0, 1.0, 2.0, 100.0]);
        let error = plan_stack("sparse", &images).expect_err("too sparse");
        assert!(error.to_string().contains("too sparse"), "{error}");
    }

    #[test]
    fn irregular_spacing_is_reported() {
        let images = axial_stack(&[0.0, 1.0, 2.5, 3.5, 5.0]);
        let plan = plan_stack("irregular", &images).expect("plans");
        assert!(
            plan.warnings
                .iter()
                .any(|w| matches!(w, StackWarning::IrregularSpacing { .. })),
            "{:?}",
            plan.warnings
        );
    }

    #[test]
    fn time_points_at_one_position_keep_the_first() {
        let mut images = Vec::new();
        for t in 0..3 {
            for (n, z) in [0.0, 5.0].iter().enumerate() {
                let mut header = image(&format!("t{t}z{n}"), [0.0, 0.0, *z], (t * 2 + n) as i32);
                header.temporal_position = Some(3 - t as i32);
                images.push(header);
            }
        }
        let plan = plan_stack("4d", &images).expect("plans");
        assert_eq!(plan.time_points, 3);
        assert!(
            plan.warnings
                .contains(&StackWarning::TimePoints { count: 3 })
        );
        // Temporal position 1 is the last written (t = 2).
        let names: Vec<&str> = plan
            .slices
            .iter()
            .map(|s| images[s.image].sop_instance_uid.as_str())
            .collect();
        assert_eq!(names, ["t2z0", "t2z1"]);
    }

    /// `time_points` volumes of axial slices at 0, 2, 4, 6 and 8 mm, their instance
    /// numbers running volume after volume from 1 as a scanner numbers them, less the
    /// image of volume `t` at slice `n` for each `(t, n)` in `left_out`; each named
    /// `tTzN`.
    fn four_d(time_points: usize, left_out: &[(usize, usize)]) -> Vec<ImageHeader> {
        let mut images = Vec::new();
        for t in 0..time_points {
            for n in 0..5 {
                if left_out.contains(&(t, n)) {
                    continue;
                }
                let number = (t * 5 + n + 1) as i32;
                images.push(image(
                    &format!("t{t}z{n}"),
                    [0.0, 0.0, 2.0 * n as f64],
                    number,
                ));
            }
        }
        images
    }

    fn slice_names(plan: &StackPlan, images: &[ImageHeader]) -> Vec<String> {
        plan.slices
            .iter()
            .map(|s| images[s.image].sop_instance_uid.clone())
            .collect()
    }

    #[test]
    fn a_first_time_point_lacking_an_image_leaves_a_gap_never_the_next_ones_image() {
        // As a GE EPI series numbers its images: the instance numbers tell the volumes.
        let images = four_d(3, &[(0, 2)]);
        let plan = plan_stack("epi", &images).expect("plans");
        assert_eq!(
            slice_names(&plan, &images),
            ["t0z0", "t0z1", "t0z3", "t0z4"]
        );
        assert!(
            plan.warnings
                .contains(&StackWarning::IncompleteTimePoint { missing: 1 }),
            "{:?}",
            plan.warnings
        );
        assert!(
            plan.warnings.contains(&StackWarning::MissingSlices {
                count: 1,
                spacing_mm: 2.0
            }),
            "the gap is a missing slice: {:?}",
            plan.warnings
        );
        assert_eq!(plan.dims[2], 5, "the volume keeps its extent");
        // Told by temporal positions instead (numbers that say nothing of the volumes).
        let mut told = four_d(3, &[(0, 2)]);
        for (n, image) in told.iter_mut().enumerate() {
            let t: i32 = image.sop_instance_uid[1..2].parse().expect("a digit");
            image.temporal_position = Some(t + 1);
            image.instance_number = Some(1000 - n as i32);
        }
        let plan = plan_stack("told", &told).expect("plans");
        assert_eq!(slice_names(&plan, &told), ["t0z0", "t0z1", "t0z3", "t0z4"]);
    }

    #[test]
    fn an_echo_lacking_an_image_leaves_a_gap_never_the_next_echos_image() {
        let mut images = four_d(3, &[(0, 4)]);
        for image in &mut images {
            let echo: i32 = image.sop_instance_uid[1..2].parse().expect("a digit");
            image.echo_number = Some(echo + 1);
            image.instance_number = Some(7);
        }
        let plan = plan_stack("echoes", &images).expect("plans");
        assert_eq!(
            slice_names(&plan, &images),
            ["t0z0", "t0z1", "t0z2", "t0z3"]
        );
        assert!(
            plan.warnings
                .contains(&StackWarning::IncompleteTimePoint { missing: 1 })
        );
    }

    #[test]
    fn images_that_do_not_tell_their_time_point_leave_out_every_short_position() {
        // Instance numbers that do not count volumes from 1, and no temporal position:
        // a position short of an image might lack the first, so it is left out.
        let mut images = four_d(3, &[(1, 3)]);
        for image in &mut images {
            image.instance_number = image.instance_number.map(|n| n + 5000);
        }
        let plan = plan_stack("untold", &images).expect("plans");
        assert_eq!(
            slice_names(&plan, &images),
            ["t0z0", "t0z1", "t0z2", "t0z4"]
        );
        assert!(
            plan.warnings
                .contains(&StackWarning::IncompleteTimePoint { missing: 1 })
        );
    }

    #[test]
    fn missing_position_names_the_file_and_attribute() {
        let mut images = axial_stack(&[0.0, 1.0]);
        images[1].position = None;
        let error = plan_stack("s", &images).expect_err("no position");
        assert_eq!(
            error.to_string(),
            "ImagePositionPatient (0020,0032) missing in IMG1"
        );
    }
}
