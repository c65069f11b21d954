//! The rows of the transfer texture, numbered once for Rust and WGSL: the renderer bakes
//! them by these numbers, and the ray caster reads them from constants written from this
//! enum ([`TransferRow::wgsl_constants`]), so the two cannot disagree.

/// A row of the transfer texture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum TransferRow {
    /// The preset's colour and opacity as baked.
    Baked = 0,
    /// The gradient opacity's factors.
    Gradient = 1,
    /// The colour with the opacity already corrected for the frame's sample distance.
    Corrected = 2,
}

impl TransferRow {
    /// Every row, in number order.
    pub const ALL: [TransferRow; 3] = [Self::Baked, Self::Gradient, Self::Corrected];
    /// How many rows the texture has.
    pub const COUNT: u32 = Self::ALL.len() as u32;

    /// The row's index in the texture.
    pub fn index(self) -> u32 {
        self as u32
    }

    /// The WGSL constant that names this row.
    fn constant_name(self) -> &'static str {
        match self {
            Self::Baked => "TRANSFER_ROW",
            Self::Gradient => "GRADIENT_ROW",
            Self::Corrected => "CORRECTED_ROW",
        }
    }

    /// WGSL source declaring one constant per row (`const GRADIENT_ROW: i32 = 1;` …) and
    /// the row count (`TRANSFER_ROWS`), put before the ray caster.
    pub fn wgsl_constants() -> String {
        let rows: String = Self::ALL
            .iter()
            .map(|row| format!("const {}: i32 = {};\n", row.constant_name(), row.index()))
            .collect();
        format!("{rows}const TRANSFER_ROWS: i32 = {};\n", Self::COUNT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_declared_for_the_shaders_by_its_own_number() {
        let wgsl = TransferRow::wgsl_constants();
        assert!(wgsl.contains("const TRANSFER_ROW: i32 = 0;"), "{wgsl}");
        assert!(wgsl.contains("const GRADIENT_ROW: i32 = 1;"), "{wgsl}");
        assert!(wgsl.contains("const CORRECTED_ROW: i32 = 2;"), "{wgsl}");
        assert!(wgsl.contains("const TRANSFER_ROWS: i32 = 3;"), "{wgsl}");
    }
}
