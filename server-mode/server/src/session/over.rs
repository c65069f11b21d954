//! A second series drawn over the open one's slice cells (`over`): the checks of its
//! style, made here alone, and the session's copy of what it draws.

use render_core::Window;
use render_core::colour_map::ColourMap;
use render_core::fusion::{Fusion, SeriesOver};

use hounsfield_protocol::{OverLink, OverRequest, OverShown, WindowInfo};
use render_core::view::series_link::SeriesLink;

use super::input::{bad_value, not_open};
use super::{Pending, Refusal, Session};

/// A series drawn over the open one: its id, how it is drawn, and a PET's SUV a Bq/ml.
#[derive(Debug, Clone)]
pub struct ShownOver {
    /// Its id.
    pub id: String,
    /// How it is drawn.
    pub drawn: SeriesOver,
    /// SUV (body weight) a Bq/ml, for a PET whose header gives what it is computed from.
    pub suv_factor: Option<f64>,
}

impl ShownOver {
    /// As the `over` reply tells it.
    fn told(&self) -> OverShown {
        let fusion = &self.drawn.fusion;
        OverShown {
            series: self.id.clone(),
            modality: self.drawn.volume.modality.code().to_string(),
            colour_map: fusion.colours.name().to_string(),
            opacity: fusion.opacity,
            window: WindowInfo {
                width: fusion.window.width,
                center: fusion.window.center,
            },
            link: match self.drawn.link {
                SeriesLink::SameFrame => OverLink::SameFrame,
                SeriesLink::Offset(_) => OverLink::Centres,
            },
        }
    }
}

/// What an `over` request changes of the style, each field checked: a known colour map,
/// an opacity of 0 to 1, a window of positive finite width about a finite centre.
#[derive(Debug, Clone, Copy, Default)]
pub struct OverStyle {
    colours: Option<ColourMap>,
    opacity: Option<f64>,
    window: Option<Window>,
}

impl OverStyle {
    /// The changes `request` asks for, or a refusal naming the field out of bounds.
    pub fn checked(request: &OverRequest) -> Result<Self, Refusal> {
        let colours = match &request.colour_map {
            Some(name) => Some(ColourMap::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = ColourMap::ALL.iter().map(|map| map.name()).collect();
                bad_value(format!(
                    "over: colour_map \"{}\" is not one of {}",
                    name.chars().take(40).collect::<String>(),
                    known.join(", ")
                ))
            })?),
            None => None,
        };
        if let Some(opacity) = request.opacity
            && !(opacity.is_finite() && (0.0..=1.0).contains(&opacity))
        {
            return Err(bad_value(format!(
                "over: opacity {opacity} is not between 0 and 1"
            )));
        }
        if let Some(window) = request.window
            && !(window.width.is_finite() && window.width > 0.0 && window.center.is_finite())
        {
            return Err(bad_value(format!(
                "over: window {} wide about {} is not a positive finite width about a finite centre",
                window.width, window.center
            )));
        }
        Ok(Self {
            colours,
            opacity: request.opacity,
            window: request.window.map(|window| Window {
                width: window.width,
                center: window.center,
            }),
        })
    }

    /// `start` (the style drawn now, or a new series' first) with these changes.
    pub fn applied_to(self, start: Fusion) -> Fusion {
        Fusion {
            colours: self.colours.unwrap_or(start.colours),
            opacity: self.opacity.unwrap_or(start.opacity),
            window: self.window.unwrap_or(start.window),
            nearest: start.nearest,
        }
    }
}

impl Session {
    /// The series drawn over the open one, if any.
    pub fn over(&self) -> Option<&ShownOver> {
        self.open.as_ref()?.over.as_ref()
    }

    /// Draws `over` over the open series' slice cells from the next frame on, or nothing
    /// over them; what the `over` reply tells.
    pub fn show_over(&mut self, over: Option<ShownOver>) -> Result<Option<OverShown>, Refusal> {
        let open = self.open.as_mut().ok_or_else(not_open)?;
        if let Some(shown) = &over
            && shown.id == open.id
        {
            return Err(bad_value(format!(
                "over: series {} is the series open; choose another",
                shown.id
            )));
        }
        open.over = over;
        let told = open.over.as_ref().map(ShownOver::told);
        self.mark(Pending::Final);
        Ok(told)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> Fusion {
        Fusion {
            colours: ColourMap::Hot,
            opacity: 0.5,
            window: Window {
                width: 10.0,
                center: 5.0,
            },
            nearest: false,
        }
    }

    #[test]
    fn each_field_changes_its_own_part_and_the_rest_stays() {
        let request = OverRequest {
            colour_map: Some("Rainbow".into()),
            ..OverRequest::default()
        };
        let fusion = OverStyle::checked(&request)
            .expect("a known map")
            .applied_to(start());
        assert_eq!(fusion.colours, ColourMap::Rainbow);
        assert_eq!(fusion.opacity, 0.5);
        let request = OverRequest {
            opacity: Some(1.0),
            window: Some(WindowInfo {
                width: 4.0,
                center: -2.0,
            }),
            ..OverRequest::default()
        };
        let fusion = OverStyle::checked(&request)
            .expect("in range")
            .applied_to(start());
        assert_eq!((fusion.opacity, fusion.window.width), (1.0, 4.0));
    }

    #[test]
    fn a_style_out_of_bounds_is_refused_naming_its_field() {
        for (request, field) in [
            (
                OverRequest {
                    colour_map: Some("jet".into()),
                    ..OverRequest::default()
                },
                "colour_map",
            ),
            (
                OverRequest {
                    opacity: Some(1.5),
                    ..OverRequest::default()
                },
                "opacity",
            ),
            (
                OverRequest {
                    opacity: Some(f64::NAN),
                    ..OverRequest::default()
                },
                "opacity",
            ),
            (
                OverRequest {
                    window: Some(WindowInfo {
                        width: 0.0,
                        center: 1.0,
                    }),
                    ..OverRequest::default()
                },
                "window",
            ),
        ] {
            let refusal = OverStyle::checked(&request).expect_err("out of bounds");
            assert!(refusal.message.contains(field), "{}", refusal.message);
        }
    }
}
