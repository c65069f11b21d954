// Live pointers in a shared session. While this page shares its session or follows one it
// joined, the mouse over the picture is sent as `pointer` (the cell it is over and where,
// as fractions of that cell; a null cell when it leaves), at most POINTER_EVERY_MS apart.
// The other participants' pointers come back as `pointer` messages with their name and
// colour, and are drawn here over the frames (never rendered into them): a dot and the
// name, in the cell named, wherever this page's layout shows that cell.

import { cellIndexAt, framePixel, quadCells } from "./input.js";

/** The least time between two pointers sent (ms): 20 a second. */
export const POINTER_EVERY_MS = 50;

/** A pointer not moved for this long is taken to have gone (ms). */
const STALE_MS = 15000;

const CELL_NAMES = ["3d", "axial", "coronal", "sagittal"];
const SVG = "http://www.w3.org/2000/svg";

/**
 * The cell under (`clientX`, `clientY`) on `canvas` in `layout` and where in it:
 * `{cell, x, y}` with fractions of the cell, or null outside the picture. In the 1×1
 * layout the whole picture is `single` (the 3D view, or the slice shown).
 */
export function pointerCell(canvas, clientX, clientY, layout, single = "3d") {
  const pixel = framePixel(canvas, clientX, clientY);
  if (!pixel) return null;
  const [px, py] = pixel;
  if (px < 0 || py < 0 || px >= canvas.width || py >= canvas.height) return null;
  const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1e4) / 1e4;
  if (layout !== "2x2") return { cell: single, x: round(px / canvas.width), y: round(py / canvas.height) };
  const cells = quadCells(canvas.width, canvas.height);
  const index = cellIndexAt(cells, px, py);
  if (index < 0) return null;
  const c = cells[index];
  return { cell: CELL_NAMES[index], x: round((px - c.x) / Math.max(c.width, 1)), y: round((py - c.y) / Math.max(c.height, 1)) };
}

/**
 * Where a pointer in `cell` at fractions `x`, `y` shows on a `width`×`height` frame in
 * `layout` ([px, py] frame pixels), or null when the layout does not show that cell.
 */
export function pointerSpot(cell, x, y, layout, width, height, single = "3d") {
  if (layout !== "2x2") return cell === single ? [x * width, y * height] : null;
  const index = CELL_NAMES.indexOf(cell);
  if (index < 0) return null;
  const c = quadCells(width, height)[index];
  return [c.x + x * c.width, c.y + y * c.height];
}

/** The others' pointers, kept by session and drawn into an SVG layer over the canvas. */
export class Pointers {
  constructor(svg) {
    this.svg = svg;
    /** By session: {session, name, colour, cell, x, y, at}. */
    this.others = new Map();
  }

  /** Takes a `pointer` message. */
  take(message, now = performance.now()) {
    if (message.cell === null || message.cell === undefined) {
      this.others.delete(message.session);
    } else {
      this.others.set(message.session, { ...message, at: now });
    }
  }

  /** Forgets every pointer (the session's series changed, or the page left the share). */
  clear() {
    this.others.clear();
  }

  /** The pointers shown: those not gone stale. */
  shown(now = performance.now()) {
    return [...this.others.values()].filter((p) => now - p.at < STALE_MS);
  }

  /** Draws them on a `width`×`height` frame in `layout`. */
  draw(layout, width, height, single = "3d") {
    this.svg.setAttribute("viewBox", `0 0 ${Math.max(width, 1)} ${Math.max(height, 1)}`);
    this.svg.replaceChildren();
    for (const pointer of this.shown()) {
      const spot = pointerSpot(pointer.cell, pointer.x, pointer.y, layout, width, height, single);
      if (!spot) continue;
      const group = document.createElementNS(SVG, "g");
      group.setAttribute("class", "pointer");
      group.setAttribute("data-session", String(pointer.session));
      group.setAttribute("data-cell", pointer.cell);
      const dot = document.createElementNS(SVG, "circle");
      for (const [key, value] of [["cx", spot[0]], ["cy", spot[1]], ["r", 5], ["fill", pointer.colour]]) {
        dot.setAttribute(key, String(value));
      }
      const name = document.createElementNS(SVG, "text");
      for (const [key, value] of [["x", spot[0] + 8], ["y", spot[1] - 8], ["fill", pointer.colour]]) {
        name.setAttribute(key, String(value));
      }
      name.textContent = pointer.name;
      group.append(dot, name);
      this.svg.append(group);
    }
  }
}

/**
 * Sends this page's pointer over `canvas` while `inShare()` says the session is shared
 * or joined: `send(message)` at most every POINTER_EVERY_MS, the last position always
 * sent once the pointer rests, and a null cell when it leaves the picture.
 */
export function attachPointerSharing(canvas, send, inShare, layout, single = () => "3d") {
  let lastSent = 0;
  let pending = null;
  let timer = null;
  const flush = () => {
    timer = null;
    if (!pending || !inShare()) return;
    send(pending);
    pending = null;
    lastSent = performance.now();
  };
  const offer = (message) => {
    pending = message;
    const wait = POINTER_EVERY_MS - (performance.now() - lastSent);
    if (wait <= 0) flush();
    else if (timer === null) timer = setTimeout(flush, wait);
  };
  canvas.addEventListener("pointermove", (event) => {
    if (!inShare()) return;
    const at = pointerCell(canvas, event.clientX, event.clientY, layout(), single());
    offer(at ? { type: "pointer", ...at } : { type: "pointer", cell: null });
  });
  canvas.addEventListener("pointerleave", () => {
    if (inShare()) offer({ type: "pointer", cell: null });
  });
}
