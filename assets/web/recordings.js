// Session recordings on the page. "Record" records this session (its views, pointers and
// findings, not its pixels) until "Stop recording"; "Recordings" lists the open series'
// kept recordings, each with a Play button. A recording playing shows a timeline under
// the view: play or pause, a knob to seek, the time, and the speed. The server plays it:
// this page only asks and shows where it stands (`playback_state`).

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** `ms` as m:ss. */
export function clock(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** The least time between two seeks sent while the knob is dragged (ms). */
const SEEK_EVERY_MS = 100;

/** The page's recording, the series' recordings and the one playing. */
export class Recordings {
  /**
   * `elements`: {record, toggle, panel, list, timeline, play, seek, time, speed};
   * `send(message)` sends a protocol message; `series()` is the open series' id.
   */
  constructor(elements, send, series) {
    this.elements = elements;
    this.send = send;
    this.series = series;
    /** The recording this session makes: {id, duration_ms}, or null. */
    this.recording = null;
    /** The open series' recordings, as `recordings` listed them. */
    this.listed = [];
    /** The one playing: the last `playback_state`, or null. */
    this.playing = null;
    this.lastSeek = 0;
    elements.record.addEventListener("click", () =>
      this.send({ type: this.recording ? "stop_recording" : "start_recording" }),
    );
    elements.toggle.addEventListener("click", () => {
      const open = elements.panel.hidden;
      elements.panel.hidden = !open;
      elements.toggle.setAttribute("aria-expanded", String(open));
      if (open) this.ask();
    });
    elements.play.addEventListener("click", () =>
      this.send({ type: "playback", action: this.playing?.playing ? "pause" : "play" }),
    );
    elements.seek.addEventListener("input", () => {
      const now = performance.now();
      if (now - this.lastSeek < SEEK_EVERY_MS) return;
      this.lastSeek = now;
      this.send({ type: "playback", action: "seek", at_ms: Number(elements.seek.value) });
    });
    elements.seek.addEventListener("change", () =>
      this.send({ type: "playback", action: "seek", at_ms: Number(elements.seek.value) }),
    );
    elements.speed.addEventListener("change", () =>
      this.send({ type: "playback", action: "play", speed: Number(elements.speed.value) }),
    );
    this.show();
  }

  /** Asks for the open series' recordings. */
  ask() {
    const series = this.series();
    if (series) this.send({ type: "list_recordings", series });
  }

  /** Takes a `recording`, `recordings` or `playback_state` message. */
  take(message) {
    if (message.type === "recording") {
      this.recording = message.state === "recording" ? { id: message.id, duration_ms: message.duration_ms } : null;
      if (message.state === "stopped" && !this.elements.panel.hidden) this.ask();
    } else if (message.type === "recordings") {
      if (message.series === this.series()) this.listed = message.recordings;
    } else if (message.type === "playback_state") {
      this.playing = message;
    }
    this.show();
  }

  /** A series opened: a recording this page made was kept; one it played stops. */
  opened() {
    this.recording = null;
    this.playing = null;
    this.listed = [];
    if (!this.elements.panel.hidden) this.ask();
    this.show();
  }

  show() {
    const { record, list, timeline, play, seek, time, speed } = this.elements;
    record.textContent = this.recording ? "Stop recording" : "Record";
    record.setAttribute("aria-pressed", String(Boolean(this.recording)));
    list.replaceChildren(
      ...(this.listed.length === 0
        ? [element("li", "empty", "No recordings of this series")]
        : this.listed.map((recording) => {
            const line = element("li");
            line.dataset.id = recording.id;
            const when = new Date(recording.started_ms).toLocaleString();
            const who = recording.user ? ` · ${recording.user}` : "";
            line.append(element("span", "what", `${when} · ${clock(recording.duration_ms)}${who}`));
            const button = element("button", "play", "Play");
            button.type = "button";
            button.addEventListener("click", () => this.send({ type: "play_recording", id: recording.id }));
            line.append(button);
            return line;
          })),
    );
    const state = this.playing;
    timeline.hidden = state === null;
    if (state) {
      play.textContent = state.playing ? "Pause" : "Play";
      seek.max = String(state.duration_ms);
      if (document.activeElement !== seek) seek.value = String(state.at_ms);
      time.textContent = `${clock(state.at_ms)} / ${clock(state.duration_ms)}`;
      if (document.activeElement !== speed) speed.value = String(state.speed);
    }
  }
}
