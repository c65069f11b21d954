// "Export movie…" on the page: a small form (an orbit of the 3D view from where it stands,
// a sweep of a slice, or the recording playing; how many frames), sent as `export_movie`.
// The server draws and encodes the movie; the page shows how far it has come
// (`movie_progress`) and, when `movie_ready` says where, downloads it with this page's
// login and offers it to be saved.

/** What the page knows of the movie it asked for. */
export class MovieExport {
  /**
   * `elements`: {open, form, motion, frames, status, link}; `send(message)` sends a
   * protocol message; `playing()` is the id of the recording playing, or null;
   * `changed(movie)` hears each change of what the page knows of its movie.
   */
  constructor(elements, send, playing, changed) {
    this.elements = elements;
    this.send = send;
    this.playing = playing;
    this.changed = changed;
    /** {id, frames_done, frames, state: "making"|"downloading"|"ready"|"failed", bytes?, message?} */
    this.movie = null;
    elements.open.addEventListener("click", () => {
      elements.form.hidden = !elements.form.hidden;
      const recording = elements.motion.querySelector('option[value="recording"]');
      recording.disabled = !this.playing();
    });
    elements.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.ask();
    });
    elements.form.addEventListener("reset", () => (elements.form.hidden = true));
  }

  /** Sends `export_movie` for what the form says. */
  ask() {
    const { motion, frames, form } = this.elements;
    const order = { type: "export_movie", frames: Number(frames.value) };
    if (motion.value === "orbit") order.orbit = 360;
    else if (motion.value === "recording") order.recording = this.playing();
    else order.sweep = motion.value;
    this.send(order);
    form.hidden = true;
    this.movie = { id: null, frames_done: 0, frames: order.frames, state: "making" };
    this.show();
  }

  /** Takes `movie_progress`, `movie_ready` or `movie_failed`. */
  take(message) {
    if (message.type === "movie_progress") {
      this.movie = { id: message.id, frames_done: message.frames_done, frames: message.frames, state: "making" };
    } else if (message.type === "movie_failed") {
      this.movie = { ...this.movie, id: message.id, state: "failed", message: message.message };
    } else if (message.type === "movie_ready") {
      this.movie = { ...message, frames_done: message.frames, state: "downloading" };
      this.download(message);
    }
    this.show();
  }

  /** An `error` reply to `export_movie` (busy, bad value): the movie was not begun. */
  refused(message) {
    if (this.movie?.state !== "making" || this.movie.id) return;
    this.movie = { ...this.movie, state: "failed", message };
    this.show();
  }

  /** Fetches the movie with this page's login, then offers it to be saved. */
  async download(made) {
    try {
      const response = await fetch(new URL(made.url.replace(/^\//, ""), location.href), {
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(`${response.status} ${(await response.text()).trim()}`);
      const blob = await response.blob();
      const link = this.elements.link;
      if (link.href) URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(blob);
      link.download = `hounsfield-${made.series.slice(0, 24)}-${made.id.slice(0, 8)}.mp4`;
      link.hidden = false;
      this.movie = { ...this.movie, state: "ready", bytes: blob.size, type: blob.type };
      link.click();
    } catch (error) {
      this.movie = { ...this.movie, state: "failed", message: `download: ${error.message}` };
    }
    this.show();
  }

  show() {
    const { status, link } = this.elements;
    const movie = this.movie;
    this.changed(movie);
    status.hidden = movie === null;
    if (!movie) return;
    if (movie.state !== "ready") link.hidden = true;
    status.textContent =
      movie.state === "making"
        ? `Movie: ${movie.frames_done}/${movie.frames} frames`
        : movie.state === "downloading"
          ? "Movie: downloading…"
          : movie.state === "ready"
            ? `Movie: ${(movie.bytes / 1048576).toFixed(1)} MB`
            : `Movie failed: ${movie.message}`;
  }
}
