// The Over section: a second series of the open study (a PET over its CT, a map over
// its anatomy) drawn by the server over the slice cells and the 3D view in a colour map,
// at an opacity and in its own window (`over`); the probe then reads its value too
// (`over_value`).
import { seriesTitle } from "./studies.js";

/** The time between two restyles sent while a slider moves (the server holds `over` to a few a second). */
const SEND_EVERY_MS = 250;

/**
 * Wires the Over section under `root`. `send(message)` sends a client message. Returns
 * the page's hooks: `studies(message)` for each `studies` reply, `opened(message)`,
 * `told(message)` for an `over` reply, and `state` (read by the browser test).
 */
export function attachOver(root, send) {
  const section = root.querySelector("#over");
  const series = root.querySelector("#over-series");
  const map = root.querySelector("#over-map");
  const opacity = root.querySelector("#over-opacity");
  const width = root.querySelector("#over-width");
  const center = root.querySelector("#over-center");
  const status = root.querySelector("#over-status");
  const state = {
    // The series of the open study that can be drawn over it: [{id, title}].
    candidates: [],
    // What the server draws now (the last `over` reply's `shown`), or null.
    shown: null,
    // The series asked for and not answered yet (or refused), else null.
    asked: null,
  };
  // The last page of studies listed: the open series' study is found in it.
  let listed = [];
  let sentAt = 0;
  let waiting = null;

  let timer = null;

  const ask = (request) => {
    waiting = request;
    flush();
  };
  // Sends the waiting request once its turn has come, else comes back then (the latest wins).
  const flush = () => {
    if (!waiting) return;
    const wait = sentAt + SEND_EVERY_MS - performance.now();
    if (wait > 0) {
      timer ??= setTimeout(() => {
        timer = null;
        flush();
      }, wait + 1);
      return;
    }
    send({ type: "over", ...waiting });
    state.asked = waiting.series ?? null;
    sentAt = performance.now();
    waiting = null;
  };
  const style = () => {
    const request = { series: series.value || null, colour_map: map.value, opacity: Number(opacity.value) };
    const [w, c] = [Number(width.value), Number(center.value)];
    if (width.value !== "" && Number.isFinite(w) && w > 0 && Number.isFinite(c)) request.window = { width: w, center: c };
    return request;
  };
  const show = () => {
    const shown = state.shown;
    if (shown) {
      series.value = shown.series;
      map.value = shown.colour_map;
      opacity.value = String(shown.opacity);
      width.value = String(+shown.window.width.toPrecision(6));
      center.value = String(+shown.window.center.toPrecision(6));
      const link = shown.link === "centres" ? " · another frame of reference: centres lined up" : "";
      status.textContent = `${shown.modality} drawn over the slices${link}`;
    } else {
      series.value = "";
      status.textContent = "";
    }
    for (const input of [map, opacity, width, center]) input.disabled = !shown;
  };
  const fill = (openId) => {
    const study = listed.find((s) => s.series.some((each) => each.id === openId));
    state.candidates = (study?.series ?? [])
      .filter((each) => each.id !== openId && !each.unavailable)
      .map((each) => ({ id: each.id, title: `${each.number ?? ""} ${seriesTitle(each)} (${each.modality})`.trim() }));
    series.replaceChildren(new Option("none", ""), ...state.candidates.map((each) => new Option(each.title, each.id)));
    section.hidden = state.candidates.length === 0;
  };

  series.addEventListener("change", () => {
    // A new series starts in its own window (none asked for); the map and opacity stay.
    width.value = "";
    center.value = "";
    ask(style());
  });
  for (const input of [map, opacity, width, center]) {
    input.addEventListener("input", () => {
      if (state.shown) ask(style());
    });
  }

  return {
    state,
    studies(message) {
      listed = message.studies ?? [];
    },
    opened(message) {
      // Opening a series takes away what was drawn over the last.
      state.shown = null;
      state.asked = null;
      waiting = null;
      fill(message.series);
      show();
    },
    told(message) {
      state.shown = message.shown ?? null;
      state.asked = null;
      show();
    },
  };
}
