// The slice planes of the 2×2 layout as their cells show them, and turning them. Each
// cell's screen right and down in patient space (LPS) are the standard ones until the
// server's `crosshair` message says the planes are turned (its `planes`); another plane's
// line crosses a cell through the crosshair along the cross product of the two normals.
// Each such line carries a handle near either end: dragging one turns the three planes
// together about the crosshair, about the normal of the cell it is dragged in
// (`turn_planes`, by the angle the pointer turned about the crosshair).

import { quadCells } from "./input.js";

/** The slice planes in the order of their cells after the 3D one. */
export const PLANES = ["axial", "coronal", "sagittal"];

/** Each cell's screen right and down (LPS unit vectors) while the planes are standard. */
const STANDARD_AXES = {
  axial: { right: [1, 0, 0], down: [0, 1, 0] },
  coronal: { right: [1, 0, 0], down: [0, 0, -1] },
  sagittal: { right: [0, 1, 0], down: [0, 0, -1] },
};

/** How far a line's handles lie from the crosshair: a share of the cell's half-size. */
export const HANDLE_REACH = 0.35;

/** The radius (frame pixels) of a handle as drawn. */
export const HANDLE_RADIUS_PX = 5;

/** How near (frame pixels) a press must come to a handle to take it: a mouse, a finger. */
const PICK_PX = 9;
const TOUCH_PICK_PX = 18;

export const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross = (a, b) => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];

/**
 * `plane`'s cell axes by `geometry` (the `crosshair` message as app.js keeps it, with its
 * `planes` when turned): `{right, down, normal}` in LPS, the normal right × down (the way a
 * positive `slice` moves it).
 */
export function axesOf(geometry, plane) {
  const { right, down } = geometry?.planes?.[plane] ?? STANDARD_AXES[plane];
  return { right, down, normal: cross(right, down) };
}

/** `plane`'s normal while the planes are standard. */
export const standardNormal = (plane) => axesOf(null, plane).normal;

/**
 * The direction (`[x, y]`, x right and y down, unit length) along which `other`'s plane
 * crosses `cell`'s cell through the crosshair; null for parallel planes.
 */
export function lineInCell(geometry, cell, other) {
  const { right, down, normal } = axesOf(geometry, cell);
  const along = cross(normal, axesOf(geometry, other).normal);
  const [x, y] = [dot(along, right), dot(along, down)];
  const length = Math.hypot(x, y);
  return length > 1e-9 ? [x / length, y / length] : null;
}

/**
 * Where the line through `spot` along `direction` enters and leaves `box` (`{x, y, width,
 * height}`): `[from, to]`, the distances along it (from ≤ 0 ≤ to while the spot is inside).
 */
export function lineExtent(spot, direction, box) {
  let [from, to] = [-Infinity, Infinity];
  const bounds = [
    [box.x, box.x + box.width],
    [box.y, box.y + box.height],
  ];
  for (const axis of [0, 1]) {
    const [low, high] = bounds[axis];
    if (Math.abs(direction[axis]) < 1e-12) {
      if (spot[axis] < low || spot[axis] > high) return [0, 0];
      continue;
    }
    const [a, b] = [(low - spot[axis]) / direction[axis], (high - spot[axis]) / direction[axis]];
    from = Math.max(from, Math.min(a, b));
    to = Math.min(to, Math.max(a, b));
  }
  return from <= to ? [from, to] : [0, 0];
}

/**
 * The other planes' lines in each slice cell of a `width`×`height` frame, by `geometry`:
 * `{cell, line, spot, direction, extent, handles}` with `spot` the crosshair (frame
 * pixels), `extent` as `lineExtent` gives it and `handles` the points (frame pixels) near
 * either end of the line that lie inside the cell. Empty before the geometry is known.
 */
export function planeLines(geometry, width, height) {
  const cells = quadCells(width, height);
  return PLANES.flatMap((cell, n) => {
    const at = geometry?.cells?.[cell];
    if (!at) return [];
    const box = cells[n + 1];
    const spot = [box.x + at[0] * box.width, box.y + at[1] * box.height];
    const reach = (HANDLE_REACH * Math.min(box.width, box.height)) / 2;
    return PLANES.filter((line) => line !== cell).flatMap((line) => {
      const direction = lineInCell(geometry, cell, line);
      if (!direction) return [];
      const extent = lineExtent(spot, direction, box);
      const handles = [-reach, reach]
        .filter((t) => t >= extent[0] && t <= extent[1])
        .map((t) => [spot[0] + t * direction[0], spot[1] + t * direction[1]]);
      return [{ cell, line, spot, direction, extent, handles }];
    });
  });
}

/**
 * The handle under `point` (frame pixels) within `radius`: `{cell, line, spot}`, the
 * nearest, or null.
 */
export function handleAt(geometry, width, height, point, radius) {
  let best = null;
  for (const { cell, line, spot, handles } of planeLines(geometry, width, height)) {
    for (const handle of handles) {
      const distance = Math.hypot(handle[0] - point[0], handle[1] - point[1]);
      if (distance <= radius && (!best || distance < best.distance)) best = { cell, line, spot, distance };
    }
  }
  return best;
}

/** The angle (degrees, counter-clockwise on the screen) of `point` about `centre`. */
export const screenAngle = (centre, point) =>
  (Math.atan2(-(point[1] - centre[1]), point[0] - centre[0]) * 180) / Math.PI;

/** `degrees` brought within (−180, 180]. */
export const wrapDegrees = (degrees) => degrees - 360 * Math.ceil((degrees - 180) / 360);

/**
 * Wires the lines' handles to `canvas`. Call it before the other pointer inputs: a press on
 * a handle goes no further (it neither moves the crosshair nor starts a finding or a
 * ruler); with the W/L tool on, a drag sets the window wherever it starts. `page` gives
 * `layout()`, `tool()`, `geometry()` (the geometry the overlay shows) and `send(action,
 * fields)` (an input). A drag sends `interact` at its start and end and, for each move,
 * `turn_planes` by the angle the pointer turned about the crosshair since the last.
 */
export function attachPlaneTurning(canvas, page) {
  // The handle being dragged: {pointerId, plane, line, spot, angle}.
  let drag = null;

  const framePoint = (event) => {
    const rect = canvas.getBoundingClientRect();
    return [
      ((event.clientX - rect.left) / Math.max(rect.width, 1)) * canvas.width,
      ((event.clientY - rect.top) / Math.max(rect.height, 1)) * canvas.height,
    ];
  };
  const claim = (event) => {
    event.stopImmediatePropagation();
    event.preventDefault();
  };

  canvas.addEventListener("pointerdown", (event) => {
    // A second finger while a handle is dragged starts nothing else.
    if (drag) return claim(event);
    if (page.layout() !== "2x2" || page.tool() === "window") return;
    if (event.pointerType !== "touch" && event.button !== 0) return;
    const point = framePoint(event);
    const radius = event.pointerType === "touch" ? TOUCH_PICK_PX : PICK_PX;
    const handle = handleAt(page.geometry(), canvas.width, canvas.height, point, radius);
    if (!handle) return;
    claim(event);
    canvas.setPointerCapture(event.pointerId);
    drag = {
      pointerId: event.pointerId,
      plane: handle.cell,
      line: handle.line,
      spot: handle.spot,
      angle: screenAngle(handle.spot, point),
    };
    page.send("interact", { active: true });
  });

  canvas.addEventListener("pointermove", (event) => {
    if (!drag || event.pointerId !== drag.pointerId) return;
    claim(event);
    const point = framePoint(event);
    // Too near the crosshair the angle means nothing.
    if (Math.hypot(point[0] - drag.spot[0], point[1] - drag.spot[1]) < 4) return;
    const angle = screenAngle(drag.spot, point);
    const degrees = wrapDegrees(angle - drag.angle);
    if (Math.abs(degrees) < 0.01) return;
    drag.angle = angle;
    page.send("turn_planes", { plane: drag.plane, degrees: Math.round(degrees * 1000) / 1000 });
  });

  const release = (event) => {
    if (!drag || event.pointerId !== drag.pointerId) return;
    claim(event);
    drag = null;
    page.send("interact", { active: false });
  };
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
}
