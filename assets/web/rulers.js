// Rulers on the slices of the 2×2 layout. Each is kept with the slice it was drawn on: its
// plane, its ends in patient space (LPS mm, as the server measured them) and so the slice's
// position along the plane's normal. It shows only while its cell shows that slice, placed
// by the geometry of the server's `crosshair` message (where the crosshair shows in each
// cell, each cell's millimetres per pixel and, once the planes are turned, each cell's
// right and down), so it follows a resize. Findings (findings.js) are placed and shown the
// same way.

import { quadCells } from "./input.js";
import { axesOf, dot, standardNormal } from "./planes.js";

/** Each slice's cell of the 2×2 layout (its index in `quadCells`). */
const CELLS = { axial: 1, coronal: 2, sagittal: 3 };

const minus = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];

/** A length as the page shows it: "42.3 mm". */
export const rulerLabel = (mm) => `${mm.toFixed(1)} mm`;

/**
 * Where `plane`'s slice lies along its normal (mm) when it passes through `point` (LPS): the
 * difference of two is the `delta_mm` of the `slice` input from one to the other. The
 * normal is the one `geometry` gives (turned planes), the standard one without it.
 */
export const slicePosition = (plane, point, geometry = null) => dot(point, axesOf(geometry, plane).normal);

/**
 * Where the patient point `point` (LPS mm) of `plane`'s slice shows in that plane's cell of
 * a `width`×`height` frame: [x, y] fractions of the cell; null before the server told the
 * geometry (`{crosshairLps, cells, mmPerPixel, planes}` from its `crosshair` message; the
 * cell's right and down are those of `planes` when the planes are turned).
 */
export function spotOf(geometry, plane, point, width, height) {
  const scale = geometry?.mmPerPixel?.[plane];
  const spot = geometry?.cells?.[plane];
  if (!scale || !spot || !geometry.crosshairLps || !CELLS[plane]) return null;
  const axes = axesOf(geometry, plane);
  const cell = quadCells(width, height)[CELLS[plane]];
  const offset = minus(point, geometry.crosshairLps);
  return [
    spot[0] + dot(offset, axes.right) / (scale * Math.max(cell.width, 1)),
    spot[1] + dot(offset, axes.down) / (scale * Math.max(cell.height, 1)),
  ];
}

/** `plane`'s cell of a `width`×`height` frame (`{x, y, width, height}`, frame pixels). */
export const cellOf = (plane, width, height) => quadCells(width, height)[CELLS[plane] ?? 1];

/** The length in frame pixels between fractions `from` and `to` of `plane`'s cell. */
export function pixelsInCell(plane, from, to, width, height) {
  const cell = cellOf(plane, width, height);
  return Math.hypot((to[0] - from[0]) * cell.width, (to[1] - from[1]) * cell.height);
}

/** The length (mm) between fractions `from` and `to` of `plane`'s cell, by the geometry. */
export function lengthInCell(geometry, plane, from, to, width, height) {
  const scale = geometry?.mmPerPixel?.[plane];
  return scale ? pixelsInCell(plane, from, to, width, height) * scale : null;
}

/**
 * Whether `plane`'s cell shows the slice at `sliceMm` along `normal` (within
 * `toleranceMm`; the standard normal when not given): the slice through the crosshair of
 * the `geometry` drawn now, its plane facing that way (not turned away from it).
 */
export function showsSlice(geometry, plane, sliceMm, toleranceMm, normal = standardNormal(plane)) {
  if (!geometry?.crosshairLps) return false;
  const facing = axesOf(geometry, plane).normal;
  if (dot(facing, normal) < 0.99999) return false;
  return Math.abs(dot(geometry.crosshairLps, facing) - sliceMm) <= toleranceMm;
}

/**
 * The rulers to draw now: those whose slice the crosshair's slice of their plane is
 * (within `toleranceMm`, facing their `normal`: the plane's when they were drawn), as `{plane, from, to, label}` in fractions of their cell.
 */
export function visibleRulers(rulers, geometry, width, height, toleranceMm) {
  if (!geometry?.crosshairLps) return [];
  return rulers.flatMap((ruler) => {
    if (!showsSlice(geometry, ruler.plane, ruler.slice_mm, toleranceMm, ruler.normal)) return [];
    const from = spotOf(geometry, ruler.plane, ruler.from_lps, width, height);
    const to = spotOf(geometry, ruler.plane, ruler.to_lps, width, height);
    return from && to ? [{ plane: ruler.plane, from, to, label: rulerLabel(ruler.mm) }] : [];
  });
}
