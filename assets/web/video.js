// H.264 frames through WebCodecs: a VideoDecoder fed one Annex B access unit per frame,
// configured from the SPS of the keyframe that starts the stream (again when the size or
// profile changes). After a decoding error it drops frames until the next keyframe and
// asks the server for one.

const FLAG_KEYFRAME = 1;
/** Baseline profile, level 3.1: the question asked before offering H.264. */
const PROBE_CODEC = "avc1.42E01F";
/** Least time between two keyframe requests (ms). */
const ASK_EVERY_MS = 500;

/** Whether this browser decodes H.264 through WebCodecs (it needs a secure context:
 *  https, or http on localhost). */
export async function canDecodeH264() {
  if (typeof VideoDecoder === "undefined" || typeof EncodedVideoChunk === "undefined") return false;
  try {
    const { supported } = await VideoDecoder.isConfigSupported({ codec: PROBE_CODEC, optimizeForLatency: true });
    return supported === true;
  } catch {
    return false;
  }
}

/** The codec string `avc1.PPCCLL` from the first SPS of an Annex B access unit, or null. */
export function avcCodecString(bytes) {
  for (let i = 0; i + 6 < bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1 && (bytes[i + 3] & 0x1f) === 7) {
      const hex = (n) => n.toString(16).toUpperCase().padStart(2, "0");
      return `avc1.${hex(bytes[i + 4])}${hex(bytes[i + 5])}${hex(bytes[i + 6])}`;
    }
  }
  return null;
}

/**
 * Decodes a session's H.264 frames in order. `onFrame(header, videoFrame)` gets each
 * picture (the callee closes it); `askKeyframe()` is called when the stream must restart.
 */
export class H264Player {
  constructor({ onFrame, askKeyframe }) {
    this.onFrame = onFrame;
    this.askKeyframe = askKeyframe;
    this.decoder = null;
    this.codec = null;
    this.size = null;
    this.headers = new Map();
    this.waitingForKeyframe = true;
    this.lastAsk = -Infinity;
    this.errors = 0;
  }

  /** Frames given to the decoder and not yet out of it. */
  get queue() {
    return this.decoder && this.decoder.state === "configured" ? this.decoder.decodeQueueSize : 0;
  }

  /** Forgets the stream (a new session starts with a keyframe). */
  reset() {
    if (this.decoder && this.decoder.state !== "closed") this.decoder.close();
    this.decoder = null;
    this.headers.clear();
    this.waitingForKeyframe = true;
  }

  /** Decodes one access unit (`bytes`, a Uint8Array) described by its frame header. */
  decode(header, bytes) {
    const keyframe = (header.flags & FLAG_KEYFRAME) !== 0;
    if (keyframe) {
      const codec = avcCodecString(bytes) ?? PROBE_CODEC;
      const size = `${header.width}x${header.height}`;
      if (!this.decoder || this.decoder.state !== "configured" || codec !== this.codec || size !== this.size) {
        this.configure(codec, size);
      }
      this.waitingForKeyframe = false;
    } else if (this.waitingForKeyframe || !this.decoder || this.decoder.state !== "configured") {
      this.ask();
      return;
    }
    this.headers.set(header.frameSeq, header);
    try {
      this.decoder.decode(new EncodedVideoChunk({ type: keyframe ? "key" : "delta", timestamp: header.frameSeq, data: bytes }));
    } catch (error) {
      this.failed(error);
    }
  }

  configure(codec, size) {
    this.reset();
    this.codec = codec;
    this.size = size;
    this.decoder = new VideoDecoder({
      output: (frame) => {
        const header = this.headers.get(frame.timestamp);
        for (const seq of this.headers.keys()) {
          if (seq <= frame.timestamp) this.headers.delete(seq);
        }
        if (header) this.onFrame(header, frame);
        else frame.close();
      },
      error: (error) => this.failed(error),
    });
    // Without optimizeForLatency the decoder holds a frame back.
    this.decoder.configure({ codec, optimizeForLatency: true });
  }

  failed(error) {
    console.warn("H.264 decoding failed:", error);
    this.errors += 1;
    this.reset();
    this.ask();
  }

  ask() {
    const now = performance.now();
    if (now - this.lastAsk < ASK_EVERY_MS) return;
    this.lastAsk = now;
    this.askKeyframe();
  }
}
