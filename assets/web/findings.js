// Findings on the slices of the 2×2 layout, as the server keeps them for the open series:
// regions (ellipse, rectangle, polygon), angles, arrows and rulers, their points in patient
// millimetres with what the server measured. Each is placed in its cell by the geometry of
// the `crosshair` message, as rulers are, and shows only while its cell shows its slice,
// facing the way it faced when drawn (an oblique finding keeps its cell's turned axes);
// this module labels them, finds the one under the pointer, shifts one being moved and
// tells whether a shape is large enough to keep.

import { cross, dot, standardNormal } from "./planes.js";
import { cellOf, rulerLabel, showsSlice, spotOf } from "./rulers.js";

/** The kinds the findings tools draw (`freehand` is kept as a `polygon`). */
export const FINDING_TOOLS = ["ellipse", "rectangle", "freehand", "angle", "arrow"];

/** A freehand outline's most vertices, as the server takes them. */
export const FREEHAND_MAX_POINTS = 512;

/** The fewest frame pixels between two vertices of a freehand outline. */
export const FREEHAND_STEP_PX = 4;

/** The least extent (frame pixels) of a shape kept: a smaller drag is a click. */
export const MIN_EXTENT_PX = 3;

/** How near (frame pixels) the pointer must come to a finding's outline to pick it. */
const PICK_PX = 6;

/** A kind as the findings list names it: "Ellipse", "Polygon"… */
export const kindName = (kind) => kind.charAt(0).toUpperCase() + kind.slice(1);

/**
 * What a finding measures, as the page shows it: "mean 41.2 HU · sd 8.3 · 125.4 mm²" for a
 * region (with "SUVmax 7.12 · SUVmean 3.40 · SUVpeak 5.86" on a PET), "42.3 mm" for a ruler, "87.5°" for an angle, then its note.
 */
export function findingLabel(finding) {
  const parts = [];
  const stats = finding.stats;
  if (stats) {
    const unit = stats.unit ? ` ${stats.unit}` : "";
    parts.push(`mean ${stats.mean.toFixed(1)}${unit}`, `sd ${stats.sd.toFixed(1)}`, `${stats.area_mm2.toFixed(1)} mm²`);
    // A PET region: its uptake in SUV.
    if (stats.suv) {
      const { suv_max: max, suv_mean: mean, suv_peak: peak } = stats.suv;
      parts.push(`SUVmax ${max.toFixed(2)}`, `SUVmean ${mean.toFixed(2)}`, `SUVpeak ${peak.toFixed(2)}`);
    }
  }
  if (finding.length_mm !== undefined) parts.push(rulerLabel(finding.length_mm));
  if (finding.angle_deg !== undefined) parts.push(`${finding.angle_deg.toFixed(1)}°`);
  if (finding.note) parts.push(finding.note);
  return parts.join(" · ");
}

/**
 * The normal of the plane a finding was drawn on (LPS): its cell's turned axes when it was
 * drawn on turned planes (`axes`, right × down), else its standard plane's.
 */
export const findingNormal = (finding) =>
  finding.axes ? cross(finding.axes.right, finding.axes.down) : standardNormal(finding.cell);

/** Where a finding's slice lies along its plane's normal (mm). */
export const findingDepth = (finding) => dot(finding.points_lps[0], findingNormal(finding));

/** The middle of a finding's points (LPS mm): where the crosshair goes to show it. */
export function findingCentre(finding) {
  const points = finding.points_lps;
  return [0, 1, 2].map((axis) => points.reduce((sum, point) => sum + point[axis], 0) / points.length);
}

/**
 * The findings to draw now: those whose slice their cell shows (within `toleranceMm`), as
 * `{id, kind, plane, points, label}` with the points fractions [x, y] of their cell.
 */
export function visibleFindings(findings, geometry, width, height, toleranceMm) {
  return findings.flatMap((finding) => {
    if (!showsSlice(geometry, finding.cell, findingDepth(finding), toleranceMm, findingNormal(finding))) return [];
    const points = finding.points_lps.map((point) => spotOf(geometry, finding.cell, point, width, height));
    if (points.some((point) => point === null)) return [];
    return [{ id: finding.id, kind: finding.kind, plane: finding.cell, points, label: findingLabel(finding) }];
  });
}

/**
 * The finding of `shapes` (as `visibleFindings` gives them) under `at` (`{plane, x, y}`,
 * fractions of its cell in a `width`×`height` frame): inside a region or near an outline,
 * the one drawn last first. Its id, or null.
 */
export function findingAt(shapes, at, width, height) {
  const cell = cellOf(at.plane, width, height);
  const pixels = ([x, y]) => [x * cell.width, y * cell.height];
  const pointer = pixels([at.x, at.y]);
  for (const shape of [...shapes].reverse()) {
    if (shape.plane === at.plane && touches(shape.kind, shape.points.map(pixels), pointer)) return shape.id;
  }
  return null;
}

/** Whether the shape of `kind` through `points` (pixels) is under `pointer`. */
function touches(kind, points, pointer) {
  const [px, py] = pointer;
  if (kind === "ellipse" || kind === "rectangle") {
    const [[x0, y0], [x1, y1]] = points;
    const [cx, cy] = [(x0 + x1) / 2, (y0 + y1) / 2];
    const [rx, ry] = [Math.abs(x1 - x0) / 2 + PICK_PX, Math.abs(y1 - y0) / 2 + PICK_PX];
    if (kind === "rectangle") return Math.abs(px - cx) <= rx && Math.abs(py - cy) <= ry;
    return ((px - cx) / rx) ** 2 + ((py - cy) / ry) ** 2 <= 1;
  }
  if (kind === "polygon") return inside(points, pointer) || nearPath([...points, points[0]], pointer);
  return nearPath(points, pointer);
}

/** Whether `pointer` lies inside the closed outline through `points` (even-odd rule). */
function inside(points, [px, py]) {
  let crossings = 0;
  points.forEach(([x1, y1], n) => {
    const [x2, y2] = points[(n + 1) % points.length];
    if (y1 > py !== y2 > py && px < x1 + ((py - y1) * (x2 - x1)) / (y2 - y1)) crossings += 1;
  });
  return crossings % 2 === 1;
}

/** Whether `pointer` lies within the pick distance of the open path through `points`. */
function nearPath(points, pointer) {
  return points.some((from, n) => n > 0 && distanceToSegment(pointer, points[n - 1], from) <= PICK_PX);
}

/** The distance from `p` to the segment from `a` to `b`. */
function distanceToSegment([px, py], [ax, ay], [bx, by]) {
  const [dx, dy] = [bx - ax, by - ay];
  const length2 = dx * dx + dy * dy;
  const t = length2 > 0 ? Math.min(1, Math.max(0, ((px - ax) * dx + (py - ay) * dy) / length2)) : 0;
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/**
 * `points` (fractions of a cell) shifted by `delta` [dx, dy], no further than keeps the
 * shape inside its cell (a shape already over an edge may move back in).
 */
export function shiftedPoints(points, [dx, dy]) {
  const along = (axis, delta) => {
    const values = points.map((point) => point[axis]);
    const lowest = Math.min(0, -Math.min(...values));
    const highest = Math.max(0, 1 - Math.max(...values));
    return Math.min(highest, Math.max(lowest, delta));
  };
  const [x, y] = [along(0, dx), along(1, dy)];
  return points.map(([px, py]) => [px + x, py + y]);
}

/**
 * Whether a finding of `kind` (a findings tool's or the server's) through `points`
 * (fractions of a cell) is large enough to keep, `pixels(from, to)` being the frame pixels
 * between two of them: a region at least `MIN_EXTENT_PX` across both ways (an outline of 3
 * points or more), an arrow or a ruler that long, each arm of an angle that long.
 */
export function drawnEnough(kind, points, pixels) {
  const [first, second] = points;
  const last = points[points.length - 1];
  if (kind === "arrow" || kind === "ruler") return pixels(first, last) >= MIN_EXTENT_PX;
  if (kind === "angle") {
    return points.length === 3 && pixels(first, second) >= MIN_EXTENT_PX && pixels(last, second) >= MIN_EXTENT_PX;
  }
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const across = pixels([Math.min(...xs), 0], [Math.max(...xs), 0]);
  const down = pixels([0, Math.min(...ys)], [0, Math.max(...ys)]);
  const outline = kind === "freehand" || kind === "polygon";
  return (!outline || points.length >= 3) && across >= MIN_EXTENT_PX && down >= MIN_EXTENT_PX;
}

/**
 * Fractions of a cell as the server takes them: each within 0..1, to 6 decimals (a
 * thousandth of a pixel at any size a session draws), so that a 512-vertex outline stays
 * within the server's 16 KiB a message.
 */
export const withinCell = (points) =>
  points.map((point) => point.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 1e6) / 1e6));
