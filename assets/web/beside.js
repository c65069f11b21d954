// Series read beside the one open (a prior of the same patient, or a hanging protocol's
// other cells): each its own session on the server, its frames drawn in a pane of the
// stage beside the first, its slices, 3D view and layout following the first series'
// inputs, and its grey window too while the window is linked.

import { Connection, viewportOf } from "./protocol.js";
import { formatDate } from "./studies.js";

/** The most panes beside the first series (a hanging protocol's cells are at most 4). */
export const MOST_BESIDE = 3;

/** The inputs of the first series that every pane beside it follows. */
const FOLLOWED = new Set(["slice", "orbit", "zoom", "pan", "view", "layout", "turn_planes", "reset_planes", "interact", "reset"]);

/** One series beside the first: its session, its canvas and what it shows. */
class BesidePane {
  constructor(wsUrl, token, cell, onClose) {
    this.cell = cell;
    this.element = document.createElement("div");
    this.element.className = "beside-pane";
    const label = document.createElement("div");
    label.className = "beside-label";
    const role = cell.role === "prior" ? "Prior" : "Current";
    label.textContent = `${role}${cell.date ? ` ${formatDate(cell.date)}` : ""} · ${cell.description || cell.series}`;
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.title = "Close this series";
    close.addEventListener("click", () => onClose(this));
    label.append(close);
    this.canvas = document.createElement("canvas");
    this.canvas.setAttribute("aria-label", `${role} series beside the first: ${cell.description || cell.series}`);
    this.element.append(this.canvas, label);
    this.context = this.canvas.getContext("2d");
    /** What the pane shows; read by the browser test. */
    this.state = { series: cell.series, role: cell.role, study: cell.study, opened: null, frames: 0, layout: cell.layout ?? null, window: cell.window ?? null, preset: cell.preset ?? null, error: null, connection: "connecting…", followed: 0 };
    this.connection = new Connection(wsUrl, {
      token,
      viewport: { width: 640, height: 480 },
      codecs: ["jpeg"],
      onMessage: (message) => this.take(message),
      onFrame: (header, picture) => this.draw(header, picture),
      onVideo: () => {},
      onState: (text) => {
        this.state.connection = text;
      },
    });
    // The pane opens its series as soon as it has said hello (and again after a drop).
    this.connection.series = cell.series;
    // A pane asks for no page of studies: the first series' browser lists them.
    this.connection.studiesRequest = () => ({ type: "list_studies", limit: 1 });
    new ResizeObserver(() => this.resized()).observe(this.canvas);
  }

  /** Starts the pane's session once the pane is laid out. */
  start() {
    this.connection.viewport = this.viewport();
    this.connection.connect();
  }

  viewport() {
    return viewportOf(this.canvas, { width: 320, height: 240 });
  }

  resized() {
    clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => {
      this.connection.viewport = this.viewport();
      this.connection.input("resize", this.connection.viewport);
    }, 150);
  }

  take(message) {
    switch (message.type) {
      case "opened": {
        this.state.opened = message.series;
        this.state.error = null;
        // The cell's view as its protocol hangs it; a later drop hands back the view.
        if (this.state.layout) this.connection.input("layout", { name: this.state.layout });
        if (this.state.window) this.connection.input("window", this.state.window);
        else if (message.window) this.state.window = { ...message.window };
        if (this.state.preset && message.presets?.includes(this.state.preset)) {
          this.connection.input("preset", { name: this.state.preset });
        }
        break;
      }
      case "view":
        if (message.view?.window) this.state.window = { ...message.view.window };
        if (message.view?.layout) this.state.layout = message.view.layout;
        break;
      case "error":
        this.state.error = `${message.code}: ${message.message}`;
        break;
      default:
        break;
    }
  }

  draw(header, picture) {
    createImageBitmap(picture).then((bitmap) => {
      if (this.canvas.width !== header.displayWidth) this.canvas.width = header.displayWidth;
      if (this.canvas.height !== header.displayHeight) this.canvas.height = header.displayHeight;
      this.context.drawImage(bitmap, 0, 0, this.canvas.width, this.canvas.height);
      bitmap.close();
      this.state.frames += 1;
    });
  }

  /** Follows one input of the first series (its window only while `windowLinked`). */
  follow(action, fields, windowLinked) {
    if (!this.state.opened) return;
    if (action === "window") {
      if (!windowLinked) return;
      this.state.window = { width: fields.width, center: fields.center };
    }
    if (action === "layout") this.state.layout = fields.name;
    this.connection.input(action, fields);
    this.state.followed += 1;
  }

  close() {
    this.connection.close();
    this.element.remove();
  }
}

/**
 * The panes beside the first series on `stage`: `show(cells)` opens them (replacing any),
 * `add(cell)` opens one more (at most `MOST_BESIDE`), `follow(action, fields)` hands them
 * the first series' inputs, `clear()` closes them all. `state` is read by the browser test.
 */
export class BesideReading {
  constructor(stage, { wsUrl, token, windowLink }) {
    this.stage = stage;
    this.wsUrl = wsUrl;
    this.token = token;
    this.windowLink = windowLink;
    this.panes = [];
    this.row = document.createElement("div");
    this.row.id = "beside";
    this.row.hidden = true;
    stage.append(this.row);
    this.state = { panes: [] };
  }

  /** Opens a pane for each of `cells` in place of those open. */
  show(cells) {
    this.clear();
    for (const cell of cells.slice(0, MOST_BESIDE)) this.add(cell);
  }

  /** Opens a pane for `cell` (`{role, study, date, series, description, layout?, window?, preset?}`); whether it did. */
  add(cell) {
    if (this.panes.length >= MOST_BESIDE) return false;
    const pane = new BesidePane(this.wsUrl, this.token(), cell, (closed) => this.remove(closed));
    this.panes.push(pane);
    this.row.append(pane.element);
    this.laidOut();
    pane.start();
    return true;
  }

  remove(pane) {
    pane.close();
    this.panes = this.panes.filter((open) => open !== pane);
    this.laidOut();
  }

  clear() {
    for (const pane of this.panes) pane.close();
    this.panes = [];
    this.laidOut();
  }

  /** The stage split: the first series on the left, the panes beside it. */
  laidOut() {
    this.row.hidden = this.panes.length === 0;
    this.stage.classList.toggle("with-beside", this.panes.length > 0);
    this.row.style.setProperty("--beside-panes", String(Math.max(1, this.panes.length)));
    this.state.panes = this.panes.map((pane) => pane.state);
  }

  /** Hands the first series' input to every pane that follows it. */
  follow(action, fields) {
    if (!FOLLOWED.has(action) && action !== "window") return;
    for (const pane of this.panes) pane.follow(action, fields, this.windowLink());
  }
}
