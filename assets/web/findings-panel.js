// The findings panel beside the view: one line per finding of the open series (its
// number, kind, slice and what it measures), the selected one marked. A click on a line
// selects the finding and goes to its slice; × deletes it; an arrow's ✎ changes its note;
// a region's ∿ plots its time-intensity curve (in a series over time).
// Below the list, what the last save answered.

import { findingLabel, kindName } from "./findings.js";
import { curveButton } from "./time.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A finding's line as the list shows it: "#3 Ellipse (axial) mean 41.2 HU · sd 8.3 · 125.4 mm²". */
export const findingLine = (finding) =>
  `#${finding.id} ${kindName(finding.kind)} (${finding.cell}) ${findingLabel(finding)}`.trim();

/**
 * The panel `panel` (holding `#findings-list` and `#findings-saved`);
 * `goTo(finding)`, `remove(id)`, `editNote(finding)` and `plotCurve(finding)` act on a
 * line's finding.
 */
export class FindingsPanel {
  constructor(panel, { goTo, remove, editNote, plotCurve }) {
    this.list = panel.querySelector("#findings-list");
    this.saved = panel.querySelector("#findings-saved");
    this.goTo = goTo;
    this.remove = remove;
    this.editNote = editNote;
    this.plotCurve = plotCurve;
  }

  /** Shows `findings` (the open series'), `selected` (an id or null) marked. */
  show(findings, selected) {
    this.list.replaceChildren(
      ...findings.map((finding) => {
        const line = element("li", finding.id === selected ? "selected" : "");
        line.dataset.id = String(finding.id);
        const go = element("button", "go", findingLine(finding));
        go.type = "button";
        go.title = "Select it and go to its slice";
        go.addEventListener("click", () => this.goTo(finding));
        line.append(go);
        if (finding.kind === "arrow") {
          const note = element("button", "note", "✎");
          note.type = "button";
          note.title = "Change its note";
          note.setAttribute("aria-label", `Change the note of finding ${finding.id}`);
          note.addEventListener("click", (event) => this.editNote(finding, event));
          line.append(note);
        }
        const curve = curveButton(`finding ${finding.id}`, finding.values, () => this.plotCurve(finding));
        if (curve) line.append(curve);
        const remove = element("button", "remove", "×");
        remove.type = "button";
        remove.title = "Delete it";
        remove.setAttribute("aria-label", `Delete finding ${finding.id}`);
        remove.addEventListener("click", () => this.remove(finding.id));
        line.append(remove);
        return line;
      }),
    );
    if (findings.length === 0) this.list.append(element("li", "empty", "No findings on this series yet."));
  }

  /** Shows what the last save answered (or why it failed), or nothing. */
  showSaved(text) {
    this.saved.textContent = text ?? "";
  }
}
