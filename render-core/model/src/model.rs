//! The model read and checked, and its run over a volume patch by patch.

use std::path::Path;

use hounsfield_files::{SmallFileError, read_at_most};
use hounsfield_volume::Volume;
use tract_onnx::prelude::*;

use crate::ModelError;

/// The largest model file read (bytes): the site's models are tens to hundreds of MB.
pub const MOST_MODEL_BYTES: u64 = 1 << 30;
/// The longest side of a patch (voxels).
pub const MOST_PATCH_SIDE: usize = 512;
/// The most voxels a patch holds (the model's input: 4 bytes a voxel).
pub const MOST_PATCH_VOXELS: usize = 16 << 20;
/// The most classes a model may give (the background and, at most, the 32 segments a
/// series keeps).
pub const MOST_CLASSES: usize = 33;

/// A segmentation model ready to run.
pub struct SegmentationModel {
    plan: std::sync::Arc<TypedRunnableModel>,
    /// The patch it takes: (D, H, W), along the volume's k, j and i.
    patch: [usize; 3],
    /// How many classes it scores.
    classes: usize,
    /// Its name: the file's stem.
    name: String,
}

impl std::fmt::Debug for SegmentationModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentationModel")
            .field("name", &self.name)
            .field("patch", &self.patch)
            .field("classes", &self.classes)
            .finish_non_exhaustive()
    }
}

/// The concrete shape of `fact`, or what is wrong with it (`what`: input or output).
fn concrete(fact: &TypedFact, file: &str, what: &str) -> Result<Vec<usize>, ModelError> {
    fact.shape
        .as_concrete()
        .map(<[usize]>::to_vec)
        .ok_or_else(|| ModelError::Shape {
            file: file.to_string(),
            what: format!(
                "its {what} has no fixed shape ({:?}): give the patch's size in the file",
                fact.shape
            ),
        })
}

impl SegmentationModel {
    /// Reads the model at `path` (at most [`MOST_MODEL_BYTES`]) and checks it: one input
    /// `[1, 1, D, H, W]` of f32 (each side 1 to [`MOST_PATCH_SIDE`], at most
    /// [`MOST_PATCH_VOXELS`] in all) and a first output `[1, C, D, H, W]` of f32 with 2 to
    /// [`MOST_CLASSES`] classes.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let file = path.display().to_string();
        let bytes = read_at_most(path, MOST_MODEL_BYTES).map_err(|error| ModelError::File {
            file: file.clone(),
            why: match error {
                SmallFileError::TooLarge(size) => {
                    format!("{size} bytes, larger than a model may be ({MOST_MODEL_BYTES} bytes)")
                }
                SmallFileError::Io(error) => error.to_string(),
            },
        })?;
        let not_a_model = |why: TractError| ModelError::NotAModel {
            file: file.clone(),
            why: format!("{why:#}"),
        };
        let model = tract_onnx::onnx()
            .model_for_read(&mut bytes.as_slice())
            .and_then(|model| model.into_typed())
            .map_err(not_a_model)?;
        let shape_error = |what: String| ModelError::Shape {
            file: file.clone(),
            what,
        };
        if model.inputs.len() != 1 {
            return Err(shape_error(format!(
                "it takes {} inputs: a segmentation model takes one, the patch",
                model.inputs.len()
            )));
        }
        let input = model.input_fact(0).map_err(not_a_model)?;
        let output = model.output_fact(0).map_err(not_a_model)?;
        if input.datum_type != f32::datum_type() || output.datum_type != f32::datum_type() {
            return Err(shape_error(format!(
                "its input is {:?} and its output {:?}: both must be f32",
                input.datum_type, output.datum_type
            )));
        }
        let input_shape = concrete(input, &file, "input")?;
        let output_shape = concrete(output, &file, "output")?;
        let patch = match input_shape.as_slice() {
            [1, 1, d, h, w] => [*d, *h, *w],
            other => {
                return Err(shape_error(format!(
                    "its input is {other:?}: it must be [1, 1, D, H, W] (one patch of one channel)"
                )));
            }
        };
        if patch
            .iter()
            .any(|&side| side == 0 || side > MOST_PATCH_SIDE)
            || patch.iter().product::<usize>() > MOST_PATCH_VOXELS
        {
            return Err(shape_error(format!(
                "its patch {patch:?} is out of bounds: each side 1 to {MOST_PATCH_SIDE}, at most {MOST_PATCH_VOXELS} voxels"
            )));
        }
        let classes = match output_shape.as_slice() {
            [1, classes, d, h, w] if [*d, *h, *w] == patch => *classes,
            other => {
                return Err(shape_error(format!(
                    "its output is {other:?}: it must be [1, C, {}, {}, {}] (a score a class for each voxel of the patch)",
                    patch[0], patch[1], patch[2]
                )));
            }
        };
        if !(2..=MOST_CLASSES).contains(&classes) {
            return Err(shape_error(format!(
                "it gives {classes} classes: 2 to {MOST_CLASSES} (the background and a segment each)"
            )));
        }
        let plan = model
            .into_optimized()
            .and_then(|model| model.into_runnable())
            .map_err(not_a_model)?;
        let name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".to_string());
        Ok(Self {
            plan,
            patch,
            classes,
            name,
        })
    }

    /// Its name (the file's stem).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The patch it takes: (D, H, W) along the volume's k, j and i.
    pub fn patch(&self) -> [usize; 3] {
        self.patch
    }

    /// How many classes it scores (the background first).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// How many patches cover `volume`.
    pub fn patches_over(&self, volume: &Volume) -> usize {
        let [ni, nj, nk] = volume.dims;
        let [d, h, w] = self.patch;
        nk.div_ceil(d) * nj.div_ceil(h) * ni.div_ceil(w)
    }

    /// Runs the model over `volume` in patches (the series' values as they are, HU for a
    /// CT; past the volume's edge, its last voxel's value) and gives each voxel the class
    /// of its highest score (the first on a tie). After each patch `go_on(done, total)`
    /// says whether to go on; the run stops with [`ModelError::Stopped`] when it says no.
    pub fn run(
        &self,
        volume: &Volume,
        go_on: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Vec<u8>, ModelError> {
        let [ni, nj, nk] = volume.dims;
        let [d, h, w] = self.patch;
        let total = self.patches_over(volume);
        let mut labels = vec![0u8; volume.voxels.len()];
        let mut input = vec![0f32; d * h * w];
        let mut done = 0;
        for k0 in (0..nk).step_by(d) {
            for j0 in (0..nj).step_by(h) {
                for i0 in (0..ni).step_by(w) {
                    // The patch's values, the edge's repeated past it.
                    for (at, value) in input.iter_mut().enumerate() {
                        let (z, y, x) = (at / (h * w), (at / w) % h, at % w);
                        let (i, j, k) = (
                            (i0 + x).min(ni - 1),
                            (j0 + y).min(nj - 1),
                            (k0 + z).min(nk - 1),
                        );
                        *value = volume.voxels.get(i + ni * (j + nj * k)).unwrap_or(0.0) as f32;
                    }
                    let run_error = |why: TractError| ModelError::Run {
                        at: [i0, j0, k0],
                        why: format!("{why:#}"),
                    };
                    let tensor = Tensor::from_shape(&[1, 1, d, h, w], &input).map_err(run_error)?;
                    let outputs = self.plan.run(tvec!(tensor.into())).map_err(run_error)?;
                    let scores = outputs
                        .first()
                        .ok_or_else(|| ModelError::Run {
                            at: [i0, j0, k0],
                            why: "the model gave no output".to_string(),
                        })?
                        .to_plain_array_view::<f32>()
                        .map_err(run_error)?;
                    for z in 0..d.min(nk - k0) {
                        for y in 0..h.min(nj - j0) {
                            for x in 0..w.min(ni - i0) {
                                let mut best = (0usize, f32::NEG_INFINITY);
                                for class in 0..self.classes {
                                    let score = scores[[0, class, z, y, x]];
                                    if score > best.1 {
                                        best = (class, score);
                                    }
                                }
                                let index = (i0 + x) + ni * ((j0 + y) + nj * (k0 + z));
                                labels[index] = best.0 as u8;
                            }
                        }
                    }
                    done += 1;
                    if !go_on(done, total) {
                        return Err(ModelError::Stopped { done, total });
                    }
                }
            }
        }
        Ok(labels)
    }
}
