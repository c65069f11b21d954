//! Pointers in a shared session: each participant's pointer (the host's and every
//! follower's, a viewer's too) goes through the session's room (see [`super::room`]) to
//! every other participant, who draws it over the frames with the sender's name and
//! colour. Pointers are never rendered into frames.

use hounsfield_protocol::ServerMessage;

/// The cells a pointer may be in, as the protocol names them.
pub const POINTER_CELLS: [&str; 4] = ["3d", "axial", "coronal", "sagittal"];

/// The colours participants' pointers are drawn in, chosen by session number.
const COLOURS: [&str; 8] = [
    "#ff6b6b", "#4dabf7", "#51cf66", "#fcc419", "#cc5de8", "#ff922b", "#22b8cf", "#f06595",
];

/// One participant's pointer as the others are told it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pointed {
    /// The participant's session number.
    pub session: u64,
    /// Their name.
    pub name: String,
    /// The cell the pointer is in, `None` when it left the picture.
    pub cell: Option<&'static str>,
    /// Where in the cell: fractions from its top left.
    pub at: Option<[f64; 2]>,
}

impl Pointed {
    /// Session `session`'s (named `name`) pointer in `cell` at fractions `x`, `y`, checked:
    /// a known cell with both fractions within 0..=1, or no cell and no fractions. The
    /// error names the field.
    pub fn checked(
        session: u64,
        name: String,
        cell: Option<&str>,
        x: Option<f64>,
        y: Option<f64>,
    ) -> Result<Self, String> {
        let (cell, at) = match (cell, x, y) {
            (None, None, None) => (None, None),
            (None, _, _) => return Err("pointer x, y: only with a cell".to_string()),
            (Some(name), x, y) => {
                let cell = POINTER_CELLS
                    .iter()
                    .copied()
                    .find(|known| *known == name)
                    .ok_or_else(|| {
                        format!(
                            "pointer cell {:?}: one of {}",
                            name.chars().take(40).collect::<String>(),
                            POINTER_CELLS.join(", ")
                        )
                    })?;
                let fraction = |field: &str, value: Option<f64>| match value {
                    Some(v) if v.is_finite() && (0.0..=1.0).contains(&v) => Ok(v),
                    _ => Err(format!("pointer {field}: a fraction 0..=1 of the cell")),
                };
                (Some(cell), Some([fraction("x", x)?, fraction("y", y)?]))
            }
        };
        Ok(Self {
            session,
            name,
            cell,
            at,
        })
    }

    /// The colour session `session`'s pointer is drawn in (`#rrggbb`).
    pub fn colour(&self) -> &'static str {
        COLOURS[(self.session % COLOURS.len() as u64) as usize]
    }

    /// The `pointer` message the other participants are told.
    pub fn told(self) -> ServerMessage {
        ServerMessage::Pointer {
            session: self.session,
            colour: self.colour().to_string(),
            name: self.name,
            cell: self.cell.map(str::to_string),
            x: self.at.map(|[x, _]| x),
            y: self.at.map(|[_, y]| y),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_are_checked_by_field() {
        let name = || "rita".to_string();
        let inside =
            Pointed::checked(3, name(), Some("axial"), Some(0.25), Some(1.0)).expect("a pointer");
        assert_eq!((inside.cell, inside.at), (Some("axial"), Some([0.25, 1.0])));
        let left = Pointed::checked(3, name(), None, None, None).expect("the pointer left");
        assert_eq!((left.cell, left.at), (None, None));
        for (cell, x, y, field) in [
            (Some("lung"), Some(0.5), Some(0.5), "pointer cell"),
            (Some("3d"), Some(1.5), Some(0.5), "pointer x"),
            (Some("3d"), Some(0.5), Some(f64::NAN), "pointer y"),
            (Some("3d"), None, Some(0.5), "pointer x"),
            (None, Some(0.5), None, "only with a cell"),
        ] {
            let error = Pointed::checked(3, name(), cell, x, y).expect_err("refused");
            assert!(error.contains(field), "{error}");
        }
        assert_ne!(
            inside.colour(),
            Pointed {
                session: 4,
                ..inside.clone()
            }
            .colour()
        );
    }
}
