// Mouse, touch and keyboard → protocol actions. Left drag orbits, right drag sets
// window/level, shift- or middle-drag pans, the wheel zooms; one finger orbits, a pinch
// zooms, two fingers pan.

const DEGREES_PER_PIXEL = 0.4;

/**
 * Wires the canvas to `send(action, fields)`. `windowState()` gives the current
 * {width, center}; `setWindow(w)` records a new one.
 */
export function attachPointer(canvas, send, windowState, setWindow) {
  const pointers = new Map();
  let mode = null;
  let pinch = null;

  const begin = () => send("interact", { active: true });
  const end = () => send("interact", { active: false });

  canvas.addEventListener("contextmenu", (event) => event.preventDefault());

  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (pointers.size === 1) {
      if (event.pointerType === "touch" || event.button === 0) {
        mode = event.shiftKey ? "pan" : "orbit";
      } else if (event.button === 1) {
        mode = "pan";
      } else if (event.button === 2) {
        mode = "window";
      }
      begin();
    } else if (pointers.size === 2) {
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
    if (mode === "orbit") {
      // The object follows the pointer: the camera turns the other way.
      send("orbit", { dx: -dx * DEGREES_PER_PIXEL, dy: dy * DEGREES_PER_PIXEL });
    } else if (mode === "pan") {
      send("pan", { dx: -dx / height, dy: dy / height });
    } else if (mode === "window") {
      const w = windowState();
      const step = Math.max(w.width, 1) / 256;
      const next = { width: Math.max(1, w.width + dx * step), center: w.center - dy * step };
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
      mode = "orbit";
      pinch = null;
    } else if (pointers.size === 0 && mode) {
      mode = null;
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
    if (event.target instanceof HTMLSelectElement) return;
    const key = event.key;
    if (views[key]) send("view", { name: views[key] });
    else if (key === "r" || key === "R") send("reset");
    else if (key === "s" || key === "S") actions.still();
    else if (key === "m" || key === "M") actions.nextMode();
    else if (key === "p" || key === "P") actions.nextPreset();
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
