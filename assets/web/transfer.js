// The transfer-function editor of the 3D view: the volume's histogram (log scale) under the
// opacity curve's points, the colour stops, and gradient opacity. A point is dragged, added
// (a press off the points) or removed (a double click); while a point moves the 3D view
// follows, each change sent as one `transfer` input with the whole function, at most one a
// frame, between `interact` on and off. Saved as a preset file (the TOML of `presets/`).

/** Pixels from a point within which a press takes it. */
const REACH = 8;

/**
 * The preset as a `presets/*.toml` file writes it, for a reader's own folder or the
 * server's (`render --transfer FILE` reads it back).
 */
export function presetToml(preset) {
  const number = (v) => (Number.isInteger(v) ? v.toFixed(1) : String(v));
  const text = (s) => JSON.stringify(s ?? "");
  const list = (name, points, line) =>
    `${name} = [\n${points.map((p) => `  { ${line(p)} },\n`).join("")}]\n`;
  let toml = `name = ${text(preset.name)}\n`;
  toml += `description = ${text(preset.description)}\n`;
  toml += `modality = ${text(preset.modality)}\n`;
  toml += `domain = ${text(preset.domain)}\n`;
  toml += `mode = ${text(preset.mode ?? "composite")}\n`;
  toml += `opacity_unit_mm = ${number(preset.opacity_unit_mm ?? 1)}\n`;
  toml += list("colour", preset.colour, (p) => `value = ${number(p.value)}, rgb = [${p.rgb.map(number).join(", ")}]`);
  toml += list("opacity", preset.opacity, (p) => `value = ${number(p.value)}, opacity = ${number(p.opacity)}`);
  if (preset.gradient_opacity?.length) {
    toml += list("gradient_opacity", preset.gradient_opacity, (p) => `gradient = ${number(p.gradient)}, factor = ${number(p.factor)}`);
  }
  const shading = preset.shading;
  if (shading) {
    toml += `\n[shading]\nenabled = ${Boolean(shading.enabled)}\n`;
    for (const key of ["ambient", "diffuse", "specular", "specular_power"]) {
      toml += `${key} = ${number(shading[key])}\n`;
    }
  }
  if (preset.window) {
    toml += `\n[window]\nwidth = ${number(preset.window.width)}\ncenter = ${number(preset.window.center)}\n`;
  }
  return toml;
}

/** The colour of `stops` (ascending) at `value`, interpolated as the renderer does. */
export function colourAt(stops, value) {
  if (value <= stops[0].value) return [...stops[0].rgb];
  for (let n = 1; n < stops.length; n++) {
    const [a, b] = [stops[n - 1], stops[n]];
    if (value <= b.value) {
      const t = b.value > a.value ? (value - a.value) / (b.value - a.value) : 1;
      return a.rgb.map((c, i) => c + (b.rgb[i] - c) * t);
    }
  }
  return [...stops[stops.length - 1].rgb];
}

/**
 * Ticks along the value axis at a round step (about five across), labelled in `unit`:
 * where 300 HU lies on the curve.
 */
function drawTicks(g, [low, high], width, height, unit) {
  const rough = (high - low) / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? rough;
  g.fillStyle = "#999";
  g.strokeStyle = "#333";
  g.lineWidth = 1;
  g.font = "10px sans-serif";
  for (let value = Math.ceil(low / step) * step; value <= high; value += step) {
    const x = ((value - low) / (high - low)) * width;
    g.beginPath();
    g.moveTo(x, 0);
    g.lineTo(x, height);
    g.stroke();
    g.fillText(`${Math.round(value)}${unit}`, x + 2, 10);
  }
}

/** A canvas's drawing on the page, inside its border: left, top, width, height. */
function contentBox(canvas) {
  const box = canvas.getBoundingClientRect();
  return [box.left + canvas.clientLeft, box.top + canvas.clientTop, canvas.clientWidth, canvas.clientHeight];
}

const hex = (rgb) => `#${rgb.map((c) => Math.round(c * 255).toString(16).padStart(2, "0")).join("")}`;
const fromHex = (text) => [1, 3, 5].map((i) => parseInt(text.slice(i, i + 2), 16) / 255);
const round = (v, digits) => Number(v.toFixed(digits));

/**
 * One curve of points on a canvas: `points()` gives them, ascending along x; `key` and
 * `level` name their x and y fields (no `level`: points on a line, the colour stops).
 * `xRange()` gives the x axis's span; `made(x, y)` makes a new point; `told(point)` hears
 * where a dragged point is.
 */
function curve(canvas, { points, key, level, xRange, made, changed, selected, draw, told = () => {} }) {
  const toPixel = (point) => {
    const [low, high] = xRange();
    const x = ((point[key] - low) / (high - low)) * canvas.width;
    const y = level ? (1 - point[level]) * (canvas.height - 2 * REACH) + REACH : canvas.height / 2;
    return [x, y];
  };
  const fromPixel = (x, y) => {
    const [low, high] = xRange();
    const along = low + (Math.max(0, Math.min(canvas.width, x)) / canvas.width) * (high - low);
    const up = 1 - (y - REACH) / (canvas.height - 2 * REACH);
    return [along, Math.max(0, Math.min(1, up))];
  };
  const at = (event) => {
    const [left, top, width, height] = contentBox(canvas);
    return [
      ((event.clientX - left) / width) * canvas.width,
      ((event.clientY - top) / height) * canvas.height,
    ];
  };
  const nearest = ([x, y]) => {
    let found = -1;
    let best = REACH * REACH;
    points().forEach((point, n) => {
      const [px, py] = toPixel(point);
      const d = (px - x) ** 2 + (py - y) ** 2;
      if (d <= best) [found, best] = [n, d];
    });
    return found;
  };
  let dragging = null;
  const moveTo = (n, [x, y]) => {
    const list = points();
    const [along, up] = fromPixel(x, y);
    // Kept between its neighbours: the points stay ascending.
    const low = n > 0 ? list[n - 1][key] : -Infinity;
    const high = n < list.length - 1 ? list[n + 1][key] : Infinity;
    list[n][key] = round(Math.max(low, Math.min(high, along)), 2);
    if (level) list[n][level] = round(up, 4);
  };
  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    const spot = at(event);
    let n = nearest(spot);
    if (n < 0) {
      const [along, up] = fromPixel(...spot);
      const list = points();
      n = list.findIndex((point) => point[key] > along);
      if (n < 0) n = list.length;
      list.splice(n, 0, made(round(along, 2), round(up, 4)));
    }
    dragging = n;
    selected(n);
    canvas.setPointerCapture(event.pointerId);
    changed(true);
    draw();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (dragging === null) return;
    moveTo(dragging, at(event));
    told(points()[dragging]);
    changed(true);
    draw();
  });
  const release = () => {
    if (dragging === null) return;
    dragging = null;
    changed(false);
  };
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  canvas.addEventListener("dblclick", (event) => {
    const n = nearest(at(event));
    const list = points();
    if (n < 0 || list.length < 2) return;
    list.splice(n, 1);
    selected(null);
    changed(false);
    draw();
  });
  return { toPixel, isDragging: () => dragging !== null };
}

/**
 * Wires the editor under `root` (the Transfer section). `ask()` asks the server for the
 * function shown and the histogram; `sendTransfer(preset)` sends a change; `interact(on)`
 * starts or ends a drag; `saveOnServer(preset)` asks the server to keep it as its own
 * preset (an administrator's button). Returns `{ show(message), follow(view), toml(), edited(), histogram(), pointAt(list, n) }`:
 * `show` takes a `transfer_function` reply, `follow` the server's view at rest (a shared
 * session's steering client may have changed the function), `toml` the file Save writes,
 * `pointAt` where on the page (client pixels) a press takes a point.
 */
export function attachTransfer(root, { ask, sendTransfer, interact, saveOnServer }) {
  const opacityCanvas = root.querySelector("#transfer-curve");
  const colourCanvas = root.querySelector("#transfer-colours");
  const gradientCanvas = root.querySelector("#transfer-gradient");
  const colourInput = root.querySelector("#transfer-colour");
  const nameInput = root.querySelector("#transfer-name");
  const status = root.querySelector("#transfer-status");
  let preset = null;
  let histogram = null;
  let chosenStop = null;
  let pending = false;
  let active = false;

  const valueRange = () => {
    if (preset.domain === "percentile") return [0, 100];
    const values = [...preset.colour, ...preset.opacity].map((p) => p.value);
    const low = Math.min(histogram?.low ?? Infinity, ...values);
    const high = Math.max(histogram?.high ?? -Infinity, ...values);
    return high > low ? [low, high] : [low, low + 1];
  };
  const gradientRange = () => {
    const last = preset.gradient_opacity?.at(-1)?.gradient ?? 0;
    return [0, Math.max(last * 1.25, preset.domain === "percentile" ? 10 : 100)];
  };

  // Sends the function as it is now, once a frame at most; a release sends the last
  // change, then ends the interaction (the server then draws the final still).
  let ending = false;
  const changed = (dragging) => {
    if (dragging && !active) {
      active = true;
      interact(true);
    }
    if (!dragging) ending = true;
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      sendTransfer(edited());
      if (ending) {
        ending = false;
        if (active) {
          active = false;
          interact(false);
        }
      }
    });
  };
  const edited = () => ({ ...structuredClone(preset), name: nameInput.value.trim() || preset.name });

  const opacity = curve(opacityCanvas, {
    points: () => preset.opacity,
    key: "value",
    level: "opacity",
    xRange: valueRange,
    made: (value, level) => ({ value, opacity: level }),
    changed,
    selected: () => {},
    draw: () => draw(),
    told: (point) => {
      const unit = preset.domain === "percentile" ? "th percentile" : " HU";
      status.textContent = `${point.value}${unit}: opacity ${point.opacity}`;
    },
  });
  const colours = curve(colourCanvas, {
    points: () => preset.colour,
    key: "value",
    xRange: valueRange,
    made: (value) => ({ value, rgb: colourAt(preset.colour, value).map((c) => round(c, 4)) }),
    changed,
    selected: (n) => {
      chosenStop = n;
      colourInput.disabled = n === null;
      if (n !== null) colourInput.value = hex(preset.colour[n].rgb);
    },
    draw: () => draw(),
  });
  const gradient = curve(gradientCanvas, {
    points: () => (preset.gradient_opacity ??= []),
    key: "gradient",
    level: "factor",
    xRange: gradientRange,
    made: (value, level) => ({ gradient: Math.max(0, value), factor: level }),
    changed,
    selected: () => {},
    draw: () => draw(),
  });
  colourInput.addEventListener("input", () => {
    if (chosenStop === null || !preset) return;
    preset.colour[chosenStop].rgb = fromHex(colourInput.value).map((c) => round(c, 4));
    changed(false);
    draw();
  });

  function draw() {
    if (!preset) return;
    drawOpacity();
    drawColours();
    drawGradient();
  }

  function drawOpacity() {
    const g = opacityCanvas.getContext("2d");
    const { width, height } = opacityCanvas;
    g.fillStyle = "#111";
    g.fillRect(0, 0, width, height);
    if (histogram && preset.domain !== "percentile") {
      // Log scale: the few voxels of bone still show beside the many of air.
      const [low, high] = valueRange();
      const most = Math.log1p(Math.max(...histogram.counts));
      const bin = (histogram.high - histogram.low) / histogram.counts.length;
      g.fillStyle = "#555";
      histogram.counts.forEach((count, n) => {
        const x0 = ((histogram.low + n * bin - low) / (high - low)) * width;
        const x1 = ((histogram.low + (n + 1) * bin - low) / (high - low)) * width;
        const h = (Math.log1p(count) / most) * height;
        g.fillRect(x0, height - h, Math.max(1, x1 - x0), h);
      });
    }
    drawTicks(g, valueRange(), width, height, preset.domain === "percentile" ? "%" : " HU");
    g.strokeStyle = "#eee";
    g.lineWidth = 1.5;
    g.beginPath();
    preset.opacity.forEach((point, n) => {
      const [x, y] = opacity.toPixel(point);
      if (n === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    });
    g.stroke();
    for (const point of preset.opacity) {
      const [x, y] = opacity.toPixel(point);
      g.fillStyle = hex(colourAt(preset.colour, point.value));
      g.strokeStyle = "#fff";
      g.beginPath();
      g.arc(x, y, 5, 0, 2 * Math.PI);
      g.fill();
      g.stroke();
    }
  }

  function drawColours() {
    const g = colourCanvas.getContext("2d");
    const { width, height } = colourCanvas;
    const [low, high] = valueRange();
    for (let x = 0; x < width; x++) {
      g.fillStyle = hex(colourAt(preset.colour, low + ((x + 0.5) / width) * (high - low)));
      g.fillRect(x, 0, 1, height);
    }
    preset.colour.forEach((stop, n) => {
      const [x] = colours.toPixel(stop);
      g.strokeStyle = n === chosenStop ? "#ff0" : "#fff";
      g.lineWidth = 2;
      g.strokeRect(x - 3, 1, 6, height - 2);
    });
  }

  function drawGradient() {
    const g = gradientCanvas.getContext("2d");
    const { width, height } = gradientCanvas;
    g.fillStyle = "#111";
    g.fillRect(0, 0, width, height);
    const points = preset.gradient_opacity ?? [];
    g.strokeStyle = "#9cf";
    g.lineWidth = 1.5;
    g.beginPath();
    points.forEach((point, n) => {
      const [x, y] = gradient.toPixel(point);
      if (n === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    });
    g.stroke();
    g.fillStyle = "#9cf";
    for (const point of points) {
      const [x, y] = gradient.toPixel(point);
      g.beginPath();
      g.arc(x, y, 4, 0, 2 * Math.PI);
      g.fill();
    }
  }

  root.addEventListener("toggle", () => {
    if (root.open) ask();
  });
  root.querySelector("#transfer-save").addEventListener("click", () => {
    if (!preset) return;
    const file = new Blob([presetToml(edited())], { type: "application/toml" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(file);
    link.download = `${edited().name.replace(/[^A-Za-z0-9._ ()-]/g, "_")}.toml`;
    link.click();
    URL.revokeObjectURL(link.href);
  });
  nameInput.addEventListener("change", () => changed(false));
  root.querySelector("#transfer-save-server").addEventListener("click", () => {
    if (preset) saveOnServer(edited());
  });

  const showPreset = (shown) => {
    preset = structuredClone(shown);
    preset.gradient_opacity ??= [];
    if (document.activeElement !== nameInput) nameInput.value = preset.name;
    if (chosenStop !== null && chosenStop >= preset.colour.length) chosenStop = null;
    colourInput.disabled = chosenStop === null;
    draw();
  };
  const dragging = () => opacity.isDragging() || colours.isDragging() || gradient.isDragging();

  return {
    show(message) {
      histogram = message.histogram;
      showPreset(message.preset);
      status.textContent = `${histogram.counts.reduce((a, b) => a + b, 0).toLocaleString()} voxels, ${histogram.low} to ${histogram.high}`;
    },
    follow(view) {
      if (!root.open || !preset || dragging()) return;
      if (view?.transfer) showPreset(view.transfer);
      else if (view?.preset && view.preset !== preset.name) ask();
    },
    /** Says what the server did with `save_preset`. */
    saved(message) {
      status.textContent = `Saved on the server as ${message.name}`;
    },
    /** Offers saving on the server to an administrator only (the server checks too). */
    allowServerSave(allowed) {
      root.querySelector("#transfer-save-server").hidden = !allowed;
    },
    toml: () => (preset ? presetToml(edited()) : null),
    histogram: () => histogram,
    edited: () => (preset ? edited() : null),
    pointAt(list, n) {
      const [canvas, points, line] =
        list === "colour" ? [colourCanvas, preset.colour, colours]
        : list === "gradient" ? [gradientCanvas, preset.gradient_opacity, gradient]
        : [opacityCanvas, preset.opacity, opacity];
      // Within the drawing by 2 pixels: a point at an end of the axis is taken from inside.
      const [x, y] = line.toPixel(points[n]).map((v, i) => Math.max(2, Math.min((i ? canvas.height : canvas.width) - 2, v)));
      const [left, top, width, height] = contentBox(canvas);
      return [left + (x / canvas.width) * width, top + (y / canvas.height) * height];
    },
  };
}
