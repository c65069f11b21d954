// Multiplanar reformat: each pixel samples the volume on a plane in patient space (or
// several planes across a slab), then maps the value through the grey window.

struct Params {
    // LPS (mm) -> texture coordinates.
    lps_to_tex: mat4x4<f32>,
    // LPS of the top-left corner of the image (pixel edge, not centre).
    origin: vec4<f32>,
    // One pixel to the right and one pixel down, in LPS mm.
    right: vec4<f32>,
    down: vec4<f32>,
    // One slab step along the plane's normal (LPS mm).
    slab_step: vec4<f32>,
    // Stored value -> grey (scale, offset).
    grey_scale: f32,
    grey_offset: f32,
    // MODE_MIP, MODE_MINIP or MODE_AVERAGE (numbered in Rust, see shader_mode.rs).
    slab_mode: u32,
    // Samples across the slab (1 for a thin slice).
    slab_samples: u32,
    background: vec4<f32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var volume: texture_3d<f32>;
@group(0) @binding(2) var volume_sampler: sampler;

fn inside(p: vec3<f32>) -> bool {
    return all(p >= vec3<f32>(0.0)) && all(p <= vec3<f32>(1.0));
}

@fragment
fn fs_main(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
    let centre = params.origin.xyz + params.right.xyz * position.x + params.down.xyz * position.y;
    let samples = max(params.slab_samples, 1u);
    let mode = params.slab_mode;
    var extreme = select(3.0e38, -3.0e38, mode == MODE_MIP);
    var sum = 0.0;
    var count = 0.0;
    let first = -0.5 * f32(samples - 1u);
    for (var n = 0u; n < samples; n++) {
        let lps = centre + params.slab_step.xyz * (first + f32(n));
        let p = (params.lps_to_tex * vec4<f32>(lps, 1.0)).xyz;
        if inside(p) {
            let v = textureSampleLevel(volume, volume_sampler, p, 0.0).r;
            extreme = select(min(extreme, v), max(extreme, v), mode == MODE_MIP);
            sum += v;
            count += 1.0;
        }
    }
    if count == 0.0 {
        return vec4<f32>(params.background.rgb, 1.0);
    }
    var v = extreme;
    if mode == MODE_AVERAGE {
        v = sum / count;
    }
    let grey = clamp(v * params.grey_scale + params.grey_offset, 0.0, 1.0);
    return vec4<f32>(grey, grey, grey, 1.0);
}
