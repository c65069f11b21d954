//! A segment: its voxels and what it is (a name, a colour, the coded category and type
//! DICOM SEG carries, how it was made), and how it is shown.

use std::sync::Arc;

use crate::mask::Mask;

/// A coded concept, as DICOM writes one: a value in a coding scheme, and its meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// CodeValue (e.g. `85756007`).
    pub value: String,
    /// CodingSchemeDesignator (`SCT` for SNOMED CT).
    pub scheme: String,
    /// CodeMeaning (e.g. `Tissue`).
    pub meaning: String,
}

impl Code {
    /// A SNOMED CT concept.
    pub fn snomed(value: &str, meaning: &str) -> Self {
        Self {
            value: value.to_string(),
            scheme: "SCT".to_string(),
            meaning: meaning.to_string(),
        }
    }

    /// Parses `SCHEME:VALUE:MEANING` (e.g. `SCT:10200004:Liver`), as a reader types a
    /// code that the short list lacks.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, ':');
        let (scheme, value, meaning) = (parts.next()?, parts.next()?, parts.next()?);
        let fits = |part: &str, most: usize| {
            !part.trim().is_empty() && part.len() <= most && !part.contains('\\')
        };
        (fits(scheme, 16) && fits(value, 64) && fits(meaning, 64)).then(|| Self {
            value: value.trim().to_string(),
            scheme: scheme.trim().to_string(),
            meaning: meaning.trim().to_string(),
        })
    }
}

/// The categories a reader picks from (DICOM CID 7150).
pub fn categories() -> Vec<Code> {
    vec![
        Code::snomed("85756007", "Tissue"),
        Code::snomed("123037004", "Anatomical Structure"),
        Code::snomed("49755003", "Morphologically Altered Structure"),
    ]
}

/// The types a reader picks from, each with its category (DICOM CIDs 7151 and 7153).
pub fn types() -> Vec<(Code, Code)> {
    let tissue = Code::snomed("85756007", "Tissue");
    let anatomy = Code::snomed("123037004", "Anatomical Structure");
    let altered = Code::snomed("49755003", "Morphologically Altered Structure");
    vec![
        (tissue.clone(), Code::snomed("272673000", "Bone")),
        (tissue.clone(), Code::snomed("87784001", "Soft tissue")),
        (tissue, Code::snomed("85756007", "Tissue")),
        (anatomy.clone(), Code::snomed("59820001", "Blood vessel")),
        (anatomy.clone(), Code::snomed("12738006", "Brain")),
        (anatomy.clone(), Code::snomed("80891009", "Heart")),
        (anatomy.clone(), Code::snomed("39607008", "Lung")),
        (anatomy.clone(), Code::snomed("10200004", "Liver")),
        (anatomy.clone(), Code::snomed("64033007", "Kidney")),
        (anatomy, Code::snomed("78961009", "Spleen")),
        (altered.clone(), Code::snomed("52988006", "Lesion")),
        (altered.clone(), Code::snomed("4147007", "Mass")),
        (altered, Code::snomed("108369006", "Neoplasm")),
    ]
}

/// The colours segments take in turn when none is chosen (sRGB), on every client and for
/// a model's classes.
pub const SEGMENT_COLOURS: [[u8; 3]; 8] = [
    [230, 80, 60],
    [80, 180, 90],
    [70, 130, 230],
    [240, 200, 40],
    [180, 90, 200],
    [60, 200, 200],
    [240, 140, 40],
    [200, 200, 200],
];

/// How a segment was made, as DICOM SEG's SegmentAlgorithmType says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Algorithm {
    /// Drawn by hand (paint, erase).
    Manual,
    /// Made by a tool the reader steered (threshold, grow, margin…), which is named.
    Semiautomatic(String),
    /// Made by a program without the reader (a model), which is named.
    Automatic(String),
}

impl Algorithm {
    /// DICOM's SegmentAlgorithmType: `MANUAL`, `SEMIAUTOMATIC` or `AUTOMATIC`.
    pub fn dicom_type(&self) -> &'static str {
        match self {
            Self::Manual => "MANUAL",
            Self::Semiautomatic(_) => "SEMIAUTOMATIC",
            Self::Automatic(_) => "AUTOMATIC",
        }
    }

    /// The tool's or model's name (SegmentAlgorithmName); none for a manual segment.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Manual => None,
            Self::Semiautomatic(name) | Self::Automatic(name) => Some(name),
        }
    }
}

/// A segment of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Its name (SegmentLabel).
    pub label: String,
    /// Its colour (sRGB).
    pub colour: [u8; 3],
    /// SegmentedPropertyCategoryCodeSequence.
    pub category: Code,
    /// SegmentedPropertyTypeCodeSequence.
    pub property_type: Code,
    /// How it was made.
    pub algorithm: Algorithm,
    /// Whether it is drawn.
    pub visible: bool,
    /// Its fill's opacity, 0 to 1.
    pub opacity: f32,
    /// Whether tools leave it as it is.
    pub locked: bool,
    /// Its voxels, shared: the slices and the 3D view show a segment, and an edit
    /// starts from it, without copying its grid of bits.
    pub mask: Arc<Mask>,
}

impl Segment {
    /// A visible, unlocked segment of generic tissue named `label`.
    pub fn new(label: &str, colour: [u8; 3], algorithm: Algorithm, mask: Mask) -> Self {
        Self {
            label: label.to_string(),
            colour,
            category: Code::snomed("85756007", "Tissue"),
            property_type: Code::snomed("85756007", "Tissue"),
            algorithm,
            visible: true,
            opacity: 0.5,
            locked: false,
            mask: Arc::new(mask),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_code_is_parsed_and_a_malformed_one_refused() {
        assert_eq!(
            Code::parse("SCT:10200004:Liver"),
            Some(Code::snomed("10200004", "Liver"))
        );
        assert_eq!(
            Code::parse("SCT:1:Liver: left lobe").map(|c| c.meaning),
            Some("Liver: left lobe".to_string())
        );
        assert_eq!(Code::parse("SCT:10200004"), None);
        assert_eq!(Code::parse("SCT::Liver"), None);
        assert_eq!(Code::parse(&format!("SCT:1:{}", "x".repeat(65))), None);
    }

    #[test]
    fn every_listed_type_has_a_listed_category() {
        let categories = categories();
        for (category, _) in types() {
            assert!(categories.contains(&category), "{category:?}");
        }
    }
}
