// The segments panel: the open series' segments, each with its numbers (its volume in mL,
// the mean of its values), one selected; a new one added; the tools applied to the one
// selected (a threshold of the range typed, the region grown from a click on a slice of
// the 2×2 layout within that range, a disc brush and eraser dragged over a slice, the
// largest island, a margin, a closing and a median in mm, fill between the slices drawn,
// undo and redo);
// and the segments saved as a DICOM Segmentation; the Segmentations saved on the series
// before listed, each shown (its segments added) at a click. The tools run on the server,
// where the voxels are, which answers each edit with the segment's new numbers and tells
// the other participants of a shared session (`segment`, `segment_edit`, `segment_undo`,
// `save_segments`, `segmentations`, `load_segmentation` as docs/protocol.md says); and the
// server's segmentation model run on the series (`run_model`, `stop_model`), its classes
// becoming segments.

import { sliceAt } from "./input.js";
import { curveButton } from "./time.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A segment's line: "#2 Bone: 591.83 mL · mean 853.9 HU", and a PET segment's uptake:
 * "· SUVmax 12.41 · SUVmean 8.02 · SUVpeak 11.87".
 */
export function segmentLine(segment) {
  const n = segment.numbers;
  const mean = n.mean === undefined || n.mean === null ? "" : ` · mean ${n.mean.toFixed(1)} ${n.unit}`.trimEnd();
  const suv = n.suv
    ? ` · SUVmax ${n.suv.suv_max.toFixed(2)} · SUVmean ${n.suv.suv_mean.toFixed(2)} · SUVpeak ${n.suv.suv_peak.toFixed(2)}`
    : "";
  return `#${segment.id} ${segment.label}: ${n.volume_ml.toFixed(2)} mL${mean}${suv}`;
}

/** A stroke goes to the server in pieces of this many points while it is drawn. */
const STROKE_PIECE = 12;
/** Canvas pixels the pointer moves before the stroke takes another point. */
const STROKE_STEP_PX = 3;
/** The threshold's preview is sent at most this often while its range changes (ms). */
const PREVIEW_EVERY_MS = 120;

/**
 * The panel's elements (`panel`, `list`, `status`, `toggle`, `add`, `low`, `high`,
 * `threshold`, `grow`, `paint`, `erase`, `brushMm`, `fillBetween`, `largest`, `split`, `margin`,
 * `marginMm`, `smoothMm`, `closing`, `median`, `undo`, `redo`, `save`, `saved`, `runModel`,
 * `stopModel`),
 * `send(message)` (whether it went) and `plotCurve(segment)` (a segment's ∿, in a series
 * over time).
 */
export class Segments {
  constructor(elements, send, plotCurve) {
    this.el = elements;
    this.send = send;
    this.plotCurve = plotCurve;
    this.segments = [];
    this.selected = null;
    // The Segmentations saved on the series before (`segmentations`), newest first.
    this.kept = [];
    // The model's last `model_progress`.
    this.model = null;
    // The tool a press on a slice uses: null, "grow", "paint" or "erase".
    this.tool = null;
    // The stroke being drawn: its cell, the points not yet sent, the last point's pixel.
    this.stroke = null;
    // The plane last drawn on (fill between interpolates across its slices).
    this.drawnOn = "axial";
    this.status = "";
    elements.toggle.addEventListener("click", () => {
      const shown = elements.panel.hidden;
      elements.panel.hidden = !shown;
      elements.toggle.setAttribute("aria-expanded", String(shown));
    });
    elements.add.addEventListener("click", () => this.ask({ type: "segment", action: "create" }, "adding a segment…"));
    elements.threshold.addEventListener("click", () => {
      this.edit("threshold", this.range());
      // The threshold taken, its preview goes.
      if (elements.preview.checked) {
        elements.preview.checked = false;
        this.previewSoon();
      }
    });
    // The threshold's preview: sent as the range changes, at most every PREVIEW_EVERY_MS.
    this.previewTimer = null;
    for (const input of [elements.preview, elements.low, elements.high]) {
      input.addEventListener("input", () => this.previewSoon());
    }
    elements.grow.addEventListener("click", () => this.setTool(this.tool === "grow" ? null : "grow"));
    elements.paint.addEventListener("click", () => this.setTool(this.tool === "paint" ? null : "paint"));
    elements.erase.addEventListener("click", () => this.setTool(this.tool === "erase" ? null : "erase"));
    elements.closing.addEventListener("click", () => this.edit("closing", this.millimetres()));
    elements.median.addEventListener("click", () => this.edit("median", this.millimetres()));
    elements.fillBetween.addEventListener("click", () => this.edit("fill_between", { cell: this.drawnOn }));
    elements.largest.addEventListener("click", () => this.edit("islands", { keep: "largest" }));
    elements.split.addEventListener("click", () => this.edit("islands", { keep: "split" }));
    elements.margin.addEventListener("click", () => {
      const mm = Number(elements.marginMm.value);
      this.edit("margin", Number.isFinite(mm) ? { mm } : null);
    });
    elements.undo.addEventListener("click", () => this.undo(false));
    elements.redo.addEventListener("click", () => this.undo(true));
    elements.save.addEventListener("click", () => this.ask({ type: "save_segments" }, "saving the segments…"));
    elements.runModel.addEventListener("click", () => this.ask({ type: "run_model" }, "starting the model…"));
    elements.stopModel.addEventListener("click", () => this.ask({ type: "stop_model" }, "stopping the model…"));
    this.show();
  }

  /**
   * A new series opened: its segments follow (`segments`), if it has any, and the
   * Segmentations saved on it are asked for.
   */
  opened() {
    this.segments = [];
    this.selected = null;
    this.kept = [];
    this.setTool(null);
    this.status = "";
    // The server shows a new series without a preview.
    this.el.preview.checked = false;
    this.send({ type: "segmentations" });
    this.show();
  }

  /**
   * Sends the threshold's preview (the range over the slices, in the selected segment's
   * colour) or takes it away, once a moment has passed since the last one.
   */
  previewSoon() {
    if (this.previewTimer !== null) return;
    this.previewTimer = setTimeout(() => {
      this.previewTimer = null;
      if (!this.el.preview.checked) {
        this.send({ type: "segment_preview" });
        return;
      }
      const range = this.range();
      if (range === null) return;
      const id = this.selected ?? undefined;
      this.send({ type: "segment_preview", id, ...range });
    }, PREVIEW_EVERY_MS);
  }

  /** The smoothing radius typed (mm), or null (said in the status) when it is not one. */
  millimetres() {
    const mm = Number(this.el.smoothMm.value);
    if (this.el.smoothMm.value === "" || !(mm > 0)) {
      this.say("type a radius in mm above 0");
      return null;
    }
    return { mm };
  }

  /** The value range typed, or null (said in the status) when it is not one. */
  range() {
    const low = Number(this.el.low.value);
    const high = Number(this.el.high.value);
    if (this.el.low.value === "" || this.el.high.value === "" || !(low <= high)) {
      this.say("type a range of values, the low one first");
      return null;
    }
    return { low, high };
  }

  /**
   * Turns a slice tool on (`grow`: the next click on a slice grows the segment; `paint`
   * and `erase`: a drag over a slice draws discs of the brush's radius) or all off.
   */
  setTool(tool) {
    this.tool = tool !== null && this.selected !== null ? tool : null;
    this.el.grow.setAttribute("aria-pressed", String(this.tool === "grow"));
    this.el.paint.setAttribute("aria-pressed", String(this.tool === "paint"));
    this.el.erase.setAttribute("aria-pressed", String(this.tool === "erase"));
  }

  /** Sends the stroke's points not yet sent, as one piece of it. */
  sendStroke() {
    const stroke = this.stroke;
    if (!stroke || stroke.points.length === 0) return;
    const radius_mm = Number(this.el.brushMm.value);
    if (!(radius_mm > 0)) return this.say("type a brush radius in mm above 0");
    const values = { cell: stroke.cell, points: stroke.points, radius_mm, shape: "disc" };
    stroke.points = [];
    this.edit(stroke.tool, values);
  }

  /** Sends `message`, saying `doing` meanwhile. */
  ask(message, doing) {
    this.say(this.send(message) ? doing : "not connected to the server");
  }

  /** Applies `tool` with `values` to the selected segment. */
  edit(tool, values) {
    if (this.selected === null) return this.say("add or select a segment first");
    if (values === null) return;
    this.ask({ type: "segment_edit", id: this.selected, tool, ...values }, `${tool}…`);
  }

  undo(redo) {
    if (this.selected === null) return this.say("add or select a segment first");
    this.ask({ type: "segment_undo", id: this.selected, redo }, redo ? "redo…" : "undo…");
  }

  /**
   * Presses on `canvas` while a slice tool is on: with `grow`, the segment grows from the
   * slice point under it; with `paint` or `erase`, the drag is a stroke on that slice
   * (sent in pieces as it is drawn). Such presses go no further: attach it before the
   * other pointer inputs.
   */
  attach(canvas, layout) {
    canvas.addEventListener("pointerdown", (event) => {
      if (this.tool === null || layout() !== "2x2") return;
      const at = sliceAt(canvas, event.clientX, event.clientY);
      if (!at) return;
      event.stopImmediatePropagation();
      event.preventDefault();
      if (this.tool === "grow") {
        const range = this.range();
        if (range === null) return;
        this.edit("grow", { cell: at.plane, x: at.x, y: at.y, ...range });
        return;
      }
      canvas.setPointerCapture?.(event.pointerId);
      this.drawnOn = at.plane;
      this.stroke = { tool: this.tool, cell: at.plane, points: [[at.x, at.y]], last: [event.clientX, event.clientY] };
    });
    canvas.addEventListener("pointermove", (event) => {
      const stroke = this.stroke;
      if (!stroke) return;
      event.stopImmediatePropagation();
      const [lastX, lastY] = stroke.last;
      if (Math.hypot(event.clientX - lastX, event.clientY - lastY) < STROKE_STEP_PX) return;
      const at = sliceAt(canvas, event.clientX, event.clientY, stroke.cell);
      if (!at) return;
      stroke.last = [event.clientX, event.clientY];
      stroke.points.push([at.x, at.y]);
      if (stroke.points.length >= STROKE_PIECE) this.sendStroke();
    });
    const end = (event) => {
      if (!this.stroke) return;
      event.stopImmediatePropagation();
      this.sendStroke();
      this.stroke = null;
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  /** Takes a message of the server about segments; whether it was one. */
  take(message) {
    switch (message.type) {
      case "segments":
        this.segments = message.segments;
        if (!this.segments.some((s) => s.id === this.selected)) this.selected = this.segments[0]?.id ?? null;
        break;
      case "segment":
      case "shared_segment": {
        const segment = message.type === "segment" ? { ...message } : message.segment;
        delete segment.type;
        const at = this.segments.findIndex((s) => s.id === segment.id);
        if (at < 0) this.segments.push(segment);
        else this.segments[at] = segment;
        if (message.type === "segment") {
          this.selected = segment.id;
          this.status = segmentLine(segment);
        }
        break;
      }
      case "segment_deleted":
      case "shared_segment_deleted":
        this.segments = this.segments.filter((s) => s.id !== message.id);
        if (this.selected === message.id) this.selected = this.segments[0]?.id ?? null;
        break;
      case "segmentations":
        this.kept = message.saved;
        break;
      case "model_progress":
        // The model's run: its patches as they go, then how it ended.
        this.model = message;
        this.status =
          message.state === "running"
            ? `model ${message.model}: ${message.done} of ${message.total} patches`
            : `model ${message.model}: ${message.state}${message.message ? ` (${message.message})` : ""}`;
        break;
      default:
        return false;
    }
    this.show();
    return true;
  }

  /** A refusal the server sent, when it was about segments; whether it was. */
  refused(message) {
    if (!/^(segment|save_segments|load_segmentation|run_model|stop_model)/.test(message.message)) return false;
    this.say(`${message.code}: ${message.message}`);
    return true;
  }

  /** What the last save stored, when it was a Segmentation; whether it was. */
  saved(message) {
    if (message.document !== "segmentation") return false;
    this.say(`saved ${message.findings} segments as a Segmentation (${message.stored_in})`);
    // The list of those saved takes the new one.
    this.send({ type: "segmentations" });
    return true;
  }

  say(text) {
    this.status = text;
    this.el.status.textContent = text;
  }

  show() {
    this.el.toggle.textContent = `Segments (${this.segments.length})`;
    this.el.list.replaceChildren(
      ...this.segments.map((segment) => {
        const line = element("li", segment.id === this.selected ? "selected" : "");
        line.dataset.id = String(segment.id);
        const [r, g, b] = segment.colour;
        const swatch = element("span", "swatch");
        swatch.style.background = `rgb(${r}, ${g}, ${b})`;
        const pick = element("button", "go", segmentLine(segment));
        pick.type = "button";
        pick.title = "Select it: the tools apply to it";
        pick.addEventListener("click", () => {
          this.selected = segment.id;
          this.show();
        });
        line.append(swatch, pick);
        const curve = curveButton(`segment ${segment.id}`, segment.numbers.values, () => this.plotCurve(segment));
        if (curve) line.append(curve);
        return line;
      }),
    );
    if (this.segments.length === 0) this.el.list.append(element("li", "empty", "No segments on this series yet."));
    this.el.saved.replaceChildren(
      ...this.kept.map((saved) => {
        const line = element("li", "", ` ${saved.written} · ${saved.segments.join(", ")} (${saved.stored_in})`);
        const show = element("button", "show", "Show");
        show.type = "button";
        show.dataset.uid = saved.sop_instance_uid;
        show.title = "Add its segments to the series' own";
        show.addEventListener("click", () =>
          this.ask({ type: "load_segmentation", sop_instance_uid: saved.sop_instance_uid }, "reading the Segmentation…"),
        );
        line.prepend(show);
        return line;
      }),
    );
    if (this.kept.length === 0) this.el.saved.append(element("li", "empty", "None saved on this series."));
    this.el.status.textContent = this.status;
  }
}
