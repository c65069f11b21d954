//! Why a model was not taken or did not run.

/// Why a model was not taken or did not run; each names what it refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read, or is larger than a model may be.
    #[error("{file}: {why}")]
    File {
        /// The model's file.
        file: String,
        /// Why.
        why: String,
    },
    /// The file is not a model tract reads.
    #[error("{file}: not an ONNX model this program runs: {why}")]
    NotAModel {
        /// The model's file.
        file: String,
        /// tract's reason.
        why: String,
    },
    /// The model's input or output is not what a segmentation model here must have.
    #[error("{file}: {what}")]
    Shape {
        /// The model's file.
        file: String,
        /// What is wrong, naming the input or output.
        what: String,
    },
    /// The model failed on a patch.
    #[error("the model failed on the patch at voxel {at:?}: {why}")]
    Run {
        /// The patch's first voxel (i, j, k).
        at: [usize; 3],
        /// tract's reason.
        why: String,
    },
    /// The run was stopped before it ended.
    #[error("the model's run was stopped after {done} of {total} patches")]
    Stopped {
        /// Patches done.
        done: usize,
        /// Patches in all.
        total: usize,
    },
}
