//! Colour maps for a series drawn over another (a PET over its CT, a perfusion map over
//! an anatomical MR): a value's place in its window, 0 to 1, to a colour.

/// How a series drawn over another is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourMap {
    /// Black through red and yellow to white (the PET reader's map).
    Hot,
    /// Blue through cyan, green and yellow to red.
    Rainbow,
    /// Black to white.
    Grey,
}

impl ColourMap {
    /// Every map, in the order menus list them.
    pub const ALL: [ColourMap; 3] = [ColourMap::Hot, ColourMap::Rainbow, ColourMap::Grey];

    /// The map of a name (`hot`, `rainbow`, `grey` or `gray`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "hot" => Some(ColourMap::Hot),
            "rainbow" => Some(ColourMap::Rainbow),
            "grey" | "gray" => Some(ColourMap::Grey),
            _ => None,
        }
    }

    /// The map's name.
    pub fn name(self) -> &'static str {
        match self {
            ColourMap::Hot => "hot",
            ColourMap::Rainbow => "rainbow",
            ColourMap::Grey => "grey",
        }
    }

    /// The colour (red, green, blue, each 0 to 1) at `t`, clamped to 0 to 1.
    pub fn rgb(self, t: f64) -> [f64; 3] {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        match self {
            // Red rises over the first third, green the second, blue the last.
            ColourMap::Hot => [
                (t * 3.0).min(1.0),
                (t * 3.0 - 1.0).clamp(0.0, 1.0),
                (t * 3.0 - 2.0).clamp(0.0, 1.0),
            ],
            // The hue turns from blue (240°) to red (0°) at full saturation and value.
            ColourMap::Rainbow => {
                let hue = (1.0 - t) * 4.0;
                let rising = hue.fract();
                match hue as u32 {
                    0 => [1.0, rising, 0.0],
                    1 => [1.0 - rising, 1.0, 0.0],
                    2 => [0.0, 1.0, rising],
                    3 => [0.0, 1.0 - rising, 1.0],
                    _ => [0.0, 0.0, 1.0],
                }
            }
            ColourMap::Grey => [t, t, t],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maps_run_from_their_first_colour_to_their_last() {
        assert_eq!(ColourMap::Hot.rgb(0.0), [0.0, 0.0, 0.0]);
        assert_eq!(ColourMap::Hot.rgb(1.0 / 3.0), [1.0, 0.0, 0.0]);
        assert_eq!(ColourMap::Hot.rgb(1.0), [1.0, 1.0, 1.0]);
        assert_eq!(ColourMap::Rainbow.rgb(0.0), [0.0, 0.0, 1.0]);
        assert_eq!(ColourMap::Rainbow.rgb(0.5), [0.0, 1.0, 0.0]);
        assert_eq!(ColourMap::Rainbow.rgb(1.0), [1.0, 0.0, 0.0]);
        assert_eq!(ColourMap::Grey.rgb(0.25), [0.25, 0.25, 0.25]);
        assert_eq!(ColourMap::Grey.rgb(7.0), [1.0, 1.0, 1.0], "clamped");
        for map in ColourMap::ALL {
            assert_eq!(ColourMap::from_name(map.name()), Some(map));
        }
    }
}
