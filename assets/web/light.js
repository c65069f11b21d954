// The 3D view's light: where it comes from (the eye, or a side of the patient, which stays
// on the patient as the camera turns), whether it casts shadows, ambient occlusion, and
// whether the resting view is path traced (cinematic). Each change sends one `light`
// input with all four.

/** Each side's direction towards the light (LPS), as the server tells a view's light. */
export const SIDES = Object.freeze({
  anterior: [0, -1, 0],
  posterior: [0, 1, 0],
  left: [1, 0, 0],
  right: [-1, 0, 0],
  superior: [0, 0, 1],
  inferior: [0, 0, -1],
});

/**
 * The name the direction select shows for a view's light direction: `head`, a side, or
 * `custom` (a vector no side matches, kept as it is).
 */
export function directionName(direction) {
  if (direction === undefined || direction === "head") return "head";
  if (typeof direction === "string") return direction;
  const near = (a, b) => a.every((v, i) => Math.abs(v - b[i]) < 1e-6);
  const side = Object.entries(SIDES).find(([, vector]) => near(direction, vector));
  return side ? side[0] : "custom";
}

/**
 * Wires `light-direction`, `light-shadows`, `light-occlusion` and `light-cinematic` under
 * `root`. `send` sends an input; `onLight(lighting)` hears every lighting sent. Returns
 * `show(lighting)`, which sets the controls from the server's view (absent: the
 * headlight, none of the three).
 */
export function attachLight(root, send, onLight) {
  const direction = root.querySelector("#light-direction");
  const shadows = root.querySelector("#light-shadows");
  const occlusion = root.querySelector("#light-occlusion");
  const cinematic = root.querySelector("#light-cinematic");
  // A vector no side matches, as the server told it (a shared session's steering client
  // may have set one): sent back unchanged while it stays chosen.
  let custom = null;
  const chosen = () => ({
    direction: direction.value === "custom" && custom ? custom : direction.value,
    shadows: shadows.checked,
    occlusion: occlusion.checked,
    cinematic: cinematic.checked,
  });
  const changed = () => {
    const lighting = chosen();
    send("light", lighting);
    onLight(lighting);
  };
  for (const control of [direction, shadows, occlusion, cinematic]) control.addEventListener("change", changed);
  return (lighting) => {
    const name = directionName(lighting?.direction);
    custom = name === "custom" ? [...lighting.direction] : null;
    direction.querySelector("option[value=custom]").hidden = custom === null;
    direction.value = name;
    shadows.checked = Boolean(lighting?.shadows);
    occlusion.checked = Boolean(lighting?.occlusion);
    cinematic.checked = Boolean(lighting?.cinematic);
  };
}
