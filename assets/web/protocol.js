// Protocol v1 (docs/protocol.md): the WebSocket connection, the frame header, input
// sequence numbers, and reconnecting after a drop.

export const CODECS = { 1: "image/jpeg", 2: "image/png" };
export const CODEC_H264 = 3;
export const FLAG_FINAL = 2;
export const FLAG_LOSSLESS = 4;
/** A refining picture: sharper than the drag's frames, before the final still. */
export const FLAG_REFINING = 8;
/** A cinematic picture of the resting view, path traced (a `cinematic` message before it
 *  says from how many paths a pixel). */
export const FLAG_CINEMATIC = 16;

/**
 * The frame size to ask for `element`: its CSS size (`fallback` before it is laid out)
 * in device pixels, at most twice the CSS pixels, each side within the server's 16–4096.
 */
export function viewportOf(element, fallback) {
  const scale = Math.min(window.devicePixelRatio || 1, 2);
  const clamp = (n) => Math.max(16, Math.min(4096, Math.round(n * scale)));
  return { width: clamp(element.clientWidth || fallback.width), height: clamp(element.clientHeight || fallback.height) };
}

/** Reads the 32-byte little-endian frame header in front of a binary message. */
export function parseHeader(buffer) {
  if (buffer.byteLength < 32) throw new Error(`frame of ${buffer.byteLength} bytes`);
  const view = new DataView(buffer);
  const magic = String.fromCharCode(view.getUint8(0), view.getUint8(1), view.getUint8(2), view.getUint8(3));
  if (magic !== "HFRM" || view.getUint8(4) !== 1) throw new Error(`not a v1 frame (${magic})`);
  const width = view.getUint16(16, true);
  const height = view.getUint16(18, true);
  return {
    codec: view.getUint8(5),
    flags: view.getUint8(6),
    frameSeq: view.getUint32(8, true),
    inputSeq: view.getUint32(12, true),
    width,
    height,
    renderUs: view.getUint32(20, true),
    encodeUs: view.getUint32(24, true),
    // The size to show the picture at (an interactive frame may come at the resolution
    // it was rendered at, smaller); 0 means the picture's own.
    displayWidth: view.getUint16(28, true) || width,
    displayHeight: view.getUint16(30, true) || height,
  };
}

/**
 * A connection to the server that says hello (offering `codecs`, in order of preference),
 * numbers inputs, measures input → frame latency and reconnects (re-opening the series)
 * after a drop. `connect()` starts it. Callbacks: onMessage(json), onFrame(header,
 * payloadBlob) for JPEG and PNG, onVideo(header, bytes) for H.264, onState(text).
 */
/** The most characters of a server's text message this page parses (the thin client's bound). */
export const MAX_SERVER_TEXT_CHARS = 32 * 1024 * 1024;
/** The deepest a server's JSON may nest (the thin client's bound). */
export const MAX_SERVER_JSON_DEPTH = 16;

/**
 * A server's text message, parsed once its size and nesting are checked: a hostile or
 * broken server gets an error naming the bound, never the tab's memory or stack.
 */
export function readServerText(text) {
  if (text.length > MAX_SERVER_TEXT_CHARS) {
    throw new Error(`a message of ${text.length} characters (at most ${MAX_SERVER_TEXT_CHARS})`);
  }
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > MAX_SERVER_JSON_DEPTH) {
        throw new Error(`a message nested deeper than ${MAX_SERVER_JSON_DEPTH}`);
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth -= 1;
    }
  }
  return JSON.parse(text);
}

export class Connection {
  constructor(url, { token, viewport, codecs, transports, onMessage, onFrame, onVideo, onState, onRefused }) {
    this.url = url;
    this.token = token;
    this.onRefused = onRefused;
    this.viewport = viewport;
    this.codecs = codecs;
    /** Transports offered in hello besides the WebSocket's frames (`webrtc`). */
    this.transports = transports ?? [];
    /** Takes an input message another way (a WebRTC data channel); whether it did. */
    this.sideChannel = null;
    this.onMessage = onMessage;
    this.onFrame = onFrame;
    this.onVideo = onVideo;
    this.onState = onState;
    this.seq = 0;
    this.sentAt = new Map();
    this.latencies = [];
    this.series = null;
    /** A shared session's join id (`?join=`): joined instead of opening a series. */
    this.join = null;
    /**
     * The series' view as the server last told it (`opened.view`, then each `view` at
     * rest): handed back with `set_view` after a reconnection, so the picture is the same
     * whichever node serves it.
     */
    this.view = null;
    this.retryMs = 500;
    this.socket = null;
  }

  /** Opens the socket (again). */
  connect() {
    // A logged-in page's cookie goes with the upgrade; a token (a script's) travels in
    // hello, not in the URL, so no proxy or server log records it.
    const socket = new WebSocket(this.url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.onState("connecting…");
    socket.onopen = () => {
      this.retryMs = 500;
      const hello = { type: "hello", codecs: this.codecs, viewport: this.viewport };
      if (this.token) hello.token = this.token;
      if (this.transports.length > 0) hello.transports = this.transports;
      this.send(hello);
      // The study browser's page and search, when it set one.
      this.send(this.studiesRequest?.() ?? { type: "list_studies" });
      if (this.join) this.send({ type: "join", id: this.join });
      else if (this.series) {
        this.send({ type: "open", series: this.series });
        if (this.view) this.input("set_view", { view: this.view });
      }
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") {
        let message;
        try {
          message = readServerText(event.data);
        } catch (error) {
          // A server that breaks the protocol is left, not asked again.
          this.onState(`the server broke the protocol: ${error.message}`);
          this.close();
          return;
        }
        if (message.type === "view") this.view = message.view;
        // A study opened by `open_study` is opened again by its series after a drop.
        if (message.type === "opened" && !this.join) this.series = message.series;
        // The opening view, unless a view handed back is about to replace it.
        if (message.type === "opened" && message.view && !this.view) this.view = message.view;
        this.onMessage(message);
        return;
      }
      let header;
      try {
        header = parseHeader(event.data);
      } catch (error) {
        console.warn(error);
        return;
      }
      this.noteLatency(header.inputSeq);
      const payload = new Uint8Array(event.data, 32);
      if (header.codec === CODEC_H264) {
        this.onVideo(header, payload);
        return;
      }
      const type = CODECS[header.codec];
      if (type) this.onFrame(header, new Blob([payload], { type }));
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      if (event.code === 1008) {
        // The server says why: a missing or wrong token, or the user removed or expired.
        const reason = event.reason ? `closed by the server: ${event.reason}` : "refused: log in";
        this.onState(reason);
        if (this.onRefused) this.onRefused(reason);
        return;
      }
      if (event.code === 1001) {
        // The node is going away: the proxy places the session on another one.
        const url = new URL(this.url);
        url.searchParams.delete("node");
        this.url = url.href;
        this.retryMs = 250;
      }
      this.onState(`disconnected; retrying in ${(this.retryMs / 1000).toFixed(1)} s`);
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10000);
    };
  }

  /** Closes the socket for good (until `connect()` is called again). */
  close() {
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
  }

  get open() {
    return this.socket && this.socket.readyState === WebSocket.OPEN;
  }

  send(message) {
    if (this.open) this.socket.send(JSON.stringify(message));
  }

  openSeries(id) {
    this.join = null;
    this.series = id;
    this.view = null;
    this.send({ type: "open", series: id });
  }

  /** Opens study `id` as the server's hanging protocols lay it out (`hanging`, then `opened`). */
  openStudy(id) {
    this.join = null;
    this.series = null;
    this.view = null;
    this.send({ type: "open_study", study: id });
  }

  /** Sends one input action, e.g. input("orbit", {dx: 2, dy: 0}). */
  input(action, fields = {}) {
    if (!this.open) return;
    this.seq += 1;
    const t = performance.now();
    this.sentAt.set(this.seq, t);
    if (this.sentAt.size > 512) this.sentAt.delete(this.sentAt.keys().next().value);
    const message = { type: "input", seq: this.seq, t: Math.round(t), action, ...fields };
    if (this.sideChannel?.(message)) return;
    this.send(message);
  }

  /** Records the latency of the inputs a frame answers (the first frame for each). */
  noteLatency(inputSeq) {
    const now = performance.now();
    for (const [seq, t] of this.sentAt) {
      if (seq > inputSeq) break;
      this.latencies.push(now - t);
      this.sentAt.delete(seq);
    }
    if (this.latencies.length > 50) this.latencies.splice(0, this.latencies.length - 50);
  }

  /** Median latency (ms) of recent inputs, or null. */
  medianLatency() {
    if (this.latencies.length === 0) return null;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  }
}
