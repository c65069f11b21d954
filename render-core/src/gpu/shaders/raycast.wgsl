// Volume ray casting: one ray per pixel, marched front to back through the volume's
// 3D texture. Positions are in texture coordinates (0..1 across the volume); distances
// along a ray are in millimetres of patient space, so the step and the opacity
// correction do not depend on the voxel size.

struct Params {
    // Clip space -> LPS (mm).
    inv_view_proj: mat4x4<f32>,
    // LPS (mm) -> texture coordinates.
    lps_to_tex: mat4x4<f32>,
    // Texture-space gradient -> LPS gradient (the transpose of lps_to_tex's linear part).
    gradient_to_lps: mat4x4<f32>,
    // The crop box, in texture coordinates.
    crop_min: vec4<f32>,
    crop_max: vec4<f32>,
    // One voxel, in texture coordinates (for central differences).
    voxel: vec4<f32>,
    // Texture coordinate -> brick index (dims / brick size); w unused.
    brick_scale: vec4<f32>,
    // Bricks along each axis, as floats.
    brick_count: vec4<f32>,
    // x, y: stored value -> transfer-function texture coordinate (scale, offset);
    // z, w: stored value -> grey level (scale, offset) for projection modes.
    value_map: vec4<f32>,
    // ambient, diffuse, specular, specular power.
    shading: vec4<f32>,
    // x: step (mm); y: step / opacity unit distance; z: early-termination opacity;
    // w: jitter amount (0 or 1).
    march: vec4<f32>,
    // x: gradient magnitude (stored units per mm) -> gradient-opacity texture coordinate.
    gradient_map: vec4<f32>,
    // Render target width, height and their reciprocals.
    viewport: vec4<f32>,
    // Background colour.
    background: vec4<f32>,
    // x: mode (0 composite, 1 MIP, 2 MinIP, 3 average); y: shading on; z: gradient
    // opacity on.
    flags: vec4<u32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var volume: texture_3d<f32>;
@group(0) @binding(2) var volume_sampler: sampler;
@group(0) @binding(3) var transfer: texture_2d<f32>;
@group(0) @binding(4) var transfer_sampler: sampler;
@group(0) @binding(5) var bricks: texture_3d<u32>;

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
    let ndc = vec2<f32>(pixel.x * params.viewport.z * 2.0 - 1.0, 1.0 - pixel.y * params.viewport.w * 2.0);
    let near_h = params.inv_view_proj * vec4<f32>(ndc, 0.0, 1.0);
    let far_h = params.inv_view_proj * vec4<f32>(ndc, 1.0, 1.0);
    let near = near_h.xyz / near_h.w;
    let far = far_h.xyz / far_h.w;
    var ray: Ray;
    ray.dir_lps = normalize(far - near);
    ray.origin = (params.lps_to_tex * vec4<f32>(near, 1.0)).xyz;
    ray.dir = (params.lps_to_tex * vec4<f32>(ray.dir_lps, 0.0)).xyz;
    let tiny = vec3<f32>(1e-12);
    let safe = select(ray.dir, tiny, abs(ray.dir) < tiny);
    ray.inv_dir = 1.0 / safe;
    let t0 = (params.crop_min.xyz - ray.origin) * ray.inv_dir;
    let t1 = (params.crop_max.xyz - ray.origin) * ray.inv_dir;
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

// The ray parameter where the ray leaves brick `b`.
fn brick_exit(ray: Ray, b: vec3<i32>) -> f32 {
    let lo = vec3<f32>(b) / params.brick_scale.xyz;
    let hi = (vec3<f32>(b) + 1.0) / params.brick_scale.xyz;
    let t0 = (lo - ray.origin) * ray.inv_dir;
    let t1 = (hi - ray.origin) * ray.inv_dir;
    let far = max(t0, t1);
    return min(min(far.x, far.y), far.z);
}

// The next sample parameter at or after `t_exit`, on the ray's sample lattice.
fn skip_to(t: f32, t_exit: f32, step: f32) -> f32 {
    return t + max(ceil((t_exit - t) / step), 1.0) * step;
}

// The offset of gradient tap `phase` (1..6: +x, −x, +y, −y, +z, −z by one voxel).
fn tap_offset(phase: u32) -> vec3<f32> {
    let d = params.voxel.xyz;
    let axis = (phase - 1u) / 2u;
    let sign = select(1.0, -1.0, (phase & 1u) == 0u);
    return vec3<f32>(
        select(0.0, sign * d.x, axis == 0u),
        select(0.0, sign * d.y, axis == 1u),
        select(0.0, sign * d.z, axis == 2u),
    );
}

// Front-to-back compositing. Software rasterisers run every branch of a shader for all
// lanes of a SIMD group, so the loop is written to take exactly one volume sample per
// iteration: the six taps of a shaded sample's gradient are iterations of their own
// ("phases" 1 to 6) instead of six extra samples inside a branch.
fn composite(ray: Ray, start: f32) -> vec4<f32> {
    let step = params.march.x;
    let shade = params.flags.y != 0u || params.flags.z != 0u;
    var t = start;
    var colour = vec3<f32>(0.0);
    var alpha = 0.0;
    // 0 while marching; 1..6 while taking the gradient taps around `centre`.
    var phase = 0u;
    var centre = vec3<f32>(0.0);
    var sample_colour = vec4<f32>(0.0);
    var difference = vec3<f32>(0.0);
    loop {
        let marching = phase == 0u;
        if marching && (t > ray.t_exit || alpha > params.march.z) {
            break;
        }
        let along = ray.origin + ray.dir * t;
        var p = along;
        if !marching {
            p = centre + tap_offset(phase);
        }
        if marching {
            let b = brick_of(p);
            if textureLoad(bricks, b, 0).r == 0u {
                t = skip_to(t, brick_exit(ray, b), step);
                continue;
            }
        }
        let stored = value_at(p);
        var contribution = vec4<f32>(0.0);
        var composite_now = false;
        if marching {
            let tf = textureSampleLevel(transfer, transfer_sampler, vec2<f32>(stored * params.value_map.x + params.value_map.y, 0.25), 0.0);
            if tf.a > 0.0 {
                if shade {
                    centre = p;
                    sample_colour = tf;
                    difference = vec3<f32>(0.0);
                    phase = 1u;
                    continue;
                }
                contribution = tf;
                composite_now = true;
            }
        } else {
            let axis = (phase - 1u) / 2u;
            let signed = select(stored, -stored, (phase & 1u) == 0u);
            difference += vec3<f32>(
                select(0.0, signed, axis == 0u),
                select(0.0, signed, axis == 1u),
                select(0.0, signed, axis == 2u),
            );
            phase += 1u;
            if phase < 7u {
                continue;
            }
            phase = 0u;
            // Central differences, in stored units per mm of LPS.
            let g = (params.gradient_to_lps * vec4<f32>(difference / (2.0 * params.voxel.xyz), 0.0)).xyz;
            let magnitude = length(g);
            var a = sample_colour.a;
            if params.flags.z != 0u {
                let u = magnitude * params.gradient_map.x;
                a *= textureSampleLevel(transfer, transfer_sampler, vec2<f32>(u, 0.75), 0.0).a;
            }
            var rgb = sample_colour.rgb;
            if params.flags.y != 0u {
                // A headlight: light and eye both along the ray, lit from either side.
                var facing = 1.0;
                if magnitude > 1e-6 {
                    facing = abs(dot(g / magnitude, ray.dir_lps));
                }
                let s = params.shading;
                rgb = rgb * (s.x + s.y * facing) + vec3<f32>(s.z * pow(facing, s.w));
            }
            contribution = vec4<f32>(rgb, a);
            composite_now = true;
        }
        if composite_now {
            let a = 1.0 - pow(1.0 - min(contribution.a, 0.9999), params.march.y);
            colour += (1.0 - alpha) * a * contribution.rgb;
            alpha += (1.0 - alpha) * a;
        }
        t += step;
    }
    let background = params.background.rgb * (1.0 - alpha);
    return vec4<f32>(min(colour + background, vec3<f32>(1.0)), 1.0);
}

// MIP, MinIP or average along the ray, shown through the grey window.
fn projection(ray: Ray, start: f32, mode: u32) -> vec4<f32> {
    let step = params.march.x;
    var t = start;
    var extreme = select(3.0e38, -3.0e38, mode == 1u);
    var sum = 0.0;
    var count = 0.0;
    loop {
        if t > ray.t_exit {
            break;
        }
        let p = ray.origin + ray.dir * t;
        let b = brick_of(p);
        if textureLoad(bricks, b, 0).r == 0u {
            t = skip_to(t, brick_exit(ray, b), step);
            continue;
        }
        let v = value_at(p);
        extreme = select(min(extreme, v), max(extreme, v), mode == 1u);
        sum += v;
        count += 1.0;
        t += step;
    }
    if count == 0.0 {
        return vec4<f32>(params.background.rgb, 1.0);
    }
    var v = extreme;
    if mode == 3u {
        v = sum / count;
    }
    let grey = clamp(v * params.value_map.z + params.value_map.w, 0.0, 1.0);
    return vec4<f32>(grey, grey, grey, 1.0);
}

@fragment
fn fs_main(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
    let ray = make_ray(position.xy);
    if ray.t_enter >= ray.t_exit {
        return vec4<f32>(params.background.rgb, 1.0);
    }
    let start = ray.t_enter + params.march.x * params.march.w * jitter(floor(position.xy));
    let mode = params.flags.x;
    if mode == 0u {
        return composite(ray, start);
    }
    return projection(ray, start, mode);
}
