//! A finding's tracking identifier: its number, kind and plane in words
//! (`3 ellipse on axial`), which a reader shows and this program reads back. A finding on
//! turned planes names its plane oblique and the cell's axes it was drawn with, which the
//! points alone do not give for a ruler or an arrow:
//! `4 ruler on oblique axial (right 0.984808 0 -0.173648; down 0 1 0)`.

use glam::DVec3;
use hounsfield_vocabulary::{FindingKind, SlicePlane};

use crate::Finding;
use crate::outline::PlaneAxes;

/// What a tracking identifier names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tracked {
    /// The finding's number.
    pub id: u32,
    /// Its kind.
    pub kind: FindingKind,
    /// The cell it was drawn on.
    pub plane: SlicePlane,
    /// The axes that cell showed.
    pub axes: PlaneAxes,
}

/// The tracking identifier of `finding`.
pub fn tracking_identifier(finding: &Finding) -> String {
    let (id, kind, plane) = (finding.id, finding.kind.name(), finding.plane.name());
    if !finding.is_oblique() {
        return format!("{id} {kind} on {plane}");
    }
    let words = |v: DVec3| {
        [v.x, v.y, v.z]
            .map(|c| {
                let text = format!("{c:.6}");
                let text = text.trim_end_matches('0').trim_end_matches('.');
                if text == "-0" {
                    "0".to_string()
                } else {
                    text.to_string()
                }
            })
            .join(" ")
    };
    format!(
        "{id} {kind} on oblique {plane} (right {}; down {})",
        words(finding.axes.right),
        words(finding.axes.down)
    )
}

/// What a tracking identifier names; `None` for one another program wrote.
pub fn parse_tracking_identifier(text: &str) -> Option<Tracked> {
    let (head, turned) = match text.split_once('(') {
        Some((head, rest)) => (head, Some(rest.strip_suffix(')')?)),
        None => (text, None),
    };
    let mut words = head.split_whitespace();
    let id = words.next()?.parse().ok()?;
    let kind = FindingKind::from_name(words.next()?)?;
    if words.next()? != "on" {
        return None;
    }
    let mut plane_word = words.next()?;
    let oblique = plane_word == "oblique";
    if oblique {
        plane_word = words.next()?;
    }
    let plane = SlicePlane::from_name(plane_word)?;
    if words.next().is_some() || oblique != turned.is_some() {
        return None;
    }
    let axes = match turned {
        None => PlaneAxes::of(plane),
        Some(turned) => {
            let (right, down) = turned.split_once(';')?;
            PlaneAxes::from_right_and_down(vector(right, "right")?, vector(down, "down")?)?
        }
    };
    Some(Tracked {
        id,
        kind,
        plane,
        axes,
    })
}

/// The vector after `name` in `text` (`right 1 0 0`).
fn vector(text: &str, name: &str) -> Option<DVec3> {
    let mut words = text.split_whitespace();
    if words.next()? != name {
        return None;
    }
    let mut next = || words.next()?.parse::<f64>().ok();
    let v = DVec3::new(next()?, next()?, next()?);
    (words.next().is_none() && v.is_finite()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hounsfield_scene::view::SliceFrame;

    fn polygon_on(plane: SlicePlane, axes: PlaneAxes) -> Finding {
        Finding {
            id: 12,
            kind: FindingKind::Polygon,
            plane,
            axes,
            points_lps: vec![],
            note: String::new(),
        }
    }

    #[test]
    fn identifiers_read_back_and_others_are_not_ours() {
        let finding = polygon_on(SlicePlane::Coronal, PlaneAxes::of(SlicePlane::Coronal));
        let text = tracking_identifier(&finding);
        assert_eq!(text, "12 polygon on coronal");
        assert_eq!(
            parse_tracking_identifier(&text),
            Some(Tracked {
                id: 12,
                kind: FindingKind::Polygon,
                plane: SlicePlane::Coronal,
                axes: PlaneAxes::of(SlicePlane::Coronal),
            })
        );
        for other in [
            "Lesion 1",
            "12 polygon",
            "12 polygon on axial extra",
            "12 polygon on oblique axial",
            "12 polygon on axial (right 1 0 0; down 0 1 0)",
            "12 polygon on oblique axial (right 1 0 0; down 1 0 0)",
            "12 polygon on oblique axial (right 1 0 NaN; down 0 1 0)",
            "",
        ] {
            assert_eq!(parse_tracking_identifier(other), None, "{other}");
        }
    }

    #[test]
    fn an_oblique_finding_names_its_turned_axes_and_they_read_back() {
        let frame = SliceFrame::STANDARD
            .turned(SlicePlane::Coronal, 10.0)
            .expect("a turn");
        let axes = PlaneAxes::turned(&frame, SlicePlane::Axial);
        let text = tracking_identifier(&polygon_on(SlicePlane::Axial, axes));
        assert!(
            text.starts_with("12 polygon on oblique axial (right "),
            "{text}"
        );
        let back = parse_tracking_identifier(&text).expect("ours");
        assert_eq!((back.id, back.plane), (12, SlicePlane::Axial));
        for (read, drawn) in [
            (back.axes.right, axes.right),
            (back.axes.down, axes.down),
            (back.axes.normal, axes.normal),
        ] {
            assert!(read.distance(drawn) < 1e-5, "{read} against {drawn}");
        }
    }
}
