//! One finding: a shape drawn on a slice of a series, in patient millimetres, with what it
//! measures there.

use glam::DVec3;
use hounsfield_vocabulary::{FindingKind, MAX_NOTE_CHARS, RegionStatistics, SlicePlane};
use hounsfield_volume::Volume;

use crate::error::FindingError;
use crate::outline::{Outline, PlaneAxes};
use crate::statistics::{region_statistics, region_voxels, rounded};
use crate::uptake::uptake_of_voxels;

/// A shape on a slice, its points in LPS millimetres on the slice's plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Its number within its series (from 1), as clients name it in `update` and `delete`.
    pub id: u32,
    /// What it draws.
    pub kind: FindingKind,
    /// The cell of the slice it was drawn on.
    pub plane: SlicePlane,
    /// That slice's axes as its cell showed them: the standard plane's, or turned when
    /// the slice planes were (an oblique finding).
    pub axes: PlaneAxes,
    /// Its points: two opposite corners of an ellipse's or a box's bounds, a polygon's
    /// vertices, an angle's three points (the vertex second), an arrow's tail and head,
    /// a ruler's ends.
    pub points_lps: Vec<DVec3>,
    /// What the radiologist wrote by it (an arrow's label); may be empty.
    pub note: String,
}

/// What a finding measures.
#[derive(Debug, Clone, PartialEq)]
pub enum Measurement {
    /// A region's statistics.
    Region(RegionStatistics),
    /// A ruler's length (mm).
    Length {
        /// Millimetres between the ends.
        mm: f64,
    },
    /// An angle (degrees, 0..=180).
    Angle {
        /// Degrees at the vertex.
        degrees: f64,
    },
    /// An arrow measures nothing: it points at its note.
    Pointer,
}

impl Measurement {
    /// The measurement as the protocol tells it: a region's statistics, a length (mm) and
    /// an angle (degrees), each present for its kind alone.
    pub fn parts(&self) -> (Option<RegionStatistics>, Option<f64>, Option<f64>) {
        match self {
            Self::Region(statistics) => (Some(statistics.clone()), None, None),
            Self::Length { mm } => (None, Some(*mm), None),
            Self::Angle { degrees } => (None, None, Some(*degrees)),
            Self::Pointer => (None, None, None),
        }
    }
}

impl Finding {
    /// A finding on a standard plane after checking that its points fit its kind and its
    /// note its bound.
    pub fn new(
        id: u32,
        kind: FindingKind,
        plane: SlicePlane,
        points_lps: Vec<DVec3>,
        note: String,
    ) -> Result<Self, FindingError> {
        Self::on_axes(id, kind, plane, PlaneAxes::of(plane), points_lps, note)
    }

    /// A finding on `plane`'s cell showing `axes` (turned or not), checked as [`Self::new`]
    /// checks one.
    pub fn on_axes(
        id: u32,
        kind: FindingKind,
        plane: SlicePlane,
        axes: PlaneAxes,
        points_lps: Vec<DVec3>,
        note: String,
    ) -> Result<Self, FindingError> {
        let expected = kind.point_count();
        if !expected.contains(&points_lps.len()) {
            let expected = if expected.start() == expected.end() {
                expected.start().to_string()
            } else {
                format!("{} to {}", expected.start(), expected.end())
            };
            return Err(FindingError::PointCount {
                kind: kind.name(),
                expected,
                found: points_lps.len(),
            });
        }
        if let Some(index) = points_lps.iter().position(|p| !p.is_finite()) {
            return Err(FindingError::NotFinite { index });
        }
        let note = kept_note(note)?;
        let chars = note.chars().count();
        if chars > MAX_NOTE_CHARS {
            return Err(FindingError::NoteTooLong {
                chars,
                limit: MAX_NOTE_CHARS,
            });
        }
        let finding = Self {
            id,
            kind,
            plane,
            axes,
            points_lps,
            note,
        };
        finding.check_extent()?;
        Ok(finding)
    }

    /// The finding's slice depth along its plane's normal (mm): the mean of its points'.
    pub fn depth_mm(&self) -> f64 {
        let sum: f64 = self.points_lps.iter().map(|p| self.axes.depth(*p)).sum();
        sum / self.points_lps.len().max(1) as f64
    }

    /// The region's outline on its plane; `None` for kinds that enclose nothing.
    pub fn outline(&self) -> Option<Outline> {
        let flat: Vec<_> = self
            .points_lps
            .iter()
            .map(|p| self.axes.flatten(*p))
            .collect();
        Outline::new(self.kind, &flat)
    }

    /// What the finding measures on `volume`.
    pub fn measure(&self, volume: &Volume) -> Result<Measurement, FindingError> {
        match self.kind {
            FindingKind::Ellipse | FindingKind::Rectangle | FindingKind::Polygon => {
                let outline = self.outline().ok_or(FindingError::Degenerate {
                    kind: self.kind.name(),
                    what: "area",
                })?;
                region_statistics(volume, &self.axes, &outline, self.depth_mm())
                    .map(Measurement::Region)
            }
            FindingKind::Ruler => Ok(Measurement::Length {
                mm: rounded(self.points_lps[0].distance(self.points_lps[1])),
            }),
            FindingKind::Angle => Ok(Measurement::Angle {
                degrees: rounded(self.angle_degrees()),
            }),
            FindingKind::Arrow => Ok(Measurement::Pointer),
        }
    }

    /// What the finding measures on a PET `volume` whose values times `suv_factor` are
    /// SUV: as [`Finding::measure`], a region's statistics with its uptake in SUV too.
    pub fn measure_in_suv(
        &self,
        volume: &Volume,
        suv_factor: f64,
    ) -> Result<Measurement, FindingError> {
        let mut measurement = self.measure(volume)?;
        if let (Measurement::Region(statistics), Some(outline)) = (&mut measurement, self.outline())
        {
            let voxels = region_voxels(volume, &self.axes, &outline, self.depth_mm())?;
            statistics.suv = uptake_of_voxels(volume, &voxels, suv_factor).map(|u| u.told());
        }
        Ok(measurement)
    }

    /// The flat indices of the voxels a region encloses on its slice of `volume`'s grid
    /// (those its statistics are over); `None` for a kind that encloses none.
    pub fn region_voxels(&self, volume: &Volume) -> Option<Result<Vec<usize>, FindingError>> {
        let outline = self.outline()?;
        Some(region_voxels(volume, &self.axes, &outline, self.depth_mm()))
    }

    /// Whether it was drawn on turned slice planes.
    pub fn is_oblique(&self) -> bool {
        !self.axes.is_standard(self.plane)
    }

    /// Whether it lies on `plane`'s slice facing `normal` at `depth_mm` along it (within
    /// `tolerance_mm`): what a cell shows it on.
    pub fn lies_on(
        &self,
        plane: SlicePlane,
        normal: DVec3,
        depth_mm: f64,
        tolerance_mm: f64,
    ) -> bool {
        self.plane == plane
            && self.axes.faces(normal)
            && (self.depth_mm() - depth_mm).abs() <= tolerance_mm
    }

    /// The angle at the middle point (degrees).
    fn angle_degrees(&self) -> f64 {
        let vertex = self.points_lps[1];
        let (a, b) = (self.points_lps[0] - vertex, self.points_lps[2] - vertex);
        a.angle_between(b).to_degrees()
    }

    /// Refuses shapes with nothing to measure: a flat box, coinciding ends.
    fn check_extent(&self) -> Result<(), FindingError> {
        let degenerate = |what| FindingError::Degenerate {
            kind: self.kind.name(),
            what,
        };
        match self.kind {
            FindingKind::Ellipse | FindingKind::Rectangle | FindingKind::Polygon => {
                let area = self.outline().map_or(0.0, |o| o.area_mm2());
                if area > 1e-9 {
                    Ok(())
                } else {
                    Err(degenerate("area"))
                }
            }
            FindingKind::Angle => {
                let vertex = self.points_lps[1];
                let arms = [self.points_lps[0], self.points_lps[2]];
                if arms.iter().all(|p| p.distance(vertex) > 1e-9) {
                    Ok(())
                } else {
                    Err(degenerate("angle"))
                }
            }
            FindingKind::Arrow | FindingKind::Ruler => {
                if self.points_lps[0].distance(self.points_lps[1]) > 1e-9 {
                    Ok(())
                } else {
                    Err(degenerate("length"))
                }
            }
        }
    }
}

/// A note as a report keeps it, so that what a reader is told is saved is what a report
/// gives back: trailing spaces and NULs dropped (DICOM pads text values with them, and a
/// report read back has none); a control character other than a line break or a tab is
/// refused by its place.
fn kept_note(note: String) -> Result<String, FindingError> {
    let kept = note.trim_end_matches(['\0', ' ']);
    if let Some((index, bad)) = kept
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FindingError::NoteControl {
            index,
            code: u32::from(bad),
        });
    }
    Ok(if kept.len() == note.len() {
        note
    } else {
        kept.to_string()
    })
}
