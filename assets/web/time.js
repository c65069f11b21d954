// A series over time: the Time controls step through its volumes (`time_point` input) and
// play them (`cine` input, the server keeps the rate), the label names the volume the
// picture shows (the server's `time_point` message, sent before its first frame), and
// the Curve panel plots a time-intensity curve with its measures and writes it as CSV:
// the voxel's under the pointer (`probe.values`), or a region's or a segment's (their
// `values`), asked for from the findings' and the segments' lists.

/** The measures a probe's `curve` carries, with their names as the panel shows them. */
const MEASURES = [
  ["baseline", "Baseline"],
  ["peak", "Peak"],
  ["time_to_peak", "Time to peak"],
  ["wash_in_slope", "Wash-in slope"],
  ["area_under_curve", "Area under the curve"],
];

/**
 * The `∿` button of a region's or a segment's line (`what`: `finding 3`, `segment 2`):
 * `plot()` plots its curve. Only for `values` of a series over time; null otherwise.
 */
export function curveButton(what, values, plot) {
  if (!(values?.length > 1)) return null;
  const button = document.createElement("button");
  button.className = "curve";
  button.textContent = "∿";
  button.type = "button";
  button.title = "Plot its mean in every volume (its time-intensity curve)";
  button.setAttribute("aria-label", `Plot the curve of ${what}`);
  button.addEventListener("click", plot);
  return button;
}

/** A volume's label with its time: `volume 4 · 15 s`. */
export function volumeText(volume) {
  if (!volume) return "";
  return volume.time_s === undefined || volume.time_s === null
    ? volume.label
    : `${volume.label} · ${+volume.time_s.toFixed(3)} s`;
}

/** The CSV of a curve: a header, then one row a volume (index, label, time, value). */
export function curveCsv(volumes, values, unit) {
  const quoted = (text) => `"${String(text).replaceAll('"', '""')}"`;
  const rows = values.map((value, n) => {
    const volume = volumes[n] ?? { label: `volume ${n + 1}` };
    const time = volume.time_s ?? "";
    return [n, quoted(volume.label), time, value].join(",");
  });
  return [`index,label,time_s,value${unit ? ` (${unit})` : ""}`, ...rows].join("\n") + "\n";
}

/**
 * Wires the Time controls and the Curve panel under `root`. `send(action, fields)` sends
 * an input. Returns the page's hooks: `opened(message)`, `told(message)` for a
 * `time_point`, `probed(message)` for a `probe`, `csv()` (the curve's CSV) and `state`
 * (read by the browser test).
 */
export function attachTime(root, send) {
  const bar = root.querySelector("#time");
  const slider = root.querySelector("#time-slider");
  const label = root.querySelector("#time-label");
  const play = root.querySelector("#time-play");
  const fps = root.querySelector("#time-fps");
  const previous = root.querySelector("#time-previous");
  const next = root.querySelector("#time-next");
  const panel = root.querySelector("#curve");
  const plot = root.querySelector("#curve-plot");
  const measures = root.querySelector("#curve-measures");
  const csv = root.querySelector("#curve-csv");
  const caption = root.querySelector("#curve-of");
  const release = root.querySelector("#curve-release");
  release.addEventListener("click", () => {
    state.curve = null;
    drawCurve();
  });
  const state = {
    // The series' volumes (`opened.volumes`), empty for a series of one volume.
    volumes: [],
    // The volume the picture shows, as the server last told it.
    index: 0,
    // The labels of the volumes told, in order (the browser test reads them advance).
    labels: [],
    // Volumes a second while a cine plays, else null.
    playing: null,
    // The curve plotted: {of (what it is of, as the panel names it), key (the probe's
    // point, `finding N` or `segment N`), lps (a probe's point), values, curve, unit}, or
    // null.
    curve: null,
  };

  const show = () => {
    slider.value = String(state.index);
    label.textContent = volumeText(state.volumes[state.index]);
    play.textContent = state.playing ? "Pause" : "Play";
    play.setAttribute("aria-pressed", String(Boolean(state.playing)));
  };
  const goTo = (index) => {
    const count = state.volumes.length;
    if (!count) return;
    send("time_point", { index: (index + count) % count });
  };
  slider.addEventListener("input", () => goTo(Number(slider.value)));
  previous.addEventListener("click", () => goTo(state.index - 1));
  next.addEventListener("click", () => goTo(state.index + 1));
  const rate = () => Math.min(30, Math.max(0.1, Number(fps.value) || 8));
  play.addEventListener("click", () => {
    state.playing = state.playing ? null : rate();
    send("cine", { fps: state.playing ?? 0 });
    show();
  });
  fps.addEventListener("change", () => {
    fps.value = String(rate());
    if (state.playing) {
      state.playing = rate();
      send("cine", { fps: state.playing });
    }
  });
  const csvText = () => (state.curve ? curveCsv(state.volumes, state.curve.values, state.curve.unit) : null);
  csv.addEventListener("click", () => {
    const text = csvText();
    if (text === null) return;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    link.download = `curve_${state.curve.of.replace(/[^A-Za-z0-9.-]+/g, "_")}.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });

  const drawCurve = () => {
    plot.replaceChildren();
    measures.replaceChildren();
    const curve = state.curve;
    csv.disabled = !curve;
    caption.textContent = curve ? `Curve of ${curve.of}` : "";
    // A region's or a segment's curve holds the panel until let go; the pointer's follows.
    release.hidden = !curve || curve.key === "point";
    if (!curve) return;
    const ns = "http://www.w3.org/2000/svg";
    const [width, height, margin] = [320, 140, 24];
    const times = curve.values.map((_, n) => state.volumes[n]?.time_s ?? n);
    const [t0, t1] = [Math.min(...times), Math.max(...times)];
    const [v0, v1] = [Math.min(...curve.values), Math.max(...curve.values)];
    const x = (t) => margin + ((t - t0) / (t1 - t0 || 1)) * (width - 2 * margin);
    const y = (v) => height - margin - ((v - v0) / (v1 - v0 || 1)) * (height - 2 * margin);
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", curve.values.map((v, n) => `${x(times[n])},${y(v)}`).join(" "));
    line.setAttribute("class", "curve-line");
    plot.append(line);
    curve.values.forEach((v, n) => {
      const dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", x(times[n]));
      dot.setAttribute("cy", y(v));
      dot.setAttribute("r", n === state.index ? 4 : 2.5);
      dot.setAttribute("class", n === state.index ? "curve-shown" : "curve-dot");
      plot.append(dot);
    });
    const axis = (text, ax, ay, anchor) => {
      const note = document.createElementNS(ns, "text");
      note.setAttribute("x", ax);
      note.setAttribute("y", ay);
      note.setAttribute("text-anchor", anchor);
      note.textContent = text;
      plot.append(note);
    };
    const unit = curve.curve?.time_unit === "volume" ? "" : " s";
    axis(`${+t0.toFixed(2)}${unit}`, margin, height - 6, "start");
    axis(`${+t1.toFixed(2)}${unit}`, width - margin, height - 6, "end");
    axis(String(+v1.toFixed(1)), 2, margin, "start");
    axis(String(+v0.toFixed(1)), 2, height - margin, "start");
    for (const [key, name] of MEASURES) {
      const value = curve.curve?.[key];
      if (value === undefined) continue;
      const row = document.createElement("div");
      row.dataset.measure = key;
      row.textContent = `${name}: ${+value.toFixed(2)}`;
      measures.append(row);
    }
  };

  return {
    state,
    /** The CSV the Save CSV button writes, or null before a curve. */
    csv: csvText,
    /** A series opened: the controls show for a series over time only. */
    opened(message) {
      state.volumes = message.volumes ?? [];
      state.index = message.view?.time_point ?? 0;
      state.labels = [];
      state.playing = null;
      state.curve = null;
      bar.hidden = state.volumes.length < 2;
      panel.hidden = bar.hidden;
      slider.max = String(Math.max(0, state.volumes.length - 1));
      show();
      drawCurve();
    },
    /** The server's `time_point`: the next frame shows this volume. */
    told(message) {
      state.index = message.index;
      state.playing = message.cine_fps ?? null;
      state.labels.push(message.label);
      if (state.labels.length > 200) state.labels.shift();
      show();
      if (state.curve) drawCurve();
    },
    /** A probe's answer: its curve, when the series is over time. */
    probed(message) {
      // A region's or a segment's curve stays until it is let go.
      if (!message.values?.length || (state.curve && state.curve.key !== "point")) return;
      const [x, y, z] = message.lps_mm.map((v) => v.toFixed(1));
      state.curve = {
        of: `the point ${x}, ${y}, ${z}`,
        key: "point",
        lps: message.lps_mm,
        values: message.values,
        curve: message.curve ?? null,
        unit: message.unit,
      };
      drawCurve();
    },
    /**
     * Plots the curve of what `key` names (`finding 3`, `segment 2`), called `of` on the
     * panel, and opens the panel: its `values`, their `curve` measures and `unit`.
     */
    plot(key, of, values, curve, unit) {
      if (!(values?.length > 1)) return;
      state.curve = { of, key, lps: null, values, curve: curve ?? null, unit: unit ?? "" };
      panel.open = true;
      drawCurve();
    },
    /** The key of the curve plotted (`point`, `finding N`, `segment N`), or null. */
    plotted() {
      return state.curve?.key ?? null;
    },
  };
}
