//! What the workstation does without a window, shared by the command line, the desktop
//! window and the benchmarks: who signs what they write ([`authorship`]), a study opened from a folder, a file, a DICOMDIR or a
//! DICOMweb URL ([`source`]), renderers and the render thread as they are made here
//! ([`renderer`]), a movie of a volume written to an MP4 file ([`movie`]), and the
//! command line's values read from their text ([`values`]); what each program does first
//! ([`startup`], [`heap`]); frames timed as the benchmarks and `doctor` time them
//! ([`timing`]).

pub mod authorship;
pub mod heap;
pub mod movie;
pub mod renderer;
pub mod source;
pub mod startup;
pub mod timing;
pub mod values;
