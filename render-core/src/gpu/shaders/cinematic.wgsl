// Cinematic rendering: Monte Carlo path tracing through the volume, one path a pixel a
// pass, each pass's light added to a running sum per pixel (the mean is the picture, and
// it converges as passes add up). Shares the ray caster's uniforms, volume, transfer
// function, bricks and gradients (this file follows raycast.wgsl in one module).
//
// A path from the eye: a free flight through the transfer function's opacity (a random
// optical depth, reached by marching the corrected row's opacities) ends at a scattering
// event, or the path leaves the crop box. At an event the sample's colour is its albedo;
// the reader's light is sampled there (its shadow ray is the ray caster's), and the path
// goes on in a new direction. Where the gradient is strong the event is a surface's
// (Lambertian about the normal turned towards where the path came from); elsewhere the
// medium's (a Henyey-Greenstein phase function). A path that leaves the box after an event
// takes the environment's light (a sky brighter above the patient's head); one that
// leaves without any shows the background. Random numbers are a hash of the pixel, the
// pass and the seed: a given seed draws the same picture.

struct Cinematic {
    // The pass (0 for the first), the seed, the scattering events a path may have, and
    // the frame's width (the sums are a row-major array).
    pass_index: u32,
    seed: u32,
    bounces: u32,
    width: u32,
    // The reader's light (radiance from its direction), the environment's above and
    // below, and the phase function's anisotropy g.
    light_intensity: f32,
    sky: f32,
    ground: f32,
    anisotropy: f32,
}

@group(2) @binding(0) var<uniform> cinematic: Cinematic;
// Per pixel, the sum of its passes' light (rgb) and their count (a).
@group(2) @binding(1) var<storage, read_write> sums: array<vec4<f32>>;

// A PCG step (O'Neill's permuted congruential generator, as Jarzynski and Olano's
// "Hash Functions for GPU Rendering" give it): the next state's output.
fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// The next uniform number in [0, 1) from `rng`.
fn random(rng: ptr<function, u32>) -> f32 {
    *rng = pcg(*rng);
    return f32(*rng >> 8u) * (1.0 / 16777216.0);
}

// A unit vector perpendicular to unit `n`, and the third of their frame.
fn frame_of(n: vec3<f32>) -> mat3x3<f32> {
    let helper = select(vec3<f32>(1.0, 0.0, 0.0), vec3<f32>(0.0, 1.0, 0.0), abs(n.x) > 0.9);
    let u = normalize(cross(n, helper));
    return mat3x3<f32>(u, cross(n, u), n);
}

// A direction about `n` (unit) with density cos θ / π (a Lambertian surface's).
fn cosine_about(n: vec3<f32>, rng: ptr<function, u32>) -> vec3<f32> {
    let r = sqrt(random(rng));
    let phi = 6.2831853 * random(rng);
    let z = sqrt(max(0.0, 1.0 - r * r));
    return frame_of(n) * vec3<f32>(r * cos(phi), r * sin(phi), z);
}

// Henyey-Greenstein's phase function for the angle whose cosine is `cos_theta` between
// the direction travelled and the one scattered into.
fn henyey_greenstein(cos_theta: f32, g: f32) -> f32 {
    let denominator = 1.0 + g * g - 2.0 * g * cos_theta;
    return (1.0 - g * g) / (12.5663706 * denominator * sqrt(denominator));
}

// A direction scattered from `travelling` (unit) by Henyey-Greenstein's phase function.
fn henyey_greenstein_from(travelling: vec3<f32>, g: f32, rng: ptr<function, u32>) -> vec3<f32> {
    let xi = random(rng);
    var cos_theta = 1.0 - 2.0 * xi;
    if abs(g) > 1e-3 {
        let s = (1.0 - g * g) / (1.0 - g + 2.0 * g * xi);
        cos_theta = (1.0 + g * g - s * s) / (2.0 * g);
    }
    let sin_theta = sqrt(max(0.0, 1.0 - cos_theta * cos_theta));
    let phi = 6.2831853 * random(rng);
    return frame_of(travelling) * vec3<f32>(sin_theta * cos(phi), sin_theta * sin(phi), cos_theta);
}

// The environment's light from direction `d` (LPS, unit): the ground's below the
// patient's feet, rising to the sky's above the head.
fn environment(d: vec3<f32>) -> vec3<f32> {
    return vec3<f32>(mix(cinematic.ground, cinematic.sky, 0.5 + 0.5 * d.z));
}

// Where a free flight along `ray` from `start` ends (mm along it): where the optical depth
// marched through the corrected row's opacities passes a random one; −1 when the ray
// leaves the crop box first.
fn free_flight(ray: Ray, start: f32, rng: ptr<function, u32>) -> f32 {
    let step = params.step_mm;
    let wanted = -log(1.0 - random(rng));
    var depth = 0.0;
    var t = start + step * random(rng);
    loop {
        t = leap(ray, t, step);
        if t > ray.t_exit {
            return -1.0;
        }
        let a = transfer_entry(value_at(ray.origin + ray.dir * t), CORRECTED_ROW).a;
        depth -= log(1.0 - min(a, 0.999));
        if depth >= wanted {
            return t;
        }
        t += step;
    }
    return -1.0;
}

// The light one path from the eye through `pixel` (a point within it) brings back.
fn path_light(pixel: vec2<f32>, rng: ptr<function, u32>) -> vec3<f32> {
    let eye_ray = make_ray(pixel);
    if eye_ray.t_enter >= eye_ray.t_exit {
        return params.background.rgb;
    }
    let light = select(params.light.xyz, -eye_ray.dir_lps, params.light.w > 0.5);
    var ray = eye_ray;
    var start = eye_ray.t_enter;
    var carried = vec3<f32>(1.0);
    var gathered = vec3<f32>(0.0);
    for (var event = 0u; event < cinematic.bounces; event++) {
        let t = free_flight(ray, start, rng);
        if t < 0.0 {
            if event == 0u {
                return params.background.rgb;
            }
            return gathered + carried * environment(ray.dir_lps);
        }
        let p = ray.origin + ray.dir * t;
        carried *= transfer_entry(value_at(p), TRANSFER_ROW).rgb;
        let came_from = -ray.dir_lps;
        let encoded = textureSampleLevel(gradients, volume_sampler, p * params.gradient_coordinate_scale.xyz, 0.0).xyz;
        let strength = length(encoded);
        var next: vec3<f32>;
        if SHADING && random(rng) < min(strength * 2.0, 1.0) {
            // A surface: Lambertian about the normal on the side the path came from.
            let gradient = encoded / strength;
            let normal = select(gradient, -gradient, dot(gradient, came_from) < 0.0);
            let reaching = light_reaching(p + lps_step(normal * params.surface_offset_mm), light);
            gathered += carried * cinematic.light_intensity * reaching * max(dot(normal, light), 0.0) * 0.31830989;
            next = cosine_about(normal, rng);
            // The cosine-weighted direction's density cancels the Lambertian term.
        } else {
            // The medium: Henyey-Greenstein, its sampled direction's density cancelling
            // the phase function.
            let reaching = light_reaching(p, light);
            gathered += carried * cinematic.light_intensity * reaching
                * henyey_greenstein(dot(ray.dir_lps, light), cinematic.anisotropy);
            next = henyey_greenstein_from(ray.dir_lps, cinematic.anisotropy, rng);
        }
        ray = ray_from(p, next);
        start = params.step_mm;
    }
    return gathered;
}

// One pass over the pixels of `params.rows`: each pixel's path added to its sum, and the
// frame made the mean so far.
@compute @workgroup_size(8, 8)
fn cs_cinematic(@builtin(global_invocation_id) id: vec3<u32>) {
    let pixel = vec2<u32>(id.x, id.y + u32(params.rows.x));
    if f32(pixel.x) >= params.viewport_size.x || f32(pixel.y) >= params.rows.y {
        return;
    }
    let index = pixel.y * cinematic.width + pixel.x;
    var rng = pcg(index ^ pcg(cinematic.pass_index ^ pcg(cinematic.seed)));
    let within = vec2<f32>(random(&rng), random(&rng));
    let light = path_light(vec2<f32>(pixel) + within, &rng);
    let sum = sums[index] + vec4<f32>(light, 1.0);
    sums[index] = sum;
    store_mean(pixel, sum);
}

// The frame's `pixel` made the mean of its passes' light, `sum` (rgb, and the count in a).
fn store_mean(pixel: vec2<u32>, sum: vec4<f32>) {
    textureStore(frame, pixel, vec4<f32>(min(sum.rgb / sum.a, vec3<f32>(1.0)), 1.0));
}

// The frame made the mean of the passes summed so far over `params.rows`, adding no path:
// the picture read back whole, whatever was drawn into the frame since its bands.
@compute @workgroup_size(8, 8)
fn cs_cinematic_resolve(@builtin(global_invocation_id) id: vec3<u32>) {
    let pixel = vec2<u32>(id.x, id.y + u32(params.rows.x));
    if f32(pixel.x) >= params.viewport_size.x || f32(pixel.y) >= params.rows.y {
        return;
    }
    let sum = sums[pixel.y * cinematic.width + pixel.x];
    if sum.a > 0.0 {
        store_mean(pixel, sum);
    }
}
