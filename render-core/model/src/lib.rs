//! A segmentation model the site provides, run where the volume is: an ONNX file read
//! within its size, checked to take one patch of the series' values (`[1, 1, D, H, W]`,
//! f32) and to give a score a class for each of its voxels (`[1, C, D, H, W]`), run
//! patch by patch over the volume by tract (a pure-Rust inference engine: nothing to
//! install, nothing downloaded) with progress and a way to stop, each voxel taking the
//! class of its highest score. Classes other than the first (the background) become
//! segments, made AUTOMATIC by the model's name. No model ships with the product.

mod classes;
mod error;
mod model;

pub use classes::segments_of;
pub use error::ModelError;
pub use model::{
    MOST_CLASSES, MOST_MODEL_BYTES, MOST_PATCH_SIDE, MOST_PATCH_VOXELS, SegmentationModel,
};
