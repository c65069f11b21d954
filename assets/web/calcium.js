// The Calcium part of the findings panel, for a CT: Score asks the server for the
// coronary calcium score of the whole series (`calcium`), and the panel shows the total
// (Agatston, volume, mass, lesions) with its risk category, each artery's scores when
// regions named them, and the lesions with the highest Agatston scores (slice, centre,
// peak, area).

/** The most lesions the panel lists (the highest Agatston first). */
const LISTED_LESIONS = 20;

/** A set of lesions' scores in one line: "Agatston 123.4 (moderate: 100–399) · …". */
export function totalsLine(totals) {
  return (
    `Agatston ${totals.agatston.toFixed(1)} (${totals.category}: ${totals.range}) · ` +
    `volume ${totals.volume_mm3.toFixed(1)} mm³ · mass ${totals.mass_mg.toFixed(2)} mg · ` +
    `${totals.lesions} lesion${totals.lesions === 1 ? "" : "s"}`
  );
}

/**
 * Wires the panel under `root`; `send(message)` sends a message (whether it went).
 * Returns `opened(message)`, `take(message)` for a `calcium` answer, `refused(message)`
 * for its error, and `state` (read by the browser test).
 */
export function attachCalcium(root, send) {
  const score = root.querySelector("#calcium-score");
  const status = root.querySelector("#calcium-status");
  const total = root.querySelector("#calcium-total");
  const arteries = root.querySelector("#calcium-arteries");
  const lesions = root.querySelector("#calcium-lesions");
  const state = {
    // The last score the server answered, or null.
    report: null,
    // A score asked for and not answered yet.
    asked: false,
  };
  const show = (text) => {
    status.textContent = text;
  };
  score.addEventListener("click", () => {
    state.asked = send({ type: "calcium" });
    show(state.asked ? "scoring…" : "not scored: not connected to the server");
  });
  const row = (cells) => {
    const line = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      td.textContent = cell;
      line.append(td);
    }
    return line;
  };
  return {
    state,
    /**
     * A series opened: Score is for a CT only. The section stays in the toolbar either
     * way, so that the picture below does not move as series open.
     */
    opened(message) {
      const ct = message.modality === "CT";
      score.disabled = !ct;
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
      show("");
      total.textContent = `Total: ${totalsLine(report.total)}`;
      arteries.replaceChildren(
        ...(report.arteries ?? []).map((artery) => {
          const line = document.createElement("li");
          line.textContent = `${artery.artery}: ${totalsLine(artery)}`;
          return line;
        }),
      );
      const highest = [...report.lesions].sort((a, b) => b.agatston - a.agatston).slice(0, LISTED_LESIONS);
      lesions.replaceChildren(
        row(["slice", "centre LPS mm", "peak HU", "area mm²", "Agatston"]),
        ...highest.map((lesion) =>
          row([
            String(lesion.slice),
            lesion.centre_lps.map((v) => v.toFixed(1)).join(", "),
            lesion.peak_hu.toFixed(0),
            lesion.area_mm2.toFixed(2),
            lesion.agatston.toFixed(1),
          ]),
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
  };
}
