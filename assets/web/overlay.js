// What the browser draws over the server's 2×2 frame: the lines between the cells, each
// slice's name and orientation letters, and the crosshair where the server says it shows
// in each slice. The server draws the images only; this SVG lies over the canvas and
// uses its pixels as coordinates.

import { quadCells } from "./input.js";

const SVG = "http://www.w3.org/2000/svg";

/**
 * The slices in cell order with the patient directions (LPS letters) at each edge of
 * their cells: radiological convention, as the server draws them (axial seen from the
 * feet, coronal from the front, sagittal from the patient's left). `across` and `down`
 * are the planes whose traces cross the cell horizontally and vertically: the crosshair
 * lines, each in its plane's colour.
 */
export const SLICE_EDGES = [
  { plane: "axial", left: "R", right: "L", top: "A", bottom: "P", across: "coronal", down: "sagittal" },
  { plane: "coronal", left: "R", right: "L", top: "S", bottom: "I", across: "axial", down: "sagittal" },
  { plane: "sagittal", left: "A", right: "P", top: "S", bottom: "I", across: "axial", down: "coronal" },
];

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Redraws `svg` for a `width`×`height` frame: empty in the 1×1 layout; in the 2×2 one
 * the dividers, names, orientation letters and, when `crosshairCells` is known
 * (`{axial: [x, y], ...}` as fractions of each cell), the crosshair lines; then the
 * `rulers` (`{plane, from: [x, y], to: [x, y], label}`, fractions of their cell).
 */
export function drawOverlay(svg, layout, width, height, crosshairCells, rulers = []) {
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.replaceChildren();
  if (layout !== "2x2" || width <= 0 || height <= 0) return;
  const cells = quadCells(width, height);
  const middle = cells[3];
  svg.append(
    element("line", { class: "divider", x1: middle.x, y1: 0, x2: middle.x, y2: height }),
    element("line", { class: "divider", x1: 0, y1: middle.y, x2: width, y2: middle.y }),
    element("text", { class: "name", x: 6, y: 16 }, "3D"),
  );
  SLICE_EDGES.forEach((edges, n) => {
    const cell = cells[n + 1];
    const group = element("g", { "data-plane": edges.plane });
    const right = cell.x + cell.width;
    const bottom = cell.y + cell.height;
    const centreX = cell.x + cell.width / 2;
    const centreY = cell.y + cell.height / 2;
    const spot = crosshairCells?.[edges.plane];
    if (spot) {
      const x = cell.x + spot[0] * cell.width;
      const y = cell.y + spot[1] * cell.height;
      // Lines through the crosshair, with a gap around it so the point itself shows.
      const gap = 8;
      const lines = [
        [edges.across, cell.x, y, x - gap, y],
        [edges.across, x + gap, y, right, y],
        [edges.down, x, cell.y, x, y - gap],
        [edges.down, x, y + gap, x, bottom],
      ];
      const crosshair = element("g", { class: "crosshair", "data-x": x, "data-y": y });
      for (const [plane, x1, y1, x2, y2] of lines) {
        if (x2 > x1 || y2 > y1) crosshair.append(element("line", { class: plane, x1, y1, x2, y2 }));
      }
      group.append(crosshair);
    }
    group.append(
      element("text", { class: "name", x: cell.x + 6, y: cell.y + 16 }, edges.plane),
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
}
