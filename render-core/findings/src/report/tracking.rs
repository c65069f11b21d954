//! A finding's tracking identifier: its number, kind and plane in words
//! (`3 ellipse on axial`), which a reader shows and this program reads back.

use hounsfield_vocabulary::{FindingKind, SlicePlane};

use crate::Finding;

/// The tracking identifier of `finding`.
pub fn tracking_identifier(finding: &Finding) -> String {
    format!(
        "{} {} on {}",
        finding.id,
        finding.kind.name(),
        finding.plane.name()
    )
}

/// The number, kind and plane a tracking identifier names; `None` for one another
/// program wrote.
pub fn parse_tracking_identifier(text: &str) -> Option<(u32, FindingKind, SlicePlane)> {
    let mut words = text.split_whitespace();
    let id = words.next()?.parse().ok()?;
    let kind = FindingKind::from_name(words.next()?)?;
    if words.next()? != "on" {
        return None;
    }
    let plane = SlicePlane::from_name(words.next()?)?;
    words.next().is_none().then_some((id, kind, plane))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_read_back_and_others_are_not_ours() {
        let finding = Finding {
            id: 12,
            kind: FindingKind::Polygon,
            plane: SlicePlane::Coronal,
            points_lps: vec![],
            note: String::new(),
        };
        let text = tracking_identifier(&finding);
        assert_eq!(text, "12 polygon on coronal");
        assert_eq!(
            parse_tracking_identifier(&text),
            Some((12, FindingKind::Polygon, SlicePlane::Coronal))
        );
        for other in ["Lesion 1", "12 polygon", "12 polygon on axial extra", ""] {
            assert_eq!(parse_tracking_identifier(other), None, "{other}");
        }
    }
}
