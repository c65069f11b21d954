// WebRTC for the interactive frames (docs/protocol.md, "WebRTC"): when the server offers
// it, the page offers a peer that receives H.264 as RTP into a hidden <video> and opens an
// `input` data channel (unordered, no retransmission: the latest input wins). Each frame
// the video presents is drawn into the canvas with the note the server sent for it on the
// data channel (its frame_seq, the input it answers, its size), found by RTP timestamp.
// The WebSocket stays for everything else, and carries the frames again whenever the
// server says so (`transport`), or when this side gives up.

/** Inputs that go over the data channel while frames come over WebRTC. */
const CONTINUOUS = new Set(["orbit", "pan", "zoom", "window"]);
/** No frame over WebRTC this long after the offer: the page gives up (the server's own
 *  limit is 5 s; this one catches a server that never says). */
const NO_FRAME_MS = 8000;
/** Notes kept while their frames are on the way. */
const MAX_NOTES = 256;

/** Whether this browser can receive the frames over WebRTC and draw each with its note
 *  (WebCodecs not needed: outside a secure context the video element itself is drawn). */
export function canUseWebRtc() {
  return (
    typeof RTCPeerConnection !== "undefined" &&
    typeof RTCRtpReceiver !== "undefined" &&
    typeof HTMLVideoElement !== "undefined" &&
    "requestVideoFrameCallback" in HTMLVideoElement.prototype
  );
}

/** H.264 constrained baseline with packetization-mode 1, as the server sends it. */
function constrainedBaseline() {
  const codecs = RTCRtpReceiver.getCapabilities("video")?.codecs ?? [];
  return codecs.filter(
    (codec) =>
      codec.mimeType.toLowerCase() === "video/h264" &&
      /profile-level-id=42e01f/i.test(codec.sdpFmtpLine ?? "") &&
      /packetization-mode=1/.test(codec.sdpFmtpLine ?? ""),
  );
}

/**
 * One WebRTC peer of a session. `send(message)` writes to the WebSocket;
 * `onFrame(header, picture)` gets each presented picture (a VideoFrame, or the video
 * element without WebCodecs) with a frame header made from its note (the callee closes it); `onClosed(reason)` says when the page gave up.
 */
export class WebRtcReceiver {
  constructor({ video, send, onFrame, onClosed }) {
    this.video = video;
    this.send = send;
    this.onFrame = onFrame;
    this.onClosed = onClosed;
    this.pc = null;
    this.channel = null;
    this.notes = new Map();
    this.lastNote = null;
    this.framesShown = 0;
    this.timer = null;
    this.closed = false;
  }

  /** Makes the peer and sends its offer. */
  async start() {
    const h264 = constrainedBaseline();
    if (h264.length === 0) throw new Error("this browser's WebRTC has no H.264 constrained baseline");
    const pc = new RTCPeerConnection();
    this.pc = pc;
    const transceiver = pc.addTransceiver("video", { direction: "recvonly" });
    transceiver.setCodecPreferences(h264);
    this.channel = pc.createDataChannel("input", { ordered: false, maxRetransmits: 0 });
    this.channel.onmessage = (event) => this.takeNote(event.data);
    pc.ontrack = (event) => {
      // Show each frame as soon as it is decoded: no jitter buffer to speak of.
      if ("jitterBufferTarget" in event.receiver) event.receiver.jitterBufferTarget = 0;
      this.video.srcObject = new MediaStream([event.track]);
      this.video.play().catch(() => {});
      this.watch();
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed") this.giveUp("the WebRTC connection failed");
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.send({ type: "webrtc_offer", sdp: pc.localDescription.sdp });
    this.timer = setTimeout(() => {
      if (this.framesShown === 0) this.giveUp(`no frame over WebRTC in ${NO_FRAME_MS / 1000} s`);
    }, NO_FRAME_MS);
  }

  /** The server's answer. */
  async answer(sdp) {
    if (this.pc && !this.closed) await this.pc.setRemoteDescription({ type: "answer", sdp });
  }

  /** Sends `message` (an input) on the data channel when it belongs there; whether it did. */
  sendInput(message) {
    if (!CONTINUOUS.has(message.action) || this.channel?.readyState !== "open") return false;
    this.channel.send(JSON.stringify(message));
    return true;
  }

  /** The server's inbound video figures (`getStats`), or null. */
  async videoStats() {
    if (!this.pc) return null;
    const stats = await this.pc.getStats();
    for (const report of stats.values()) {
      if (report.type === "inbound-rtp" && report.kind === "video") return report;
    }
    return null;
  }

  /** Ends the peer (the session ended, or the server moved the frames back). */
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.pc) this.pc.close();
    this.pc = null;
    this.channel = null;
    this.video.srcObject = null;
  }

  giveUp(reason) {
    if (this.closed) return;
    this.send({ type: "webrtc_close", reason });
    this.close();
    this.onClosed(reason);
  }

  takeNote(text) {
    let note;
    try {
      note = JSON.parse(text);
    } catch {
      return;
    }
    if (note?.type !== "frame") return;
    this.notes.set(note.rtp, note);
    if (this.notes.size > MAX_NOTES) this.notes.delete(this.notes.keys().next().value);
  }

  /** The picture the video presents now: a VideoFrame where WebCodecs is, else the video
   *  element itself (drawable as it is, with nothing to close). */
  picture(metadata) {
    return typeof VideoFrame === "undefined"
      ? this.video
      : new VideoFrame(this.video, { timestamp: metadata.mediaTime * 1e6 });
  }

  /** Draws every frame the video presents, named by its note. */
  watch() {
    if (this.closed) return;
    this.video.requestVideoFrameCallback((_, metadata) => {
      if (this.closed) return;
      const note = this.notes.get(metadata.rtpTimestamp);
      if (note) {
        this.notes.delete(metadata.rtpTimestamp);
        this.lastNote = note;
      }
      // A frame whose note was lost is still drawn, at the size of the last one known.
      const known = note ?? this.lastNote;
      if (known) {
        this.framesShown += 1;
        this.onFrame(header(known, note !== undefined), this.picture(metadata));
      }
      this.watch();
    });
  }
}

/** A frame header (as protocol.js reads them) from a frame's note. */
function header(note, named) {
  return {
    codec: 3,
    flags: note.keyframe ? 1 : 0,
    frameSeq: note.frame_seq,
    inputSeq: note.input_seq,
    width: note.width,
    height: note.height,
    renderUs: 0,
    encodeUs: 0,
    displayWidth: note.display_width,
    displayHeight: note.display_height,
    overRtp: true,
    named,
  };
}
