// Volume ray casting: one ray per pixel, marched front to back through the volume's
// 3D texture. It runs as a fragment shader over a full-screen triangle (a software
// rasteriser runs it fastest so) or as a compute shader, one invocation a pixel, writing
// the frame as a storage texture (datacentre GPUs run fragment shaders on a few of their
// multiprocessors only, compute shaders on all of them): see `RayDispatch`. Positions
// are in texture coordinates (0..1 across the volume); distances along a ray are in
// millimetres of patient space, so the step and the opacity correction do not depend on
// the voxel size.

struct Params {
    // Clip space -> LPS (mm).
    inv_view_proj: mat4x4<f32>,
    // LPS (mm) -> texture coordinates.
    lps_to_tex: mat4x4<f32>,
    // A direction across voxel indices -> a surface normal's LPS direction (shades the
    // segments).
    index_normal_to_lps: mat4x4<f32>,
    // The crop box, in texture coordinates.
    crop_min: vec4<f32>,
    crop_max: vec4<f32>,
    // Texture coordinate -> brick index (dims / brick size); w unused.
    brick_scale: vec4<f32>,
    // Bricks along each axis, as floats.
    brick_count: vec4<f32>,
    // Volume texture coordinate -> gradient texture coordinate (a gradient texel holds a
    // cell of voxels); w unused.
    gradient_coordinate_scale: vec4<f32>,
    // Stored value -> transfer-function texture coordinate (scale, offset).
    transfer_scale: f32,
    transfer_offset: f32,
    // Stored value -> grey level for the projection modes (scale, offset).
    grey_scale: f32,
    grey_offset: f32,
    // Blinn-Phong terms.
    ambient: f32,
    diffuse: f32,
    specular: f32,
    specular_power: f32,
    // The distance between samples (mm), that step over the opacity unit distance (the
    // opacity correction's exponent, applied here only with gradient opacity: otherwise
    // the transfer texture's corrected row holds it), the opacity at which a ray stops,
    // and how far a ray's start is jittered (0 or 1 step).
    step_mm: f32,
    step_per_opacity_unit: f32,
    early_termination_alpha: f32,
    jitter_steps: f32,
    // Gradient magnitude (stored units per mm) -> gradient-opacity texture coordinate, and
    // the magnitude an encoded gradient of length 1 stands for.
    gradient_opacity_scale: f32,
    gradient_full_scale: f32,
    // The rows a compute dispatch draws: the first, and one past the last.
    rows: vec2<f32>,
    // Render target width and height, and their reciprocals.
    viewport_size: vec2<f32>,
    viewport_inverse: vec2<f32>,
    // Background colour.
    background: vec4<f32>,
    // Towards the light (LPS, unit); w 1 for the headlight (along each ray instead).
    light: vec4<f32>,
    // A shadow ray's sample distance (mm) over the view ray's (each of its samples
    // stands for that many of the corrected row's), its sample distance (mm), how far it
    // reaches (mm), and how far (mm) it starts off the surface, towards the eye's side.
    shadow_step_ratio: f32,
    shadow_step_mm: f32,
    shadow_reach_mm: f32,
    surface_offset_mm: f32,
    // How far (mm) ambient occlusion looks round a point for what hides it; w unused.
    occlusion_radius_mm: vec4<f32>,
    // With OVER: the volume's texture coordinates -> the series drawn over's.
    tex_to_over_tex: mat4x4<f32>,
    // With OVER: its stored value -> place in its window (scale, offset), its opacity, and
    // the distance between its samples along a ray (mm).
    over_style: vec4<f32>,
}

// Each combination of these is a pipeline of its own, so a render runs only the code it
// needs (software rasterisers execute both sides of a branch).
// One of the MODE_* constants (numbered in Rust, see shader_mode.rs).
override MODE: u32 = MODE_COMPOSITE;
// Blinn-Phong shading (composite).
override SHADING: bool = true;
// Opacity modulated by the gradient magnitude (composite).
override GRADIENT_OPACITY: bool = false;
// The series' segments (composite): 0 not drawn, 1 drawn inside the volume rendering,
// 2 drawn alone (SegmentsDrawn in Rust).
override SEGMENTS: u32 = 0u;
// With SHADING: what lies between a sample and the light shades it (a shadow ray).
override SHADOWS: bool = false;
// With SHADING: a sample is darkened by what surrounds it on its open side (ambient
// occlusion).
override OCCLUSION: bool = false;
// A second series drawn over the picture, every mode: its maximum intensity projection
// through the crop box, windowed, coloured and blended at its opacity.
override OVER: bool = false;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var volume: texture_3d<f32>;
@group(0) @binding(2) var volume_sampler: sampler;
@group(0) @binding(3) var transfer: texture_2d<f32>;
@group(0) @binding(4) var transfer_sampler: sampler;
// Per brick, the Chebyshev distance (in bricks) to the nearest brick that can contribute;
// 0 for such a brick.
@group(0) @binding(5) var bricks: texture_3d<u32>;
// The volume's gradients, a texel per cell of voxels (see gradients.rs), when the render
// shades.
@group(0) @binding(6) var gradients: texture_3d<f32>;
// Which segment each voxel shows (0: none), on the volume texture's grid, and each
// label's colour and opacity (see segment_labels.rs).
@group(0) @binding(7) var labels: texture_3d<u32>;
@group(0) @binding(8) var palette: texture_2d<f32>;
// With OVER: the series drawn over (its own grid) and its colour map (a row of texels,
// place 0 to 1 in its window).
@group(0) @binding(9) var over_volume: texture_3d<f32>;
@group(0) @binding(10) var over_colours: texture_2d<f32>;

struct Ray {
    // Entry point's parameter and exit parameter (mm).
    t_enter: f32,
    t_exit: f32,
    // Origin and direction in texture coordinates (direction: per mm).
    origin: vec3<f32>,
    dir: vec3<f32>,
    inv_dir: vec3<f32>,
    // Direction in LPS (unit).
    dir_lps: vec3<f32>,
}

// The transfer texture's rows (TRANSFER_ROW, GRADIENT_ROW, CORRECTED_ROW, numbered in
// Rust, see transfer_rows.rs): the preset's colour and opacity, the gradient opacity's
// factors, and the colour with the opacity already corrected for this frame's sample
// distance (written by the renderer when the distance changes).

// The transfer function's entry nearest to a stored value (the table is fine enough that
// filtering between entries changes nothing visible, and a plain load is cheaper), from
// `row`.
fn transfer_entry(stored: f32, row: i32) -> vec4<f32> {
    let entries = f32(textureDimensions(transfer).x);
    let index = clamp((stored * params.transfer_scale + params.transfer_offset) * entries, 0.0, entries - 1.0);
    return textureLoad(transfer, vec2<i32>(i32(index), row), 0);
}

fn value_at(p: vec3<f32>) -> f32 {
    return textureSampleLevel(volume, volume_sampler, p, 0.0).r;
}

// A stable pseudo-random offset per pixel, so rays start at different depths and
// sampling rings do not line up (and images stay reproducible).
fn jitter(pixel: vec2<f32>) -> f32 {
    var p3 = fract(vec3<f32>(pixel.x, pixel.y, pixel.x) * 0.1031);
    p3 += dot(p3, p3.yzx + 33.33);
    return fract((p3.x + p3.y) * p3.z);
}

fn make_ray(pixel: vec2<f32>) -> Ray {
    let ndc = vec2<f32>(pixel.x * params.viewport_inverse.x * 2.0 - 1.0, 1.0 - pixel.y * params.viewport_inverse.y * 2.0);
    let near_h = params.inv_view_proj * vec4<f32>(ndc, 0.0, 1.0);
    let far_h = params.inv_view_proj * vec4<f32>(ndc, 1.0, 1.0);
    let near = near_h.xyz / near_h.w;
    let far = far_h.xyz / far_h.w;
    return ray_from((params.lps_to_tex * vec4<f32>(near, 1.0)).xyz, normalize(far - near));
}

// The ray from texture position `origin` along `direction` (LPS, unit) through the crop
// box: where it enters it (0 when it starts inside) and leaves it. View rays, shadow rays
// and the cinematic paths' rays alike.
fn ray_from(origin: vec3<f32>, direction: vec3<f32>) -> Ray {
    var ray: Ray;
    ray.origin = origin;
    ray.dir_lps = direction;
    ray.dir = lps_step(direction);
    let tiny = vec3<f32>(1e-12);
    ray.inv_dir = 1.0 / select(ray.dir, tiny, abs(ray.dir) < tiny);
    let t0 = (params.crop_min.xyz - origin) * ray.inv_dir;
    let t1 = (params.crop_max.xyz - origin) * ray.inv_dir;
    let lo = min(t0, t1);
    let hi = max(t0, t1);
    ray.t_enter = max(max(max(lo.x, lo.y), lo.z), 0.0);
    ray.t_exit = min(min(hi.x, hi.y), hi.z);
    return ray;
}

// The brick holding texture position `p`.
fn brick_of(p: vec3<f32>) -> vec3<i32> {
    let b = clamp(floor(p * params.brick_scale.xyz), vec3<f32>(0.0), params.brick_count.xyz - 1.0);
    return vec3<i32>(b);
}

// The ray parameter where the ray leaves the cube of bricks within `reach − 1` of brick
// `b` (with `reach` = 1, brick `b` itself).
fn leap_exit(ray: Ray, b: vec3<i32>, reach: u32) -> f32 {
    let r = f32(reach);
    let lo = (vec3<f32>(b) - (r - 1.0)) / params.brick_scale.xyz;
    let hi = (vec3<f32>(b) + r) / params.brick_scale.xyz;
    let t0 = (lo - ray.origin) * ray.inv_dir;
    let t1 = (hi - ray.origin) * ray.inv_dir;
    let far = max(t0, t1);
    return min(min(far.x, far.y), far.z);
}

// The next sample parameter at or after `t_exit`, on the ray's sample lattice.
fn skip_to(t: f32, t_exit: f32, step: f32) -> f32 {
    return t + max(ceil((t_exit - t) / step), 1.0) * step;
}

// Moves `t` past the empty bricks ahead of it (at most to just beyond the ray's exit).
// Software rasterisers run a loop for a SIMD group of pixels until every lane is done
// and execute both sides of a branch, so leaping is a loop of its own: it costs only
// while some lane still leaps, and its body is small.
fn leap(ray: Ray, start: f32, step: f32) -> f32 {
    var t = start;
    loop {
        if t > ray.t_exit {
            break;
        }
        let b = brick_of(ray.origin + ray.dir * t);
        let reach = textureLoad(bricks, b, 0).r;
        if reach == 0u {
            break;
        }
        t = skip_to(t, leap_exit(ray, b, reach), step);
    }
    return t;
}

// The label of the voxel holding texture position `p` (0 outside the volume).
fn label_of_voxel(voxel: vec3<i32>) -> u32 {
    let dims = vec3<i32>(textureDimensions(labels));
    if any(voxel < vec3<i32>(0)) || any(voxel >= dims) {
        return 0u;
    }
    return textureLoad(labels, voxel, 0).r;
}

// 1 where `voxel` shows `label`, else 0.
fn shows(voxel: vec3<i32>, label: u32) -> f32 {
    return select(0.0, 1.0, label_of_voxel(voxel) == label);
}

// How the segment `label` falls away from `voxel` along `axis`: its central differences
// over one and two voxels, summed (two reaches smooth the stairs of a voxel surface).
fn falling(voxel: vec3<i32>, label: u32, axis: vec3<i32>) -> f32 {
    return shows(voxel - axis, label) - shows(voxel + axis, label)
        + shows(voxel - 2 * axis, label) - shows(voxel + 2 * axis, label);
}

// The colour a ray takes where it enters segment `label` at voxel `voxel`: the label's
// colour lit by a headlight on the segment's own surface (its normal from the
// neighbours that show it or not).
fn segment_colour(voxel: vec3<i32>, label: u32, ray: Ray) -> vec3<f32> {
    let across = vec3<f32>(
        falling(voxel, label, vec3<i32>(1, 0, 0)),
        falling(voxel, label, vec3<i32>(0, 1, 0)),
        falling(voxel, label, vec3<i32>(0, 0, 1)),
    );
    let normal = (params.index_normal_to_lps * vec4<f32>(across, 0.0)).xyz;
    var facing = 1.0;
    if length(normal) > 1e-6 {
        facing = abs(dot(normalize(normal), ray.dir_lps));
    }
    let base = textureLoad(palette, vec2<i32>(i32(label), 0), 0).rgb;
    return base * (SEGMENT_AMBIENT + SEGMENT_DIFFUSE * facing)
        + vec3<f32>(SEGMENT_SPECULAR * pow(facing, SEGMENT_SPECULAR_POWER));
}

// Towards the light at a sample of `ray` (LPS, unit).
fn towards_light(ray: Ray) -> vec3<f32> {
    return select(params.light.xyz, -ray.dir_lps, params.light.w > 0.5);
}

// A direction in LPS (mm) as a step across texture coordinates.
fn lps_step(direction: vec3<f32>) -> vec3<f32> {
    return (params.lps_to_tex * vec4<f32>(direction, 0.0)).xyz;
}

// `rgb` of the sample at `p` lit by Blinn-Phong shading on the precomputed gradient
// (`encoded`, of length `length_encoded`): lit from either side (the normal turned
// towards the eye), with the light's shadows (SHADOWS) and the openness round the sample
// (OCCLUSION). With the headlight and neither, the light and the eye are both along the
// ray: the shading every frame had before lights could be placed. A sample without a
// gradient (inside a uniform material) takes the light that reached the ray's last
// sample with one, `reached` (the surface in front of it): a shadow ray from within the
// material would cross the material itself. A sample that adds little to the pixel (not
// `telling`: under 0.2% of it, or behind 90% opacity already) takes the light and the
// openness found last, `reached` and `opened`, instead of looking again: most of a
// frame's samples, at a small share of what their shadow rays would cost.
fn lit(rgb: vec3<f32>, p: vec3<f32>, encoded: vec3<f32>, length_encoded: f32, ray: Ray, telling: bool, reached: ptr<function, f32>, opened: ptr<function, f32>) -> vec3<f32> {
    let light = towards_light(ray);
    let eye = -ray.dir_lps;
    var facing = 1.0;
    var highlight = 1.0;
    var reaching = 1.0;
    var open = 1.0;
    if length_encoded > 1e-4 {
        let gradient = encoded / length_encoded;
        let normal = select(gradient, -gradient, dot(gradient, eye) < 0.0);
        facing = max(dot(normal, light), 0.0);
        let halfway = light + eye;
        highlight = select(0.0, max(dot(normal, normalize(halfway)), 0.0), dot(halfway, halfway) > 1e-8);
        if SHADOWS {
            if telling {
                *reached = light_reaching(p + lps_step(normal * params.surface_offset_mm), light);
            }
            reaching = *reached;
        }
        if OCCLUSION {
            if telling {
                *opened = openness(p, normal);
            }
            open = *opened;
        }
    } else {
        reaching = *reached;
        open = *opened;
    }
    return rgb * open * (params.ambient + params.diffuse * facing * reaching)
        + vec3<f32>(params.specular * pow(highlight, params.specular_power) * reaching);
}

// The share of the light that reaches texture position `p` from `light` (LPS, unit):
// the transmittance of a shadow ray marched towards it through the crop box, over the
// corrected row's opacities (each sample standing for `shadow_step_ratio` of the view
// ray's), leaping empty bricks as view rays do, and stopping once under 1%.
fn light_reaching(p: vec3<f32>, light: vec3<f32>) -> f32 {
    var shadow = ray_from(p, light);
    shadow.t_exit = min(shadow.t_exit, params.shadow_reach_mm);
    let step = params.shadow_step_mm;
    // The optical depth in the corrected row's samples: −Σ ln(1 − α).
    var depth = 0.0;
    // A transmittance of 1% (and one step of shade at most past it).
    let opaque = 4.6 / params.shadow_step_ratio;
    var t = step;
    loop {
        t = leap(shadow, t, step);
        if t > shadow.t_exit || depth > opaque {
            break;
        }
        let a = transfer_entry(value_at(shadow.origin + shadow.dir * t), CORRECTED_ROW).a;
        depth -= log(1.0 - min(a, 0.999));
        t += step;
    }
    return exp(-depth * params.shadow_step_ratio);
}

// How much of what lies at `p + direction × d`, for d a half and a whole occlusion
// radius, hides the open side (the transfer function's opacity there, per unit
// distance): 0 to 2.
fn hidden_along(p: vec3<f32>, direction: vec3<f32>) -> f32 {
    let reach = lps_step(direction * params.occlusion_radius_mm.x);
    return transfer_entry(value_at(p + reach * 0.5), TRANSFER_ROW).a
        + transfer_entry(value_at(p + reach), TRANSFER_ROW).a;
}

// How open the sample at `p` is on its side `normal` (LPS, unit, towards the eye):
// 1 less the mean opacity found along nine directions of that half space (the normal,
// four at 45° from it and four at 70°), each at a half and a whole occlusion radius. A
// flat face is open (1); a crease or a hollow is not.
fn openness(p: vec3<f32>, normal: vec3<f32>) -> f32 {
    let helper = select(vec3<f32>(1.0, 0.0, 0.0), vec3<f32>(0.0, 1.0, 0.0), abs(normal.x) > 0.9);
    let u = normalize(cross(normal, helper));
    let v = cross(normal, u);
    // cos and sin of 45°; cos 70° and sin 70° / √2.
    let c45 = 0.70710677;
    let c70 = 0.34202015;
    let s70 = 0.66446304;
    var hidden = hidden_along(p, normal);
    hidden += hidden_along(p, normal * c45 + u * c45);
    hidden += hidden_along(p, normal * c45 - u * c45);
    hidden += hidden_along(p, normal * c45 + v * c45);
    hidden += hidden_along(p, normal * c45 - v * c45);
    hidden += hidden_along(p, normal * c70 + (u + v) * s70);
    hidden += hidden_along(p, normal * c70 + (u - v) * s70);
    hidden += hidden_along(p, normal * c70 - (u + v) * s70);
    hidden += hidden_along(p, normal * c70 - (u - v) * s70);
    return 1.0 - min(hidden / 18.0, 1.0);
}

// A sample looks for its own shadow and openness when it adds more than this share of
// its pixel, and the ray in front of it is less opaque than `TELLING_BEHIND` (see `lit`).
const TELLING_SHARE: f32 = 0.002;
const TELLING_BEHIND: f32 = 0.9;

// The light on a segment's surface, the same for every preset.
const SEGMENT_AMBIENT: f32 = 0.3;
const SEGMENT_DIFFUSE: f32 = 0.7;
const SEGMENT_SPECULAR: f32 = 0.15;
const SEGMENT_SPECULAR_POWER: f32 = 24.0;

// Front-to-back compositing with Blinn-Phong shading on the precomputed gradients; a
// segment (with SEGMENTS) adds its colour, at its opacity, once where a ray enters it.
fn composite(ray: Ray, start: f32) -> vec4<f32> {
    let step = params.step_mm;
    var t = start;
    var colour = vec3<f32>(0.0);
    var alpha = 0.0;
    // The segment the last sample was in (0: none).
    var inside = 0u;
    // The light that reached, and the openness round, the last sample that looked (see
    // `lit`).
    var reached = 1.0;
    var opened = 1.0;
    loop {
        let leapt = leap(ray, t, step);
        if leapt != t {
            // Over empty bricks: whatever comes next is entered anew.
            inside = 0u;
        }
        t = leapt;
        if t > ray.t_exit || alpha > params.early_termination_alpha {
            break;
        }
        let p = ray.origin + ray.dir * t;
        t += step;
        if SEGMENTS != 0u {
            let voxel = vec3<i32>(floor(p * vec3<f32>(textureDimensions(labels))));
            let label = label_of_voxel(voxel);
            if label != 0u && label != inside {
                let opacity = textureLoad(palette, vec2<i32>(i32(label), 0), 0).a;
                colour += (1.0 - alpha) * opacity * segment_colour(voxel, label, ray);
                alpha += (1.0 - alpha) * opacity;
            }
            inside = label;
            if SEGMENTS == 2u {
                continue;
            }
        }
        // Without gradient opacity the corrected row gives each sample's opacity over
        // the step; with it, the opacity is corrected once modulated.
        let tf = transfer_entry(value_at(p), select(CORRECTED_ROW, TRANSFER_ROW, GRADIENT_OPACITY));
        if tf.a <= 0.0 {
            continue;
        }
        var a = tf.a;
        var rgb = tf.rgb;
        if SHADING || GRADIENT_OPACITY {
            let encoded = textureSampleLevel(gradients, volume_sampler, p * params.gradient_coordinate_scale.xyz, 0.0).xyz;
            let length_encoded = length(encoded);
            if GRADIENT_OPACITY {
                // Decoded magnitude, stored units per mm.
                let magnitude = length_encoded * length_encoded * params.gradient_full_scale;
                let u = magnitude * params.gradient_opacity_scale;
                let v = (f32(GRADIENT_ROW) + 0.5) / f32(TRANSFER_ROWS);
                a *= textureSampleLevel(transfer, transfer_sampler, vec2<f32>(u, v), 0.0).a;
            }
            if SHADING {
                let telling = (1.0 - alpha) * a > TELLING_SHARE && alpha < TELLING_BEHIND;
                rgb = lit(rgb, p, encoded, length_encoded, ray, telling, &reached, &opened);
            }
        }
        var corrected = a;
        if GRADIENT_OPACITY {
            corrected = 1.0 - pow(1.0 - min(a, 0.9999), params.step_per_opacity_unit);
        }
        colour += (1.0 - alpha) * corrected * rgb;
        alpha += (1.0 - alpha) * corrected;
    }
    let background = params.background.rgb * (1.0 - alpha);
    return vec4<f32>(min(colour + background, vec3<f32>(1.0)), 1.0);
}

// MIP, MinIP or average along the ray, shown through the grey window.
fn projection(ray: Ray, start: f32, mode: u32) -> vec4<f32> {
    let step = params.step_mm;
    var t = start;
    var extreme = select(3.0e38, -3.0e38, mode == MODE_MIP);
    var sum = 0.0;
    var count = 0.0;
    loop {
        t = leap(ray, t, step);
        if t > ray.t_exit {
            break;
        }
        let v = value_at(ray.origin + ray.dir * t);
        extreme = select(min(extreme, v), max(extreme, v), mode == MODE_MIP);
        sum += v;
        count += 1.0;
        t += step;
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

// `colour` with the series drawn over blended in where `ray` crosses it: the highest of
// its values sampled along the ray inside the crop box (and inside its voxel centres, as
// the slices' fusion samples it), placed in its window, coloured and blended at its
// opacity. Sampled on a lattice of its own, without leaping: the bricks empty for the
// first series' transfer function say nothing of the second's values.
fn drawn_over(ray: Ray, colour: vec4<f32>) -> vec4<f32> {
    let step = params.over_style.w;
    let half_voxel = 0.5 / vec3<f32>(textureDimensions(over_volume));
    var highest = -3.0e38;
    var t = ray.t_enter;
    loop {
        if t > ray.t_exit {
            break;
        }
        let q = (params.tex_to_over_tex * vec4<f32>(ray.origin + ray.dir * t, 1.0)).xyz;
        if all(q >= half_voxel) && all(q <= 1.0 - half_voxel) {
            highest = max(highest, textureSampleLevel(over_volume, transfer_sampler, q, 0.0).r);
        }
        t += step;
    }
    if highest < -1.0e38 {
        return colour;
    }
    let place = clamp(highest * params.over_style.x + params.over_style.y, 0.0, 1.0);
    let entries = f32(textureDimensions(over_colours).x);
    let rgb = textureLoad(over_colours, vec2<i32>(i32(round(place * (entries - 1.0))), 0), 0).rgb;
    return vec4<f32>(mix(colour.rgb, rgb, params.over_style.z), colour.a);
}

// The frame being drawn.
@group(1) @binding(0) var frame: texture_storage_2d<rgba8unorm, write>;

// The colour of the ray through `pixel` (pixel centres at half-integers, y down).
fn ray_colour(pixel: vec2<f32>) -> vec4<f32> {
    let ray = make_ray(pixel);
    if ray.t_enter >= ray.t_exit {
        return vec4<f32>(params.background.rgb, 1.0);
    }
    let start = ray.t_enter + params.step_mm * params.jitter_steps * jitter(floor(pixel));
    var colour: vec4<f32>;
    if MODE == MODE_COMPOSITE {
        colour = composite(ray, start);
    } else {
        colour = projection(ray, start, MODE);
    }
    if OVER {
        return drawn_over(ray, colour);
    }
    return colour;
}

@fragment
fn fs_main(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
    return ray_colour(position.xy);
}

// One pixel of the rows `params.rows` (the dispatch's y counts from the first of them).
@compute @workgroup_size(8, 8)
fn cs_main(@builtin(global_invocation_id) id: vec3<u32>) {
    let pixel = vec2<u32>(id.x, id.y + u32(params.rows.x));
    if f32(pixel.x) >= params.viewport_size.x || f32(pixel.y) >= params.rows.y {
        return;
    }
    textureStore(frame, pixel, ray_colour(vec2<f32>(pixel) + 0.5));
}
