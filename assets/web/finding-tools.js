// The findings tools on the slices of the 2×2 layout. With Ellipse or Rectangle a drag
// draws the shape corner to corner; with Freehand it draws an outline, a vertex every few
// pixels; with Arrow it draws tail to head, then the page asks for the note; with Angle
// three clicks place its points, the vertex second. A press on a finding shown selects it
// and a drag moves it; on the selected one's handles a drag resizes its box (a corner) or
// moves one of its points; Delete removes the selected one; Esc drops what is being drawn.
// What is drawn goes to the server as a `finding` message (points as fractions of the
// cell, as `measure` takes a ruler's ends); the server measures it and answers.

import { sliceAt } from "./input.js";
import { FINDING_TOOLS, FREEHAND_MAX_POINTS, FREEHAND_STEP_PX, drawnEnough, findingAt, shiftedPoints, withinCell } from "./findings.js";
import { handleAt, reshapedPoints } from "./finding-handles.js";
import { cellOf, pixelsInCell } from "./rulers.js";

/**
 * Wires the findings tools to `canvas`. Call it before `attachPointer`: a press it uses (a
 * findings tool drawing on a slice, or a finding picked) goes no further, any other goes
 * on to the view's inputs. `page` gives `tool()` (the tool on), `layout()`, `shown()` (the
 * findings drawn now, as `visibleFindings` gives them), `selected()` and `select(id)`,
 * `send(message)` (a `finding` message; whether it went), `remove(id)`, `redraw()` and `notes` (the
 * `NoteForm` asking for an arrow's note). Returns `shapes(shown)` (what to draw: the
 * findings shown as they are being moved or reshaped, then the one being drawn), `cancel()`
 * (drops it) and `settle()` (the server answered the latest request: its draft goes).
 */
export function attachFindingTools(canvas, page) {
  // The finding being drawn: {kind, plane, points, hover?, pending?} (fractions of its cell).
  let drawing = null;
  // The finding being moved (`handle` null) or reshaped by its handle `handle` (an index
  // of `handlesOf`): {id, plane, handle, from, to, pending?}, from and to where the
  // pointer went down and is now.
  let moving = null;
  // The pointer drawing or moving, while its button is down.
  let active = null;

  const spot = (event, plane = null) => {
    const at = sliceAt(canvas, event.clientX, event.clientY, plane);
    return at && { plane: at.plane, point: [at.x, at.y] };
  };
  const pixels = (plane, from, to) => pixelsInCell(plane, from, to, canvas.width, canvas.height);

  /** The points of `shape` (shown) as the move or reshape under way leaves them. */
  const moved = (shape) =>
    moving.handle === null
      ? shiftedPoints(shape.points, [moving.to[0] - moving.from[0], moving.to[1] - moving.from[1]])
      : reshapedPoints(shape.kind, shape.points, moving.handle, moving.to);

  /** Takes the press `event` from the view's inputs: its moves and release come here. */
  const claim = (event) => {
    event.stopImmediatePropagation();
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    active = event.pointerId;
    page.redraw();
  };

  /** Sends a new finding of `drawing`, which stays drawn until the server answers. */
  const create = (note = null) => {
    const message = {
      type: "finding",
      action: "create",
      kind: drawing.kind,
      cell: drawing.plane,
      points: withinCell(drawing.points),
    };
    if (note) message.note = note;
    if (page.send(message)) {
      drawing.pending = true;
      delete drawing.hover;
    } else {
      drawing = null;
    }
    page.redraw();
  };

  const cancel = () => {
    drawing = null;
    moving = null;
    active = null;
    page.redraw();
  };

  canvas.addEventListener(
    "pointerdown",
    (event) => {
      if (active !== null) {
        // A second finger drops what the first was drawing or moving.
        event.stopImmediatePropagation();
        cancel();
        return;
      }
      if (page.layout() !== "2x2") return;
      // A press elsewhere drops the arrow whose note is being asked for.
      if (drawing?.asking) page.notes.finish(null);
      const primary = event.pointerType === "touch" || event.button === 0;
      const tool = page.tool();
      if (!primary || event.shiftKey || tool === "ruler" || tool === "window") return;
      const at = spot(event);
      if (drawing?.kind === "angle" && !drawing.pending) {
        // The angle's next point, on the slice it began on; a press elsewhere drops it.
        if (at?.plane === drawing.plane) {
          drawing.points.push(at.point);
          claim(event);
          if (drawing.points.length === 3) create();
          return;
        }
        drawing = null;
        page.redraw();
      }
      if (!at) return;
      const pointer = { plane: at.plane, x: at.point[0], y: at.point[1] };
      // A handle of the selected finding first: it reshapes the finding.
      const selected = page.shown().find((shape) => shape.id === page.selected());
      const handle = selected ? handleAt(selected, pointer, canvas.width, canvas.height, event.pointerType === "touch") : null;
      const picked = handle !== null ? selected.id : findingAt(page.shown(), pointer, canvas.width, canvas.height);
      if (picked !== null) {
        page.select(picked);
        moving = { id: picked, plane: at.plane, handle, from: at.point, to: at.point };
        claim(event);
        return;
      }
      if (page.selected() !== null) page.select(null);
      // Without a findings tool, a press on a slice moves the crosshair as before.
      if (!FINDING_TOOLS.includes(tool)) return;
      const corners = tool === "angle" || tool === "freehand" ? [at.point] : [at.point, at.point];
      drawing = { kind: tool, plane: at.plane, points: corners };
      claim(event);
    },
    { capture: true },
  );

  canvas.addEventListener("pointermove", (event) => {
    if (drawing?.kind === "angle" && !drawing.pending) {
      drawing.hover = spot(event, drawing.plane).point;
      page.redraw();
      return;
    }
    if (event.pointerId !== active) return;
    if (moving) {
      moving.to = spot(event, moving.plane).point;
    } else if (drawing?.kind === "freehand") {
      const at = spot(event, drawing.plane).point;
      const last = drawing.points[drawing.points.length - 1];
      if (drawing.points.length < FREEHAND_MAX_POINTS && pixels(drawing.plane, last, at) >= FREEHAND_STEP_PX) {
        drawing.points.push(at);
      }
    } else if (drawing && !drawing.pending) {
      drawing.points[1] = spot(event, drawing.plane).point;
    }
    page.redraw();
  });

  const release = (event) => {
    if (event.pointerId !== active) return;
    active = null;
    if (event.type === "pointercancel") cancel();
    else if (moving) finishMove();
    else if (drawing && drawing.kind !== "angle") finishDrawing();
  };
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);

  /**
   * Sends the moved or reshaped finding's points, or leaves it selected where it was after
   * a click or a reshape too small to keep.
   */
  const finishMove = () => {
    const shape = page.shown().find((shown) => shown.id === moving.id);
    const points = shape && moved(shape);
    const kept =
      shape &&
      pixels(moving.plane, moving.from, moving.to) >= 1 &&
      (moving.handle === null || drawnEnough(shape.kind, points, (from, to) => pixels(moving.plane, from, to)));
    if (!kept) {
      moving = null;
      page.redraw();
      return;
    }
    if (page.send({ type: "finding", action: "update", id: moving.id, points: withinCell(points) })) moving.pending = true;
    else moving = null;
    page.redraw();
  };

  /** Sends the shape dragged out, asking an arrow's note first; a click draws nothing. */
  const finishDrawing = () => {
    const { kind, plane, points } = drawing;
    const last = points[points.length - 1];
    if (!drawnEnough(kind, points, (from, to) => pixels(plane, from, to))) {
      drawing = null;
      page.redraw();
      return;
    }
    if (kind !== "arrow") {
      create();
      return;
    }
    // The note is asked for beside the arrow's head.
    const asked = drawing;
    asked.asking = true;
    const cell = cellOf(plane, canvas.width, canvas.height);
    const rect = canvas.getBoundingClientRect();
    const x = rect.left + ((cell.x + last[0] * cell.width) / canvas.width) * rect.width;
    const y = rect.top + ((cell.y + last[1] * cell.height) / canvas.height) * rect.height;
    page.notes.ask(x, y).then((note) => {
      if (drawing !== asked) return;
      delete asked.asking;
      if (note !== null) {
        create(note);
        return;
      }
      drawing = null;
      page.redraw();
    });
  };

  window.addEventListener("keydown", (event) => {
    if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
    if (event.key === "Escape" && (drawing || moving)) {
      cancel();
    } else if (event.key === "Escape" && page.selected() !== null) {
      page.select(null);
    } else if ((event.key === "Delete" || event.key === "Backspace") && page.selected() !== null) {
      page.remove(page.selected());
    } else {
      return;
    }
    event.preventDefault();
  });

  return {
    shapes(shown) {
      const shapes = shown.map((shape) =>
        moving?.id === shape.id ? { ...shape, points: moved(shape) } : shape,
      );
      if (drawing) {
        const points = drawing.hover ? [...drawing.points, drawing.hover] : drawing.points;
        shapes.push({ kind: drawing.kind, plane: drawing.plane, points, label: "", draft: true });
      }
      return shapes;
    },
    cancel,
    settle() {
      if (drawing?.pending) drawing = null;
      if (moving?.pending) moving = null;
      page.redraw();
    },
  };
}
