//! How the samples along a ray (or across a slab) combine into a pixel, numbered once for
//! every shader: the ray caster and the reformat read the numbers from WGSL constants
//! written from this enum ([`ShaderMode::wgsl_constants`]), so they cannot disagree.

use crate::transfer::RenderMode;
use crate::view::SlabMode;

/// A way of combining samples, as the shaders number it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ShaderMode {
    /// Front-to-back compositing through the transfer function (3D only).
    Composite = 0,
    /// Maximum intensity projection.
    Mip = 1,
    /// Minimum intensity projection.
    Minip = 2,
    /// The mean of the samples.
    Average = 3,
}

impl ShaderMode {
    /// Every mode, in number order.
    pub const ALL: [ShaderMode; 4] = [Self::Composite, Self::Mip, Self::Minip, Self::Average];

    /// The number the shaders compare with.
    pub fn number(self) -> u32 {
        self as u32
    }

    /// The WGSL constant that names this mode's number.
    fn constant_name(self) -> &'static str {
        match self {
            Self::Composite => "MODE_COMPOSITE",
            Self::Mip => "MODE_MIP",
            Self::Minip => "MODE_MINIP",
            Self::Average => "MODE_AVERAGE",
        }
    }

    /// WGSL source declaring one constant per mode (`const MODE_MIP: u32 = 1u;` …), put
    /// before the shaders that compare modes.
    pub fn wgsl_constants() -> String {
        Self::ALL
            .iter()
            .map(|mode| {
                format!(
                    "const {}: u32 = {}u;\n",
                    mode.constant_name(),
                    mode.number()
                )
            })
            .collect()
    }
}

impl From<RenderMode> for ShaderMode {
    fn from(mode: RenderMode) -> Self {
        match mode {
            RenderMode::Composite => Self::Composite,
            RenderMode::Mip => Self::Mip,
            RenderMode::Minip => Self::Minip,
            RenderMode::Average => Self::Average,
        }
    }
}

impl From<SlabMode> for ShaderMode {
    fn from(mode: SlabMode) -> Self {
        match mode {
            SlabMode::Mip => Self::Mip,
            SlabMode::Minip => Self::Minip,
            SlabMode::Average => Self::Average,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_has_its_own_number_and_constant() {
        let constants = ShaderMode::wgsl_constants();
        for mode in ShaderMode::ALL {
            let line = format!("const {}: u32 = {}u;", mode.constant_name(), mode.number());
            assert!(constants.contains(&line), "{constants}");
        }
        let mut numbers: Vec<u32> = ShaderMode::ALL.iter().map(|m| m.number()).collect();
        numbers.dedup();
        assert_eq!(numbers.len(), ShaderMode::ALL.len());
    }

    #[test]
    fn slab_and_render_modes_meet_on_one_number() {
        assert_eq!(
            ShaderMode::from(SlabMode::Mip),
            ShaderMode::from(RenderMode::Mip)
        );
        assert_eq!(
            ShaderMode::from(SlabMode::Minip),
            ShaderMode::from(RenderMode::Minip)
        );
        assert_eq!(
            ShaderMode::from(SlabMode::Average),
            ShaderMode::from(RenderMode::Average)
        );
    }
}
