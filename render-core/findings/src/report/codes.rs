//! The coded concepts of a measurement report: DICOM's own (DCM), SNOMED CT (SCT) and UCUM
//! units, as TID 1500 and TID 1410 name them, and one code of this program's own for the
//! count of voxels, which no standard vocabulary has.

/// A coded concept: code value, coding scheme designator and meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The code value.
    pub value: &'static str,
    /// The coding scheme (DCM, SCT, UCUM…).
    pub scheme: &'static str,
    /// What it means, in words.
    pub meaning: &'static str,
}

const fn code(value: &'static str, scheme: &'static str, meaning: &'static str) -> Code {
    Code {
        value,
        scheme,
        meaning,
    }
}

/// The report's root: TID 1500's title.
pub const IMAGING_MEASUREMENT_REPORT: Code = code("126000", "DCM", "Imaging Measurement Report");
/// The language modifier's concept.
pub const LANGUAGE: Code = code("121049", "DCM", "Language of Content Item and Descendants");
/// English, the report's language.
pub const ENGLISH: Code = code("eng", "RFC5646", "English");
/// The observer context: who observed.
pub const OBSERVER_TYPE: Code = code("121005", "DCM", "Observer Type");
/// A person observed.
pub const PERSON: Code = code("121006", "DCM", "Person");
/// The observing person's name.
pub const PERSON_OBSERVER_NAME: Code = code("121008", "DCM", "Person Observer Name");
/// The procedure the report is on.
pub const PROCEDURE_REPORTED: Code = code("121058", "DCM", "Procedure reported");
/// A CT procedure.
pub const CT_PROCEDURE: Code = code("77477000", "SCT", "Computerized tomography");
/// An MR procedure.
pub const MR_PROCEDURE: Code = code("113091000", "SCT", "Magnetic resonance imaging");
/// Any other imaging procedure.
pub const IMAGING_PROCEDURE: Code = code("363679005", "SCT", "Imaging");
/// The images the measurements are on.
pub const IMAGE_LIBRARY: Code = code("111028", "DCM", "Image Library");
/// A group of them.
pub const IMAGE_LIBRARY_GROUP: Code = code("126200", "DCM", "Image Library Group");
/// The measurements.
pub const IMAGING_MEASUREMENTS: Code = code("126010", "DCM", "Imaging Measurements");
/// One finding's measurements.
pub const MEASUREMENT_GROUP: Code = code("125007", "DCM", "Measurement Group");
/// The finding's name within the report.
pub const TRACKING_IDENTIFIER: Code = code("112039", "DCM", "Tracking Identifier");
/// The finding's unique identifier.
pub const TRACKING_UNIQUE_IDENTIFIER: Code = code("112040", "DCM", "Tracking Unique Identifier");
/// What was found.
pub const FINDING: Code = code("121071", "DCM", "Finding");
/// The finding, unnamed: a structure the radiologist marked.
pub const ABNORMAL_STRUCTURE: Code = code("49755003", "SCT", "Morphologically abnormal structure");
/// Where on the images.
pub const IMAGE_REGION: Code = code("111030", "DCM", "Image Region");
/// The image a measurement was made on.
pub const SOURCE_IMAGE: Code = code("121112", "DCM", "Source of Measurement");
/// A note.
pub const COMMENT: Code = code("121106", "DCM", "Comment");
/// Mean of a region's values.
pub const MEAN: Code = code("373098007", "SCT", "Mean");
/// Standard deviation of a region's values.
pub const STANDARD_DEVIATION: Code = code("386136009", "SCT", "Standard Deviation");
/// Smallest of a region's values.
pub const MINIMUM: Code = code("255605001", "SCT", "Minimum");
/// Largest of a region's values.
pub const MAXIMUM: Code = code("56851009", "SCT", "Maximum");
/// A region's area.
pub const AREA: Code = code("42798000", "SCT", "Area");
/// How many voxels a region's statistics are over (this program's own code).
pub const VOXEL_COUNT: Code = code("voxel-count", "99HNSF", "Number of voxels");
/// A segment's volume.
pub const VOLUME: Code = code("118565006", "SCT", "Volume");
/// The segment a volumetric measurement group measures (an IMAGE item naming it in a
/// Segmentation).
pub const REFERENCED_SEGMENT: Code = code("121191", "DCM", "Referenced Segment");
/// The series a segmentation was drawn on.
pub const SOURCE_SERIES_FOR_SEGMENTATION: Code =
    code("121232", "DCM", "Source series for segmentation");
/// A ruler's length.
pub const LENGTH: Code = code("410668003", "SCT", "Length");
/// An angle.
pub const ANGLE: Code = code("1483009", "SCT", "Angle");

/// Hounsfield units.
pub const HOUNSFIELD_UNIT: Code = code("[hnsf'U]", "UCUM", "Hounsfield unit");
/// Values without a unit.
pub const NO_UNITS: Code = code("1", "UCUM", "no units");
/// Square millimetres.
pub const SQUARE_MILLIMETRE: Code = code("mm2", "UCUM", "square millimeter");
/// Millimetres.
pub const MILLIMETRE: Code = code("mm", "UCUM", "millimeter");
/// Millilitres, for volumes.
pub const MILLILITRE: Code = code("ml", "UCUM", "milliliter");
/// Degrees of arc.
pub const DEGREE: Code = code("deg", "UCUM", "degree");
/// A count of voxels.
pub const VOXELS: Code = code("{voxels}", "UCUM", "voxels");

/// The unit code of values in `unit` (`HU`, or none).
pub fn value_unit(unit: &str) -> Code {
    if unit == "HU" {
        HOUNSFIELD_UNIT
    } else {
        NO_UNITS
    }
}

/// The unit as findings name it, from a unit code's value.
pub fn unit_name(code_value: &str) -> &'static str {
    if code_value == HOUNSFIELD_UNIT.value {
        "HU"
    } else {
        ""
    }
}

/// A Key Object Selection's title: images of interest.
pub const OF_INTEREST: Code = code("113000", "DCM", "Of Interest");
/// A Key Object Selection's description.
pub const KEY_OBJECT_DESCRIPTION: Code = code("113012", "DCM", "Key Object Description");

/// Where a finding lies: the artery a calcium score's lesions are in.
pub const FINDING_SITE: Code = code("363698007", "SCT", "Finding Site");
/// What a calcium score's group found.
pub const CALCIUM: Code = code("5540006", "SCT", "Calcium");
/// How a number was measured.
pub const MEASUREMENT_METHOD: Code = code("370129005", "SCT", "Measurement Method");
/// A calcium score (Agatston's, by [`AGATSTON_SCORING_METHOD`]).
pub const CALCIUM_SCORE: Code = code("112058", "DCM", "Calcium score");
/// Agatston's rules for a calcium score.
pub const AGATSTON_SCORING_METHOD: Code = code("112055", "DCM", "Agatston scoring method");
/// A calcium score's volume.
pub const CALCIUM_VOLUME: Code = code("122660", "DCM", "Calcium Volume");
/// A calcium score's mass.
pub const CALCIUM_MASS: Code = code("122661", "DCM", "Calcium Mass");
/// The coronary arteries together: the site of a calcium score's total.
pub const CORONARY_ARTERY: Code = code("41801008", "SCT", "Coronary artery");
/// The left main coronary artery.
pub const LEFT_MAIN_CORONARY_ARTERY: Code = code("3227004", "SCT", "Left Main Coronary Artery");
/// The left anterior descending coronary artery.
pub const LEFT_ANTERIOR_DESCENDING_CORONARY_ARTERY: Code = code(
    "59438005",
    "SCT",
    "Left Anterior Descending Coronary Artery",
);
/// The circumflex coronary artery.
pub const CIRCUMFLEX_CORONARY_ARTERY: Code = code("57396003", "SCT", "Circumflex Coronary Artery");
/// The right coronary artery.
pub const RIGHT_CORONARY_ARTERY: Code = code("13647002", "SCT", "Right Coronary Artery");
/// Cubic millimetres.
pub const CUBIC_MILLIMETRE: Code = code("mm3", "UCUM", "cubic millimeter");
/// Milligrams.
pub const MILLIGRAM: Code = code("mg", "UCUM", "milligram");
