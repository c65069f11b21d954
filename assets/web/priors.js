// The Priors section: the same patient's other studies, newest first, as the server tells
// them after a series opens (`priors`); each volume series of one opens beside the first
// series, and the hanging protocol `open_study` applied is named.
import { formatDate, seriesTitle } from "./studies.js";

/**
 * Wires the Priors section under `root`. `openBeside(cell)` opens a series beside the
 * first. Returns the page's hooks: `told(message)` for a `priors` reply, `hung(message)`
 * for a `hanging` one, `clear()` when another series opens, and `state` (read by the
 * browser test).
 */
export function attachPriors(root, openBeside) {
  const section = root.querySelector("#priors");
  const list = root.querySelector("#prior-list");
  const protocol = root.querySelector("#hanging-protocol");
  const state = {
    // The patient's other studies, as the last `priors` told them.
    studies: [],
    // The hanging protocol applied to the open study (its name), or null.
    protocol: null,
  };

  const studyLine = (study) => {
    const date = formatDate(study.date) || "undated";
    return `${date} · ${study.description || "(no description)"} · ${study.modalities.join(", ")}`;
  };

  const show = () => {
    list.replaceChildren();
    for (const study of state.studies) {
      const item = document.createElement("li");
      const title = document.createElement("div");
      title.textContent = studyLine(study);
      item.append(title);
      for (const series of study.series) {
        if ((series.kind ?? "volume") !== "volume" || series.unavailable) continue;
        const button = document.createElement("button");
        button.type = "button";
        button.className = "prior-series";
        button.dataset.series = series.id;
        button.textContent = seriesTitle(series);
        button.title = "Open beside the series shown";
        button.addEventListener("click", () =>
          openBeside({ role: "prior", study: study.id, date: study.date, series: series.id, description: series.description }),
        );
        item.append(button);
      }
      list.append(item);
    }
    protocol.textContent = state.protocol ? `Hung by “${state.protocol}”` : "";
    section.hidden = state.studies.length === 0 && !state.protocol;
  };

  return {
    state,
    told(message) {
      state.studies = message.studies;
      show();
    },
    hung(message) {
      state.protocol = message.protocol;
      show();
    },
    clear() {
      state.studies = [];
      state.protocol = null;
      show();
    },
  };
}
