//! What a series is for, from its headers: a volume to read, a localiser (a scout or
//! planning series, not for reading) or a single image. A study browser folds the last
//! two away so the series a radiologist reads come first.

use super::header::ImageHeader;

/// Images with both sides at most this many pixels are thumbnails of scouts, not
/// diagnostic images.
const TINY_SIDE: u32 = 32;

/// Words of a SeriesDescription that name a localiser (compared case-insensitively, as
/// whole words): the names scanners of several makers give their planning series.
const LOCALIZER_WORDS: [&str; 11] = [
    "loc",
    "localizer",
    "localiser",
    "locator",
    "scout",
    "survey",
    "surview",
    "topogram",
    "scanogram",
    "pilot",
    "tri-pilot",
];

/// What a series is for: the shared vocabulary's, told here from the headers.
pub use hounsfield_vocabulary::SeriesKind;

/// The kind of a series of `images` described as `description` (SeriesDescription)
/// whose stack has `slices` positions (when it stacks at all).
pub fn classify(images: &[ImageHeader], description: &str, slices: Option<usize>) -> SeriesKind {
    let tiny = images
        .iter()
        .all(|image| image.rows <= TINY_SIDE && image.columns <= TINY_SIDE);
    if images.iter().any(|image| image.localizer)
        || describes_a_localizer(description)
        || (tiny && images.len() <= 3)
    {
        SeriesKind::Localizer
    } else if images.len() <= 1 || slices == Some(1) {
        SeriesKind::Single
    } else {
        SeriesKind::Volume
    }
}

/// Whether a SeriesDescription names a localiser ("3-Plane Loc", "FAST LOCALIZER",
/// "Scout", "T/S/C RF FAST PILOT").
fn describes_a_localizer(description: &str) -> bool {
    description
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .flat_map(|word| std::iter::once(word).chain(word.split('-')))
        .any(|word| {
            LOCALIZER_WORDS
                .iter()
                .any(|known| word.eq_ignore_ascii_case(known))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_name_localizers_by_whole_words() {
        for localizer in [
            "3-Plane Loc",
            "48 FOV Loc",
            "FAST LOCALIZER",
            "Scout",
            "T/S/C RF FAST PILOT",
            "Topogram  0.6  T20s",
            "SURVEY_MST",
        ] {
            assert!(describes_a_localizer(localizer), "{localizer}");
        }
        for volume in [
            "Sag T2 frFSE S",
            "Local excision",
            "Ax FRFSE PD",
            "Block",
            "",
        ] {
            assert!(!describes_a_localizer(volume), "{volume}");
        }
    }
}
