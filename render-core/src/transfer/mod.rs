//! Transfer functions: presets as data, baked into lookup tables for the GPU.
