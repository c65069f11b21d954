// Mouse, touch and keyboard → protocol actions. Left drag orbits, right drag sets
// window/level, shift- or middle-drag pans, the wheel zooms; one finger orbits, a pinch
// zooms, two fingers pan. In the 2×2 layout the cell under the pointer decides: the 3D
// cell (top left) as above; on a slice the wheel moves the slice, a click or drag
// moves the crosshair, and a shift-drag (or any drag with the ruler tool on) draws a ruler.
// With the W/L tool on, a left drag or one finger sets window/level as a right-drag does
// (for touch screens, which have no right button).

const DEGREES_PER_PIXEL = 0.4;

/** The slice planes of the 2×2 cells after the 3D one, in the server's order. */
const PLANES = ["axial", "coronal", "sagittal"];

/**
 * The 2×2 cells of a frame `width`×`height` (3D, axial, coronal, sagittal) as the server
 * lays them out: of an odd side, the left column and the top row get the smaller half.
 */
export function quadCells(width, height) {
  const left = Math.floor(width / 2);
  const top = Math.floor(height / 2);
  return [
    { x: 0, y: 0, width: left, height: top },
    { x: left, y: 0, width: width - left, height: top },
    { x: 0, y: top, width: left, height: height - top },
    { x: left, y: top, width: width - left, height: height - top },
  ];
}

/**
 * Where (`clientX`, `clientY`) falls on `canvas` in frame pixels ([px, py]: the canvas's
 * pixels are the frame's); null while the canvas has no size on the page.
 */
export function framePixel(canvas, clientX, clientY) {
  const rect = canvas.getBoundingClientRect();
  if (rect.width <= 0 || rect.height <= 0) return null;
  return [((clientX - rect.left) / rect.width) * canvas.width, ((clientY - rect.top) / rect.height) * canvas.height];
}

/** The index in `cells` (as `quadCells` gives them) of the cell holding frame pixel (`px`, `py`), or -1. */
export const cellIndexAt = (cells, px, py) =>
  cells.findIndex((c) => px >= c.x && px < c.x + c.width && py >= c.y && py < c.y + c.height);

/**
 * The slice under a pointer at (`clientX`, `clientY`) on `canvas` (whose pixels are the
 * frame's) in the 2×2 layout: {plane, x, y} with x, y fractions of its cell; `null` over
 * the 3D cell. With `plane` given, the fractions of that plane's cell, clamped.
 */
export function sliceAt(canvas, clientX, clientY, plane = null) {
  const pixel = framePixel(canvas, clientX, clientY);
  if (!pixel) return null;
  const [px, py] = pixel;
  const cells = quadCells(canvas.width, canvas.height);
  let index = plane ? PLANES.indexOf(plane) + 1 : cellIndexAt(cells, px, py);
  if (index < 1) return null;
  const cell = cells[index];
  const clamp = (n) => Math.min(1, Math.max(0, n));
  return {
    plane: PLANES[index - 1],
    x: clamp((px - cell.x) / Math.max(cell.width, 1)),
    y: clamp((py - cell.y) / Math.max(cell.height, 1)),
  };
}

/**
 * The window after a right-drag of (`dx`, `dy`) pixels, as the desktop does it: right
 * widens it, down raises its centre, by 1/256 of the width a pixel (at least 1).
 */
export function draggedWindow(window, dx, dy) {
  const step = Math.max(window.width / 256, 1);
  return { width: Math.max(1, window.width + dx * step), center: window.center + dy * step };
}

/**
 * Wires the canvas to `send(action, fields)`. `windowState()` gives the current
 * {width, center}; `setWindow(w)` records a new one; `layout()` gives `"1x1"` or `"2x2"`
 * and `sliceStepMm()` the distance a wheel step moves a slice; `tool()` the tool on
 * (`"ruler"`, `"window"` or null). `ruler` draws rulers on slices: `begin(at)`,
 * `move(at)`, `end()` with `at` a slice spot as `sliceAt` gives it.
 */
export function attachPointer(canvas, send, windowState, setWindow, layout, sliceStepMm, tool, ruler) {
  const pointers = new Map();
  let mode = null;
  let pinch = null;
  // The plane whose cell a crosshair drag started in.
  let dragPlane = null;
  const slice = (event) =>
    layout() === "2x2" ? sliceAt(canvas, event.clientX, event.clientY) : null;

  const begin = () => send("interact", { active: true });
  const end = () => send("interact", { active: false });

  canvas.addEventListener("contextmenu", (event) => event.preventDefault());

  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    const onSlice = slice(event);
    if (pointers.size === 1) {
      const primary = event.pointerType === "touch" || event.button === 0;
      if (primary && tool() === "window") {
        mode = "window";
      } else if (onSlice && primary && ruler && (event.shiftKey || tool() === "ruler")) {
        mode = "ruler";
        dragPlane = onSlice.plane;
        ruler.begin(onSlice);
      } else if (onSlice && primary) {
        mode = "crosshair";
        dragPlane = onSlice.plane;
      } else if (event.pointerType === "touch" || event.button === 0) {
        mode = event.shiftKey ? "pan" : "orbit";
      } else if (event.button === 1) {
        mode = "pan";
      } else if (event.button === 2) {
        mode = "window";
      }
      // A ruler changes no picture: no `interact`.
      if (mode !== "ruler") begin();
      // After `interact`: the release then brings the final still.
      if (mode === "crosshair") send("crosshair", onSlice);
    } else if (pointers.size === 2) {
      // A second finger turns what the first began into a pinch: a ruler being drawn is
      // dropped, and a pinch changes the picture, so it is an interaction.
      if (mode === "ruler") {
        ruler.cancel();
        begin();
      }
      mode = "pinch";
      pinch = twoFingers(pointers);
    }
    event.preventDefault();
  });

  canvas.addEventListener("pointermove", (event) => {
    const last = pointers.get(event.pointerId);
    if (!last || !mode) return;
    const dx = event.clientX - last.x;
    const dy = event.clientY - last.y;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    const height = canvas.clientHeight || 1;
    if (mode === "crosshair") {
      const at = sliceAt(canvas, event.clientX, event.clientY, dragPlane);
      if (at) send("crosshair", at);
    } else if (mode === "ruler") {
      const at = sliceAt(canvas, event.clientX, event.clientY, dragPlane);
      if (at) ruler.move(at);
    } else if (mode === "orbit") {
      // The object follows the pointer: the camera turns the other way.
      send("orbit", { dx: -dx * DEGREES_PER_PIXEL, dy: dy * DEGREES_PER_PIXEL });
    } else if (mode === "pan") {
      send("pan", { dx: -dx / height, dy: dy / height });
    } else if (mode === "window") {
      const next = draggedWindow(windowState(), dx, dy);
      setWindow(next);
      send("window", next);
    } else if (mode === "pinch" && pointers.size === 2) {
      const now = twoFingers(pointers);
      if (pinch && pinch.distance > 0 && now.distance > 0) {
        send("zoom", { factor: now.distance / pinch.distance });
      }
      if (pinch) {
        send("pan", { dx: -(now.x - pinch.x) / height, dy: (now.y - pinch.y) / height });
      }
      pinch = now;
    }
  });

  const release = (event) => {
    if (!pointers.delete(event.pointerId)) return;
    if (pointers.size === 1 && mode === "pinch") {
      // The finger left on the glass goes on with what one finger does.
      mode = tool() === "window" ? "window" : "orbit";
      pinch = null;
    } else if (pointers.size === 0 && mode === "ruler") {
      mode = null;
      dragPlane = null;
      ruler.end();
    } else if (pointers.size === 0 && mode) {
      mode = null;
      dragPlane = null;
      end();
    }
  };
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);

  canvas.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const pixels = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
      const onSlice = slice(event);
      if (onSlice) {
        // One slice a wheel step; scrolling up moves towards the viewer.
        if (pixels !== 0) {
          send("slice", { plane: onSlice.plane, delta_mm: Math.sign(pixels) * sliceStepMm() });
        }
        return;
      }
      send("zoom", { factor: Math.exp(-pixels * 0.0015) });
    },
    { passive: false },
  );
}

function twoFingers(pointers) {
  const [a, b] = [...pointers.values()];
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, distance: Math.hypot(a.x - b.x, a.y - b.y) };
}

/** Keyboard shortcuts; `actions` maps names to functions. */
export function attachKeys(target, send, actions) {
  const views = { 1: "anterior", 2: "posterior", 3: "left", 4: "right", 5: "superior", 6: "inferior" };
  target.addEventListener("keydown", (event) => {
    // Typing in a field (a search, a note) is no shortcut.
    if (event.target.closest?.("input, textarea, select")) return;
    const key = event.key;
    if (views[key]) send("view", { name: views[key] });
    else if (key === "r" || key === "R") send("reset");
    else if (key === "s" || key === "S") actions.still();
    else if (key === "m" || key === "M") actions.nextMode();
    else if (key === "p" || key === "P") actions.nextPreset();
    else if (key === "l" || key === "L") actions.toggleLayout();
    else if (key === "+" || key === "=") send("zoom", { factor: 1.1 });
    else if (key === "-" || key === "_") send("zoom", { factor: 1 / 1.1 });
    else if (key === "ArrowLeft") send("orbit", { dx: 5, dy: 0 });
    else if (key === "ArrowRight") send("orbit", { dx: -5, dy: 0 });
    else if (key === "ArrowUp") send("orbit", { dx: 0, dy: -5 });
    else if (key === "ArrowDown") send("orbit", { dx: 0, dy: 5 });
    else return;
    event.preventDefault();
  });
}
