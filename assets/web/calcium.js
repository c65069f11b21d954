// The Calcium part of the findings panel, for a CT: Score asks the server for the
// coronary calcium score of the whole series (`calcium`), and the panel shows the total
// (Agatston, volume, mass, lesions) with its risk category, each artery's scores when
// lesions are named, and the lesions with the highest Agatston scores (slice, centre,
// peak, area, artery). With Name lesions on, a click on a lesion of the axial slice names
// it (and the lesions touching it above and below) the artery chosen, and a box dragged
// there names the lesions of that slice inside it; the server keeps the names while the
// series is open and lays the lesions over the slices, the candidates in yellow and each
// artery's in its colour (On slices takes them off). With Mark calibration on, a box
// dragged on the axial slice over a phantom's insert of the density given calibrates the
// mass score (`calibration_on_slice`); the server answers the box it took, which every
// later message sends (`calibration`) until Default calibration.

import { sliceAt } from "./input.js";

/** The most lesions the panel lists (the highest Agatston first). */
const LISTED_LESIONS = 20;

/** How far (CSS pixels) a press may move and still be a click rather than a box. */
const CLICK_SLOP_PX = 5;

/** Each artery's colour over the slices, as the server paints it (sRGB). */
export const ARTERY_COLOURS = {
  LM: "rgb(230, 80, 230)",
  LAD: "rgb(60, 140, 255)",
  LCx: "rgb(60, 200, 90)",
  RCA: "rgb(240, 60, 60)",
  other: "rgb(0, 210, 210)",
};

/** The candidates' colour: lesions no one named. */
export const CANDIDATE_COLOUR = "rgb(255, 220, 0)";

/** A set of lesions' scores in one line: "Agatston 123.4 (moderate: 100–399) · …". */
export function totalsLine(totals) {
  return (
    `Agatston ${totals.agatston.toFixed(1)} (${totals.category}: ${totals.range}) · ` +
    `volume ${totals.volume_mm3.toFixed(1)} mm³ · mass ${totals.mass_mg.toFixed(2)} mg · ` +
    `${totals.lesions} lesion${totals.lesions === 1 ? "" : "s"}`
  );
}

/** A small square of `colour`, before an artery's or a lesion's line. */
function swatch(colour) {
  const square = document.createElement("span");
  square.className = "artery-swatch";
  square.style.background = colour;
  return square;
}

/**
 * Wires the panel under `root`; `send(message)` sends a message (whether it went).
 * Returns `opened(message)`, `take(message)` for a `calcium` answer, `refused(message)`
 * for its error, `attach(canvas, layout)` (the naming presses on the slices) and `state`
 * (read by the browser test).
 */
export function attachCalcium(root, send) {
  const score = root.querySelector("#calcium-score");
  const status = root.querySelector("#calcium-status");
  const total = root.querySelector("#calcium-total");
  const arteries = root.querySelector("#calcium-arteries");
  const lesions = root.querySelector("#calcium-lesions");
  const artery = root.querySelector("#calcium-artery");
  const name = root.querySelector("#calcium-name");
  const forget = root.querySelector("#calcium-forget");
  const shown = root.querySelector("#calcium-shown");
  const density = root.querySelector("#calcium-density");
  const calibrate = root.querySelector("#calcium-calibrate");
  const byDefault = root.querySelector("#calcium-default");
  const calibration = root.querySelector("#calcium-calibration");
  const state = {
    // The last score the server answered, or null.
    report: null,
    // A score asked for and not answered yet.
    asked: false,
    // Whether presses on the axial slice name lesions.
    naming: false,
    // Whether a box dragged on the axial slice marks the calibration region.
    calibrating: false,
    // The region of known density the server calibrated by (`{box, mg_per_cm3}`), or null
    // for the default.
    calibration: null,
  };
  const show = (text) => {
    status.textContent = text;
  };
  // Naming and calibrating take the same presses: one at a time.
  const setNaming = (on) => {
    state.naming = on;
    name.setAttribute("aria-pressed", String(on));
    if (on) setCalibrating(false);
  };
  const setCalibrating = (on) => {
    state.calibrating = on;
    calibrate.setAttribute("aria-pressed", String(on));
    if (on) setNaming(false);
  };
  /**
   * Asks for a score with `fields` (the lesions laid over the slices as On slices says,
   * the mass calibrated by the region kept unless `fields` gives another).
   */
  const ask = (fields, doing) => {
    const kept = fields.calibration_on_slice || !state.calibration ? {} : { calibration: state.calibration };
    state.asked = send({ type: "calcium", ...kept, ...fields, highlight: shown.checked });
    show(state.asked ? doing : "not scored: not connected to the server");
  };
  score.addEventListener("click", () => ask({}, "scoring…"));
  name.addEventListener("click", () => setNaming(!state.naming));
  calibrate.addEventListener("click", () => setCalibrating(!state.calibrating));
  byDefault.addEventListener("click", () => {
    state.calibration = null;
    ask({}, "calibrating by the default…");
  });
  forget.addEventListener("click", () => ask({ arteries: [] }, "forgetting the names…"));
  shown.addEventListener("change", () => {
    if (state.report) ask({}, shown.checked ? "laying the lesions over the slices…" : "taking the lesions off…");
  });
  const row = (cells, colour = null) => {
    const line = document.createElement("tr");
    cells.forEach((cell, n) => {
      const td = document.createElement("td");
      if (n === 0 && colour) td.append(swatch(colour));
      td.append(cell);
      line.append(td);
    });
    return line;
  };
  return {
    state,
    /**
     * A series opened: Score is for a CT only. The section stays in the panel either
     * way, so that what is below it does not move as series open.
     */
    opened(message) {
      const ct = message.modality === "CT";
      score.disabled = !ct;
      name.disabled = forget.disabled = shown.disabled = true;
      density.disabled = calibrate.disabled = byDefault.disabled = true;
      setNaming(false);
      setCalibrating(false);
      state.calibration = null;
      calibration.textContent = "";
      state.report = null;
      state.asked = false;
      show(ct ? "" : "the score is a CT's");
      total.textContent = "";
      arteries.replaceChildren();
      lesions.replaceChildren();
    },
    /** The server's score. */
    take(report) {
      state.report = report;
      state.asked = false;
      name.disabled = forget.disabled = shown.disabled = false;
      density.disabled = calibrate.disabled = false;
      state.calibration = report.calibration ?? null;
      byDefault.disabled = !state.calibration;
      calibration.textContent = state.calibration
        ? `mass: ${report.mg_per_cm3_per_hu.toFixed(3)} mg/cm³ per HU, from an insert of ${state.calibration.mg_per_cm3} mg/cm³`
        : `mass: ${report.mg_per_cm3_per_hu.toFixed(3)} mg/cm³ per HU (the stated default)`;
      if (state.calibration) setCalibrating(false);
      show("");
      total.textContent = `Total: ${totalsLine(report.total)}`;
      arteries.replaceChildren(
        ...(report.arteries ?? []).map((each) => {
          const line = document.createElement("li");
          line.append(swatch(ARTERY_COLOURS[each.artery] ?? CANDIDATE_COLOUR), `${each.artery}: ${totalsLine(each)}`);
          return line;
        }),
      );
      const highest = [...report.lesions].sort((a, b) => b.agatston - a.agatston).slice(0, LISTED_LESIONS);
      lesions.replaceChildren(
        row(["slice", "centre LPS mm", "peak HU", "area mm²", "Agatston", "artery"]),
        ...highest.map((lesion) =>
          row(
            [
              String(lesion.slice),
              lesion.centre_lps.map((v) => v.toFixed(1)).join(", "),
              lesion.peak_hu.toFixed(0),
              lesion.area_mm2.toFixed(2),
              lesion.agatston.toFixed(1),
              lesion.artery ?? "—",
            ],
            lesion.artery ? ARTERY_COLOURS[lesion.artery] : CANDIDATE_COLOUR,
          ),
        ),
      );
    },
    /** Whether an error answers a score asked for; if so it is shown. */
    refused(message) {
      if (!state.asked || !message.message?.startsWith("calcium")) return false;
      state.asked = false;
      show(`not scored: ${message.message}`);
      return true;
    },
    /**
     * With Name lesions on, a press on the axial cell of the 2×2 layout (`layout()`)
     * names lesions when it is released: where it went down (a click) or the box it
     * dragged; with Mark calibration on, the box it dragged calibrates the mass. It goes
     * no further; any other press goes on to the view's inputs.
     */
    attach(canvas, layout) {
      let press = null;
      canvas.addEventListener("pointerdown", (event) => {
        if (!(state.naming || state.calibrating) || layout() !== "2x2") return;
        const at = sliceAt(canvas, event.clientX, event.clientY);
        if (at?.plane !== "axial") return;
        event.stopImmediatePropagation();
        event.preventDefault();
        canvas.setPointerCapture?.(event.pointerId);
        press = { id: event.pointerId, from: [at.x, at.y], client: [event.clientX, event.clientY] };
        // Before the findings tools: a press naming lesions does not pick a finding.
      }, { capture: true });
      canvas.addEventListener("pointermove", (event) => {
        if (press?.id === event.pointerId) event.stopImmediatePropagation();
      });
      canvas.addEventListener("pointerup", (event) => {
        if (press?.id !== event.pointerId) return;
        event.stopImmediatePropagation();
        const { from, client } = press;
        press = null;
        const moved = Math.hypot(event.clientX - client[0], event.clientY - client[1]);
        const to = sliceAt(canvas, event.clientX, event.clientY, "axial");
        const points = moved < CLICK_SLOP_PX || !to ? [from] : [from, [to.x, to.y]];
        if (state.calibrating) {
          const mg = Number(density.value);
          if (points.length === 1) show("drag a box over the insert");
          else if (!(mg > 0)) show("give the insert's density in mg/cm³");
          else {
            const drawn = { cell: "axial", points, mg_per_cm3: mg };
            ask({ calibration_on_slice: drawn }, "calibrating by the insert…");
          }
          return;
        }
        const named = { artery: artery.value, cell: "axial", points };
        ask({ name: named }, `naming ${points.length === 1 ? "the lesion clicked" : "the lesions in the box"} ${artery.value}…`);
      });
      canvas.addEventListener("pointercancel", (event) => {
        if (press?.id === event.pointerId) press = null;
      });
    },
  };
}
