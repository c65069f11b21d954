// The handles of the selected finding, as the desktop's slice tools have them: an
// ellipse's or a rectangle's four box corners, each point of an outline, an angle or an
// arrow. Dragging a corner resizes the box, its opposite corner staying; dragging a
// point moves that point only. Points are fractions [x, y] of the finding's cell.

import { cellOf } from "./rulers.js";

/** How near (frame pixels) a mouse must come to a handle to take it; a finger, twice. */
const GRAB_PX = 7;

/** Whether `kind` is drawn by two opposite corners of its box. */
const boxed = (kind) => kind === "ellipse" || kind === "rectangle";

/**
 * The handles of a finding of `kind` through `points`: a box's corners from the first
 * point on, clockwise when it is the top left (first, top right, second, bottom left);
 * each point of the other kinds.
 */
export function handlesOf(kind, points) {
  if (!boxed(kind) || points.length !== 2) return points;
  const [[x0, y0], [x1, y1]] = points;
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
}

/**
 * The handle of `shape` (`{kind, plane, points}`) nearest `at` (`{plane, x, y}`, fractions
 * of its cell in a `width`×`height` frame) within grabbing distance (wider for a
 * `finger`): its index in `handlesOf`, or null.
 */
export function handleAt(shape, at, width, height, finger = false) {
  if (shape.plane !== at.plane) return null;
  const cell = cellOf(at.plane, width, height);
  const reach = finger ? 2 * GRAB_PX : GRAB_PX;
  let nearest = null;
  let nearestPx = reach;
  handlesOf(shape.kind, shape.points).forEach(([x, y], index) => {
    const px = Math.hypot((x - at.x) * cell.width, (y - at.y) * cell.height);
    if (px <= nearestPx) [nearest, nearestPx] = [index, px];
  });
  return nearest;
}

/**
 * The points of a finding of `kind` through `points` with its handle `index` taken to
 * `to` [x, y]: a box corner moves with its two sides, the opposite corner staying; any
 * other handle is the point itself.
 */
export function reshapedPoints(kind, points, index, [x, y]) {
  const reshaped = points.map((point) => [...point]);
  if (!boxed(kind) || points.length !== 2) {
    if (reshaped[index]) reshaped[index] = [x, y];
    return reshaped;
  }
  const [first, second] = reshaped;
  // Corner 1 (first's row, second's column) and corner 3 (second's row, first's column).
  if (index === 0) [first[0], first[1]] = [x, y];
  else if (index === 1) [second[0], first[1]] = [x, y];
  else if (index === 2) [second[0], second[1]] = [x, y];
  else [first[0], second[1]] = [x, y];
  return reshaped;
}
