// What the browser draws over the server's 2×2 frame: the lines between the cells, each
// slice's name and orientation letters (from its turned axes when the planes are turned), the crosshair where the server says it shows in
// each slice (the other planes' lines through it, turned or not, with the handles that
// turn them), and the rulers and findings on the slices (the selected finding with its
// handles). The server draws the images only; this SVG lies over the canvas and uses its
// pixels as coordinates.

import { handlesOf } from "./finding-handles.js";
import { quadCells } from "./input.js";
import { HANDLE_RADIUS_PX, axesOf, planeLines, standardNormal } from "./planes.js";

const SVG = "http://www.w3.org/2000/svg";

/** The side (frame pixels) of a selected finding's handles. */
const HANDLE_PX = 7;

/**
 * The slices in cell order with the patient directions (LPS letters) at each edge of
 * their cells: radiological convention, as the server draws them (axial seen from the
 * feet, coronal from the front, sagittal from the patient's left).
 */
export const SLICE_EDGES = [
  { plane: "axial", left: "R", right: "L", top: "A", bottom: "P" },
  { plane: "coronal", left: "R", right: "L", top: "S", bottom: "I" },
  { plane: "sagittal", left: "A", right: "P", top: "S", bottom: "I" },
];

/** The letter of the patient direction `v` (LPS) points most along: L/R, P/A, S/I. */
export function directionLetter([x, y, z]) {
  const [ax, ay, az] = [Math.abs(x), Math.abs(y), Math.abs(z)];
  if (ax >= ay && ax >= az) return x >= 0 ? "L" : "R";
  if (ay >= az) return y >= 0 ? "P" : "A";
  return z >= 0 ? "S" : "I";
}

/**
 * `edges` (a row of SLICE_EDGES) as `geometry` turns its plane: the letters of the cell's
 * turned right and down, and the name "oblique …" when the plane itself is tilted; as they
 * are while the planes are standard.
 */
export function turnedEdges(edges, geometry) {
  if (!geometry?.planes?.[edges.plane]) return { ...edges, name: edges.plane };
  const { right, down, normal } = axesOf(geometry, edges.plane);
  const standard = standardNormal(edges.plane);
  const tilted = Math.hypot(...normal.map((value, i) => value - standard[i])) > 1e-6;
  const minus = (v) => v.map((value) => -value);
  return {
    plane: edges.plane,
    name: tilted ? `oblique ${edges.plane}` : edges.plane,
    left: directionLetter(minus(right)),
    right: directionLetter(right),
    top: directionLetter(minus(down)),
    bottom: directionLetter(down),
  };
}

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Redraws `svg` for a `width`×`height` frame: empty in the 1×1 layout; in the 2×2 one
 * the dividers, names, orientation letters and, when the `geometry` of the server's
 * `crosshair` message is known (its `cells`, `{axial: [x, y], ...}` as fractions of each
 * cell, and its `planes` when turned), the other planes' lines through the crosshair with
 * their handles; then the `rulers` (`{plane, from: [x, y], to: [x, y], label}`, fractions
 * of their cell) and the `findings` (`{id, kind, plane, points, label, selected, draft}`,
 * points as fractions).
 */
export function drawOverlay(svg, layout, width, height, geometry, rulers = [], findings = []) {
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.replaceChildren();
  if (layout !== "2x2" || width <= 0 || height <= 0) return;
  const cells = quadCells(width, height);
  const lines = planeLines(geometry, width, height);
  const middle = cells[3];
  svg.append(
    element("line", { class: "divider", x1: middle.x, y1: 0, x2: middle.x, y2: height }),
    element("line", { class: "divider", x1: 0, y1: middle.y, x2: width, y2: middle.y }),
    element("text", { class: "name", x: 6, y: 16 }, "3D"),
  );
  SLICE_EDGES.forEach((standardEdges, n) => {
    const edges = turnedEdges(standardEdges, geometry);
    const cell = cells[n + 1];
    const group = element("g", { "data-plane": edges.plane });
    const right = cell.x + cell.width;
    const bottom = cell.y + cell.height;
    const centreX = cell.x + cell.width / 2;
    const centreY = cell.y + cell.height / 2;
    const spot = geometry?.cells?.[edges.plane];
    if (spot) {
      const x = cell.x + spot[0] * cell.width;
      const y = cell.y + spot[1] * cell.height;
      // The other planes' lines through the crosshair along their true directions, with a
      // gap around it so the point itself shows, and their handles (a drag turns the planes).
      const gap = 8;
      const crosshair = element("g", { class: "crosshair", "data-x": x, "data-y": y });
      for (const { line, direction, extent, handles } of lines.filter((l) => l.cell === edges.plane)) {
        const [dx, dy] = direction;
        for (const [from, to] of [[extent[0], -gap], [gap, extent[1]]]) {
          if (to - from < 0.5) continue;
          crosshair.append(
            element("line", { class: line, x1: x + from * dx, y1: y + from * dy, x2: x + to * dx, y2: y + to * dy }),
          );
        }
        for (const [cx, cy] of handles) {
          crosshair.append(element("circle", { class: `${line} turn`, "data-line": line, cx, cy, r: HANDLE_RADIUS_PX }));
        }
      }
      group.append(crosshair);
    }
    group.append(
      element("text", { class: "name", x: cell.x + 6, y: cell.y + 16 }, edges.name),
      element("text", { class: "letter", "data-edge": "left", x: cell.x + 6, y: centreY, "text-anchor": "start", "dominant-baseline": "middle" }, edges.left),
      element("text", { class: "letter", "data-edge": "right", x: right - 6, y: centreY, "text-anchor": "end", "dominant-baseline": "middle" }, edges.right),
      element("text", { class: "letter", "data-edge": "top", x: centreX, y: cell.y + 6, "text-anchor": "middle", "dominant-baseline": "hanging" }, edges.top),
      element("text", { class: "letter", "data-edge": "bottom", x: centreX, y: bottom - 6, "text-anchor": "middle", "dominant-baseline": "auto" }, edges.bottom),
    );
    svg.append(group);
  });
  for (const ruler of rulers) {
    const cell = cells[SLICE_EDGES.findIndex((edges) => edges.plane === ruler.plane) + 1];
    if (!cell) continue;
    const [x1, y1, x2, y2] = [
      cell.x + ruler.from[0] * cell.width,
      cell.y + ruler.from[1] * cell.height,
      cell.x + ruler.to[0] * cell.width,
      cell.y + ruler.to[1] * cell.height,
    ];
    const group = element("g", { class: "ruler", "data-plane": ruler.plane });
    group.append(
      element("line", { x1, y1, x2, y2 }),
      element("circle", { cx: x1, cy: y1, r: 2.5 }),
      element("circle", { cx: x2, cy: y2, r: 2.5 }),
      element("text", { x: x2 + 6, y: y2 - 6 }, ruler.label),
    );
    svg.append(group);
  }
  for (const finding of findings) {
    const cell = cells[SLICE_EDGES.findIndex((edges) => edges.plane === finding.plane) + 1];
    if (cell && finding.points.length > 0) svg.append(findingMark(finding, cell));
  }
}

/**
 * A finding drawn in `cell` (frame pixels): its outline (a region's ellipse, box or polygon,
 * an angle's arms, an arrow with its head, a ruler with its ends; an outline being drawn
 * open) and its label beside it. A `draft` is dashed, the `selected` one stands out with
 * its handles (a square on each, numbered as `handlesOf` gives them).
 */
function findingMark(finding, cell) {
  const points = finding.points.map(([x, y]) => [cell.x + x * cell.width, cell.y + y * cell.height]);
  const classes = ["finding", finding.selected && "selected", finding.draft && "draft"].filter(Boolean);
  const group = element("g", {
    class: classes.join(" "),
    "data-id": finding.id ?? "",
    "data-kind": finding.kind,
    "data-plane": finding.plane,
  });
  const path = points.map(([x, y]) => `${x},${y}`).join(" ");
  const [first, second = first] = points;
  const lowest = Math.max(...points.map(([, y]) => y));
  const leftmost = Math.min(...points.map(([x]) => x));
  // The label: under a region, by an angle's vertex, at an arrow's tail, past a ruler's end.
  let label = [leftmost, lowest + 16];
  switch (finding.kind) {
    case "ellipse":
    case "rectangle": {
      const [left, top] = [Math.min(first[0], second[0]), Math.min(first[1], second[1])];
      const [w, h] = [Math.abs(second[0] - first[0]), Math.abs(second[1] - first[1])];
      group.append(
        finding.kind === "ellipse"
          ? element("ellipse", { cx: left + w / 2, cy: top + h / 2, rx: w / 2, ry: h / 2 })
          : element("rect", { x: left, y: top, width: w, height: h }),
      );
      break;
    }
    case "polygon":
      group.append(element("polygon", { points: path }));
      break;
    case "freehand":
      group.append(element("polyline", { points: path }));
      break;
    case "angle":
      group.append(element("polyline", { points: path }), ...points.map(([cx, cy]) => element("circle", { cx, cy, r: 2.5 })));
      label = [second[0] + 8, second[1] - 8];
      break;
    case "arrow":
      group.append(element("line", { x1: first[0], y1: first[1], x2: second[0], y2: second[1] }), arrowHead(first, second));
      label = [first[0] + 6, first[1] + (first[1] >= second[1] ? 16 : -6)];
      break;
    default:
      group.append(
        element("line", { x1: first[0], y1: first[1], x2: second[0], y2: second[1] }),
        element("circle", { cx: first[0], cy: first[1], r: 2.5 }),
        element("circle", { cx: second[0], cy: second[1], r: 2.5 }),
      );
      label = [second[0] + 6, second[1] - 6];
  }
  if (finding.label) group.append(element("text", { x: label[0], y: label[1] }, finding.label));
  if (finding.selected) {
    const half = HANDLE_PX / 2;
    group.append(
      ...handlesOf(finding.kind, points).map(([x, y], index) =>
        element("rect", { class: "handle", "data-handle": index, x: x - half, y: y - half, width: HANDLE_PX, height: HANDLE_PX }),
      ),
    );
  }
  return group;
}

/** An arrow's head at `head`, pointing away from `tail`. */
function arrowHead(tail, head) {
  const length = Math.hypot(head[0] - tail[0], head[1] - tail[1]) || 1;
  const [ux, uy] = [(head[0] - tail[0]) / length, (head[1] - tail[1]) / length];
  const back = [head[0] - 10 * ux, head[1] - 10 * uy];
  const corners = [head, [back[0] - 5 * uy, back[1] + 5 * ux], [back[0] + 5 * uy, back[1] - 5 * ux]];
  return element("polygon", { class: "head", points: corners.map(([x, y]) => `${x},${y}`).join(" ") });
}
