//! The straightened curved reformat: the path laid out as a straight line down the
//! picture, each row the line across the path at one station, so that a vessel traced
//! by the path shows whole in one image and a length measured down the picture is a
//! length along the path. Turning the across line about the path gives the rotating view.

use glam::DVec3;
use rayon::prelude::*;

use super::path::CurvedPath;
use crate::Volume;
use crate::gpu::FrameImage;
use crate::volume::Window;

/// Most pixels a straightened image may have (a 4K picture).
pub const MAX_STRAIGHTENED_PIXELS: u64 = 4096 * 2160;

/// A straightened reformat's values before the grey window: rows down the path, columns
/// across it, `None` where the line across leaves the volume.
#[derive(Debug, Clone, PartialEq)]
pub struct StraightenedReformat {
    /// Columns.
    pub width: u32,
    /// Rows: stations at equal steps along the path, top to bottom.
    pub height: u32,
    /// The side of one (square) pixel in mm: along the path and across it alike.
    pub mm_per_pixel: f64,
    /// The path's length (mm): `height × mm_per_pixel`.
    pub path_length_mm: f64,
    /// The values (modality units, e.g. HU), row-major from the top-left.
    pub values: Vec<Option<f32>>,
}

/// Which way the line across the path points: `reference` (LPS, projected across the
/// path at its start, then carried along it without twisting), turned `angle_deg` about
/// the path for the rotating view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Across {
    /// The direction drawn towards the picture's right at the start.
    pub reference: DVec3,
    /// The turn about the path (degrees).
    pub angle_deg: f64,
}

impl Across {
    /// Towards the patient's left (the picture's right as an axial or coronal slice
    /// shows it), turned `angle_deg` about the path.
    pub fn patient_left(angle_deg: f64) -> Self {
        Self {
            reference: DVec3::X,
            angle_deg,
        }
    }
}

/// Straightens `volume` along `path` into `size` pixels (width across, height along):
/// the path fills the height, pixels are square. The error says why no picture is made
/// (a size of zero or over [`MAX_STRAIGHTENED_PIXELS`], a non-finite angle).
pub fn straighten(
    volume: &Volume,
    path: &CurvedPath,
    across: Across,
    size: [u32; 2],
) -> Result<StraightenedReformat, String> {
    let [width, height] = size;
    let pixels = u64::from(width) * u64::from(height);
    if pixels == 0 || pixels > MAX_STRAIGHTENED_PIXELS {
        return Err(format!(
            "a straightened image of {width}×{height}: from 1 to {MAX_STRAIGHTENED_PIXELS} pixels"
        ));
    }
    if !across.angle_deg.is_finite() || !across.reference.is_finite() {
        return Err("the turn about the path is not a finite number".to_string());
    }
    let path_length_mm = path.length_mm();
    let mm_per_pixel = path_length_mm / f64::from(height);
    let to_voxel = volume.voxel_to_lps.inverse();
    let (sin, cos) = across.angle_deg.to_radians().sin_cos();
    let stations = path.stations(height as usize, across.reference);
    let values = stations
        .par_iter()
        .flat_map_iter(|station| {
            let line = station.across * cos + station.tangent.cross(station.across) * sin;
            (0..width).map(move |column| {
                let offset = (f64::from(column) + 0.5 - f64::from(width) * 0.5) * mm_per_pixel;
                let lps = station.point + line * offset;
                volume
                    .trilinear(to_voxel.transform_point3(lps))
                    .map(|v| v as f32)
            })
        })
        .collect();
    Ok(StraightenedReformat {
        width,
        height,
        mm_per_pixel,
        path_length_mm,
        values,
    })
}

impl StraightenedReformat {
    /// The picture through the grey `window`, black outside the volume.
    pub fn image(&self, window: Window) -> FrameImage {
        let rgba = self
            .values
            .iter()
            .flat_map(|value| {
                let grey = value.map_or(0, |v| window.grey_u8(f64::from(v)));
                [grey, grey, grey, 255]
            })
            .collect();
        FrameImage {
            width: self.width,
            height: self.height,
            rgba,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_path_along_the_phantoms_axis_is_its_coronal_slice() {
        let volume = crate::phantom::ct_phantom();
        let centre = volume.centre_lps();
        // From 40 mm above the centre to 40 mm below it.
        let start = centre + DVec3::Z * 40.0;
        let end = centre - DVec3::Z * 40.0;
        let path = CurvedPath::through(&[start, end]).expect("a path");
        let straightened =
            straighten(&volume, &path, Across::patient_left(0.0), [64, 80]).expect("a picture");
        assert!((straightened.mm_per_pixel - 1.0).abs() < 1e-9);
        // The centre column runs down the path: each row's value is the volume's there.
        let to_voxel = volume.voxel_to_lps.inverse();
        for row in [0_u32, 40, 79] {
            // Half a pixel right of the middle, towards the patient's left.
            let lps = start - DVec3::Z * (f64::from(row) + 0.5) + DVec3::X * 0.5;
            let expected = volume.trilinear(to_voxel.transform_point3(lps));
            let got = straightened.values[(row * 64 + 32) as usize].map(f64::from);
            let (Some(expected), Some(got)) = (expected, got) else {
                panic!("row {row} lies in the volume");
            };
            assert!(
                (expected - got).abs() < 1e-3,
                "row {row}: {got} for {expected}"
            );
        }
    }

    #[test]
    fn a_size_of_nothing_or_too_much_is_refused() {
        let volume = crate::phantom::ct_phantom();
        let path = CurvedPath::through(&[DVec3::ZERO, DVec3::Z]).expect("a path");
        let across = Across::patient_left(0.0);
        assert!(straighten(&volume, &path, across, [0, 10]).is_err());
        assert!(straighten(&volume, &path, across, [100_000, 100_000]).is_err());
    }
}
