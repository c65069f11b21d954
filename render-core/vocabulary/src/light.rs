//! The 3D view's light: where it comes from, and whether it casts shadows and darkens
//! what is hidden from the open (ambient occlusion). A direction is checked when it is
//! made or read (a unit vector, never zero), so every [`Lighting`] is one the ray caster
//! can draw.

use serde::{Deserialize, Serialize};

use crate::NamedView;

/// Where the 3D view's light comes from.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "DirectionOnWire", into = "DirectionOnWire")]
pub enum LightDirection {
    /// From the eye (a headlight): every surface the reader sees faces it, and it follows
    /// the camera as it turns.
    #[default]
    Head,
    /// From a direction fixed on the patient: the unit vector (LPS) pointing towards the
    /// light. The light and its shadows stay on the anatomy while the camera turns.
    Toward([f64; 3]),
}

/// A direction as it travels: `"head"`, a side of the patient (`"anterior"`,
/// `"superior"`…) or a vector `[x, y, z]` (LPS, towards the light).
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum DirectionOnWire {
    Name(String),
    Vector([f64; 3]),
}

impl LightDirection {
    /// The names a light direction takes besides a vector.
    pub const NAMES: [&'static str; 7] = [
        "head",
        "anterior",
        "posterior",
        "left",
        "right",
        "superior",
        "inferior",
    ];

    /// The direction named `name` ([`Self::NAMES`]): the headlight, or the light on that
    /// side of the patient.
    pub fn from_name(name: &str) -> Result<Self, String> {
        if name == "head" {
            return Ok(Self::Head);
        }
        let side = NamedView::from_name(name).ok_or_else(|| {
            format!(
                "unknown light direction \"{}\" (known: {}, or a vector X,Y,Z)",
                crate::text::cut_with_mark(name, 40),
                Self::NAMES.join(", ")
            )
        })?;
        // The light is on that side: opposite the direction a camera there looks in.
        let (looking, _) = side.direction_and_up();
        Ok(Self::Toward((-looking).to_array()))
    }

    /// The light towards `[x, y, z]` (LPS), made a unit vector; refused when a component
    /// is not finite or the vector is (nearly) zero.
    pub fn toward(vector: [f64; 3]) -> Result<Self, String> {
        let length = vector.iter().map(|c| c * c).sum::<f64>().sqrt();
        if !vector.iter().all(|c| c.is_finite()) || !length.is_finite() || length < 1e-6 {
            return Err(format!(
                "light direction {vector:?}: must be a finite vector of non-zero length"
            ));
        }
        Ok(Self::Toward(vector.map(|c| c / length)))
    }

    /// What a command line or a client writes: `head`, a side's name or `X,Y,Z`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if !text.contains(',') {
            return Self::from_name(text);
        }
        let components: Vec<f64> = text
            .split(',')
            .map(|part| part.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| {
                format!(
                    "light direction \"{}\": not X,Y,Z",
                    crate::text::cut_with_mark(text, 40)
                )
            })?;
        let vector: [f64; 3] = components.try_into().map_err(|_| {
            format!(
                "light direction \"{}\": needs three components X,Y,Z",
                crate::text::cut_with_mark(text, 40)
            )
        })?;
        Self::toward(vector)
    }
}

impl TryFrom<DirectionOnWire> for LightDirection {
    type Error = String;

    fn try_from(wire: DirectionOnWire) -> Result<Self, String> {
        match wire {
            DirectionOnWire::Name(name) => Self::from_name(&name),
            DirectionOnWire::Vector(vector) => Self::toward(vector),
        }
    }
}

impl From<LightDirection> for DirectionOnWire {
    fn from(direction: LightDirection) -> Self {
        match direction {
            LightDirection::Head => Self::Name("head".to_string()),
            LightDirection::Toward(vector) => Self::Vector(vector),
        }
    }
}

/// The 3D view's light (composite mode, with a preset that shades).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Lighting {
    /// Where the light comes from.
    #[serde(default)]
    pub direction: LightDirection,
    /// Whether what lies between a point and the light shades it.
    #[serde(default)]
    pub shadows: bool,
    /// Whether a point is darkened by what surrounds it (ambient occlusion): creases and
    /// hollows darken, open faces do not.
    #[serde(default)]
    pub occlusion: bool,
    /// Whether the view, while it rests, is path traced (cinematic rendering: light
    /// scattered through the volume), refining picture after picture until it moves.
    /// Frames of a drag stay ray cast with the light above.
    #[serde(default)]
    pub cinematic: bool,
}

impl Lighting {
    /// Whether it is the headlight without shadows or occlusion (the view as it opens).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_direction_is_a_name_or_a_unit_vector_and_nothing_else() {
        assert_eq!(LightDirection::parse("head"), Ok(LightDirection::Head));
        assert_eq!(
            LightDirection::parse("anterior"),
            Ok(LightDirection::Toward([0.0, -1.0, 0.0]))
        );
        assert_eq!(
            LightDirection::parse("superior"),
            Ok(LightDirection::Toward([0.0, 0.0, 1.0]))
        );
        assert_eq!(
            LightDirection::parse("0, 3, -4"),
            Ok(LightDirection::Toward([0.0, 0.6, -0.8]))
        );
        for (text, said) in [
            ("sideways", "unknown light direction \"sideways\""),
            ("0,0,0", "non-zero length"),
            ("1,2", "three components"),
            ("1,x,2", "not X,Y,Z"),
            ("1,inf,2", "finite"),
        ] {
            let error = LightDirection::parse(text).expect_err(text);
            assert!(error.contains(said), "{text}: {error}");
        }
    }

    #[test]
    fn a_lighting_travels_as_json_and_a_bad_direction_is_refused_when_read() {
        let lighting = Lighting {
            direction: LightDirection::Toward([0.0, -1.0, 0.0]),
            shadows: true,
            occlusion: false,
            cinematic: true,
        };
        let json = serde_json::to_value(lighting).expect("serialises");
        assert_eq!(json["direction"], serde_json::json!([0.0, -1.0, 0.0]));
        let back: Lighting = serde_json::from_value(json).expect("parses");
        assert_eq!(back, lighting);
        let head: Lighting = serde_json::from_str(r#"{"direction":"head"}"#).expect("parses");
        assert!(head.is_default());
        let named: Lighting =
            serde_json::from_str(r#"{"direction":"left","occlusion":true}"#).expect("parses");
        assert_eq!(named.direction, LightDirection::Toward([1.0, 0.0, 0.0]));
        for bad in [r#"{"direction":[0,0,0]}"#, r#"{"direction":"up"}"#] {
            assert!(serde_json::from_str::<Lighting>(bad).is_err(), "{bad}");
        }
    }
}
