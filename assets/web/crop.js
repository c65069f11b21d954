// The crop box control: a min and a max range input per axis (i runs R→L, j A→P, k I→S),
// sending `crop` inputs (at most one every 50 ms while a slider is dragged, with
// `interact` around the drag) and a button back to the whole volume.

/** The thinnest box the server accepts along an axis (a fraction of the volume). */
const MIN_THICKNESS = 0.01;
/** The shortest time between two `crop` inputs while dragging (ms). */
const SEND_INTERVAL_MS = 50;
const AXES = ["i", "j", "k"];

/** The whole volume. */
export const WHOLE = Object.freeze({ min: [0, 0, 0], max: [1, 1, 1] });

/**
 * `box` with one side of `axis` moved to `value`, kept at least MIN_THICKNESS from the
 * other side and within 0..1.
 */
export function movedSide(box, axis, side, value) {
  const out = { min: [...box.min], max: [...box.max] };
  if (side === "min") out.min[axis] = Math.min(Math.max(value, 0), box.max[axis] - MIN_THICKNESS);
  else out.max[axis] = Math.max(Math.min(value, 1), box.min[axis] + MIN_THICKNESS);
  return out;
}

/**
 * Wires the inputs `crop-i-min` … `crop-k-max` and `crop-reset` under `root`. `send`
 * sends an input; `onCrop(box)` hears every box sent. Returns `show(box)`, which sets the
 * sliders from the server's view (ignored while the user drags).
 */
export function attachCrop(root, send, onCrop) {
  let box = { min: [...WHOLE.min], max: [...WHOLE.max] };
  let dragging = false;
  let unsent = false;
  let lastSent = 0;
  let timer = null;
  const input = (axis, side) => root.querySelector(`#crop-${AXES[axis]}-${side}`);
  const showBox = () => {
    AXES.forEach((_, axis) => {
      input(axis, "min").value = String(box.min[axis]);
      input(axis, "max").value = String(box.max[axis]);
    });
  };
  const flush = () => {
    clearTimeout(timer);
    timer = null;
    if (!unsent) return;
    unsent = false;
    lastSent = performance.now();
    send("crop", { min: [...box.min], max: [...box.max] });
    onCrop(box);
  };
  const changed = () => {
    unsent = true;
    const wait = lastSent + SEND_INTERVAL_MS - performance.now();
    if (!dragging || wait <= 0) flush();
    else if (timer === null) timer = setTimeout(flush, wait);
  };
  const endDrag = () => {
    flush();
    if (dragging) {
      dragging = false;
      send("interact", { active: false });
    }
  };
  AXES.forEach((_, axis) => {
    for (const side of ["min", "max"]) {
      const range = input(axis, side);
      range.addEventListener("pointerdown", () => {
        if (dragging) return;
        dragging = true;
        send("interact", { active: true });
      });
      range.addEventListener("input", () => {
        box = movedSide(box, axis, side, Number(range.value));
        changed();
      });
      range.addEventListener("change", () => {
        showBox();
        endDrag();
      });
      range.addEventListener("pointerup", endDrag);
      range.addEventListener("pointercancel", endDrag);
    }
  });
  root.querySelector("#crop-reset").addEventListener("click", () => {
    box = { min: [...WHOLE.min], max: [...WHOLE.max] };
    showBox();
    unsent = true;
    flush();
  });
  showBox();
  return (shown) => {
    if (dragging || unsent) return;
    box = shown ? { min: [...shown.min], max: [...shown.max] } : { min: [...WHOLE.min], max: [...WHOLE.max] };
    showBox();
  };
}
