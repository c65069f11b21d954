//! The 3D view's light as `render` and `movie` take it.

use render_core::view::{LightDirection, Lighting};

/// `--light`, `--shadows` and `--occlusion`: where the light comes from, and whether it
/// casts shadows and darkens hollows (composite mode, with a preset that shades).
#[derive(Debug, Clone, clap::Args)]
pub struct LightArgs {
    /// Where the 3D view's light comes from: head (from the eye, the default), a side of
    /// the patient (anterior, posterior, left, right, superior, inferior), or a vector
    /// X,Y,Z (LPS, towards the light). A side or a vector stays on the patient as the
    /// camera turns.
    #[arg(
        long,
        default_value = "head",
        value_parser = LightDirection::parse,
        allow_hyphen_values = true,
        value_name = "head|SIDE|X,Y,Z"
    )]
    pub light: LightDirection,
    /// What lies between a point and the light shades it.
    #[arg(long)]
    pub shadows: bool,
    /// Ambient occlusion: creases and hollows darken, open faces do not.
    #[arg(long)]
    pub occlusion: bool,
}

impl LightArgs {
    /// The lighting they describe.
    pub fn lighting(&self) -> Lighting {
        Lighting {
            direction: self.light,
            shadows: self.shadows,
            occlusion: self.occlusion,
            // `render --cinematic` path traces on its own terms.
            cinematic: false,
        }
    }
}
