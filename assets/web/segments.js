// The segments panel: the open series' segments, each with its numbers (its volume in mL,
// the mean of its values), one selected; a new one added; the tools applied to the one
// selected (a threshold of the range typed, the region grown from a click on a slice of
// the 2×2 layout within that range, the largest island, a margin in mm, undo and redo);
// and the segments saved as a DICOM Segmentation. The tools run on the server, where the
// voxels are, which answers each edit with the segment's new numbers and tells the other
// participants of a shared session (`segment`, `segment_edit`, `segment_undo`,
// `save_segments` as docs/protocol.md says).

import { sliceAt } from "./input.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A segment's line: "#2 Bone: 591.83 mL · mean 853.9 HU". */
export function segmentLine(segment) {
  const n = segment.numbers;
  const mean = n.mean === undefined || n.mean === null ? "" : ` · mean ${n.mean.toFixed(1)} ${n.unit}`.trimEnd();
  return `#${segment.id} ${segment.label}: ${n.volume_ml.toFixed(2)} mL${mean}`;
}

/**
 * The panel's elements (`panel`, `list`, `status`, `toggle`, `add`, `low`, `high`,
 * `threshold`, `grow`, `largest`, `margin`, `marginMm`, `undo`, `redo`, `save`) and
 * `send(message)` (whether it went).
 */
export class Segments {
  constructor(elements, send) {
    this.el = elements;
    this.send = send;
    this.segments = [];
    this.selected = null;
    this.growing = false;
    this.status = "";
    elements.toggle.addEventListener("click", () => {
      const shown = elements.panel.hidden;
      elements.panel.hidden = !shown;
      elements.toggle.setAttribute("aria-expanded", String(shown));
    });
    elements.add.addEventListener("click", () => this.ask({ type: "segment", action: "create" }, "adding a segment…"));
    elements.threshold.addEventListener("click", () => this.edit("threshold", this.range()));
    elements.grow.addEventListener("click", () => this.setGrowing(!this.growing));
    elements.largest.addEventListener("click", () => this.edit("islands", { keep: "largest" }));
    elements.margin.addEventListener("click", () => {
      const mm = Number(elements.marginMm.value);
      this.edit("margin", Number.isFinite(mm) ? { mm } : null);
    });
    elements.undo.addEventListener("click", () => this.undo(false));
    elements.redo.addEventListener("click", () => this.undo(true));
    elements.save.addEventListener("click", () => this.ask({ type: "save_segments" }, "saving the segments…"));
    this.show();
  }

  /** A new series opened: its segments follow (`segments`), if it has any. */
  opened() {
    this.segments = [];
    this.selected = null;
    this.setGrowing(false);
    this.status = "";
    this.show();
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

  /** Turns the grow tool on (the next click on a slice grows the segment) or off. */
  setGrowing(on) {
    this.growing = on && this.selected !== null;
    this.el.grow.setAttribute("aria-pressed", String(this.growing));
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
   * A press on `canvas` while the grow tool is on: the segment grows from the slice point
   * under it and the press goes no further. Attach it before the other pointer inputs.
   */
  attach(canvas, layout) {
    canvas.addEventListener("pointerdown", (event) => {
      if (!this.growing || layout() !== "2x2") return;
      const at = sliceAt(canvas, event.clientX, event.clientY);
      if (!at) return;
      event.stopImmediatePropagation();
      event.preventDefault();
      const range = this.range();
      if (range === null) return;
      this.edit("grow", { cell: at.plane, x: at.x, y: at.y, ...range });
    });
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
      default:
        return false;
    }
    this.show();
    return true;
  }

  /** A refusal the server sent, when it was about segments; whether it was. */
  refused(message) {
    if (!/^(segment|save_segments)/.test(message.message)) return false;
    this.say(`${message.code}: ${message.message}`);
    return true;
  }

  /** What the last save stored, when it was a Segmentation; whether it was. */
  saved(message) {
    if (message.document !== "segmentation") return false;
    this.say(`saved ${message.findings} segments as a Segmentation (${message.stored_in})`);
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
        return line;
      }),
    );
    if (this.segments.length === 0) this.el.list.append(element("li", "empty", "No segments on this series yet."));
    this.el.status.textContent = this.status;
  }
}
