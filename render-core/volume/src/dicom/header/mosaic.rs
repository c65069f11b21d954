//! Siemens mosaics: a stack of slices packed into one image, tiles row by row from the
//! top left. Each tile becomes a slice header of its own, at its true position, so the
//! stack planner and the loader treat a mosaic as any series of slices.
//!
//! How many tiles hold slices is NumberOfImagesInMosaic (0019,xx0A) of the private block
//! `SIEMENS MR HEADER`; the tiles form a square grid of ⌈√n⌉ a side. ImagePositionPatient
//! is the mosaic's first pixel, as if the whole mosaic were one slice: the first tile's is
//! half the mosaic's extra width and height further along the row and column. Slices step
//! along the normal (row × column) by SpacingBetweenSlices, else SliceThickness.

use dicom_core::Tag;
use glam::DVec3;

use super::ImageHeader;
use super::attributes::AttributeReader;

/// The private creator of Siemens' image block.
const SIEMENS_MR_HEADER: &str = "SIEMENS MR HEADER";
/// NumberOfImagesInMosaic's element within that block.
const IMAGES_IN_MOSAIC_ELEMENT: u16 = 0x0A;
/// The most slices one mosaic may hold (its tiles are at least 1 × 1 pixels and a
/// header's frames are bounded elsewhere; scanners pack at most a few hundred).
pub const MAX_MOSAIC_SLICES: u32 = 1024;

/// Where a slice lies in the mosaic image it was packed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MosaicTile {
    /// The slice's place in the mosaic, row by row from the top left.
    pub index: u32,
    /// Tiles a side of the mosaic's square grid.
    pub across: u32,
}

impl MosaicTile {
    /// The first pixel of this tile of `rows` × `columns` within a mosaic `mosaic_columns`
    /// wide (as an index into the mosaic's pixels).
    pub fn first_pixel(&self, rows: usize, columns: usize, mosaic_columns: usize) -> usize {
        let (row, column) = (
            (self.index / self.across) as usize,
            (self.index % self.across) as usize,
        );
        row * rows * mosaic_columns + column * columns
    }
}

/// The slices of a mosaic `base` describes, or why it cannot be unpacked.
pub(super) fn unpack(
    reader: &AttributeReader<'_>,
    base: &ImageHeader,
) -> Result<Vec<ImageHeader>, String> {
    let count = images_in_mosaic(reader)
        .ok_or("its NumberOfImagesInMosaic (0019,xx0A, SIEMENS MR HEADER) is missing")?;
    if count == 0 || count > MAX_MOSAIC_SLICES {
        return Err(format!(
            "NumberOfImagesInMosaic of {count} is not 1 to {MAX_MOSAIC_SLICES}"
        ));
    }
    let across = (1..=count).find(|n| n * n >= count).unwrap_or(count);
    if !base.rows.is_multiple_of(across) || !base.columns.is_multiple_of(across) {
        return Err(format!(
            "{} × {} pixels do not split into {across} × {across} tiles",
            base.columns, base.rows
        ));
    }
    let (rows, columns) = (base.rows / across, base.columns / across);
    let (Some(orientation), Some(position)) = (base.orientation, base.position) else {
        return Err("its orientation or position is missing".to_string());
    };
    let [row_spacing, column_spacing] = base.pixel_spacing_mm.unwrap_or([1.0, 1.0]);
    let row_dir = DVec3::from_slice(&orientation[0..3]);
    let column_dir = DVec3::from_slice(&orientation[3..6]);
    let normal = row_dir
        .cross(column_dir)
        .try_normalize()
        .ok_or("its row and column directions are parallel")?;
    let spacing = base
        .spacing_between_slices_mm
        .or(base.slice_thickness_mm)
        .filter(|s| *s > 0.0)
        .ok_or("neither SpacingBetweenSlices nor SliceThickness gives the slices' spacing")?;
    let first = DVec3::from_array(position)
        + row_dir * column_spacing * f64::from(base.columns - columns) / 2.0
        + column_dir * row_spacing * f64::from(base.rows - rows) / 2.0;
    Ok((0..count)
        .map(|index| ImageHeader {
            rows,
            columns,
            position: Some((first + normal * spacing * f64::from(index)).to_array()),
            tile: Some(MosaicTile { index, across }),
            mosaic: false,
            ..base.clone()
        })
        .collect())
}

/// NumberOfImagesInMosaic, from whichever private block `SIEMENS MR HEADER` reserved.
fn images_in_mosaic(reader: &AttributeReader<'_>) -> Option<u32> {
    (0x10u16..=0xFF).find_map(|block| {
        let creator = reader.string(Tag(0x0019, block));
        (creator == SIEMENS_MR_HEADER)
            .then(|| reader.u32(Tag(0x0019, (block << 8) | IMAGES_IN_MOSAIC_ELEMENT)))
            .flatten()
    })
}
